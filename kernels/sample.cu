/*
 * sample.cu - sampling from logits (kernels.h: kern_sample; CPU twin in src/kernels_cpu.c):
 * temperature, top-k, top-p, the log-prob of the drawn token and the entropy of the
 * distribution, the same choices as rollout_sample() from each row's own xoshiro256** stream.
 *
 * One block per row. Three passes over V build the softmax once (max; exp and sum into the
 * scratch row; normalise to the float probabilities rollout_sample uses, with the entropy);
 * greedy takes the first maximum, plain sampling scans the probabilities in index order, and
 * top-k / top-p pick by radix select over the probabilities' bits (four 8-bit digits, each a
 * histogram of count and mass; the ties of the found value in index order), which finds the
 * element rollout_sample's sorted order (probability descending, index ascending) would reach
 * without sorting. Sums are in double as on the CPU.
 */
#include "attnrl/kernels.h"

#include <cuda_runtime.h>
#include <math.h>

namespace {

constexpr int THREADS = 512, WARPS = THREADS / 32;

enum { SEL_COUNT, SEL_MASS_GE, SEL_MASS_GT };

struct pick {
	long long rank;
	double cum;
	int tok;
};

__device__ inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* rng_uniform() of src/rng.c */
__device__ double rng_uniform(uint64_t *s)
{
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return (double)(out >> 11) * 0x1.0p-53;
}

struct shared {
	double red[WARPS];
	long long redl[WARPS];
	int redi[WARPS];
	unsigned int cnt[256];
	double mass[256];
	float stage[THREADS];
	/* select state, written by thread 0 */
	unsigned int prefix, mask;
	int found;
	long long above;
	double above_mass;
	unsigned long long best; /* (index) of the first tie passing the target */
	double bcast;
	long long bcastl;
};

__device__ double block_sum(double v, shared &sh)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	__syncthreads();
	if (threadIdx.x % 32 == 0)
		sh.red[threadIdx.x / 32] = v;
	__syncthreads();
	if (threadIdx.x == 0) {
		double s = 0;
		for (int w = 0; w < WARPS; w++)
			s += sh.red[w];
		sh.bcast = s;
	}
	__syncthreads();
	return sh.bcast;
}

/* exclusive prefix over threads (in thread order) of a double and a count */
__device__ void block_exscan(double v, long long c, double *ex_v, long long *ex_c, shared &sh)
{
	const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
	double iv = v;
	long long ic = c;
	for (int o = 1; o < 32; o <<= 1) {
		double y = __shfl_up_sync(0xffffffffu, iv, o);
		long long yc = __shfl_up_sync(0xffffffffu, ic, o);
		if (lane >= o)
			iv += y, ic += yc;
	}
	__syncthreads();
	if (lane == 31) {
		sh.red[warp] = iv;
		sh.redl[warp] = ic;
	}
	__syncthreads();
	double wv = 0;
	long long wc = 0;
	for (int w = 0; w < warp; w++)
		wv += sh.red[w], wc += sh.redl[w];
	*ex_v = wv + iv - v;
	*ex_c = wc + ic - c;
}

__device__ inline int passes(int mode, long long count, double mass, double target)
{
	if (mode == SEL_COUNT)
		return count > (long long)target;
	return mode == SEL_MASS_GE ? mass >= target : mass > target;
}

/* the element where the running count / mass over the order (p desc, index asc) first passes
 * target; rank V when none */
__device__ pick select_at(const float *p, int V, int mode, double target, shared &sh)
{
	const int tid = threadIdx.x, lane = tid % 32;
	__syncthreads(); /* every thread has read the previous call's results */
	if (tid == 0) {
		sh.prefix = sh.mask = 0;
		sh.above = 0;
		sh.above_mass = 0.0;
		sh.found = 1;
	}
	for (int shift = 24; shift >= 0; shift -= 8) {
		for (int i = tid; i < 256; i += THREADS) {
			sh.cnt[i] = 0;
			sh.mass[i] = 0.0;
		}
		__syncthreads();
		const unsigned int prefix = sh.prefix, mask = sh.mask;
		if (!sh.found)
			break;
		for (int base = 0; base < V; base += THREADS) {
			const int i = base + tid;
			float v = i < V ? p[i] : 0.0f;
			unsigned int u = __float_as_uint(v);
			int bin = i < V && (u & mask) == prefix ? (int)((u >> shift) & 255) : -1;
			/* lanes of one bin add through their leader: one atomic per bin and warp */
			unsigned int same = __match_any_sync(0xffffffffu, bin);
			sh.stage[tid] = v;
			__syncwarp();
			if (bin >= 0 && lane == __ffs(same) - 1) {
				double m = 0.0;
				for (unsigned int s = same; s; s &= s - 1)
					m += sh.stage[tid - lane + __ffs(s) - 1];
				atomicAdd(&sh.cnt[bin], (unsigned int)__popc(same));
				atomicAdd(&sh.mass[bin], m);
			}
			__syncwarp();
		}
		__syncthreads();
		if (tid == 0) {
			int bin = 255;
			for (; bin >= 0; bin--) {
				if (passes(mode, sh.above + sh.cnt[bin], sh.above_mass + sh.mass[bin], target))
					break;
				sh.above += sh.cnt[bin];
				sh.above_mass += sh.mass[bin];
			}
			if (bin < 0) {
				sh.found = 0;
			} else {
				sh.prefix |= (unsigned int)bin << shift;
				sh.mask |= 255u << shift;
			}
		}
		__syncthreads();
	}
	__syncthreads();
	pick none = { V, 0.0, -1 };
	if (!sh.found)
		return none;
	/* ties of the found value in index order: each thread a contiguous segment */
	const unsigned int value = sh.prefix;
	const long long above = sh.above;
	const double above_mass = sh.above_mass;
	const int seg = (V + THREADS - 1) / THREADS, i0 = min(V, tid * seg), i1 = min(V, i0 + seg);
	double m = 0.0;
	long long c = 0;
	int last = -1;
	for (int i = i0; i < i1; i++)
		if (__float_as_uint(p[i]) == value)
			m += p[i], c++, last = i;
	double ex_m;
	long long ex_c;
	block_exscan(m, c, &ex_m, &ex_c, sh);
	if (tid == 0)
		sh.best = ~0ull;
	__syncthreads();
	long long cnt = above + ex_c;
	double cum = above_mass + ex_m;
	for (int i = i0; i < i1; i++) {
		if (__float_as_uint(p[i]) != value)
			continue;
		cum += p[i];
		if (passes(mode, cnt + 1, cum, target)) {
			atomicMin(&sh.best, (unsigned long long)i);
			break;
		}
		cnt++;
	}
	__syncthreads();
	/* the winner, or the last tie (the histogram's sum passed, the running one fell short) */
	const unsigned long long best = sh.best;
	const int owner = best != ~0ull ? (int)(best / seg) : -1;
	if (tid == owner) {
		sh.bcastl = cnt;
		sh.bcast = cum;
	}
	__syncthreads();
	pick r;
	if (best != ~0ull) {
		r.rank = sh.bcastl;
		r.cum = sh.bcast;
		r.tok = (int)best;
		return r;
	}
	/* fall back to the last tie: the largest index holding the value */
	if (tid == 0)
		sh.best = 0;
	__syncthreads();
	if (last >= 0)
		atomicMax(&sh.best, (unsigned long long)last);
	__syncthreads();
	if (last >= 0 && (unsigned long long)last == sh.best) {
		sh.bcastl = above + ex_c + c - 1;
		sh.bcast = above_mass + ex_m + m;
	}
	__syncthreads();
	r.rank = sh.bcastl;
	r.cum = sh.bcast;
	r.tok = (int)sh.best;
	return r;
}

/* first index where the running sum of p in index order passes u; V - 1 when none */
__device__ int scan_pick(const float *p, int V, double u, shared &sh)
{
	const int tid = threadIdx.x, seg = (V + THREADS - 1) / THREADS;
	const int i0 = min(V, tid * seg), i1 = min(V, i0 + seg);
	double m = 0.0, ex;
	long long exc;
	for (int i = i0; i < i1; i++)
		m += p[i];
	block_exscan(m, 0, &ex, &exc, sh);
	if (tid == 0)
		sh.best = ~0ull;
	__syncthreads();
	double acc = ex;
	for (int i = i0; i < i1; i++) {
		acc += p[i];
		if (u < acc) {
			atomicMin(&sh.best, (unsigned long long)i);
			break;
		}
	}
	__syncthreads();
	return sh.best == ~0ull ? V - 1 : (int)sh.best;
}

__global__ void __launch_bounds__(THREADS) sample_kernel(struct kern_sample a)
{
	__shared__ shared sh;
	__shared__ uint64_t rs[4];
	const int b = blockIdx.x, tid = threadIdx.x, V = a.V;
	const int rng_b = a.rng_row ? a.rng_row[b] : b;
	const float *x = a.logits + (size_t)b * V;
	float *p = a.scratch + (size_t)b * V;
	const double temp = a.temperature > 0 ? a.temperature : 1.0;
	/* pass 1: max of x / temp, and the first index of the largest logit (greedy) */
	double mx = -INFINITY;
	int arg = V;
	float best = -INFINITY;
	for (int i = tid; i < V; i += THREADS) {
		mx = fmax(mx, x[i] / temp);
		if (x[i] > best || arg == V)
			best = x[i], arg = i;
	}
	for (int o = 16; o > 0; o >>= 1) {
		double om = __shfl_xor_sync(0xffffffffu, mx, o);
		float ob = __shfl_xor_sync(0xffffffffu, best, o);
		int oa = __shfl_xor_sync(0xffffffffu, arg, o);
		mx = fmax(mx, om);
		if (oa < V && (arg == V || ob > best || (ob == best && oa < arg)))
			best = ob, arg = oa;
	}
	if (tid % 32 == 0) {
		sh.red[tid / 32] = mx;
		sh.stage[tid / 32] = best;
		sh.redi[tid / 32] = arg;
	}
	__syncthreads();
	if (tid == 0) {
		for (int w = 1; w < WARPS; w++) {
			sh.red[0] = fmax(sh.red[0], sh.red[w]);
			int oa = sh.redi[w];
			float ob = sh.stage[w];
			if (oa < V && (sh.redi[0] == V || ob > sh.stage[0] ||
				       (ob == sh.stage[0] && oa < sh.redi[0]))) {
				sh.stage[0] = ob;
				sh.redi[0] = oa;
			}
		}
		sh.bcast = sh.red[0];
		sh.bcastl = sh.redi[0];
	}
	__syncthreads();
	mx = sh.bcast;
	const int greedy_tok = (int)sh.bcastl;
	/* pass 2: exp into the scratch row, their sum */
	double sum = 0.0;
	for (int i = tid; i < V; i += THREADS) {
		float e = (float)exp(x[i] / temp - mx);
		p[i] = e;
		sum += e;
	}
	sum = block_sum(sum, sh);
	const double lse = log(sum);
	/* pass 3: the float probabilities and the entropy */
	double ent = 0.0;
	for (int i = tid; i < V; i += THREADS) {
		float q = (float)(p[i] / sum);
		p[i] = q;
		ent -= q > 0 ? q * (x[i] / temp - mx - lse) : 0.0;
	}
	ent = block_sum(ent, sh); /* its barriers also publish p */
	if (tid < 4)
		rs[tid] = a.rng[(size_t)rng_b * 4 + tid];
	__syncthreads();
	int tok;
	if (a.temperature <= 0) {
		tok = greedy_tok;
	} else if (a.top_k > 0 || a.top_p < 1.0) {
		long long kept = a.top_k > 0 && a.top_k < V ? a.top_k : V;
		double mass = -1.0;
		if (a.top_p < 1.0) {
			pick c = select_at(p, V, SEL_MASS_GE, a.top_p, sh);
			if (c.rank < kept) {
				kept = c.rank + 1;
				mass = c.cum;
			}
		}
		if (mass < 0)
			mass = select_at(p, V, SEL_COUNT, (double)(kept - 1), sh).cum;
		__syncthreads();
		if (tid == 0)
			sh.bcast = rng_uniform(rs) * mass;
		__syncthreads();
		pick t = select_at(p, V, SEL_MASS_GT, sh.bcast, sh);
		if (t.rank >= kept || t.tok < 0)
			t = select_at(p, V, SEL_COUNT, (double)(kept - 1), sh);
		tok = t.tok;
	} else {
		if (tid == 0)
			sh.bcast = rng_uniform(rs);
		__syncthreads();
		tok = scan_pick(p, V, sh.bcast, sh);
	}
	if (tok < 0 || tok >= V)
		tok = 0; /* only NaN logits get here: no order to pick from */
	if (tid == 0) {
		a.token[b] = tok;
		a.logp[b] = (float)(x[tok] / temp - mx - lse);
		a.entropy[b] = (float)ent;
	}
	if (tid < 4)
		a.rng[(size_t)rng_b * 4 + tid] = rs[tid];
}

} // namespace

extern "C" int kern_sample(const struct kern_sample *a, void *stream)
{
	if (a->B == 0)
		return 0;
	if (a->B < 0 || a->V < 1 || a->B > 2147483647 / 2)
		return -1;
	sample_kernel<<<a->B, THREADS, 0, static_cast<cudaStream_t>(stream)>>>(*a);
	return cudaGetLastError() == cudaSuccess ? 0 : -1;
}
