/*
 * hf.c - Hugging Face model folders in (see hf.h): config.json -> struct hf_info (the parsing
 * is hf_config.c's), and the weights of a single or sharded safetensors folder -> the
 * parameters of a model. Before loading, the tensors stored are checked against the config:
 * num_hidden_layers equals the layers stored, and every stored tensor is a parameter.
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

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/safetensors.h"
#include "attnrl/stop.h"

int hf_is_folder(const char *dir)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/config.json", dir);
	return !stat(dir, &st) && S_ISDIR(st.st_mode) && !stat(p, &st);
}

/* ---- config.json (parsed by hf_config.c) ------------------------------------------------ */

int hf_read_config(const char *dir, struct hf_info *info, char *err, size_t n)
{
	char path[4096];
	memset(info, 0, sizeof(*info));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	struct json *root = json_load(path, err, n);
	if (!root)
		return -1;
	int rc = hf_config_from_json(root, path, info, err, n);
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

/* ---- config.json against the tensors stored ---------------------------------------------- */

/* the K of "model.layers.K.", else -1 */
static long layer_of(const char *name)
{
	char *end;
	if (strncmp(name, "model.layers.", 13) || name[13] < '0' || name[13] > '9')
		return -1;
	long k = strtol(name + 13, &end, 10);
	return *end == '.' ? k : -1;
}

static int param_index(const struct model *m, const char *name)
{
	for (int i = 0; i < m->n_params; i++)
		if (!strcmp(m->names[i], name))
			return i;
	return -1;
}

/* names[0..count), every tensor the folder stores (what holds them: where), against the
 * parameters the config makes: the same layer count, no tensor the model would not load
 * (aside from rotary inverse frequencies, a buffer, and the lm_head of a tied model, which
 * transformers ignores too); the missing ones are named by load_param */
static int check_stored(const struct model *m, const char *dir, const char *where,
			const char *const *names, int count, char *err, size_t n)
{
	long top = -1;
	for (int i = 0; i < count; i++)
		if (layer_of(names[i]) > top)
			top = layer_of(names[i]);
	if (top + 1 != m->cfg.n_layers) {
		if (top < 0)
			snprintf(err, n, "'%s/config.json': num_hidden_layers %d but %s holds no "
				 "model.layers.* tensors; fix num_hidden_layers or the weights", dir,
				 m->cfg.n_layers, where);
		else
			snprintf(err, n, "'%s/config.json': num_hidden_layers %d but %s holds layers "
				 "0-%ld (%ld); fix num_hidden_layers", dir, m->cfg.n_layers, where, top,
				 top + 1);
		return -1;
	}
	for (int i = 0; i < count; i++) {
		if (param_index(m, names[i]) >= 0 || fs_has_suffix(names[i], ".rotary_emb.inv_freq") ||
		    (m->cfg.tie_embeddings && !strcmp(names[i], "lm_head.weight")))
			continue;
		snprintf(err, n, "'%s/%s': tensor '%s' is not a parameter of the model config.json "
			 "describes (%s); check model_type and the config", dir, where, names[i],
			 m->cfg.qk_norm ? "qwen3" : m->cfg.qkv_bias ? "qwen2" : "llama");
		return -1;
	}
	return 0;
}

/* the names of every stored tensor: the index's weight_map, or the one file's header */
static int check_folder(const struct model *m, const char *dir, const struct weight_files *w,
			char *err, size_t n)
{
	const struct json *map = json_get(w->index, "weight_map");
	const char **names;
	int count, rc;
	struct st_file f;
	char path[4096];
	if (w->index) {
		count = (int)json_len(map);
		if (!(names = calloc(count ? count : 1, sizeof(*names)))) {
			snprintf(err, n, "%s: out of memory", dir);
			return -1;
		}
		for (int i = 0; i < count; i++)
			names[i] = json_key_at(map, i);
		rc = check_stored(m, dir, "model.safetensors.index.json", names, count, err, n);
		free(names);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (st_open(&f, path, err, n))
		return -1;
	if (!(names = calloc(f.n_tensors ? f.n_tensors : 1, sizeof(*names)))) {
		st_close(&f);
		snprintf(err, n, "%s: out of memory", dir);
		return -1;
	}
	for (int i = 0; i < f.n_tensors; i++)
		names[i] = f.tensors[i].name;
	rc = check_stored(m, dir, "model.safetensors", names, f.n_tensors, err, n);
	free(names);
	st_close(&f);
	return rc;
}

int hf_load_weights(struct model *m, const char *dir, char *err, size_t n)
{
	struct weight_files w;
	unsigned char *done = calloc(m->n_params ? m->n_params : 1, 1);
	int rc = done ? weight_files_init(&w, m, dir, err, n) : -1;
	if (!done)
		snprintf(err, n, "%s: out of memory", dir);
	if (!rc)
		rc = check_folder(m, dir, &w, err, n);
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
			rc = stop_requested() ? model_load_stopped(path, err, n) :
						load_param(m, j, &f, path, err, n);
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
