/*
 * decode_attn.cu - decode attention over a bf16 KV cache with the attention statistics of
 * docs/method.md section 7 fused in (kernels.h: kern_decode_attn; CPU twin in src/kernels_cpu.c).
 *
 * One block per (row, kv head) serves the H/K query heads of the group, so each K and V row is
 * read once. Warps take interleaved chunks of UNROLL keys; a lane holds E/32 consecutive
 * elements of q, k, v. Each warp keeps an online softmax per head (max m, sum l, the distance
 * sum d = sum e_k (t - k) and the output accumulator), rescaled when the max grows; the warps
 * are combined at the end. The statistics need the probabilities of the last
 * max(H_hi + 1, W) keys only (WAAD window, FAI band): their scores are kept in shared memory
 * and turned into probabilities once the final max and sum are known. K and V are read in one
 * pass and the statistics add no pass at all. When those scores do not fit the device's shared
 * memory (a long FAI band, a GPU with less than the 227 KiB of an H100), none are kept and the
 * statistics recompute them from the last keys of K, with the same arithmetic.
 */
#include "attnrl/kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>

namespace {

constexpr int NW = 4;     /* warps per block */
constexpr int UNROLL = 4; /* keys per warp iteration */
constexpr int MAX_G = 8;  /* query heads per kv head; kernels are built for G <= 2, 4, 8 */

template <int EPL> __device__ inline void load_row(const uint16_t *p, float *f)
{
	if constexpr (EPL == 8) {
		uint4 u = *reinterpret_cast<const uint4 *>(p);
		const uint32_t w[4] = { u.x, u.y, u.z, u.w };
#pragma unroll
		for (int i = 0; i < 4; i++) {
			f[2 * i] = __uint_as_float(w[i] << 16);
			f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
		}
	} else if constexpr (EPL == 4) {
		uint2 u = *reinterpret_cast<const uint2 *>(p);
		f[0] = __uint_as_float(u.x << 16);
		f[1] = __uint_as_float(u.x & 0xffff0000u);
		f[2] = __uint_as_float(u.y << 16);
		f[3] = __uint_as_float(u.y & 0xffff0000u);
	} else if constexpr (EPL == 2) {
		uint32_t u = *reinterpret_cast<const uint32_t *>(p);
		f[0] = __uint_as_float(u << 16);
		f[1] = __uint_as_float(u & 0xffff0000u);
	} else {
		f[0] = __uint_as_float((uint32_t)p[0] << 16);
	}
}

__device__ inline float warp_sum(float v)
{
#pragma unroll
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

/* the scaled score of key row kr (this lane's EPL elements) for query q: lane 0's sum of the
 * warp's parts, on every lane */
template <int EPL> __device__ inline float score(const float *q, const float *kr, float scale)
{
	float dot = 0.0f;
#pragma unroll
	for (int i = 0; i < EPL; i++)
		dot += q[i] * kr[i];
	return __shfl_sync(0xffffffffu, warp_sum(dot), 0) * scale;
}

/* this lane's score of key k0 + lane (keys past hi: 0) for one head: from its kept scores keep
 * (key keep0 first), or, when none were kept (n_keep 0), recomputed from the cache kc (this
 * lane's elements of key 0) and the head's query q, one key of the 32 after another */
template <int EPL>
__device__ inline float lane_score(const float *keep, int n_keep, int keep0, int k0, int hi,
				   const float *q, const uint16_t *kc, float scale)
{
	const int lane = threadIdx.x % 32;
	if (n_keep)
		return k0 + lane <= hi ? keep[k0 + lane - keep0] : 0.0f;
	float mine = 0.0f;
	for (int j = 0; j < 32 && k0 + j <= hi; j++) {
		float kr[EPL];
		load_row<EPL>(kc + (size_t)(k0 + j) * EPL * 32, kr);
		const float sc = score<EPL>(q, kr, scale);
		if (lane == j)
			mine = sc;
	}
	return mine;
}

/* head g's warps combined: each warp's factor f[w] = exp(m_w - M) onto the common max M
 * (0 for a warp that saw no key), from part (NW, GM, 3) = (m, l, d); returns M */
template <int GM> __device__ inline float warp_scales(const float *part, int g, float *f)
{
	float M = -INFINITY;
	for (int w = 0; w < NW; w++)
		M = fmaxf(M, part[(w * GM + g) * 3]);
	for (int w = 0; w < NW; w++) {
		const float mw = part[(w * GM + g) * 3];
		f[w] = mw == -INFINITY ? 0.0f : expf(mw - M);
	}
	return M;
}

struct stats_view {
	int *prompt_len;
	double *dsum;
	float *waad, *fai;
	int n_pairs, max_resp, pair0, window, fai_lo, fai_hi;
};

template <int EPL, int GM>
__global__ void __launch_bounds__(NW * 32)
decode_attn_kernel(kern_attn a, stats_view st, int has_stats, int n_keep, float scale)
{
	constexpr int E = EPL * 32;
	const int kvh = blockIdx.x, b = blockIdx.y, G = a.H / a.K;
	const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
	const int s = a.seq[b], t = a.pos[b];
	extern __shared__ float smem[];
	float *keep = smem;               /* (G, n_keep) raw scores of the last keys; n_keep 0: none */
	float *part = keep + GM * n_keep; /* (NW, G, 3): m, l, d of each warp */
	float *pacc = part + NW * GM * 3; /* (NW, G, E) */
	const int keep0 = t - n_keep + 1; /* first key whose score is kept */

	float q[GM][EPL], acc[GM][EPL], m[GM], l[GM], d[GM];
#pragma unroll
	for (int g = 0; g < GM; g++) {
		m[g] = -INFINITY;
		l[g] = d[g] = 0.0f;
#pragma unroll
		for (int i = 0; i < EPL; i++)
			acc[g][i] = 0.0f;
		if (g < G)
			load_row<EPL>(a.q + ((size_t)b * a.H + kvh * G + g) * E + lane * EPL, q[g]);
	}
	const size_t base = ((size_t)s * a.K + kvh) * a.C * E + lane * EPL;
	const uint16_t *kc = a.k_cache + base, *vc = a.v_cache + base;
	for (int k0 = warp * UNROLL; k0 <= t; k0 += NW * UNROLL) {
		float kr[UNROLL][EPL], vr[UNROLL][EPL];
#pragma unroll
		for (int u = 0; u < UNROLL; u++) {
			if (k0 + u <= t) {
				load_row<EPL>(kc + (size_t)(k0 + u) * E, kr[u]);
				load_row<EPL>(vc + (size_t)(k0 + u) * E, vr[u]);
			}
		}
#pragma unroll
		for (int u = 0; u < UNROLL; u++) {
			const int k = k0 + u;
			if (k > t)
				break;
#pragma unroll
			for (int g = 0; g < GM; g++) {
				if (g >= G)
					break;
				/* lane 0's sum for all lanes: the same max and sums everywhere */
				const float sc = score<EPL>(q[g], kr[u], scale);
				if (has_stats && lane == 0 && k >= keep0)
					keep[g * n_keep + k - keep0] = sc;
				if (sc > m[g]) {
					const float f = __expf(m[g] - sc);
					l[g] *= f;
					d[g] *= f;
#pragma unroll
					for (int i = 0; i < EPL; i++)
						acc[g][i] *= f;
					m[g] = sc;
				}
				const float p = expf(sc - m[g]);
				l[g] += p;
				d[g] += p * (float)(t - k);
#pragma unroll
				for (int i = 0; i < EPL; i++)
					acc[g][i] += p * vr[u][i];
			}
		}
	}
#pragma unroll
	for (int g = 0; g < GM; g++) {
		if (g >= G)
			break;
		if (lane == 0) {
			part[(warp * GM + g) * 3 + 0] = m[g];
			part[(warp * GM + g) * 3 + 1] = l[g];
			part[(warp * GM + g) * 3 + 2] = d[g];
		}
#pragma unroll
		for (int i = 0; i < EPL; i++)
			pacc[(warp * GM + g) * E + lane * EPL + i] = acc[g][i];
	}
	__syncthreads();
	/* combine the warps: thread j does element j % E of head j / E */
	for (int j = threadIdx.x; j < G * E; j += NW * 32) {
		const int g = j / E, e = j % E;
		float f[NW], L = 0.0f, O = 0.0f;
		warp_scales<GM>(part, g, f);
		for (int w = 0; w < NW; w++) {
			L += part[(w * GM + g) * 3 + 1] * f[w];
			O += pacc[(w * GM + g) * E + e] * f[w];
		}
		const int h = kvh * G + g;
		a.out[((size_t)b * a.H + h) * E + e] = __bfloat16_as_ushort(__float2bfloat16_rn(O / L));
	}
	if (!has_stats)
		return;
	const int P = st.prompt_len[s], r = t - P;
	if (P < 0 || r < 0 || r >= st.max_resp)
		return;
	/* one warp per head: final max and sum, then WAAD, dsum and the FAI band */
	for (int g = warp; g < G; g += NW) {
		float f[NW], L = 0.0f, D = 0.0f;
		const float M = warp_scales<GM>(part, g, f);
		for (int w = 0; w < NW; w++) {
			L += part[(w * GM + g) * 3 + 1] * f[w];
			D += part[(w * GM + g) * 3 + 2] * f[w];
		}
		const float inv = 1.0f / L;
		const int pair = st.pair0 + kvh * G + g, W = st.window;
		const size_t cell = ((size_t)s * st.n_pairs + pair) * st.max_resp;
		const float *kg = keep + g * n_keep;
		float qg[EPL];
		load_row<EPL>(a.q + ((size_t)b * a.H + kvh * G + g) * E + lane * EPL, qg);
		float near = 0.0f;
		for (int k0 = max(t - W + 1, 0); k0 <= t; k0 += 32) {
			const int k = k0 + lane;
			const float sc = lane_score<EPL>(kg, n_keep, keep0, k0, t, qg, kc, scale);
			if (k <= t)
				near += expf(sc - M) * (float)(W - (t - k));
		}
		near = warp_sum(near);
		if (lane == 0) {
			st.dsum[(size_t)s * st.n_pairs + pair] += (double)D * inv;
			st.waad[cell + r] = W - near * inv;
		}
		float *fai = st.fai + cell - P;
		const int hi = t - st.fai_lo;
		for (int k0 = max(t - st.fai_hi, P); k0 <= hi; k0 += 32) {
			const float sc = lane_score<EPL>(kg, n_keep, keep0, k0, hi, qg, kc, scale);
			if (k0 + lane <= hi)
				fai[k0 + lane] += expf(sc - M) * inv;
		}
	}
}

/* the most dynamic shared memory a block of this device may ask for */
int smem_optin()
{
	int dev = 0, v = 0;
	if (cudaGetDevice(&dev) != cudaSuccess ||
	    cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
		return 48 * 1024;
	return v;
}

template <int EPL, int GM> int launch(const kern_attn *a, cudaStream_t stream)
{
	stats_view st = {};
	int n_keep = 0;
	if (a->stats) {
		const kern_stats *s = a->stats;
		st = { const_cast<int *>(s->prompt_len), s->dsum, s->waad, s->fai, s->n_pairs,
		       s->max_resp, s->pair0, s->window, s->fai_lo, s->fai_hi };
		n_keep = max(s->fai_hi + 1, s->window);
	}
	const size_t fixed = ((size_t)NW * GM * 3 + (size_t)NW * GM * EPL * 32) * sizeof(float);
	const size_t optin = (size_t)smem_optin();
	if (fixed + (size_t)GM * n_keep * sizeof(float) > optin)
		n_keep = 0; /* the statistics recompute the scores of the last keys */
	const size_t bytes = fixed + (size_t)GM * n_keep * sizeof(float);
	if (bytes > optin) {
		fprintf(stderr, "%s:%d: decode attention (head dim %d, %d query heads per kv head) needs "
			"%zu bytes of shared memory per block, the device allows %zu\n", __FILE__,
			__LINE__, a->E, a->H / a->K, bytes, optin);
		return -1;
	}
	if (bytes > 48 * 1024 &&
	    cudaFuncSetAttribute(decode_attn_kernel<EPL, GM>, cudaFuncAttributeMaxDynamicSharedMemorySize,
				 (int)bytes) != cudaSuccess)
		return -1;
	dim3 grid(a->K, a->B);
	decode_attn_kernel<EPL, GM><<<grid, NW * 32, bytes, stream>>>(*a, st, a->stats != nullptr, n_keep,
								  1.0f / sqrtf((float)a->E));
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}

} // namespace

extern "C" int kern_decode_attn(const struct kern_attn *a, void *stream)
{
	if (a->B == 0)
		return 0;
	if (a->B < 0 || a->B > 65535 || a->H < 1 || a->K < 1 || a->H % a->K || a->H / a->K > MAX_G)
		return -1;
	if (a->stats && (a->stats->window < 1 || a->stats->fai_lo < 0 ||
			 a->stats->fai_hi < a->stats->fai_lo))
		return -1;
	cudaStream_t s = static_cast<cudaStream_t>(stream);
	const int G = a->H / a->K;
	switch (a->E) {
	case 32: return launch<1, 8>(a, s);
	case 64: return G <= 2 ? launch<2, 2>(a, s) : G <= 4 ? launch<2, 4>(a, s) : launch<2, 8>(a, s);
	case 128: return G <= 2 ? launch<4, 2>(a, s) : G <= 4 ? launch<4, 4>(a, s) : launch<4, 8>(a, s);
	case 256: return G <= 2 ? launch<8, 2>(a, s) : G <= 4 ? launch<8, 4>(a, s) : launch<8, 8>(a, s);
	default: return -1;
	}
}
