/*
 * dist.c - dist_init picks the backend and the rendezvous from the options and the launcher's
 * environment, connects the ranks, and the collectives dispatch to the backend: Gloo
 * (dist_gloo.cpp), NCCL (dist_nccl.c, CUDA=1 builds only) or none (a world of one: every
 * collective returns at once, its buffer already being the result).
 *
 * reduce-scatter on Gloo is an all-reduce of the whole buffer (Gloo's reduce-scatter is a
 * legacy algorithm with int counts): twice the traffic of a true reduce-scatter, same result.
 */
#include "dist_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ATTNRL_NCCL
#define DIST_HAVE_NCCL 1
#else
#define DIST_HAVE_NCCL 0
#endif

static int pick_backend(struct dist *d, const struct dist_opts *o, char *err, size_t n)
{
	const char *b = o->backend && *o->backend ? o->backend : "auto";
	if (!strcmp(b, "auto")) {
		d->backend = d->world == 1 ? DIST_BACKEND_NONE :
			     o->use_gpu && DIST_HAVE_NCCL ? DIST_BACKEND_NCCL : DIST_BACKEND_GLOO;
	} else if (!strcmp(b, "none")) {
		d->backend = DIST_BACKEND_NONE;
		if (d->world > 1) {
			snprintf(err, n, "dist: dist.backend=none but the launcher (%s) started %d "
				 "ranks; use dist.backend=auto, or start one process", d->env.source,
				 d->world);
			return -1;
		}
	} else if (!strcmp(b, "gloo")) {
		d->backend = DIST_BACKEND_GLOO;
	} else if (!strcmp(b, "nccl")) {
		d->backend = DIST_BACKEND_NCCL;
		if (!DIST_HAVE_NCCL || !o->use_gpu) {
			snprintf(err, n, "dist: dist.backend=nccl needs %s; use dist.backend=gloo "
				 "(or auto)", DIST_HAVE_NCCL ? "the model on a GPU" :
				 "a CUDA=1 build (this one is CPU-only)");
			return -1;
		}
	} else {
		snprintf(err, n, "dist: unknown backend '%s' (auto, gloo, nccl or none)", b);
		return -1;
	}
	return 0;
}

/* the rendezvous store, all ranks arrived */
static struct dist_store *open_store(struct dist *d, const struct dist_opts *o, char *err,
				     size_t n)
{
	const struct dist_env *e = &d->env;
	const char *r = o->rendezvous && *o->rendezvous ? o->rendezvous : "auto";
	struct dist_store *s;
	if (!strcmp(r, "auto"))
		r = e->master_addr[0] ? "tcp" : "file";
	if (!strcmp(r, "file"))
		return dist_store_open_file(o->dir, e, d->timeout, err, n);
	if (strcmp(r, "tcp")) {
		snprintf(err, n, "dist: unknown rendezvous '%s' (auto, file or tcp)", r);
		return NULL;
	}
	const char *host = e->master_addr[0] ? e->master_addr : e->first_host;
	if (!host[0] || !e->master_port) {
		snprintf(err, n, "dist: dist.rendezvous=tcp needs MASTER_ADDR (the host of rank 0) "
			 "and MASTER_PORT (a free port there); or use dist.rendezvous=file");
		return NULL;
	}
	s = dist_store_open_tcp(host, e->master_port, e, d->timeout, err, n);
	if (s && dist_store_arrive(s, e, d->timeout, err, n)) {
		dist_store_close(s);
		return NULL;
	}
	return s;
}

static int backend_init(struct dist *d, struct dist_store *s, char *err, size_t n)
{
	if (d->backend == DIST_BACKEND_GLOO)
		return dist_gloo_init(d, s, err, n) || dist_gloo_barrier(d, err, n) ? -1 : 0;
	return dist_nccl_init(d, s, err, n) || dist_nccl_barrier(d, err, n) ? -1 : 0;
}

int dist_init(struct dist *d, const struct dist_opts *o, char *err, size_t n)
{
	memset(d, 0, sizeof(*d));
	if (o->env)
		d->env = *o->env;
	else if (dist_env_read(&d->env, err, n))
		return -1;
	d->rank = d->env.rank;
	d->world = d->env.world;
	d->timeout = o->timeout > 0 ? o->timeout : 300;
	d->stream = o->stream;
	if (pick_backend(d, o, err, n))
		return -1;
	if (d->backend == DIST_BACKEND_NONE)
		return 0;
	/* Gloo writes to sockets without MSG_NOSIGNAL: a peer that exits would kill this process
	 * with SIGPIPE instead of failing the collective with a message */
	struct sigaction sa;
	if (!sigaction(SIGPIPE, NULL, &sa) && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	struct dist_store *s = open_store(d, o, err, n);
	if (!s)
		return -1;
	snprintf(d->where, sizeof(d->where), "%s", dist_store_where(s));
	int rc = backend_init(d, s, err, n);
	if (rc && d->impl)
		dist_free(d);
	dist_store_close(s); /* after the barrier: every rank is done with the store */
	return rc;
}

void dist_free(struct dist *d)
{
	if (d->impl && d->backend == DIST_BACKEND_GLOO)
		dist_gloo_free(d);
	else if (d->impl && d->backend == DIST_BACKEND_NCCL)
		dist_nccl_free(d);
	d->impl = NULL;
}

static int nccl(const struct dist *d)
{
	return d->backend == DIST_BACKEND_NCCL;
}

int dist_allreduce_sum(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
		       size_t n)
{
	if (d->backend == DIST_BACKEND_NONE || !count)
		return 0;
	return nccl(d) ? dist_nccl_allreduce(d, buf, count, t, err, n) :
			 dist_gloo_allreduce(d, buf, count, t, err, n);
}

int dist_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n)
{
	if (root < 0 || root >= d->world) {
		snprintf(err, n, "dist: broadcast from rank %d in a world of %d", root, d->world);
		return -1;
	}
	if (d->backend == DIST_BACKEND_NONE || !bytes)
		return 0;
	return nccl(d) ? dist_nccl_broadcast(d, buf, bytes, root, err, n) :
			 dist_gloo_broadcast(d, buf, bytes, root, err, n);
}

int dist_reduce_scatter_sum_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	if (d->backend == DIST_BACKEND_NONE || !count)
		return 0;
	return nccl(d) ? dist_nccl_reduce_scatter_f32(d, buf, count, err, n) :
			 dist_gloo_allreduce(d, buf, count, DIST_F32, err, n);
}

int dist_allgather_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	if (d->backend == DIST_BACKEND_NONE || !count)
		return 0;
	if (nccl(d))
		return dist_nccl_allgather_f32(d, buf, count, err, n);
	size_t *counts = malloc(sizeof(*counts) * (size_t)d->world), off;
	if (!counts) {
		snprintf(err, n, "dist: out of memory");
		return -1;
	}
	for (int r = 0; r < d->world; r++)
		dist_slice(count, d->world, r, &off, &counts[r]);
	int rc = dist_gloo_allgatherv_f32(d, buf, counts, err, n);
	free(counts);
	return rc;
}

int dist_barrier(struct dist *d, char *err, size_t n)
{
	if (d->backend == DIST_BACKEND_NONE)
		return 0;
	return nccl(d) ? dist_nccl_barrier(d, err, n) : dist_gloo_barrier(d, err, n);
}

#if !DIST_HAVE_NCCL
/* CPU builds: dist_nccl.c is not compiled, pick_backend never selects NCCL */
static int no_nccl(char *err, size_t n)
{
	snprintf(err, n, "dist: this build has no NCCL (CUDA=1 builds do)");
	return -1;
}
int dist_nccl_init(struct dist *d, struct dist_store *s, char *err, size_t n)
{
	(void)d, (void)s;
	return no_nccl(err, n);
}
void dist_nccl_free(struct dist *d)
{
	(void)d;
}
int dist_nccl_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			size_t n)
{
	(void)d, (void)buf, (void)count, (void)t;
	return no_nccl(err, n);
}
int dist_nccl_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n)
{
	(void)d, (void)buf, (void)bytes, (void)root;
	return no_nccl(err, n);
}
int dist_nccl_reduce_scatter_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	(void)d, (void)buf, (void)count;
	return no_nccl(err, n);
}
int dist_nccl_allgather_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	(void)d, (void)buf, (void)count;
	return no_nccl(err, n);
}
int dist_nccl_barrier(struct dist *d, char *err, size_t n)
{
	(void)d;
	return no_nccl(err, n);
}
#endif
