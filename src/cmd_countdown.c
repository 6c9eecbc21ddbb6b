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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/task.h"

#define EXIT_USAGE 2
#define CD_ROWS_MAX 10000000

struct cd_args {
	const char *out;
	long seed, train, test, min_numbers, max_numbers, max_number;
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

static int cd_usage(const char *what, const char *arg)
{
	fprintf(stderr, "attnrl countdown-data: %s%s%s; usage: attnrl countdown-data --out DIR "
		"[--seed S] [--train N] [--test N] [--min-numbers 3] [--max-numbers 4] "
		"[--max-number 100]\n", what, arg ? " " : "", arg ? arg : "");
	return EXIT_USAGE;
}

static int cd_args(struct cd_args *a, int argc, char **argv)
{
	static const char *const names[] = { "--seed", "--train", "--test", "--min-numbers",
					     "--max-numbers", "--max-number" };
	long *slots[] = { &a->seed, &a->train, &a->test, &a->min_numbers, &a->max_numbers,
			  &a->max_number };
	*a = (struct cd_args){ NULL, 1234, 20000, 512, 3, 4, 100 };
	for (int i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			return cd_usage("missing the value of", argv[i]);
		if (!strcmp(argv[i], "--out")) {
			a->out = argv[++i];
			continue;
		}
		int f = 0;
		while (f < 6 && strcmp(argv[i], names[f]))
			f++;
		if (f == 6)
			return cd_usage("unknown argument", argv[i]);
		char *end;
		errno = 0;
		*slots[f] = strtol(argv[++i], &end, 10);
		if (errno || end == argv[i] || *end || *slots[f] < 0)
			return cd_usage("not a count:", argv[i]);
	}
	if (!a->out)
		return cd_usage("missing --out DIR", NULL);
	if (a->train < 1 || a->test < 1 || a->train + a->test > CD_ROWS_MAX)
		return cd_usage("--train and --test must be >= 1 and at most 10000000 together", NULL);
	return 0;
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
	struct cd_args a;
	struct task_params p;
	struct cd_seen seen = { 0 };
	char err[4200];
	int rc = cd_args(&a, argc, argv);
	if (rc)
		return rc;
	task_params_default(TASK_COUNTDOWN, &p);
	p.min_ops = (int)a.min_numbers - 1;
	p.max_ops = (int)a.max_numbers - 1;
	p.max_operand = (int)a.max_number;
	if (task_params_check(TASK_COUNTDOWN, &p, err, sizeof(err))) {
		fprintf(stderr, "attnrl countdown-data: numbers: %s (numbers = ops + 1)\n", err);
		return EXIT_USAGE;
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
