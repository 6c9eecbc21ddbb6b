/*
 * fuzz_reward.c - libFuzzer target of the verifiers that read model responses: the
 * multiple-choice letter (task_mcq_choice, task_mcq_reference), the <think>/<answer> format
 * reward (task_format_ok through data_reward with data.format_reward), the last <answer> tag,
 * the countdown verifier (task_expr.h) and the MATH \boxed{} checker.
 *
 * Input: REFERENCE \0 RESPONSE (no NUL: the whole input is the response, the reference "B").
 * The first bytes of the reference also give a countdown problem (numbers and target). Checks
 * beyond ASan/UBSan: letters are 0 or 'A'..'Z'; task_format_ok agrees with a direct reading of
 * its rule (task.h); the format reward adds exactly 0 or the weight; an <answer> found lies
 * between its tags; rewards are in their documented sets; a countdown answer built from its
 * own numbers and value is judged correct.
 */
#include "attnrl/data.h"
#include "attnrl/task.h"
#include "attnrl/task_expr.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX 8192

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_reward: property failed: %s\n", what);
		abort();
	}
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int count(const char *s, const char *tag)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, tag)); p += strlen(tag))
		n++;
	return n;
}

/* task.h's format rule read directly: trimmed, <think>X</think> ws <answer>Y</answer>, each
 * of the four tags exactly once */
static int format_oracle(const char *s)
{
	size_t len = strlen(s);
	while (len && is_ws(s[len - 1]))
		len--;
	while (len && is_ws(*s))
		s++, len--;
	char *t = strndup(s, len);
	int ok = t && count(t, "<think>") == 1 && count(t, "</think>") == 1 &&
		 count(t, "<answer>") == 1 && count(t, "</answer>") == 1 &&
		 !strncmp(t, "<think>", 7) && len >= 9 && !strcmp(t + len - 9, "</answer>");
	if (ok) {
		const char *a = strstr(t, "</think>") + 8, *b = strstr(t, "<answer>");
		ok = a <= b;
		for (const char *p = a; ok && p < b; p++)
			ok = is_ws(*p);
	}
	free(t);
	return ok;
}

static void letters(const char *ref, const char *resp)
{
	char c = task_mcq_choice(resp), r = task_mcq_reference(ref);
	check(c == 0 || (c >= 'A' && c <= 'Z'), "task_mcq_choice is 0 or A..Z");
	check(r == 0 || (r >= 'A' && r <= 'Z'), "task_mcq_reference is 0 or A..Z");
}

static void answer_tag(const char *resp)
{
	const char *b;
	size_t len;
	if (!task_answer_find(resp, &b, &len))
		return;
	check(b >= resp + 8 && !strncmp(b - 8, "<answer>", 8), "<answer> before the answer");
	check(b + len <= resp + strlen(resp) && !strncmp(b + len, "</answer>", 9),
	      "</answer> after the answer");
}

/* reward of every file task with and without data.format_reward */
static void rewards(struct task_example *ex, const char *resp)
{
	static const enum task_kind kinds[] = { TASK_COUNTDOWN, TASK_MATH, TASK_MCQ };
	int fmt = task_format_ok(resp);
	check(fmt == format_oracle(resp), "task_format_ok follows its rule");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct data d = { .kind = kinds[i], .format_weight = 0.25 };
		int correct = -1, c2 = -1;
		double r = task_reward(kinds[i], ex, resp, &correct);
		double w = data_reward(&d, ex, resp, &c2);
		check(correct == 0 || correct == 1, "correct is 0 or 1");
		check(c2 == correct, "data_reward's verdict is the task's");
		check(r == 0.0 || r == 1.0 || (kinds[i] == TASK_COUNTDOWN && r == 0.1),
		      "reward in {0, 1} (countdown: also 0.1)");
		check(correct == (r == 1.0), "reward 1 exactly when correct");
		check(fabs(w - r - (fmt ? 0.25 : 0.0)) < 1e-12, "format reward adds 0 or the weight");
	}
}

/* countdown: an answer made of its own numbers that reaches its own integer value is right */
static void countdown_self(struct task_example *ex, const char *resp)
{
	const char *b;
	size_t len;
	struct expr_result e;
	if (!task_answer_find(resp, &b, &len) || expr_eval(b, len, &e) != EXPR_OK)
		return;
	if (e.n_numbers < 1 || e.n_numbers > TASK_NUMBERS_MAX || e.value != floor(e.value) ||
	    fabs(e.value) > 1e9)
		return;
	for (int i = 0; i < e.n_numbers; i++)
		if (e.numbers[i] > 1000000)
			return;
	memset(ex, 0, sizeof(*ex));
	ex->n_numbers = e.n_numbers;
	for (int i = 0; i < e.n_numbers; i++)
		ex->numbers[e.n_numbers - 1 - i] = (int)e.numbers[i]; /* order must not matter */
	ex->target = (long)e.value;
	int correct = 0;
	task_reward(TASK_COUNTDOWN, ex, resp, &correct);
	check(correct, "a countdown answer equal to its own target with its own numbers");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct task_example ex;
	if (size > FUZZ_MAX)
		return 0;
	char *buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	const char *ref = "B", *resp = buf;
	char *nul = memchr(buf, '\0', size);
	if (nul && nul < buf + size)
		ref = buf, resp = nul + 1;
	memset(&ex, 0, sizeof(ex));
	snprintf(ex.answer, sizeof(ex.answer), "%s", ref);
	size_t rl = strlen(ref);
	ex.n_numbers = rl ? 1 + (unsigned char)ref[0] % TASK_NUMBERS_MAX : 0;
	for (int i = 0; i < ex.n_numbers; i++)
		ex.numbers[i] = 1 + (i + 1 < (int)rl ? (unsigned char)ref[i + 1] : i);
	ex.target = rl > 1 ? (long)(signed char)ref[rl - 1] * 7 : 24;
	letters(ref, resp);
	answer_tag(resp);
	rewards(&ex, resp);
	countdown_self(&ex, resp);
	free(buf);
	return 0;
}
