/*
 * test_hf.c - Hugging Face folders in and out, against PyTorch:
 *  1. the fp32 <-> bf16/f16 conversions equal torch's: every one of the 65536 half patterns
 *     up, and a few thousand fp32 values (ties, subnormals, overflow, inf, NaN) down;
 *  2. round trips of a Qwen3 (untied, q/k norm, head_dim != dim/heads), a tied Llama with
 *     llama3 rope scaling and a Qwen2 (q/k/v bias, linear scaling): fp32 save -> reload is
 *     bit-identical and config.json reads back to the same model config; bf16 and fp16 saves
 *     reload as torch's .to(dtype) of the original;
 *  3. tests/ref/hf_ref.py (transformers' conventions, plain torch) loads each saved folder
 *     and its logits equal attnrl's model_forward on the reloaded model (<= 1e-4);
 *  4. a hand-made sharded folder (index + two shards, an extra inv_freq buffer, a stray
 *     lm_head in a tied model) loads to the same bits;
 *  5. broken folders and config.json files fail with their one-line messages, among them a
 *     num_hidden_layers lower than the layers stored, a tensor the model does not have and a
 *     repeated key; transformers 5's rope_parameters and layer_types are read.
 * tests/test_oracle_hf.sh judges the same loader against transformers itself (folders that
 * transformers writes, its forward and generate()); this file keeps what transformers cannot
 * judge: the bits attnrl writes, and broken folders.
 * Everything is written under a fresh /tmp/test_hf_XXXXXX, removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/hf.h"
#include "attnrl/model.h"
#include "attnrl/rng.h"
#include "attnrl/safetensors.h"
#include "check.h"

static char dir[] = "/tmp/test_hf_XXXXXX";
static char err[1024];

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static uint32_t bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

/* ---- 1. conversions against torch ------------------------------------------------------ */

static void check_up(int dtype, int tdtype, const char *what)
{
	uint16_t h[65536];
	float mine[65536], ref[65536];
	for (int i = 0; i < 65536; i++)
		h[i] = (uint16_t)i;
	int64_t shape[1] = { 65536 };
	tensor_frame_push();
	tensor *t = tensor_empty(shape, 1, tdtype, TENSOR_CPU);
	memcpy(tensor_data(t), h, sizeof(h));
	tensor_read_f32(t, ref, 65536);
	tensor_frame_pop();
	st_to_f32(mine, h, dtype, 65536);
	int bad = 0;
	for (int i = 0; i < 65536; i++)
		bad += isnan(ref[i]) ? !isnan(mine[i]) : bits(ref[i]) != bits(mine[i]);
	CHECK(bad == 0, "%s -> f32: %d of 65536 patterns differ from torch", what, bad);
}

static void check_down(int dtype, int tdtype, const char *what)
{
	enum { N = 6000 };
	static float x[N];
	static uint16_t mine[N], ref[N];
	struct rng r;
	rng_init(&r, 7);
	float special[] = { 0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 65504.0f, 65519.99f, 65520.0f,
			    -65520.0f, 3.4028235e38f, 1e-45f, 5.96e-8f, 2.98e-8f, 2.9802322e-8f,
			    6.1035156e-5f, 6.1e-5f, 1.0f, -1.0f, 0.1f };
	int ns = sizeof(special) / sizeof(special[0]);
	for (int i = 0; i < N; i++) {
		if (i < ns) {
			x[i] = special[i];
			continue;
		}
		uint32_t u = (uint32_t)rng_range(&r, 0, 0x7fffffff) | (i & 1u) << 31;
		if (i % 3 == 0) /* exact ties of both formats and their neighbours */
			u = (u & ~0xffffu) | (i % 2 ? 0x8000u : 0x1000u) | (uint32_t)(i % 5 == 0);
		if (i % 7 == 0) /* f16's range, its subnormals included */
			u = (u & 0x807fffffu) | (uint32_t)rng_range(&r, 100, 145) << 23;
		memcpy(&x[i], &u, 4);
	}
	int64_t shape[1] = { N };
	tensor_frame_push();
	tensor *t = tensor_to(tensor_from_f32(x, shape, 1), tdtype, TENSOR_CPU);
	memcpy(ref, tensor_data(t), sizeof(ref));
	tensor_frame_pop();
	st_from_f32(mine, dtype, x, N);
	int bad = 0;
	for (int i = 0; i < N; i++) {
		float a, b;
		st_to_f32(&a, &mine[i], dtype, 1);
		st_to_f32(&b, &ref[i], dtype, 1);
		int diff = isnan(x[i]) ? !isnan(a) || !isnan(b) : mine[i] != ref[i];
		if (diff && bad++ < 5)
			fprintf(stderr, "%s: %.9g (0x%08x) -> 0x%04x, torch 0x%04x\n", what, x[i],
				bits(x[i]), mine[i], ref[i]);
	}
	CHECK(bad == 0, "f32 -> %s: %d of %d values differ from torch", what, bad, N);
	printf("conversions: f32 -> %s equals torch on %d values (ties, subnormals, inf, NaN)\n", what, N);
}

/* ---- models ---------------------------------------------------------------------------- */

enum { QWEN3, LLAMA, QWEN2, N_CASES };
static const char *const case_name[N_CASES] = { "qwen3_untied", "llama_tied_llama3", "qwen2_linear" };

static struct model_config case_config(int k)
{
	struct model_config mc = { .dim = 32, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2,
				   .head_dim = 16, .hidden_dim = 48, .vocab_size = 97,
				   .max_seq_len = 64, .rope_theta = 10000.0, .norm_eps = 1e-6 };
	if (k == QWEN3) {
		mc.qk_norm = 1;
		mc.rope_theta = 1000000.0;
	} else if (k == LLAMA) {
		mc.tie_embeddings = 1;
		mc.head_dim = 8;
		mc.n_kv_heads = 1;
		mc.norm_eps = 1e-5;
		mc.rope_scaling = ROPE_SCALING_LLAMA3;
		mc.rope_factor = 8.0;
		mc.rope_low_freq_factor = 1.0;
		mc.rope_high_freq_factor = 4.0;
		mc.rope_original_max = 64;
		mc.rope_theta = 500.0;
	} else {
		mc.qkv_bias = 1;
		mc.n_kv_heads = 4;
		mc.rope_scaling = ROPE_SCALING_LINEAR;
		mc.rope_factor = 2.0;
	}
	return mc;
}

/* seeded weights, norms and biases moved away from 1 and 0 so that they are tested */
static struct model *case_model(int k, uint64_t seed)
{
	struct model_config mc = case_config(k);
	struct model *m = model_create(&mc, seed, 0.2);
	struct rng r;
	rng_init(&r, seed + 1);
	for (int i = 0; m && i < m->n_params; i++) {
		int is_norm = strstr(m->names[i], "norm") != NULL, is_bias = strstr(m->names[i], "bias") != NULL;
		if (!is_norm && !is_bias)
			continue;
		float *p = tensor_data(m->params[i]);
		for (int64_t j = 0; j < tensor_numel(m->params[i]); j++)
			p[j] = (float)((is_norm ? 1.0 : 0.0) + 0.3 * rng_normal(&r));
	}
	return m;
}

/* hf_read_config + model_create_empty + hf_load_weights, as policy.c does */
static struct model *load_folder(const char *path, struct hf_info *info)
{
	if (hf_read_config(path, info, err, sizeof(err)))
		return NULL;
	struct model *m = model_create_empty(&info->mc);
	if (m && hf_load_weights(m, path, err, sizeof(err))) {
		model_destroy(m);
		return NULL;
	}
	return m;
}

/* every parameter of b equals a's after a round trip through dtype (torch's conversion) */
static int params_equal(const struct model *a, const struct model *b, int tdtype)
{
	int same = a->n_params == b->n_params;
	for (int i = 0; same && i < a->n_params; i++) {
		tensor_frame_push();
		int64_t numel = tensor_numel(a->params[i]);
		tensor *ref = tdtype == TENSOR_F32 ? a->params[i]
			      : tensor_to(tensor_to(a->params[i], tdtype, TENSOR_CPU), TENSOR_F32, TENSOR_CPU);
		same = !strcmp(a->names[i], b->names[i]) && numel == tensor_numel(b->params[i]) &&
		       !memcmp(tensor_data(ref), tensor_data(b->params[i]), numel * sizeof(float));
		if (!same)
			fprintf(stderr, "parameter %s differs\n", a->names[i]);
		tensor_frame_pop();
	}
	return same;
}

static void check_info(const struct hf_info *info, const struct model_config *w, const char *what)
{
	const struct model_config *g = &info->mc;
	CHECK(g->dim == w->dim && g->n_layers == w->n_layers && g->n_heads == w->n_heads &&
	      g->n_kv_heads == w->n_kv_heads && g->head_dim == w->head_dim &&
	      g->hidden_dim == w->hidden_dim && g->vocab_size == w->vocab_size &&
	      g->max_seq_len == w->max_seq_len, "%s: dims read back differ", what);
	CHECK(g->rope_theta == w->rope_theta && g->norm_eps == w->norm_eps &&
	      g->tie_embeddings == w->tie_embeddings && g->qkv_bias == w->qkv_bias &&
	      g->qk_norm == w->qk_norm, "%s: theta/eps/tie/arch read back differ", what);
	CHECK(g->rope_scaling == w->rope_scaling && g->rope_factor == w->rope_factor &&
	      g->rope_low_freq_factor == w->rope_low_freq_factor &&
	      g->rope_high_freq_factor == w->rope_high_freq_factor &&
	      g->rope_original_max == w->rope_original_max, "%s: rope scaling read back differs", what);
	CHECK(info->bos_id == 1 && info->n_eos == 1 && info->eos_ids[0] == 2, "%s: bos/eos", what);
}

/* attnrl's logits on the folder's model, for tests/ref/hf_ref.py to judge (run_oracle) */
static char oracle_args[8192];

static void add_oracle_case(const struct model *m, const char *folder, const char *what)
{
	enum { T = 13 };
	int64_t ids[T], shape[2] = { 1, T }, lshape[3] = { 1, T, m->cfg.vocab_size };
	float *lg = malloc(sizeof(float) * T * m->cfg.vocab_size);
	for (int t = 0; t < T; t++)
		ids[t] = (t * 37 + 11) % m->cfg.vocab_size;
	tensor_frame_push();
	tensor *logits = model_forward(m, tensor_from_i64(ids, shape, 2));
	CHECK(logits && !tensor_read_f32(logits, lg, T * m->cfg.vocab_size), "%s: forward: %s",
	      what, tensor_last_error());
	tensor_frame_pop();
	struct st_entry e[2] = { { "ids", ST_I64, 2, shape, ids }, { "out.logits", ST_F32, 3, lshape, lg } };
	char path[512];
	snprintf(path, sizeof(path), "%s.case.safetensors", folder);
	CHECK(!st_write(path, e, 2, NULL, 0, err, sizeof(err)), "%s", err);
	size_t k = strlen(oracle_args);
	snprintf(oracle_args + k, sizeof(oracle_args) - k, " %s %s", folder, path);
	free(lg);
}

/* one Python start for every case (torch takes a second to import) */
static void run_oracle(void)
{
	char cmd[sizeof(oracle_args) + 100];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/ref/hf_ref.py logits%s", oracle_args);
	CHECK(system(cmd) == 0, "PyTorch disagrees (or could not run: %s)", cmd);
}

static void check_case(int k)
{
	static const char *const dtypes[] = { "float32", "bfloat16", "float16" };
	static const int tdtypes[] = { TENSOR_F32, TENSOR_BF16, TENSOR_F16 };
	struct model *m = case_model(k, 100 + k);
	struct model_config want = case_config(k);
	for (int d = 0; d < 3; d++) {
		char folder[256], name[128], tmp[300];
		struct hf_info info;
		snprintf(name, sizeof(name), "%s_%s", case_name[k], dtypes[d]);
		path_of(folder, sizeof(folder), name);
		CHECK(!hf_save(m, folder, dtypes[d], NULL, 1, 2, err, sizeof(err)), "%s: %s", name, err);
		snprintf(tmp, sizeof(tmp), "%s.tmp", folder);
		CHECK(access(tmp, F_OK) != 0, "%s: %s left behind", name, tmp);
		struct model *back = load_folder(folder, &info);
		CHECK(back != NULL, "%s: %s", name, err);
		if (!back)
			continue;
		check_info(&info, &want, name);
		CHECK(!strcmp(info.torch_dtype, dtypes[d]), "%s: torch_dtype %s", name, info.torch_dtype);
		CHECK(params_equal(m, back, tdtypes[d]), "%s: reloaded weights are not %s", name,
		      d ? "torch's rounding of the original" : "bit-identical");
		add_oracle_case(back, folder, name);
		model_destroy(back);
	}
	model_destroy(m);
}

/* saving into an existing folder replaces its files */
static void check_overwrite(void)
{
	char folder[256];
	struct hf_info info;
	struct model *a = case_model(QWEN3, 1), *b = case_model(QWEN3, 2);
	path_of(folder, sizeof(folder), "overwrite/nested");
	CHECK(!hf_save(a, folder, "float32", NULL, -1, -1, err, sizeof(err)), "%s", err);
	CHECK(!hf_save(b, folder, "float32", NULL, -1, -1, err, sizeof(err)), "%s", err);
	struct model *back = load_folder(folder, &info);
	CHECK(back && params_equal(b, back, TENSOR_F32), "overwrite: %s", back ? "old weights" : err);
	CHECK(back && info.bos_id == -1 && info.n_eos == 0, "null bos/eos read back");
	CHECK(hf_save(a, folder, "float64", NULL, -1, -1, err, sizeof(err)) && strstr(err, "float64"),
	      "unknown dtype refused: %s", err);
	char index[512];
	snprintf(index, sizeof(index), "%s/model.safetensors.index.json", folder);
	write_text(index, "{\"weight_map\": {}}");
	CHECK(hf_save(a, folder, "float32", NULL, -1, -1, err, sizeof(err)) && strstr(err, "sharded"),
	      "a sharded folder is not overwritten: %s", err);
	/* a save that fails half-way (an unreadable tokenizer.json) leaves neither DIR nor DIR.tmp */
	char bad_tok[256], fresh[256], fresh_tmp[300];
	path_of(bad_tok, sizeof(bad_tok), "bad_tok/tokenizer.json");
	path_of(fresh, sizeof(fresh), "fresh");
	snprintf(fresh_tmp, sizeof(fresh_tmp), "%s.tmp", fresh);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", bad_tok);
	CHECK(system(cmd) == 0, "%s", cmd);
	path_of(bad_tok, sizeof(bad_tok), "bad_tok");
	CHECK(hf_save(a, fresh, "float32", bad_tok, -1, -1, err, sizeof(err)) &&
	      strstr(err, "tokenizer.json") && access(fresh, F_OK) && access(fresh_tmp, F_OK),
	      "failed save: '%s', leftovers: %d %d", err, !access(fresh, F_OK), !access(fresh_tmp, F_OK));
	model_destroy(back);
	model_destroy(a);
	model_destroy(b);
}

/* ---- 4. shards ------------------------------------------------------------------------- */

static void copy_config(const char *from_folder, const char *to_folder)
{
	char a[512], b[512], cmd[1100];
	snprintf(a, sizeof(a), "%s/config.json", from_folder);
	snprintf(b, sizeof(b), "%s/config.json", to_folder);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s %s", to_folder, a, b);
	CHECK(system(cmd) == 0, "%s", cmd);
}

/* params [lo, hi) of m (+ extra entries) into path */
static int write_part(const struct model *m, int lo, int hi, const struct st_entry *extra,
		      int n_extra, const char *path)
{
	static int64_t shapes[256][2];
	struct st_entry e[256];
	int k = 0;
	static const char *const meta[] = { "format", "pt" };
	for (int i = lo; i < hi; i++, k++) {
		int nd = tensor_ndim(m->params[i]);
		for (int d = 0; d < nd; d++)
			shapes[k][d] = tensor_size(m->params[i], d);
		e[k] = (struct st_entry){ m->names[i], ST_F32, nd, shapes[k], tensor_data(m->params[i]) };
	}
	for (int i = 0; i < n_extra; i++)
		e[k++] = extra[i];
	return st_write(path, e, k, meta, 1, err, sizeof(err));
}

static void check_shards(void)
{
	char folder[256], path[512];
	struct hf_info info;
	struct model *m = case_model(QWEN2, 5);
	int half = m->n_params / 2;
	float inv[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int64_t s8[1] = { 8 };
	struct st_entry buf = { "model.layers.0.self_attn.rotary_emb.inv_freq", ST_F32, 1, s8, inv };
	path_of(folder, sizeof(folder), "qwen2_linear_float32");
	char sharded[256];
	path_of(sharded, sizeof(sharded), "sharded");
	copy_config(folder, sharded);
	snprintf(path, sizeof(path), "%s/model-00001-of-00002.safetensors", sharded);
	CHECK(!write_part(m, 0, half, NULL, 0, path), "%s", err);
	snprintf(path, sizeof(path), "%s/model-00002-of-00002.safetensors", sharded);
	CHECK(!write_part(m, half, m->n_params, &buf, 1, path), "%s", err);
	snprintf(path, sizeof(path), "%s/model.safetensors.index.json", sharded);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"metadata\": {\"total_size\": %lld}, \"weight_map\": {",
		(long long)m->n_elements * 4);
	for (int i = 0; i < m->n_params; i++)
		fprintf(f, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "",
			m->names[i], i < half ? 1 : 2);
	fprintf(f, ", \"%s\": \"model-00002-of-00002.safetensors\"}}\n", buf.name);
	fclose(f);
	struct model *back = load_folder(sharded, &info);
	CHECK(back && params_equal(m, back, TENSOR_F32), "sharded folder: %s", back ? "differs" : err);
	model_destroy(back);
	model_destroy(m);

	/* a tied model whose file still has lm_head.weight: ignored */
	m = case_model(LLAMA, 6);
	path_of(folder, sizeof(folder), "llama_tied_llama3_float32");
	path_of(sharded, sizeof(sharded), "tied_extra_head");
	copy_config(folder, sharded);
	int64_t vd[2] = { m->cfg.vocab_size, m->cfg.dim };
	float *junk = calloc(vd[0] * vd[1], sizeof(float));
	struct st_entry head = { "lm_head.weight", ST_F32, 2, vd, junk };
	snprintf(path, sizeof(path), "%s/model.safetensors", sharded);
	CHECK(!write_part(m, 0, m->n_params, &head, 1, path), "%s", err);
	back = load_folder(sharded, &info);
	CHECK(back && params_equal(m, back, TENSOR_F32) && back->lm_head == back->embed,
	      "tied model with a stray lm_head: %s", back ? "differs" : err);
	free(junk);
	model_destroy(back);
	model_destroy(m);
}

/* ---- 5. errors ------------------------------------------------------------------------- */

/* a copy of the good qwen3 folder with model.safetensors replaced by params minus `skip`, or
 * with `bad_shape` given one row less */
static void expect_load_error(const char *name, const char *file_text, int skip, int bad_shape,
			      const char *want1, const char *want2)
{
	char good[256], folder[256], path[512];
	struct hf_info info;
	struct model *m = case_model(QWEN3, 100);
	path_of(good, sizeof(good), "qwen3_untied_float32");
	path_of(folder, sizeof(folder), name);
	copy_config(good, folder);
	snprintf(path, sizeof(path), "%s/model.safetensors", folder);
	if (file_text) { /* a header of that text */
		uint64_t len = strlen(file_text);
		FILE *f = fopen(path, "wb");
		fwrite(&len, 8, 1, f);
		fputs(file_text, f);
		fclose(f);
	} else {
		static int64_t shapes[256][2];
		struct st_entry e[256];
		int k = 0;
		for (int i = 0; i < m->n_params; i++) {
			if (i == skip)
				continue;
			int nd = tensor_ndim(m->params[i]);
			for (int d = 0; d < nd; d++)
				shapes[k][d] = tensor_size(m->params[i], d);
			if (i == bad_shape)
				shapes[k][0]--;
			e[k] = (struct st_entry){ m->names[i], ST_F32, nd, shapes[k], tensor_data(m->params[i]) };
			k++;
		}
		CHECK(!st_write(path, e, k, NULL, 0, err, sizeof(err)), "%s", err);
	}
	struct model *back = load_folder(folder, &info);
	CHECK(!back && strstr(err, want1) && strstr(err, want2) && !strchr(err, '\n'),
	      "%s: got '%s', want '%s' and '%s'", name, back ? "success" : err, want1, want2);
	printf("error %-16s %s\n", name, err);
	model_destroy(back);
	model_destroy(m);
}

/* config.json against the tensors stored: a layer count one lower, an extra tensor */
static void check_stored_errors(void)
{
	char folder[256], cmd[2000];
	struct hf_info info;
	path_of(folder, sizeof(folder), "e_layers");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/../qwen3_untied_float32/* %s/ && sed -i "
		 "'s/\"num_hidden_layers\": 2/\"num_hidden_layers\": 1/' %s/config.json && grep -q "
		 "'\"num_hidden_layers\": 1' %s/config.json", folder, folder, folder, folder, folder);
	CHECK(system(cmd) == 0, "%s", cmd);
	struct model *back = load_folder(folder, &info);
	CHECK(!back && strstr(err, "e_layers/config.json': num_hidden_layers 1 but model.safetensors "
			       "holds layers 0-1 (2); fix num_hidden_layers"), "layers: %s",
	      back ? "loaded" : err);
	printf("error %-16s %s\n", "e_layers", err);
	model_destroy(back);

	struct model *m = case_model(QWEN3, 100);
	float x[4] = { 0 };
	int64_t s4[1] = { 4 };
	struct st_entry extra = { "model.layers.1.mlp.extra.weight", ST_F32, 1, s4, x };
	char path[512];
	path_of(folder, sizeof(folder), "e_extra");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/../qwen3_untied_float32/config.json %s/",
		 folder, folder, folder);
	CHECK(system(cmd) == 0, "%s", cmd);
	snprintf(path, sizeof(path), "%s/model.safetensors", folder);
	CHECK(!write_part(m, 0, m->n_params, &extra, 1, path), "%s", err);
	back = load_folder(folder, &info);
	CHECK(!back && strstr(err, "e_extra/model.safetensors': tensor 'model.layers.1.mlp.extra."
			       "weight' is not a parameter of the model config.json describes (qwen3)"),
	      "extra tensor: %s", back ? "loaded" : err);
	printf("error %-16s %s\n", "e_extra", err);
	model_destroy(back);
	model_destroy(m);
}

static void check_load_errors(void)
{
	expect_load_error("e_missing", NULL, 3, -1, "model.safetensors: missing tensor "
			  "'model.layers.0.self_attn.k_proj.weight'", "[32, 32]");
	expect_load_error("e_untied_head", NULL, 24, -1, "missing tensor 'lm_head.weight'", "[97, 32]");
	expect_load_error("e_shape", NULL, -1, 2, "tensor 'model.layers.0.self_attn.q_proj.weight' "
			  "is F32 [63, 32] but the config needs [64, 32]", "model.safetensors");
	expect_load_error("e_header", "{not json at all", -1, -1,
			  "model.safetensors: header", "not valid JSON");
	/* truncated: the good file cut in half */
	char good[300], folder[256], cmd[2000];
	path_of(good, sizeof(good), "qwen3_untied_float32/model.safetensors");
	path_of(folder, sizeof(folder), "e_truncated");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/../qwen3_untied_float32/config.json %s/ && "
		 "head -c 20000 %s > %s/model.safetensors", folder, folder, folder, good, folder);
	CHECK(system(cmd) == 0, "%s", cmd);
	struct hf_info info;
	struct model *back = load_folder(folder, &info);
	CHECK(!back && strstr(err, "e_truncated/model.safetensors") && strstr(err, "truncated"),
	      "truncated: %s", back ? "loaded" : err);
	printf("error %-16s %s\n", "e_truncated", err);
	model_destroy(back);
	/* no weights at all */
	snprintf(cmd, sizeof(cmd), "rm %s/model.safetensors", folder);
	CHECK(system(cmd) == 0, "%s", cmd);
	back = load_folder(folder, &info);
	CHECK(!back && strstr(err, "no model.safetensors"), "no weights: %s", back ? "loaded" : err);
	model_destroy(back);
	check_stored_errors();
}

/* config.json text -> the error of hf_read_config */
static void expect_config_error(const char *text, const char *want)
{
	char folder[256], path[512];
	struct hf_info info;
	path_of(folder, sizeof(folder), "cfg");
	mkdir(folder, 0777);
	snprintf(path, sizeof(path), "%s/config.json", folder);
	write_text(path, text);
	int rc = hf_read_config(folder, &info, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, "cfg/config.json: ") && strstr(err, want) && !strchr(err, '\n'),
	      "config error: got '%s', want '%s'", rc ? err : "success", want);
	printf("error config     %s\n", err);
	/* hf_parse_config of an exact-size copy: the same message under its own name */
	const char *what = strstr(err, "cfg/config.json: ");
	if (rc != -1 || !what)
		return;
	char file_err[512], *copy = malloc(strlen(text));
	snprintf(file_err, sizeof(file_err), "%s", what + 17);
	memcpy(copy, text, strlen(text));
	rc = hf_parse_config(copy, strlen(text), "mem.json", &info, err, sizeof(err));
	CHECK(rc == -1 && !strncmp(err, "mem.json: ", 10) && !strcmp(err + 10, file_err),
	      "hf_parse_config: got '%s', want 'mem.json: %s'", err, file_err);
	free(copy);
}

#define BASE "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, " \
	     "\"num_attention_heads\": 4, \"vocab_size\": 100"

static void check_config_errors(void)
{
	struct hf_info info;
	char folder[256], path[512];
	expect_config_error("{\"model_type\": \"llama\", \"intermediate_size\": 128, "
			    "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100}",
			    "field 'hidden_size' is missing");
	expect_config_error("{\"model_type\": \"mistral\", " BASE "}", "model_type 'mistral' is not supported");
	expect_config_error("{\"architectures\": [\"GPT2LMHeadModel\"], " BASE "}",
			    "model_type 'GPT2LMHeadModel' is not supported");
	expect_config_error("{" BASE "}", "field 'model_type' is missing");
	expect_config_error("{\"model_type\": \"llama\", \"attention_bias\": true, " BASE "}",
			    "field 'attention_bias' is true");
	expect_config_error("{\"model_type\": \"qwen2\", \"use_sliding_window\": true, " BASE "}",
			    "sliding-window attention is not supported");
	expect_config_error("{\"model_type\": \"qwen3\", \"rope_scaling\": {\"rope_type\": \"yarn\", "
			    "\"factor\": 4.0}, " BASE "}", "rope_scaling type 'yarn' is not supported");
	expect_config_error("{\"model_type\": \"llama\", \"rope_scaling\": {\"rope_type\": \"llama3\", "
			    "\"factor\": 8.0}, " BASE "}", "field 'rope_scaling.low_freq_factor' is missing");
	expect_config_error("{\"model_type\": \"llama\", \"num_key_value_heads\": 3, " BASE "}",
			    "not a multiple of num_key_value_heads 3");
	expect_config_error("{\"model_type\": \"llama\", \"hidden_size\": \"64\", \"intermediate_size\": 128, "
			    "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100}",
			    "field 'hidden_size' is \"64\" (a string), not an integer");
	expect_config_error("{\"model_type\": \"llama\", \"torch_dtype\": \"int8\", " BASE "}",
			    "field 'torch_dtype' is 'int8'");
	expect_config_error("{\"model_type\": \"llama\", \"hidden_act\": \"gelu\", " BASE "}",
			    "only silu is supported");
	expect_config_error("{\"model_type\": \"llama\", " BASE ",}", "line 1 col");
	expect_config_error("{\"model_type\": \"llama\", " BASE ",\n \"num_hidden_layers\": 4}",
			    "config.json: line 2 col 2: duplicate key \"num_hidden_layers\"");
	expect_config_error("{\"model_type\": \"qwen3\", \"rope_parameters\": {\"rope_type\": \"yarn\", "
			    "\"rope_theta\": 1e6, \"factor\": 4.0}, " BASE "}",
			    "rope_parameters type 'yarn' is not supported");
	expect_config_error("{\"model_type\": \"llama\", \"rope_parameters\": {\"rope_type\": \"llama3\", "
			    "\"factor\": 8.0, \"low_freq_factor\": 1.0}, " BASE "}",
			    "field 'rope_parameters.high_freq_factor' is missing");
	expect_config_error("{\"model_type\": \"qwen2\", \"rope_parameters\": {\"rope_type\": \"default\", "
			    "\"rope_theta\": -1}, " BASE "}", "field 'rope_parameters.rope_theta' is -1");
	expect_config_error("{\"model_type\": \"qwen2\", \"layer_types\": [\"full_attention\", "
			    "\"sliding_attention\"], " BASE "}",
			    "field 'layer_types' names 'sliding_attention' for layer 1");
	/* transformers 5's config.json: rope_parameters, rope_theta inside, wins over the old keys */
	path_of(folder, sizeof(folder), "cfg");
	snprintf(path, sizeof(path), "%s/config.json", folder);
	write_text(path, "{\"model_type\": \"llama\", \"rope_theta\": 10000.0, \"rope_scaling\": null, "
		   "\"layer_types\": [\"full_attention\", \"full_attention\"], \"rope_parameters\": "
		   "{\"factor\": 8.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0, "
		   "\"original_max_position_embeddings\": 32, \"rope_theta\": 500000.0, "
		   "\"rope_type\": \"llama3\"}, " BASE "}");
	CHECK(!hf_read_config(folder, &info, err, sizeof(err)), "rope_parameters: %s", err);
	CHECK(info.mc.rope_theta == 500000.0 && info.mc.rope_scaling == ROPE_SCALING_LLAMA3 &&
	      info.mc.rope_factor == 8.0 && info.mc.rope_low_freq_factor == 1.0 &&
	      info.mc.rope_high_freq_factor == 4.0 && info.mc.rope_original_max == 32,
	      "rope_parameters read: theta %g, scaling %d", info.mc.rope_theta, info.mc.rope_scaling);
	write_text(path, "{\"model_type\": \"qwen3\", \"rope_parameters\": {\"rope_theta\": 1000000.0, "
		   "\"rope_type\": \"default\"}, " BASE "}");
	CHECK(!hf_read_config(folder, &info, err, sizeof(err)) && info.mc.rope_theta == 1e6 &&
	      info.mc.rope_scaling == ROPE_SCALING_NONE, "rope_parameters default: %s", err);
	/* the defaults of transformers' LlamaConfig / Qwen2Config, and a list of eos ids */
	path_of(folder, sizeof(folder), "cfg");
	snprintf(path, sizeof(path), "%s/config.json", folder);
	write_text(path, "{\"architectures\": [\"Qwen2ForCausalLM\"], \"eos_token_id\": [5, 7], "
		   "\"bos_token_id\": null, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}, "
		   "\"dtype\": \"bfloat16\", " BASE "}");
	CHECK(!hf_read_config(folder, &info, err, sizeof(err)), "defaults: %s", err);
	const struct model_config *c = &info.mc;
	CHECK(c->qkv_bias && !c->qk_norm && c->n_kv_heads == 4 && c->head_dim == 16 &&
	      c->norm_eps == 1e-6 && c->rope_theta == 10000.0 && !c->tie_embeddings &&
	      c->max_seq_len == 32768 && c->rope_scaling == ROPE_SCALING_LINEAR && c->rope_factor == 2.0,
	      "qwen2 defaults");
	CHECK(info.bos_id == -1 && info.n_eos == 2 && info.eos_ids[1] == 7 &&
	      !strcmp(info.torch_dtype, "bfloat16"), "eos list, null bos, dtype key");
	snprintf(path, sizeof(path), "%s", folder);
	CHECK(hf_is_folder(folder) && !hf_is_folder(dir), "hf_is_folder");
}

int main(void)
{
	tensor_set_threads(1);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	check_up(ST_BF16, TENSOR_BF16, "bf16");
	check_up(ST_F16, TENSOR_F16, "f16");
	check_down(ST_BF16, TENSOR_BF16, "bf16");
	check_down(ST_F16, TENSOR_F16, "f16");
	for (int k = 0; k < N_CASES; k++)
		check_case(k);
	run_oracle();
	check_overwrite();
	check_shards();
	check_load_errors();
	check_config_errors();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_done("test_hf");
}
