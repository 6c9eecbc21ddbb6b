/*
 * hf.c - Hugging Face model folders in (see hf.h): config.json -> struct hf_info, and the
 * weights of a single or sharded safetensors folder -> the parameters of a model.
 *
 * config.json follows transformers' LlamaConfig / Qwen2Config / Qwen3Config, with their
 * defaults for the optional fields (num_key_value_heads = heads, head_dim = hidden / heads,
 * rms_norm_eps 1e-6, rope_theta 10000, tie_word_embeddings false, max_position_embeddings
 * 2048 for llama and 32768 for qwen). What attnrl's decoder does not compute (o_proj or MLP
 * biases, sliding windows, other rope types, other activations) is refused, never ignored.
 *
 * Loading: each shard is mapped once; every parameter is converted into its fp32 storage and
 * the pages of the copied tensor are dropped from the mapping right away (MADV_DONTNEED on a
 * read-only private file mapping only forgets them), so the peak resident memory is the fp32
 * parameters plus about one tensor of the file.
 */
#include "attnrl/hf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/json.h"
#include "attnrl/safetensors.h"

int hf_is_folder(const char *dir)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/config.json", dir);
	return !stat(dir, &st) && S_ISDIR(st.st_mode) && !stat(p, &st);
}

/* ---- config.json ----------------------------------------------------------------------- */

struct cfg_reader {
	char path[4096];
	const char *prefix; /* "rope_scaling." inside that object */
	const struct json *root;
	char *err;
	size_t n;
};

static int cfg_fail(const struct cfg_reader *r, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->n, "%s: %s", r->path, what);
	return -1;
}

/* "\"x\" (a string)" or "2.5" for a message about value v */
static void value_text(const struct json *v, char *buf, size_t n)
{
	if (json_type(v) == JSON_NUMBER)
		snprintf(buf, n, "%.17g", json_num(v));
	else if (json_type(v) == JSON_STRING)
		snprintf(buf, n, "\"%.40s\" (a string)", json_str(v));
	else
		snprintf(buf, n, "%s", json_type_name(json_type(v)));
}

/* integer field in [lo, hi]; def < lo means required */
static int cfg_int(const struct cfg_reader *r, const struct json *obj, const char *key,
		   int64_t lo, int64_t hi, int64_t def, int *out)
{
	const struct json *v = json_get(obj, key);
	int64_t x;
	char got[80];
	if (json_type(v) == JSON_MISSING || json_type(v) == JSON_NULL) {
		if (def < lo)
			return cfg_fail(r, "field '%s%s' is missing", r->prefix, key);
		*out = (int)def;
		return 0;
	}
	if (json_int(v, &x) || x < lo || x > hi) {
		value_text(v, got, sizeof(got));
		return cfg_fail(r, "field '%s%s' is %s, not an integer in [%lld, %lld]", r->prefix, key, got,
				(long long)lo, (long long)hi);
	}
	*out = (int)x;
	return 0;
}

/* positive finite number; def <= 0 means required */
static int cfg_num(const struct cfg_reader *r, const struct json *obj, const char *key,
		   double def, double *out)
{
	const struct json *v = json_get(obj, key);
	char got[80];
	if (json_type(v) == JSON_MISSING || json_type(v) == JSON_NULL) {
		if (def <= 0)
			return cfg_fail(r, "field '%s%s' is missing", r->prefix, key);
		*out = def;
		return 0;
	}
	*out = json_num(v);
	if (!(*out > 0) || !isfinite(*out)) {
		value_text(v, got, sizeof(got));
		return cfg_fail(r, "field '%s%s' is %s, not a positive number", r->prefix, key, got);
	}
	return 0;
}

static int cfg_bool(const struct cfg_reader *r, const char *key, int def, int *out)
{
	const struct json *v = json_get(r->root, key);
	char got[80];
	if (json_type(v) == JSON_MISSING || json_type(v) == JSON_NULL) {
		*out = def;
		return 0;
	}
	if ((*out = json_bool(v)) < 0) {
		value_text(v, got, sizeof(got));
		return cfg_fail(r, "field '%s' is %s, not true or false", key, got);
	}
	return 0;
}

/* model_type (or the architectures entry) -> qkv_bias / qk_norm; refuses what we cannot run */
static int cfg_arch(const struct cfg_reader *r, struct model_config *mc, int *is_llama)
{
	static const char *const types[] = { "llama", "qwen2", "qwen3" };
	static const char *const classes[] = { "LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM" };
	const char *type = json_str(json_get(r->root, "model_type"));
	const char *cls = json_str(json_at(json_get(r->root, "architectures"), 0));
	int k = -1, flag;
	for (int i = 0; i < 3; i++)
		if ((type && !strcmp(type, types[i])) || (!type && cls && !strcmp(cls, classes[i])))
			k = i;
	if (!type && !cls)
		return cfg_fail(r, "field 'model_type' is missing (and no 'architectures'); attnrl "
				"reads llama, qwen2 and qwen3 models");
	if (k < 0)
		return cfg_fail(r, "model_type '%s' is not supported; attnrl reads llama, qwen2 and "
				"qwen3 models", type ? type : cls);
	mc->qkv_bias = k == 1;
	mc->qk_norm = k == 2;
	*is_llama = k == 0;
	const char *act = json_str(json_get(r->root, "hidden_act"));
	if (act && strcmp(act, "silu"))
		return cfg_fail(r, "field 'hidden_act' is '%s'; only silu is supported", act);
	if (k != 1 && (cfg_bool(r, "attention_bias", 0, &flag) || flag))
		return flag < 0 ? -1 : cfg_fail(r, "field 'attention_bias' is true: q/k/v/o biases "
						"are not supported for %s", types[k]);
	if (cfg_bool(r, "mlp_bias", 0, &flag) || flag)
		return flag < 0 ? -1 : cfg_fail(r, "field 'mlp_bias' is true: MLP biases are not supported");
	if (cfg_bool(r, "use_sliding_window", 0, &flag) || flag)
		return flag < 0 ? -1 : cfg_fail(r, "field 'use_sliding_window' is true: sliding-window "
						"attention is not supported");
	return 0;
}

static int cfg_rope_scaling(struct cfg_reader *r, struct model_config *mc)
{
	const struct json *s = json_get(r->root, "rope_scaling");
	if (json_type(s) == JSON_MISSING || json_type(s) == JSON_NULL)
		return 0;
	if (json_type(s) != JSON_OBJECT)
		return cfg_fail(r, "field 'rope_scaling' is %s, not an object or null",
				json_type_name(json_type(s)));
	const char *type = json_str(json_get(s, "rope_type"));
	if (!type)
		type = json_str(json_get(s, "type"));
	if (!type)
		return cfg_fail(r, "field 'rope_scaling' has no 'rope_type'");
	if (!strcmp(type, "default"))
		return 0;
	if (strcmp(type, "linear") && strcmp(type, "llama3"))
		return cfg_fail(r, "rope_scaling type '%s' is not supported (linear and llama3 are)", type);
	int llama3 = !strcmp(type, "llama3");
	mc->rope_scaling = llama3 ? ROPE_SCALING_LLAMA3 : ROPE_SCALING_LINEAR;
	r->prefix = "rope_scaling.";
	int rc = cfg_num(r, s, "factor", 0, &mc->rope_factor) ||
		 (llama3 && (cfg_num(r, s, "low_freq_factor", 0, &mc->rope_low_freq_factor) ||
			     cfg_num(r, s, "high_freq_factor", 0, &mc->rope_high_freq_factor) ||
			     cfg_int(r, s, "original_max_position_embeddings", 1, 1 << 30, 0,
				     &mc->rope_original_max)));
	r->prefix = "";
	if (rc || !llama3)
		return rc ? -1 : 0;
	if (mc->rope_high_freq_factor <= mc->rope_low_freq_factor)
		return cfg_fail(r, "rope_scaling: high_freq_factor %g must exceed low_freq_factor %g",
				mc->rope_high_freq_factor, mc->rope_low_freq_factor);
	return 0;
}

/* bos_token_id / eos_token_id: an integer, a list of them, or null */
static int cfg_special(const struct cfg_reader *r, struct hf_info *info)
{
	const struct json *b = json_get(r->root, "bos_token_id"), *e = json_get(r->root, "eos_token_id");
	int64_t x;
	info->bos_id = -1;
	if (json_type(b) == JSON_ARRAY)
		b = json_at(b, 0);
	if (json_type(b) != JSON_MISSING && json_type(b) != JSON_NULL) {
		if (json_int(b, &x) || x < 0 || x > INT32_MAX)
			return cfg_fail(r, "field 'bos_token_id' is not a token id");
		info->bos_id = (int32_t)x;
	}
	int list = json_type(e) == JSON_ARRAY;
	size_t count = list ? json_len(e) : json_type(e) == JSON_MISSING || json_type(e) == JSON_NULL ? 0 : 1;
	for (size_t i = 0; i < count && info->n_eos < 8; i++) {
		if (json_int(list ? json_at(e, i) : e, &x) || x < 0 || x > INT32_MAX)
			return cfg_fail(r, "field 'eos_token_id' is not a token id or a list of them");
		info->eos_ids[info->n_eos++] = (int32_t)x;
	}
	return 0;
}

static int cfg_dtype(const struct cfg_reader *r, struct hf_info *info)
{
	const struct json *v = json_get(r->root, "torch_dtype");
	if (!v)
		v = json_get(r->root, "dtype");
	const char *s = json_str(v);
	snprintf(info->torch_dtype, sizeof(info->torch_dtype), "float32");
	if (json_type(v) == JSON_MISSING || json_type(v) == JSON_NULL)
		return 0;
	if (!s || (strcmp(s, "float32") && strcmp(s, "bfloat16") && strcmp(s, "float16")))
		return cfg_fail(r, "field 'torch_dtype' is %s%s%s; expected float32, bfloat16 or float16",
				s ? "'" : "", s ? s : json_type_name(json_type(v)), s ? "'" : "");
	snprintf(info->torch_dtype, sizeof(info->torch_dtype), "%s", s);
	return 0;
}

static int cfg_dims(const struct cfg_reader *r, struct model_config *mc, int is_llama)
{
	const struct json *o = r->root;
	if (cfg_int(r, o, "hidden_size", 1, 1 << 20, 0, &mc->dim) ||
	    cfg_int(r, o, "intermediate_size", 1, 1 << 22, 0, &mc->hidden_dim) ||
	    cfg_int(r, o, "num_hidden_layers", 1, 4096, 0, &mc->n_layers) ||
	    cfg_int(r, o, "num_attention_heads", 1, 1 << 14, 0, &mc->n_heads) ||
	    cfg_int(r, o, "num_key_value_heads", 1, 1 << 14, mc->n_heads, &mc->n_kv_heads) ||
	    cfg_int(r, o, "head_dim", 2, 1 << 14, mc->dim / mc->n_heads, &mc->head_dim) ||
	    cfg_int(r, o, "vocab_size", 1, 1 << 26, 0, &mc->vocab_size) ||
	    cfg_int(r, o, "max_position_embeddings", 1, 1 << 24, is_llama ? 2048 : 32768,
		    &mc->max_seq_len) ||
	    cfg_num(r, o, "rms_norm_eps", 1e-6, &mc->norm_eps) ||
	    cfg_num(r, o, "rope_theta", 10000.0, &mc->rope_theta) ||
	    cfg_bool(r, "tie_word_embeddings", 0, &mc->tie_embeddings))
		return -1;
	if (mc->head_dim % 2)
		return cfg_fail(r, "field 'head_dim' is %d; RoPE needs an even head size", mc->head_dim);
	if (mc->n_heads % mc->n_kv_heads)
		return cfg_fail(r, "num_attention_heads %d is not a multiple of num_key_value_heads %d",
				mc->n_heads, mc->n_kv_heads);
	return 0;
}

int hf_read_config(const char *dir, struct hf_info *info, char *err, size_t n)
{
	struct cfg_reader r = { .prefix = "", .err = err, .n = n };
	int is_llama = 0, rc;
	memset(info, 0, sizeof(*info));
	snprintf(r.path, sizeof(r.path), "%s/config.json", dir);
	struct json *root = json_load(r.path, err, n);
	if (!root)
		return -1;
	r.root = root;
	if (json_type(root) != JSON_OBJECT)
		rc = cfg_fail(&r, "not a JSON object");
	else
		rc = cfg_arch(&r, &info->mc, &is_llama) || cfg_dims(&r, &info->mc, is_llama) ||
		     cfg_rope_scaling(&r, &info->mc) || cfg_special(&r, info) || cfg_dtype(&r, info) ? -1 : 0;
	json_free(root);
	return rc;
}

/* ---- weights --------------------------------------------------------------------------- */

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int d = 0; d < ndim && k < n; d++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "", (long long)shape[d]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

static void param_shape(tensor *p, int *nd, int64_t *shape, char *text, size_t n)
{
	*nd = tensor_ndim(p);
	for (int d = 0; d < *nd; d++)
		shape[d] = tensor_size(p, d);
	shape_text(text, n, *nd, shape);
}

/* forgets the mapped pages of t (they are re-read from the file if touched again) */
static void release_pages(const struct st_file *f, const struct st_tensor *t)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), base = (uintptr_t)f->map;
	uintptr_t lo = (uintptr_t)t->data & ~(page - 1);
	uintptr_t hi = ((uintptr_t)t->data + t->nbytes + page - 1) & ~(page - 1);
	uintptr_t end = (base + f->map_size + page - 1) & ~(page - 1);
	if (hi > end)
		hi = end;
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* parameter i of m from the open file path */
static int load_param(struct model *m, int i, const struct st_file *f, const char *path,
		      char *err, size_t n)
{
	const struct st_tensor *t = st_find(f, m->names[i]);
	tensor *p = m->params[i];
	int64_t shape[ST_MAX_DIMS];
	char want[96], got[96];
	int nd, same;
	param_shape(p, &nd, shape, want, sizeof(want));
	if (!t) {
		snprintf(err, n, "%s: missing tensor '%s' (expected F32/BF16/F16 %s)", path, m->names[i], want);
		return -1;
	}
	same = t->ndim == nd;
	for (int d = 0; same && d < nd; d++)
		same = t->shape[d] == shape[d];
	if (!same) {
		shape_text(got, sizeof(got), t->ndim, t->shape);
		snprintf(err, n, "%s: tensor '%s' is %s %s but the config needs %s", path, m->names[i],
			 st_dtype_name(t->dtype), got, want);
		return -1;
	}
	float *dst = tensor_data(p);
	if (!dst || tensor_dtype(p) != TENSOR_F32 || tensor_device(p) != TENSOR_CPU) {
		snprintf(err, n, "%s: tensor '%s': the parameter is not a CPU fp32 array", path, m->names[i]);
		return -1;
	}
	if (st_to_f32(dst, t->data, t->dtype, (size_t)tensor_numel(p))) {
		snprintf(err, n, "%s: tensor '%s' is %s; only F32, BF16 and F16 weights are supported",
			 path, m->names[i], st_dtype_name(t->dtype));
		return -1;
	}
	release_pages(f, t);
	return 0;
}

/* the file of every parameter: "model.safetensors", or the index's weight_map */
struct weight_files {
	struct json *index;
	const char **file; /* (n_params) into index, or the literal */
};

static int index_read(struct weight_files *w, const struct model *m, const char *dir,
		      const char *path, char *err, size_t n)
{
	if (!(w->index = json_load(path, err, n)))
		return -1;
	const struct json *map = json_get(w->index, "weight_map");
	if (json_type(map) != JSON_OBJECT) {
		snprintf(err, n, "%s: field 'weight_map' is %s, not an object", path,
			 json_type_name(json_type(map)));
		return -1;
	}
	for (int i = 0; i < m->n_params; i++) {
		const char *file = json_str(json_get(map, m->names[i]));
		int64_t shape[ST_MAX_DIMS];
		char want[96];
		int nd;
		if (!file) {
			param_shape(m->params[i], &nd, shape, want, sizeof(want));
			snprintf(err, n, "%s: missing tensor '%s' in weight_map (expected F32/BF16/F16 %s)",
				 path, m->names[i], want);
			return -1;
		}
		if (!file[0] || strchr(file, '/')) {
			snprintf(err, n, "%s: tensor '%s' maps to '%s', not a file name in %s", path,
				 m->names[i], file, dir);
			return -1;
		}
		w->file[i] = file;
	}
	return 0;
}

static int weight_files_init(struct weight_files *w, const struct model *m, const char *dir,
			     char *err, size_t n)
{
	char path[4096];
	struct stat st;
	memset(w, 0, sizeof(*w));
	if (!(w->file = calloc(m->n_params, sizeof(*w->file)))) {
		snprintf(err, n, "%s: out of memory", dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/model.safetensors.index.json", dir);
	if (!stat(path, &st))
		return index_read(w, m, dir, path, err, n);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (stat(path, &st)) {
		snprintf(err, n, "%s: no model.safetensors nor model.safetensors.index.json in the "
			 "folder", dir);
		return -1;
	}
	for (int i = 0; i < m->n_params; i++)
		w->file[i] = "model.safetensors";
	return 0;
}

int hf_load_weights(struct model *m, const char *dir, char *err, size_t n)
{
	struct weight_files w;
	unsigned char *done = calloc(m->n_params ? m->n_params : 1, 1);
	int rc = done ? weight_files_init(&w, m, dir, err, n) : -1;
	if (!done)
		snprintf(err, n, "%s: out of memory", dir);
	/* one pass per shard, in the order the parameters first name them */
	for (int i = 0; !rc && i < m->n_params; i++) {
		if (done[i])
			continue;
		char path[4096];
		struct st_file f;
		snprintf(path, sizeof(path), "%s/%s", dir, w.file[i]);
		if ((rc = st_open(&f, path, err, n)))
			break;
		for (int j = i; !rc && j < m->n_params; j++) {
			if (done[j] || strcmp(w.file[j], w.file[i]))
				continue;
			rc = load_param(m, j, &f, path, err, n);
			done[j] = 1;
		}
		st_close(&f);
	}
	if (done) {
		json_free(w.index);
		free(w.file);
	}
	free(done);
	return rc;
}
