/*
 * model.c - the decoder policy on ATen (see model.h): parameters with Hugging Face names, seeded
 * init from our own RNG (identical on every torch version), the training forward, weights I/O.
 */
#include "attnrl/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/config.h"
#include "attnrl/rng.h"
#include "attnrl/safetensors.h"
#include "attnrl/stop.h"

int model_config_from(struct model_config *mc, const struct config *c, int vocab_size, char *err,
		      size_t n)
{
	memset(mc, 0, sizeof(*mc));
	mc->dim = c->model.dim;
	mc->n_layers = c->model.n_layers;
	mc->n_heads = c->model.n_heads;
	mc->n_kv_heads = c->model.n_kv_heads ? c->model.n_kv_heads : c->model.n_heads;
	mc->head_dim = c->model.head_dim ? c->model.head_dim : c->model.dim / c->model.n_heads;
	mc->hidden_dim = c->model.hidden_dim;
	if (!mc->hidden_dim)
		mc->hidden_dim = ((8 * mc->dim / 3) + 31) / 32 * 32;
	mc->vocab_size = vocab_size;
	mc->max_seq_len = c->model.max_seq_len;
	mc->rope_theta = c->model.rope_theta;
	mc->norm_eps = c->model.norm_eps;
	mc->tie_embeddings = c->model.tie_embeddings;
	mc->qkv_bias = strcmp(c->model.arch, "qwen2") == 0;
	mc->qk_norm = strcmp(c->model.arch, "qwen3") == 0;
	if (mc->head_dim % 2 || mc->n_heads % mc->n_kv_heads) {
		snprintf(err, n, "model: head_dim %d must be even and n_heads %d a multiple of n_kv_heads %d",
			 mc->head_dim, mc->n_heads, mc->n_kv_heads);
		return -1;
	}
	return 0;
}

/* ---- parameters ------------------------------------------------------------------------ */

struct param_spec { const char *fmt; int layer; int64_t rows, cols; int kind; tensor **slot; };
enum { INIT_NORMAL, INIT_ONES, INIT_ZEROS, INIT_EMPTY };

static tensor *param_new(int64_t rows, int64_t cols, int kind, struct rng *r, double std)
{
	int64_t shape[2] = { rows, cols };
	int ndim = cols ? 2 : 1;
	int64_t numel = rows * (cols ? cols : 1);
	if (kind == INIT_EMPTY)
		return tensor_keep(tensor_empty(shape, ndim, TENSOR_F32, TENSOR_CPU));
	float *buf = malloc(numel * sizeof(float));
	if (!buf)
		return NULL;
	for (int64_t i = 0; i < numel; i++)
		buf[i] = kind == INIT_ONES ? 1.0f : kind == INIT_ZEROS ? 0.0f : (float)(rng_normal(r) * std);
	tensor *t = tensor_keep(tensor_from_f32(buf, shape, ndim));
	free(buf);
	return t;
}

/* the parameter list in Hugging Face order: name, shape, init and the model slot of each */
static int param_specs(struct model *m, struct param_spec *s)
{
	const struct model_config *c = &m->cfg;
	int64_t D = c->dim, qd = (int64_t)c->n_heads * c->head_dim, kd = (int64_t)c->n_kv_heads * c->head_dim;
	int64_t F = c->hidden_dim, E = c->head_dim;
	int n = 0;
#define SPEC(f, l, r, cc, k, slot) s[n++] = (struct param_spec){ f, l, r, cc, k, slot }
	SPEC("model.embed_tokens.weight", -1, c->vocab_size, D, INIT_NORMAL, &m->embed);
	for (int l = 0; l < c->n_layers; l++) {
		struct model_layer *ly = &m->layers[l];
		SPEC("model.layers.%d.input_layernorm.weight", l, D, 0, INIT_ONES, &ly->attn_norm);
		SPEC("model.layers.%d.self_attn.q_proj.weight", l, qd, D, INIT_NORMAL, &ly->wq);
		SPEC("model.layers.%d.self_attn.k_proj.weight", l, kd, D, INIT_NORMAL, &ly->wk);
		SPEC("model.layers.%d.self_attn.v_proj.weight", l, kd, D, INIT_NORMAL, &ly->wv);
		if (c->qkv_bias) {
			SPEC("model.layers.%d.self_attn.q_proj.bias", l, qd, 0, INIT_ZEROS, &ly->bq);
			SPEC("model.layers.%d.self_attn.k_proj.bias", l, kd, 0, INIT_ZEROS, &ly->bk);
			SPEC("model.layers.%d.self_attn.v_proj.bias", l, kd, 0, INIT_ZEROS, &ly->bv);
		}
		if (c->qk_norm) {
			SPEC("model.layers.%d.self_attn.q_norm.weight", l, E, 0, INIT_ONES, &ly->q_norm);
			SPEC("model.layers.%d.self_attn.k_norm.weight", l, E, 0, INIT_ONES, &ly->k_norm);
		}
		SPEC("model.layers.%d.self_attn.o_proj.weight", l, D, qd, INIT_NORMAL, &ly->wo);
		SPEC("model.layers.%d.post_attention_layernorm.weight", l, D, 0, INIT_ONES, &ly->ffn_norm);
		SPEC("model.layers.%d.mlp.gate_proj.weight", l, F, D, INIT_NORMAL, &ly->w_gate);
		SPEC("model.layers.%d.mlp.up_proj.weight", l, F, D, INIT_NORMAL, &ly->w_up);
		SPEC("model.layers.%d.mlp.down_proj.weight", l, D, F, INIT_NORMAL, &ly->w_down);
	}
	SPEC("model.norm.weight", -1, D, 0, INIT_ONES, &m->final_norm);
	if (!c->tie_embeddings)
		SPEC("lm_head.weight", -1, c->vocab_size, D, INIT_NORMAL, &m->lm_head);
#undef SPEC
	return n;
}

/* Hugging Face's inverse frequency of pair i, with rope_scaling applied */
static float rope_inv_freq(const struct model_config *c, int i)
{
	double inv = 1.0 / pow(c->rope_theta, (double)(2 * i) / c->head_dim);
	double f = c->rope_factor;
	if (c->rope_scaling == ROPE_SCALING_LINEAR)
		return (float)(inv / f);
	if (c->rope_scaling != ROPE_SCALING_LLAMA3)
		return (float)inv;
	double orig = c->rope_original_max, lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
	double wavelen = 2 * M_PI / inv;
	if (wavelen < orig / hi)
		return (float)inv;              /* high frequencies stay */
	if (wavelen > orig / lo)
		return (float)(inv / f);        /* low frequencies are divided by factor */
	double smooth = (orig / wavelen - lo) / (hi - lo);
	return (float)((1 - smooth) * inv / f + smooth * inv);
}

static int rope_tables(struct model *m)
{
	const struct model_config *c = &m->cfg;
	int T = c->max_seq_len, E = c->head_dim;
	float *cs = malloc((size_t)T * E * sizeof(float)), *sn = malloc((size_t)T * E * sizeof(float));
	if (!cs || !sn) {
		free(cs);
		free(sn);
		return -1;
	}
	for (int i = 0; i < E / 2; i++) {
		/* as Hugging Face: inverse frequencies and angles in fp32 */
		float inv = rope_inv_freq(c, i);
		for (int t = 0; t < T; t++) {
			float a = (float)t * inv;
			cs[(size_t)t * E + i] = cs[(size_t)t * E + i + E / 2] = cosf(a);
			sn[(size_t)t * E + i] = sn[(size_t)t * E + i + E / 2] = sinf(a);
		}
	}
	int64_t shape[2] = { T, E };
	m->rope_cos = tensor_keep(tensor_from_f32(cs, shape, 2));
	m->rope_sin = tensor_keep(tensor_from_f32(sn, shape, 2));
	free(cs);
	free(sn);
	return m->rope_cos && m->rope_sin ? 0 : -1;
}

static struct model *model_alloc(const struct model_config *mc)
{
	struct model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *mc;
	m->layers = calloc(mc->n_layers, sizeof(*m->layers));
	for (int l = 0; m->layers && l < mc->n_layers; l++)
		m->layers[l].owner = m;
	int cap = 16 * mc->n_layers + 8;
	m->params = calloc(cap, sizeof(tensor *));
	m->names = calloc(cap, sizeof(char *));
	if (!m->layers || !m->params || !m->names) {
		model_destroy(m);
		return NULL;
	}
	return m;
}

/* a detached copy of p on device (a deep copy also when p is there already) */
static tensor *param_copy(const tensor *p, int device)
{
	if (tensor_device(p) == device)
		return tensor_keep(tensor_clone(p));
	return tensor_keep(tensor_to(p, TENSOR_F32, device));
}

/* the rope tables (made on the CPU) moved to the parameters' device */
static int rope_to(struct model *m, int device)
{
	if (device == TENSOR_CPU)
		return 0;
	tensor *c = param_copy(m->rope_cos, device), *s = param_copy(m->rope_sin, device);
	tensor_free(m->rope_cos);
	tensor_free(m->rope_sin);
	m->rope_cos = c;
	m->rope_sin = s;
	return c && s ? 0 : -1;
}

/* creates every parameter with init(spec), or as a copy of src's on device; records names */
static int model_build(struct model *m, struct rng *r, double std, const struct model *src,
		       int device)
{
	struct param_spec *specs = calloc(16 * m->cfg.n_layers + 8, sizeof(*specs));
	if (!specs)
		return -1;
	int n = param_specs(m, specs), rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		char name[128];
		snprintf(name, sizeof(name), specs[i].fmt, specs[i].layer);
		tensor *t = src ? param_copy(src->params[i], device)
				: param_new(specs[i].rows, specs[i].cols, r ? specs[i].kind : INIT_EMPTY, r, std);
		m->names[i] = strdup(name);
		m->params[i] = *specs[i].slot = t;
		m->n_params = i + 1;
		rc = t && m->names[i] ? 0 : -1;
		if (t)
			m->n_elements += tensor_numel(t);
	}
	free(specs);
	if (m->cfg.tie_embeddings)
		m->lm_head = m->embed;
	return rc || rope_tables(m) ? -1 : rope_to(m, device);
}

struct model *model_create(const struct model_config *mc, uint64_t seed, double init_std)
{
	struct model *m = model_alloc(mc);
	struct rng r;
	rng_init3(&r, seed, 0x6d6f64656cULL, 0);
	if (m && model_build(m, &r, init_std, NULL, TENSOR_CPU)) {
		model_destroy(m);
		return NULL;
	}
	return m;
}

struct model *model_create_empty(const struct model_config *mc)
{
	struct model *m = model_alloc(mc);
	if (m && model_build(m, NULL, 0, NULL, TENSOR_CPU)) {
		model_destroy(m);
		return NULL;
	}
	return m;
}

const char *model_arch_name(const struct model_config *mc)
{
	return mc->qk_norm ? "qwen3" : mc->qkv_bias ? "qwen2" : "llama";
}

struct model *model_clone(const struct model *src)
{
	return model_to_device(src, model_device(src), src->compute_dtype);
}

struct model *model_to_device(const struct model *src, int device, int compute_dtype)
{
	struct model *m = model_alloc(&src->cfg);
	if (m && model_build(m, NULL, 0, src, device)) {
		model_destroy(m);
		return NULL;
	}
	if (m)
		m->compute_dtype = compute_dtype;
	return m;
}

int model_device(const struct model *m)
{
	return tensor_device(m->params[0]);
}

int model_copy_weights(struct model *dst, const struct model *src)
{
	if (dst->n_params != src->n_params)
		return -1;
	for (int i = 0; i < dst->n_params; i++)
		if (tensor_copy_(dst->params[i], src->params[i]))
			return -1;
	return 0;
}

void model_destroy(struct model *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n_params; i++) {
		tensor_free(m->params[i]);
		free(m->names[i]);
	}
	tensor_free(m->rope_cos);
	tensor_free(m->rope_sin);
	free(m->params);
	free(m->names);
	free(m->layers);
	free(m);
}

int model_set_requires_grad(struct model *m, int flag)
{
	for (int i = 0; i < m->n_params; i++)
		if (tensor_set_requires_grad(m->params[i], flag))
			return -1;
	return 0;
}

/* ---- training forward ------------------------------------------------------------------ */

/* (B,T,heads*E) -> (B,heads,T,E), q/k-normed and rotated when asked */
static tensor *heads_of(const tensor *x, int heads, int E, const tensor *norm, double eps,
			const tensor *cos, const tensor *sin)
{
	int64_t shape[4] = { tensor_size(x, 0), tensor_size(x, 1), heads, E };
	tensor *h = tensor_reshape(x, shape, 4);
	if (norm)
		h = tensor_rms_norm(h, norm, eps);
	h = tensor_transpose(h, 1, 2);
	return cos ? tensor_rope(h, cos, sin) : h;
}

/* parameter p in the compute dtype: p itself in fp32, else a cast that autograd follows back
 * to the fp32 master weight (bf16 weights and activations, fp32 gradients); NULL stays NULL */
static const tensor *W(const struct model *m, const tensor *p)
{
	if (!p || m->compute_dtype == TENSOR_F32)
		return p;
	return tensor_to(p, m->compute_dtype, tensor_device(p));
}

static tensor *attention_block(const struct model *m, const struct model_layer *ly, tensor *x,
			       const tensor *cos, const tensor *sin)
{
	const struct model_config *c = &m->cfg;
	int E = c->head_dim;
	tensor *h = tensor_rms_norm(x, W(m, ly->attn_norm), c->norm_eps);
	tensor *q = heads_of(tensor_linear(h, W(m, ly->wq), W(m, ly->bq)), c->n_heads, E,
			     W(m, ly->q_norm), c->norm_eps, cos, sin);
	tensor *k = heads_of(tensor_linear(h, W(m, ly->wk), W(m, ly->bk)), c->n_kv_heads, E,
			     W(m, ly->k_norm), c->norm_eps, cos, sin);
	tensor *v = heads_of(tensor_linear(h, W(m, ly->wv), W(m, ly->bv)), c->n_kv_heads, E, NULL,
			     0, NULL, NULL);
	tensor *a = tensor_attention_causal(q, k, v, 1.0 / sqrt((double)E));
	int64_t shape[3] = { tensor_size(x, 0), tensor_size(x, 1), (int64_t)c->n_heads * E };
	a = tensor_reshape(tensor_contiguous(tensor_transpose(a, 1, 2)), shape, 3);
	return tensor_add(x, tensor_linear(a, W(m, ly->wo), NULL));
}

static tensor *mlp_block(const struct model *m, const struct model_layer *ly, tensor *x)
{
	tensor *h = tensor_rms_norm(x, W(m, ly->ffn_norm), m->cfg.norm_eps);
	tensor *g = tensor_silu(tensor_linear(h, W(m, ly->w_gate), NULL));
	tensor *u = tensor_linear(h, W(m, ly->w_up), NULL);
	return tensor_add(x, tensor_linear(tensor_mul(g, u), W(m, ly->w_down), NULL));
}

/* the output layer's weight in the compute dtype (the embedding's when tied) */
static const tensor *head_weight(const struct model *m)
{
	return W(m, m->lm_head);
}

/* one decoder layer on x (B,T,D); ctx is the layer (tensor_segment_fn) */
static tensor *decoder_layer(void *ctx, const tensor *x)
{
	const struct model_layer *ly = ctx;
	const struct model *m = ly->owner;
	int64_t T = tensor_size(x, 1);
	tensor *cos = tensor_narrow(m->rope_cos, 0, 0, T), *sin = tensor_narrow(m->rope_sin, 0, 0, T);
	return mlp_block(m, ly, attention_block(m, ly, (tensor *)x, cos, sin));
}

tensor *model_hidden(const struct model *m, const tensor *ids)
{
	if (tensor_size(ids, 1) > m->cfg.max_seq_len)
		return NULL;
	tensor *x = tensor_embedding(W(m, m->embed), ids);
	for (int l = 0; l < m->cfg.n_layers; l++)
		x = m->checkpoint_layers ? tensor_checkpoint(x, decoder_layer, &m->layers[l])
					 : decoder_layer(&m->layers[l], x);
	return tensor_rms_norm(x, W(m, m->final_norm), m->cfg.norm_eps);
}

tensor *model_forward(const struct model *m, const tensor *ids)
{
	return tensor_linear(model_hidden(m, ids), head_weight(m), NULL);
}

tensor *model_token_logprobs(const struct model *m, const tensor *ids, const tensor *targets,
			     double temperature, long chunk, tensor **entropy)
{
	double inv_temp = temperature > 0 ? 1.0 / temperature : 1.0;
	if (chunk != MODEL_FULL_LOGITS)
		return tensor_head_logprobs(model_hidden(m, ids), head_weight(m), targets, inv_temp,
					    chunk, entropy);
	tensor *logits = model_forward(m, ids);
	if (logits && m->compute_dtype != TENSOR_F32) /* widened before the scale and softmax */
		logits = tensor_to(logits, TENSOR_F32, tensor_device(logits));
	if (inv_temp != 1.0)
		logits = tensor_mul_scalar(logits, inv_temp);
	return tensor_token_logprobs(logits, targets, entropy);
}

/* ---- weights I/O ----------------------------------------------------------------------- */

static void meta_dims(const struct model_config *c, char vals[][32])
{
	int v[] = { c->dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->hidden_dim,
		    c->vocab_size, c->tie_embeddings, c->qkv_bias, c->qk_norm };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		snprintf(vals[i], 32, "%d", v[i]);
}

static const char *META_KEYS[] = { "dim", "n_layers", "n_heads", "n_kv_heads", "head_dim",
				   "hidden_dim", "vocab_size", "tie_embeddings", "qkv_bias", "qk_norm" };
#define N_META ((int)(sizeof(META_KEYS) / sizeof(META_KEYS[0])))

int model_save(const struct model *m, const char *path, char *err, size_t n)
{
	struct st_entry *e = calloc(m->n_params, sizeof(*e));
	int64_t(*shapes)[2] = calloc(m->n_params, sizeof(*shapes));
	char vals[N_META][32];
	const char *meta[2 * N_META + 2];
	int rc = -1;
	if (!e || !shapes) {
		snprintf(err, n, "model_save: out of memory");
		goto out;
	}
	meta_dims(&m->cfg, vals);
	for (int i = 0; i < N_META; i++) {
		meta[2 * i] = META_KEYS[i];
		meta[2 * i + 1] = vals[i];
	}
	meta[2 * N_META] = "format";
	meta[2 * N_META + 1] = "pt";
	tensor_frame_push(); /* parameters on a GPU are written from host copies */
	for (int i = 0; i < m->n_params; i++) {
		tensor *p = m->params[i];
		if (tensor_device(p) != TENSOR_CPU)
			p = tensor_to(p, TENSOR_F32, TENSOR_CPU);
		int nd = tensor_ndim(p);
		for (int d = 0; d < nd; d++)
			shapes[i][d] = tensor_size(p, d);
		e[i] = (struct st_entry){ m->names[i], ST_F32, nd, shapes[i], tensor_data(p) };
	}
	rc = st_write(path, e, m->n_params, meta, N_META + 1, err, n);
	tensor_frame_pop();
out:
	free(e);
	free(shapes);
	return rc;
}

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape)
{
	size_t k = snprintf(buf, n, "[");
	for (int d = 0; d < ndim && k < n; d++)
		k += snprintf(buf + k, n - k, "%s%lld", d ? ", " : "", (long long)shape[d]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

/* "; set model.n_layers=5 ..." for the keys whose value in the file's metadata differs from
 * m's, in config keys (qkv_bias / qk_norm are model.arch; the vocabulary is the tokenizer's) */
static void meta_hint(const struct model *m, const struct st_file *f, char *buf, size_t n)
{
	char now[N_META][32];
	const char *v, *arch[] = { "llama", "qwen2", "qwen3" };
	size_t k = 0;
	int a = 0, arch_differs = 0;
	buf[0] = 0;
	meta_dims(&m->cfg, now);
	for (int i = 0; i < N_META && k < n; i++) {
		const char *key = META_KEYS[i];
		if (!(v = st_meta(f, key)) || !strcmp(v, now[i]) || !strcmp(key, "vocab_size"))
			continue;
		if (!strcmp(key, "qkv_bias") || !strcmp(key, "qk_norm")) {
			arch_differs = 1;
			continue;
		}
		if (!strcmp(key, "tie_embeddings"))
			v = strcmp(v, "0") ? "true" : "false";
		k += snprintf(buf + k, n - k, "%smodel.%s=%s", k ? " " : "; set ", key, v);
	}
	if ((v = st_meta(f, "qk_norm")) && !strcmp(v, "1"))
		a = 2;
	else if ((v = st_meta(f, "qkv_bias")) && !strcmp(v, "1"))
		a = 1;
	if (arch_differs && k < n)
		k += snprintf(buf + k, n - k, "%smodel.arch=%s", k ? " " : "; set ", arch[a]);
	if (k && k < n)
		k += snprintf(buf + k, n - k, " as the file was written");
	v = st_meta(f, "vocab_size");
	if (v && atol(v) != m->cfg.vocab_size && k < n)
		snprintf(buf + k, n - k, "; the file's vocabulary is %s tokens, model.tokenizer's %d: "
			 "give model.tokenizer the one it was trained with", v, m->cfg.vocab_size);
}

static int load_one(struct model *m, int i, const struct st_file *f, const char *path, char *err,
		    size_t n)
{
	const struct st_tensor *t = st_find(f, m->names[i]);
	tensor *p = m->params[i];
	char want[96], got[96], hint[400];
	int nd = tensor_ndim(p), same = t && t->ndim == nd && t->dtype == ST_F32;
	int64_t shape[8];
	for (int d = 0; d < nd; d++)
		shape[d] = tensor_size(p, d);
	for (int d = 0; same && d < nd; d++)
		same = t->shape[d] == shape[d];
	if (same)
		return tensor_write_f32(p, t->data, tensor_numel(p));
	meta_hint(m, f, hint, sizeof(hint));
	shape_text(want, sizeof(want), nd, shape);
	if (!t) {
		snprintf(err, n, "model.path '%s': missing tensor '%s' %s%s", path, m->names[i], want,
			 hint);
		return -1;
	}
	shape_text(got, sizeof(got), t->ndim, t->shape);
	snprintf(err, n, "model.path '%s': tensor '%s' is %s %s but the config needs F32 %s%s", path,
		 m->names[i], st_dtype_name(t->dtype), got, want, hint);
	return -1;
}

int model_load_stopped(const char *path, char *err, size_t n)
{
	snprintf(err, n, "'%s': loading stopped by %s", path, stop_reason(stop_requested()));
	return -1;
}

int model_load(struct model *m, const char *path, char *err, size_t n)
{
	struct st_file f;
	if (st_open(&f, path, err, n))
		return -1;
	int rc = 0;
	for (int i = 0; i < m->n_params && !rc; i++)
		rc = stop_requested() ? model_load_stopped(path, err, n) : load_one(m, i, &f, path, err, n);
	st_close(&f);
	return rc;
}

/* ---- engine view ----------------------------------------------------------------------- */

static const float *fp(const tensor *t)
{
	return t ? (const float *)tensor_data((tensor *)t) : NULL;
}

void model_engine_config(const struct model *m, struct engine_config *ec)
{
	const struct model_config *c = &m->cfg;
	*ec = (struct engine_config){ c->dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim,
				      c->hidden_dim, c->vocab_size, (float)c->norm_eps, c->qkv_bias,
				      c->qk_norm };
}

void model_engine_weights(const struct model *m, struct engine_weights *w)
{
	w->embed = fp(m->embed);
	w->final_norm = fp(m->final_norm);
	w->lm_head = fp(m->lm_head);
	w->rope_cos = fp(m->rope_cos);
	w->rope_sin = fp(m->rope_sin);
	for (int l = 0; l < m->cfg.n_layers; l++) {
		const struct model_layer *y = &m->layers[l];
		w->layers[l] = (struct engine_layer_weights){
			fp(y->attn_norm), fp(y->wq), fp(y->wk), fp(y->wv), fp(y->wo), fp(y->bq),
			fp(y->bk), fp(y->bv), fp(y->q_norm), fp(y->k_norm), fp(y->ffn_norm),
			fp(y->w_gate), fp(y->w_up), fp(y->w_down) };
	}
}
