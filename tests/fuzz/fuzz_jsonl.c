/*
 * fuzz_jsonl.c - libFuzzer target of the JSON reader and the JSONL dataset loader: the whole
 * input is parsed as one JSON document (json_parse) and every node walked through the
 * accessors, then loaded as a JSONL dataset (dataset_parse) with options picked by its
 * length, and every row's texts read (ASan checks they are valid C strings) and its countdown
 * "nums"/"target" checked against data_jsonl.h's ranges. Then `attnrl eval --by`: the rows are
 * labelled from the file as cmd_eval_report.c reads it back (eval_labels, over a temporary
 * copy of the input) by the prompt field, whose label must be the row's question, and by the
 * first byte-picked field, then summarized (eval_summarize) with made-up verdicts whose
 * totals are checked.
 */
#include "attnrl/data_jsonl.h"
#include "attnrl/evaluate.h"
#include "attnrl/json.h"

#include "../../src/cmd_eval_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *null_out;
static char copy_path[64];

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_jsonl: property failed: %s\n", what);
		abort();
	}
}

static void walk(const struct json *v, int depth)
{
	enum json_type ty = json_type(v);
	int64_t x;
	if (depth > JSON_MAX_DEPTH + 1) {
		fprintf(stderr, "a document nested deeper than JSON_MAX_DEPTH was accepted\n");
		abort();
	}
	json_bool(v);
	json_int(v, &x);
	if (ty == JSON_NUMBER)
		json_write_number(null_out, json_num(v));
	if (ty == JSON_STRING) {
		const char *s = json_str(v);
		size_t n = json_str_len(v);
		if (s[n] != '\0' || strlen(s) > n)
			abort();
		json_write_strn(null_out, s, n);
	}
	for (size_t i = 0; i < json_len(v); i++) {
		const char *k = json_key_at(v, i);
		if (ty == JSON_OBJECT) {
			json_get(v, k);
			json_write_string(null_out, k);
		}
		walk(json_at(v, i), depth + 1);
	}
}

static void read_rows(const struct dataset *ds)
{
	size_t sum = 0;
	for (int i = 0; i < ds->n; i++) {
		const struct dataset_row *r = &ds->rows[i];
		sum += strlen(r->question) + strlen(r->answer);
		if (r->solution)
			sum += strlen(r->solution);
		if (r->subject)
			sum += strlen(r->subject);
		if (r->level)
			sum += strlen(r->level);
		check(r->n_nums >= 0 && r->n_nums <= TASK_NUMBERS_MAX, "n_nums in [0, 8]");
		for (int k = 0; k < r->n_nums; k++)
			check(r->nums[k] >= 1 && r->nums[k] <= 1000000, "nums in [1, 1e6]");
		check(!r->n_nums || (r->target >= -1000000000 && r->target <= 1000000000),
		      "target in [-1e9, 1e9]");
		check(i == 0 || r->line > ds->rows[i - 1].line, "rows in file order");
	}
	if (sum == (size_t)-1)
		abort();
}

/* summary of n problems with k = 1..4 responses and verdicts from the row's line */
static void summarize(const struct dataset *ds, char **labels)
{
	struct eval_problem *p = calloc((size_t)ds->n + 1, sizeof(*p));
	struct eval_subset *s = NULL;
	int correct = 0;
	check(p != NULL, "calloc");
	for (int i = 0; i < ds->n; i++) {
		p[i].group = labels[i];
		p[i].k = 1 + i % 4;
		p[i].correct = (ds->rows[i].line * 7) % (p[i].k + 1);
		p[i].reward_sum = p[i].correct;
		p[i].len_sum = ds->rows[i].line;
		correct += p[i].correct;
	}
	int rows = eval_summarize(p, ds->n, &s);
	check(rows >= 1 && s[0].group == NULL && s[0].n == ds->n && s[0].correct == correct,
	      "the all row");
	int n = 0;
	for (int j = 0; j < rows; j++) {
		check(s[j].avg_at_k >= 0 && s[j].avg_at_k <= 1 && s[j].pass_at_k >= 0 &&
		      s[j].pass_at_k <= 1, "avg@k and pass@k in [0, 1]");
		for (int q = 1; j && q < j; q++)
			check(strcmp(s[q].group, s[j].group) != 0, "distinct subsets");
		n += j ? s[j].n : 0;
	}
	check(rows == 1 || n == ds->n, "subsets partition the problems");
	free(s);
	free(p);
}

/* eval_labels over a copy of the input: by the prompt field, then by a picked field */
static void labels(const struct dataset *ds, const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "subject", "level", "id", "answer", "target", "x" };
	const struct dataset_row **rows = calloc((size_t)ds->n + 1, sizeof(*rows));
	struct data d = { .eval = rows, .n_eval = ds->n };
	char err[512];
	check(rows != NULL, "calloc");
	for (int i = 0; i < ds->n; i++)
		rows[i] = &ds->rows[i];
	if (!copy_path[0])
		snprintf(copy_path, sizeof(copy_path), "%s/fuzz_jsonl.%d",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", (int)getpid());
	FILE *f = fopen(copy_path, "wb");
	check(f && fwrite(data, 1, size, f) == size && !fclose(f), "write the copy");
	for (int pass = 0; pass < 2; pass++) {
		struct eval_run r = { .n = ds->n };
		const char *field = pass ? fields[size % 6] : ds->prompt_field;
		int rc = eval_labels(&r, &d, copy_path, field, err, sizeof(err));
		check(pass || !rc, "every row has a label by its prompt field");
		for (int i = 0; !pass && !rc && i < ds->n; i++)
			check(r.labels[i] && !strcmp(r.labels[i], ds->rows[i].question),
			      "the prompt field's label is the row's question");
		if (r.labels) {
			if (!rc)
				summarize(ds, r.labels);
			for (int i = 0; i < ds->n; i++)
				free(r.labels[i]);
			free(r.labels);
		}
	}
	unlink(copy_path);
	free(rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prompts[] = { "auto", "question", "problem", "prompt" };
	static const char *const answers[] = { "auto", "answer", "solution", "auto" };
	static const char *const formats[] = { "auto", "gsm8k", "boxed", "plain" };
	char err[1024];
	if (!null_out)
		null_out = fopen("/dev/null", "w");
	struct json *root = json_parse((const char *)data, size, err, sizeof(err));
	if (root)
		walk(root, 0);
	json_free(root);
	struct dataset_opts o = { prompts[size % 4], answers[size / 4 % 4], formats[size / 16 % 4] };
	struct dataset ds;
	if (dataset_parse(&ds, (const char *)data, size, "data.jsonl", &o, err, sizeof(err)) == 0) {
		read_rows(&ds);
		labels(&ds, data, size);
		dataset_free(&ds);
	}
	return 0;
}
