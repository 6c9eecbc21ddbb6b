/*
 * dist_nccl.c - the GPU backend of dist: NCCL collectives on device buffers, one process per
 * GPU (device local_rank modulo the visible devices). Built only with CUDA=1 (-DATTNRL_NCCL);
 * CPU builds get stubs in dist.c. `make nccl-check` compiles and links it without a GPU.
 *
 * Bootstrap: rank 0's ncclUniqueId goes through the rendezvous store. The communicator is
 * non-blocking (ncclConfig_t.blocking = 0) so that every wait - init and each collective -
 * polls with a deadline: past dist.timeout the communicator is aborted and the call returns
 * one line instead of hanging on a rank that died. Unequal slices (count % world != 0) use
 * grouped ncclReduce / ncclBroadcast per slice; equal ones ncclReduceScatter / ncclAllGather
 * in place.
 *
 * Not yet run on a GPU: written against NCCL 2.28's nccl.h; see the report of issue 6.
 */
#include "dist_internal.h"

#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nccl {
	ncclComm_t comm;
	cudaStream_t stream;
	float *one; /* device scratch for the barrier */
};

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static int cuda_fail(cudaError_t e, const char *what, char *err, size_t n)
{
	snprintf(err, n, "dist: %s: %s", what, cudaGetErrorString(e));
	return -1;
}

/* waits for the communicator's pending work (init, or everything queued on the stream) */
static int nccl_wait(struct dist *d, const char *what, ncclResult_t r, int stream, char *err,
		     size_t n)
{
	struct nccl *c = d->impl;
	double deadline = dist_now() + d->timeout;
	for (;;) {
		if (r == ncclInProgress || r == ncclSuccess)
			ncclCommGetAsyncError(c->comm, &r);
		if (r != ncclInProgress && r != ncclSuccess)
			break;
		if (r == ncclSuccess) {
			cudaError_t q = stream ? cudaStreamQuery(c->stream) : cudaSuccess;
			if (q == cudaSuccess)
				return 0;
			if (q != cudaErrorNotReady)
				return cuda_fail(q, what, err, n);
		}
		if (dist_now() > deadline) {
			ncclCommAbort(c->comm);
			c->comm = NULL;
			snprintf(err, n, "dist: nccl %s timed out after %g s (a rank exited or stalled; "
				 "the communicator is aborted)", what, d->timeout);
			return -1;
		}
		nap_ms(1);
	}
	const char *last = ncclGetLastError(c->comm);
	snprintf(err, n, "dist: nccl %s failed: %s%s%s", what, ncclGetErrorString(r),
		 last && *last ? ": " : "", last ? last : "");
	return -1;
}

static int get_id(struct dist *d, struct dist_store *s, ncclUniqueId *id, char *err, size_t n)
{
	size_t len = 0;
	if (d->rank == 0) {
		ncclResult_t r = ncclGetUniqueId(id);
		if (r != ncclSuccess) {
			snprintf(err, n, "dist: ncclGetUniqueId failed: %s", ncclGetErrorString(r));
			return -1;
		}
		return dist_store_set(s, "nccl-id", id, sizeof(*id), err, n);
	}
	if (dist_store_wait(s, "nccl-id", d->timeout, err, n) ||
	    dist_store_get(s, "nccl-id", id, sizeof(*id), &len, err, n) != 1)
		return -1;
	if (len != sizeof(*id)) {
		snprintf(err, n, "dist: the NCCL id from rank 0 has %zu bytes, not %zu (a different "
			 "NCCL version?)", len, sizeof(*id));
		return -1;
	}
	return 0;
}

int dist_nccl_init(struct dist *d, struct dist_store *s, char *err, size_t n)
{
	struct nccl *c = calloc(1, sizeof(*c));
	ncclUniqueId id;
	int ndev = 0;
	cudaError_t e;
	if (!c) {
		snprintf(err, n, "dist: out of memory");
		return -1;
	}
	d->impl = c;
	if ((e = cudaGetDeviceCount(&ndev)) != cudaSuccess || ndev == 0) {
		snprintf(err, n, "dist: dist.backend=nccl but rank %d sees no GPU (%s)", d->rank,
			 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
		return -1;
	}
	if ((e = cudaSetDevice(d->env.local_rank % ndev)) != cudaSuccess ||
	    (e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess ||
	    (e = cudaMalloc((void **)&c->one, sizeof(float))) != cudaSuccess)
		return cuda_fail(e, "cuda set-up", err, n);
	if (get_id(d, s, &id, err, n))
		return -1;
	ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
	cfg.blocking = 0;
	ncclResult_t r = ncclCommInitRankConfig(&c->comm, d->world, id, d->rank, &cfg);
	if (r != ncclSuccess && r != ncclInProgress) {
		snprintf(err, n, "dist: ncclCommInitRankConfig failed: %s", ncclGetErrorString(r));
		c->comm = NULL;
		return -1;
	}
	return nccl_wait(d, "init", r, 0, err, n);
}

void dist_nccl_free(struct dist *d)
{
	struct nccl *c = d->impl;
	if (!c)
		return;
	if (c->comm)
		ncclCommDestroy(c->comm);
	if (c->one)
		cudaFree(c->one);
	if (c->stream)
		cudaStreamDestroy(c->stream);
	free(c);
	d->impl = NULL;
}

static int usable(struct dist *d, char *err, size_t n)
{
	struct nccl *c = d->impl;
	if (c && c->comm)
		return 0;
	snprintf(err, n, "dist: the NCCL communicator was aborted by an earlier failure");
	return -1;
}

int dist_nccl_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			size_t n)
{
	struct nccl *c = d->impl;
	ncclDataType_t ty = t == DIST_F32 ? ncclFloat32 : t == DIST_F64 ? ncclFloat64 : ncclInt64;
	if (usable(d, err, n))
		return -1;
	ncclResult_t r = ncclAllReduce(buf, buf, count, ty, ncclSum, c->comm, c->stream);
	return nccl_wait(d, "allreduce", r, 1, err, n);
}

int dist_nccl_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n)
{
	struct nccl *c = d->impl;
	if (usable(d, err, n))
		return -1;
	ncclResult_t r = ncclBroadcast(buf, buf, bytes, ncclUint8, root, c->comm, c->stream);
	return nccl_wait(d, "broadcast", r, 1, err, n);
}

/* a grouped call per slice: ncclReduce (to = 1) or ncclBroadcast (to = 0) from its owner */
static ncclResult_t per_slice(struct dist *d, float *buf, size_t count, int reduce)
{
	struct nccl *c = d->impl;
	ncclResult_t r = ncclGroupStart(), g;
	for (int k = 0; k < d->world && (r == ncclSuccess || r == ncclInProgress); k++) {
		size_t off, len;
		dist_slice(count, d->world, k, &off, &len);
		r = reduce ? ncclReduce(buf + off, buf + off, len, ncclFloat32, ncclSum, k, c->comm,
					c->stream) :
			     ncclBroadcast(buf + off, buf + off, len, ncclFloat32, k, c->comm,
					   c->stream);
	}
	g = ncclGroupEnd();
	return r == ncclSuccess || r == ncclInProgress ? g : r;
}

int dist_nccl_reduce_scatter_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	struct nccl *c = d->impl;
	size_t off, len;
	ncclResult_t r;
	if (usable(d, err, n))
		return -1;
	dist_slice(count, d->world, d->rank, &off, &len);
	if (count % (size_t)d->world == 0)
		r = ncclReduceScatter(buf, buf + off, len, ncclFloat32, ncclSum, c->comm, c->stream);
	else
		r = per_slice(d, buf, count, 1);
	return nccl_wait(d, "reduce_scatter", r, 1, err, n);
}

int dist_nccl_allgather_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	struct nccl *c = d->impl;
	size_t off, len;
	ncclResult_t r;
	if (usable(d, err, n))
		return -1;
	dist_slice(count, d->world, d->rank, &off, &len);
	if (count % (size_t)d->world == 0)
		r = ncclAllGather(buf + off, buf, len, ncclFloat32, c->comm, c->stream);
	else
		r = per_slice(d, buf, count, 0);
	return nccl_wait(d, "allgather", r, 1, err, n);
}

int dist_nccl_barrier(struct dist *d, char *err, size_t n)
{
	struct nccl *c = d->impl;
	if (usable(d, err, n))
		return -1;
	ncclResult_t r = ncclAllReduce(c->one, c->one, 1, ncclFloat32, ncclSum, c->comm, c->stream);
	return nccl_wait(d, "barrier", r, 1, err, n);
}
