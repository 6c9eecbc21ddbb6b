/*
 * dist_env.c - which rank this process is: torchrun-style variables (RANK, WORLD_SIZE,
 * LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) when RANK is set, else SLURM's
 * (SLURM_PROCID, SLURM_STEP_NUM_TASKS or SLURM_NTASKS, SLURM_LOCALID, tasks per node, node
 * list, job/step/restart ids), else a world of one. Also SLURM's host-list syntax
 * ("node[01-04,07],gpu-a[1-2]") and tasks-per-node syntax ("2(x3),1"), and the slice rule.
 * Pure C: no sockets, no threads, no Gloo.
 */
#include "attnrl/dist.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIST_GROUPS_MAX 8

/* a whole decimal in [lo, hi]; "dist: NAME='v' is not ..." on failure */
static int parse_long(const char *name, const char *v, long lo, long hi, long *out, char *err,
		      size_t n)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (!*v || isspace((unsigned char)*v) || *end || errno) {
		snprintf(err, n, "dist: %s='%s' is not a whole number; fix the launcher's environment",
			 name, v);
		return -1;
	}
	if (x < lo || x > hi) {
		snprintf(err, n, "dist: %s=%ld is out of range [%ld, %ld]", name, x, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static const char *var(dist_lookup_fn get, void *ctx, const char *name)
{
	const char *v = get(ctx, name);
	return v && *v ? v : NULL;
}

/* the optional variable `name` into *out (left alone when unset) */
static int opt_int(dist_lookup_fn get, void *ctx, const char *name, long lo, long hi, int *out,
		   char *err, size_t n)
{
	const char *v = var(get, ctx, name);
	long x;
	if (!v)
		return 0;
	if (parse_long(name, v, lo, hi, &x, err, n))
		return -1;
	*out = (int)x;
	return 1;
}

/* copies s with every character outside [A-Za-z0-9._-] replaced by '_' (a folder name) */
static void copy_safe(char *dst, size_t dn, const char *s)
{
	size_t i = 0;
	for (; s[i] && i + 1 < dn; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = isalnum(c) || c == '.' || c == '-' || c == '_' ? (char)c : '_';
	}
	dst[i] = 0;
}

/* one "[...]" group starting after '[': its size, and its k-th value into out (when k < size
 * and out != NULL); *end points past ']' */
static int group_scan(const char *list, const char *p, size_t k, char *out, size_t on,
		      size_t *size, const char **end, char *err, size_t n)
{
	size_t total = 0;
	for (;;) {
		const char *s = p;
		char *e;
		if (!isdigit((unsigned char)*p))
			goto bad;
		unsigned long lo = strtoul(p, &e, 10), hi = lo;
		int width = (int)(e - s);
		p = e;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				goto bad;
			hi = strtoul(p + 1, &e, 10);
			p = e;
		}
		if (hi < lo || hi - lo >= 1000000) {
			snprintf(err, n, "dist: host list '%s': range %lu-%lu is empty or too large",
				 list, lo, hi);
			return -1;
		}
		size_t cnt = hi - lo + 1;
		if (out && k >= total && k < total + cnt)
			snprintf(out, on, "%0*lu", width, lo + (k - total));
		total += cnt;
		if (*p == ']')
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	*size = total;
	*end = p + 1;
	return 0;
bad:
	snprintf(err, n, "dist: host list '%s': expected a number or range at column %d", list,
		 (int)(p - list) + 1);
	return -1;
}

/* one item (up to a top-level ',' or the end): its host count and group sizes; *end at the
 * ',' or '\0' */
static int item_scan(const char *list, const char *p, size_t *count, size_t *sizes, int *ng,
		     const char **end, char *err, size_t n)
{
	*count = 1;
	*ng = 0;
	if (*p == ',' || !*p)
		goto empty;
	while (*p && *p != ',') {
		if (*p == ']')
			goto empty;
		if (*p != '[') {
			p++;
			continue;
		}
		if (*ng == DIST_GROUPS_MAX) {
			snprintf(err, n, "dist: host list '%s': more than %d [] groups in one name",
				 list, DIST_GROUPS_MAX);
			return -1;
		}
		if (group_scan(list, p + 1, SIZE_MAX, NULL, 0, &sizes[*ng], &p, err, n))
			return -1;
		if (*count > SIZE_MAX / sizes[*ng]) {
			snprintf(err, n, "dist: host list '%s' is too long", list);
			return -1;
		}
		*count *= sizes[(*ng)++];
	}
	*end = p;
	return 0;
empty:
	snprintf(err, n, "dist: host list '%s': empty name or stray ']' at column %d", list,
		 (int)(p - list) + 1);
	return -1;
}

/* host `idx` of the item at p (the last group varies fastest) */
static int item_host(const char *list, const char *p, size_t idx, const size_t *sizes, int ng,
		     char *host, size_t hn, char *err, size_t n)
{
	size_t pick[DIST_GROUPS_MAX], len = 0;
	for (int g = ng - 1; g >= 0; g--) {
		pick[g] = idx % sizes[g];
		idx /= sizes[g];
	}
	int g = 0;
	while (*p && *p != ',') {
		char num[32] = "";
		const char *add = num;
		size_t size, alen;
		if (*p == '[') {
			if (group_scan(list, p + 1, pick[g++], num, sizeof(num), &size, &p, err, n))
				return -1;
			alen = strlen(num);
		} else {
			add = p++;
			alen = 1;
		}
		if (len + alen + 1 > hn) {
			snprintf(err, n, "dist: host list '%s': a name is longer than %zu bytes", list,
				 hn - 1);
			return -1;
		}
		memcpy(host + len, add, alen);
		len += alen;
	}
	host[len] = 0;
	return 0;
}

int dist_nodelist_host(const char *list, size_t index, char *host, size_t hn, char *err,
		       size_t n)
{
	const char *p = list;
	for (;;) {
		size_t count, sizes[DIST_GROUPS_MAX];
		const char *end;
		int ng;
		if (item_scan(list, p, &count, sizes, &ng, &end, err, n))
			return -1;
		if (index < count)
			return item_host(list, p, index, sizes, ng, host, hn, err, n) ? -1 : 1;
		index -= count;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

long dist_tasks_per_node(const char *spec, long node, char *err, size_t n)
{
	const char *p = spec;
	while (*p) {
		char *e;
		if (!isdigit((unsigned char)*p))
			goto bad;
		long tasks = strtol(p, &e, 10), reps = 1;
		p = e;
		if (*p == '(') {
			if (p[1] != 'x' || !isdigit((unsigned char)p[2]))
				goto bad;
			reps = strtol(p + 2, &e, 10);
			p = e;
			if (*p++ != ')' || reps < 1)
				goto bad;
		}
		if (node < reps)
			return tasks;
		node -= reps;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	snprintf(err, n, "dist: tasks per node '%s' lists fewer nodes than SLURM_NODEID", spec);
	return -1;
bad:
	snprintf(err, n, "dist: tasks per node '%s': expected N or N(xM) at column %d", spec,
		 (int)(p - spec) + 1);
	return -1;
}

void dist_slice(size_t count, int world, int i, size_t *off, size_t *len)
{
	size_t w = world > 0 ? (size_t)world : 1, base = count / w, rem = count % w;
	size_t r = (size_t)i;
	*len = base + (r < rem);
	*off = r * base + (r < rem ? r : rem);
}

static int env_torchrun(struct dist_env *e, dist_lookup_fn get, void *ctx, char *err, size_t n)
{
	long x;
	const char *v;
	if (parse_long("RANK", var(get, ctx, "RANK"), 0, 1 << 24, &x, err, n))
		return -1;
	e->rank = (int)x;
	if (!(v = var(get, ctx, "WORLD_SIZE"))) {
		snprintf(err, n, "dist: RANK is set but WORLD_SIZE is not; set both (as torchrun "
			 "does) or neither");
		return -1;
	}
	if (parse_long("WORLD_SIZE", v, 1, 1 << 24, &x, err, n))
		return -1;
	e->world = (int)x;
	e->local_rank = e->rank;
	if (opt_int(get, ctx, "LOCAL_RANK", 0, 1 << 24, &e->local_rank, err, n) < 0 ||
	    opt_int(get, ctx, "LOCAL_WORLD_SIZE", 1, 1 << 24, &e->local_world, err, n) < 0)
		return -1;
	if ((v = var(get, ctx, "TORCHELASTIC_RUN_ID")) || (v = var(get, ctx, "ATTNRL_RUN_ID")))
		copy_safe(e->job_id, sizeof(e->job_id), v);
	snprintf(e->source, sizeof(e->source), "env");
	return 0;
}

static int env_slurm(struct dist_env *e, dist_lookup_fn get, void *ctx, char *err, size_t n)
{
	long x;
	const char *v;
	int node = 0, restart = 0;
	if (parse_long("SLURM_PROCID", var(get, ctx, "SLURM_PROCID"), 0, 1 << 24, &x, err, n))
		return -1;
	e->rank = (int)x;
	const char *wname = var(get, ctx, "SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" :
								     "SLURM_NTASKS";
	if (!(v = var(get, ctx, wname))) {
		snprintf(err, n, "dist: SLURM_PROCID is set but SLURM_NTASKS is not; start the "
			 "tasks with srun");
		return -1;
	}
	if (parse_long(wname, v, 1, 1 << 24, &x, err, n))
		return -1;
	e->world = (int)x;
	if (opt_int(get, ctx, "SLURM_LOCALID", 0, 1 << 24, &e->local_rank, err, n) < 0 ||
	    opt_int(get, ctx, "SLURM_NODEID", 0, 1 << 24, &node, err, n) < 0 ||
	    opt_int(get, ctx, "SLURM_RESTART_COUNT", 0, 1 << 30, &restart, err, n) < 0)
		return -1;
	if (opt_int(get, ctx, "SLURM_NTASKS_PER_NODE", 1, 1 << 24, &e->local_world, err, n) < 0)
		return -1;
	if ((v = var(get, ctx, "SLURM_STEP_TASKS_PER_NODE")) ||
	    (!e->local_world && (v = var(get, ctx, "SLURM_TASKS_PER_NODE")))) {
		long t = dist_tasks_per_node(v, node, err, n);
		if (t < 0)
			return -1;
		e->local_world = (int)t;
	}
	if ((v = var(get, ctx, "SLURM_STEP_NODELIST")) || (v = var(get, ctx, "SLURM_JOB_NODELIST")) ||
	    (v = var(get, ctx, "SLURM_NODELIST"))) {
		if (dist_nodelist_host(v, 0, e->first_host, sizeof(e->first_host), err, n) < 0)
			return -1;
	}
	if ((v = var(get, ctx, "SLURM_JOB_ID")) || (v = var(get, ctx, "SLURM_JOBID"))) {
		const char *step = var(get, ctx, "SLURM_STEP_ID");
		char id[DIST_ID_MAX];
		if (!step)
			step = var(get, ctx, "SLURM_STEPID");
		snprintf(id, sizeof(id), "slurm-%s.%s-r%d", v, step ? step : "x", restart);
		copy_safe(e->job_id, sizeof(e->job_id), id);
	} else if ((v = var(get, ctx, "ATTNRL_RUN_ID"))) {
		copy_safe(e->job_id, sizeof(e->job_id), v);
	}
	snprintf(e->source, sizeof(e->source), "slurm");
	return 0;
}

static int env_check(const struct dist_env *e, char *err, size_t n)
{
	const char *r = e->source[0] == 's' ? "SLURM_PROCID" : "RANK";
	if (e->rank >= e->world) {
		snprintf(err, n, "dist: %s=%d but the world has %d ranks (0..%d); check the launcher",
			 r, e->rank, e->world, e->world - 1);
		return -1;
	}
	if (e->local_world && (e->local_rank >= e->local_world || e->local_world > e->world)) {
		snprintf(err, n, "dist: local rank %d of %d tasks on this node does not fit a world "
			 "of %d; check the launcher", e->local_rank, e->local_world, e->world);
		return -1;
	}
	return 0;
}

int dist_env_parse(struct dist_env *e, dist_lookup_fn get, void *ctx, char *err, size_t n)
{
	const char *v;
	struct dist_env z = { .world = 1, .local_world = 1 };
	snprintf(z.source, sizeof(z.source), "none");
	*e = z;
	int rc = 0;
	if (var(get, ctx, "RANK")) {
		e->local_world = 0;
		rc = env_torchrun(e, get, ctx, err, n);
	} else if (var(get, ctx, "SLURM_PROCID")) {
		e->local_world = 0;
		rc = env_slurm(e, get, ctx, err, n);
	}
	if (rc)
		return -1;
	if ((v = var(get, ctx, "MASTER_ADDR"))) {
		if (strlen(v) >= sizeof(e->master_addr)) {
			snprintf(err, n, "dist: MASTER_ADDR is longer than %zu bytes",
				 sizeof(e->master_addr) - 1);
			return -1;
		}
		snprintf(e->master_addr, sizeof(e->master_addr), "%s", v);
	}
	if (opt_int(get, ctx, "MASTER_PORT", 1, 65535, &e->master_port, err, n) < 0)
		return -1;
	return env_check(e, err, n);
}

static const char *lookup_environ(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int dist_env_read(struct dist_env *e, char *err, size_t n)
{
	return dist_env_parse(e, lookup_environ, NULL, err, n);
}

const char *dist_backend_name(enum dist_backend b)
{
	return b == DIST_BACKEND_GLOO ? "gloo" : b == DIST_BACKEND_NCCL ? "nccl" : "none";
}
