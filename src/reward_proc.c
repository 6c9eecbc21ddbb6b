/* reward_proc.c - reward programs as a pool of JSON-lines workers (see reward_proc.h). One
 * thread: non-blocking pipes and poll(), a queue of requests, REWARD_WINDOW of them outstanding
 * per worker, and every way a worker can misbehave mapped to one request's failure or to a
 * restart. */
#include "attnrl/reward_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/stop.h"

extern char **environ;

struct worker {
	pid_t pid;                  /* 0: not running */
	int in, out;                /* our ends: its stdin (a socket: no SIGPIPE), its stdout */
	char *wbuf, *rbuf;          /* bytes to send; a reply line being read */
	size_t wlen, woff, wcap, rlen, rcap;
	int held[REWARD_WINDOW];    /* its outstanding requests, oldest first */
	int inflight;
	double quiet_since;         /* its last reply, or the send of its first outstanding one */
	long replies;               /* answers since it started */
	int garbage;                /* lines in a row that were not replies */
};

struct reward_pool {
	char *command;
	int n;
	double timeout;
	struct worker *w;
	long long next_id;
	int dead_streak;            /* workers ended in a row before answering once */
	int last_status;            /* the wait status of the last worker that ended, or -1 */
	long restarts, started;
	char last_error[300];
};

enum { QUEUED = -1, DONE = -2 };

/* one call of reward_pool_score */
struct batch {
	const char *const *bodies;
	struct reward_reply *out;
	int *worker, *tries;        /* (n) the worker holding request i (QUEUED, DONE) */
	int *queue, qhead, qlen;    /* a ring of n request indices */
	int n, done;
	long long base;             /* the id of request 0 */
};

static void pool_error(struct reward_pool *p, int w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pool_error(struct reward_pool *p, int w, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(p->last_error, sizeof(p->last_error), "worker %d ", w);
	va_start(ap, fmt);
	vsnprintf(p->last_error + k, sizeof(p->last_error) - (size_t)k, fmt, ap);
	va_end(ap);
}

/* ---- processes ---------------------------------------------------------------------------- */

static void describe_status(int st, char *buf, size_t n)
{
	if (st < 0)
		snprintf(buf, n, "no exit status");
	else if (WIFEXITED(st))
		snprintf(buf, n, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, n, "wait status %d", st);
}

/* the environment with ATTNRL_REWARD_WORKER=i added (built before the spawn, not in the child) */
static char **worker_env(int i, char *var, size_t n)
{
	size_t k = 0;
	while (environ[k])
		k++;
	char **env = malloc((k + 2) * sizeof(*env));
	if (!env)
		return NULL;
	size_t j = 0;
	for (size_t e = 0; e < k; e++)
		if (strncmp(environ[e], "ATTNRL_REWARD_WORKER=", 21))
			env[j++] = environ[e];
	snprintf(var, n, "ATTNRL_REWARD_WORKER=%d", i);
	env[j++] = var;
	env[j] = NULL;
	return env;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

/* /bin/sh -c COMMAND in a process group of its own, stdin and stdout ours, default signals */
static int spawn_sh(const char *command, int stdin_fd, int stdout_fd, char **env, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	char *argv[] = { "sh", "-c", (char *)command, NULL };
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	int rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

static int worker_start(struct reward_pool *p, int i, char *err, size_t n)
{
	struct worker *w = &p->w[i];
	int sv[2], po[2];
	char var[64];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, n, "reward.command: cannot make a socket: %s", strerror(errno));
		return -1;
	}
	if (pipe2(po, O_CLOEXEC)) {
		snprintf(err, n, "reward.command: cannot make a pipe: %s", strerror(errno));
		close(sv[0]), close(sv[1]);
		return -1;
	}
	char **env = worker_env(i, var, sizeof(var));
	int e = env ? spawn_sh(p->command, sv[1], po[1], env, &w->pid) : ENOMEM;
	free(env);
	close(sv[1]), close(po[1]);
	if (e || set_nonblock(sv[0]) || set_nonblock(po[0])) {
		snprintf(err, n, "reward.command: cannot start /bin/sh: %s", strerror(e ? e : errno));
		close(sv[0]), close(po[0]);
		w->pid = 0;
		return -1;
	}
	w->in = sv[0], w->out = po[0];
	w->wlen = w->woff = w->rlen = 0;
	w->inflight = 0;
	w->replies = 0;
	w->garbage = 0;
	p->started++;
	return 0;
}

/* its wait status: the natural one when it ends within grace seconds, else after SIGKILL */
static int worker_reap(pid_t pid, double grace)
{
	int st;
	double until = fs_now() + grace;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return r == pid ? st : -1;
		if (fs_now() >= until)
			break;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/* ends worker i: killed at once (kill) or given a moment to exit by itself; its status kept */
static void worker_stop(struct reward_pool *p, int i, int kill_now)
{
	struct worker *w = &p->w[i];
	if (w->pid > 0) {
		if (kill_now)
			kill(-w->pid, SIGKILL);
		close(w->in), close(w->out);
		p->last_status = worker_reap(w->pid, kill_now ? 0.0 : 0.2);
	}
	w->pid = 0;
	w->inflight = 0;
}

/* ---- requests ----------------------------------------------------------------------------- */

static void finish(struct batch *b, int r, int status)
{
	b->out[r].status = status;
	b->worker[r] = DONE;
	b->done++;
}

static void requeue(struct batch *b, int r)
{
	b->worker[r] = QUEUED;
	b->queue[(b->qhead + b->qlen++) % b->n] = r;
}

/* worker i is gone (killed, or its stream ended): its requests go back to the queue. With
 * blame, the oldest of them, the one it was most likely working on, is suspected: a request
 * suspected twice fails. Without (a time-out already failed that one) they all go back */
static void worker_lost(struct reward_pool *p, struct batch *b, int i, int blame)
{
	struct worker *w = &p->w[i];
	for (int k = 0; k < w->inflight; k++) {
		int r = w->held[k];
		if (k == 0 && blame && ++b->tries[r] >= 2)
			finish(b, r, REWARD_DIED);
		else
			requeue(b, r);
	}
	if (blame && !w->replies)
		p->dead_streak++;
	worker_stop(p, i, 1);
}

/* the worker's stream ended: it exited or closed its stdout */
static void worker_ended(struct reward_pool *p, struct batch *b, int i)
{
	struct worker *w = &p->w[i];
	int held = w->inflight;
	char st[48];
	close(w->in), close(w->out);
	w->in = w->out = -1;
	pid_t pid = w->pid;
	p->last_status = worker_reap(pid, 0.2);
	w->pid = -1; /* reaped: worker_stop below only forgets it */
	describe_status(p->last_status, st, sizeof(st));
	pool_error(p, i, "ended (%s) with %d request%s outstanding", st, held, held == 1 ? "" : "s");
	worker_lost(p, b, i, 1);
}

static void unhold(struct worker *w, int r)
{
	for (int k = 0; k < w->inflight; k++)
		if (w->held[k] == r) {
			memmove(w->held + k, w->held + k + 1, (size_t)(w->inflight - k - 1) * sizeof(int));
			w->inflight--;
			return;
		}
}

static int append(struct worker *w, const char *s, size_t len)
{
	if (w->wlen + len > w->wcap) {
		size_t cap = (w->wlen + len) * 2;
		char *nb = realloc(w->wbuf, cap);
		if (!nb)
			return -1;
		w->wbuf = nb, w->wcap = cap;
	}
	memcpy(w->wbuf + w->wlen, s, len);
	w->wlen += len;
	return 0;
}

static int send_request(struct reward_pool *p, struct batch *b, int i, int r)
{
	struct worker *w = &p->w[i];
	char head[48];
	int k = snprintf(head, sizeof(head), "{\"id\": %lld", b->base + r);
	const char *body = b->bodies[r];
	if (append(w, head, (size_t)k) || (body[0] && append(w, ", ", 2)) ||
	    append(w, body, strlen(body)) || append(w, "}\n", 2))
		return -1;
	if (!w->inflight)
		w->quiet_since = fs_now();
	w->held[w->inflight++] = r;
	b->worker[r] = i;
	return 0;
}

/* queued requests to the least busy workers, REWARD_WINDOW each at most */
static int dispatch(struct reward_pool *p, struct batch *b)
{
	while (b->qlen) {
		int best = -1;
		for (int i = 0; i < p->n; i++)
			if (p->w[i].pid && p->w[i].inflight < REWARD_WINDOW &&
			    (best < 0 || p->w[i].inflight < p->w[best].inflight))
				best = i;
		if (best < 0)
			return 0;
		int r = b->queue[b->qhead];
		b->qhead = (b->qhead + 1) % b->n;
		b->qlen--;
		if (send_request(p, b, best, r))
			return -1;
	}
	return 0;
}

/* ---- replies ------------------------------------------------------------------------------ */

/* "id": N anywhere in a line that is not JSON (a reply with NaN): 0 and N, or -1 */
static int loose_id(const char *line, long long *id)
{
	const char *s = strstr(line, "\"id\"");
	if (!s)
		return -1;
	s += 4;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s++ != ':')
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno || (*end && *end != ',' && *end != '}' && *end != ' '))
		return -1;
	*id = v;
	return 0;
}

static char *value_text(const struct json *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	json_write_value(f, v);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* a reply that names request r of worker i: its result, or why it failed */
static void take_reply(struct reward_pool *p, struct batch *b, int i, int r, const struct json *j,
		       const char *jerr)
{
	struct reward_reply *o = &b->out[r];
	const struct json *rw = json_get(j, "reward"), *c = json_get(j, "correct");
	const struct json *info = json_get(j, "info");
	long long id = b->base + r;
	if (!j) {
		pool_error(p, i, "replied to id %lld with a line that is not JSON (%s)", id, jerr);
	} else if (!isfinite(json_num(rw))) {
		pool_error(p, i, "replied to id %lld without a finite \"reward\" (got %s)", id,
			   json_type_name(json_type(rw)));
	} else if (c && json_type(c) != JSON_BOOL && json_type(c) != JSON_NUMBER) {
		pool_error(p, i, "replied to id %lld with a \"correct\" that is a %s", id,
			   json_type_name(json_type(c)));
	} else if (info && json_type(info) != JSON_OBJECT) {
		pool_error(p, i, "replied to id %lld with an \"info\" that is a %s, not an object", id,
			   json_type_name(json_type(info)));
	} else {
		o->reward = json_num(rw);
		o->correct = !c ? -1 : json_type(c) == JSON_BOOL ? json_bool(c) : json_num(c) != 0.0;
		o->info = info ? value_text(info) : NULL;
		finish(b, r, REWARD_OK);
		return;
	}
	finish(b, r, REWARD_BAD);
}

/* a line of worker i that answers nothing: its oldest request fails (a worker that writes
 * junk instead of replies costs no time-outs); 1 when it wrote more junk in a row than it
 * holds requests (a flood: the worker is out of step) */
static int junk(struct reward_pool *p, struct batch *b, int i)
{
	struct worker *w = &p->w[i];
	if (w->inflight) {
		int r = w->held[0];
		unhold(w, r);
		finish(b, r, REWARD_BAD);
	}
	return ++w->garbage > REWARD_WINDOW;
}

/* one line from worker i: 0, or 1 when the worker is out of step (killed by the caller) */
static int on_line(struct reward_pool *p, struct batch *b, int i, char *line, size_t len)
{
	struct worker *w = &p->w[i];
	char jerr[160];
	long long id;
	if (len > REWARD_LINE_MAX) {
		pool_error(p, i, "wrote a line of more than %d bytes", REWARD_LINE_MAX);
		return 1;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = 0;
	if (!len)
		return 0;
	struct json *j = json_parse(line, len, jerr, sizeof(jerr));
	int64_t jid;
	int have = j ? !json_int(json_get(j, "id"), &jid) : !loose_id(line, &id);
	if (j && have)
		id = (long long)jid;
	long long r = have ? id - b->base : -1;
	if (have && id >= 0 && (r < 0 || (r < b->n && b->worker[r] == DONE))) {
		json_free(j); /* an earlier batch's, or a request that already failed */
		return 0;
	}
	if (!have || r >= b->n || b->worker[r] != i) {
		if (have)
			pool_error(p, i, "replied to id %lld, which it was not sent", id);
		else
			pool_error(p, i, "wrote a line that is not a reply: '%.80s' (replies go to "
				   "stdout, anything else to stderr)", line);
		json_free(j);
		return junk(p, b, i);
	}
	unhold(w, (int)r);
	w->replies++;
	w->garbage = 0;
	w->quiet_since = fs_now();
	p->dead_streak = 0;
	take_reply(p, b, i, (int)r, j, jerr);
	json_free(j);
	return 0;
}

/* what worker i wrote: 0, 1 when it is out of step, 2 when its stream ended */
static int read_worker(struct reward_pool *p, struct batch *b, int i)
{
	struct worker *w = &p->w[i];
	for (size_t got = 0; got < REWARD_LINE_MAX;) { /* then the others get their turn */
		if (w->rcap - w->rlen < 65536) {
			size_t cap = w->rcap ? w->rcap * 2 : 131072;
			char *nb = realloc(w->rbuf, cap);
			if (!nb)
				return 1;
			w->rbuf = nb, w->rcap = cap;
		}
		ssize_t k = read(w->out, w->rbuf + w->rlen, w->rcap - w->rlen - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (k <= 0)
			return 2;
		got += (size_t)k;
		char *start = w->rbuf, *from = w->rbuf + w->rlen, *nl;
		w->rlen += (size_t)k;
		char *end = w->rbuf + w->rlen;
		while ((nl = memchr(from, '\n', (size_t)(end - from)))) {
			*nl = 0;
			if (on_line(p, b, i, start, (size_t)(nl - start)))
				return 1;
			start = from = nl + 1;
		}
		w->rlen = (size_t)(end - start);
		memmove(w->rbuf, start, w->rlen);
		if (w->rlen > REWARD_LINE_MAX) {
			pool_error(p, i, "wrote a line of more than %d bytes", REWARD_LINE_MAX);
			return 1;
		}
	}
	return 0;
}

/* pending bytes to worker i, as many as it takes now. A worker whose stdin is closed gets
 * nothing more: its requests stay outstanding until its stdout ends or it times out */
static void write_worker(struct worker *w)
{
	while (w->woff < w->wlen) {
		ssize_t k = send(w->in, w->wbuf + w->woff, w->wlen - w->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k < 0)
			break;
		w->woff += (size_t)k;
	}
	w->woff = w->wlen = 0;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* workers silent past the time-out: the oldest request fails, the worker starts again */
static void check_timeouts(struct reward_pool *p, struct batch *b)
{
	double now = fs_now();
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (!w->pid || !w->inflight || now - w->quiet_since < p->timeout)
			continue;
		int r = w->held[0];
		unhold(w, r);
		finish(b, r, REWARD_TIMEOUT);
		pool_error(p, i, "gave no reply to id %lld within reward.timeout_s=%g s",
			   b->base + r, p->timeout);
		worker_lost(p, b, i, 0);
	}
}

/* the workers that are not running, started (again); -1 when the pool gives up */
static int ensure_workers(struct reward_pool *p, char *err, size_t n)
{
	if (p->dead_streak > 2 * p->n + 1) {
		char st[48];
		describe_status(p->last_status, st, sizeof(st));
		snprintf(err, n, "reward.command '%s': its workers ended %d times in a row before "
			 "answering once (last: %s; %s); run it by hand with one request on its stdin "
			 "(docs/rewards.md)", p->command, p->dead_streak, st, p->last_error);
		return -1;
	}
	for (int i = 0; i < p->n; i++) {
		if (p->w[i].pid)
			continue;
		if (worker_start(p, i, err, n))
			return -1;
		if (p->started > p->n)
			p->restarts++;
	}
	return 0;
}

/* waits for the workers (at most until the nearest time-out, and 0.2 s for stop requests) and
 * handles what they wrote or read */
static int wait_io(struct reward_pool *p, struct batch *b)
{
	struct pollfd fds[2 * 256];
	int who[2 * 256], k = 0;
	double now = fs_now(), wait = 0.2;
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (!w->pid)
			continue;
		fds[k] = (struct pollfd){ w->out, POLLIN, 0 };
		who[k++] = i;
		if (w->woff < w->wlen) {
			fds[k] = (struct pollfd){ w->in, POLLOUT, 0 };
			who[k++] = i;
		}
		if (w->inflight && w->quiet_since + p->timeout - now < wait)
			wait = w->quiet_since + p->timeout - now;
	}
	int ms = wait > 0 ? (int)(wait * 1000) + 1 : 0;
	if (poll(fds, (nfds_t)k, ms) < 0 && errno != EINTR)
		return -1;
	for (int f = 0; f < k; f++) {
		int i = who[f];
		struct worker *w = &p->w[i];
		if (!w->pid || !fds[f].revents)
			continue;
		if (fds[f].events == POLLOUT) {
			write_worker(w);
			continue;
		}
		int rc = read_worker(p, b, i);
		if (rc == 1)
			worker_lost(p, b, i, 1);
		else if (rc == 2)
			worker_ended(p, b, i);
	}
	return 0;
}

static int batch_init(struct batch *b, int n)
{
	memset(b, 0, sizeof(*b));
	b->n = n;
	b->worker = malloc((size_t)n * sizeof(int));
	b->tries = calloc((size_t)n, sizeof(int));
	b->queue = malloc((size_t)n * sizeof(int));
	if (!b->worker || !b->tries || !b->queue)
		return -1;
	for (int r = 0; r < n; r++)
		b->worker[r] = QUEUED, b->queue[r] = r;
	b->qlen = n;
	return 0;
}

static void batch_free(struct batch *b)
{
	free(b->worker);
	free(b->tries);
	free(b->queue);
}

int reward_pool_score(struct reward_pool *p, const char *const *bodies, int n,
		      struct reward_reply *out, char *err, size_t en)
{
	struct batch b;
	int rc = 0;
	for (int r = 0; r < n; r++)
		out[r] = (struct reward_reply){ REWARD_BAD, 0.0, -1, NULL };
	if (n <= 0)
		return 0;
	if (batch_init(&b, n)) {
		batch_free(&b);
		snprintf(err, en, "reward: out of memory for %d requests", n);
		return -1;
	}
	b.bodies = bodies, b.out = out, b.base = p->next_id;
	p->next_id += n;
	while (b.done < n && !rc) {
		if (stop_requested()) {
			for (int i = 0; i < p->n; i++)
				if (p->w[i].inflight)
					worker_stop(p, i, 1);
			rc = REWARD_INTERRUPTED;
		} else if (ensure_workers(p, err, en)) {
			rc = -1;
		} else if (dispatch(p, &b)) {
			snprintf(err, en, "reward: out of memory for the requests");
			rc = -1;
		} else {
			for (int i = 0; i < p->n; i++)
				if (p->w[i].pid)
					write_worker(&p->w[i]);
			if (wait_io(p, &b)) {
				snprintf(err, en, "reward: poll: %s", strerror(errno));
				rc = -1;
			}
			check_timeouts(p, &b);
		}
	}
	batch_free(&b);
	return rc;
}

void reward_replies_free(struct reward_reply *r, int n)
{
	for (int i = 0; i < n; i++) {
		free(r[i].info);
		r[i].info = NULL;
	}
}

struct reward_pool *reward_pool_open(const char *command, int workers, double timeout_s,
				     char *err, size_t n)
{
	struct reward_pool *p = calloc(1, sizeof(*p));
	if (workers < 1 || workers > 256) {
		snprintf(err, n, "reward.workers: %d is outside [1, 256]", workers);
		free(p);
		return NULL;
	}
	if (!p || !(p->command = strdup(command)) ||
	    !(p->w = calloc((size_t)workers, sizeof(*p->w)))) {
		snprintf(err, n, "reward: out of memory");
		reward_pool_close(p);
		return NULL;
	}
	p->n = workers;
	p->timeout = timeout_s;
	p->last_status = -1;
	for (int i = 0; i < workers; i++)
		if (worker_start(p, i, err, n)) {
			reward_pool_close(p);
			return NULL;
		}
	return p;
}

long reward_pool_restarts(const struct reward_pool *p)
{
	return p ? p->restarts : 0;
}

const char *reward_pool_last_error(const struct reward_pool *p)
{
	return p ? p->last_error : "";
}

void reward_pool_close(struct reward_pool *p)
{
	if (!p)
		return;
	for (int i = 0; p->w && i < p->n; i++)
		if (p->w[i].pid) /* end of input: a well-behaved worker exits */
			close(p->w[i].in), p->w[i].in = -1;
	double until = fs_now() + 1.0;
	for (int i = 0; p->w && i < p->n; i++) {
		struct worker *w = &p->w[i];
		if (w->pid) {
			double left = until - fs_now();
			worker_reap(w->pid, left > 0 ? left : 0);
			close(w->out);
		}
		free(w->wbuf);
		free(w->rbuf);
	}
	free(p->w);
	free(p->command);
	free(p);
}
