/*
 * test_dist.c - the pure parts of dist: rank discovery from torchrun-style and SLURM
 * variables (a table instead of the real environment), SLURM host lists and tasks per node
 * (expected values from Slurm's documented expansion: zero padding kept from the low bound,
 * several [] groups, commas inside brackets), the slice rule, and the rendezvous stores in one
 * process (file store with a stale folder, tcp store against its own server thread).
 */
#include "attnrl/dist.h"
#include "../src/dist_internal.h"
#include "check.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* one rank of an in-process rendezvous (a thread): joins, publishes "v<rank>", reads the
 * other ranks' values */
struct member {
	struct dist_env e;
	const char *dir, *host;
	int port;
	double timeout;
	int rc, values_ok;
	char err[512];
};

static void *member_main(void *arg)
{
	struct member *m = arg;
	struct dist_store *s = m->host ?
		dist_store_open_tcp(m->host, m->port, &m->e, m->timeout, m->err, sizeof(m->err)) :
		dist_store_open_file(m->dir, &m->e, m->timeout, m->err, sizeof(m->err));
	char key[16], val[16], got[16];
	m->rc = -1;
	if (!s)
		return NULL;
	if (m->host && dist_store_arrive(s, &m->e, m->timeout, m->err, sizeof(m->err)))
		goto out;
	snprintf(key, sizeof(key), "k%d", m->e.rank);
	snprintf(val, sizeof(val), "v%d", m->e.rank);
	if (dist_store_set(s, key, val, strlen(val) + 1, m->err, sizeof(m->err)))
		goto out;
	m->values_ok = 1;
	for (int r = 0; r < m->e.world; r++) {
		size_t len;
		snprintf(key, sizeof(key), "k%d", r);
		snprintf(val, sizeof(val), "v%d", r);
		if (dist_store_wait(s, key, m->timeout, m->err, sizeof(m->err)) ||
		    dist_store_get(s, key, got, sizeof(got), &len, m->err, sizeof(m->err)) != 1)
			goto out;
		m->values_ok &= len == strlen(val) + 1 && !strcmp(got, val);
	}
	/* every rank has read everything, and said so, before rank 0 closes (removes / stops)
	 * the store */
	snprintf(key, sizeof(key), "done%d", m->e.rank);
	if (dist_store_set(s, key, "", 0, m->err, sizeof(m->err)))
		goto out;
	for (int r = 0; r < m->e.world; r++) {
		snprintf(key, sizeof(key), "done%d", r);
		if (dist_store_wait(s, key, m->timeout, m->err, sizeof(m->err)))
			goto out;
	}
	snprintf(key, sizeof(key), "bye%d", m->e.rank);
	if (dist_store_set(s, key, "", 0, m->err, sizeof(m->err)))
		goto out;
	for (int r = 0; m->e.rank == 0 && r < m->e.world; r++) {
		snprintf(key, sizeof(key), "bye%d", r);
		if (dist_store_wait(s, key, m->timeout, m->err, sizeof(m->err)))
			goto out;
	}
	m->rc = 0;
out:
	dist_store_close(s);
	return NULL;
}

/* world members, of which only the first `started` run; returns how many succeeded */
static int run_members(struct member *m, int world, int started)
{
	pthread_t t[8];
	int ok = 0;
	for (int r = 0; r < started; r++)
		pthread_create(&t[r], NULL, member_main, &m[r]);
	for (int r = 0; r < started; r++) {
		pthread_join(t[r], NULL);
		ok += m[r].rc == 0 && m[r].values_ok;
	}
	(void)world;
	return ok;
}

static void members_init(struct member *m, int world, const char *dir, const char *host, int port,
			 double timeout)
{
	for (int r = 0; r < world; r++) {
		memset(&m[r], 0, sizeof(m[r]));
		m[r].e = (struct dist_env){ .rank = r, .world = world, .local_world = world };
		m[r].dir = dir, m[r].host = host, m[r].port = port, m[r].timeout = timeout;
	}
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_file_store(const char *dir)
{
	struct member m[3];
	char p[512];
	struct stat st;

	members_init(m, 3, dir, NULL, 0, 10);
	CHECK(run_members(m, 3, 3) == 3, "file store, 3 ranks: %s / %s / %s", m[0].err, m[1].err,
	      m[2].err);
	snprintf(p, sizeof(p), "%s/.rendezvous/local", dir);
	CHECK(stat(p, &st) != 0, "rank 0 removed %s", p);

	/* a previous run's folder: join files, a `current` naming an attempt with other values */
	snprintf(p, sizeof(p), "mkdir -p %s/.rendezvous/local/join %s/.rendezvous/local/a-old",
		 dir, dir);
	CHECK(system(p) == 0, "%s", p);
	snprintf(p, sizeof(p), "%s/.rendezvous/local/current", dir);
	write_text(p, "a-old 0000000000000001 0000000000000002");
	for (int r = 0; r < 2; r++) {
		snprintf(p, sizeof(p), "%s/.rendezvous/local/a-old/k%d", dir, r);
		write_text(p, "stale");
		snprintf(p, sizeof(p), "%s/.rendezvous/local/join/%d", dir, r);
		write_text(p, "00000000");
	}
	members_init(m, 2, dir, NULL, 0, 10);
	CHECK(run_members(m, 2, 2) == 2, "file store over a stale folder: %s / %s (values %d %d)",
	      m[0].err, m[1].err, m[0].values_ok, m[1].values_ok);

	/* only rank 1 of 3 starts: it names ranks 0 and 2 */
	members_init(m, 3, dir, NULL, 0, 0.5);
	m[0] = m[1];
	CHECK(run_members(m, 3, 1) == 0 && strstr(m[0].err, "timed out after 0.5 s: ranks 0, 2 of 3 "
						  "never arrived (file store ") &&
	      !strchr(m[0].err, '\n'), "rank 1 alone: %s", m[0].err);
	members_init(m, 2, dir, NULL, 0, 0.5);
	CHECK(run_members(m, 2, 1) == 0 && strstr(m[0].err, "rank 1 of 2 never arrived"),
	      "rank 0 alone: %s", m[0].err);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void test_tcp_store(void)
{
	struct member m[3];
	int port = free_port();
	members_init(m, 3, NULL, "127.0.0.1", port, 10);
	CHECK(run_members(m, 3, 3) == 3, "tcp store, 3 ranks on %d: %s / %s / %s", port, m[0].err,
	      m[1].err, m[2].err);
	members_init(m, 3, NULL, "127.0.0.1", free_port(), 0.5);
	CHECK(run_members(m, 3, 1) == 0 && strstr(m[0].err, "ranks 1, 2 of 3 never arrived (tcp "
						  "store 127.0.0.1:"), "rank 0 alone: %s", m[0].err);
	members_init(m, 2, NULL, "127.0.0.1", free_port(), 0.5);
	m[0] = m[1];
	CHECK(run_members(m, 2, 1) == 0 && strstr(m[0].err, "cannot reach rank 0 at 127.0.0.1:"),
	      "rank 1 alone: %s", m[0].err);
}

/* where a rank's transport listens, from the launcher's variables (through dist_env_parse) and
 * GLOO_SOCKET_IFNAME: on loopback whenever every rank is on this host, else the interface, else
 * an address on the route out (when this host has one that is not loopback) */
static void test_local_addr(void)
{
	static const struct { struct kv t[6]; const char *ifname; enum dist_listen want;
			      const char *addr; } cases[] = {
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "127.0.0.1" } }, NULL,
		  DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "127.0.0.5" } }, NULL,
		  DIST_LISTEN_LOOPBACK, "127.0.0.5" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "::1" } }, NULL,
		  DIST_LISTEN_LOOPBACK, "::1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "localhost" } }, NULL,
		  DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "LocalHost" } }, NULL,
		  DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "127.0.0.1" } }, "eth7",
		  DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "192.0.2.1" },
		    { "LOCAL_WORLD_SIZE", "2" } }, NULL, DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "LOCAL_WORLD_SIZE", "2" } }, "eth7",
		  DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "PATH", "/bin" } }, "eth7", DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "SLURM_PROCID", "1" }, { "SLURM_NTASKS", "2" }, { "SLURM_LOCALID", "1" },
		    { "SLURM_STEP_TASKS_PER_NODE", "2" }, { "SLURM_STEP_NODELIST", "n7" } }, NULL,
		  DIST_LISTEN_LOOPBACK, "127.0.0.1" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "4" }, { "MASTER_ADDR", "192.0.2.1" },
		    { "LOCAL_WORLD_SIZE", "2" } }, "eth7", DIST_LISTEN_IFACE, "eth7" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "192.0.2.1" } }, "eth7",
		  DIST_LISTEN_IFACE, "eth7" },
		{ { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "127.0.0.1.example" } },
		  "eth7", DIST_LISTEN_IFACE, "eth7" },
		{ { { "SLURM_PROCID", "1" }, { "SLURM_NTASKS", "2" }, { "SLURM_NODEID", "1" },
		    { "SLURM_STEP_TASKS_PER_NODE", "1(x2)" }, { "SLURM_STEP_NODELIST", "n[7-8]" } },
		  "eth7", DIST_LISTEN_IFACE, "eth7" },
	};
	char a[DIST_HOST_MAX], err[256];
	struct dist_env e;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(parse(cases[i].t, &e, err, sizeof(err)) == 0, "case %zu: %s", i, err);
		enum dist_listen got = dist_local_addr(&e, cases[i].ifname, a, sizeof(a));
		CHECK(got == cases[i].want && !strcmp(a, cases[i].addr), "case %zu: %d '%s', want %d '%s'",
		      i, got, a, cases[i].want, cases[i].addr);
		CHECK((dist_loopback_addr(&e) != NULL) == (cases[i].want == DIST_LISTEN_LOOPBACK),
		      "case %zu: loopback %s", i, dist_loopback_addr(&e));
	}
	/* ranks on several hosts, no interface named: this host's address towards MASTER_ADDR */
	struct kv far[] = { { "RANK", "1" }, { "WORLD_SIZE", "2" }, { "MASTER_ADDR", "192.0.2.1" },
			    { 0, 0 } }; /* TEST-NET-1 */
	CHECK(parse(far, &e, err, sizeof(err)) == 0, "far: %s", err);
	enum dist_listen rc = dist_local_addr(&e, "", a, sizeof(a));
	CHECK(rc == DIST_LISTEN_HOST ? strncmp(a, "127.", 4) != 0 && strcmp(a, "::1") :
	      rc == DIST_LISTEN_LOOPBACK && !strcmp(a, "127.0.0.1"), "towards 192.0.2.1: %s (%d)", a, rc);
	printf("test_dist: this host's address for other nodes: %s\n", a);
}

int main(void)
{
	test_nodelist();
	test_tasks_per_node();
	test_env();
	test_slices();

	char dir[] = "/tmp/test_dist.XXXXXX", cmd[64];
	if (mkdtemp(dir)) {
		test_file_store(dir);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0, "%s", cmd);
	}
	test_tcp_store();
	test_local_addr();
	return check_done("test_dist");
}
