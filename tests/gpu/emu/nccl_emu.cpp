/*
 * nccl_emu.cpp - the NCCL of nccl.h (emulation) on the CPU: the ranks of a communicator are
 * processes that map one POSIX shared-memory object, named by the ncclUniqueId (rank 0 makes
 * it; the last rank to join removes the name, so nothing is left in /dev/shm). Each rank has a
 * slot there; the k-th collective of a rank copies its send buffer into its slot, publishes k,
 * waits until every rank published k, computes its result from the slots (sums in rank order,
 * so every rank gets the same bits) and publishes that it has read them; a slot is refilled
 * only once every rank has read it. Every wait gives up after WAIT_S seconds, and a rank that
 * gives up or aborts marks the communicator failed, so the others stop waiting at once.
 *
 * Before anything moves, each buffer goes through emu_mem_check() on the collective's stream:
 * host memory, a range past its allocation, or memory last written on a stream this one has
 * not waited for is refused with one line for ncclGetLastError. Results are recorded as
 * written on the collective's stream.
 */
#include "nccl.h"

#include "emu_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr int MAX_RANKS = 8;
constexpr size_t HEADER = 4096;
constexpr size_t SLOT = 1 << 20; /* bytes one rank contributes to one collective */
constexpr double WAIT_S = 10;
constexpr char PREFIX[] = "/attnrl-nccl-emu-";

enum kind { ALLREDUCE, BROADCAST, REDUCE, REDUCE_SCATTER, ALLGATHER };
const char *const KIND_NAME[] = { "ncclAllReduce", "ncclBroadcast", "ncclReduce",
				  "ncclReduceScatter", "ncclAllGather" };

/* rank r's side of the shared header */
struct post {
	uint64_t posted; /* its posted-th collective's contribution is in its slot */
	uint64_t taken;  /* it has read every slot of its taken-th collective */
	int kind, root, dtype;
	size_t count;
};

struct shared {
	int world, joined, failed; /* failed: 1 + the rank that gave up or aborted */
	post rank[MAX_RANKS];
};
static_assert(sizeof(shared) <= HEADER, "the shared header outgrew its page");

/* one collective as a rank sees it: what it posts and where its result goes */
struct coll {
	kind k;
	const void *send;
	size_t send_count; /* elements posted to the slot */
	void *recv;
	size_t recv_count; /* elements of the result this rank receives (0: none) */
	size_t count;      /* the count argument, the same on every rank */
	ncclDataType_t ty;
	ncclRedOp_t op;
	int root;
};

thread_local char last_error[512];
uint64_t ids;

ncclResult_t fail(ncclResult_t r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return r;
}

double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void nap(void)
{
	struct timespec t = { 0, 20000 };
	nanosleep(&t, nullptr);
}

template <class T> T load(const T *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

template <class T> void store(T *p, T v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

size_t type_size(ncclDataType_t t)
{
	switch (t) {
	case ncclInt8: case ncclUint8: return 1;
	case ncclFloat16: case ncclBfloat16: return 2;
	case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
	case ncclInt64: case ncclUint64: case ncclFloat64: return 8;
	}
	return 0;
}

template <class T> void add_n(void *dst, const void *src, size_t n)
{
	T *d = (T *)dst;
	const T *s = (const T *)src;
	for (size_t i = 0; i < n; i++)
		d[i] += s[i];
}

void add(void *dst, const void *src, size_t n, ncclDataType_t t)
{
	if (t == ncclFloat32)
		add_n<float>(dst, src, n);
	else if (t == ncclFloat64)
		add_n<double>(dst, src, n);
	else if (t == ncclInt32)
		add_n<int32_t>(dst, src, n);
	else
		add_n<int64_t>(dst, src, n);
}

int summable(ncclDataType_t t)
{
	return t == ncclFloat32 || t == ncclFloat64 || t == ncclInt32 || t == ncclInt64;
}

} // namespace

struct emu_nccl_comm {
	shared *sh;
	char *slots;
	size_t map_bytes;
	int rank, world;
	uint64_t ops;
	ncclResult_t async;
	double deadline; /* of the init */
	char name[NCCL_UNIQUE_ID_BYTES];
};

namespace {

char *slot(emu_nccl_comm *c, int r)
{
	return c->slots + (size_t)r * SLOT;
}

/* init's progress: every rank joined, or a failure, or still waiting */
ncclResult_t poll_init(emu_nccl_comm *c)
{
	if (c->async != ncclInProgress)
		return c->async;
	int failed = load(&c->sh->failed);
	if (load(&c->sh->joined) >= c->world)
		c->async = ncclSuccess;
	else if (failed)
		c->async = fail(ncclRemoteError, "init: rank %d gave up", failed - 1);
	else if (now() > c->deadline) {
		store(&c->sh->failed, c->rank + 1);
		shm_unlink(c->name);
		c->async = fail(ncclRemoteError, "init: only %d of %d ranks joined within %g s",
				load(&c->sh->joined), c->world, WAIT_S);
	}
	return c->async;
}

/* every rank's posted (or taken) count reaches k */
ncclResult_t wait_all(emu_nccl_comm *c, int posted, uint64_t k, const char *what)
{
	double end = now() + WAIT_S;
	for (;;) {
		int failed = load(&c->sh->failed), r = 0;
		if (failed)
			return fail(ncclRemoteError, "%s: rank %d gave up or aborted the communicator",
				    what, failed - 1);
		while (r < c->world &&
		       load(posted ? &c->sh->rank[r].posted : &c->sh->rank[r].taken) >= k)
			r++;
		if (r == c->world)
			return ncclSuccess;
		if (now() > end) {
			store(&c->sh->failed, c->rank + 1);
			return fail(ncclRemoteError, "%s: rank %d did not arrive within %g s", what, r,
				    WAIT_S);
		}
		nap();
	}
}

ncclResult_t check_args(emu_nccl_comm *c, const coll *o)
{
	const char *name = KIND_NAME[o->k];
	if (!c || c->async != ncclSuccess)
		return fail(ncclInvalidUsage, "%s: the communicator is %s", name,
			    c ? "not initialised, or failed" : "NULL");
	if (!type_size(o->ty))
		return fail(ncclInvalidArgument, "%s: unknown datatype %d", name, (int)o->ty);
	if ((o->k == ALLREDUCE || o->k == REDUCE || o->k == REDUCE_SCATTER) &&
	    (o->op != ncclSum || !summable(o->ty)))
		return fail(ncclInvalidArgument, "%s: the emulation reduces only with ncclSum over "
			    "int32, int64, float32 and float64", name);
	if (o->root < 0 || o->root >= c->world)
		return fail(ncclInvalidArgument, "%s: root %d in a world of %d", name, o->root,
			    c->world);
	if (o->send_count * type_size(o->ty) > SLOT)
		return fail(ncclInvalidArgument, "%s: %zu elements exceed the emulation's %zu-byte "
			    "slot", name, o->send_count, SLOT);
	return ncclSuccess;
}

ncclResult_t check_buf(const coll *o, const void *p, size_t count, cudaStream_t s,
		       const char *which)
{
	char why[400];
	int rc = count ? emu_mem_check(p, count * type_size(o->ty), s, why, sizeof(why)) : 0;
	if (rc == EMU_MEM_OK)
		return ncclSuccess;
	return fail(rc == EMU_MEM_RACE ? ncclInvalidUsage : ncclInvalidArgument, "%s: %s: %s",
		    KIND_NAME[o->k], which, why);
}

/* every rank called the same collective with the same count, root and datatype */
ncclResult_t check_match(emu_nccl_comm *c)
{
	const post *me = &c->sh->rank[c->rank];
	for (int r = 0; r < c->world; r++) {
		const post *p = &c->sh->rank[r];
		if (p->kind == me->kind && p->count == me->count && p->root == me->root &&
		    p->dtype == me->dtype)
			continue;
		store(&c->sh->failed, c->rank + 1);
		return fail(ncclInvalidUsage, "collective %llu: rank %d called %s (count %zu, root %d, "
			    "datatype %d), rank %d %s (count %zu, root %d, datatype %d)",
			    (unsigned long long)c->ops, r, KIND_NAME[p->kind], p->count, p->root,
			    p->dtype, c->rank, KIND_NAME[me->kind], me->count, me->root, me->dtype);
	}
	return ncclSuccess;
}

/* the sum over ranks of `n` elements at element offset `off` of every slot */
void reduce_slots(emu_nccl_comm *c, const coll *o, size_t off, size_t n, void *dst)
{
	size_t es = type_size(o->ty);
	memcpy(dst, slot(c, 0) + off * es, n * es);
	for (int r = 1; r < c->world; r++)
		add(dst, slot(c, r) + off * es, n, o->ty);
}

void compute(emu_nccl_comm *c, const coll *o)
{
	size_t es = type_size(o->ty);
	switch (o->k) {
	case ALLREDUCE:
	case REDUCE:
		if (o->recv_count)
			reduce_slots(c, o, 0, o->count, o->recv);
		break;
	case REDUCE_SCATTER:
		reduce_slots(c, o, (size_t)c->rank * o->count, o->count, o->recv);
		break;
	case BROADCAST:
		memmove(o->recv, slot(c, o->root), o->count * es);
		break;
	case ALLGATHER:
		for (int r = 0; r < c->world; r++)
			memcpy((char *)o->recv + (size_t)r * o->count * es, slot(c, r), o->count * es);
		break;
	}
}

/* posts this rank's part, waits for every rank's, computes the result */
ncclResult_t exchange(emu_nccl_comm *c, const coll *o)
{
	const char *name = KIND_NAME[o->k];
	uint64_t k = ++c->ops;
	ncclResult_t r = wait_all(c, 0, k - 1, name);
	if (r != ncclSuccess)
		return r;
	post *me = &c->sh->rank[c->rank];
	if (o->send_count)
		memcpy(slot(c, c->rank), o->send, o->send_count * type_size(o->ty));
	me->kind = o->k;
	me->root = o->root;
	me->dtype = (int)o->ty;
	me->count = o->count;
	store(&me->posted, k);
	if ((r = wait_all(c, 1, k, name)) == ncclSuccess && (r = check_match(c)) == ncclSuccess)
		compute(c, o);
	store(&me->taken, k);
	return r;
}

ncclResult_t run(emu_nccl_comm *c, const coll *o, cudaStream_t s)
{
	ncclResult_t r = check_args(c, o);
	if (r == ncclSuccess)
		r = check_buf(o, o->send, o->send_count, s, "sendbuff");
	if (r == ncclSuccess)
		r = check_buf(o, o->recv, o->recv_count, s, "recvbuff");
	if (r == ncclSuccess)
		r = exchange(c, o);
	if (r == ncclSuccess && o->recv_count)
		emu_mem_wrote(o->recv, o->recv_count * type_size(o->ty), s);
	return r;
}

} // namespace

extern "C" {

ncclResult_t ncclGetUniqueId(ncclUniqueId *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->internal, sizeof(id->internal), "%s%ld-%ld-%llu", PREFIX, (long)getpid(),
		 (long)time(nullptr), (unsigned long long)ids++);
	return ncclSuccess;
}

static ncclResult_t map_shared(emu_nccl_comm *c)
{
	int fd = shm_open(c->name, O_CREAT | O_RDWR, 0600);
	c->map_bytes = HEADER + MAX_RANKS * SLOT;
	if (fd < 0)
		return fail(ncclSystemError, "init: shm_open %s: %s", c->name, strerror(errno));
	void *p = ftruncate(fd, (off_t)c->map_bytes) ? MAP_FAILED :
		  mmap(nullptr, c->map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (p == MAP_FAILED)
		return fail(ncclSystemError, "init: mapping %s: %s", c->name, strerror(e));
	c->sh = (shared *)p;
	c->slots = (char *)p + HEADER;
	return ncclSuccess;
}

static void unmap(emu_nccl_comm *c)
{
	if (c->sh)
		munmap(c->sh, c->map_bytes);
	delete c;
}

ncclResult_t ncclCommInitRankConfig(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank,
				    ncclConfig_t *config)
{
	*comm = nullptr;
	if (nranks < 1 || nranks > MAX_RANKS || rank < 0 || rank >= nranks)
		return fail(ncclInvalidArgument, "init: rank %d of %d (the emulation has at most %d)",
			    rank, nranks, MAX_RANKS);
	if (strncmp(id.internal, PREFIX, sizeof(PREFIX) - 1) || !memchr(id.internal, 0, sizeof(id)))
		return fail(ncclInvalidArgument, "init: the unique id is not from ncclGetUniqueId");
	emu_nccl_comm *c = new emu_nccl_comm();
	memcpy(c->name, id.internal, sizeof(c->name));
	c->rank = rank;
	c->world = nranks;
	ncclResult_t r = map_shared(c);
	int world = 0;
	if (r == ncclSuccess &&
	    !__atomic_compare_exchange_n(&c->sh->world, &world, nranks, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE) && world != nranks)
		r = fail(ncclInvalidUsage, "init: rank %d says %d ranks, an earlier one %d", rank,
			 nranks, world);
	if (r != ncclSuccess) {
		unmap(c);
		return r;
	}
	if (__atomic_add_fetch(&c->sh->joined, 1, __ATOMIC_ACQ_REL) == nranks)
		shm_unlink(c->name);
	c->async = ncclInProgress;
	c->deadline = now() + WAIT_S;
	*comm = c;
	if (config && config->blocking == 0)
		return ncclInProgress;
	while (poll_init(c) == ncclInProgress)
		nap();
	return c->async;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError)
{
	if (!comm)
		return fail(ncclInvalidArgument, "ncclCommGetAsyncError: NULL communicator");
	*asyncError = poll_init(comm);
	return ncclSuccess;
}

const char *ncclGetLastError(ncclComm_t)
{
	return last_error;
}

const char *ncclGetErrorString(ncclResult_t r)
{
	static const char *const s[] = { "no error", "unhandled cuda error", "unhandled system error",
					 "internal error", "invalid argument", "invalid usage",
					 "remote process exited or there was a network error",
					 "NCCL operation in progress" };
	return r >= 0 && r < ncclNumResults ? s[r] : "unknown result code";
}

ncclResult_t ncclCommAbort(ncclComm_t comm)
{
	if (!comm)
		return ncclSuccess;
	store(&comm->sh->failed, comm->rank + 1);
	shm_unlink(comm->name);
	unmap(comm);
	return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm)
{
	if (comm)
		unmap(comm);
	return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count,
			   ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
			   cudaStream_t stream)
{
	coll o = { ALLREDUCE, sendbuff, count, recvbuff, count, count, datatype, op, 0 };
	return run(comm, &o, stream);
}

ncclResult_t ncclBroadcast(const void *sendbuff, void *recvbuff, size_t count,
			   ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)
{
	int mine = comm && comm->rank == root;
	coll o = { BROADCAST, sendbuff, mine ? count : 0, recvbuff, count, count, datatype, ncclSum,
		   root };
	return run(comm, &o, stream);
}

ncclResult_t ncclReduce(const void *sendbuff, void *recvbuff, size_t count,
			ncclDataType_t datatype, ncclRedOp_t op, int root, ncclComm_t comm,
			cudaStream_t stream)
{
	int mine = comm && comm->rank == root;
	coll o = { REDUCE, sendbuff, count, recvbuff, mine ? count : 0, count, datatype, op, root };
	return run(comm, &o, stream);
}

ncclResult_t ncclReduceScatter(const void *sendbuff, void *recvbuff, size_t recvcount,
			       ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
			       cudaStream_t stream)
{
	size_t world = comm ? (size_t)comm->world : 0;
	coll o = { REDUCE_SCATTER, sendbuff, recvcount * world, recvbuff, recvcount, recvcount,
		   datatype, op, 0 };
	return run(comm, &o, stream);
}

ncclResult_t ncclAllGather(const void *sendbuff, void *recvbuff, size_t sendcount,
			   ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)
{
	size_t world = comm ? (size_t)comm->world : 0;
	coll o = { ALLGATHER, sendbuff, sendcount, recvbuff, sendcount * world, sendcount, datatype,
		   ncclSum, 0 };
	return run(comm, &o, stream);
}

/* collectives run when called, so a group only has to be well formed */
static int group_depth;

ncclResult_t ncclGroupStart(void)
{
	group_depth++;
	return ncclSuccess;
}

ncclResult_t ncclGroupEnd(void)
{
	if (group_depth <= 0)
		return fail(ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
	group_depth--;
	return ncclSuccess;
}
}
