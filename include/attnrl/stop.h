/*
 * stop.h - the stop flag: SIGTERM, SIGUSR1 and a first SIGINT ask the training loop to stop at
 * its next safe point (save a checkpoint of the last completed step, exit with
 * STOP_EXIT_PREEMPTED); a second SIGINT exits at once with 130. The flag is one volatile
 * sig_atomic_t, so stop_requested() is cheap enough for the decode loop.
 *
 * Test hooks (environment, read at each call, for tests/test_resume.sh):
 *   ATTNRL_TEST_KILL_AT=phase:step[:TERM|:USR1|:INT|:INT2]  stop_test_point(phase, step)
 *                                   raises SIGKILL there (or the signal named; INT2: twice)
 * Phases: rollout (after the rollout, before the update), update (after the first optimizer
 * step), log (after the step's log lines), ckpt_write (model written, optimizer not yet),
 * ckpt_rename (the folder renamed, no DONE yet), after_ckpt (DONE written).
 *   ATTNRL_TEST_NAN_AT=3,4,7        stop_test_nan(step) is 1 at those steps
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

void stop_test_point(const char *phase, long step);
int stop_test_nan(long step);

#endif
