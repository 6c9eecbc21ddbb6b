/*
 * test_reward_proc.c - reward programs as JSON-lines workers (src/reward_proc.c) against well-
 * and ill-behaved workers written in sh: replies in order and out of order, rewards, verdicts
 * and info objects; a worker that sleeps past the time-out, writes junk once or always, replies
 * NaN, exits on one request every time, exits once, writes a line over the limit, floods its
 * stdout, never reads its stdin; a command that does not exist; a stop request. Each request
 * is {"id": N, "x": K} and a good reply's reward is K.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/reward_proc.h"
#include "attnrl/stop.h"
#include "check.h"

#define N 12

static char dir[256];

/* the reading loop every worker shares: $id and $x of each request */
static const char *const loop_head =
	"while IFS= read -r l; do\n"
	"  id=${l#'{\"id\": '}; id=${id%%%%,*}\n"
	"  x=${l##*'\"x\": '}; x=${x%%'}'}\n";
static const char *const good = "  printf '{\"id\": %%s, \"reward\": %%s}\\n' \"$id\" \"$x\"\n";

/* a worker script dir/name.sh: loop_head, the middle, the good reply (when reply), done */
static void script(const char *name, const char *middle, int reply)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/%s.sh", dir, name);
	FILE *f = fopen(path, "w");
	fprintf(f, loop_head);
	fputs(middle, f);
	if (reply)
		fprintf(f, good);
	fputs("done\n", f);
	fclose(f);
}

/* a script dir/name.sh of exactly text (no reading loop); its path into path */
static void raw_script(const char *name, const char *text, char *path, size_t n)
{
	snprintf(path, n, "%s/%s.sh", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

struct run {
	struct reward_reply out[256];
	int rc, ok, bad, timeout, died;
	long restarts;
	double seconds;
	char err[600];
};

/* n requests x = 0..n-1 to `workers` of dir/name.sh */
static void run_pool(const char *name, int workers, double timeout, int n, struct run *r)
{
	char cmd[400], bodies_mem[256][32];
	const char *bodies[256];
	memset(r, 0, sizeof(*r));
	snprintf(cmd, sizeof(cmd), "sh %s/%s.sh", dir, name);
	for (int i = 0; i < n; i++) {
		snprintf(bodies_mem[i], sizeof(bodies_mem[i]), "\"x\": %d", i);
		bodies[i] = bodies_mem[i];
	}
	struct reward_pool *p = reward_pool_open(cmd, workers, timeout, r->err, sizeof(r->err));
	CHECK(p != NULL, "%s: open: %s", name, r->err);
	if (!p)
		return;
	double t0 = fs_now();
	r->rc = reward_pool_score(p, bodies, n, r->out, r->err, sizeof(r->err));
	r->seconds = fs_now() - t0;
	for (int i = 0; i < n; i++) {
		r->ok += r->out[i].status == REWARD_OK;
		r->bad += r->out[i].status == REWARD_BAD;
		r->timeout += r->out[i].status == REWARD_TIMEOUT;
		r->died += r->out[i].status == REWARD_DIED;
	}
	r->restarts = reward_pool_restarts(p);
	printf("%-12s rc %d: %d ok, %d bad, %d time-outs, %d died; %ld restarts; %.2fs%s%s\n", name,
	       r->rc, r->ok, r->bad, r->timeout, r->died, r->restarts, r->seconds,
	       reward_pool_last_error(p)[0] ? "; last: " : "", reward_pool_last_error(p));
	reward_pool_close(p);
}

/* every request but `except` (-1: none) answered with reward x */
static void expect_good(const char *name, const struct run *r, int n, int except)
{
	for (int i = 0; i < n; i++)
		if (i != except)
			CHECK(r->out[i].status == REWARD_OK && r->out[i].reward == i,
			      "%s: request %d: status %d reward %g", name, i, r->out[i].status,
			      r->out[i].reward);
}

static void test_good(void)
{
	struct run r;
	script("good", "", 1);
	run_pool("good", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.ok == N && r.restarts == 0, "good: rc %d ok %d", r.rc, r.ok);
	expect_good("good", &r, N, -1);
	CHECK(r.out[3].correct == -1 && !r.out[3].info, "good: no correct, no info");
	script("many", "", 1);
	run_pool("many", 4, 5.0, 200, &r);
	CHECK(r.rc == 0 && r.ok == 200, "many: %d of 200", r.ok);
	expect_good("many", &r, 200, -1);
	script("rich", "  c=false; [ $((x % 2)) = 1 ] && c=true\n"
		       "  printf '{\"id\": %s, \"reward\": %s, \"correct\": %s, \"info\": {\"x\": %s, "
		       "\"s\": \"a\\\\\"b\"}, \"extra\": [1]}\\n' \"$id\" \"$x\" \"$c\" \"$x\"\n", 0);
	run_pool("rich", 2, 5.0, N, &r);
	expect_good("rich", &r, N, -1);
	CHECK(r.out[3].correct == 1 && r.out[4].correct == 0, "rich: correct %d %d",
	      r.out[3].correct, r.out[4].correct);
	CHECK(r.out[3].info && !strcmp(r.out[3].info, "{\"x\": 3, \"s\": \"a\\\"b\"}"),
	      "rich: info %s", r.out[3].info ? r.out[3].info : "NULL");
	reward_replies_free(r.out, N);
	/* two requests read, answered in reverse order */
	script("reverse", "  IFS= read -r l2; id2=${l2#'{\"id\": '}; id2=${id2%%,*}\n"
			  "  x2=${l2##*'\"x\": '}; x2=${x2%'}'}\n"
			  "  printf '{\"id\": %s, \"reward\": %s}\\n' \"$id2\" \"$x2\"\n", 1);
	run_pool("reverse", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.ok == N, "reverse: %d ok", r.ok);
	expect_good("reverse", &r, N, -1);
}

static void test_hostile(void)
{
	struct run r;
	script("sleepy", "  [ \"$x\" = 3 ] && sleep 3\n", 1);
	run_pool("sleepy", 2, 0.5, N, &r);
	CHECK(r.rc == 0 && r.timeout == 1 && r.out[3].status == REWARD_TIMEOUT && r.ok == N - 1,
	      "sleepy: %d time-outs", r.timeout);
	expect_good("sleepy", &r, N, 3);
	CHECK(r.restarts == 1 && r.seconds < 2.5, "sleepy: %ld restarts, %.2fs", r.restarts,
	      r.seconds);

	script("junk_once", "  [ \"$x\" = 5 ] && echo hello\n", 1);
	run_pool("junk_once", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.bad == 1 && r.out[5].status == REWARD_BAD && r.restarts == 0,
	      "junk_once: %d bad, %ld restarts", r.bad, r.restarts);
	expect_good("junk_once", &r, N, 5);

	script("junk", "  echo oops\n", 0);
	run_pool("junk", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.bad == N && r.seconds < 2.0, "junk: %d bad in %.2fs", r.bad, r.seconds);

	script("nan", "  [ \"$x\" = 4 ] && { printf '{\"id\": %s, \"reward\": NaN}\\n' \"$id\"; "
		      "continue; }\n", 1);
	run_pool("nan", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.bad == 1 && r.out[4].status == REWARD_BAD && r.restarts == 0,
	      "nan: %d bad, %ld restarts", r.bad, r.restarts);
	expect_good("nan", &r, N, 4);

	script("crash", "  [ \"$x\" = 7 ] && exit 3\n", 1);
	run_pool("crash", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.died == 1 && r.out[7].status == REWARD_DIED && r.restarts == 2,
	      "crash: %d died, %ld restarts", r.died, r.restarts);
	expect_good("crash", &r, N, 7);

	char once[400];
	snprintf(once, sizeof(once), "  [ \"$x\" = 2 ] && mkdir %s/once 2>/dev/null && exit 0\n", dir);
	script("exit_once", once, 1);
	run_pool("exit_once", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.ok == N && r.restarts == 1, "exit_once: %d ok, %ld restarts", r.ok,
	      r.restarts);
	expect_good("exit_once", &r, N, -1);

	script("long_line", "  [ \"$x\" = 1 ] && head -c 1100000 /dev/zero | tr '\\0' a\n", 1);
	run_pool("long_line", 2, 5.0, N, &r);
	CHECK(r.rc == 0 && r.died == 1 && r.out[1].status == REWARD_DIED, "long_line: %d died",
	      r.died);
	expect_good("long_line", &r, N, 1);

	char path[320];
	raw_script("never_reads", "exec sleep 30\n", path, sizeof(path));
	run_pool("never_reads", 2, 0.3, N, &r);
	CHECK(r.rc == 0 && r.timeout == N && r.seconds < 4.0, "never_reads: %d time-outs in %.2fs",
	      r.timeout, r.seconds);
}

/* a flood of junk lines fails what the workers hold, then kills them; workers that never
 * answer once make the pool give up within a few batches */
static void test_give_up(void)
{
	struct run r;
	char path[320];
	raw_script("flood", "exec yes\n", path, sizeof(path));
	char cmd[400], err[600];
	snprintf(cmd, sizeof(cmd), "sh %s", path);
	struct reward_pool *p = reward_pool_open(cmd, 2, 5.0, err, sizeof(err));
	const char *bodies[N];
	for (int i = 0; i < N; i++)
		bodies[i] = "\"x\": 0";
	int rc = 0, batches = 0;
	double t0 = fs_now();
	while (!rc && batches < 10) {
		rc = reward_pool_score(p, bodies, N, r.out, err, sizeof(err));
		batches++;
		for (int i = 0; !rc && i < N; i++)
			CHECK(r.out[i].status == REWARD_BAD, "flood: request %d: %d", i, r.out[i].status);
	}
	printf("flood        gave up after %d batches in %.2fs: %s\n", batches, fs_now() - t0, err);
	CHECK(rc == -1 && batches <= 4 && strstr(err, "before answering once"),
	      "flood: rc %d after %d batches: %s", rc, batches, err);
	reward_pool_close(p);

	p = reward_pool_open("/nonexistent/verifier --flag", 2, 5.0, err, sizeof(err));
	rc = reward_pool_score(p, bodies, N, r.out, err, sizeof(err));
	printf("missing      rc %d: %s\n", rc, err);
	CHECK(rc == -1 && strstr(err, "exit status 127") && strstr(err, "/nonexistent/verifier"),
	      "missing: rc %d: %s", rc, err);
	reward_pool_close(p);
}

static void test_stop(void)
{
	struct run r;
	char cmd[400], err[600];
	const char *bodies[N];
	for (int i = 0; i < N; i++)
		bodies[i] = "\"x\": 1";
	snprintf(cmd, sizeof(cmd), "sh %s/sleepy.sh", dir);
	struct reward_pool *p = reward_pool_open(cmd, 2, 5.0, err, sizeof(err));
	stop_install();
	raise(SIGTERM);
	int rc = reward_pool_score(p, bodies, N, r.out, err, sizeof(err));
	CHECK(rc == REWARD_INTERRUPTED, "stop: rc %d", rc);
	reward_pool_close(p);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/attnrl-reward-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_good();
	test_hostile();
	test_give_up();
	test_stop();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return check_done("test_reward_proc");
}
