/*
 * cmd_eval_report.c - what `attnrl eval` prints: the subset labels of --by (read back from the
 * JSONL file by line number), the summary table on stdout and the --json file: the settings,
 * the summary rows (evaluate.h) and every problem's responses (verdict, reward, length, and
 * with --responses the text), so that any number can be recomputed from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/json.h"

#include "cmd_eval_internal.h"

/* a string, a number or a bool as text (malloc'ed); NULL for anything else */
static char *label_of(const struct json *v)
{
	char num[64];
	int64_t i;
	switch (json_type(v)) {
	case JSON_STRING:
		return strdup(json_str(v));
	case JSON_NUMBER:
		if (!json_int(v, &i))
			snprintf(num, sizeof(num), "%lld", (long long)i);
		else /* as data_jsonl.c writes a number question: 0.1 reads "0.1" in both */
			snprintf(num, sizeof(num), "%.15g", json_num(v));
		return strdup(num);
	case JSON_BOOL:
		return strdup(json_bool(v) ? "true" : "false");
	default:
		return NULL;
	}
}

int eval_labels(struct eval_run *r, const struct data *d, const char *path, const char *field,
		char *err, size_t n)
{
	size_t len;
	char *text;
	fs_read_file(path, &text, &len);
	int found = 0, i = 0;
	r->labels = calloc((size_t)r->n, sizeof(*r->labels));
	if (!text || !r->labels) {
		snprintf(err, n, "%s: cannot read it again for --by", path);
		free(text);
		return -1;
	}
	const char *p = text;
	for (int line = 1; p < text + len && i < r->n; line++) {
		const char *e = memchr(p, '\n', (size_t)(text + len - p));
		size_t k = e ? (size_t)(e - p) : (size_t)(text + len - p);
		if (d->eval[i]->line == line) {
			/* the line as data_jsonl.c parsed it: leading white space trimmed (a UTF-8
			 * BOM after spaces is only valid JSON at the start; found by fuzz_jsonl) */
			const char *b = p;
			while (b < p + k && (*b == ' ' || *b == '\t' || *b == '\r'))
				b++;
			struct json *row = json_parse(b, k - (size_t)(b - p), err, n);
			if (row) {
				r->labels[i] = label_of(json_get(row, field));
				found += r->labels[i] != NULL;
			}
			json_free(row);
			i++;
		}
		p += k + 1;
	}
	free(text);
	if (!found) {
		snprintf(err, n, "--by %s: no row of %s has a string or number field '%s'", field, path,
			 field);
		return -1;
	}
	return 0;
}

static void print_table(const struct eval_subset *s, int rows, const struct eval_run *r,
			const struct eval_args *a, const struct config *c)
{
	char sampling[96], avg[32], pass[32];
	if (c->eval.temperature == 0.0)
		snprintf(sampling, sizeof(sampling), "greedy");
	else
		snprintf(sampling, sizeof(sampling), "temperature %g, top-p %g", c->eval.temperature,
			 c->eval.top_p);
	printf("attnrl eval: %s on %s (task %s, template %s): %d problems%s, k %ld, %s, "
	       "max_new_tokens %ld, seed %ld, %.1f s\n", a->model,
	       a->data ? a->data : "the config's held-out split", c->data.task, c->data.template,
	       r->n, r->n_skipped ? " (some skipped: see above)" : "", r->k, sampling,
	       c->rollout.max_new_tokens, c->run.seed, r->seconds);
	snprintf(avg, sizeof(avg), "avg@%ld", r->k);
	snprintf(pass, sizeof(pass), "pass@%ld", r->k);
	printf("%-24s %8s %9s %8s %8s %8s %8s\n", a->by ? a->by : "subset", "problems",
	       "responses", avg, pass, "reward", "length");
	for (int j = 0; j < rows; j++)
		printf("%-24.24s %8d %9d %8.4f %8.4f %8.4f %8.1f\n", s[j].group ? s[j].group : "all",
		       s[j].n, s[j].responses, s[j].avg_at_k, s[j].pass_at_k, s[j].reward_mean,
		       s[j].response_len_mean);
	printf("(avg@%ld: mean accuracy of all %ld responses; pass@%ld: share of problems with a "
	       "right response among their %ld)\n", r->k, (long)r->n * r->k, r->k, r->k);
}

static void write_subset(FILE *f, const struct eval_subset *s)
{
	struct json_out o;
	json_obj_begin(&o, f);
	json_kv_str(&o, "subset", s->group);
	json_kv_int(&o, "problems", s->n);
	json_kv_int(&o, "responses", s->responses);
	json_kv_int(&o, "correct", s->correct);
	json_kv_int(&o, "solved", s->solved);
	json_kv_num(&o, "avg_at_k", s->avg_at_k);
	json_kv_num(&o, "pass_at_k", s->pass_at_k);
	json_kv_num(&o, "reward_mean", s->reward_mean);
	json_kv_num(&o, "response_len_mean", s->response_len_mean);
	json_obj_end(&o);
}

/* one problem: {"index", "line", "subset", "prompt", "answer", "correct": [..], ...}\n */
static void write_problem(FILE *f, const struct eval_run *r, const struct data *d, int i,
			  struct task_example *ex)
{
	struct json_out o;
	size_t b = (size_t)i * r->k;
	json_obj_begin(&o, f);
	json_kv_int(&o, "index", i);
	if (d->from_file)
		json_kv_int(&o, "line", d->eval[i]->line);
	json_kv_str(&o, "subset", r->labels ? r->labels[i] : NULL);
	if (!data_eval_example(d, i, ex)) {
		json_kv_str(&o, "prompt", ex->prompt);
		json_kv_str(&o, "answer", ex->answer);
	}
	json_kv_key(&o, "correct");
	for (long j = 0; j < r->k; j++)
		fprintf(f, "%s%d", j ? ", " : "[", r->correct[b + j]);
	fprintf(f, "]");
	json_kv_key(&o, "reward");
	for (long j = 0; j < r->k; j++) {
		fprintf(f, "%s", j ? ", " : "[");
		json_write_float(f, r->reward[b + j]);
	}
	fprintf(f, "]");
	json_kv_key(&o, "response_len");
	for (long j = 0; j < r->k; j++)
		fprintf(f, "%s%d", j ? ", " : "[", r->resp_len[b + j]);
	fprintf(f, "]");
	if (r->text) {
		json_kv_key(&o, "responses");
		for (long j = 0; j < r->k; j++) {
			fprintf(f, "%s", j ? ", " : "[");
			json_write_string(f, r->text[b + j]);
		}
		fprintf(f, "]");
	}
	json_obj_end(&o);
}

/* {"model", settings..., "summary": [rows], "per_problem": [...]}, an object per line */
static int write_json(const char *path, const struct eval_subset *s, int rows,
		      const struct eval_run *r, const struct eval_args *a, const struct config *c,
		      const struct data *d, char *err, size_t n)
{
	struct task_example *ex = malloc(sizeof(*ex));
	if (!ex) {
		snprintf(err, n, "--json '%s': out of memory", path);
		return -1;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, n, "--json '%s': cannot write it: %s; give a file path in a writable "
			 "folder (--json DIR/eval.json)", path, strerror(errno));
		free(ex);
		return -1;
	}
	fprintf(f, "{\"model\": ");
	json_write_string(f, a->model);
	fprintf(f, ", \"data\": ");
	json_write_string(f, a->data);
	fprintf(f, ", \"task\": ");
	json_write_string(f, c->data.task);
	fprintf(f, ", \"template\": ");
	json_write_string(f, c->data.template);
	fprintf(f, ", \"by\": ");
	json_write_string(f, a->by);
	fprintf(f, ",\n \"k\": %ld, \"temperature\": ", r->k);
	json_write_number(f, c->eval.temperature);
	fprintf(f, ", \"top_p\": ");
	json_write_number(f, c->eval.top_p);
	fprintf(f, ", \"top_k\": %ld, \"max_new_tokens\": %ld, \"seed\": %ld, \"problems\": %d, "
		"\"skipped\": %d, \"seconds\": ", c->rollout.top_k, c->rollout.max_new_tokens,
		c->run.seed, r->n, r->n_skipped);
	json_write_number(f, r->seconds);
	fprintf(f, ", \"tokens\": %ld,\n \"summary\": [\n", r->tokens);
	for (int j = 0; j < rows; j++) {
		fprintf(f, "%s", j ? "  , " : "    ");
		write_subset(f, &s[j]);
	}
	fprintf(f, " ],\n \"per_problem\": [\n");
	for (int i = 0; i < r->n; i++) {
		fprintf(f, "%s", i ? "  , " : "    ");
		write_problem(f, r, d, i, ex);
	}
	fprintf(f, " ]}\n");
	free(ex);
	errno = 0;
	int bad = fflush(f) || ferror(f);
	int e = errno ? errno : EIO;
	if (fclose(f) && !bad)
		bad = 1, e = errno;
	if (bad) {
		snprintf(err, n, "--json '%s': write failed, the file is incomplete: %s; free space or "
			 "give another path", path, strerror(e));
		return -1;
	}
	return 0;
}

int eval_report(const struct eval_run *r, const struct eval_args *a, const struct config *c,
		const struct data *d, char *err, size_t n)
{
	struct eval_problem *p = calloc((size_t)r->n, sizeof(*p));
	struct eval_subset *s = NULL;
	int rows = -1;
	if (p) {
		for (int i = 0; i < r->n; i++) {
			p[i].group = r->labels ? r->labels[i] : NULL;
			p[i].k = (int)r->k;
			for (long j = 0; j < r->k; j++) {
				size_t b = (size_t)i * r->k + j;
				p[i].correct += r->correct[b];
				p[i].reward_sum += r->reward[b];
				p[i].len_sum += r->resp_len[b];
			}
		}
		rows = eval_summarize(p, r->n, &s);
	}
	if (rows < 0) {
		snprintf(err, n, "eval: out of memory");
		free(p);
		return -1;
	}
	print_table(s, rows, r, a, c);
	int rc = a->json ? write_json(a->json, s, rows, r, a, c, d, err, n) : 0;
	if (!rc && (fflush(stdout) || ferror(stdout))) {
		snprintf(err, n, "cannot write the table to stdout: %s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	free(s);
	free(p);
	return rc;
}
