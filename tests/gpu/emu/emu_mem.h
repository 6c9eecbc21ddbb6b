/*
 * emu_mem.h (emulation) - what the CPU emulation knows about device memory and the order of
 * streams (emu_mem.cpp), for mistakes a GPU punishes only now and then: a host pointer handed
 * to a library that needs device memory, and a read of memory that another stream may still be
 * writing.
 *
 * Memory: every cudaMalloc'd range is registered; cudaPointerGetAttributes answers from it.
 * Order: streams never synchronise implicitly (as cudaStreamNonBlocking streams; the default
 * stream, NULL, is one stream like the others). Work on stream B is ordered after a write on
 * stream A only when B waited (cudaStreamWaitEvent) for an event recorded on A after the write,
 * directly or through other streams' events, or when the host saw A finish the write
 * (cudaStreamSynchronize, a cudaStreamQuery that returned cudaSuccess, cudaEventSynchronize,
 * cudaDeviceSynchronize) before it queued the work on B. Each stream keeps a vector clock: the
 * count of its operations and, per other stream, how many of that stream's it is ordered after;
 * an event carries the clock of its stream when it was recorded.
 * Granularity: one last writer per allocation. Writes are recorded by cudaMemcpy*, cudaMemset*
 * and emu_mem_wrote(); a kernel launch does not know its pointers, so code that stands in for a
 * kernel calls emu_mem_wrote() itself.
 */
#ifndef ATTNRL_EMU_MEM_H
#define ATTNRL_EMU_MEM_H

#include <stddef.h>

#include "cuda_runtime_api.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { EMU_MEM_OK = 0, EMU_MEM_NOT_DEVICE = 1, EMU_MEM_RACE = 2 };

void emu_mem_add(void *p, size_t bytes); /* cudaMalloc */
void emu_mem_remove(void *p);            /* cudaFree */
/* an operation queued on s writes [p, p + bytes) (ignored for host memory) */
void emu_mem_wrote(const void *p, size_t bytes, cudaStream_t s);
/* work queued on s now may touch [p, p + bytes): EMU_MEM_OK when the range lies inside one
 * allocation whose last write is ordered before that work, else EMU_MEM_NOT_DEVICE or
 * EMU_MEM_RACE and one line in why */
int emu_mem_check(const void *p, size_t bytes, cudaStream_t s, char *why, size_t n);
void emu_stream_synced(cudaStream_t s); /* the host saw every operation queued on s finish */
void emu_device_synced(void);           /* ... on every stream */

#ifdef __cplusplus
}
#endif

#endif
