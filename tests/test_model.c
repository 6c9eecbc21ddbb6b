/*
 * test_model.c - the decoder and the GRPO loss against an outside oracle, and the two engines
 * against each other:
 *  1. logits, loss and every parameter gradient equal tests/ref/model_ref.py (PyTorch, written
 *     from the Hugging Face conventions) for llama (tied, GQA), qwen2 (q/k/v bias, untied) and
 *     qwen3 (q/k norm), under each loss aggregation, with KL and entropy terms;
 *  2. the decode engine's logits equal the training forward's: all rows at once (prefill), one
 *     token at a time (KV-cache decode), and a prefill followed by decode steps;
 *  3. the GPU run's precision (model_to_device with bf16 compute, run here on the CPU): bf16
 *     logits, fp32 gradients on the fp32 master weights, and logits, loss and gradients close
 *     to the reference run in bf16 the Hugging Face way (bf16 weights and activations, RMSNorm
 *     and softmax in fp32) over fp32 leaves; errors relative to each tensor's norm;
 *  4. the output layer in chunks of tokens (model_token_logprobs with a chunk size: no (B,T,V)
 *     logits) against the full logits, its reference: the loss and every parameter's gradient
 *     within 2e-6 of its norm in fp32 (the loss within 1e-6), within bf16 rounding in bf16; tied
 *     and untied heads, temperature, entropy and KL terms, chunks of 1, 5 and the automatic size;
 *     with activation checkpointing (the layers run again in the backward) the same bits.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/engine.h"
#include "attnrl/grpo_advantage.h"
#include "attnrl/grpo_loss.h"
#include "attnrl/model.h"
#include "attnrl/rng.h"
#include "attnrl/safetensors.h"
#include "attnrl/stop.h"
#include "check.h"

#define B 3
#define T 11
#define V 100

struct ref_case {
	const char *name;
	int qkv_bias, qk_norm, tie;
	const char *agg;
	double kl, ent, temp;
	int bf16; /* the GPU's precision: bf16 forward/backward over fp32 master weights */
};
#define F32 0

static struct model *small_model(const struct ref_case *rc, uint64_t seed)
{
	struct model_config mc = { .dim = 32, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2,
				   .head_dim = 8, .hidden_dim = 64, .vocab_size = V,
				   .max_seq_len = 64, .rope_theta = 10000.0, .norm_eps = 1e-5,
				   .tie_embeddings = rc->tie, .qkv_bias = rc->qkv_bias,
				   .qk_norm = rc->qk_norm };
	struct model *m = model_create(&mc, seed, 0.2);
	struct rng r;
	rng_init(&r, seed + 7);
	/* norms and biases away from their 1/0 init so that they are really tested */
	for (int i = 0; m && i < m->n_params; i++) {
		int is_norm = strstr(m->names[i], "norm") != NULL, is_bias = strstr(m->names[i], "bias") != NULL;
		if (!is_norm && !is_bias)
			continue;
		int64_t n = tensor_numel(m->params[i]);
		float *buf = malloc(n * sizeof(float));
		for (int64_t j = 0; j < n; j++)
			buf[j] = (float)((is_norm ? 1.0 : 0.0) + 0.3 * rng_normal(&r));
		tensor_write_f32(m->params[i], buf, n);
		free(buf);
	}
	return m;
}

struct batch_data {
	int64_t ids[B * T], targets[B * T];
	float mask[B * T], old[B * T], ref[B * T], adv[B * T], w[B * T];
	int lens[B];
};

static void make_batch(struct batch_data *d, const struct ref_case *rc, struct rng *r)
{
	int prompt[B] = { 3, 5, 2 }, resp[B] = { 8, 4, 9 };
	long tokens = 0;
	for (int b = 0; b < B; b++) {
		float a = (float)rng_normal(r);
		for (int t = 0; t < T; t++) {
			int i = b * T + t, in = t >= prompt[b] - 1 && t < prompt[b] - 1 + resp[b];
			d->ids[i] = rng_range(r, 0, V - 1);
			d->targets[i] = rng_range(r, 0, V - 1);
			d->mask[i] = in;
			d->old[i] = in ? (float)(-4.6 + 0.5 * rng_normal(r)) : 0.0f;
			d->ref[i] = in ? (float)(-4.6 + 0.5 * rng_normal(r)) : 0.0f;
			d->adv[i] = in ? a : 0.0f;
		}
		d->lens[b] = resp[b];
		tokens += resp[b];
	}
	enum loss_agg agg;
	loss_agg_parse(rc->agg, &agg);
	adv_token_weights(d->mask, d->lens, B, T, agg, B, tokens, 12, d->w);
}

/* metadata the reference needs: dims and hyperparameters, as strings */
static void case_meta(const struct model *m, const struct ref_case *rc, char vals[][48],
		      const char **meta)
{
	const struct model_config *c = &m->cfg;
	const char *keys[] = { "case", "dim", "n_layers", "n_heads", "n_kv_heads", "head_dim",
			       "norm_eps", "rope_theta", "clip_low", "clip_high", "kl_coef",
			       "entropy_coef", "temperature", "max_new_tokens", "loss_agg", "dtype" };
	snprintf(vals[0], 48, "%s", rc->name);
	snprintf(vals[1], 48, "%d", c->dim);
	snprintf(vals[2], 48, "%d", c->n_layers);
	snprintf(vals[3], 48, "%d", c->n_heads);
	snprintf(vals[4], 48, "%d", c->n_kv_heads);
	snprintf(vals[5], 48, "%d", c->head_dim);
	snprintf(vals[6], 48, "%.17g", c->norm_eps);
	snprintf(vals[7], 48, "%.17g", c->rope_theta);
	snprintf(vals[8], 48, "0.2");
	snprintf(vals[9], 48, "0.28");
	snprintf(vals[10], 48, "%.17g", rc->kl);
	snprintf(vals[11], 48, "%.17g", rc->ent);
	snprintf(vals[12], 48, "%.17g", rc->temp);
	snprintf(vals[13], 48, "12");
	snprintf(vals[14], 48, "%s", rc->agg);
	snprintf(vals[15], 48, "%s", rc->bf16 ? "bf16" : "f32");
	for (int i = 0; i < 16; i++) {
		meta[2 * i] = keys[i];
		meta[2 * i + 1] = vals[i];
	}
}

/* writes params, batch, attnrl's outputs (logits, loss, grads) and metadata into path */
static int write_case(const char *path, const struct model *m, const struct ref_case *rc,
		      struct batch_data *d, tensor *logits, double loss)
{
	int n = m->n_params, k = 0, rc_ = -1;
	struct st_entry *e = calloc(2 * n + 8, sizeof(*e));
	int64_t (*shapes)[2] = calloc(n, sizeof(*shapes));
	char (*gnames)[160] = calloc(n, sizeof(*gnames));
	float **grads = calloc(n, sizeof(float *));
	float *lg = malloc(B * T * V * sizeof(float)), lv = (float)loss;
	int64_t bt[2] = { B, T }, one[1] = { 1 }, lshape[3] = { B, T, V };
	char vals[16][48], err[256];
	const char *meta[32];
	for (int i = 0; i < n; i++) {
		tensor *p = m->params[i];
		int nd = tensor_ndim(p);
		for (int j = 0; j < nd; j++)
			shapes[i][j] = tensor_size(p, j);
		grads[i] = malloc(tensor_numel(p) * sizeof(float));
		tensor_read_f32(tensor_grad(p), grads[i], tensor_numel(p));
		snprintf(gnames[i], 160, "out.grad.%s", m->names[i]);
		e[k++] = (struct st_entry){ m->names[i], ST_F32, nd, shapes[i], tensor_data(p) };
		e[k++] = (struct st_entry){ gnames[i], ST_F32, nd, shapes[i], grads[i] };
	}
	tensor_read_f32(logits, lg, B * T * V);
	e[k++] = (struct st_entry){ "ids", ST_I64, 2, bt, d->ids };
	e[k++] = (struct st_entry){ "targets", ST_I64, 2, bt, d->targets };
	e[k++] = (struct st_entry){ "mask", ST_F32, 2, bt, d->mask };
	e[k++] = (struct st_entry){ "old_logp", ST_F32, 2, bt, d->old };
	e[k++] = (struct st_entry){ "ref_logp", ST_F32, 2, bt, d->ref };
	e[k++] = (struct st_entry){ "adv", ST_F32, 2, bt, d->adv };
	e[k++] = (struct st_entry){ "out.logits", ST_F32, 3, lshape, lg };
	e[k++] = (struct st_entry){ "out.loss", ST_F32, 1, one, &lv };
	case_meta(m, rc, vals, meta);
	rc_ = st_write(path, e, k, meta, 16, err, sizeof(err));
	if (rc_)
		fprintf(stderr, "%s\n", err);
	for (int i = 0; i < n; i++)
		free(grads[i]);
	free(grads);
	free(gnames);
	free(shapes);
	free(e);
	free(lg);
	return rc_;
}

/* attnrl's forward + loss + backward on the case, then the PyTorch reference judges */
/* the reference cases are written beside this program (its build's tests/ folder) */
static char scratch[200] = ".";
/* the reference's python: PY_REF (make test: the one whose torch this build links, so that
 * both bf16 computations round in the same kernels), else Debian's */
static const char *py_ref = "/usr/bin/python3";

/* the case's model (with rc->bf16, the training copy a GPU run makes, here on the CPU) and its
 * batch into d */
static struct model *case_model(const struct ref_case *rc, uint64_t seed, struct batch_data *d)
{
	struct model *m = small_model(rc, seed);
	struct rng r;
	rng_init(&r, seed);
	make_batch(d, rc, &r);
	if (rc->bf16) {
		struct model *mb = model_to_device(m, TENSOR_CPU, TENSOR_BF16);
		model_destroy(m);
		m = mb;
		CHECK(m != NULL, "%s: model_to_device: %s", rc->name, tensor_last_error());
	}
	return m;
}

static void check_against_reference(const struct ref_case *rc, uint64_t seed)
{
	struct batch_data d;
	struct model *m = case_model(rc, seed, &d);
	model_set_requires_grad(m, 1);
	tensor_frame_push();
	int64_t bt[2] = { B, T };
	tensor *logits = model_forward(m, tensor_from_i64(d.ids, bt, 2));
	if (rc->bf16) {
		CHECK(tensor_dtype(logits) == TENSOR_BF16, "%s: the forward is not bf16", rc->name);
		logits = tensor_to(logits, TENSOR_F32, TENSOR_CPU);
	}
	tensor *ent = NULL;
	tensor *lp = tensor_token_logprobs(tensor_mul_scalar(logits, 1.0 / rc->temp),
					   tensor_from_i64(d.targets, bt, 2), rc->ent ? &ent : NULL);
	struct grpo_hparams hp = { 0.2, 0.28, rc->kl, rc->ent };
	tensor *loss = grpo_loss(lp, tensor_from_f32(d.old, bt, 2), tensor_from_f32(d.ref, bt, 2),
				 ent, tensor_from_f32(d.adv, bt, 2), tensor_from_f32(d.w, bt, 2), &hp);
	double lv = 0;
	CHECK(loss && !tensor_backward(loss) && !tensor_item(loss, &lv), "%s: %s", rc->name,
	      tensor_last_error());
	for (int i = 0; i < m->n_params; i++)
		CHECK(tensor_dtype(m->params[i]) == TENSOR_F32 &&
		      tensor_dtype(tensor_grad(m->params[i])) == TENSOR_F32,
		      "%s: %s or its gradient is not fp32", rc->name, m->names[i]);
	char path[256], cmd[512];
	snprintf(path, sizeof(path), "%s/ref_%s.safetensors", scratch, rc->name);
	CHECK(!write_case(path, m, rc, &d, logits, lv), "%s: cannot write %s", rc->name, path);
	snprintf(cmd, sizeof(cmd), "%s tests/ref/model_ref.py %s", py_ref, path);
	int status = system(cmd);
	CHECK(status == 0, "%s: the PyTorch reference disagrees (or could not run: %s)", rc->name, cmd);
	tensor_frame_pop();
	model_destroy(m);
}

/* the case's GRPO loss through model_token_logprobs with chunk; every parameter's gradient
 * into grads[i] (malloc'ed), the loss into *loss */
static int chunk_loss(struct model *m, const struct ref_case *rc, const struct batch_data *d,
		      long chunk, float **grads, double *loss)
{
	int64_t bt[2] = { B, T };
	tensor_zero_grad(m->params, m->n_params);
	tensor_frame_push();
	tensor *ent = NULL;
	tensor *lp = model_token_logprobs(m, tensor_from_i64(d->ids, bt, 2),
					  tensor_from_i64(d->targets, bt, 2), rc->temp, chunk,
					  rc->ent ? &ent : NULL);
	struct grpo_hparams hp = { 0.2, 0.28, rc->kl, rc->ent };
	tensor *l = grpo_loss(lp, tensor_from_f32(d->old, bt, 2), tensor_from_f32(d->ref, bt, 2), ent,
			      tensor_from_f32(d->adv, bt, 2), tensor_from_f32(d->w, bt, 2), &hp);
	int bad = !l || tensor_backward(l) || tensor_item(l, loss);
	for (int i = 0; !bad && i < m->n_params; i++) {
		grads[i] = malloc(tensor_numel(m->params[i]) * sizeof(float));
		bad = tensor_read_f32(tensor_grad(m->params[i]), grads[i], tensor_numel(m->params[i]));
	}
	tensor_frame_pop();
	return bad ? -1 : 0;
}

/* |a - b| / |b| (Euclidean norms) */
static double rel_err(const float *a, const float *b, int64_t n)
{
	double d = 0, s = 0;
	for (int64_t i = 0; i < n; i++) {
		d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
		s += (double)b[i] * b[i];
	}
	return s > 0 ? sqrt(d / s) : sqrt(d);
}

static void check_chunked(const struct ref_case *rc, uint64_t seed)
{
	struct batch_data d;
	struct model *m = case_model(rc, seed, &d);
	if (!m)
		return;
	model_set_requires_grad(m, 1);
	int n = m->n_params;
	float **full = calloc(n, sizeof(float *)), **part = calloc(n, sizeof(float *));
	/* fp32: 2e-6 of each gradient's norm. The loss agrees within 1e-7; the gradients of these
	 * deliberately ill-conditioned models (init std 0.2, norms 1 +- 0.3) amplify rounding: the
	 * same chunked algorithm in another summation order (chunks of 1 vs one chunk) differs by
	 * up to 6e-7, and the chunked path differs from the full logits by up to 1.0e-6 */
	double lf = 0, lc = 0, tol = rc->bf16 ? 2e-2 : 2e-6, worst = 0;
	CHECK(!chunk_loss(m, rc, &d, MODEL_FULL_LOGITS, full, &lf), "%s: full path: %s", rc->name,
	      tensor_last_error());
	static const long chunks[] = { 1, 5, 0 };
	for (int c = 0; c < 3; c++) {
		CHECK(!chunk_loss(m, rc, &d, chunks[c], part, &lc), "%s: chunk %ld: %s", rc->name,
		      chunks[c], tensor_last_error());
		double el = fabs(lc - lf) / (fabs(lf) > 1e-3 ? fabs(lf) : 1e-3);
		CHECK(el <= (rc->bf16 ? tol : 1e-6), "%s: chunk %ld: loss %.9g vs %.9g (full logits)", rc->name, chunks[c],
		      lc, lf);
		for (int i = 0; i < n; i++) {
			double e = full[i] && part[i] ? rel_err(part[i], full[i], tensor_numel(m->params[i])) : 1;
			worst = e > worst ? e : worst;
			if (getenv("DBG")) printf("  %s chunk %ld %s %.2e\n", rc->name, chunks[c], m->names[i], e);
			CHECK(e <= tol, "%s: chunk %ld: grad of %s off by %.2g of its norm", rc->name,
			      chunks[c], m->names[i], e);
			free(part[i]);
			part[i] = NULL;
		}
	}
	printf("test_model: %s: chunked output layer vs full logits: gradients within %.1e of "
	       "their norms (bound %.0e)\n", rc->name, worst, tol);
	/* activation checkpointing: the layers run again in the backward, the same arithmetic */
	double l0 = 0, l1 = 0;
	float **plain = calloc(n, sizeof(float *));
	long live = tensor_live_count();
	CHECK(!chunk_loss(m, rc, &d, 0, plain, &l0), "%s: %s", rc->name, tensor_last_error());
	m->checkpoint_layers = 1;
	CHECK(!chunk_loss(m, rc, &d, 0, part, &l1), "%s: checkpointed: %s", rc->name,
	      tensor_last_error());
	m->checkpoint_layers = 0;
	CHECK(tensor_live_count() == live, "%s: checkpointing leaks handles (%ld -> %ld)", rc->name,
	      live, tensor_live_count());
	int same = l0 == l1;
	for (int i = 0; i < n; i++) {
		same &= plain[i] && part[i] &&
			!memcmp(plain[i], part[i], tensor_numel(m->params[i]) * sizeof(float));
		free(plain[i]);
		free(part[i]);
		part[i] = NULL;
	}
	CHECK(same, "%s: checkpointed layers: loss %.9g vs %.9g, or a gradient differs", rc->name,
	      l1, l0);
	free(plain);
	for (int i = 0; i < n; i++)
		free(full[i]);
	free(full);
	free(part);
	model_destroy(m);
}

/* the decode engine against the training forward on the same weights */
static void check_engine(const struct ref_case *rc, uint64_t seed)
{
	struct model *m = small_model(rc, seed);
	struct engine_config ec;
	struct engine_layer_weights lw[2];
	struct engine_weights ew = { .layers = lw };
	model_engine_config(m, &ec);
	model_engine_weights(m, &ew);
	char err[256];
	struct engine *e = engine_create(&ec, &ew, B, B * T, 64, err, sizeof(err));
	CHECK(e != NULL, "engine_create: %s", err);
	int64_t ids[B * T];
	int32_t tok[B * T];
	int seq[B * T], pos[B * T], out[B * T];
	struct rng r;
	rng_init(&r, seed);
	for (int i = 0; i < B * T; i++) {
		ids[i] = tok[i] = (int32_t)rng_range(&r, 0, V - 1);
		seq[i] = i / T;
		pos[i] = i % T;
		out[i] = i;
	}
	int64_t bt[2] = { B, T };
	float *want = malloc(B * T * V * sizeof(float)), *got = malloc(B * T * V * sizeof(float));
	tensor_frame_push();
	tensor_read_f32(model_forward(m, tensor_from_i64(ids, bt, 2)), want, B * T * V);
	tensor_frame_pop();
	/* (a) every row in one call, (b) one token per sequence per call, (c) prefill 6 then decode */
	for (int mode = 0; mode < 3; mode++) {
		if (mode == 0) {
			CHECK(!engine_forward(e, B * T, seq, pos, tok, B * T, out, got), "engine_forward");
		} else {
			int start = mode == 1 ? 1 : 6;
			int rows[B * T], n = 0;
			float *tmp = malloc(B * T * V * sizeof(float));
			for (int b = 0; b < B; b++)
				for (int t = 0; t < start; t++)
					rows[n++] = b * T + t;
			int sq[B * T], ps[B * T], o[B * T];
			int32_t tk[B * T];
			for (int i = 0; i < n; i++) {
				sq[i] = seq[rows[i]], ps[i] = pos[rows[i]], tk[i] = tok[rows[i]], o[i] = i;
			}
			engine_forward(e, n, sq, ps, tk, n, o, tmp);
			for (int i = 0; i < n; i++)
				memcpy(got + (size_t)rows[i] * V, tmp + (size_t)i * V, V * sizeof(float));
			for (int t = start; t < T; t++) {
				for (int b = 0; b < B; b++) {
					sq[b] = b, ps[b] = t, tk[b] = tok[b * T + t], o[b] = b;
				}
				engine_forward(e, B, sq, ps, tk, B, o, tmp);
				for (int b = 0; b < B; b++)
					memcpy(got + (size_t)(b * T + t) * V, tmp + (size_t)b * V, V * sizeof(float));
			}
			free(tmp);
		}
		double worst = 0;
		for (int i = 0; i < B * T * V; i++) {
			double dlt = fabs(want[i] - got[i]);
			worst = dlt > worst ? dlt : worst;
		}
		CHECK(worst < 2e-4, "%s: engine mode %d differs from the training forward by %g",
		      rc->name, mode, worst);
		printf("engine vs training forward: %s, mode %d: max abs diff %.3g\n", rc->name, mode, worst);
	}
	free(want);
	free(got);
	engine_destroy(e);
	model_destroy(m);
}

/* last: the stop flag cannot be cleared. A stop request ends a load between two tensors, with
 * a line naming the file and the signal; a load without one reads the weights back */
static void check_load_stop(void)
{
	static const struct ref_case rc = { "load_stop", 0, 0, 1, "token-mean", 0, 0, 1, F32 };
	struct model *a = small_model(&rc, 300), *b = small_model(&rc, 301);
	char path[300], err[512] = "";
	snprintf(path, sizeof(path), "%s/load_stop.safetensors", scratch);
	CHECK(a && b && !model_save(a, path, err, sizeof(err)), "save: %s", err);
	CHECK(b && !model_load(b, path, err, sizeof(err)), "load: %s", err);
	stop_request(SIGTERM);
	CHECK(b && model_load(b, path, err, sizeof(err)) == -1 &&
	      strstr(err, "load_stop.safetensors': loading stopped by SIGTERM"), "stopped load: %s", err);
	remove(path);
	model_destroy(a);
	model_destroy(b);
}

int main(int argc, char **argv)
{
	const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
	if (getenv("PY_REF"))
		py_ref = getenv("PY_REF");
	if (slash && slash - argv[0] < (long)sizeof(scratch))
		snprintf(scratch, sizeof(scratch), "%.*s", (int)(slash - argv[0]), argv[0]);
	static const struct ref_case cases[] = {
		{ "llama_tied_gqa", 0, 0, 1, "seq-mean-token-mean", 0.0, 0.0, 1.0, F32 },
		{ "qwen2_bias_untied_tokenmean_kl", 1, 0, 0, "token-mean", 0.05, 0.0, 0.7, F32 },
		{ "qwen3_qknorm_sumnorm_entropy", 0, 1, 1, "seq-mean-token-sum-norm", 0.0, 0.01, 1.0, F32 },
		{ "qwen3_bf16_kl_entropy", 0, 1, 1, "seq-mean-token-mean", 0.05, 0.01, 0.7, 1 },
		{ "qwen2_bf16_untied", 1, 0, 0, "token-mean", 0.0, 0.0, 1.0, 1 },
	};
	tensor_set_threads(1);
	for (int i = 0; i < 5; i++) {
		check_against_reference(&cases[i], 100 + i);
		if (!cases[i].bf16)
			check_engine(&cases[i], 200 + i);
		check_chunked(&cases[i], 400 + i);
	}
	check_load_stop();
	return check_done("test_model");
}
