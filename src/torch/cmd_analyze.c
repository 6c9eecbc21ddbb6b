/*
 * cmd_analyze.c - `attnrl analyze`: the paper's Section 4 analysis (docs/method.md section 11)
 * on responses a model samples. K responses to each of N problems at the paper's temperature
 * 0.7, every layer's attention statistics streamed while they are generated; per layer third
 * (early, middle, late) the three Table 2 linkages with bootstrap intervals and the peak
 * densities (cmd_analyze_link.c); then Table 1's perturbation test (cmd_analyze_perturb.c).
 * A table on stdout, and with --json FILE every number as one JSON document.
 *
 * The model as `attnrl eval` takes it (cmd_model_config: a Hugging Face folder, a llama2.c
 * .bin, an attnrl .safetensors with its CONFIG, a run or a checkpoint). The problems: --prompts
 * FILE.jsonl (a question, problem or prompt field per row, data.prompt_field; no answer
 * needed), else the config's held-out split; data.template renders them. Response j of problem
 * i samples from RNG stream i * K + j of run.seed, so --batch changes nothing.
 */
#include "attnrl/commands.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attnrl/config.h"
#include "attnrl/credit_batch.h"
#include "attnrl/data.h"
#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/policy.h"

#include "../cmd_analyze_internal.h"

struct an_args {
	const char *model, *prompts, *tokenizer, *template_, *temperature, *max_new, *seed;
	const char *peaks, *reference, *stopwords, *json, *html;
	long n, k, shuffles, bootstrap, perturb_k, alternatives, batch;
	double q;
	struct args_list cfg;
	char weights[4096];
	int weights_over;
};

#define OPT(f) offsetof(struct an_args, f)
static const struct args_opt an_opts[] = {
	{ "--model", ARGS_STR, OPT(model), "PATH|RUN_DIR", 0, 0, NULL, ARGS_REQUIRED,
	  "a Hugging Face folder, llama2.c .bin, attnrl .safetensors, run or checkpoint" },
	{ "--prompts", ARGS_STR, OPT(prompts), "FILE.jsonl", 0, 0, NULL, ARGS_OPTIONAL,
	  "the problems, a question/problem/prompt field per row (default: the config's "
	  "held-out split)" },
	{ "--template", ARGS_STR, OPT(template_), "T", 0, 0, NULL, ARGS_OPTIONAL, "data.template" },
	{ "--n", ARGS_LONG, OPT(n), "N", 1, 100000, "16", ARGS_OPTIONAL, "problems" },
	{ "--k", ARGS_LONG, OPT(k), "K", 1, 1024, "4", ARGS_OPTIONAL, "responses per problem" },
	{ "--temperature", ARGS_STR, OPT(temperature), "T", 0, 0, "0.7", ARGS_OPTIONAL,
	  "rollout.temperature (the paper's 0.7)" },
	{ "--max-new-tokens", ARGS_STR, OPT(max_new), "N", 0, 0, NULL, ARGS_OPTIONAL,
	  "rollout.max_new_tokens" },
	{ "--peaks", ARGS_CHOICE, OPT(peaks), "topq|localmax", 0, 0, "topq", ARGS_OPTIONAL,
	  "the peak rule: the top q share, or local maxima over the median" },
	{ "--q", ARGS_DOUBLE, OPT(q), "Q", 0.001, 1, "0.2", ARGS_OPTIONAL,
	  "topq: the share of a response's tokens that are peaks" },
	{ "--shuffles", ARGS_LONG, OPT(shuffles), "N", 0, 1000000, "1000", ARGS_OPTIONAL,
	  "shuffles of the FAI peaks per response (0: the exact expectation)" },
	{ "--bootstrap", ARGS_LONG, OPT(bootstrap), "N", 0, 1000000, "1000", ARGS_OPTIONAL,
	  "bootstrap resamples of the problems" },
	{ "--seed", ARGS_STR, OPT(seed), "S", 0, 0, NULL, ARGS_OPTIONAL, "run.seed" },
	{ "--perturb-k", ARGS_LONG, OPT(perturb_k), "K", 0, 32, "2", ARGS_OPTIONAL,
	  "highest and lowest FAI tokens perturbed per response (0: no perturbation test)" },
	{ "--alternatives", ARGS_LONG, OPT(alternatives), "A", 1, 64, "2", ARGS_OPTIONAL,
	  "tokens forced in turn at each perturbed position" },
	{ "--reference", ARGS_CHOICE, OPT(reference), "greedy|sampled", 0, 0, "greedy",
	  ARGS_OPTIONAL, "compared continuation: greedy after the sampled token, or the sample" },
	{ "--stopwords", ARGS_STR, OPT(stopwords), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "stop words, one a line (default: NLTK's English list)" },
	{ "--batch", ARGS_LONG, OPT(batch), "N", 1, 65536, "64", ARGS_OPTIONAL,
	  "sequences generated together (the results do not change)" },
	{ "--tokenizer", ARGS_STR, OPT(tokenizer), "PATH", 0, 0, NULL, ARGS_OPTIONAL,
	  "model.tokenizer" },
	{ "--json", ARGS_STR, OPT(json), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "every number as JSON" },
	{ "--html", ARGS_STR, OPT(html), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "the results as a page of SVG charts, baselines marked" },
	{ "CONFIG", ARGS_LIST, OPT(cfg), "[CONFIG] [section.key=value ...]", 0, 0, NULL,
	  ARGS_OPTIONAL, "YAML files, then overrides (a run: overrides of its config.yaml)" },
	{ NULL },
};
const struct args_spec cmd_analyze_args = {
	"analyze", "peaks, linkages and the perturbation test of sampled responses", an_opts
};

static const char *const an_labels[AN_THIRDS] = { "early", "middle", "late" };

/* everything the command holds */
struct an {
	struct an_args *a;
	struct config *c;
	struct tokenizer tok;
	struct data d;
	int from_data;       /* d came from data_init (free it) */
	struct policy p;
	struct attnstats *stats;
	struct an_run run;
	struct analyze_linkages link[AN_THIRDS];
	struct an_perturb_out pert;
	char **stop;         /* --stopwords, or NULL */
	int n_stop;
	char *stop_mem;
};

static int set_key(struct config *c, const char *key, const char *value, char *err, size_t n)
{
	char kv[CONFIG_STR_MAX + 64];
	if (!value)
		return 0;
	snprintf(kv, sizeof(kv), "%s=%s", key, value);
	return config_apply_override(c, kv, err, n);
}

/* the model's config, then the flags as config keys (checked by the option table) */
static int an_config(struct an_args *a, struct config *c, char *err, size_t n)
{
	if (cmd_model_config(c, a->model, &a->cfg, a->weights, sizeof(a->weights), &a->weights_over,
			     err, n) ||
	    set_key(c, "model.tokenizer", a->tokenizer, err, n) ||
	    set_key(c, "data.template", a->template_, err, n) ||
	    set_key(c, "rollout.temperature", a->temperature, err, n) ||
	    set_key(c, "rollout.max_new_tokens", a->max_new, err, n) ||
	    set_key(c, "run.seed", a->seed, err, n))
		return -1;
	c->model.max_seq_len = DATA_PROMPT_MAX + c->rollout.max_new_tokens;
	if (config_validate(c, err, n))
		return -1;
	if (c->rollout.temperature <= 0) {
		snprintf(err, n, "--temperature 0: the analysis needs sampled responses; give T > 0");
		return -1;
	}
	return 0;
}

/* the text of row's prompt field (data.prompt_field; auto: question, problem, prompt) */
static const char *row_prompt(const struct json *row, const char *field)
{
	static const char *const autos[] = { "question", "problem", "prompt" };
	if (strcmp(field, "auto"))
		return json_str(json_get(row, field));
	for (int i = 0; i < 3; i++)
		if (json_str(json_get(row, autos[i])))
			return json_str(json_get(row, autos[i]));
	return NULL;
}

/* problem i's text into ids; the length, or -1 */
static int encode_one(struct an *s, const char *text, int i, char *err, size_t n)
{
	struct an_run *r = &s->run;
	int32_t ids[DATA_PROMPT_MAX];
	int len = data_encode(&s->d, text, ids, DATA_PROMPT_MAX, err, n);
	if (len < 0)
		return -1;
	if (len < 1) {
		snprintf(err, n, "problem %d: an empty prompt and no BOS to start from", i + 1);
		return -1;
	}
	if (!(r->prompt[i] = malloc(len * sizeof(int32_t)))) {
		snprintf(err, n, "analyze: out of memory");
		return -1;
	}
	memcpy(r->prompt[i], ids, len * sizeof(int32_t));
	r->prompt_len[i] = len;
	return len;
}

/* --prompts: its first rows (blank lines skipped), at most run.n, rendered and encoded */
static int prompts_file(struct an *s, char *err, size_t n)
{
	char *text = NULL, *next;
	size_t len;
	int count = 0, lineno = 0, rc = -1;
	if (fs_read_file(s->a->prompts, &text, &len)) {
		snprintf(err, n, "--prompts %s: cannot read: %s", s->a->prompts, strerror(errno));
		return -1;
	}
	for (char *line = text; line && *line && count < s->run.n; line = next) {
		char jerr[256];
		lineno++;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		struct json *row = json_parse(line, strlen(line), jerr, sizeof(jerr));
		const char *q = row_prompt(row, s->c->data.prompt_field);
		if (!q) {
			snprintf(err, n, "%s:%d: %s%s", s->a->prompts, lineno,
				 row ? "no string field question, problem or prompt (set "
				       "data.prompt_field)" : "invalid JSON: ", row ? "" : jerr);
			json_free(row);
			goto out;
		}
		int ok = encode_one(s, q, count, err, n) >= 0;
		json_free(row);
		if (!ok)
			goto out;
		count++;
	}
	if (count == 0) {
		snprintf(err, n, "--prompts %s: no rows", s->a->prompts);
		goto out;
	}
	s->run.n = count;
	rc = 0;
out:
	free(text);
	return rc;
}

/* the config's held-out split: its first run.n problems */
static int prompts_split(struct an *s, char *err, size_t n)
{
	struct task_example *ex = malloc(sizeof(*ex));
	int rc = -1;
	if (!ex) {
		snprintf(err, n, "analyze: out of memory");
		return -1;
	}
	if (data_init(&s->d, s->c, &s->tok, err, n))
		goto out;
	s->from_data = 1;
	if (s->run.n > s->d.eval_size)
		s->run.n = s->d.eval_size;
	for (int i = 0; i < s->run.n; i++)
		if (data_eval_example(&s->d, i, ex) || encode_one(s, ex->prompt, i, err, n) < 0) {
			if (!err[0])
				snprintf(err, n, "analyze: cannot read held-out problem %d", i);
			goto out;
		}
	rc = 0;
out:
	free(ex);
	return rc;
}

/* the problems, encoded, into s->run (n shrinks to what there is) */
static int problems(struct an *s, char *err, size_t n)
{
	struct an_run *r = &s->run;
	r->n = (int)s->a->n, r->k = (int)s->a->k, r->M = (int)s->c->rollout.max_new_tokens;
	if (an_run_alloc(r)) {
		snprintf(err, n, "analyze: out of memory for %d x %d responses", r->n, r->k);
		return -1;
	}
	err[0] = '\0';
	s->d.tok = &s->tok;
	if (s->a->prompts ? template_init(&s->d.tpl, s->c->data.template, err, n) ||
				    prompts_file(s, err, n)
			  : prompts_split(s, err, n))
		return -1;
	r->B = r->n * r->k; /* the storage stays, sized for the n asked */
	return 0;
}

/* --stopwords: one word a line, lower-cased, blank lines skipped */
static int stopwords(struct an *s, char *err, size_t n)
{
	size_t len;
	if (!s->a->stopwords)
		return 0;
	if (fs_read_file(s->a->stopwords, &s->stop_mem, &len)) {
		snprintf(err, n, "--stopwords %s: cannot read: %s", s->a->stopwords, strerror(errno));
		return -1;
	}
	int cap = 1;
	for (size_t i = 0; i < len; i++)
		cap += s->stop_mem[i] == '\n';
	if (!(s->stop = calloc(cap, sizeof(char *)))) {
		snprintf(err, n, "analyze: out of memory");
		return -1;
	}
	char *save = NULL;
	for (char *w = strtok_r(s->stop_mem, "\r\n", &save); w; w = strtok_r(NULL, "\r\n", &save)) {
		w += strspn(w, " \t");
		for (char *p = w; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (*w)
			s->stop[s->n_stop++] = w;
	}
	return 0;
}

/* the model sized for the longest prompt (+ twice the response for the perturbed
 * continuations), the statistics of every layer for one call's sequences */
static int model_setup(struct an *s, int per_call, char *err, size_t n)
{
	struct an_run *r = &s->run;
	int longest = 1;
	for (int i = 0; i < r->n; i++)
		longest = r->prompt_len[i] > longest ? r->prompt_len[i] : longest;
	s->c->model.max_seq_len = longest + (s->a->perturb_k ? 2 : 1) * r->M;
	int seqs = per_call * r->k > s->a->batch ? per_call * r->k : (int)s->a->batch;
	if (cmd_model_verify(s->a->weights, err, n) || policy_init(&s->p, s->c, seqs, err, n) ||
	    (s->a->weights_over && model_load(s->p.model, s->a->weights, err, n)))
		return -1;
	const struct model_config *mc = &s->p.model->cfg;
	struct attnstats_config sc;
	if (an_thirds(r, mc->n_layers, err, n) ||
	    rhythm_stats_config(&sc, s->c, mc->n_layers, mc->n_heads, err, n))
		return -1;
	sc.n_sampled = mc->n_layers;
	for (int l = 0; l < mc->n_layers; l++)
		sc.layers[l] = l;
	if (!(s->stats = attnstats_create(&sc, per_call * r->k, r->M))) {
		snprintf(err, n, "analyze: out of memory for the statistics of %d layers x %d heads "
			 "x %d sequences x %d tokens", mc->n_layers, mc->n_heads, per_call * r->k, r->M);
		return -1;
	}
	return 0;
}

/* every problem's K responses, per_call problems per call */
static int sample_all(struct an *s, int per_call, char *err, size_t n)
{
	struct an_run *r = &s->run;
	struct rollout_batch rb;
	struct rollout_params rp = rollout_params_from_config(s->c);
	int rc = rollout_batch_init(&rb, per_call * r->k, (int)s->c->model.max_seq_len) ? -1 : 0;
	if (rc)
		snprintf(err, n, "analyze: out of memory for %d sequences", per_call * r->k);
	for (int first = 0; !rc && first < r->n; first += per_call) {
		int m = r->n - first < per_call ? r->n - first : per_call;
		rc = an_sample(r, &s->p.ro, s->stats, first, m, &rp, &rb, err, n);
		if (isatty(2))
			fprintf(stderr, "\ranalyze: sampled %d/%d problems, %.1f s", first + m, r->n,
				r->seconds);
	}
	if (isatty(2))
		fprintf(stderr, "\n");
	rollout_batch_free(&rb);
	return rc;
}

static void analyze_settings(const struct an *s, struct analyze_params *ap)
{
	analyze_params_default(ap);
	ap->peak.kind = strcmp(s->a->peaks, "topq") ? ANALYZE_PEAK_LOCALMAX : ANALYZE_PEAK_TOPQ;
	ap->peak.q = s->a->q;
	ap->n_shuffles = (int)s->a->shuffles;
	ap->n_boot = (int)s->a->bootstrap;
	ap->shuffle_seed = (uint64_t)s->c->run.seed * 2 + 1;
	ap->boot_seed = (uint64_t)s->c->run.seed * 2 + 2;
}

static int perturb(struct an *s, char *err, size_t n)
{
	struct an_perturb_params pp = {
		.k = (int)s->a->perturb_k, .alternatives = (int)s->a->alternatives,
		.sampled_ref = !strcmp(s->a->reference, "sampled"), .batch = (int)s->a->batch,
		.stop = (const char *const *)s->stop, .n_stop = s->n_stop,
	};
	struct rollout_params rp = rollout_params_from_config(s->c);
	if (!pp.k)
		return 0;
	return an_perturb(&s->run, &s->p.ro, &pp, &rp, &s->pert, err, n);
}

static void print_report(const struct an *s, FILE *f)
{
	const struct an_run *r = &s->run;
	const struct an_args *a = s->a;
	fprintf(f, "analyze: %d problems x %d responses, temperature %g, max_new_tokens %d, "
		"%ld tokens in %.1f s\n", r->n, r->k, s->c->rollout.temperature, r->M, r->tokens,
		r->seconds);
	fprintf(f, "layer thirds:");
	for (int g = 0; g < AN_THIRDS; g++)
		fprintf(f, " %s = layers %d-%d%s", an_labels[g], r->third_lo[g],
			r->third_lo[g + 1] - 1, g < AN_THIRDS - 1 ? "," : "");
	fprintf(f, "; peaks %s", a->peaks);
	if (!strcmp(a->peaks, "topq"))
		fprintf(f, " q=%g", a->q);
	fprintf(f, " (paper's implied densities: WAAD ~20%%, global FAI ~22%%)\n\n");
	analyze_print(f, an_labels, s->link, AN_THIRDS);
	if (!a->perturb_k)
		return;
	fprintf(f, "\nperturbation (%s third's global FAI, %ld top and %ld bottom tokens per "
		"response, %ld alternatives, %s reference; paper: 0.534 / 0.631, 87.14%%)\n",
		an_labels[AN_PERTURB_THIRD], a->perturb_k, a->perturb_k, a->alternatives,
		a->reference);
	fprintf(f, "%ld greedy continuations, %ld tokens in %.1f s\n", s->pert.sequences,
		s->pert.tokens, s->pert.seconds);
	fprintf(f, "%-12s %10s %14s %14s %12s\n", "", "problems", "Jaccard high", "Jaccard low",
		"high < low");
	fprintf(f, "%-12s %10d %14.4f %14.4f %11.1f%%\n", "perturbation", s->pert.sum.n,
		s->pert.sum.mean_high, s->pert.sum.mean_low, 100 * s->pert.sum.frac_high_lower);
}

/* one JSON document: settings, the thirds (analyze_write_json's objects), the perturbation */
static int write_json(const struct an *s, char *err, size_t n)
{
	const struct an_args *a = s->a;
	FILE *f = fopen(a->json, "w");
	struct json_out o;
	if (!f) {
		snprintf(err, n, "--json %s: cannot open for writing: %s", a->json, strerror(errno));
		return -1;
	}
	fprintf(f, "{\"settings\": ");
	json_obj_begin(&o, f);
	json_kv_str(&o, "model", a->model);
	json_kv_int(&o, "problems", s->run.n);
	json_kv_int(&o, "k", s->run.k);
	json_kv_num(&o, "temperature", s->c->rollout.temperature);
	json_kv_int(&o, "max_new_tokens", s->run.M);
	json_kv_int(&o, "seed", s->c->run.seed);
	json_kv_str(&o, "peaks", a->peaks);
	json_kv_num(&o, "q", a->q);
	json_kv_int(&o, "shuffles", a->shuffles);
	json_kv_int(&o, "bootstrap", a->bootstrap);
	json_kv_int(&o, "tokens", s->run.tokens);
	json_obj_end(&o);
	fprintf(f, ", \"thirds\": [");
	for (int g = 0; g < AN_THIRDS; g++) {
		fprintf(f, g ? ", {\"layers\": [%d, %d], \"linkages\": " : "{\"layers\": [%d, %d], "
			"\"linkages\": ", s->run.third_lo[g], s->run.third_lo[g + 1] - 1);
		analyze_write_json(f, an_labels[g], &s->link[g]);
		fprintf(f, "}");
	}
	fprintf(f, "], \"perturbation\": ");
	if (a->perturb_k) {
		fprintf(f, "{\"k\": %ld, \"alternatives\": %ld, \"reference\": \"%s\", \"third\": "
			"\"%s\", \"summary\": ", a->perturb_k, a->alternatives, a->reference,
			an_labels[AN_PERTURB_THIRD]);
		analyze_write_perturb_json(f, &s->pert.sum);
		fprintf(f, "}");
	} else {
		fprintf(f, "null");
	}
	fprintf(f, "}\n");
	if (ferror(f) | fclose(f)) {
		snprintf(err, n, "--json %s: write failed (disk full?)", a->json);
		return -1;
	}
	return 0;
}

/* --html: the page, its meta line the settings */
static int write_html(const struct an *s, char *err, size_t n)
{
	const struct an_args *a = s->a;
	char meta[1024];
	FILE *f = fopen(a->html, "w");
	if (!f) {
		snprintf(err, n, "--html %s: cannot open for writing: %s", a->html, strerror(errno));
		return -1;
	}
	snprintf(meta, sizeof(meta), "model %s; %d problems x %d responses at temperature %g, "
		 "max_new_tokens %d, seed %ld; peaks %s (q %g); %ld shuffles, %ld bootstrap "
		 "resamples", a->model, s->run.n, s->run.k, s->c->rollout.temperature, s->run.M,
		 (long)s->c->run.seed, a->peaks, a->q, a->shuffles, a->bootstrap);
	int rc = an_write_html(f, meta, s->link, an_labels, a->perturb_k ? &s->pert.sum : NULL);
	if (rc | fclose(f)) {
		snprintf(err, n, "--html %s: write failed (disk full?)", a->html);
		return -1;
	}
	return 0;
}

static void an_free(struct an *s)
{
	free(s->pert.high);
	free(s->pert.low);
	free(s->stop);
	free(s->stop_mem);
	an_run_free(&s->run);
	attnstats_destroy(s->stats);
	policy_free(&s->p);
	if (s->from_data)
		data_free(&s->d);
	tokenizer_free(&s->tok);
}

/* the problems, the model, the responses, the linkages, the perturbation, the report */
static int an_main(struct an *s, char *err, size_t n)
{
	struct analyze_params ap;
	policy_set_threads(s->c->train.threads);
	if (cmd_output_check("--json", s->a->json, err, n) ||
	    cmd_output_check("--html", s->a->html, err, n) || stopwords(s, err, n) ||
	    policy_tokenizer_init(&s->tok, s->c, err, n) || problems(s, err, n))
		return -1;
	int per_call = s->a->batch / s->a->k > 1 ? (int)(s->a->batch / s->a->k) : 1;
	per_call = per_call < s->run.n ? per_call : s->run.n;
	analyze_settings(s, &ap);
	if (model_setup(s, per_call, err, n) || sample_all(s, per_call, err, n) ||
	    an_linkages(&s->run, &ap, s->link, err, n) || perturb(s, err, n))
		return -1;
	print_report(s, stdout);
	if (fflush(stdout)) {
		snprintf(err, n, "cannot write the output");
		return -1;
	}
	return (s->a->json && write_json(s, err, n)) || (s->a->html && write_html(s, err, n)) ? -1 : 0;
}

int cmd_analyze(int argc, char **argv)
{
	static struct config c;
	struct an_args a = { 0 };
	char err[4096];
	int rc = args_parse(&cmd_analyze_args, &a, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_analyze_args, rc, err);
	if (an_config(&a, &c, err, sizeof(err))) {
		fprintf(stderr, "attnrl analyze: %s\n", err);
		return ATTNRL_EXIT_USAGE;
	}
	struct an *s = calloc(1, sizeof(*s));
	if (!s) {
		fprintf(stderr, "attnrl analyze: out of memory\n");
		return 1;
	}
	s->a = &a, s->c = &c;
	rc = an_main(s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl analyze: %s\n", err);
	an_free(s);
	free(s);
	return rc ? 1 : 0;
}
