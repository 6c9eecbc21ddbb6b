/*
 * stop.h - the stop flag: SIGTERM, SIGUSR1 and a first SIGINT ask the training loop to stop at
 * its next safe point (save a checkpoint of the last completed step, exit with
 * STOP_EXIT_PREEMPTED); a second SIGINT exits at once with 130. The flag is one volatile
 * sig_atomic_t, so stop_requested() is cheap enough for the decode loop. The test hooks that
 * raise these signals at chosen points are testhook.h.
 */
#ifndef ATTNRL_STOP_H
#define ATTNRL_STOP_H

#define STOP_EXIT_PREEMPTED 75 /* EX_TEMPFAIL: checkpoint saved, rerun the same command */

/* installs the handlers (and ignores SIGXFSZ, so a write past `ulimit -f` fails with EFBIG) */
void stop_install(void);
/* the signal that asked to stop (or STOP_DEADLINE), 0 when none */
int stop_requested(void);
#define STOP_DEADLINE -1
void stop_request(int why); /* e.g. STOP_DEADLINE from the time-limit check */
const char *stop_reason(int why); /* "SIGTERM", "SIGUSR1", "SIGINT", "the time limit" */

#endif
