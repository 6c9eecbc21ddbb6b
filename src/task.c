/*
 * task.c - the tasks module's dispatch (see task.h): kind names, parameter checks, the
 * train/eval split by problem hash, the deterministic example stream, the answer-tag
 * search the verifiers share, and the <think>/<answer> format check. Each kind lives in its own file behind struct task_ops.
 */
#include "task_kinds.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct task_ops *kind_ops(enum task_kind k)
{
	switch (k) {
	case TASK_ARITH: return &task_arith_ops;
	case TASK_COUNTDOWN: return &task_countdown_ops;
	case TASK_MATH: return &task_math_ops;
	case TASK_MCQ: return &task_mcq_ops;
	}
	return NULL;
}

int task_kind_parse(const char *name, enum task_kind *out)
{
	for (int k = TASK_ARITH; k <= TASK_MCQ; k++)
		if (strcmp(name, kind_ops((enum task_kind)k)->name) == 0) {
			*out = (enum task_kind)k;
			return 0;
		}
	return -1;
}

int task_from_file(enum task_kind k)
{
	const struct task_ops *o = kind_ops(k);
	return o && !o->draw;
}

const char *task_kind_name(enum task_kind k)
{
	const struct task_ops *o = kind_ops(k);
	return o ? o->name : "unknown";
}

void task_params_default(enum task_kind k, struct task_params *p)
{
	const struct task_ops *o = kind_ops(k);
	*p = o ? o->defaults : task_arith_ops.defaults;
}

int task_params_check(enum task_kind k, const struct task_params *p, char *err, size_t n)
{
	const struct task_ops *o = kind_ops(k);
	if (!o) {
		snprintf(err, n, "unknown task kind %d", (int)k);
		return -1;
	}
	if (!o->draw)
		return 0; /* no generator, no parameters */
	if (p->min_ops < 1 || p->min_ops > p->max_ops || p->max_ops > o->ops_max) {
		snprintf(err, n, "%s: need 1 <= min_ops <= max_ops <= %d, got min_ops %d, max_ops %d",
			 o->name, o->ops_max, p->min_ops, p->max_ops);
		return -1;
	}
	if (p->max_operand < 1 || p->max_operand > o->operand_max) {
		snprintf(err, n, "%s: need 1 <= max_operand <= %d, got %d", o->name, o->operand_max,
			 p->max_operand);
		return -1;
	}
	return 0;
}

int task_appendf(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	if (*len >= n)
		return -1;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= n - *len)
		return -1;
	*len += (size_t)k;
	return 0;
}

void task_key(enum task_kind k, const struct task_example *ex, char *key, size_t n)
{
	const struct task_ops *o = kind_ops(k);
	if (o)
		o->key(ex, key, n);
	else if (n)
		key[0] = '\0';
}

/* FNV-1a over the key, then murmur3's finaliser so that the low bits mix well */
uint64_t task_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

int task_split_of(enum task_kind k, const struct task_example *ex)
{
	char key[TASK_TEXT_MAX];
	task_key(k, ex, key, sizeof(key));
	return task_hash(key) % TASK_EVAL_BUCKETS == 0 ? TASK_EVAL : TASK_TRAIN;
}

int task_example_get(enum task_kind k, const struct task_params *p, uint64_t seed, int split,
		     int64_t index, struct task_example *out)
{
	const struct task_ops *o = kind_ops(k);
	char err[160];
	struct rng r;
	memset(out, 0, sizeof(*out));
	if (!o || !o->draw || task_params_check(k, p, err, sizeof(err)) ||
	    (split != TASK_TRAIN && split != TASK_EVAL))
		return -1;
	rng_init3(&r, seed, (uint64_t)split, (uint64_t)index);
	for (int a = 0; a < TASK_ATTEMPTS_MAX; a++) {
		if (o->draw(p, &r, out) == 0 && task_split_of(k, out) == split)
			return 0;
		memset(out, 0, sizeof(*out));
	}
	return -1;
}

double task_reward(enum task_kind k, const struct task_example *ex, const char *response,
		   int *correct)
{
	const struct task_ops *o = kind_ops(k);
	int ok = 0;
	double r = o ? o->reward(ex, response, &ok) : 0.0;
	if (correct)
		*correct = ok;
	return r;
}

int task_answer_find(const char *response, const char **begin, size_t *len)
{
	static const char open[] = "<answer>", close[] = "</answer>";
	int found = 0;
	const char *s = response, *o, *c;
	while ((o = strstr(s, open)) && (c = strstr(o + sizeof(open) - 1, close))) {
		*begin = o + sizeof(open) - 1;
		*len = (size_t)(c - *begin);
		found = 1;
		s = c + sizeof(close) - 1;
	}
	return found;
}

static const char *const format_tags[] = { "<think>", "</think>", "<answer>", "</answer>" };
enum { FMT_THINK, FMT_THINK_END, FMT_ANSWER, FMT_ANSWER_END, FMT_NONE };

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* the first of the four tags at or after s: its index (FMT_NONE for none), *at its place */
static int next_tag(const char *s, const char **at)
{
	int best = FMT_NONE;
	*at = NULL;
	for (int t = 0; t < FMT_NONE; t++) {
		const char *p = strstr(s, format_tags[t]);
		if (p && (!*at || p < *at))
			*at = p, best = t;
	}
	return best;
}

/* s starts with tag `open`; the next tag after it must be `close`: the text after close */
static const char *tag_pair(const char *s, int open, int close)
{
	const char *at;
	size_t k = strlen(format_tags[open]);
	if (strncmp(s, format_tags[open], k) || next_tag(s + k, &at) != close)
		return NULL;
	return at + strlen(format_tags[close]);
}

int task_format_ok(const char *response)
{
	const char *s = tag_pair(skip_space(response), FMT_THINK, FMT_THINK_END);
	s = s ? tag_pair(skip_space(s), FMT_ANSWER, FMT_ANSWER_END) : NULL;
	return s && !*skip_space(s);
}
