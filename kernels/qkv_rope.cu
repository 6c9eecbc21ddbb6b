/*
 * qkv_rope.cu - the step between the QKV projection and decode attention (kernels.h:
 * kern_qkv_rope; CPU twin in src/kernels_cpu.c): bias, per-head RMSNorm of q and k (Qwen3),
 * the half-split rotation, q out and k, v into the cache at the row's (slot, position), all in
 * fp32 with one rounding to bf16. One block per row; a warp per head, each lane one rotation
 * pair (i, i + E/2) at a time.
 */
#include "attnrl/kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace {

constexpr int THREADS = 256;

__device__ inline float bf(const uint16_t *p, size_t i)
{
	return __uint_as_float((uint32_t)p[i] << 16);
}

__device__ inline uint16_t to_bf(float f)
{
	return __bfloat16_as_ushort(__float2bfloat16_rn(f));
}

__device__ inline float warp_sum(float v)
{
#pragma unroll
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return __shfl_sync(0xffffffffu, v, 0);
}

/* one head by one warp: x (staged in x_s, E floats) = in + bias, normed, rotated into out */
__device__ void head(const uint16_t *in, const uint16_t *bias, const uint16_t *w, int E, float eps,
		     const float *cs, const float *sn, uint16_t *out, float *x_s)
{
	const int lane = threadIdx.x % 32;
	float ss = 0.0f;
	for (int i = lane; i < E; i += 32) {
		float x = bf(in, i) + (bias ? bf(bias, i) : 0.0f);
		x_s[i] = x;
		ss += x * x;
	}
	__syncwarp();
	const float s = w ? 1.0f / sqrtf(warp_sum(ss) / E + eps) : 1.0f;
	const int h2 = E / 2;
	for (int i = lane; i < h2; i += 32) {
		float a = x_s[i], b = x_s[i + h2];
		if (w) {
			a = bf(w, i) * (a * s);
			b = bf(w, i + h2) * (b * s);
		}
		out[i] = to_bf(a * cs[i] - b * sn[i]);
		out[i + h2] = to_bf(b * cs[i + h2] + a * sn[i + h2]);
	}
	__syncwarp();
}

__global__ void __launch_bounds__(THREADS) qkv_rope_kernel(kern_qkv a)
{
	extern __shared__ float x_s[]; /* (warps, E) */
	const int b = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32, E = a.E;
	const int t = a.pos[b], s = a.seq[b];
	const float *cs = a.rope_cos + (size_t)t * E, *sn = a.rope_sin + (size_t)t * E;
	float *xw = x_s + warp * E;
	const size_t sq = a.stride ? (size_t)a.stride : (size_t)a.H * E;
	const size_t sk = a.stride ? (size_t)a.stride : (size_t)a.K * E;
	for (int h = warp; h < a.H + a.K; h += THREADS / 32) {
		if (h < a.H) {
			head(a.q + b * sq + (size_t)h * E, a.bq ? a.bq + (size_t)h * E : nullptr,
			     a.q_norm, E, a.eps, cs, sn, a.q_out + ((size_t)b * a.H + h) * E, xw);
			continue;
		}
		const int kh = h - a.H;
		const size_t at = b * sk + (size_t)kh * E, c = (((size_t)s * a.K + kh) * a.C + t) * E;
		head(a.k + at, a.bk ? a.bk + (size_t)kh * E : nullptr, a.k_norm, E, a.eps, cs, sn,
		     a.k_cache + c, xw);
		for (int i = lane; i < E; i += 32)
			a.v_cache[c + i] = to_bf(bf(a.v, at + i) + (a.bv ? bf(a.bv, (size_t)kh * E + i) : 0.0f));
	}
}

} // namespace

extern "C" int kern_qkv_rope(const struct kern_qkv *a, void *stream)
{
	if (a->B == 0)
		return 0;
	if (a->B < 0 || a->H < 1 || a->K < 1 || a->E < 2 || a->E % 2 || a->E > 1024 ||
	    !a->q_norm != !a->k_norm || a->stride < 0)
		return -1;
	size_t bytes = (size_t)(THREADS / 32) * a->E * sizeof(float);
	qkv_rope_kernel<<<a->B, THREADS, bytes, static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
