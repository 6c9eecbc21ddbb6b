/*
 * test_rewards.c - the multiple-choice verifier (data.task=mcq), the <think>/<answer> format
 * reward and data.format_reward on top of a task's reward (task.h, data.h), and Countdown
 * problems read from a JSONL file (nums, target) and judged by the countdown verifier.
 * Oracles: hand-worked cases from the definitions in task.h / task_mcq.c; for the format
 * reward also Python's re module (tests/ref/format_check.py) on 3,000 strings built from tag
 * fragments, judged by a regular expression written from the definition.
 */
#include "attnrl/config.h"
#include "attnrl/data.h"
#include "attnrl/rng.h"
#include "attnrl/task.h"
#include "attnrl/tokenizer.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_RANDOM 3000

static void expect_choice(const char *resp, char want)
{
	char got = task_mcq_choice(resp);
	CHECK(got == want, "choice of \"%s\": got '%c' (%d), want '%c'", resp, got ? got : '0', got,
	      want ? want : '0');
}

static void test_mcq_choice(void)
{
	/* rule 1: the last \boxed{} */
	expect_choice("so it is \\boxed{B}", 'B');
	expect_choice("\\boxed{(C)}", 'C');
	expect_choice("\\boxed{c}", 'C');                    /* lower case in a box */
	expect_choice("\\boxed{ D }", 'D');
	expect_choice("\\boxed{\\text{E}}", 'E');
	expect_choice("\\boxed{\\textbf{(F)}}", 'F');
	expect_choice("\\boxed{B) Paris}", 'B');              /* the letter and its option */
	expect_choice("\\boxed{(B) Paris}", 'B');
	expect_choice("\\boxed{B. Paris}", 'B');
	expect_choice("first \\boxed{A}, then \\boxed{D}", 'D'); /* several boxes: the last */
	expect_choice("\\boxed{A} and finally \\boxed{(b)}", 'B');
	expect_choice("\\boxed{Paris}", 0);                   /* not a letter form */
	expect_choice("\\boxed{AB}", 0);
	expect_choice("\\boxed{A and B}", 0);
	expect_choice("\\boxed{(B}", 0);
	expect_choice("\\boxed{}", 0);
	expect_choice("\\boxed{12}", 0);
	/* a box that is no letter form falls to the next rules */
	expect_choice("The answer is (C). \\boxed{Paris}", 'C');
	/* a box wins over a later phrase */
	expect_choice("\\boxed{A} ... the answer is (C)", 'A');
	/* rule 2: the last <answer> tag */
	expect_choice("<think>hmm</think><answer>B</answer>", 'B');
	expect_choice("<answer>(d)</answer>", 'D');
	expect_choice("<answer>A</answer><answer>C</answer>", 'C');
	expect_choice("<answer>Paris</answer> answer: B", 'B');
	expect_choice("<answer>B", 0);                         /* never closed, no phrase */
	/* rule 3: "answer is" / "answer:" */
	expect_choice("The answer is (B).", 'B');
	expect_choice("the correct answer is B.", 'B');
	expect_choice("Answer: C", 'C');
	expect_choice("ANSWER: (d)", 'D');
	expect_choice("answer is: **E**", 'E');
	expect_choice("**Answer:** A", 'A');
	expect_choice("The answer is A, since", 'A');
	expect_choice("the answer is (b)", 'B');                /* parenthesised: any case */
	expect_choice("the answer is b", 0);                    /* bare lower case: English */
	expect_choice("the answer is a prime number", 0);
	expect_choice("The answer is Paris", 0);                /* "Pa": a word, not a letter */
	expect_choice("The answer is AB", 0);
	expect_choice("The answer is 7", 0);
	expect_choice("the answer is (C) ... no wait, the answer is (A)", 'A'); /* the last */
	expect_choice("Answer: B. Hmm, the answer is unclear", 0); /* the last phrase fails */
	expect_choice("answer is (B", 0);
	expect_choice("", 0);
	expect_choice("B", 0);                                  /* a bare letter is no answer */
	expect_choice("(B)", 0);
}

static void test_mcq_reward(void)
{
	struct task_example ex;
	const char *refs[] = { "B", "(B)", " b ", "B) Paris", "\\text{B}" };
	memset(&ex, 0, sizeof(ex));
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		snprintf(ex.answer, sizeof(ex.answer), "%s", refs[i]);
		CHECK(task_mcq_reference(ex.answer) == 'B', "reference '%s'", refs[i]);
		int ok = -1;
		CHECK(task_reward(TASK_MCQ, &ex, "so \\boxed{B}", &ok) == 1.0 && ok == 1, "right: %s",
		      refs[i]);
		CHECK(task_reward(TASK_MCQ, &ex, "so \\boxed{C}", &ok) == 0.0 && ok == 0, "wrong: %s",
		      refs[i]);
		CHECK(task_reward(TASK_MCQ, &ex, "no idea", &ok) == 0.0 && ok == 0, "none: %s", refs[i]);
	}
	snprintf(ex.answer, sizeof(ex.answer), "Paris");
	CHECK(task_mcq_reference(ex.answer) == 0, "a reference that is no letter");
	CHECK(task_reward(TASK_MCQ, &ex, "\\boxed{P}", NULL) == 0.0, "never right without a letter");
	enum task_kind k;
	CHECK(task_kind_parse("mcq", &k) == 0 && k == TASK_MCQ && !strcmp(task_kind_name(k), "mcq"),
	      "kind name");
	CHECK(task_from_file(TASK_MCQ) && task_from_file(TASK_MATH) && !task_from_file(TASK_ARITH) &&
	      !task_from_file(TASK_COUNTDOWN), "file kinds");
}

static void expect_format(const char *resp, int want)
{
	CHECK(task_format_ok(resp) == want, "format of \"%s\": want %d", resp, want);
}

static void test_format(void)
{
	expect_format("<think>a</think><answer>b</answer>", 1);
	expect_format("<think>a</think> \n<answer>b</answer>", 1);  /* white space between */
	expect_format("  \n<think>a</think><answer>b</answer>\n ", 1); /* and around */
	expect_format("<think></think><answer></answer>", 1);       /* empty parts */
	expect_format("<think>x < y and y > z</think><answer>3</answer>", 1);
	expect_format("<think>\nstep 1\nstep 2\n</think>\n<answer>(1 + 2) / 3</answer>", 1);
	expect_format("<think>a</think><answer>b</answer>.", 0);    /* text after */
	expect_format("ok <think>a</think><answer>b</answer>", 0);  /* text before */
	expect_format("<think>a</think> so <answer>b</answer>", 0); /* text between */
	expect_format("<think>a</think>", 0);                       /* missing answer */
	expect_format("<answer>b</answer>", 0);                     /* missing think */
	expect_format("<think>a<answer>b</answer>", 0);             /* think never closed */
	expect_format("<think>a</think><answer>b", 0);              /* answer never closed */
	expect_format("<answer>b</answer><think>a</think>", 0);     /* wrong order */
	expect_format("<think>a<think>b</think></think><answer>c</answer>", 0); /* nested */
	expect_format("<think>a</think><think>b</think><answer>c</answer>", 0); /* duplicated */
	expect_format("<think>a</think><answer>b</answer><answer>c</answer>", 0);
	expect_format("<think>a</answer></think><answer>b</answer>", 0); /* stray tag inside */
	expect_format("<think>a</think><answer>b<think></answer>", 0);
	expect_format("<THINK>a</THINK><ANSWER>b</ANSWER>", 0);     /* tags are lower case */
	expect_format("<think >a</think><answer>b</answer>", 0);
	expect_format("", 0);
}

/* strings of tag fragments, judged here and by Python's re; 0 when they all agree */
static void test_format_random(void)
{
	static const char *const parts[] = { "<think>", "</think>", "<answer>", "</answer>", "x",
					     " ", "\n", "<", ">", "think", "/", "\t" };
	char path[] = "/tmp/test_rewards.XXXXXX", cmd[256];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	CHECK(f, "temporary file");
	if (!f)
		return;
	struct rng r;
	rng_init(&r, 7);
	int ones = 0;
	for (int i = 0; i < N_RANDOM; i++) {
		char s[256] = "";
		int n = (int)rng_range(&r, 0, 9);
		/* a third start from a well-formed response, then get edits appended or prepended */
		if (i % 3 == 0)
			strcpy(s, "<think>x</think><answer>x</answer>");
		for (int j = 0; j < n; j++) {
			const char *p = parts[rng_range(&r, 0, sizeof(parts) / sizeof(parts[0]) - 1)];
			if (i % 3 == 0 && j % 2 == 0 && strlen(s) + strlen(p) < sizeof(s)) {
				char t[sizeof(s)];
				memmove(t, p, strlen(p));
				strcpy(t + strlen(p), s);
				strcpy(s, t);
			} else if (strlen(s) + strlen(p) < sizeof(s)) {
				strcat(s, p);
			}
		}
		int ok = task_format_ok(s);
		ones += ok;
		fprintf(f, "%d\t", ok);
		for (const char *c = s; *c; c++)
			fprintf(f, "%s", *c == '\n' ? "\\n" : *c == '\t' ? "\\t" : *c == '\\' ? "\\\\" :
					 (char[2]){ *c, 0 });
		fprintf(f, "\n");
	}
	fclose(f);
	CHECK(ones > 50 && ones < N_RANDOM - 50, "both verdicts occur: %d of %d well-formed", ones,
	      N_RANDOM);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/ref/format_check.py %s", path);
	CHECK(system(cmd) == 0, "Python's regex agrees on %d strings", N_RANDOM);
	unlink(path);
}

/* data.format_reward: weight x format added to the task's reward; the verdict unchanged */
static void test_format_weight(void)
{
	static struct config c;
	struct tokenizer tok;
	struct data d;
	struct task_example ex;
	char err[256];
	config_init(&c);
	CHECK(config_apply_override(&c, "data.format_reward=0.25", err, sizeof(err)) == 0, "%s", err);
	CHECK(tokenizer_init_chars(&tok) == 0, "tokenizer");
	CHECK(data_init(&d, &c, &tok, err, sizeof(err)) == 0, "%s", err);
	CHECK(data_eval_example(&d, 0, &ex) == 0, "an arith problem");
	char right[TASK_TEXT_MAX + 64], wrong[128];
	snprintf(right, sizeof(right), "<think>%s</think><answer>%ld</answer>", ex.prompt, ex.target);
	snprintf(wrong, sizeof(wrong), "<think>.</think><answer>%ld</answer>", ex.target + 1);
	int ok = -1;
	CHECK(data_reward(&d, &ex, right, &ok) == 1.25 && ok == 1, "right and formatted: 1 + 0.25");
	CHECK(data_reward(&d, &ex, wrong, &ok) == 0.25 && ok == 0, "wrong and formatted: 0.25");
	snprintf(right, sizeof(right), "%s<answer>%ld</answer>", ex.prompt, ex.target);
	CHECK(data_reward(&d, &ex, right, &ok) == 1.0 && ok == 1, "right, no <think>: 1");
	d.format_weight = 0.0;
	snprintf(right, sizeof(right), "<think>.</think><answer>%ld</answer>", ex.target);
	CHECK(data_reward(&d, &ex, right, &ok) == 1.0, "weight 0: the task's reward alone");
	data_free(&d);
	tokenizer_free(&tok);
	CHECK(config_apply_override(&c, "data.format_reward=-1", err, sizeof(err)) != 0,
	      "negative weight refused");
}

/* countdown rows from a JSONL file (attnrl countdown-data's format): the task's verifier on
 * the row's numbers and target (1 right, 0.1 answer present but wrong, 0 no answer) */
static void test_countdown_rows(void)
{
	static struct config c;
	struct tokenizer tok;
	struct data d;
	struct task_example ex;
	char err[512], path[] = "/tmp/test_rewards_cd.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	CHECK(f, "temporary file");
	if (!f)
		return;
	fprintf(f, "{\"question\": \"Using the numbers [44, 19, 35] make 98\", \"answer\": "
		"\"44 + 19 + 35\", \"nums\": [44, 19, 35], \"target\": 98}\n");
	fclose(f);
	config_init(&c);
	char kv[600];
	snprintf(kv, sizeof(kv), "data.path=%s", path);
	CHECK(config_apply_override(&c, "data.task=countdown", err, sizeof(err)) == 0 &&
	      config_apply_override(&c, kv, err, sizeof(err)) == 0 &&
	      config_apply_override(&c, "train.eval_every=0", err, sizeof(err)) == 0, "%s", err);
	CHECK(tokenizer_init_chars(&tok) == 0, "tokenizer");
	CHECK(data_init(&d, &c, &tok, err, sizeof(err)) == 0, "%s", err);
	CHECK(d.from_file && d.n_train == 1, "one train row from the file");
	CHECK(data_next_train(&d, &ex) == 0 && ex.n_numbers == 3 && ex.target == 98 &&
	      ex.numbers[0] == 44 && ex.numbers[2] == 35, "numbers and target from the row");
	int ok = -1;
	CHECK(data_reward(&d, &ex, "<answer>(35 + 44) + 19</answer>", &ok) == 1.0 && ok == 1,
	      "right");
	CHECK(data_reward(&d, &ex, "<answer>44 + 19</answer>", &ok) == 0.1 && ok == 0,
	      "a number left out: 0.1");
	CHECK(data_reward(&d, &ex, "44 + 19 + 35", &ok) == 0.0 && ok == 0, "no tag: 0");
	data_free(&d);
	f = fopen(path, "w");
	fprintf(f, "{\"question\": \"q\", \"answer\": \"1 + 2\"}\n");
	fclose(f);
	CHECK(data_init(&d, &c, &tok, err, sizeof(err)) == -1 &&
	      strstr(err, "a countdown row needs \"nums\" and \"target\""), "row without nums: %s",
	      err);
	f = fopen(path, "w");
	fprintf(f, "{\"question\": \"q\", \"answer\": \"1\", \"nums\": [1, \"x\"], \"target\": 3}\n");
	fclose(f);
	CHECK(data_init(&d, &c, &tok, err, sizeof(err)) == -1 && strstr(err, ":1: \"nums\" holds"),
	      "bad nums: %s", err);
	tokenizer_free(&tok);
	unlink(path);
}

int main(void)
{
	test_mcq_choice();
	test_mcq_reward();
	test_format();
	test_format_random();
	test_format_weight();
	test_countdown_rows();
	return check_done("test_rewards");
}
