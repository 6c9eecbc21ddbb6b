/*
 * rows.cu - the glue between the projections of a decode step (kernels.h: kern_embed,
 * kern_add_rmsnorm, kern_silu_mul; CPU twins in src/kernels_cpu.c): the embedding gather into
 * the fp32 residual stream, the residual add fused with the RMSNorm that feeds the next
 * projection (bf16 out), and SwiGLU over a fused gate/up projection. One block per row.
 */
#include "attnrl/kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace {

constexpr int THREADS = 256, WARPS = THREADS / 32;

__device__ inline float bf(const uint16_t *p, size_t i)
{
	return __uint_as_float((uint32_t)p[i] << 16);
}

__device__ inline uint16_t to_bf(float f)
{
	return __bfloat16_as_ushort(__float2bfloat16_rn(f));
}

__global__ void __launch_bounds__(THREADS) embed_kernel(kern_rows a)
{
	const int b = blockIdx.x;
	const uint16_t *e = a.embed + (size_t)a.tok[b] * a.D;
	for (int i = threadIdx.x; i < a.D; i += THREADS)
		a.x[(size_t)b * a.D + i] = bf(e, i);
}

__global__ void __launch_bounds__(THREADS) add_rmsnorm_kernel(kern_rows a)
{
	__shared__ float part[WARPS];
	const int b = blockIdx.x, tid = threadIdx.x;
	float *x = a.x + (size_t)b * a.D, ss = 0.0f;
	for (int i = tid; i < a.D; i += THREADS) {
		float v = x[i] + (a.add ? bf(a.add, (size_t)b * a.D + i) : 0.0f);
		if (a.add)
			x[i] = v;
		ss += v * v;
	}
	for (int o = 16; o > 0; o >>= 1)
		ss += __shfl_xor_sync(0xffffffffu, ss, o);
	if (tid % 32 == 0)
		part[tid / 32] = ss;
	__syncthreads();
	ss = 0.0f;
	for (int w = 0; w < WARPS; w++)
		ss += part[w];
	const float s = 1.0f / sqrtf(ss / a.D + a.eps);
	for (int i = tid; i < a.D; i += THREADS)
		a.out[(size_t)b * a.D + i] = to_bf(bf(a.w, i) * (x[i] * s));
}

__global__ void __launch_bounds__(THREADS) silu_mul_kernel(kern_rows a)
{
	const int b = blockIdx.x;
	const uint16_t *gu = a.gate_up + (size_t)b * 2 * a.F;
	for (int i = threadIdx.x; i < a.F; i += THREADS) {
		const float g = bf(gu, i), u = bf(gu, (size_t)a.F + i);
		a.out[(size_t)b * a.F + i] = to_bf(g / (1.0f + expf(-g)) * u);
	}
}

} // namespace

extern "C" int kern_embed(const struct kern_rows *a, void *stream)
{
	if (a->B <= 0)
		return a->B == 0 ? 0 : -1;
	embed_kernel<<<a->B, THREADS, 0, static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int kern_add_rmsnorm(const struct kern_rows *a, void *stream)
{
	if (a->B <= 0 || a->D <= 0)
		return a->B == 0 ? 0 : -1;
	add_rmsnorm_kernel<<<a->B, THREADS, 0, static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

extern "C" int kern_silu_mul(const struct kern_rows *a, void *stream)
{
	if (a->B <= 0 || a->F <= 0)
		return a->B == 0 ? 0 : -1;
	silu_mul_kernel<<<a->B, THREADS, 0, static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
