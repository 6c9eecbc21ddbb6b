/*
 * test_dist.c - the pure parts of dist: rank discovery from torchrun-style and SLURM
 * variables (a table instead of the real environment), SLURM host lists and tasks per node
 * (expected values from Slurm's documented expansion: zero padding kept from the low bound,
 * several [] groups, commas inside brackets), the slice rule, and the rendezvous stores in one
 * process (file store with a stale folder, tcp store against its own server thread).
 */
#include "attnrl/dist.h"
#include "check.h"

#include <string.h>

struct kv { const char *k, *v; };

static const char *table_get(void *ctx, const char *name)
{
	for (const struct kv *t = ctx; t->k; t++)
		if (!strcmp(t->k, name))
			return t->v;
	return NULL;
}

static int parse(const struct kv *t, struct dist_env *e, char *err, size_t n)
{
	err[0] = 0;
	return dist_env_parse(e, table_get, (void *)t, err, n);
}

/* every host of list, space-separated, or the error */
static const char *hosts(const char *list)
{
	static char out[1024];
	char h[64], err[256];
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0;; i++) {
		int rc = dist_nodelist_host(list, i, h, sizeof(h), err, sizeof(err));
		if (rc < 0) {
			snprintf(out, sizeof(out), "ERR %s", err);
			return out;
		}
		if (rc == 0)
			return out;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "", h);
	}
}

static void test_nodelist(void)
{
	static const struct { const char *list, *want; } cases[] = {
		{ "node01", "node01" },
		{ "node[01-04,07],gpu-a[1-2]", "node01 node02 node03 node04 node07 gpu-a1 gpu-a2" },
		{ "n[8-11]", "n8 n9 n10 n11" },
		{ "n[098-101]", "n098 n099 n100 n101" },
		{ "a,b,c", "a b c" },
		{ "rack[1-2]-n[1-2]", "rack1-n1 rack1-n2 rack2-n1 rack2-n2" },
		{ "x[3]", "x3" },
		{ "x[1,3,5]", "x1 x3 x5" },
		{ "gpu-a[1-2],cpu", "gpu-a1 gpu-a2 cpu" },
		{ "10.0.0.[1-2]", "10.0.0.1 10.0.0.2" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = hosts(cases[i].list);
		CHECK(!strcmp(got, cases[i].want), "'%s' -> '%s', want '%s'", cases[i].list, got,
		      cases[i].want);
	}
	static const char *bad[] = { "n[1-", "n[a-b]", "n[4-2]", "n[]", "a,,b", "n]1", "[1-2", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *got = hosts(bad[i]);
		CHECK(!strncmp(got, "ERR dist: host list", 19) && !strchr(got, '\n'),
		      "'%s' should be refused, got '%s'", bad[i], got);
	}
	char h[8], err[256];
	CHECK(dist_nodelist_host("verylongname", 0, h, sizeof(h), err, sizeof(err)) < 0,
	      "a host longer than the buffer is refused");
}

static void test_tasks_per_node(void)
{
	char err[256];
	long want[] = { 2, 2, 2, 1 };
	for (long node = 0; node < 4; node++)
		CHECK(dist_tasks_per_node("2(x3),1", node, err, sizeof(err)) == want[node],
		      "node %ld", node);
	CHECK(dist_tasks_per_node("2(x3),1", 4, err, sizeof(err)) < 0, "past the last node");
	CHECK(dist_tasks_per_node("4", 0, err, sizeof(err)) == 4, "plain");
	CHECK(dist_tasks_per_node("1,3(x2)", 2, err, sizeof(err)) == 3, "second group");
	CHECK(dist_tasks_per_node("2(3)", 0, err, sizeof(err)) < 0 && strstr(err, "N(xM)"),
	      "bad spec: %s", err);
	CHECK(dist_tasks_per_node("x", 0, err, sizeof(err)) < 0, "bad spec");
}

static void test_env(void)
{
	struct dist_env e;
	char err[256];

	struct kv none[] = { { "PATH", "/bin" }, { 0, 0 } };
	CHECK(parse(none, &e, err, sizeof(err)) == 0 && e.world == 1 && e.rank == 0 &&
	      !strcmp(e.source, "none"), "no launcher: world 1 (%s)", err);

	struct kv tr[] = { { "RANK", "3" }, { "WORLD_SIZE", "4" }, { "LOCAL_RANK", "1" },
			   { "LOCAL_WORLD_SIZE", "2" }, { "MASTER_ADDR", "10.1.2.3" },
			   { "MASTER_PORT", "29500" }, { "TORCHELASTIC_RUN_ID", "job/7" },
			   { 0, 0 } };
	CHECK(parse(tr, &e, err, sizeof(err)) == 0, "torchrun: %s", err);
	CHECK(e.rank == 3 && e.world == 4 && e.local_rank == 1 && e.local_world == 2 &&
	      !strcmp(e.master_addr, "10.1.2.3") && e.master_port == 29500 &&
	      !strcmp(e.job_id, "job_7") && !strcmp(e.source, "env"), "torchrun values");

	struct kv sl[] = { { "SLURM_PROCID", "5" }, { "SLURM_NTASKS", "7" },
			   { "SLURM_LOCALID", "1" }, { "SLURM_NODEID", "2" },
			   { "SLURM_TASKS_PER_NODE", "2(x3),1" }, { "SLURM_JOB_ID", "812" },
			   { "SLURM_STEP_ID", "0" }, { "SLURM_RESTART_COUNT", "2" },
			   { "SLURM_JOB_NODELIST", "node[01-04,07],gpu-a[1-2]" }, { 0, 0 } };
	CHECK(parse(sl, &e, err, sizeof(err)) == 0, "slurm: %s", err);
	CHECK(e.rank == 5 && e.world == 7 && e.local_rank == 1 && e.local_world == 2 &&
	      !strcmp(e.first_host, "node01") && !strcmp(e.job_id, "slurm-812.0-r2") &&
	      !e.master_addr[0] && !strcmp(e.source, "slurm"),
	      "slurm values: %d %d %d %d '%s' '%s'", e.rank, e.world, e.local_rank, e.local_world,
	      e.first_host, e.job_id);

	/* the step's own values win over the job's; RANK wins over SLURM (torchrun in srun) */
	struct kv st[] = { { "SLURM_PROCID", "0" }, { "SLURM_NTASKS", "8" },
			   { "SLURM_STEP_NUM_TASKS", "2" }, { "SLURM_NTASKS_PER_NODE", "4" },
			   { "SLURM_STEP_TASKS_PER_NODE", "2" }, { "SLURM_STEP_NODELIST", "b[7-8]" },
			   { "SLURM_JOB_NODELIST", "a[1-4]" }, { 0, 0 } };
	CHECK(parse(st, &e, err, sizeof(err)) == 0 && e.world == 2 && e.local_world == 2 &&
	      !strcmp(e.first_host, "b7"), "slurm step values (%s)", err);
	struct kv both[] = { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "SLURM_PROCID", "0" },
			     { "SLURM_NTASKS", "1" }, { 0, 0 } };
	CHECK(parse(both, &e, err, sizeof(err)) == 0 && e.rank == 1 && e.world == 2,
	      "RANK first (%s)", err);

	static const struct { struct kv t[5]; const char *want; } bad[] = {
		{ { { "RANK", "2" }, { "WORLD_SIZE", "2" } }, "RANK=2 but the world has 2 ranks" },
		{ { { "RANK", "x1" }, { "WORLD_SIZE", "2" } }, "RANK='x1' is not a whole number" },
		{ { { "RANK", "1" } }, "WORLD_SIZE is not" },
		{ { { "RANK", "0" }, { "WORLD_SIZE", "0" } }, "WORLD_SIZE=0 is out of range" },
		{ { { "RANK", "0" }, { "WORLD_SIZE", "2" }, { "MASTER_PORT", "99999" } },
		  "MASTER_PORT=99999" },
		{ { { "RANK", "0" }, { "WORLD_SIZE", "2" }, { "MASTER_PORT", "29500 " } },
		  "MASTER_PORT='29500 '" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "4" }, { "LOCAL_RANK", "2" },
		    { "LOCAL_WORLD_SIZE", "2" } }, "local rank 2 of 2" },
		{ { { "SLURM_PROCID", "3" }, { "SLURM_NTASKS", "2" } }, "SLURM_PROCID=3 but" },
		{ { { "SLURM_PROCID", "0" } }, "SLURM_NTASKS is not" },
		{ { { "SLURM_PROCID", "0" }, { "SLURM_NTASKS", "2" },
		    { "SLURM_JOB_NODELIST", "n[1-" } }, "host list 'n[1-'" },
		{ { { "SLURM_PROCID", "0" }, { "SLURM_NTASKS", "2" }, { "SLURM_NODEID", "3" },
		    { "SLURM_TASKS_PER_NODE", "1(x2)" } }, "fewer nodes" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].t, &e, err, sizeof(err));
		CHECK(rc < 0 && strstr(err, bad[i].want) && !strchr(err, '\n') &&
		      !strncmp(err, "dist: ", 6), "case %zu: rc %d, '%s', want '%s'", i, rc, err,
		      bad[i].want);
	}
}

static void test_slices(void)
{
	for (size_t count = 0; count < 40; count++) {
		for (int w = 1; w <= 9; w++) {
			size_t next = 0, mn = (size_t)-1, mx = 0;
			for (int r = 0; r < w; r++) {
				size_t off, len;
				dist_slice(count, w, r, &off, &len);
				CHECK(off == next, "count %zu world %d rank %d: offset %zu, want %zu",
				      count, w, r, off, next);
				next = off + len;
				mn = len < mn ? len : mn;
				mx = len > mx ? len : mx;
			}
			CHECK(next == count && mx - mn <= 1, "count %zu world %d: cover %zu, sizes %zu..%zu",
			      count, w, next, mn, mx);
		}
	}
	size_t off, len;
	dist_slice(10, 4, 1, &off, &len);
	CHECK(off == 3 && len == 3, "10 over 4, rank 1: %zu+%zu", off, len);
	dist_slice(10, 4, 3, &off, &len);
	CHECK(off == 8 && len == 2, "10 over 4, rank 3: %zu+%zu", off, len);
}

int main(void)
{
	test_nodelist();
	test_tasks_per_node();
	test_env();
	test_slices();
	return check_done("test_dist");
}
