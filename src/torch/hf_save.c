/*
 * hf_save.c - a model out as a Hugging Face folder (see hf.h): config.json as transformers
 * writes it for LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM, model.safetensors in
 * fp32, bf16 or fp16 with the "format": "pt" metadata transformers asks for, and the tokenizer
 * files of the source folder, or, for the built-in character vocabulary, a tokenizer.json of
 * it: a byte-level BPE without merges (each character its own id, the ids of
 * tokenizer_init_chars), which src/tokenizer_bpe.c and Hugging Face's tokenizers both read.
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
#include "attnrl/tokenizer.h"
#include "attnrl/tokenizer_pretok.h"

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

/* what config.json is written from */
struct config_args {
	const struct model_config *c;
	const char *dtype;
	int32_t bos, eos;
};

/* the keys of transformers' config for the architecture, sorted as it writes them */
static void put_config(FILE *f, const void *arg)
{
	const struct config_args *a = arg;
	const struct model_config *c = a->c;
	const char *dtype = a->dtype;
	int32_t bos = a->bos, eos = a->eos;
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

/* GPT-2's bytes_to_unicode of byte b, as UTF-8 into out (room for 3); its length */
static int byte_level_char(int b, char *out)
{
	int cp = b, extra = 0;
	if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) {
		for (int i = 0; i < b; i++)
			extra += !((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE);
		cp = 256 + extra;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	out[0] = (char)(0xC0 | cp >> 6);
	out[1] = (char)(0x80 | (cp & 0x3F));
	return 2;
}

static void put_added_token(FILE *f, const struct tokenizer *t, int32_t id, int last)
{
	fprintf(f, "    {\"id\": %d, \"content\": ", id);
	json_write_string(f, t->piece[id]);
	fprintf(f, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
		   "\"normalized\": false, \"special\": true}%s\n", last ? "" : ",");
}

/* the character vocabulary (tokenizer_init_chars) as a byte-level BPE without merges: every
 * character its own id, the specials added tokens and in model.vocab too (Hugging Face's
 * tokenizers keeps an added token's id only when the model's vocabulary has it), BOS put in
 * front by the post-processor */
static void put_tokenizer_chars(FILE *f, const void *arg)
{
	const struct tokenizer *t = arg;
	const char *bos = t->piece[t->bos_id];
	int32_t last_special = -1;
	for (int32_t i = 0; i < t->vocab_size; i++)
		last_special = t->special[i] ? i : last_special;
	fputs("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
	      "  \"added_tokens\": [\n", f);
	for (int32_t i = 0; i < t->vocab_size; i++)
		if (t->special[i])
			put_added_token(f, t, i, i == last_special);
	fputs("  ],\n  \"normalizer\": null,\n  \"pre_tokenizer\": {\"type\": \"Sequence\", "
	      "\"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": ", f);
	json_write_string(f, pretok_pattern(PRETOK_QWEN2));
	fputs("}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", "
	      "\"add_prefix_space\": false, \"trim_offsets\": false, \"use_regex\": false}]},\n", f);
	fputs("  \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": "
	      "{\"id\": ", f);
	json_write_string(f, bos);
	fputs(", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": "
	      "[{\"SpecialToken\": {\"id\": ", f);
	json_write_string(f, bos);
	fputs(", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"Sequence\": "
	      "{\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": {", f);
	json_write_string(f, bos);
	fputs(": {\"id\": ", f);
	json_write_string(f, bos);
	fprintf(f, ", \"ids\": [%d], \"tokens\": [", t->bos_id);
	json_write_string(f, bos);
	fputs("]}}},\n  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
	      "\"trim_offsets\": false, \"use_regex\": false},\n  \"model\": {\"type\": \"BPE\", "
	      "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, "
	      "\"end_of_word_suffix\": null, \"fuse_unk\": false, \"byte_fallback\": false, "
	      "\"ignore_merges\": false,\n    \"vocab\": {", f);
	for (int32_t i = 0; i < t->vocab_size; i++) {
		char c[4];
		if (!t->special[i])
			c[byte_level_char((unsigned char)t->piece[i][0], c)] = 0;
		json_write_string(f, t->special[i] ? t->piece[i] : c);
		fprintf(f, ": %d%s", i, i == t->vocab_size - 1 ? "" : ", ");
	}
	fputs("},\n    \"merges\": []\n  }\n}\n", f);
}

static void put_tokenizer_config(FILE *f, const void *arg)
{
	const struct tokenizer *t = arg;
	fputs("{\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n  \"bos_token\": ", f);
	json_write_string(f, t->piece[t->bos_id]);
	fputs(",\n  \"eos_token\": ", f);
	json_write_string(f, t->piece[t->eos_id]);
	fputs(",\n  \"pad_token\": ", f);
	json_write_string(f, t->piece[t->pad_id]);
	fprintf(f, ",\n  \"add_bos_token\": %s,\n  \"clean_up_tokenization_spaces\": false\n}\n",
		t->add_bos ? "true" : "false");
}

/* dir/name written from put(f, arg) */
static int save_generated(const char *dir, const char *name, void (*put)(FILE *, const void *),
			  const void *arg, char *err, size_t n)
{
	char path[HF_PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(err, n, "%s: out of memory", dir);
		return -1;
	}
	put(f, arg);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int rc = write_atomic(path, buf, len, err, n);
	free(buf);
	return rc;
}

static int save_tokenizer_chars(const char *dir, char *err, size_t n)
{
	struct tokenizer t;
	if (tokenizer_init_chars(&t)) {
		snprintf(err, n, "tokenizer: out of memory");
		return -1;
	}
	int rc = save_generated(dir, "tokenizer.json", put_tokenizer_chars, &t, err, n) ||
		 save_generated(dir, "tokenizer_config.json", put_tokenizer_config, &t, err, n) ? -1 : 0;
	tokenizer_free(&t);
	return rc;
}

/* tok_src: a folder (its tokenizer files that exist), a tokenizer.json file, "" for the
 * character vocabulary */
static int save_tokenizer(const char *tok_src, const char *dir, char *err, size_t n)
{
	char from[HF_PATH_MAX], to[HF_PATH_MAX];
	struct stat st;
	if (!tok_src)
		return 0;
	if (!tok_src[0])
		return save_tokenizer_chars(dir, err, n);
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
	struct config_args ca = { &m->cfg, dtype, bos, eos };
	return save_generated(dir, "config.json", put_config, &ca, err, n) ||
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
