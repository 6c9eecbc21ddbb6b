/*
 * cmd_eval.c - `attnrl eval`: a model on a benchmark. k responses per problem (greedy when
 * k = 1 and no temperature is given), scored by the task's verifier, summarised as avg@k and
 * pass@k overall and per subset (evaluate.h), printed as a table, and with --json FILE every
 * number down to each response's verdict.
 *
 * The model: a Hugging Face folder, a llama2.c .bin, an attnrl .safetensors (with the CONFIG it
 * was trained with), or a run: RUN_DIR (its model.safetensors, else its newest complete
 * checkpoint, its checksums verified) or RUN_DIR/ckpt/step_N. A run's config.yaml is the base config (its task,
 * template and shape); when it started from a Hugging Face folder or a llama2.c file, that
 * file is loaded first (it gives the shape) and the run's weights are loaded over it.
 * The problems: --data FILE (a JSONL file, every row; data.task=math unless the config says
 * mcq or countdown), else the config's held-out split (data.eval_size problems).
 * model.max_seq_len is set to the longest prompt plus rollout.max_new_tokens, so no problem is
 * left out for its length.
 * k, the temperature and top-p are eval.* of the config (a run's own), unless given; the rest
 * of the sampling (top-k, the stop string, rollout.ignore_eos) is the rollout's, as in training's
 * eval (evaluate_params).
 * The responses come from evaluate.c's loop, the one training's periodic eval runs: response j
 * of problem i samples from RNG stream i * k + j of run.seed, so the results depend neither on
 * --batch nor on how they were run.
 */
#include "attnrl/commands.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/ckpt.h"
#include "attnrl/config.h"
#include "attnrl/data.h"
#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/hf.h"
#include "attnrl/json.h"
#include "attnrl/policy.h"
#include "attnrl/rollout.h"

#include "../cmd_eval_internal.h"

#define EVAL_K_MAX 1024
#define EVAL_BATCH_MAX (1 << 16)
#define EVAL_ALL 1000000 /* data.eval_size: every row */

/* --temperature, --top-p, --max-new-tokens and --seed stay text: eval_sampling sets them as
 * config keys, so that the option table checks them as it checks a CONFIG */
#define OPT(f) offsetof(struct eval_args, f)
static const struct args_opt eval_opts[] = {
	{ "--model", ARGS_STR, OPT(model), "PATH|RUN_DIR", 0, 0, NULL, ARGS_REQUIRED,
	  "a Hugging Face folder, llama2.c .bin, attnrl .safetensors, run or checkpoint" },
	{ "--data", ARGS_STR, OPT(data), "FILE.jsonl", 0, 0, NULL, ARGS_OPTIONAL,
	  "the problems, every row (default: the config's held-out split)" },
	{ "--k", ARGS_LONG, OPT(k), "N", 1, EVAL_K_MAX, NULL, ARGS_OPTIONAL,
	  "responses per problem (default eval.k)" },
	{ "--temperature", ARGS_STR, OPT(temperature), "T", 0, 0, NULL, ARGS_OPTIONAL,
	  "eval.temperature (1.0 when --k > 1 comes without one)" },
	{ "--top-p", ARGS_STR, OPT(top_p), "P", 0, 0, NULL, ARGS_OPTIONAL, "eval.top_p" },
	{ "--max-new-tokens", ARGS_STR, OPT(max_new), "N", 0, 0, NULL, ARGS_OPTIONAL,
	  "rollout.max_new_tokens" },
	{ "--preset", ARGS_CHOICE, OPT(preset), "aime|greedy", 0, 0, NULL, ARGS_OPTIONAL,
	  "aime: avg@16 at temperature 1.0, top-p 0.7; greedy: pass@1" },
	{ "--by", ARGS_STR, OPT(by), "FIELD", 0, 0, NULL, ARGS_OPTIONAL,
	  "a field of the --data rows: a table row per value (level, subject)" },
	{ "--limit", ARGS_LONG, OPT(limit), "N", 1, EVAL_ALL, NULL, ARGS_OPTIONAL,
	  "at most N problems (data.eval_size)" },
	{ "--batch", ARGS_LONG, OPT(batch), "N", 1, EVAL_BATCH_MAX, "64", ARGS_OPTIONAL,
	  "responses sampled together (the results do not change)" },
	{ "--seed", ARGS_STR, OPT(seed), "S", 0, 0, NULL, ARGS_OPTIONAL, "run.seed" },
	{ "--tokenizer", ARGS_STR, OPT(tokenizer), "PATH", 0, 0, NULL, ARGS_OPTIONAL,
	  "model.tokenizer" },
	{ "--json", ARGS_STR, OPT(json), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "every number, down to each response's verdict, as JSON" },
	{ "--responses", ARGS_SWITCH, OPT(responses), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "the responses' texts into the JSON too" },
	{ "CONFIG", ARGS_LIST, OPT(cfg), "[CONFIG] [section.key=value ...]", 0, 0, NULL,
	  ARGS_OPTIONAL, "YAML files, then overrides (a run: overrides of its config.yaml)" },
	{ NULL },
};
const struct args_spec cmd_eval_args = {
	"eval", "avg@k / pass@k of a model or run on a benchmark, overall and per subset", eval_opts
};

static int file_exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !stat(path, &st);
}

/* a run or checkpoint folder: its config.yaml into cfg, the weights to load into weights */
static int resolve_run(const char *path, char *cfg, char *weights, size_t cap, char *err, size_t n)
{
	char dir[4096];
	snprintf(cfg, cap, "%s/config.yaml", path);
	if (file_exists(path, "model.safetensors")) {
		if (file_exists(path, "trainer_state.json") && !ckpt_complete(path)) {
			snprintf(err, n, "%s: checkpoint without DONE (its write never finished); give "
				 "another step", path);
			return -1;
		}
		snprintf(weights, cap, "%s/model.safetensors", path);
		return 0;
	}
	dir[0] = '\0';
	ckpt_latest(path, dir, sizeof(dir));
	if (!dir[0]) {
		snprintf(err, n, "%s: a run without model.safetensors or a complete checkpoint in "
			 "%s/ckpt; let it save one (train.save_every)", path, path);
		return -1;
	}
	snprintf(weights, cap, "%s/model.safetensors", dir);
	return 0;
}

/* which kind --model is: cfg and weights empty unless it is a run or a checkpoint */
static int resolve_model(const char *path, char *cfg, char *weights, size_t cap, char *err,
			 size_t n)
{
	struct stat st;
	cfg[0] = weights[0] = '\0';
	if (stat(path, &st)) {
		snprintf(err, n, "--model '%s': not found", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || hf_is_folder(path))
		return 0;
	if (file_exists(path, "config.yaml"))
		return resolve_run(path, cfg, weights, cap, err, n);
	snprintf(err, n, "--model '%s': a folder that is neither a Hugging Face model (config.json) "
		 "nor a run or checkpoint folder (config.yaml)", path);
	return -1;
}

static int set_key(struct config *c, const char *key, const char *value, char *err, size_t n)
{
	char kv[CONFIG_STR_MAX + 64];
	if (!value)
		return 0;
	snprintf(kv, sizeof(kv), "%s=%s", key, value);
	return config_apply_override(c, kv, err, n);
}

static int set_num(struct config *c, const char *key, double v, char *err, size_t n)
{
	char s[64];
	snprintf(s, sizeof(s), "%.17g", v);
	return set_key(c, key, s, err, n);
}

/* eval.k, eval.temperature, eval.top_p: the flags, else the preset, else the config's; a
 * temperature of 1.0 when k > 1 and none is given */
static int eval_sampling(struct eval_args *a, struct config *c, char *err, size_t n)
{
	int aime = a->preset && !strcmp(a->preset, "aime");
	long k = a->k ? a->k : aime ? EVAL_AIME_K : c->eval.k;
	double t = aime ? EVAL_AIME_TEMPERATURE : c->eval.temperature;
	if (!aime && t == 0.0 && k > 1)
		t = EVAL_AIME_TEMPERATURE;
	if (set_num(c, "eval.k", (double)k, err, n) || set_num(c, "eval.temperature", t, err, n) ||
	    (aime && set_num(c, "eval.top_p", EVAL_AIME_TOP_P, err, n)) ||
	    set_key(c, "eval.temperature", a->temperature, err, n) ||
	    set_key(c, "eval.top_p", a->top_p, err, n) ||
	    set_key(c, "rollout.max_new_tokens", a->max_new, err, n) ||
	    set_key(c, "run.seed", a->seed, err, n))
		return -1;
	a->k = c->eval.k;
	if (a->k > 1 && c->eval.temperature == 0.0) {
		snprintf(err, n, "--k %ld with temperature 0: greedy responses are all the same; give "
			 "--temperature > 0 or --k 1", a->k);
		return -1;
	}
	return 0;
}

/* the problems: --data FILE as a JSONL task, else the config's held-out split */
static int eval_problems(struct eval_args *a, struct config *c, char *err, size_t n)
{
	char limit[32];
	if (a->data) {
		if (!strcmp(c->data.task, "arith") && set_key(c, "data.task", "math", err, n))
			return -1;
		/* data.path too, for config_validate; only the file is read (data_init_eval) */
		if (set_key(c, "data.path", a->data, err, n) ||
		    set_key(c, "data.eval_path", a->data, err, n) ||
		    set_num(c, "data.eval_size", EVAL_ALL, err, n))
			return -1;
	}
	snprintf(limit, sizeof(limit), "%ld", a->limit);
	return set_key(c, "data.eval_size", a->limit ? limit : NULL, err, n);
}

/* the base config (a run's), CONFIG files, overrides, and model.path (commands.h) */
int cmd_model_config(struct config *c, const char *model, const struct args_list *list,
		     char *weights, size_t cap, int *weights_over, char *err, size_t n)
{
	char cfg[4096];
	config_init(c);
	if (resolve_model(model, cfg, weights, cap, err, n) ||
	    (cfg[0] && config_load_file(c, cfg, err, n)))
		return -1;
	for (int pass = 0; pass < 2; pass++) /* CONFIG files, then the overrides */
		for (int i = 0; i < list->n; i++) {
			int file = !strchr(list->v[i], '=');
			if (file != !pass)
				continue;
			if (file && cfg[0]) {
				snprintf(err, n, "--model %s is a run: its own config.yaml is used; give "
					 "section.key=value overrides, not the CONFIG file '%s'", model,
					 list->v[i]);
				return -1;
			}
			if (file ? config_load_file(c, list->v[i], err, n)
				 : config_apply_override(c, list->v[i], err, n))
				return -1;
		}
	const char *path = model;
	*weights_over = 0;
	if (weights[0]) {
		/* a run: its weights over the model it started from, or as the model itself */
		int own_shape = !c->model.path[0] || fs_has_suffix(c->model.path, ".safetensors");
		path = own_shape ? weights : c->model.path;
		*weights_over = !own_shape;
	}
	return set_key(c, "model.path", path, err, n);
}

/* the model's config, then the eval's own settings */
static int eval_config(struct eval_args *a, struct config *c, char *err, size_t n)
{
	if (cmd_model_config(c, a->model, &a->cfg, a->weights, sizeof(a->weights), &a->weights_over,
			     err, n) ||
	    set_key(c, "model.tokenizer", a->tokenizer, err, n) || eval_sampling(a, c, err, n) ||
	    eval_problems(a, c, err, n))
		return -1;
	c->model.max_seq_len = DATA_PROMPT_MAX + c->rollout.max_new_tokens;
	return config_validate(c, err, n);
}

/* the longest prompt, in tokens, into *longest */
static int longest_prompt(const struct eval_run *r, const struct data *d, int *longest, char *err,
			  size_t n)
{
	struct task_example *ex = malloc(sizeof(*ex));
	int32_t *ids = malloc(DATA_PROMPT_MAX * sizeof(*ids));
	int rc = -1;
	if (!ex || !ids) {
		snprintf(err, n, "eval: out of memory for %d prompts", r->n);
		goto out;
	}
	*longest = 1;
	for (int i = 0; i < r->n; i++) {
		if (data_eval_example(d, i, ex)) {
			snprintf(err, n, "eval: cannot read problem %d", i);
			goto out;
		}
		int len = data_encode(d, ex->prompt, ids, DATA_PROMPT_MAX, err, n);
		if (len < 0)
			goto out;
		if (len > *longest)
			*longest = len;
	}
	rc = 0;
out:
	free(ex);
	free(ids);
	return rc;
}

static int run_alloc(struct eval_run *r, int keep_text)
{
	size_t m = (size_t)r->n * (size_t)r->k;
	r->correct = calloc(m, 1);
	r->reward = calloc(m, sizeof(*r->reward));
	r->resp_len = calloc(m, sizeof(*r->resp_len));
	r->text = keep_text ? calloc(m, sizeof(*r->text)) : NULL;
	return r->correct && r->reward && r->resp_len && (r->text || !keep_text) ? 0 : -1;
}

/* eval_hooks.response: the verdict (and with --responses the text) of response j of problem i */
static int keep_response(void *ctx, int i, int j, const char *text, double reward, int correct,
			 int len, char *err, size_t n)
{
	struct eval_run *r = ctx;
	size_t o = (size_t)i * r->k + j;
	r->reward[o] = (float)reward;
	r->correct[o] = (char)correct;
	r->resp_len[o] = len;
	if (r->text && !(r->text[o] = strdup(text))) {
		snprintf(err, n, "eval: out of memory");
		return -1;
	}
	return 0;
}

static void show_progress(void *ctx, int done, int n, double seconds)
{
	(void)ctx;
	fprintf(stderr, "\reval: %d/%d problems, %.1f s", done, n, seconds);
}

/* every problem through evaluate.c's loop, per_call problems per call */
static int run_all(struct eval_run *r, struct policy *p, const struct data *d, int per_call,
		   const struct config *c, char *err, size_t n)
{
	struct rollout_params rp = evaluate_params(c); /* training's eval: the same rule */
	struct eval_hooks h = { keep_response, isatty(2) ? show_progress : NULL, r };
	struct eval_result res;
	if (evaluate_range(&p->ro, d, 0, r->n, (int)r->k, &rp, per_call * (int)r->k, &h, &res, err,
			   n))
		return -1;
	if (h.progress)
		fprintf(stderr, "\n");
	if (res.reward_errors)
		fprintf(stderr, "attnrl eval: reward: %ld of %ld responses scored 0, their reward "
			"program requests failed: %s\n", res.reward_errors, (long)r->n * r->k,
			reward_pool_last_error(d->reward->pool));
	r->seconds = res.seconds;
	r->tokens = res.tokens;
	return 0;
}

static void run_free(struct eval_run *r)
{
	if (r->text)
		for (long i = 0; i < (long)r->n * r->k; i++)
			free(r->text[i]);
	free(r->text);
	free(r->correct);
	free(r->reward);
	free(r->resp_len);
	if (r->labels)
		for (int i = 0; i < r->n; i++)
			free(r->labels[i]);
	free(r->labels);
	memset(r, 0, sizeof(*r));
}

/* a run's weights against its trainer_state.json's checksums, as resume checks a checkpoint
 * (commands.h) */
int cmd_model_verify(const char *weights, char *err, size_t n)
{
	char dir[4096], why[3072];
	snprintf(dir, sizeof(dir), "%s", weights);
	char *slash = strrchr(dir, '/');
	if (!weights[0] || !slash)
		return 0;
	*slash = '\0';
	if (!ckpt_verify(dir, "model.safetensors", why, sizeof(why)))
		return 0;
	snprintf(err, n, "%s; evaluate another checkpoint (--model RUN_DIR/ckpt/step_N)", why);
	return -1;
}

/* an output file that can be written, checked before the run rather than after it
 * (commands.h) */
int cmd_output_check(const char *flag, const char *path, char *err, size_t n)
{
	char dir[4096];
	struct stat st;
	if (!path)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	int e = 0;
	if (!stat(path, &st))
		e = S_ISDIR(st.st_mode) ? EISDIR : access(path, W_OK) ? errno : 0;
	else if (access(dir, W_OK))
		e = errno;
	if (!e)
		return 0;
	snprintf(err, n, "%s '%s': cannot write it: %s; give a file path in a writable folder",
		 flag, path, strerror(e));
	return -1;
}

/* tokenizer, problems, prompts; then the model, sized for the longest prompt; then the run */
static int eval_main(struct eval_args *a, struct config *c, char *err, size_t n)
{
	struct tokenizer tok;
	struct data d;
	struct policy p;
	struct eval_run r;
	int longest, rc = -1;
	memset(&tok, 0, sizeof(tok));
	memset(&d, 0, sizeof(d));
	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	r.k = a->k;
	policy_set_threads(c->train.threads);
	if (cmd_output_check("--json", a->json, err, n) || policy_tokenizer_init(&tok, c, err, n) ||
	    (a->data ? data_init_eval(&d, c, &tok, a->data, err, n) : data_init(&d, c, &tok, err, n)))
		goto out;
	r.n = d.eval_size;
	r.n_skipped = d.n_skipped;
	if (r.n < 1) { /* an accuracy of no problems is NaN */
		snprintf(err, n, "data: no usable held-out row in %s (see any warning above); give "
			 "--data a JSONL file of problems the tokenizer can encode",
			 a->data ? a->data : c->data.eval_path[0] ? c->data.eval_path : c->data.path);
		goto out;
	}
	if (cmd_model_verify(a->weights, err, n) || longest_prompt(&r, &d, &longest, err, n) || run_alloc(&r, a->responses) ||
	    (a->by && eval_labels(&r, &d, a->data, a->by, err, n)))
		goto out;
	c->model.max_seq_len = longest + c->rollout.max_new_tokens;
	int per_call = a->batch / a->k > 1 ? (int)(a->batch / a->k) : 1;
	if (per_call > r.n)
		per_call = r.n;
	if (policy_init(&p, c, per_call * (int)a->k, err, n) ||
	    (a->weights_over && model_load(p.model, a->weights, err, n)) ||
	    policy_gpu_auto(&p, c, err, n) || run_all(&r, &p, &d, per_call, c, err, n) || eval_report(&r, a, c, &d, err, n))
		goto out;
	rc = 0;
out:
	run_free(&r);
	policy_free(&p);
	data_free(&d);
	tokenizer_free(&tok);
	return rc;
}

int cmd_eval(int argc, char **argv)
{
	static struct config c;
	struct eval_args a = { 0 };
	char err[4096];
	int rc = args_parse(&cmd_eval_args, &a, argc, argv, err, sizeof(err));
	if (!rc && a.by && !a.data)
		rc = -1, snprintf(err, sizeof(err), "--by reads a field of the --data file; give "
				  "--data FILE.jsonl");
	if (rc)
		return args_exit(&cmd_eval_args, rc, err);
	if (eval_config(&a, &c, err, sizeof(err))) {
		fprintf(stderr, "attnrl eval: %s\n", err);
		return ATTNRL_EXIT_USAGE;
	}
	if (eval_main(&a, &c, err, sizeof(err))) {
		fprintf(stderr, "attnrl eval: %s\n", err);
		return 1;
	}
	return 0;
}
