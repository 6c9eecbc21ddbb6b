/*
 * hf_config.c - a Hugging Face config.json -> struct hf_info (see hf_config.h), without libtorch
 * (part of the sanitizer and fuzz builds; hf.c reads the file and calls it).
 *
 * config.json follows transformers' LlamaConfig / Qwen2Config / Qwen3Config, with their
 * defaults for the optional fields (num_key_value_heads = heads, head_dim = hidden / heads,
 * rms_norm_eps 1e-6, rope_theta 10000, tie_word_embeddings false, max_position_embeddings
 * 2048 for llama and 32768 for qwen). RoPE comes as transformers 4 writes it (rope_theta and
 * rope_scaling) or as transformers 5 does (rope_parameters, rope_theta inside). What attnrl's
 * decoder does not compute (o_proj or MLP biases, sliding windows, other rope types, other
 * activations) is refused, never ignored.
 */
#include "attnrl/hf_config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/json.h"

struct cfg_reader {
	const char *path;
	const char *prefix; /* "rope_scaling." or "rope_parameters." inside that object */
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
	/* transformers 5 names each layer's attention */
	const struct json *lt = json_get(r->root, "layer_types");
	for (size_t i = 0; json_type(lt) == JSON_ARRAY && i < json_len(lt); i++) {
		const char *what = json_str(json_at(lt, i));
		if (!what || strcmp(what, "full_attention"))
			return cfg_fail(r, "field 'layer_types' names '%s' for layer %zu; only "
					"full_attention is supported", what ? what : "a non-string", i);
	}
	return 0;
}

/* rope_scaling (transformers 4: rope_theta beside it) or rope_parameters (transformers 5: the
 * same keys with rope_theta inside); rope_parameters wins when both are there, as in
 * transformers 5 */
static int cfg_rope_scaling(struct cfg_reader *r, struct model_config *mc)
{
	const char *key = "rope_parameters", *prefix = "rope_parameters.";
	const struct json *s = json_get(r->root, key);
	if (json_type(s) == JSON_MISSING || json_type(s) == JSON_NULL) {
		key = "rope_scaling";
		prefix = "rope_scaling.";
		s = json_get(r->root, key);
	}
	if (json_type(s) == JSON_MISSING || json_type(s) == JSON_NULL)
		return 0;
	if (json_type(s) != JSON_OBJECT)
		return cfg_fail(r, "field '%s' is %s, not an object or null", key,
				json_type_name(json_type(s)));
	r->prefix = prefix;
	const struct json *theta = json_get(s, "rope_theta");
	if (json_type(theta) != JSON_MISSING && json_type(theta) != JSON_NULL &&
	    cfg_num(r, s, "rope_theta", 0, &mc->rope_theta))
		return -1;
	const char *type = json_str(json_get(s, "rope_type"));
	if (!type)
		type = json_str(json_get(s, "type"));
	r->prefix = "";
	if (!type)
		return cfg_fail(r, "field '%s' has no 'rope_type'", key);
	if (!strcmp(type, "default"))
		return 0;
	if (strcmp(type, "linear") && strcmp(type, "llama3"))
		return cfg_fail(r, "%s type '%s' is not supported (linear and llama3 are)", key, type);
	int llama3 = !strcmp(type, "llama3");
	mc->rope_scaling = llama3 ? ROPE_SCALING_LLAMA3 : ROPE_SCALING_LINEAR;
	r->prefix = prefix;
	int rc = cfg_num(r, s, "factor", 0, &mc->rope_factor) ||
		 (llama3 && (cfg_num(r, s, "low_freq_factor", 0, &mc->rope_low_freq_factor) ||
			     cfg_num(r, s, "high_freq_factor", 0, &mc->rope_high_freq_factor) ||
			     cfg_int(r, s, "original_max_position_embeddings", 1, 1 << 30, 0,
				     &mc->rope_original_max)));
	r->prefix = "";
	if (rc || !llama3)
		return rc ? -1 : 0;
	if (mc->rope_high_freq_factor <= mc->rope_low_freq_factor)
		return cfg_fail(r, "%s: high_freq_factor %g must exceed low_freq_factor %g", key,
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

int hf_config_from_json(const struct json *root, const char *where, struct hf_info *info,
			char *err, size_t n)
{
	struct cfg_reader r = { .path = where, .prefix = "", .root = root, .err = err, .n = n };
	int is_llama = 0;
	memset(info, 0, sizeof(*info));
	if (json_type(root) != JSON_OBJECT)
		return cfg_fail(&r, "not a JSON object");
	return cfg_arch(&r, &info->mc, &is_llama) || cfg_dims(&r, &info->mc, is_llama) ||
	       cfg_rope_scaling(&r, &info->mc) || cfg_special(&r, info) || cfg_dtype(&r, info) ? -1 : 0;
}

int hf_parse_config(const char *json, size_t len, const char *where, struct hf_info *info,
		    char *err, size_t n)
{
	char msg[256];
	memset(info, 0, sizeof(*info));
	struct json *root = json_parse(json, len, msg, sizeof(msg));
	if (!root) {
		snprintf(err, n, "%s: %s", where, msg);
		return -1;
	}
	int rc = hf_config_from_json(root, where, info, err, n);
	json_free(root);
	return rc;
}
