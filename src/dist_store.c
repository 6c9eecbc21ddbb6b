/*
 * dist_store.c - the rendezvous store: a few small keys exchanged at start-up so that the
 * ranks can connect (Gloo's pair addresses, NCCL's unique id). Two kinds, one interface:
 * files on a shared filesystem (here), or a key-value server run by rank 0 over TCP
 * (dist_store_tcp.c). The protocols and their guarantees are described in dist_internal.h.
 * Every wait ends at a deadline with a message that names the ranks that never arrived.
 */
#include "dist_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/stop.h"

#define STORE_PATH_MAX 4096
#define STORE_KEY_MAX 256
#define STORE_VAL_MAX (1 << 20)
#define STORE_POLL_S 0.02

struct dist_store {
	struct dist_tcp *tcp;       /* the tcp kind, else files */
	int rank;
	double timeout;             /* seconds, for messages */
	char where[STORE_PATH_MAX + 32];
	char dir[STORE_PATH_MAX + 64]; /* file: the attempt folder */
	char scope[STORE_PATH_MAX]; /* file: the scope folder rank 0 removes at close */
};

int dist_nap(double s, char *err, size_t n)
{
	struct timespec t = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	if (!stop_requested())
		nanosleep(&t, NULL);
	if (!stop_requested())
		return 0;
	snprintf(err, n, "dist: stopped by %s while waiting for the other ranks to join",
		 stop_reason(stop_requested()));
	return -1;
}

static uint64_t nonce(void)
{
	uint64_t x = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &x, sizeof(x)) != (ssize_t)sizeof(x))
			x = 0;
		close(fd);
	}
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return x ^ ((uint64_t)getpid() << 32) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 20);
}

/* "rank 2 of 4" / "ranks 1, 3 of 4" for the ranks whose have[r] is 0 */
static void missing_ranks(const char *have, int world, char *out, size_t on)
{
	int cnt = 0;
	for (int r = 0; r < world; r++)
		cnt += !have[r];
	size_t len = (size_t)snprintf(out, on, "rank%s ", cnt == 1 ? "" : "s");
	for (int r = 0, i = 0; r < world && len + 24 < on; r++) {
		if (have[r])
			continue;
		if (i == 8) {
			len += (size_t)snprintf(out + len, on - len, ", ... (%d in all)", cnt);
			break;
		}
		len += (size_t)snprintf(out + len, on - len, "%s%d", i++ ? ", " : "", r);
	}
	snprintf(out + len, on - len, " of %d", world);
}

/* writes path atomically through a temporary file named by pid (ranks may share a folder) */
static int write_file(const char *path, const void *val, size_t len)
{
	char tmp[STORE_PATH_MAX + 32];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return fs_write_atomic(path, tmp, val, len);
}

/* 1 and the contents (at most cap bytes, *len the full size), 0 when absent, -1 */
static int read_file(const char *path, void *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	size_t got = fread(buf, 1, cap, f), more = 0;
	char c;
	while (fread(&c, 1, 1, f) == 1)
		more++;
	int bad = ferror(f);
	fclose(f);
	*len = got + more;
	return bad ? -1 : 1;
}

static int check_key(const char *key, char *err, size_t n)
{
	if (!*key || strlen(key) >= STORE_KEY_MAX || strchr(key, '/') || key[0] == '.') {
		snprintf(err, n, "dist: bad rendezvous key '%s'", key);
		return -1;
	}
	return 0;
}

/* ---- file store ---- */

/* rank 0: every rank's nonce from join/<r> into ids (have[r] set) by deadline; 0, or -1 */
static int file_gather(struct dist_store *s, const struct dist_env *e, uint64_t *ids, char *have,
		       double deadline, char *err, size_t n)
{
	char p[STORE_PATH_MAX + 64], miss[256];
	for (int left = e->world - 1; left > 0;) {
		for (int r = 1; r < e->world; r++) {
			size_t len;
			if (have[r])
				continue;
			snprintf(p, sizeof(p), "%s/join/%d", s->scope, r);
			if (read_file(p, &ids[r], sizeof(ids[r]), &len) == 1 && len == sizeof(ids[r]))
				have[r] = 1, left--;
		}
		if (left && fs_now() > deadline) {
			missing_ranks(have, e->world, miss, sizeof(miss));
			fs_rm_tree(s->scope);
			snprintf(err, n, "dist: rendezvous timed out after %g s: %s never arrived (%s); "
				 "check that every task started and sees the same run.dir",
				 s->timeout, miss, s->where);
			return -1;
		}
		if (left && dist_nap(STORE_POLL_S, err, n))
			return -1;
	}
	return 0;
}

/* rank 0: the attempt folder, then `current` = "a-<nonce> <nonce of rank 0> ... <rank w-1>" */
static int file_publish(struct dist_store *s, const struct dist_env *e, uint64_t mine,
			const uint64_t *ids, char *err, size_t n)
{
	char p[STORE_PATH_MAX + 64];
	size_t cap = 32 + 17 * (size_t)e->world, len;
	char *cur = malloc(cap);
	if (!cur) {
		snprintf(err, n, "dist: out of memory");
		return -1;
	}
	len = (size_t)snprintf(cur, cap, "a-%016" PRIx64, mine);
	snprintf(s->dir, sizeof(s->dir), "%s/%s", s->scope, cur);
	for (int r = 0; r < e->world; r++)
		len += (size_t)snprintf(cur + len, cap - len, " %016" PRIx64, ids[r]);
	snprintf(p, sizeof(p), "%s/current", s->scope);
	int rc = fs_mkdir_p(s->dir, 0, NULL, 0) || write_file(p, cur, len) ? -1 : 0;
	if (rc)
		snprintf(err, n, "dist: cannot write the rendezvous folder %s: %s", s->dir,
			 strerror(errno));
	free(cur);
	return rc;
}

static int file_rank0(struct dist_store *s, const struct dist_env *e, uint64_t mine,
		      double deadline, char *err, size_t n)
{
	char p[STORE_PATH_MAX + 64];
	int rc = -1;
	uint64_t *ids = calloc((size_t)e->world, sizeof(*ids));
	char *have = calloc((size_t)e->world, 1); /* (world) 1 once rank r's nonce is read */
	if (!ids || !have) {
		snprintf(err, n, "dist: out of memory: the rendezvous of %d ranks", e->world);
		goto out;
	}
	fs_rm_tree(s->scope);
	snprintf(p, sizeof(p), "%s/join", s->scope);
	if (fs_mkdir_p(p, 0, NULL, 0)) {
		snprintf(err, n, "dist: cannot create the rendezvous folder %s: %s; run.dir must be "
			 "writable (and shared by every node)", p, strerror(errno));
		goto out;
	}
	ids[0] = mine;
	have[0] = 1;
	snprintf(p, sizeof(p), "%s/join/0", s->scope);
	write_file(p, &mine, sizeof(mine));
	if (!file_gather(s, e, ids, have, deadline, err, n))
		rc = file_publish(s, e, mine, ids, err, n);
out:
	free(have);
	free(ids);
	return rc;
}

/* 1 when `current` lists nonce `mine` for rank r (and sets s->dir), else 0 */
static int file_current(struct dist_store *s, int rank, int world, uint64_t mine)
{
	char p[STORE_PATH_MAX + 64], want[32];
	size_t cap = 32 + 17 * (size_t)world + 1, len;
	char *cur = malloc(cap);
	int ok = 0;
	snprintf(p, sizeof(p), "%s/current", s->scope);
	if (cur && read_file(p, cur, cap - 1, &len) == 1 && len < cap) {
		cur[len] = 0;
		char *tok = strchr(cur, ' ');
		snprintf(want, sizeof(want), " %016" PRIx64, mine);
		if (tok && len == (size_t)(tok - cur) + 17 * (size_t)world &&
		    !strncmp(tok + 17 * (size_t)rank, want, 17)) {
			*tok = 0;
			snprintf(s->dir, sizeof(s->dir), "%s/%s", s->scope, cur);
			ok = 1;
		}
	}
	free(cur);
	return ok;
}

/* rank k timed out: the ranks whose join files are not this run's (p is ours), in err */
static void file_missing(struct dist_store *s, const struct dist_env *e, const char *p, char *err,
			 size_t n)
{
	char miss[256];
	char *have = calloc((size_t)e->world, 1); /* (world) 1 when rank r's join file is fresh */
	snprintf(miss, sizeof(miss), "some of the %d ranks", e->world);
	if (have) {
		/* join files written within the timeout of ours (the filesystem's clock) are this
		 * run's */
		struct stat own;
		int fresh = !stat(p, &own);
		for (int r = 0; r < e->world; r++) {
			char q[STORE_PATH_MAX + 64];
			struct stat st;
			snprintf(q, sizeof(q), "%s/join/%d", s->scope, r);
			have[r] = r == e->rank ||
				  (fresh && !stat(q, &st) &&
				   (double)st.st_mtime >= (double)own.st_mtime - s->timeout - 1);
		}
		missing_ranks(have, e->world, miss, sizeof(miss));
	}
	free(have);
	snprintf(err, n, "dist: rendezvous timed out after %g s: %s never arrived (%s); check "
		 "that every task started and sees the same run.dir", s->timeout, miss, s->where);
}

static int file_rank_k(struct dist_store *s, const struct dist_env *e, uint64_t mine,
		       double deadline, char *err, size_t n)
{
	char p[STORE_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/join/%d", s->scope, e->rank);
	for (;;) {
		uint64_t got = 0;
		size_t len;
		if (read_file(p, &got, sizeof(got), &len) != 1 || got != mine) {
			char j[STORE_PATH_MAX + 8];
			snprintf(j, sizeof(j), "%s/join", s->scope);
			fs_mkdir_p(j, 0, NULL, 0);
			write_file(p, &mine, sizeof(mine));
		}
		if (file_current(s, e->rank, e->world, mine))
			return 0;
		if (fs_now() > deadline)
			break;
		if (dist_nap(STORE_POLL_S, err, n))
			return -1;
	}
	file_missing(s, e, p, err, n);
	return -1;
}

struct dist_store *dist_store_open_file(const char *dir, const struct dist_env *e, double timeout,
					char *err, size_t n)
{
	struct dist_store *s = calloc(1, sizeof(*s));
	double deadline = fs_now() + timeout;
	if (!s) {
		snprintf(err, n, "dist: out of memory");
		return NULL;
	}
	s->rank = e->rank;
	s->timeout = timeout;
	if (snprintf(s->scope, sizeof(s->scope), "%s/.rendezvous/%s", dir && *dir ? dir : ".",
		     e->job_id[0] ? e->job_id : "local") >= (int)sizeof(s->scope) - 64) {
		snprintf(err, n, "dist: rendezvous folder name under '%s' is too long", dir);
		free(s);
		return NULL;
	}
	snprintf(s->where, sizeof(s->where), "file store %s", s->scope);
	uint64_t mine = nonce();
	int rc = e->rank == 0 ? file_rank0(s, e, mine, deadline, err, n) :
				file_rank_k(s, e, mine, deadline, err, n);
	if (rc) {
		free(s);
		return NULL;
	}
	return s;
}
struct dist_store *dist_store_open_tcp(const char *host, int port, const struct dist_env *e,
				       double timeout, char *err, size_t n)
{
	struct dist_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, n, "dist: out of memory");
		return NULL;
	}
	s->rank = e->rank;
	s->timeout = timeout;
	snprintf(s->where, sizeof(s->where), "tcp store %s:%d", host, port);
	if (!(s->tcp = dist_tcp_open(host, port, e, timeout, err, n))) {
		free(s);
		return NULL;
	}
	return s;
}

void dist_store_close(struct dist_store *s)
{
	if (!s)
		return;
	if (s->tcp)
		dist_tcp_close(s->tcp);
	else if (s->rank == 0)
		fs_rm_tree(s->scope);
	free(s);
}

const char *dist_store_where(const struct dist_store *s)
{
	return s->where;
}

int dist_store_set(struct dist_store *s, const char *key, const void *val, size_t len, char *err,
		   size_t n)
{
	char p[STORE_PATH_MAX + STORE_KEY_MAX + 2];
	if (check_key(key, err, n))
		return -1;
	if (len > STORE_VAL_MAX) {
		snprintf(err, n, "dist: rendezvous value of %zu bytes is too large", len);
		return -1;
	}
	if (s->tcp)
		return dist_tcp_set(s->tcp, key, val, len, err, n);
	snprintf(p, sizeof(p), "%s/%s", s->dir, key);
	if (write_file(p, val, len)) {
		snprintf(err, n, "dist: cannot write %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

int dist_store_get(struct dist_store *s, const char *key, void *val, size_t cap, size_t *len,
		   char *err, size_t n)
{
	char p[STORE_PATH_MAX + STORE_KEY_MAX + 2];
	if (check_key(key, err, n))
		return -1;
	if (s->tcp)
		return dist_tcp_get(s->tcp, key, val, cap, len, err, n);
	snprintf(p, sizeof(p), "%s/%s", s->dir, key);
	int rc = read_file(p, val, cap, len);
	if (rc < 0)
		snprintf(err, n, "dist: cannot read %s: %s", p, strerror(errno));
	return rc;
}

int dist_store_wait(struct dist_store *s, const char *key, double timeout, char *err, size_t n)
{
	double deadline = fs_now() + timeout;
	char b;
	size_t len;
	for (;;) {
		int rc = dist_store_get(s, key, &b, 0, &len, err, n);
		if (rc)
			return rc > 0 ? 0 : -1;
		if (fs_now() > deadline) {
			snprintf(err, n, "dist: rendezvous timed out after %g s waiting for key '%s' "
				 "(%s)", timeout, key, s->where);
			return -1;
		}
		if (dist_nap(STORE_POLL_S, err, n))
			return -1;
	}
}

int dist_store_arrive(struct dist_store *s, const struct dist_env *e, double timeout, char *err,
		      size_t n)
{
	char key[32], miss[256], b;
	double deadline = fs_now() + timeout;
	size_t len;
	int rc = -1;
	char *have = calloc((size_t)e->world, 1); /* (world) 1 once rank r has arrived */
	if (!have) {
		snprintf(err, n, "dist: out of memory: the rendezvous of %d ranks", e->world);
		return -1;
	}
	snprintf(key, sizeof(key), "arrived-%d", e->rank);
	if (dist_store_set(s, key, "1", 1, err, n))
		goto out;
	have[e->rank] = 1;
	for (int left = e->world - 1; left > 0;) {
		for (int r = 0; r < e->world; r++) {
			if (have[r])
				continue;
			snprintf(key, sizeof(key), "arrived-%d", r);
			int got = dist_store_get(s, key, &b, 0, &len, err, n);
			if (got < 0)
				goto out;
			if (got)
				have[r] = 1, left--;
		}
		if (!left)
			break;
		if (fs_now() > deadline) {
			missing_ranks(have, e->world, miss, sizeof(miss));
			snprintf(err, n, "dist: rendezvous timed out after %g s: %s never arrived "
				 "(%s); check that every task started with the same MASTER_ADDR, "
				 "MASTER_PORT and WORLD_SIZE", timeout, miss, s->where);
			goto out;
		}
		if (dist_nap(STORE_POLL_S, err, n))
			goto out;
	}
	rc = 0;
out:
	free(have);
	return rc;
}
