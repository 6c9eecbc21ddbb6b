/*
 * cmd_eval.c - `attnrl eval`: a model on a benchmark. k responses per problem (greedy when
 * k = 1 and no temperature is given), scored by the task's verifier, summarised as avg@k and
 * pass@k overall and per subset (evaluate.h), printed as a table, and with --json FILE every
 * number down to each response's verdict.
 *
 * The model: a Hugging Face folder, a llama2.c .bin, an attnrl .safetensors (with the CONFIG it
 * was trained with), or a run: RUN_DIR (its model.safetensors, else its newest complete
 * checkpoint) or RUN_DIR/ckpt/step_N. A run's config.yaml is the base config (its task,
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

#define EXIT_USAGE 2
#define EVAL_K_MAX 1024
#define EVAL_BATCH_DEFAULT 64
#define EVAL_ALL 1000000 /* data.eval_size: every row */

static const char usage_text[] =
	"usage: attnrl eval --model PATH [--data FILE.jsonl] [--k N] [--temperature T] [--top-p P] "
	"[--max-new-tokens N] [--preset aime|greedy] [--by FIELD] [--limit N] [--batch N] [--seed S] "
	"[--tokenizer PATH] [--json FILE] [--responses] [CONFIG] [section.key=value ...]";

static const char *const flag_names[] = { "--model", "--data", "--tokenizer", "--by", "--json",
					  "--preset", "--k", "--temperature", "--top-p",
					  "--max-new-tokens", "--limit", "--batch", "--seed" };
enum { N_FLAGS = sizeof(flag_names) / sizeof(flag_names[0]) };

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "attnrl eval: %s%s%s; %s\n", what, arg ? " " : "", arg ? arg : "", usage_text);
	return EXIT_USAGE;
}

static int parse_count(const char *flag, const char *v, long lo, long hi, long *out)
{
	char *end;
	long x = strtol(v, &end, 10);
	if (end == v || *end || x < lo || x > hi) {
		fprintf(stderr, "attnrl eval: %s '%s': expected an integer in [%ld, %ld]\n", flag, v,
			lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

/* flags into a, CONFIG files and overrides into a->cfg; exit code or 0 */
static int eval_args(struct eval_args *a, int argc, char **argv)
{
	const char **slots[N_FLAGS] = { &a->model, &a->data, &a->tokenizer, &a->by, &a->json,
					&a->preset, &a->k_arg, &a->temperature, &a->top_p,
					&a->max_new, &a->limit_arg, &a->batch_arg, &a->seed };
	memset(a, 0, sizeof(*a));
	a->cfg = calloc((size_t)argc + 1, sizeof(*a->cfg));
	if (!a->cfg)
		return usage_error("out of memory", NULL);
	for (int i = 0; i < argc; i++) {
		int f = 0;
		while (f < N_FLAGS && strcmp(argv[i], flag_names[f]))
			f++;
		if (f < N_FLAGS && i + 1 < argc)
			*slots[f] = argv[++i];
		else if (f < N_FLAGS)
			return usage_error("missing the value of", argv[i]);
		else if (!strcmp(argv[i], "--responses"))
			a->responses = 1;
		else if (!strncmp(argv[i], "--", 2))
			return usage_error("unknown flag", argv[i]);
		else
			a->cfg[a->n_cfg++] = argv[i];
	}
	if (!a->model)
		return usage_error("missing --model PATH", NULL);
	a->batch = EVAL_BATCH_DEFAULT;
	if (a->preset && strcmp(a->preset, "aime") && strcmp(a->preset, "greedy"))
		return usage_error("unknown --preset (aime: avg@16 sampled; greedy: pass@1)", a->preset);
	if ((a->k_arg && parse_count("--k", a->k_arg, 1, EVAL_K_MAX, &a->k)) ||
	    (a->limit_arg && parse_count("--limit", a->limit_arg, 1, EVAL_ALL, &a->limit)) ||
	    (a->batch_arg && parse_count("--batch", a->batch_arg, 1, 1 << 16, &a->batch)))
		return EXIT_USAGE;
	if (a->by && !a->data)
		return usage_error("--by reads a field of the --data file; give --data FILE.jsonl", NULL);
	return 0;
}

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
	long k = a->k_arg ? a->k : aime ? EVAL_AIME_K : c->eval.k;
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

/* the base config (a run's), CONFIG files, overrides, then the eval's own settings */
static int eval_config(struct eval_args *a, struct config *c, char *err, size_t n)
{
	char cfg[4096];
	config_init(c);
	if (resolve_model(a->model, cfg, a->weights, sizeof(a->weights), err, n) ||
	    (cfg[0] && config_load_file(c, cfg, err, n)))
		return -1;
	for (int pass = 0; pass < 2; pass++) /* CONFIG files, then the overrides */
		for (int i = 0; i < a->n_cfg; i++) {
			int file = !strchr(a->cfg[i], '=');
			if (file != !pass)
				continue;
			if (file && cfg[0]) {
				snprintf(err, n, "--model %s is a run: its own config.yaml is used; give "
					 "section.key=value overrides, not the CONFIG file '%s'", a->model,
					 a->cfg[i]);
				return -1;
			}
			if (file ? config_load_file(c, a->cfg[i], err, n)
				 : config_apply_override(c, a->cfg[i], err, n))
				return -1;
		}
	const char *path = a->model;
	if (a->weights[0]) {
		/* a run: its weights over the model it started from, or as the model itself */
		int own_shape = !c->model.path[0] || fs_has_suffix(c->model.path, ".safetensors");
		path = own_shape ? a->weights : c->model.path;
		a->weights_over = !own_shape;
	}
	if (set_key(c, "model.path", path, err, n) ||
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
	if (policy_tokenizer_init(&tok, c, err, n) ||
	    (a->data ? data_init_eval(&d, c, &tok, a->data, err, n) : data_init(&d, c, &tok, err, n)))
		goto out;
	r.n = d.eval_size;
	r.n_skipped = d.n_skipped;
	if (r.n < 1) {
		snprintf(err, n, "eval: no problem to evaluate");
		goto out;
	}
	if (longest_prompt(&r, &d, &longest, err, n) || run_alloc(&r, a->responses) ||
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
	struct eval_args a;
	char err[4096];
	int rc = eval_args(&a, argc, argv);
	if (!rc && eval_config(&a, &c, err, sizeof(err))) {
		fprintf(stderr, "attnrl eval: %s\n", err);
		rc = EXIT_USAGE;
	}
	if (!rc && eval_main(&a, &c, err, sizeof(err))) {
		fprintf(stderr, "attnrl eval: %s\n", err);
		rc = 1;
	}
	free(a.cfg);
	return rc;
}
