/*
 * task.h - RL tasks: prompt generators and reward verifiers.
 *
 * An example is a pure function of (kind, params, seed, split, index): no state, no files, so
 * a data cursor is just an index. Train and eval are disjoint by construction: a problem's key
 * (arith: the prompt; countdown: the sorted numbers and the target) is hashed, hash % 8 == 0
 * belongs to TASK_EVAL and the rest to TASK_TRAIN, whatever the seed. task_example_get draws
 * candidates from the stream rng_init3(seed, split, index) until one falls in its split.
 *
 * TASK_ARITH (the embedded default; learnable by a small char-level model):
 *   prompt    "12+34-7="                               min_ops..max_ops of + and - on
 *   solution  "12+34=46,46-7=39.<answer>39</answer>"   integers in [1, max_operand], every
 *                                                      intermediate value in [0, 999]
 *   reward    1.0 when the last <answer>...</answer>, trimmed of whitespace, is the result in
 *             canonical decimal (no sign, no leading zero); else 0.0.
 * TASK_COUNTDOWN (TinyZero's rules; the prompt without the chat wrapper):
 *   min_ops + 1 .. max_ops + 1 numbers in [1, max_operand], a target in [1, 1000] reached by
 *   a random tree of + - * / over all of them (exact integer arithmetic throughout).
 *   solution  "<think>44 + 19 = 63, 63 - 35 = 28.</think><answer>(44 + 19) - 35</answer>"
 *   reward    1.0 when the last <answer>...</answer> is an expression of task_expr.h (binary
 *             + - * / and parentheses; no unary minus) that uses each given number exactly
 *             once and equals the target within 1e-5; 0.1 when an answer is present but
 *             wrong or invalid; 0.0 without a complete answer tag.
 * TASK_MATH (a JSONL dataset, see data_jsonl.h; no generator: task_example_get fails):
 *   prompt    the question (the template is applied by data_encode)
 *   solution  the file's worked solution ending in \boxed{...}, or "" when it has none
 *   answer    the reference answer
 *   reward    1.0 when the last \boxed{} of the response is equivalent to the answer under
 *             task_mathans.h's rules, else 0.0 (no partial credit).
 * TASK_MCQ (a JSONL dataset of multiple-choice questions, CrossThink-QA style; no generator):
 *   prompt    the question with its options; answer: the reference letter ("B", "(B)")
 *   reward    1.0 when the letter the response chose (task_mcq_choice: the last \boxed{},
 *             else the last <answer> tag, else the last "answer is (X)" / "answer: X"; rules
 *             in task_mcq.c) is the reference's, else 0.0.
 * Format reward (task_format_ok; data.format_reward adds weight x it to any task's reward):
 *   1 when the response, trimmed of white space, is exactly <think>X</think> <answer>Y</answer>
 *   (white space allowed between the two) and neither X nor Y holds any of the four tags:
 *   each tag once, in that order, nothing before or after. Stricter than the regex
 *   ^<think>.*?</think>\s*<answer>.*?</answer>$, which lets X hold "</think><think>".
 * "The last answer" follows TinyZero's re.finditer("<answer>(.*?)</answer>"): the pairs are
 * matched left to right, each opening tag with the first closing tag after it, and the last
 * pair counts; an opening tag never closed is ignored (unlike the regex, the content may span
 * lines).
 */
#ifndef ATTNRL_TASK_H
#define ATTNRL_TASK_H

#include <stddef.h>
#include <stdint.h>

#define TASK_TEXT_MAX 4096   /* MATH problems reach ~1.7 kB, their solutions ~3.4 kB */
#define TASK_ANSWER_MAX 256
#define TASK_NUMBERS_MAX 8     /* countdown: numbers per problem */
#define TASK_ARITH_OPS_MAX 15  /* arith: operations per chain */
_Static_assert(TASK_ARITH_OPS_MAX + 1 >= TASK_NUMBERS_MAX, "task_example.numbers holds both");
#define TASK_EVAL_BUCKETS 8  /* 1 in TASK_EVAL_BUCKETS problems is held out */
#define TASK_ATTEMPTS_MAX 65536
#define TASK_ARITH_VALUE_MAX 999
#define TASK_COUNTDOWN_TARGET_MAX 1000

enum task_kind { TASK_ARITH, TASK_COUNTDOWN, TASK_MATH, TASK_MCQ };
enum task_split { TASK_TRAIN = 0, TASK_EVAL = 1 };

/* arith: operations per chain; countdown: numbers = ops + 1. Operands are in [1, max_operand] */
struct task_params {
	int min_ops, max_ops, max_operand;
};

struct task_example {
	char prompt[TASK_TEXT_MAX];
	char solution[TASK_TEXT_MAX];   /* a correct worked response, for supervised warm-up */
	char answer[TASK_ANSWER_MAX];   /* arith: the result; countdown: the solution's expression;
					 * math: the reference */
	/* arith: the operands in order, ops[i] joining numbers[i] and numbers[i + 1];
	 * countdown: the numbers as prompted */
	int numbers[TASK_ARITH_OPS_MAX + 1];
	char ops[TASK_ARITH_OPS_MAX];
	int n_numbers;
	long target;                    /* arith: the result; countdown: the target */
	const char *row;                /* the dataset row's JSON text (problems from a file, for
					 * reward programs), or NULL */
};

/* "arith" | "countdown" | "math" | "mcq": 0, or -1 */
int task_kind_parse(const char *name, enum task_kind *out);
/* 1 for the kinds whose problems come from a JSONL file (math, mcq), 0 for the generators */
int task_from_file(enum task_kind k);
const char *task_kind_name(enum task_kind k);
void task_params_default(enum task_kind k, struct task_params *p);
/* 0, or -1 with one line in err: what is wrong and the allowed range */
int task_params_check(enum task_kind k, const struct task_params *p, char *err, size_t n);

/* 0, or -1 (out zeroed) when params are invalid, the kind has no generator (math), or no
 * problem of the split turned up in TASK_ATTEMPTS_MAX draws (a problem space too small) */
int task_example_get(enum task_kind k, const struct task_params *p, uint64_t seed, int split,
		     int64_t index, struct task_example *out);
int task_split_of(enum task_kind k, const struct task_example *ex); /* TASK_TRAIN | TASK_EVAL */
/* the problem's identity, the text its split is hashed from: "12+34-7=" or "19,35,44=98" */
void task_key(enum task_kind k, const struct task_example *ex, char *key, size_t n);

/* FNV-1a 64 of s with murmur3's finaliser: the hash the train/eval split is taken from */
uint64_t task_hash(const char *s);

/* the reward of a response; *correct (may be NULL) is 1 when the answer is right */
double task_reward(enum task_kind k, const struct task_example *ex, const char *response,
		   int *correct);
/* the content of the last complete <answer>...</answer>: 1 and (*begin, *len), or 0 */
int task_answer_find(const char *response, const char **begin, size_t *len);
/* 1 when the response has the <think>X</think> <answer>Y</answer> format above, else 0 */
int task_format_ok(const char *response);
/* mcq: the letter the response chose, upper case, or 0 for none */
char task_mcq_choice(const char *response);
/* mcq: the letter of a reference answer ("B", "(B)", "B) text"), upper case, or 0 */
char task_mcq_reference(const char *answer);

#endif
