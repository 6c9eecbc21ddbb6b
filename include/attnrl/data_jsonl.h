/*
 * data_jsonl.h - a JSONL file of problems in memory (data.task=math): one JSON object per line,
 * blank lines skipped. Each row keeps the question, the reference answer (after
 * answer_format), a worked solution when the file has one (for `attnrl sft`) and the subset
 * labels MATH carries ("subject", "level"), and a Countdown problem's "nums" and "target"
 * (TinyZero's fields) when the row has them.
 *
 * Fields (config.h data.*): prompt_field "auto" = the first of question, problem, prompt that
 * the first row has; answer_field "auto" = answer when the first row has it, else solution.
 * Every row must then hold both. An answer is a string or a number (AMC23: 27.0 -> "27").
 * answer_format: gsm8k = the text after the last "#### " (trimmed; commas kept for the
 * checker), boxed = the content of the last \boxed{}, plain = the text trimmed, auto = gsm8k
 * when "#### " occurs, else boxed when "\boxed" does, else plain (decided per row).
 * Solutions: a GSM8K answer becomes its worked text with the <<calculator>> notes removed and
 * "The answer is \boxed{X}." in place of "#### X"; otherwise a string "solution" field (MATH,
 * AIME), with that sentence added when it has no \boxed{}.
 * Errors are one line: "FILE:LINE:COL: invalid JSON: what", "FILE:LINE: no field 'answer'
 * (keys: ...); set data.answer_field", ...
 */
#ifndef ATTNRL_DATA_JSONL_H
#define ATTNRL_DATA_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/task.h"

struct dataset_opts {
	const char *prompt_field, *answer_field; /* a key, or "auto" */
	const char *answer_format;                /* auto | gsm8k | boxed | plain */
};

struct dataset_row {
	const char *question;
	const char *answer;          /* the reference, as the checker reads it */
	const char *solution;        /* a worked solution ending in \boxed{}, or NULL */
	const char *subject, *level; /* subset labels, or NULL */
	int nums[TASK_NUMBERS_MAX];  /* Countdown rows: "nums" and "target" (n_nums 0: none) */
	int n_nums;
	long target;
	const char *raw;             /* the row's JSON text as in the file */
	int line;                    /* 1-based line in the file */
	int eval;                    /* 1 when the question's hash falls in the held-out bucket */
};

struct dataset {
	struct dataset_row *rows; /* (n) in file order */
	int n;
	char prompt_field[64], answer_field[64]; /* the keys used (auto resolved) */
	char *mem;                /* the texts of every row */
	size_t mem_len, mem_cap;
};

int dataset_load(struct dataset *ds, const char *path, const struct dataset_opts *o, char *err,
		 size_t n);
/* the same from the JSONL text[0..len) (no NUL needed); where names it in messages */
int dataset_parse(struct dataset *ds, const char *text, size_t len, const char *where,
		  const struct dataset_opts *o, char *err, size_t n);
void dataset_free(struct dataset *ds);

#endif
