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
 * Streams: collectives run on NCCL's own non-blocking stream, while the buffers are written
 * and read on the producer stream (dist_opts.stream: torch's current stream). Each collective
 * first makes NCCL's stream wait for an event recorded on the producer stream (the writes
 * queued there, a gradient copy say, are done before NCCL reads), and afterwards makes the
 * producer stream wait for an event recorded on NCCL's (what torch queues next reads the
 * result). Host memory (cudaPointerGetAttributes: neither device nor managed) never reaches
 * NCCL: it is copied into a device buffer on NCCL's stream, reduced there and copied back.
 *
 * tests/gpu/check_dist.c runs this file against an emulated NCCL that refuses host memory and
 * unordered streams; on a GPU it has not run yet. Written against NCCL 2.28's nccl.h.
 */
#include "dist_internal.h"

#include <cuda_runtime_api.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attnrl/fsutil.h"

struct nccl {
	ncclComm_t comm;
	cudaStream_t stream;   /* NCCL's */
	cudaStream_t producer; /* the buffers' (dist_opts.stream) */
	cudaEvent_t produced, reduced; /* on the producer stream, on NCCL's */
	void *stage;           /* device copy of host buffers, stage_bytes */
	size_t stage_bytes;
	float *one;            /* device scratch for the barrier */
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
	double deadline = fs_now() + d->timeout;
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
		if (fs_now() > deadline) {
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
	c->producer = d->stream;
	if ((e = cudaGetDeviceCount(&ndev)) != cudaSuccess || ndev == 0) {
		snprintf(err, n, "dist: dist.backend=nccl but rank %d sees no GPU (%s)", d->rank,
			 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
		return -1;
	}
	if ((e = cudaSetDevice(d->env.local_rank % ndev)) != cudaSuccess ||
	    (e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess ||
	    (e = cudaEventCreateWithFlags(&c->produced, cudaEventDisableTiming)) != cudaSuccess ||
	    (e = cudaEventCreateWithFlags(&c->reduced, cudaEventDisableTiming)) != cudaSuccess ||
	    (e = cudaMalloc((void **)&c->one, sizeof(float))) != cudaSuccess)
		return cuda_fail(e, "cuda set-up", err, n);
	/* NCCL's own start-up sockets stay on loopback too when every rank is on this host */
	if (dist_loopback_addr(&d->env))
		setenv("NCCL_SOCKET_IFNAME", "lo", 0);
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
	if (c->stage)
		cudaFree(c->stage);
	if (c->produced)
		cudaEventDestroy(c->produced);
	if (c->reduced)
		cudaEventDestroy(c->reduced);
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

enum coll_kind { ALLREDUCE, BROADCAST, REDUCE_SCATTER, ALLGATHER };

/* one collective, in place over count elements of type */
struct coll {
	enum coll_kind kind;
	const char *what;
	size_t count;
	ncclDataType_t type;
	int root;
};

static size_t type_bytes(ncclDataType_t t)
{
	return t == ncclFloat64 || t == ncclInt64 ? 8 : t == ncclFloat32 ? 4 : 1;
}

/* queues the collective on NCCL's stream over buf, device memory */
static ncclResult_t issue(struct dist *d, void *buf, const struct coll *o)
{
	struct nccl *c = d->impl;
	float *f = buf;
	size_t off, len;
	int equal = o->count % (size_t)d->world == 0;
	dist_slice(o->count, d->world, d->rank, &off, &len);
	switch (o->kind) {
	case ALLREDUCE:
		return ncclAllReduce(buf, buf, o->count, o->type, ncclSum, c->comm, c->stream);
	case BROADCAST:
		return ncclBroadcast(buf, buf, o->count, o->type, o->root, c->comm, c->stream);
	case REDUCE_SCATTER:
		return equal ? ncclReduceScatter(f, f + off, len, ncclFloat32, ncclSum, c->comm,
						 c->stream) : per_slice(d, f, o->count, 1);
	case ALLGATHER:
		return equal ? ncclAllGather(f + off, f, len, ncclFloat32, c->comm, c->stream) :
			       per_slice(d, f, o->count, 0);
	}
	return ncclInvalidArgument;
}

/* 1 when NCCL can use p in place: device or managed memory */
static int on_device(const void *p)
{
	struct cudaPointerAttributes a;
	if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
		cudaGetLastError(); /* runtimes before CUDA 11 fail on unregistered host memory */
		return 0;
	}
	return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

/* NCCL's stream after the producer's queued writes (device buf), or after a copy of buf into
 * the staging buffer (host buf); *dev: what NCCL reads */
static int enter(struct dist *d, void *buf, size_t bytes, int host, void **dev, char *err,
		 size_t n)
{
	struct nccl *c = d->impl;
	cudaError_t e = cudaSuccess;
	*dev = buf;
	if (!host) {
		if ((e = cudaEventRecord(c->produced, c->producer)) == cudaSuccess)
			e = cudaStreamWaitEvent(c->stream, c->produced, 0);
		return e == cudaSuccess ? 0 : cuda_fail(e, "waiting for the producer stream", err,
							n);
	}
	if (bytes > c->stage_bytes) {
		if (c->stage)
			cudaFree(c->stage);
		c->stage_bytes = 0;
		if ((e = cudaMalloc(&c->stage, bytes)) != cudaSuccess) {
			c->stage = NULL;
			return cuda_fail(e, "a device buffer for host memory", err, n);
		}
		c->stage_bytes = bytes;
	}
	*dev = c->stage;
	e = cudaMemcpyAsync(c->stage, buf, bytes, cudaMemcpyHostToDevice, c->stream);
	return e == cudaSuccess ? 0 : cuda_fail(e, "copying host memory to the device", err, n);
}

/* the producer stream after the collective (device buf), or the result copied back (host) */
static int leave(struct dist *d, void *buf, size_t bytes, int host, char *err, size_t n)
{
	struct nccl *c = d->impl;
	cudaError_t e;
	if (host) {
		e = cudaMemcpyAsync(buf, c->stage, bytes, cudaMemcpyDeviceToHost, c->stream);
		if (e == cudaSuccess)
			e = cudaStreamSynchronize(c->stream);
		return e == cudaSuccess ? 0 : cuda_fail(e, "copying the result back", err, n);
	}
	if ((e = cudaEventRecord(c->reduced, c->stream)) == cudaSuccess)
		e = cudaStreamWaitEvent(c->producer, c->reduced, 0);
	return e == cudaSuccess ? 0 : cuda_fail(e, "ordering the producer stream after", err, n);
}

static int collective(struct dist *d, void *buf, const struct coll *o, char *err, size_t n)
{
	size_t bytes = o->count * type_bytes(o->type);
	int host = !on_device(buf);
	void *dev;
	if (usable(d, err, n) || enter(d, buf, bytes, host, &dev, err, n) ||
	    nccl_wait(d, o->what, issue(d, dev, o), 1, err, n))
		return -1;
	return leave(d, buf, bytes, host, err, n);
}

int dist_nccl_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			size_t n)
{
	ncclDataType_t ty = t == DIST_F32 ? ncclFloat32 : t == DIST_F64 ? ncclFloat64 : ncclInt64;
	struct coll o = { ALLREDUCE, "allreduce", count, ty, 0 };
	return collective(d, buf, &o, err, n);
}

int dist_nccl_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n)
{
	struct coll o = { BROADCAST, "broadcast", bytes, ncclUint8, root };
	return collective(d, buf, &o, err, n);
}

int dist_nccl_reduce_scatter_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	struct coll o = { REDUCE_SCATTER, "reduce_scatter", count, ncclFloat32, 0 };
	return collective(d, buf, &o, err, n);
}

int dist_nccl_allgather_f32(struct dist *d, float *buf, size_t count, char *err, size_t n)
{
	struct coll o = { ALLGATHER, "allgather", count, ncclFloat32, 0 };
	return collective(d, buf, &o, err, n);
}

int dist_nccl_barrier(struct dist *d, char *err, size_t n)
{
	struct nccl *c = d->impl;
	struct coll o = { ALLREDUCE, "barrier", 1, ncclFloat32, 0 };
	return usable(d, err, n) ? -1 : collective(d, c->one, &o, err, n);
}
