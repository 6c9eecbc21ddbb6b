/*
 * data_jsonl.c - JSONL problems into memory (see data_jsonl.h). The file is read whole, each line
 * parsed on its own (so an error names its line) and its texts copied into one block sized
 * from the file before the first row: decoded JSON strings are never longer than their
 * source, and each row adds at most ROW_EXTRA bytes (number formatting, the solution's
 * closing sentence).
 */
#include "attnrl/data_jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/task.h"
#include "attnrl/task_mathans.h"

#define ROW_EXTRA (2 * TASK_ANSWER_MAX + 256)

static const char *const prompt_auto[] = { "question", "problem", "prompt" };

struct loader {
	const char *path;
	int line;
	char *err;
	size_t n;
	const struct dataset_opts *o;
	struct dataset *ds;
};

static int fail(struct loader *l, const char *fmt, const char *a, const char *b)
{
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
	snprintf(l->err, l->n, "%s:%d: %s", l->path, l->line, msg);
	for (char *p = l->err; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return -1;
}

/* bytes of text into the block, NUL added; NULL when it is full (a sizing bug) */
static const char *keep(struct dataset *ds, const char *s, size_t len)
{
	if (ds->mem_len + len + 1 > ds->mem_cap)
		return NULL;
	char *p = ds->mem + ds->mem_len;
	memcpy(p, s, len);
	p[len] = '\0';
	ds->mem_len += len + 1;
	return p;
}

/* not strchr(" \t\r\n", c) alone: it finds the terminator for c == '\0', which made a NUL
 * byte white space, so "\0{...}" loaded here but not in eval --by's re-read (fuzz_jsonl) */
static int blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **b, size_t *len)
{
	while (*len && blank_char(**b))
		(*b)++, (*len)--;
	while (*len && blank_char((*b)[*len - 1]))
		(*len)--;
}

/* the first few keys of a row, "a, b, c" */
static void list_keys(const struct json *row, char *out, size_t cap)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_len(row) && k + 1 < cap; i++)
		k += (size_t)snprintf(out + k, cap - k, "%s%s", i ? ", " : "", json_key_at(row, i));
	if (!json_len(row))
		snprintf(out, cap, "none");
}

/* the keys this file uses, from its first row */
static int resolve_fields(struct loader *l, const struct json *row)
{
	struct dataset *ds = l->ds;
	char keys[256];
	list_keys(row, keys, sizeof(keys));
	if (strcmp(l->o->prompt_field, "auto")) {
		snprintf(ds->prompt_field, sizeof(ds->prompt_field), "%s", l->o->prompt_field);
	} else {
		for (size_t i = 0; i < 3 && !ds->prompt_field[0]; i++)
			if (json_get(row, prompt_auto[i]))
				snprintf(ds->prompt_field, sizeof(ds->prompt_field), "%s", prompt_auto[i]);
		if (!ds->prompt_field[0])
			return fail(l, "no question field: none of question, problem, prompt (keys: %s); "
				    "set data.prompt_field", keys, NULL);
	}
	if (strcmp(l->o->answer_field, "auto"))
		snprintf(ds->answer_field, sizeof(ds->answer_field), "%s", l->o->answer_field);
	else if (json_get(row, "answer") || !json_get(row, "solution"))
		snprintf(ds->answer_field, sizeof(ds->answer_field), "answer");
	else
		snprintf(ds->answer_field, sizeof(ds->answer_field), "solution");
	return 0;
}

/* a string field, or a number written back ("27", "0.5"); NULL with err when neither */
static const char *field_text(struct loader *l, const struct json *row, const char *key,
			      char *num, size_t cap)
{
	const struct json *v = json_get(row, key);
	int64_t i;
	char keys[256];
	if (json_type(v) == JSON_STRING)
		return json_str(v);
	if (json_type(v) == JSON_NUMBER) {
		if (!json_int(v, &i))
			snprintf(num, cap, "%lld", (long long)i);
		else
			snprintf(num, cap, "%.15g", json_num(v));
		return num;
	}
	if (!v) {
		list_keys(row, keys, sizeof(keys));
		fail(l, "no field '%s' (keys: %s)", key, keys);
	} else {
		fail(l, "field '%s' is a %s; expected a string or a number", key,
		     json_type_name(json_type(v)));
	}
	return NULL;
}

/* the reference answer of text under answer_format: (*b, *len), or -1 with err */
static int extract_answer(struct loader *l, const char *text, const char **b, size_t *len,
			  int *gsm8k)
{
	const char *fmt = l->o->answer_format, *h = NULL;
	*gsm8k = 0;
	for (const char *p = strstr(text, "#### "); p; p = strstr(p + 1, "#### "))
		h = p;
	if (!strcmp(fmt, "auto"))
		fmt = h ? "gsm8k" : strstr(text, "\\boxed") ? "boxed" : "plain";
	if (!strcmp(fmt, "gsm8k")) {
		if (!h)
			return fail(l, "answer_format=gsm8k: no '#### ' in field '%s'",
				    l->ds->answer_field, NULL);
		*b = h + 5, *len = strlen(h + 5), *gsm8k = 1;
	} else if (!strcmp(fmt, "boxed")) {
		if (!math_last_boxed(text, b, len))
			return fail(l, "answer_format=boxed: no complete \\boxed{} in field '%s'",
				    l->ds->answer_field, NULL);
	} else {
		*b = text, *len = strlen(text);
	}
	trim(b, len);
	if (!*len)
		return fail(l, "empty answer in field '%s'", l->ds->answer_field, NULL);
	return 0;
}

/* GSM8K's worked text without <<calculator>> notes, then the boxed answer in place of "#### " */
static const char *gsm8k_solution(struct dataset *ds, const char *text, const char *answer)
{
	const char *h = NULL, *e;
	for (const char *p = strstr(text, "#### "); p; p = strstr(p + 1, "#### "))
		h = p;
	size_t len = (size_t)(h - text), k = 0, room = ds->mem_cap - ds->mem_len;
	char *out = ds->mem + ds->mem_len;
	while (len && blank_char(text[len - 1]))
		len--;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '<' && text[i + 1] == '<' && (e = strstr(text + i, ">>")) &&
		    e < text + len) {
			i = (size_t)(e - text) + 1;
			continue;
		}
		if (k + 1 >= room)
			return NULL;
		out[k++] = text[i];
	}
	int t = snprintf(out + k, room - k, "\nThe answer is \\boxed{%s}.", answer);
	if (t < 0 || (size_t)t >= room - k)
		return NULL;
	ds->mem_len += k + (size_t)t + 1;
	return out;
}

/* a "solution" field as it is, with the boxed answer added when it has none */
static const char *field_solution(struct dataset *ds, const char *text, const char *answer)
{
	const char *b;
	size_t len, room = ds->mem_cap - ds->mem_len;
	char *out = ds->mem + ds->mem_len;
	int k = math_last_boxed(text, &b, &len) ?
			snprintf(out, room, "%s", text) :
			snprintf(out, room, "%s\nThe answer is \\boxed{%s}.", text, answer);
	if (k < 0 || (size_t)k >= room)
		return NULL;
	ds->mem_len += (size_t)k + 1;
	return out;
}

/* a subset label: a string or a number ("Precalculus", "2"), or NULL */
static const char *label_text(const struct json *row, const char *key, char *num, size_t cap)
{
	const struct json *v = json_get(row, key);
	int64_t i;
	if (json_type(v) == JSON_STRING)
		return json_str(v);
	if (json_type(v) == JSON_NUMBER && !json_int(v, &i)) {
		snprintf(num, cap, "%lld", (long long)i);
		return num;
	}
	return NULL;
}

/* Countdown rows (TinyZero's fields): "nums", an array of 1..TASK_NUMBERS_MAX integers in
 * [1, 1000000], and "target", an integer; both or neither */
static int load_numbers(struct loader *l, const struct json *row, struct dataset_row *r)
{
	const struct json *nums = json_get(row, "nums"), *target = json_get(row, "target");
	int64_t v;
	if (!nums && !target)
		return 0;
	size_t k = json_len(nums);
	if (json_type(nums) != JSON_ARRAY || k < 1 || k > TASK_NUMBERS_MAX)
		return fail(l, "\"nums\" must be an array of 1 to 8 integers (with \"target\")", NULL,
			    NULL);
	for (size_t i = 0; i < k; i++) {
		if (json_int(json_at(nums, i), &v) || v < 1 || v > 1000000)
			return fail(l, "\"nums\" holds something other than an integer in [1, 1000000]",
				    NULL, NULL);
		r->nums[i] = (int)v;
	}
	if (json_int(target, &v) || v < -1000000000 || v > 1000000000)
		return fail(l, "\"target\" must be an integer (with \"nums\")", NULL, NULL);
	r->n_nums = (int)k;
	r->target = (long)v;
	return 0;
}

static int load_row(struct loader *l, const struct json *row, struct dataset_row *r)
{
	struct dataset *ds = l->ds;
	char num[64], lv[64];
	const char *ab, *q, *a;
	size_t alen;
	int gsm8k;
	if (json_type(row) != JSON_OBJECT)
		return fail(l, "a row must be a JSON object, got %s", json_type_name(json_type(row)),
			    NULL);
	if (!ds->prompt_field[0] && resolve_fields(l, row))
		return -1;
	if (!(q = field_text(l, row, ds->prompt_field, num, sizeof(num))))
		return -1;
	memset(r, 0, sizeof(*r));
	r->line = l->line;
	r->question = keep(ds, q, strlen(q));
	r->eval = task_hash(q) % TASK_EVAL_BUCKETS == 0;
	if (!(a = field_text(l, row, ds->answer_field, num, sizeof(num))) ||
	    extract_answer(l, a, &ab, &alen, &gsm8k))
		return -1;
	r->answer = keep(ds, ab, alen);
	const char *sol = json_str(json_get(row, "solution"));
	if (r->answer && alen < TASK_ANSWER_MAX && gsm8k)
		r->solution = gsm8k_solution(ds, a, r->answer);
	else if (r->answer && alen < TASK_ANSWER_MAX && sol)
		r->solution = field_solution(ds, sol, r->answer);
	const char *subject = label_text(row, "subject", num, sizeof(num));
	const char *level = label_text(row, "level", lv, sizeof(lv));
	r->subject = subject ? keep(ds, subject, strlen(subject)) : NULL;
	r->level = level ? keep(ds, level, strlen(level)) : NULL;
	if (!r->question || !r->answer || (subject && !r->subject) || (level && !r->level))
		return fail(l, "internal: the text block is too small", NULL, NULL);
	return load_numbers(l, row, r);
}

/* one JSON line: 0, or -1 with "FILE:LINE:COL: invalid JSON: what" */
static int parse_line(struct loader *l, const char *s, size_t len, struct dataset_row *r)
{
	char jerr[256];
	struct json *row = json_parse(s, len, jerr, sizeof(jerr));
	if (!row) {
		int line = 0, col = 0, at = 0;
		if (sscanf(jerr, "line %d col %d: %n", &line, &col, &at) == 2 && at > 0)
			snprintf(l->err, l->n, "%s:%d:%d: invalid JSON: %s", l->path, l->line, col,
				 jerr + at);
		else
			snprintf(l->err, l->n, "%s:%d: invalid JSON: %s", l->path, l->line, jerr);
		return -1;
	}
	int rc = load_row(l, row, r);
	json_free(row);
	if (!rc && !(r->raw = keep(l->ds, s, len)))
		return fail(l, "internal: the text block is too small", NULL, NULL);
	return rc;
}

/* lines holding more than white space: the rows to make room for, and (*bytes) their text */
static size_t count_rows(const char *text, size_t len, size_t *bytes)
{
	size_t rows = 0;
	*bytes = 0;
	for (const char *p = text; p < text + len;) {
		const char *e = memchr(p, '\n', (size_t)(text + len - p));
		const char *b = p;
		size_t t = e ? (size_t)(e - p) : (size_t)(text + len - p);
		trim(&b, &t);
		rows += t > 0;
		*bytes += t;
		p = e ? e + 1 : text + len;
	}
	return rows ? rows : 1;
}

static int load_lines(struct loader *l, const char *text, size_t len)
{
	struct dataset *ds = l->ds;
	size_t row_bytes, lines = count_rows(text, len, &row_bytes);
	ds->rows = calloc(lines, sizeof(*ds->rows));
	/* the texts taken from the rows, and each row as it is */
	ds->mem_cap = len + row_bytes + lines * (ROW_EXTRA + 1) + 1;
	ds->mem = malloc(ds->mem_cap);
	if (!ds->rows || !ds->mem) {
		snprintf(l->err, l->n, "%s: out of memory for %zu lines", l->path, lines);
		return -1;
	}
	const char *p = text;
	for (l->line = 1; p < text + len; l->line++) {
		const char *e = memchr(p, '\n', (size_t)(text + len - p));
		size_t k = e ? (size_t)(e - p) : (size_t)(text + len - p);
		const char *b = p;
		size_t t = k;
		trim(&b, &t);
		if (t && parse_line(l, b, t, &ds->rows[ds->n]))
			return -1;
		ds->n += t > 0;
		p += k + 1;
	}
	if (!ds->n) {
		snprintf(l->err, l->n, "%s: no rows (an empty file?)", l->path);
		return -1;
	}
	return 0;
}

int dataset_load(struct dataset *ds, const char *path, const struct dataset_opts *o, char *err,
		 size_t n)
{
	size_t len;
	char *text;
	memset(ds, 0, sizeof(*ds));
	if (fs_is_dir(path)) {
		snprintf(err, n, "'%s' is a directory; expected a JSONL file", path);
		return -1;
	}
	if (fs_read_file(path, &text, &len)) {
		snprintf(err, n, "%s: cannot read: %s; check data.path / data.eval_path", path,
			 errno ? strerror(errno) : "out of memory");
		return -1;
	}
	int rc = dataset_parse(ds, text, len, path, o, err, n);
	free(text);
	return rc;
}

int dataset_parse(struct dataset *ds, const char *text, size_t len, const char *where,
		  const struct dataset_opts *o, char *err, size_t n)
{
	struct loader l = { where, 0, err, n, o, ds };
	memset(ds, 0, sizeof(*ds));
	int rc = load_lines(&l, text, len);
	if (rc)
		dataset_free(ds);
	return rc;
}

void dataset_free(struct dataset *ds)
{
	free(ds->rows);
	free(ds->mem);
	memset(ds, 0, sizeof(*ds));
}
