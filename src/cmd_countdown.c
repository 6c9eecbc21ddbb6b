/*
 * cmd_countdown.c - `attnrl countdown-data --out DIR`: a fixed Countdown data set in TinyZero's
 * shape, DIR/train.jsonl and DIR/test.jsonl, that data.task=countdown reads with data.path /
 * data.eval_path (configs/paper/countdown-qwen3-4b.yaml).
 *
 * The problems are the countdown task's own generator (task.h: 3-4 numbers in [1, 100] by
 * default, a target in [1, 1000] reached by a random expression over all of them, so every
 * problem is solvable): train row i is the next problem of the stream task_example_get(seed,
 * TASK_TRAIN, ...) not seen before, test rows come from the TASK_EVAL stream. The two splits
 * are disjoint by construction (a problem's split is a hash of its sorted numbers and target)
 * and each holds distinct problems, so the files are a pure function of (seed, sizes, ranges).
 * Row: {"question": the prompt, "answer": a solution expression, "nums": [...], "target": N}.
 */
#include "attnrl/commands.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/task.h"

#define CD_ROWS_MAX 10000000

struct cd_args {
	const char *out;
	long seed, train, test, min_numbers, max_numbers, max_number;
};

#define OPT(f) offsetof(struct cd_args, f)
static const struct args_opt cd_opts[] = {
	{ "--out", ARGS_STR, OPT(out), "DIR", 0, 0, NULL, ARGS_REQUIRED,
	  "the folder of train.jsonl and test.jsonl (made when missing)" },
	{ "--seed", ARGS_LONG, OPT(seed), "S", 0, (double)LONG_MAX, "1234", ARGS_OPTIONAL,
	  "seed of the problem streams" },
	{ "--train", ARGS_LONG, OPT(train), "N", 1, CD_ROWS_MAX, "20000", ARGS_OPTIONAL,
	  "training problems" },
	{ "--test", ARGS_LONG, OPT(test), "N", 1, CD_ROWS_MAX, "512", ARGS_OPTIONAL,
	  "held-out problems" },
	{ "--min-numbers", ARGS_LONG, OPT(min_numbers), "N", 0, INT_MAX, "3", ARGS_OPTIONAL,
	  "fewest numbers of a problem" },
	{ "--max-numbers", ARGS_LONG, OPT(max_numbers), "N", 0, INT_MAX, "4", ARGS_OPTIONAL,
	  "most numbers of a problem" },
	{ "--max-number", ARGS_LONG, OPT(max_number), "N", 0, INT_MAX, "100", ARGS_OPTIONAL,
	  "largest number" },
	{ NULL },
};
const struct args_spec cmd_countdown_data_args = {
	"countdown-data",
	"a fixed Countdown set (TinyZero's rules) as DIR/train.jsonl, DIR/test.jsonl", cd_opts
};

/* a set of 64-bit problem hashes: open addressing, capacity a power of two, 0 = empty */
struct cd_seen {
	uint64_t *slot;
	size_t cap;
};

static int seen_add(struct cd_seen *s, uint64_t h)
{
	h |= 1; /* never 0 */
	size_t i = (size_t)h & (s->cap - 1);
	while (s->slot[i]) {
		if (s->slot[i] == h)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->slot[i] = h;
	return 1;
}

static void write_row(FILE *f, const struct task_example *ex)
{
	struct json_out o;
	json_obj_begin(&o, f);
	json_kv_str(&o, "question", ex->prompt);
	json_kv_str(&o, "answer", ex->answer);
	json_kv_key(&o, "nums");
	for (int i = 0; i < ex->n_numbers; i++)
		fprintf(f, "%s%d", i ? ", " : "[", ex->numbers[i]);
	fprintf(f, "]");
	json_kv_int(&o, "target", ex->target);
	json_obj_end(&o);
}

/* rows distinct problems of one split into DIR/name */
static int write_split(const struct cd_args *a, const struct task_params *p, int split,
		       long rows, const char *name, struct cd_seen *seen, char *err, size_t n)
{
	char path[4096];
	struct task_example ex;
	long got = 0, draws = 0, max_draws = rows * 20 + 1000;
	snprintf(path, sizeof(path), "%s/%s", a->out, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, n, "%.3900s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	while (got < rows && draws < max_draws) {
		char key[TASK_TEXT_MAX];
		if (task_example_get(TASK_COUNTDOWN, p, (uint64_t)a->seed, split, draws++, &ex))
			break;
		task_key(TASK_COUNTDOWN, &ex, key, sizeof(key));
		if (!seen_add(seen, task_hash(key)))
			continue;
		write_row(f, &ex);
		got++;
	}
	if (fclose(f) || got < rows) {
		snprintf(err, n, "%.3900s: %s", path, got < rows ? "too few distinct problems in these "
			 "ranges (widen --max-number or the number counts, or ask for fewer rows)" :
			 "write failed (disk full?)");
		return -1;
	}
	printf("attnrl countdown-data: %s: %ld problems (%ld drawn)\n", path, got, draws);
	return 0;
}

int cmd_countdown_data(int argc, char **argv)
{
	struct cd_args a = { 0 };
	struct task_params p;
	struct cd_seen seen = { 0 };
	char err[4200];
	int rc = args_parse(&cmd_countdown_data_args, &a, argc, argv, err, sizeof(err));
	if (!rc && a.train + a.test > CD_ROWS_MAX)
		rc = -1, snprintf(err, sizeof(err), "--train and --test must be at most %d together",
				  CD_ROWS_MAX);
	if (rc)
		return args_exit(&cmd_countdown_data_args, rc, err);
	task_params_default(TASK_COUNTDOWN, &p);
	p.min_ops = (int)a.min_numbers - 1;
	p.max_ops = (int)a.max_numbers - 1;
	p.max_operand = (int)a.max_number;
	if (task_params_check(TASK_COUNTDOWN, &p, err, sizeof(err))) {
		fprintf(stderr, "attnrl countdown-data: numbers: %s (numbers = ops + 1)\n", err);
		return ATTNRL_EXIT_USAGE;
	}
	for (seen.cap = 1024; seen.cap < (size_t)(a.train + a.test) * 2;)
		seen.cap *= 2;
	seen.slot = calloc(seen.cap, sizeof(*seen.slot));
	if (!seen.slot || fs_mkdir_p(a.out, 0, err, sizeof(err)) ||
	    write_split(&a, &p, TASK_TRAIN, a.train, "train.jsonl", &seen, err, sizeof(err)) ||
	    write_split(&a, &p, TASK_EVAL, a.test, "test.jsonl", &seen, err, sizeof(err))) {
		fprintf(stderr, "attnrl countdown-data: %s\n", seen.slot ? err : "out of memory");
		rc = 1;
	}
	free(seen.slot);
	return rc;
}
