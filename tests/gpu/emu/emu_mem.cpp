/*
 * emu_mem.cpp - the allocation registry, streams and events of the CUDA emulation (emu_mem.h):
 * which ranges are device memory, which stream last wrote each allocation, and which work is
 * ordered after which. Work itself runs at once, on the calling thread (emu.cpp); only the
 * order a GPU would guarantee is tracked. One thread per process, as the harnesses are.
 */
#include "emu_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <map>

namespace {

typedef std::map<uint64_t, uint64_t> vclock; /* stream id -> operations ordered before */

struct stream_state {
	uint64_t id, ops;
	vclock seen; /* includes this stream's own count */
};

struct alloc {
	size_t bytes;
	uint64_t writer, seq; /* the last write: seq-th operation of stream `writer`; seq 0: none */
};

std::map<uintptr_t, alloc> allocs; /* by start address */
stream_state default_stream;       /* NULL: id 0 */
std::map<uint64_t, stream_state *> streams; /* the live ones, the default stream included */
uint64_t next_id = 1;
vclock host; /* operations the host saw finish */

void merge(vclock &into, const vclock &from)
{
	for (const auto &kv : from)
		if (into[kv.first] < kv.second)
			into[kv.first] = kv.second;
}

stream_state *state(cudaStream_t s)
{
	return s ? (stream_state *)s : &default_stream;
}

/* a new operation on s: ordered after what the host saw, and after s's earlier ones */
uint64_t queue(stream_state *st)
{
	merge(st->seen, host);
	st->seen[st->id] = ++st->ops;
	return st->ops;
}

alloc *find(const void *p, uintptr_t *start)
{
	uintptr_t a = (uintptr_t)p;
	auto it = allocs.upper_bound(a);
	if (it == allocs.begin())
		return nullptr;
	--it;
	if (a >= it->first + (it->second.bytes ? it->second.bytes : 1))
		return nullptr;
	*start = it->first;
	return &it->second;
}

void name_stream(uint64_t id, char *buf, size_t n)
{
	if (id)
		snprintf(buf, n, "stream #%llu", (unsigned long long)id);
	else
		snprintf(buf, n, "the default stream");
}

} // namespace

struct emu_event {
	vclock clock;
	double t; /* the host clock at the record: launches run when they are made */
};

extern "C" {

void emu_mem_add(void *p, size_t bytes)
{
	allocs[(uintptr_t)p] = alloc{ bytes, 0, 0 };
}

void emu_mem_remove(void *p)
{
	allocs.erase((uintptr_t)p);
}

void emu_mem_wrote(const void *p, size_t bytes, cudaStream_t s)
{
	uintptr_t start;
	alloc *a = bytes ? find(p, &start) : nullptr;
	if (!a)
		return;
	stream_state *st = state(s);
	a->seq = queue(st);
	a->writer = st->id;
}

int emu_mem_check(const void *p, size_t bytes, cudaStream_t s, char *why, size_t n)
{
	uintptr_t start;
	alloc *a = find(p, &start);
	if (!a) {
		snprintf(why, n, "%p is not device memory (no cudaMalloc holds it)", p);
		return EMU_MEM_NOT_DEVICE;
	}
	size_t off = (uintptr_t)p - start;
	if (bytes > a->bytes - off) {
		snprintf(why, n, "%zu bytes at offset %zu of a %zu-byte allocation run past its end",
			 bytes, off, a->bytes);
		return EMU_MEM_NOT_DEVICE;
	}
	stream_state *st = state(s);
	vclock seen = st->seen;
	merge(seen, host);
	if (!a->seq || a->writer == st->id || seen[a->writer] >= a->seq)
		return EMU_MEM_OK;
	char w[48], r[48];
	name_stream(a->writer, w, sizeof(w));
	name_stream(st->id, r, sizeof(r));
	snprintf(why, n, "%p was last written by operation %llu of %s, which %s has not waited for "
		 "(cudaStreamWaitEvent on an event recorded after the write)", p,
		 (unsigned long long)a->seq, w, r);
	return EMU_MEM_RACE;
}

void emu_stream_synced(cudaStream_t s)
{
	merge(host, state(s)->seen);
}

void emu_device_synced(void)
{
	merge(host, default_stream.seen);
	for (const auto &kv : streams)
		merge(host, kv.second->seen);
}

cudaError_t cudaGetDeviceCount(int *n)
{
	*n = 1;
	return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int)
{
	stream_state *st = new stream_state();
	st->id = next_id++;
	streams[st->id] = st;
	*s = st;
	return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
	if (s) {
		streams.erase(((stream_state *)s)->id);
		delete (stream_state *)s;
	}
	return cudaSuccess;
}

/* work runs when it is queued: a stream is always idle */
cudaError_t cudaStreamQuery(cudaStream_t s)
{
	emu_stream_synced(s);
	return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int)
{
	if (!e)
		return cudaErrorInvalidValue;
	stream_state *st = state(s);
	queue(st);
	merge(st->seen, e->clock);
	return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned int)
{
	*e = new emu_event();
	return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t *e)
{
	return cudaEventCreateWithFlags(e, 0);
}

cudaError_t cudaEventDestroy(cudaEvent_t e)
{
	delete e;
	return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
	if (!e)
		return cudaErrorInvalidValue;
	stream_state *st = state(s);
	queue(st);
	e->clock = st->seen;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	e->t = ts.tv_sec + ts.tv_nsec * 1e-9;
	return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e)
{
	if (!e)
		return cudaErrorInvalidValue;
	merge(host, e->clock);
	return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
	if (!a || !b)
		return cudaErrorInvalidValue;
	*ms = (float)((b->t - a->t) * 1e3);
	return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p)
{
	uintptr_t start;
	int dev = find(p, &start) != nullptr;
	a->type = dev ? cudaMemoryTypeDevice : cudaMemoryTypeUnregistered;
	a->device = dev ? 0 : -1;
	a->devicePointer = dev ? (void *)p : nullptr;
	a->hostPointer = dev ? nullptr : (void *)p;
	return cudaSuccess;
}
}
