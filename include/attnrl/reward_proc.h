/*
 * reward_proc.h - a pool of reward programs spoken to in JSON lines (reward.command).
 *
 * reward_pool_open starts `workers` processes of `/bin/sh -c COMMAND`, each in its own process
 * group with ATTNRL_REWARD_WORKER=i (0-based) in its environment and attnrl's stderr as its own.
 * reward_pool_score sends every request as one line on the workers' stdin,
 *     {"id": 17, <the caller's members>}
 * at most REWARD_WINDOW outstanding per worker (the pipeline), and reads one reply per line on
 * their stdout, in any order:
 *     {"id": 17, "reward": 0.5, "correct": true, "info": {...}}
 * reward a finite number; correct (true/false or a number, non-zero = true) and info (an object)
 * optional; other members are ignored.
 *
 * Failure is per request and bounded:
 *   - a reply that names an outstanding request but is not valid JSON (Python's NaN), lacks a
 *     finite reward, or has an info that is not an object: that request fails (REWARD_BAD);
 *   - a line that names no outstanding request of that worker (not JSON without an id, an
 *     unknown id, a line over REWARD_LINE_MAX bytes): the worker is out of step, so it is
 *     killed and started again;
 *   - a worker silent for timeout_s while it has requests outstanding: its oldest request fails
 *     (REWARD_TIMEOUT), the worker is killed and started again;
 *   - a worker that exits or closes its stdout: started again.
 * The other requests a killed or dead worker held go back to the queue; a request that was on a
 * worker when it died twice fails (REWARD_DIED). Replies to the ids of an earlier, interrupted
 * batch are ignored. Writes never raise SIGPIPE; a worker that never reads its stdin times out.
 * When workers keep ending before they ever answer (2 x workers + 1 in a row: a command that
 * does not start), the pool gives up: -1 with one line naming the command and its exit status.
 */
#ifndef ATTNRL_REWARD_PROC_H
#define ATTNRL_REWARD_PROC_H

#include <stddef.h>

#define REWARD_WINDOW 8              /* requests outstanding per worker */
#define REWARD_LINE_MAX (1 << 20)    /* bytes of one reply */
#define REWARD_INTERRUPTED 2         /* reward_pool_score: a stop was requested (stop.h) */

enum reward_status { REWARD_OK = 0, REWARD_BAD, REWARD_TIMEOUT, REWARD_DIED };

struct reward_reply {
	int status;       /* enum reward_status */
	double reward;    /* REWARD_OK only */
	int correct;      /* 1, 0, or -1 when the reply has none */
	char *info;       /* the reply's "info" object as JSON text (malloc), or NULL */
};

struct reward_pool;

/* NULL with one line in err when the processes cannot be started */
struct reward_pool *reward_pool_open(const char *command, int workers, double timeout_s,
				     char *err, size_t n);
/* bodies[i]: the members of request i after its id, as JSON text ("\"prompt\": \"...\", ...").
 * Fills out[0..n) (free the infos with reward_replies_free); 0, REWARD_INTERRUPTED, or -1
 * with err (the pool gave up, or out of memory) */
int reward_pool_score(struct reward_pool *p, const char *const *bodies, int n,
		      struct reward_reply *out, char *err, size_t en);
void reward_replies_free(struct reward_reply *r, int n);
/* processes started again since the pool opened */
long reward_pool_restarts(const struct reward_pool *p);
/* the last failure a worker caused, one line ("" when none) */
const char *reward_pool_last_error(const struct reward_pool *p);
/* closes their stdin, waits up to a second for them to exit, then kills their groups */
void reward_pool_close(struct reward_pool *p);

#endif
