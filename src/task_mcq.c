/*
 * task_mcq.c - TASK_MCQ (see task.h): multiple-choice questions from a JSONL dataset
 * (CrossThink-QA style: the options are in the question, the reference is a letter). No
 * generator. The verifier finds the letter the response chose and compares it with the
 * reference's letter.
 *
 * A "letter form" is a whole text that names one option: after trimming, an optional
 * \text{..} / \textbf{..} / \mathrm{..} wrapper, then "B", "(B)", "B)", "B.", "B:", or one of
 * those followed by the option's text ("(B) Paris", "B. Paris"); a lower-case letter is taken
 * as upper case. "A and B", "AB" or "Paris" are not letter forms.
 * The chosen letter, the first rule that gives one:
 *   1. the last \boxed{} of the response, when its content is a letter form;
 *   2. the last complete <answer>...</answer>, when its content is a letter form;
 *   3. the last "answer is" or "answer:" (any case; "the correct answer is", "Answer:") followed
 *      by spaces, '*' or ':', then "(X)" (X any case) or an upper-case X that ends there (end
 *      of text or a character that is not a letter or digit: "B.", "B,", "B\n"). A bare lower
 *      case letter is not taken: "the answer is a prime" is English, not option A.
 * An earlier box, tag or phrase is never used when a later one of the same rule fails.
 */
#include "task_kinds.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "attnrl/task_mathans.h"

static const char *const mcq_wrappers[] = { "\\text{", "\\textbf{", "\\mathrm{" };

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* the letter (upper case) of the letter form s[0..len), or 0 */
static char mcq_letter_form(const char *s, size_t len)
{
	trim(&s, &len);
	for (size_t w = 0; w < sizeof(mcq_wrappers) / sizeof(mcq_wrappers[0]); w++) {
		size_t k = strlen(mcq_wrappers[w]);
		if (len > k && !strncmp(s, mcq_wrappers[w], k) && s[len - 1] == '}') {
			s += k;
			len -= k + 1;
			trim(&s, &len);
			break;
		}
	}
	int paren = len && s[0] == '(';
	if (paren)
		s++, len--;
	if (!len || !isalpha((unsigned char)s[0]))
		return 0;
	char c = (char)toupper((unsigned char)s[0]);
	if (len == 1)
		return paren ? 0 : c;
	char next = s[1];
	if (paren)
		return next == ')' ? c : 0;
	return next == ')' || next == '.' || next == ':' ? c : 0;
}

/* rule 3: the letter after the last "answer is" / "answer:", or 0 */
static char mcq_phrase(const char *r)
{
	const char *last = NULL;
	size_t key_len = 0;
	for (const char *p = r; *p; p++) {
		if (!strncasecmp(p, "answer is", 9))
			last = p, key_len = 9;
		else if (!strncasecmp(p, "answer:", 7))
			last = p, key_len = 7;
	}
	if (!last)
		return 0;
	const char *p = last + key_len;
	while (*p == ' ' || *p == '*' || *p == ':' || *p == '\t')
		p++;
	if (p[0] == '(' && isalpha((unsigned char)p[1]) && p[2] == ')')
		return (char)toupper((unsigned char)p[1]);
	if (p[0] >= 'A' && p[0] <= 'Z' && !isalnum((unsigned char)p[1]))
		return p[0];
	return 0;
}

char task_mcq_choice(const char *response)
{
	const char *b;
	size_t len;
	char c;
	if (math_last_boxed(response, &b, &len) && (c = mcq_letter_form(b, len)))
		return c;
	if (task_answer_find(response, &b, &len) && (c = mcq_letter_form(b, len)))
		return c;
	return mcq_phrase(response);
}

char task_mcq_reference(const char *answer)
{
	return mcq_letter_form(answer, strlen(answer));
}

static void mcq_key(const struct task_example *ex, char *key, size_t n)
{
	size_t len = 0;
	if (n)
		key[0] = '\0';
	task_appendf(key, n, &len, "%s", ex->prompt);
}

static double mcq_reward(const struct task_example *ex, const char *response, int *correct)
{
	char want = task_mcq_reference(ex->answer);
	*correct = want && task_mcq_choice(response) == want;
	return *correct ? 1.0 : 0.0;
}

const struct task_ops task_mcq_ops = {
	.name = "mcq",
	.defaults = { .min_ops = 1, .max_ops = 1, .max_operand = 1 },
	.ops_max = 1,
	.operand_max = 1,
	.draw = NULL,
	.key = mcq_key,
	.reward = mcq_reward,
};
