/*
 * cmd_export.c - `attnrl export RUN_DIR [--step N] --out DIR [--dtype D]`: the weights of a
 * run (RUN_DIR/model.safetensors, or the checkpoint RUN_DIR/ckpt/step_N/model.safetensors) as a
 * Hugging Face folder.
 *
 * The model is rebuilt with the shape the run trained, which RUN_DIR/config.yaml alone does not
 * always say: when model.path was a Hugging Face folder its config.json set the shape (and
 * rope scaling, eps, special ids, the default export dtype); a llama2.c checkpoint's header
 * did; otherwise the model.* keys did, with the vocabulary of the weights file. The tokenizer
 * files come from model.tokenizer, else the run's model folder, else (the built-in character
 * vocabulary) are written by hf_save.
 *
 * DIR is never a run's folder (it holds config.yaml, trainer_state.json, metrics.jsonl, ckpt/
 * or a checkpoint's DONE), the run's own least of all; a folder holding files an export
 * writes is replaced only with --force (file by file, atomically), so nothing is lost by a
 * mistyped --out.
 */
#include "attnrl/commands.h"

#include <dirent.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attnrl/ckpt.h"
#include "attnrl/config.h"
#include "attnrl/fsutil.h"
#include "attnrl/hf.h"
#include "attnrl/llama2c.h"
#include "attnrl/model.h"
#include "attnrl/safetensors.h"
#include "attnrl/tokenizer.h"

struct export_args {
	const char *run_dir, *out, *dtype; /* dtype NULL: the source's */
	long step;                         /* -1: the run's final weights */
	int force;                         /* replace the files an earlier export wrote */
};

#define OPT(f) offsetof(struct export_args, f)
static const struct args_opt export_opts[] = {
	{ "RUN_DIR", ARGS_STR, OPT(run_dir), NULL, 0, 0, NULL, ARGS_REQUIRED,
	  "the run's folder, <run.dir>/<run.name>" },
	{ "--step", ARGS_LONG, OPT(step), "N", 0, (double)LONG_MAX, NULL, ARGS_OPTIONAL,
	  "the checkpoint RUN_DIR/ckpt/step_N instead of the run's final weights" },
	{ "--out", ARGS_STR, OPT(out), "DIR", 0, 0, NULL, ARGS_REQUIRED,
	  "the Hugging Face folder to write: a new or empty one (made when missing)" },
	{ "--dtype", ARGS_CHOICE, OPT(dtype), "float32|bfloat16|float16", 0, 0, NULL,
	  ARGS_OPTIONAL, "the weights' type (default: the starting model's, else float32)" },
	{ "--force", ARGS_SWITCH, OPT(force), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "replace the files of an earlier export in DIR (never a run's folder)" },
	{ NULL },
};
const struct args_spec cmd_export_args = { "export", "a run's weights as a Hugging Face folder",
					   export_opts };

/* what the run started from: the model's shape and what the folder needs besides weights */
struct export_source {
	struct model_config mc;
	char dtype[16];
	int32_t bos_id, eos_id;
	const char *tok_src;
};

/* "100, 200" : the steps of RUN_DIR/ckpt/step_N folders */
static void list_steps(const char *run_dir, char *buf, size_t n)
{
	char path[4096];
	size_t k = 0;
	snprintf(path, sizeof(path), "%s/ckpt", run_dir);
	buf[0] = 0;
	DIR *d = opendir(path);
	for (struct dirent *e; d && (e = readdir(d)) && k < n;)
		if (!strncmp(e->d_name, "step_", 5))
			k += snprintf(buf + k, n - k, "%s%s", k ? ", " : "", e->d_name + 5);
	if (d)
		closedir(d);
}

static int weights_path(const struct export_args *a, char *path, size_t len, char *err, size_t n)
{
	struct stat st;
	char steps[256];
	if (a->step < 0)
		snprintf(path, len, "%s/model.safetensors", a->run_dir);
	else
		snprintf(path, len, "%s/ckpt/step_%ld/model.safetensors", a->run_dir, a->step);
	if (!stat(path, &st)) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/ckpt/step_%ld", a->run_dir, a->step);
		if (a->step < 0)
			return 0;
		if (ckpt_complete(dir))
			return ckpt_verify(dir, "model.safetensors", err, n);
		snprintf(err, n, "%s: checkpoint without DONE (its write never finished); export "
			 "another step", dir);
		return -1;
	}
	if (a->step < 0) {
		snprintf(err, n, "%s: not found: the run has not finished; export a checkpoint with "
			 "--step N", path);
		return -1;
	}
	list_steps(a->run_dir, steps, sizeof(steps));
	snprintf(err, n, "%s: no checkpoint of step %ld (%s%s)", path, a->step,
		 steps[0] ? "checkpoints: " : "the run has no checkpoints", steps);
	return -1;
}

/* rows of model.embed_tokens.weight in the weights file: the vocabulary the run had */
static int weights_vocab(const char *weights, int *vocab, char *err, size_t n)
{
	struct st_file f;
	if (st_open(&f, weights, err, n))
		return -1;
	const struct st_tensor *t = st_find(&f, "model.embed_tokens.weight");
	int ok = t && t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= INT32_MAX;
	if (ok)
		*vocab = (int)t->shape[0];
	else
		snprintf(err, n, "%s: no 2-d tensor 'model.embed_tokens.weight'", weights);
	st_close(&f);
	return ok ? 0 : -1;
}

/* bos/eos of the run's tokenizer (model.tokenizer, else the character vocabulary) */
static int tokenizer_ids(const struct config *c, struct export_source *s, char *err, size_t n)
{
	struct tokenizer tok;
	if (c->model.tokenizer[0] ? tokenizer_load(&tok, c->model.tokenizer, err, n)
				  : tokenizer_init_chars(&tok)) {
		if (!c->model.tokenizer[0])
			snprintf(err, n, "tokenizer: out of memory");
		return -1;
	}
	s->bos_id = tok.bos_id;
	s->eos_id = tok.eos_id;
	tokenizer_free(&tok);
	return 0;
}

static int export_source(const struct config *c, const char *weights, struct export_source *s,
			 char *err, size_t n)
{
	const char *path = c->model.path;
	struct stat st;
	memset(s, 0, sizeof(*s));
	snprintf(s->dtype, sizeof(s->dtype), "float32");
	s->tok_src = c->model.tokenizer;
	if (path[0] && !fs_has_suffix(path, ".safetensors") && stat(path, &st)) {
		snprintf(err, n, "model.path '%s' of the run is gone; export needs it for the model's "
			 "shape (restore it, or edit model.path in the run's config.yaml)", path);
		return -1;
	}
	if (path[0] && !fs_has_suffix(path, ".safetensors") && S_ISDIR(st.st_mode)) {
		struct hf_info info;
		if (hf_read_config(path, &info, err, n))
			return -1;
		s->mc = info.mc;
		snprintf(s->dtype, sizeof(s->dtype), "%s", info.torch_dtype);
		s->bos_id = info.bos_id;
		s->eos_id = info.n_eos ? info.eos_ids[0] : -1;
		if (!s->tok_src[0])
			s->tok_src = path;
		return 0;
	}
	if (fs_has_suffix(path, ".bin")) {
		if (llama2c_read_config(path, &s->mc, err, n))
			return -1;
		if (!s->tok_src[0]) /* the run read the checkpoint's sibling tokenizer.bin */
			s->tok_src = NULL;
	} else {
		int vocab;
		if (weights_vocab(weights, &vocab, err, n) || model_config_from(&s->mc, c, vocab, err, n))
			return -1;
	}
	return tokenizer_ids(c, s, err, n);
}

/* what marks a run's folder (or a checkpoint's): export never writes there */
static const char *const RUN_FILES[] = { "config.yaml", "trainer_state.json", "metrics.jsonl",
					 "ckpt", "DONE" };
/* what export writes: present in DIR only with --force */
static const char *const EXPORT_FILES[] = { "config.json", "model.safetensors", "tokenizer.json",
					    "tokenizer_config.json", "special_tokens_map.json",
					    "generation_config.json" };

/* 0 when --out may be written: a new or empty folder, or one an export wrote with --force */
static int out_check(const struct export_args *a, char *err, size_t n)
{
	char path[4300], out_real[PATH_MAX], run_real[PATH_MAX];
	struct stat st;
	if (stat(a->out, &st) || !S_ISDIR(st.st_mode) || !realpath(a->out, out_real))
		return 0; /* a new folder, or hf_save's own error */
	if (realpath(a->run_dir, run_real) && !strcmp(out_real, run_real)) {
		snprintf(err, n, "--out '%s' is the run being exported: its model.safetensors and "
			 "checkpoints would be replaced; give a new or empty folder", a->out);
		return -1;
	}
	for (size_t i = 0; i < sizeof(RUN_FILES) / sizeof(*RUN_FILES); i++) {
		snprintf(path, sizeof(path), "%s/%s", a->out, RUN_FILES[i]);
		if (!lstat(path, &st)) {
			snprintf(err, n, "--out '%s' is a run's folder (it holds %s): export would replace "
				 "its files; give a new or empty folder", a->out, RUN_FILES[i]);
			return -1;
		}
	}
	for (size_t i = 0; !a->force && i < sizeof(EXPORT_FILES) / sizeof(*EXPORT_FILES); i++) {
		snprintf(path, sizeof(path), "%s/%s", a->out, EXPORT_FILES[i]);
		if (!lstat(path, &st)) {
			snprintf(err, n, "--out '%s' already holds %s; give --force to replace it, or a "
				 "new or empty folder", a->out, EXPORT_FILES[i]);
			return -1;
		}
	}
	return 0;
}

static int export_run(const struct export_args *a, char *err, size_t n)
{
	static struct config c;
	struct export_source s;
	char cfg_path[4096], weights[4200];
	struct stat st;
	snprintf(cfg_path, sizeof(cfg_path), "%s/config.yaml", a->run_dir);
	if (stat(cfg_path, &st)) {
		snprintf(err, n, "'%s' is not a run directory (no config.yaml)", a->run_dir);
		return -1;
	}
	config_init(&c);
	if (config_load_file(&c, cfg_path, err, n) || weights_path(a, weights, sizeof(weights), err, n) ||
	    export_source(&c, weights, &s, err, n))
		return -1;
	struct model *m = model_create_empty(&s.mc);
	if (!m) {
		snprintf(err, n, "cannot allocate the model: %s", tensor_last_error());
		return -1;
	}
	const char *dtype = a->dtype ? a->dtype : s.dtype;
	int rc = model_load(m, weights, err, n) ||
		 hf_save(m, a->out, dtype, s.tok_src, s.bos_id, s.eos_id, err, n) ? -1 : 0;
	if (!rc)
		printf("attnrl export: %s -> %s (%s, %.1fM parameters, %s)\n", weights, a->out,
		       model_arch_name(&m->cfg), m->n_elements / 1e6, dtype);
	model_destroy(m);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = { .step = -1 };
	char err[8192];
	int rc = args_parse(&cmd_export_args, &a, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_export_args, rc, err);
	if (out_check(&a, err, sizeof(err))) {
		fprintf(stderr, "attnrl export: %s\n", err);
		return ATTNRL_EXIT_USAGE;
	}
	if (export_run(&a, err, sizeof(err))) {
		fprintf(stderr, "attnrl export: %s\n", err);
		return 1;
	}
	return 0;
}
