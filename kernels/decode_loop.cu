/*
 * decode_loop.cu - the decode loop's bookkeeping on the device (kernels.h: kern_loop_prepare,
 * kern_loop_advance; CPU twins in src/kernels_cpu.c) and the fp32 -> bf16 weight copy. One
 * thread per row; a row's sequence is touched by that row only (the host lists each live
 * sequence once), so no atomics are needed.
 */
#include "attnrl/kernels.h"

#include <cuda_runtime.h>

namespace {

constexpr int THREADS = 128;

__device__ inline void prepare_row(const kern_loop &a, int r)
{
	const int b = a.row_seq[r];
	if (a.state[b] == KERN_DONE) {
		a.seq[r] = a.dummy;
		a.pos[r] = 0;
		a.tok[r] = 0;
		return;
	}
	a.seq[r] = b;
	a.pos[r] = a.prompt_len[b] + a.resp_len[b] - 1;
	a.tok[r] = a.last[b];
}

/* rollout.c's append_token(): EOS, then the stop string, then the length */
__device__ inline void advance_row(const kern_loop &a, int r)
{
	const int b = a.row_seq[r], st = a.state[b];
	if (st != KERN_SAMPLING) {
		a.state[b] = KERN_DONE;
		return;
	}
	const int32_t t = a.sampled[r];
	const int k = a.resp_len[b];
	const size_t at = (size_t)b * a.max_new + k;
	a.out_tok[at] = t;
	a.out_logp[at] = a.logp[r];
	a.out_ent[at] = a.entropy[r];
	a.resp_len[b] = k + 1;
	a.last[b] = t;
	int why = -1;
	if (a.is_stop[t] && !a.ignore_eos) {
		why = 0; /* ROLLOUT_EOS */
	} else if (a.stop_len) {
		const int m = a.stop_next[(size_t)a.match[b] * a.V + t];
		a.match[b] = m;
		if (m == a.stop_len)
			why = 1; /* ROLLOUT_STOP_STRING */
	}
	if (why < 0 && k + 1 >= a.max_new)
		why = 2; /* ROLLOUT_LENGTH */
	if (why >= 0) {
		a.stop_reason[b] = why;
		a.state[b] = a.stats ? KERN_LAST_ROW : KERN_DONE;
	}
}

__global__ void prepare_kernel(kern_loop a)
{
	const int r = blockIdx.x * THREADS + threadIdx.x;
	if (r < a.n)
		prepare_row(a, r);
}

__global__ void advance_kernel(kern_loop a)
{
	const int r = blockIdx.x * THREADS + threadIdx.x;
	if (r < a.n)
		advance_row(a, r);
}

__global__ void to_bf16_kernel(const float *src, uint16_t *dst, long n)
{
	for (long i = blockIdx.x * (long)THREADS + threadIdx.x; i < n; i += (long)gridDim.x * THREADS) {
		const uint32_t u = __float_as_uint(src[i]);
		dst[i] = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40)
							 : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
	}
}

} // namespace

extern "C" int kern_loop_prepare(const struct kern_loop *a, void *stream)
{
	if (a->n <= 0)
		return a->n == 0 ? 0 : -1;
	prepare_kernel<<<(a->n + THREADS - 1) / THREADS, THREADS, 0,
			 static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int kern_loop_advance(const struct kern_loop *a, void *stream)
{
	if (a->n <= 0 || (a->stop_len && !a->stop_next))
		return a->n == 0 ? 0 : -1;
	advance_kernel<<<(a->n + THREADS - 1) / THREADS, THREADS, 0,
			 static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int kern_to_bf16(const float *src, uint16_t *dst, long n, void *stream)
{
	if (n <= 0)
		return n == 0 ? 0 : -1;
	long blocks = (n + THREADS - 1) / THREADS;
	blocks = blocks < 4096 ? blocks : 4096;
	to_bf16_kernel<<<(unsigned)blocks, THREADS, 0, static_cast<cudaStream_t>(stream)>>>(src, dst, n);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
