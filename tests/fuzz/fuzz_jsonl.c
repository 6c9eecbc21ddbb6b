/*
 * fuzz_jsonl.c - libFuzzer target of the JSON reader and the JSONL dataset loader: the whole
 * input is parsed as one JSON document (json_parse) and every node walked through the
 * accessors, then loaded as a JSONL dataset (dataset_parse) with options picked by its
 * length, and every row's texts read (ASan checks they are valid C strings).
 */
#include "attnrl/dataset.h"
#include "attnrl/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *null_out;

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
	}
	if (sum == (size_t)-1)
		abort();
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
		dataset_free(&ds);
	}
	return 0;
}
