/*
 * hf_save.c - a model out as a Hugging Face folder (see hf.h): config.json as transformers
 * writes it for LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM, model.safetensors in
 * fp32, bf16 or fp16 with the "format": "pt" metadata transformers asks for, and the tokenizer
 * files of the source folder.
 *
 * Atomicity: a new folder is filled as DIR.tmp, fsynced and renamed onto DIR, so DIR is either
 * absent or complete. Into an existing folder every file is written as FILE.tmp and renamed
 * (st_write does the same), so each file is either the old one or the new one.
 */
#include "attnrl/hf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/safetensors.h"

static const char *const TOKENIZER_FILES[] = { "tokenizer.json", "tokenizer_config.json",
					       "special_tokens_map.json", "generation_config.json" };
#define N_TOKENIZER_FILES 4
#define HF_PATH_MAX 4096 /* a file path in the folder; the folder itself is kept under 3 KB */

/* path's bytes written as path.tmp, fsynced and renamed onto path */
static int write_atomic(const char *path, const void *data, size_t len, char *err, size_t n)
{
	char tmp[HF_PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!fs_write_atomic(path, tmp, data, len))
		return 0;
	snprintf(err, n, "cannot write '%s': %s", path, strerror(errno));
	return -1;
}

/* ---- config.json ----------------------------------------------------------------------- */

/* a float field as transformers writes it: 8.0, 1e-06, 1000000.0 */
static void put_float(FILE *f, double x)
{
	if (isfinite(x) && x == floor(x) && fabs(x) < 1e15)
		fprintf(f, "%.1f", x);
	else
		json_write_number(f, x);
}

static void put_id(FILE *f, int32_t id)
{
	if (id < 0)
		fputs("null", f);
	else
		fprintf(f, "%d", id);
}

static void put_rope_scaling(FILE *f, const struct model_config *c)
{
	if (c->rope_scaling == ROPE_SCALING_NONE) {
		fputs("null", f);
		return;
	}
	fputs("{\n    \"factor\": ", f);
	put_float(f, c->rope_factor);
	if (c->rope_scaling == ROPE_SCALING_LINEAR) {
		fputs(",\n    \"rope_type\": \"linear\",\n    \"type\": \"linear\"\n  }", f);
		return;
	}
	fputs(",\n    \"high_freq_factor\": ", f);
	put_float(f, c->rope_high_freq_factor);
	fputs(",\n    \"low_freq_factor\": ", f);
	put_float(f, c->rope_low_freq_factor);
	fprintf(f, ",\n    \"original_max_position_embeddings\": %d,\n    \"rope_type\": \"llama3\"\n  }",
		c->rope_original_max);
}

/* the keys of transformers' config for the architecture, sorted as it writes them */
static void put_config(FILE *f, const struct model_config *c, const char *dtype, int32_t bos,
		       int32_t eos)
{
	const char *type = model_arch_name(c);
	const char *cls = c->qk_norm ? "Qwen3ForCausalLM" : c->qkv_bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
	int llama = !c->qk_norm && !c->qkv_bias, qwen = !llama;
	fprintf(f, "{\n  \"architectures\": [\n    \"%s\"\n  ],\n", cls);
	if (!c->qkv_bias)
		fputs("  \"attention_bias\": false,\n", f);
	fputs("  \"attention_dropout\": 0.0,\n  \"bos_token_id\": ", f);
	put_id(f, bos);
	fputs(",\n  \"eos_token_id\": ", f);
	put_id(f, eos);
	fprintf(f, ",\n  \"head_dim\": %d,\n  \"hidden_act\": \"silu\",\n  \"hidden_size\": %d,\n"
		   "  \"initializer_range\": 0.02,\n  \"intermediate_size\": %d,\n"
		   "  \"max_position_embeddings\": %d,\n",
		c->head_dim, c->dim, c->hidden_dim, c->max_seq_len);
	if (qwen)
		fprintf(f, "  \"max_window_layers\": %d,\n", c->n_layers);
	if (llama)
		fputs("  \"mlp_bias\": false,\n", f);
	fprintf(f, "  \"model_type\": \"%s\",\n  \"num_attention_heads\": %d,\n"
		   "  \"num_hidden_layers\": %d,\n  \"num_key_value_heads\": %d,\n",
		type, c->n_heads, c->n_layers, c->n_kv_heads);
	if (llama)
		fputs("  \"pretraining_tp\": 1,\n", f);
	fputs("  \"rms_norm_eps\": ", f);
	put_float(f, c->norm_eps);
	fputs(",\n  \"rope_scaling\": ", f);
	put_rope_scaling(f, c);
	fputs(",\n  \"rope_theta\": ", f);
	put_float(f, c->rope_theta);
	if (qwen)
		fputs(",\n  \"sliding_window\": null", f);
	fprintf(f, ",\n  \"tie_word_embeddings\": %s,\n  \"torch_dtype\": \"%s\",\n"
		   "  \"use_cache\": true,\n", c->tie_embeddings ? "true" : "false", dtype);
	if (qwen)
		fputs("  \"use_sliding_window\": false,\n", f);
	fprintf(f, "  \"vocab_size\": %d\n}\n", c->vocab_size);
}

static int save_config(const struct model *m, const char *dir, const char *dtype, int32_t bos,
		       int32_t eos, char *err, size_t n)
{
	char path[HF_PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, n, "%s: out of memory", dir);
		return -1;
	}
	put_config(f, &m->cfg, dtype, bos, eos);
	fclose(f);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	int rc = write_atomic(path, buf, len, err, n);
	free(buf);
	return rc;
}

/* ---- weights and tokenizer files ------------------------------------------------------- */

static int save_weights(const struct model *m, const char *dir, int dtype, char *err, size_t n)
{
	static const char *const meta[] = { "format", "pt" };
	struct st_entry *e = calloc(m->n_params, sizeof(*e));
	int64_t (*shapes)[ST_MAX_DIMS] = calloc(m->n_params, sizeof(*shapes));
	size_t esize = st_dtype_size(dtype);
	unsigned char *conv = dtype == ST_F32 ? NULL : malloc((size_t)m->n_elements * esize + 1);
	char path[HF_PATH_MAX];
	int rc = -1;
	if (!e || !shapes || (dtype != ST_F32 && !conv)) {
		snprintf(err, n, "%s: out of memory for the %s weights", dir, st_dtype_name(dtype));
		goto out;
	}
	size_t off = 0;
	for (int i = 0; i < m->n_params; i++) {
		tensor *p = m->params[i];
		size_t numel = (size_t)tensor_numel(p);
		const float *src = tensor_data(p);
		int nd = tensor_ndim(p);
		for (int d = 0; d < nd; d++)
			shapes[i][d] = tensor_size(p, d);
		e[i] = (struct st_entry){ m->names[i], dtype, nd, shapes[i], src };
		if (conv) {
			st_from_f32(conv + off, dtype, src, numel);
			e[i].data = conv + off;
			off += numel * esize;
		}
	}
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	rc = st_write(path, e, m->n_params, meta, 1, err, n);
out:
	free(conv);
	free(shapes);
	free(e);
	return rc;
}

static int copy_file(const char *from, const char *to, char *err, size_t n)
{
	size_t len;
	char *buf;
	if (fs_read_file(from, &buf, &len)) {
		snprintf(err, n, "cannot read '%s': %s", from, strerror(errno));
		return -1;
	}
	int rc = write_atomic(to, buf, len, err, n);
	free(buf);
	return rc;
}

/* tok_src: a folder (its tokenizer files that exist) or a tokenizer.json file */
static int save_tokenizer(const char *tok_src, const char *dir, char *err, size_t n)
{
	char from[HF_PATH_MAX], to[HF_PATH_MAX];
	struct stat st;
	if (!tok_src || !tok_src[0])
		return 0;
	if (!fs_is_dir(tok_src)) {
		size_t k = strlen(tok_src);
		if (k < 5 || strcmp(tok_src + k - 5, ".json"))
			return 0;
		snprintf(to, sizeof(to), "%s/tokenizer.json", dir);
		return copy_file(tok_src, to, err, n);
	}
	for (int i = 0; i < N_TOKENIZER_FILES; i++) {
		snprintf(from, sizeof(from), "%s/%s", tok_src, TOKENIZER_FILES[i]);
		snprintf(to, sizeof(to), "%s/%s", dir, TOKENIZER_FILES[i]);
		if (!stat(from, &st) && copy_file(from, to, err, n))
			return -1;
	}
	return 0;
}

/* ---- the folder ------------------------------------------------------------------------ */

/* removes the files a save writes into tmp, then tmp; -1 when other files keep it */
static int tmp_dir_remove(const char *tmp)
{
	static const char *const ours[] = { "config.json", "model.safetensors", "tokenizer.json",
					    "tokenizer_config.json", "special_tokens_map.json",
					    "generation_config.json" };
	char p[HF_PATH_MAX];
	for (int i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmp, ours[i]);
		remove(p);
		snprintf(p, sizeof(p), "%s/%s.tmp", tmp, ours[i]);
		remove(p);
	}
	return rmdir(tmp);
}

/* a fresh, empty DIR.tmp (a leftover one from a failed save is emptied of our files first) */
static int tmp_dir_create(const char *tmp, char *err, size_t n)
{
	if (fs_is_dir(tmp) && tmp_dir_remove(tmp)) {
		snprintf(err, n, "'%s' is left from an earlier save and holds other files; remove it", tmp);
		return -1;
	}
	if (fs_mkdir_p(tmp, 1, err, n))
		return -1;
	if (mkdir(tmp, 0777)) {
		snprintf(err, n, "cannot create directory '%s': %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

static int dtype_of(const char *name)
{
	return !strcmp(name, "float32") ? ST_F32 : !strcmp(name, "bfloat16") ? ST_BF16
		: !strcmp(name, "float16") ? ST_F16 : -1;
}

static int save_files(const struct model *m, const char *dir, const char *dtype, int st_dtype,
		      const char *tok_src, int32_t bos, int32_t eos, char *err, size_t n)
{
	return save_config(m, dir, dtype, bos, eos, err, n) ||
	       save_weights(m, dir, st_dtype, err, n) || save_tokenizer(tok_src, dir, err, n) ? -1 : 0;
}

int hf_save(const struct model *m, const char *dir_arg, const char *dtype, const char *tok_src,
	    int32_t bos_id, int32_t eos_id, char *err, size_t n)
{
	int st_dtype = dtype_of(dtype);
	struct stat st;
	char dir[3072], tmp[3200];
	size_t k = strlen(dir_arg);
	if (k >= sizeof(dir)) {
		snprintf(err, n, "output folder name is %zu bytes long; keep it under 3 KB", k);
		return -1;
	}
	memcpy(dir, dir_arg, k + 1);
	while (k > 1 && dir[k - 1] == '/')
		dir[--k] = 0;
	if (st_dtype < 0) {
		snprintf(err, n, "dtype '%s': expected float32, bfloat16 or float16", dtype);
		return -1;
	}
	if (!stat(dir, &st)) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, n, "'%s' exists and is not a folder", dir);
			return -1;
		}
		snprintf(tmp, sizeof(tmp), "%s/model.safetensors.index.json", dir);
		if (!stat(tmp, &st)) { /* loaders would keep reading its shards */
			snprintf(err, n, "'%s' holds a sharded model (model.safetensors.index.json); "
				 "save into a new folder", dir);
			return -1;
		}
		return save_files(m, dir, dtype, st_dtype, tok_src, bos_id, eos_id, err, n);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	if (tmp_dir_create(tmp, err, n))
		return -1;
	if (save_files(m, tmp, dtype, st_dtype, tok_src, bos_id, eos_id, err, n)) {
		tmp_dir_remove(tmp);
		return -1;
	}
	if (fs_sync(tmp) || rename(tmp, dir)) {
		snprintf(err, n, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(errno));
		return -1;
	}
	char *parent = strdup(dir), *slash = parent ? strrchr(parent, '/') : NULL;
	if (slash)
		slash == parent ? (void)(slash[1] = 0) : (void)(*slash = 0);
	int rc = parent ? fs_sync(slash ? parent : ".") : 0;
	free(parent);
	if (rc) {
		snprintf(err, n, "cannot sync the folder holding '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}
