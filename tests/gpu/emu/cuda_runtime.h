/*
 * cuda_runtime.h (emulation) - runs kernels/NAME.cu on the CPU for tests without a GPU: every
 * CUDA thread of a block is a fiber (ucontext), blocks run one after another; __syncthreads,
 * __syncwarp and the warp shuffles are barriers over the block's or the warp's live fibers,
 * __shared__ variables are statics (one block at a time), atomics are plain read-modify-writes
 * (fibers switch only at barriers). tests/gpu/emu/prep.pl rewrites a .cu file's launches
 * (k<<<g, b, smem, s>>>(args) -> emu_launch) and its extern __shared__ arrays first.
 * This checks indexing, synchronisation structure and arithmetic of the kernels; it says
 * nothing about speed, memory ordering on real hardware or races between blocks.
 */
#ifndef ATTNRL_EMU_CUDA_RUNTIME_H
#define ATTNRL_EMU_CUDA_RUNTIME_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <algorithm>
#include <functional>
#include <tuple>

#include "cuda_runtime_api.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

using std::max;
using std::min;

struct uint3 {
	unsigned int x, y, z;
};
struct dim3 {
	unsigned int x, y, z;
	dim3(unsigned int a = 1, unsigned int b = 1, unsigned int c = 1) : x(a), y(b), z(c) {}
};
struct uint2 {
	unsigned int x, y;
};
struct uint4 {
	unsigned int x, y, z, w;
};

extern uint3 blockIdx;
extern dim3 blockDim, gridDim;
extern const uint3 *emu_thread_idx;
#define threadIdx (*emu_thread_idx)
extern void *emu_dyn_smem;

/* a launch asking for more than 48 KiB of dynamic shared memory (or the device's opt-in limit,
 * if lower) fails unless the kernel's attribute allows it, as on a GPU; a kernel's first launch
 * (a GPU loads it lazily) while a stream is captured invalidates the capture */
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize };
cudaError_t emu_set_smem(const void *kernel, int bytes);
template <class F> cudaError_t cudaFuncSetAttribute(F *kernel, cudaFuncAttribute, int bytes)
{
	return emu_set_smem(reinterpret_cast<const void *>(kernel), bytes);
}
/* CUDA's C++ overload: any T ** (tests/gpu/bench_decode.cu) */
template <class T> cudaError_t cudaMalloc(T **p, size_t bytes)
{
	return cudaMalloc((void **)p, bytes);
}

void emu_run(const void *kernel, dim3 grid, dim3 block, size_t smem,
	     const std::function<void()> &body);
template <class K, class F>
void emu_launch(K *kernel, F body, dim3 grid, dim3 block, size_t smem = 0, cudaStream_t = nullptr)
{
	emu_run(reinterpret_cast<const void *>(kernel), grid, block, smem, body);
}

void __syncthreads(void);
void __syncwarp(unsigned int mask = 0xffffffffu);
/* each lane posts 8 bytes and reads its source lane's, between two warp barriers */
uint64_t emu_exchange(uint64_t v, int src_lane);
unsigned int emu_match_any(uint64_t v);
int emu_lane(void);

template <class T> T emu_from(uint64_t u)
{
	T v;
	memcpy(&v, &u, sizeof(T));
	return v;
}
template <class T> uint64_t emu_to(T v)
{
	uint64_t u = 0;
	memcpy(&u, &v, sizeof(T));
	return u;
}
template <class T> T __shfl_sync(unsigned int, T v, int src)
{
	return emu_from<T>(emu_exchange(emu_to(v), src & 31));
}
template <class T> T __shfl_xor_sync(unsigned int, T v, int o)
{
	return emu_from<T>(emu_exchange(emu_to(v), (emu_lane() ^ o) & 31));
}
template <class T> T __shfl_up_sync(unsigned int, T v, int o)
{
	int l = emu_lane();
	return emu_from<T>(emu_exchange(emu_to(v), l >= o ? l - o : l));
}
template <class T> unsigned int __match_any_sync(unsigned int, T v)
{
	return emu_match_any(emu_to(v));
}

static inline int __ffs(unsigned int x)
{
	return __builtin_ffs((int)x);
}
static inline int __popc(unsigned int x)
{
	return __builtin_popcount(x);
}
static inline unsigned int __float_as_uint(float f)
{
	return emu_to(f);
}
static inline float __uint_as_float(unsigned int u)
{
	return emu_from<float>(u);
}
#define __expf expf
template <class T> T atomicAdd(T *p, T v)
{
	T old = *p;
	*p = old + v;
	return old;
}
static inline unsigned long long atomicMin(unsigned long long *p, unsigned long long v)
{
	unsigned long long old = *p;
	*p = v < old ? v : old;
	return old;
}
static inline unsigned long long atomicMax(unsigned long long *p, unsigned long long v)
{
	unsigned long long old = *p;
	*p = v > old ? v : old;
	return old;
}

#endif
