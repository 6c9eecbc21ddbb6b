/*
 * test_tensor.c - the tensor C API against hand-computed values, torch.optim.AdamW
 * (tests/ref/adamw_ref.py) and its own bookkeeping: errors, frames, and a leak check over a
 * small training loop.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attnrl/tensor.h"
#include "check.h"

#define TOL 1e-5

static uint64_t lcg_state = 12345;

static float lcg_uniform(void) /* [-1, 1) */
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((lcg_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static void fill_uniform(float *x, int n, float scale)
{
	for (int i = 0; i < n; i++)
		x[i] = scale * lcg_uniform();
}

static tensor *from(const float *d, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
	int64_t shape[4] = { d0, d1, d2, d3 };
	return tensor_from_f32(d, shape, ndim);
}

/* compares n values of t with want */
static void check_values(const tensor *t, const float *want, int n, double tol, const char *what)
{
	float got[256];
	CHECK(t != NULL, "%s: NULL (%s)", what, tensor_last_error());
	if (!t || n > 256)
		return;
	CHECK(tensor_numel(t) == n, "%s: numel %lld, want %d", what, (long long)tensor_numel(t), n);
	if (tensor_read_f32(t, got, n) != 0) {
		CHECK(0, "%s: read: %s", what, tensor_last_error());
		return;
	}
	for (int i = 0; i < n; i++)
		CHECK(fabs(got[i] - want[i]) <= tol, "%s[%d]: %.9g vs %.9g", what, i, got[i], want[i]);
}

static void test_matmul_linear(void)
{
	float a[6] = { 1, 2, 3, 4, 5, 6 };           /* (2,3) */
	float b[6] = { 1, 0, 0, 1, 1, 1 };           /* (3,2) */
	float ab[4] = { 4, 5, 10, 11 };
	float w[6] = { 1, 0, -1, 2, 1, 0 };          /* (2,3) */
	float bias[2] = { 0.5f, -1 };
	float xw[4] = { -2, 4, -2, 13 };             /* a w^T */
	float xwb[4] = { -1.5f, 3, -1.5f, 12 };

	tensor_frame_push();
	check_values(tensor_matmul(from(a, 2, 2, 3, 0, 0), from(b, 2, 3, 2, 0, 0)), ab, 4, TOL, "matmul");
	tensor *x = from(a, 2, 2, 3, 0, 0), *wt = from(w, 2, 2, 3, 0, 0);
	check_values(tensor_linear(x, wt, NULL), xw, 4, TOL, "linear");
	check_values(tensor_linear(x, wt, from(bias, 1, 2, 0, 0, 0)), xwb, 4, TOL, "linear+bias");
	tensor_frame_pop();
}

static void test_rms_norm(void)
{
	float x[4] = { 3, 4, 1, -1 }, w[2] = { 1, 2 }, want[4];
	double eps = 1e-6;
	for (int r = 0; r < 2; r++) {
		double ms = (x[2 * r] * x[2 * r] + x[2 * r + 1] * x[2 * r + 1]) / 2.0;
		for (int j = 0; j < 2; j++)
			want[2 * r + j] = (float)(x[2 * r + j] / sqrt(ms + eps) * w[j]);
	}
	tensor_frame_push();
	check_values(tensor_rms_norm(from(x, 2, 2, 2, 0, 0), from(w, 1, 2, 0, 0, 0), eps), want, 4,
		     TOL, "rms_norm");
	tensor *xb = tensor_to(from(x, 2, 2, 2, 0, 0), TENSOR_BF16, TENSOR_CPU);
	tensor *yb = tensor_rms_norm(xb, tensor_to(from(w, 1, 2, 0, 0, 0), TENSOR_BF16, TENSOR_CPU), eps);
	CHECK(tensor_dtype(yb) == TENSOR_BF16, "bf16 in, bf16 out (HF casts back before the weight)");
	check_values(yb, want, 4, 2e-2, "rms_norm bf16");
	tensor_frame_pop();
}

static void test_rope(void)
{
	enum { H = 2, T = 3, E = 4 };
	float x[H * T * E], c[T * E], s[T * E], want[H * T * E];
	fill_uniform(x, H * T * E, 1);
	for (int t = 0; t < T; t++)
		for (int j = 0; j < E / 2; j++) {
			double ang = t * pow(10000.0, -2.0 * j / E);
			c[t * E + j] = c[t * E + j + E / 2] = (float)cos(ang);
			s[t * E + j] = s[t * E + j + E / 2] = (float)sin(ang);
		}
	for (int h = 0; h < H; h++)
		for (int t = 0; t < T; t++)
			for (int j = 0; j < E / 2; j++) {
				const float *r = x + (h * T + t) * E;
				float *o = want + (h * T + t) * E;
				float cc = c[t * E + j], ss = s[t * E + j];
				o[j] = r[j] * cc - r[j + E / 2] * ss;
				o[j + E / 2] = r[j + E / 2] * cc + r[j] * ss;
			}
	tensor_frame_push();
	tensor *out = tensor_rope(from(x, 4, 1, H, T, E), from(c, 2, T, E, 0, 0), from(s, 2, T, E, 0, 0));
	check_values(out, want, H * T * E, TOL, "rope");
	tensor_frame_pop();
}

/* causal attention by loops: q (H,Tq,E), k/v (K,Tk,E); query i sits at position Tk - Tq + i */
static void attention_ref(const float *q, const float *k, const float *v, int H, int K, int Tq,
			  int Tk, int E, double scale, float *out)
{
	for (int h = 0; h < H; h++) {
		int kh = h / (H / K);
		for (int i = 0; i < Tq; i++) {
			double sc[16], mx = -1e300, den = 0;
			int last = Tk - Tq + i;
			for (int j = 0; j <= last; j++) {
				double d = 0;
				for (int e = 0; e < E; e++)
					d += q[(h * Tq + i) * E + e] * k[(kh * Tk + j) * E + e];
				sc[j] = d * scale;
				mx = sc[j] > mx ? sc[j] : mx;
			}
			for (int j = 0; j <= last; j++)
				den += (sc[j] = exp(sc[j] - mx));
			for (int e = 0; e < E; e++) {
				double acc = 0;
				for (int j = 0; j <= last; j++)
					acc += sc[j] / den * v[(kh * Tk + j) * E + e];
				out[(h * Tq + i) * E + e] = (float)acc;
			}
		}
	}
}

static void test_attention(void)
{
	enum { H = 4, K = 2, T = 5, E = 3 };
	float q[H * T * E], k[K * T * E], v[K * T * E], want[H * T * E], q1[H * E], want1[H * E];
	fill_uniform(q, H * T * E, 1);
	fill_uniform(k, K * T * E, 1);
	fill_uniform(v, K * T * E, 1);
	attention_ref(q, k, v, H, K, T, T, E, 1 / sqrt(E), want);
	for (int h = 0; h < H; h++) /* the last query alone, against the whole cache */
		memcpy(q1 + h * E, q + (h * T + T - 1) * E, E * sizeof(float));
	attention_ref(q1, k, v, H, K, 1, T, E, 0.7, want1);

	tensor_frame_push();
	tensor *kt = from(k, 4, 1, K, T, E), *vt = from(v, 4, 1, K, T, E);
	check_values(tensor_attention_causal(from(q, 4, 1, H, T, E), kt, vt, 0), want, H * T * E,
		     TOL, "attention (default scale)");
	check_values(tensor_attention_causal(from(q1, 4, 1, H, 1, E), kt, vt, 0.7), want1, H * E,
		     TOL, "attention (one query, KV cache)");
	CHECK(tensor_attention_causal(from(q, 4, 1, 3, 5, 1), kt, vt, 0) == NULL,
	      "3 query heads over 2 kv heads must fail");
	tensor_frame_pop();
}

static void test_token_logprobs(void)
{
	float logits[6] = { 1, 2, 3, 0.5f, -1, 0 }; /* (1,2,3) */
	int64_t tg[2] = { 2, 0 }, shape[2] = { 1, 2 };
	float want_lp[2], want_ent[2];
	for (int r = 0; r < 2; r++) {
		const float *l = logits + 3 * r;
		double lse = log(exp(l[0]) + exp(l[1]) + exp(l[2])), ent = 0;
		for (int j = 0; j < 3; j++)
			ent -= exp(l[j] - lse) * (l[j] - lse);
		want_lp[r] = (float)(l[tg[r]] - lse);
		want_ent[r] = (float)ent;
	}
	tensor_frame_push();
	tensor *ent = NULL, *lt = from(logits, 3, 1, 2, 3, 0), *tt = tensor_from_i64(tg, shape, 2);
	tensor *lp = tensor_token_logprobs(lt, tt, &ent);
	check_values(lp, want_lp, 2, TOL, "token_logprobs");
	check_values(ent, want_ent, 2, TOL, "entropy");
	CHECK(tensor_ndim(lp) == 2 && tensor_size(lp, -1) == 2, "logp shape");
	check_values(tensor_token_logprobs(lt, tt, NULL), want_lp, 2, TOL, "token_logprobs alone");
	ent = lt;
	CHECK(tensor_token_logprobs(NULL, tt, &ent) == NULL && ent == NULL,
	      "NULL logits: *entropy = NULL");
	tensor_frame_pop();
}

/* sets p's grad to g by backward through sum(p * g) */
static void set_grad(tensor *p, const float *g, int n)
{
	tensor_zero_grad(&p, 1);
	tensor_frame_push();
	tensor *loss = tensor_sum(tensor_mul(p, from(g, 1, n, 0, 0, 0)));
	CHECK(tensor_backward(loss) == 0, "backward: %s", tensor_last_error());
	tensor_frame_pop();
}

static tensor *param(const float *d, int n)
{
	tensor *p = tensor_keep(from(d, 1, n, 0, 0, 0));
	tensor_set_requires_grad(p, 1);
	return p;
}

static void test_clip_grad_norm(void)
{
	float a[2] = { 1, 1 }, b[1] = { 1 }, ga[2] = { 3, 4 }, gb[1] = { 12 }, norm_f;
	tensor *ps[3] = { param(a, 2), param(b, 1), param(b, 1) }; /* ps[2] has no grad */
	double norm = 0, coef = 6.5 / (13 + 1e-6);
	float want_a[2] = { (float)(3 * coef), (float)(4 * coef) }, want_b[1] = { (float)(12 * coef) };
	int finite = -1;

	set_grad(ps[0], ga, 2);
	set_grad(ps[1], gb, 1);
	CHECK(tensor_clip_grad_norm(ps, 3, 6.5, &norm) == 0, "clip: %s", tensor_last_error());
	CHECK_NEAR(norm, 13, 1e-5, "norm before clipping");
	tensor_frame_push();
	check_values(tensor_grad(ps[0]), want_a, 2, TOL, "clipped grad a");
	check_values(tensor_grad(ps[1]), want_b, 1, TOL, "clipped grad b");
	check_values(tensor_grad(ps[2]), (float[]){ 0 }, 1, 0, "undefined grad reads as zeros");
	CHECK(tensor_clip_grad_norm(ps, 3, 0, &norm) == 0, "measure: %s", tensor_last_error());
	CHECK_NEAR(norm, 6.5, 1e-5, "norm after clipping");
	CHECK(tensor_grads_finite(ps, 3, &finite) == 0 && finite == 1, "grads finite");
	norm_f = INFINITY;
	tensor_write_f32(tensor_grad(ps[1]), &norm_f, 1); /* the grad handle aliases .grad */
	CHECK(tensor_grads_finite(ps, 3, &finite) == 0 && finite == 0, "inf grad is seen");
	tensor_frame_pop();
	for (int i = 0; i < 3; i++)
		tensor_free(ps[i]);
}

static const struct tensor_adamw ADAMW_HP = { 0.01, 0.9, 0.999, 1e-8, 0.1, 0 };

/* one step from zero state reduces to p (1 - lr wd) - lr g / (|g| + eps) */
static void test_adamw_one_step(void)
{
	float p0[3] = { 0.5f, -1, 2 }, g[3] = { 0.1f, -3, 0 }, want[3];
	struct tensor_adamw hp = ADAMW_HP;
	int64_t n = 3;
	tensor *p = param(p0, 3);
	tensor *m = tensor_keep(tensor_zeros(&n, 1, TENSOR_F32, TENSOR_CPU));
	tensor *v = tensor_keep(tensor_zeros(&n, 1, TENSOR_F32, TENSOR_CPU));
	for (int i = 0; i < 3; i++)
		want[i] = (float)(p0[i] * (1 - hp.lr * hp.weight_decay) -
				  hp.lr * g[i] / (fabs(g[i]) + hp.eps));
	set_grad(p, g, 3);
	CHECK(tensor_adamw_step(&p, &m, &v, 1, &hp) == -1, "step 0 must be refused");
	hp.step = 1;
	CHECK(tensor_adamw_step(&p, &m, &v, 1, &hp) == 0, "adamw: %s", tensor_last_error());
	check_values(p, want, 3, 1e-6, "adamw one step");
	tensor_free(p);
	tensor_free(m);
	tensor_free(v);
}

/* reads up to n numbers printed by the reference script; -1 when it says "skip" */
static int run_adamw_ref(float *out, int n)
{
	const char *py = getenv("PY_REF") ? getenv("PY_REF") : "/usr/bin/python3";
	const char *script = "tests/ref/adamw_ref.py";
	char cmd[512], word[64];
	int got = 0;
	if (access(script, R_OK) != 0 || access(py, X_OK) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "%s %s", py, script);
	FILE *f = popen(cmd, "r");
	if (!f)
		return 0;
	while (got < n && fscanf(f, "%63s", word) == 1) {
		if (strcmp(word, "skip") == 0) {
			got = -1;
			break;
		}
		out[got++] = strtof(word, NULL);
	}
	pclose(f);
	return got;
}

/* three AdamW steps against torch.optim.AdamW (same inputs as tests/ref/adamw_ref.py) */
static void test_adamw_vs_torch(void)
{
	enum { N = 7, STEPS = 3 };
	const int sizes[2] = { 3, 4 };
	float flat[N], g[N], ref[N];
	tensor *p[2], *m[2], *v[2];
	struct tensor_adamw hp = ADAMW_HP;
	int got = run_adamw_ref(ref, N);
	if (got < 0) {
		printf("test_tensor: AdamW vs torch skipped (%s, python3 or torch missing)\n",
		       "tests/ref/adamw_ref.py");
		return;
	}
	CHECK(got == N, "adamw_ref.py printed %d of %d values", got, N);
	for (int i = 0; i < N; i++)
		flat[i] = (float)sin(1.0 + i);
	for (int j = 0, off = 0; j < 2; off += sizes[j++]) {
		int64_t n = sizes[j];
		p[j] = param(flat + off, sizes[j]);
		m[j] = tensor_keep(tensor_zeros(&n, 1, TENSOR_F32, TENSOR_CPU));
		v[j] = tensor_keep(tensor_zeros(&n, 1, TENSOR_F32, TENSOR_CPU));
	}
	for (hp.step = 1; hp.step <= STEPS; hp.step++) {
		for (int i = 0; i < N; i++)
			g[i] = (float)cos(0.5 * i + (double)hp.step);
		set_grad(p[0], g, 3);
		set_grad(p[1], g + 3, 4);
		CHECK(tensor_adamw_step(p, m, v, 2, &hp) == 0, "adamw: %s", tensor_last_error());
	}
	if (got == N) {
		check_values(p[0], ref, 3, 1e-6, "adamw vs torch (p0)");
		check_values(p[1], ref + 3, 4, 1e-6, "adamw vs torch (p1)");
	}
	for (int j = 0; j < 2; j++) {
		tensor_free(p[j]);
		tensor_free(m[j]);
		tensor_free(v[j]);
	}
}

/* ZeRO-1: the same three steps as two ranks' slices of the flat parameters ([0, 4) and
 * [4, 7), across the boundary of the two tensors) against torch.optim.AdamW; and the flat
 * copies of weights and gradients */
static void test_adamw_flat(void)
{
	enum { N = 7, STEPS = 3 };
	const int64_t off[2] = { 0, 4 }, len[2] = { 4, 3 };
	float flat[N], g[N], ref[N], got[N];
	tensor *p[2], *m[2], *v[2];
	struct tensor_adamw hp = ADAMW_HP;
	int have_ref = run_adamw_ref(ref, N) == N;
	for (int i = 0; i < N; i++)
		flat[i] = (float)sin(1.0 + i);
	p[0] = param(flat, 3);
	p[1] = param(flat + 3, 4);
	for (int r = 0; r < 2; r++) {
		m[r] = tensor_keep(tensor_zeros(&len[r], 1, TENSOR_F32, TENSOR_CPU));
		v[r] = tensor_keep(tensor_zeros(&len[r], 1, TENSOR_F32, TENSOR_CPU));
	}
	for (hp.step = 1; hp.step <= STEPS; hp.step++) {
		tensor_frame_push();
		for (int i = 0; i < N; i++)
			g[i] = (float)cos(0.5 * i + (double)hp.step);
		for (int r = 0; r < 2; r++) {
			tensor *gs = tensor_from_f32(g + off[r], &len[r], 1);
			CHECK(tensor_adamw_flat(p, 2, off[r], m[r], v[r], gs, &hp) == 0, "adamw_flat: %s",
			      tensor_last_error());
		}
		tensor_frame_pop();
	}
	if (have_ref) {
		check_values(p[0], ref, 3, 1e-6, "flat adamw vs torch (p0)");
		check_values(p[1], ref + 3, 4, 1e-6, "flat adamw vs torch (p1)");
	}
	tensor_frame_push();
	/* weights [2, 6) into a buffer, then gradients written from one and read back */
	int64_t k = 4, all = N;
	tensor *buf = tensor_zeros(&k, 1, TENSOR_F32, TENSOR_CPU);
	CHECK(tensor_flat_copy(p, 2, 0, buf, 2, 1) == 0, "flat copy: %s", tensor_last_error());
	float w[N];
	tensor_read_f32(p[0], w, 3);
	tensor_read_f32(p[1], w + 3, 4);
	tensor_read_f32(buf, got, 4);
	for (int i = 0; i < 4; i++)
		CHECK(got[i] == w[2 + i], "flat copy: element %d is %g, not %g", i, got[i], w[2 + i]);
	tensor *gin = tensor_from_f32(g, &all, 1), *gout = tensor_zeros(&all, 1, TENSOR_F32, TENSOR_CPU);
	CHECK(tensor_zero_grad(p, 2) == 0 && tensor_flat_copy(p, 2, 1, gout, 0, 1) == 0,
	      "missing grads read as zeros: %s", tensor_last_error());
	tensor_read_f32(gout, got, N);
	CHECK(got[0] == 0 && got[6] == 0, "missing grads must read as zeros");
	CHECK(tensor_flat_copy(p, 2, 1, gin, 0, 0) == 0 && tensor_flat_copy(p, 2, 1, gout, 0, 1) == 0,
	      "grads through the flat buffer: %s", tensor_last_error());
	tensor_read_f32(gout, got, N);
	tensor_read_f32(tensor_grad(p[1]), w, 4);
	CHECK(!memcmp(got, g, sizeof(g)) && !memcmp(w, g + 3, 4 * sizeof(float)),
	      "grads do not survive the flat buffer");
	CHECK(tensor_flat_copy(p, 2, 0, buf, 4, 1) == -1, "a range past the end must fail");
	tensor_frame_pop();
	for (int j = 0; j < 2; j++) {
		tensor_free(p[j]);
		tensor_free(m[j]);
		tensor_free(v[j]);
	}
}

static void test_errors(void)
{
	float a[6] = { 0 }, b[20] = { 0 };
	char first[512];
	tensor_frame_push();
	tensor *x = from(a, 2, 2, 3, 0, 0), *y = from(b, 2, 4, 5, 0, 0);
	CHECK(tensor_matmul(x, y) == NULL, "shape mismatch must fail");
	const char *err = tensor_last_error();
	CHECK(strncmp(err, "tensor_matmul: ", 15) == 0 && strstr(err, "2x3"), "message: %s", err);
	CHECK(strchr(err, '\n') == NULL, "one line: %s", err);
	snprintf(first, sizeof first, "%s", err);
	CHECK(tensor_sum(tensor_add(tensor_matmul(x, y), x)) == NULL, "chain must fail");
	CHECK(strcmp(tensor_last_error(), first) == 0, "first error kept: %s", tensor_last_error());
	CHECK(tensor_backward(NULL) == -1 && strcmp(tensor_last_error(), first) == 0, "NULL status");
	int64_t bad[2] = { 4, 4 };
	CHECK(tensor_reshape(x, bad, 2) == NULL, "bad reshape must fail");
	CHECK(strncmp(tensor_last_error(), "tensor_reshape: ", 16) == 0, "%s", tensor_last_error());
	snprintf(first, sizeof first, "%s", tensor_last_error());
	CHECK(tensor_exp(tensor_rope(NULL, x, x)) == NULL, "NULL propagates");
	CHECK(strcmp(tensor_last_error(), first) == 0, "NULL input overwrote: %s", tensor_last_error());
	CHECK(tensor_to(x, 42, TENSOR_CPU) == NULL, "bad dtype must fail");
	CHECK(strstr(tensor_last_error(), "dtype 42") != NULL, "%s", tensor_last_error());
	CHECK(tensor_data(tensor_transpose(x, 0, 1)) == NULL, "non-contiguous data must fail");
	CHECK(strncmp(tensor_last_error(), "tensor_data: ", 13) == 0, "%s", tensor_last_error());
	float out[5];
	CHECK(tensor_read_f32(x, out, 5) == -1, "read with wrong n must fail");
	tensor_frame_pop();
}

static void test_host_access_and_misc(void)
{
	float d[4] = { 1.5f, -2, 3, 4 }, got[4];
	int64_t ids[3] = { 7, -1, 3 }, n3 = 3, shape[2] = { 2, 4 };
	double item = 0;
	tensor_frame_push();
	tensor *x = from(d, 2, 2, 2, 0, 0);
	CHECK(tensor_data(x) && ((float *)tensor_data(x))[1] == -2, "data pointer");
	CHECK(tensor_item(tensor_sum(x), &item) == 0 && item == 6.5, "item %g", item);
	CHECK(tensor_dtype(x) == TENSOR_F32 && tensor_device(x) == TENSOR_CPU, "dtype/device");
	check_values(tensor_from_i64(ids, &n3, 1), (float[]){ 7, -1, 3 }, 3, 0, "i64 read as f32");
	tensor *bf = tensor_to(x, TENSOR_BF16, TENSOR_CPU);
	CHECK(tensor_dtype(bf) == TENSOR_BF16, "to bf16");
	check_values(bf, d, 4, 0, "bf16 round trip");
	tensor *y = tensor_zeros(shape, 2, TENSOR_F32, TENSOR_CPU);
	float w[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	CHECK(tensor_write_f32(y, w, 8) == 0, "write: %s", tensor_last_error());
	check_values(tensor_narrow(y, 1, 1, 2), (float[]){ 1, 2, 5, 6 }, 4, 0, "narrow");
	check_values(tensor_argmax(y, 1), (float[]){ 3, 3 }, 2, 0, "argmax");
	tensor *cat[2] = { x, x };
	CHECK(tensor_size(tensor_cat(cat, 2, 0), 0) == 4, "cat");
	CHECK(tensor_read_f32(tensor_clamp(x, -1, 2), got, 4) == 0 && got[1] == -1 && got[3] == 2,
	      "clamp");
	CHECK(strncmp(tensor_backend_info(), "libtorch ", 9) == 0, "%s", tensor_backend_info());
	int prev = tensor_set_grad_enabled(0);
	CHECK(prev == 1 && tensor_grad_enabled() == 0, "grad mode off");
	tensor_set_grad_enabled(prev);
	tensor_frame_pop();
}

static void test_multinomial(void)
{
	float onehot[8] = { 0, 0, 1, 0, 1, 0, 0, 0 }, p[8], s1[2], s2[2];
	fill_uniform(p, 8, 1);
	for (int i = 0; i < 8; i++)
		p[i] = fabsf(p[i]) + 0.01f;
	tensor_frame_push();
	tensor *t = tensor_multinomial(from(onehot, 2, 2, 4, 0, 0), 1);
	check_values(t, (float[]){ 2, 0 }, 2, 0, "multinomial one-hot");
	CHECK(tensor_dtype(t) == TENSOR_I64 && tensor_size(t, 1) == 1, "(B,1) int64");
	tensor *pt = tensor_softmax(from(p, 2, 2, 4, 0, 0), -1);
	tensor_read_f32(tensor_multinomial(pt, 99), s1, 2);
	tensor_read_f32(tensor_multinomial(pt, 99), s2, 2);
	CHECK(s1[0] == s2[0] && s1[1] == s2[1], "same seed, same sample");
	tensor_frame_pop();
}

static void test_frames(void)
{
	long base = tensor_live_count();
	float d[1] = { 1 };
	tensor *hs[5000];
	CHECK(tensor_frame_push() >= 1, "push");
	for (int i = 0; i < 3; i++)
		from(d, 1, 1, 0, 0, 0);
	tensor *kept = tensor_keep(from(d, 1, 1, 0, 0, 0));
	tensor_free(from(d, 1, 1, 0, 0, 0));
	CHECK(tensor_live_count() == base + 4, "live %ld, want %ld", tensor_live_count(), base + 4);
	tensor_frame_pop();
	CHECK(tensor_live_count() == base + 1, "after pop %ld, want %ld", tensor_live_count(), base + 1);
	tensor_free(kept);
	CHECK(tensor_live_count() == base, "after free %ld, want %ld", tensor_live_count(), base);

	/* holes in a long frame: freed out of order, then compacted while more are made */
	tensor_frame_push();
	for (int i = 0; i < 5000; i++)
		hs[i] = from(d, 1, 1, 0, 0, 0);
	for (int i = 1; i < 5000; i += 2)
		tensor_free(hs[i]);
	for (int i = 0; i < 5000; i++)
		from(d, 1, 1, 0, 0, 0);
	tensor_keep(hs[4998]);
	tensor_free(hs[10]);
	CHECK(tensor_live_count() == base + 2500 + 5000 - 1, "live %ld", tensor_live_count());
	tensor_frame_pop();
	CHECK(tensor_live_count() == base + 1, "after pop %ld", tensor_live_count());
	check_values(hs[4998], d, 1, 0, "kept handle survives compaction");
	tensor_free(hs[4998]);
	CHECK(tensor_live_count() == base, "after free %ld, want %ld", tensor_live_count(), base);
	tensor_frame_pop(); /* no frame: refused */
	CHECK(strncmp(tensor_last_error(), "tensor_frame_pop: ", 18) == 0, "%s", tensor_last_error());
}

/* the leak check: a two-layer MLP on fixed data, 20 steps of AdamW in frames */
enum { LB = 2, LT = 6, LD = 8, LF = 16, LV = 8, LSTEPS = 20 };

static double train_step(tensor **ps, tensor **m, tensor **v, tensor *x, tensor *tg, long step)
{
	struct tensor_adamw hp = { 0.05, 0.9, 0.999, 1e-8, 0.01, step };
	double loss_v = NAN, norm = 0;
	tensor_frame_push();
	tensor *h = tensor_silu(tensor_linear(x, ps[0], ps[1]));
	tensor *lp = tensor_token_logprobs(tensor_linear(h, ps[2], NULL), tg, NULL);
	tensor *loss = tensor_neg(tensor_mean(lp));
	CHECK(tensor_item(loss, &loss_v) == 0, "loss: %s", tensor_last_error());
	CHECK(tensor_backward(loss) == 0, "backward: %s", tensor_last_error());
	CHECK(tensor_clip_grad_norm(ps, 3, 1.0, &norm) == 0 && norm > 0, "clip");
	CHECK(tensor_adamw_step(ps, m, v, 3, &hp) == 0, "adamw: %s", tensor_last_error());
	CHECK(tensor_zero_grad(ps, 3) == 0, "zero_grad");
	tensor_frame_pop();
	return loss_v;
}

static void test_training_leak(void)
{
	static float w1[LF * LD], b1[LF], w2[LV * LF], x[LB * LT * LD];
	int64_t tg[LB * LT], shapes[3][2] = { { LF, LD }, { LF, 0 }, { LV, LF } }, tshape[2] = { LB, LT };
	const int ndims[3] = { 2, 1, 2 };
	const float *init[3] = { w1, b1, w2 };
	tensor *ps[3], *m[3], *v[3];
	long start = tensor_live_count();

	fill_uniform(w1, LF * LD, 0.3f);
	fill_uniform(w2, LV * LF, 0.3f);
	fill_uniform(x, LB * LT * LD, 1);
	for (int i = 0; i < LB * LT; i++)
		tg[i] = (int64_t)((lcg_uniform() + 1) * 0.5f * LV) % LV;
	for (int j = 0; j < 3; j++) {
		ps[j] = tensor_keep(tensor_from_f32(init[j], shapes[j], ndims[j]));
		tensor_set_requires_grad(ps[j], 1);
		m[j] = tensor_keep(tensor_zeros(shapes[j], ndims[j], TENSOR_F32, TENSOR_CPU));
		v[j] = tensor_keep(tensor_zeros(shapes[j], ndims[j], TENSOR_F32, TENSOR_CPU));
	}
	tensor *xt = tensor_keep(from(x, 3, LB, LT, LD, 0));
	tensor *tt = tensor_keep(tensor_from_i64(tg, tshape, 2));
	long mark = tensor_live_count();
	CHECK(mark == start + 11, "11 kept handles: %ld", mark - start);

	double first = train_step(ps, m, v, xt, tt, 1), last = first;
	for (long s = 2; s <= LSTEPS; s++)
		last = train_step(ps, m, v, xt, tt, s);
	CHECK(last < first - 0.2, "loss %g -> %g should fall", first, last);
	CHECK(tensor_live_count() == mark, "live after steps %ld, want %ld", tensor_live_count(), mark);

	for (int j = 0; j < 3; j++) {
		tensor_free(ps[j]);
		tensor_free(m[j]);
		tensor_free(v[j]);
	}
	tensor_free(xt);
	tensor_free(tt);
	CHECK(tensor_live_count() == start, "live at end %ld, want %ld", tensor_live_count(), start);
}

int main(void)
{
	tensor_set_threads(2);
	long start = tensor_live_count();
	test_matmul_linear();
	test_rms_norm();
	test_rope();
	test_attention();
	test_token_logprobs();
	test_clip_grad_norm();
	test_adamw_one_step();
	test_adamw_vs_torch();
	test_adamw_flat();
	test_errors();
	test_host_access_and_misc();
	test_multinomial();
	test_frames();
	test_training_leak();
	CHECK(tensor_live_count() == start, "handles leaked: %ld", tensor_live_count() - start);
	return check_done("test_tensor");
}
