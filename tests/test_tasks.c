/*
 * test_tasks.c - the tokenizer, the expression evaluator and the tasks module.
 * Oracles from outside the code under test: ASCII arithmetic for the char vocab, an
 * independent re-computation of every arith chain from its prompt, a brute-force countdown
 * solver over all expression trees, and hand-written verifier cases with known rewards.
 */
#include "attnrl/task.h"
#include "attnrl/task_expr.h"
#include "attnrl/tokenizer.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

#define N_TRAIN 5000
#define N_EVAL 1000
#define N_SOLVE 1000

static void test_tokenizer(void)
{
	struct tokenizer t;
	int32_t ids[64];
	char out[64];
	CHECK(tokenizer_init_chars(&t) == 0, "init");
	CHECK(t.vocab_size == 100 && t.pad_id == 0 && t.bos_id == 1 && t.eos_id == 2, "ids");
	CHECK(strcmp(tokenizer_piece(&t, 1), "<bos>") == 0, "bos piece");
	CHECK(strcmp(tokenizer_piece(&t, 3), "\t") == 0 && strcmp(tokenizer_piece(&t, 4), "\n") == 0,
	      "tab, newline");
	CHECK(strcmp(tokenizer_piece(&t, 5), " ") == 0 && strcmp(tokenizer_piece(&t, 99), "~") == 0,
	      "space, tilde");
	CHECK(!tokenizer_piece(&t, 100) && !tokenizer_piece(&t, -1), "piece out of range");
	for (int c = 1; c < 256; c++) {
		char s[2] = { (char)c, 0 };
		int in = c == '\t' || c == '\n' || (c >= 32 && c <= 126);
		int n = tokenizer_encode(&t, s, ids, 4);
		CHECK(n == (in ? 1 : -1), "byte %d: %d", c, n);
		if (in && c >= 32)
			CHECK(ids[0] == c - 32 + 5, "byte %d -> id %d", c, ids[0]);
	}
	const char *text = "12+34=46,46-7=39.<answer>39</answer>\n\t~ ";
	int n = tokenizer_encode(&t, text, ids, 64);
	CHECK(n == (int)strlen(text), "encode count %d", n);
	CHECK(tokenizer_decode(&t, ids, n, out, sizeof(out)) == n && strcmp(out, text) == 0,
	      "round trip: %s", out);
	CHECK(tokenizer_encode(&t, "caf\xc3\xa9", ids, 64) == -1, "non-ASCII rejected");
	CHECK(tokenizer_encode(&t, "abc", ids, 2) == -1, "max_ids too small");
	CHECK(tokenizer_encode(&t, "", ids, 0) == 0, "empty text");
	int32_t sp[] = { 1, 5 + 'h' - 32, 0, 5 + 'i' - 32, 2, 0 };
	CHECK(tokenizer_decode(&t, sp, 6, out, 3) == 2 && strcmp(out, "hi") == 0, "specials: %s",
	      out);
	CHECK(tokenizer_decode(&t, sp, 6, out, 2) == -1 && out[0] == 0, "cap too small");
	int32_t bad[] = { 7, 100 };
	CHECK(tokenizer_decode(&t, bad, 2, out, sizeof(out)) == -1, "id out of range");
	tokenizer_free(&t);
}

static void expect_expr(const char *s, enum expr_status st, double v)
{
	struct expr_result r;
	enum expr_status got = expr_eval(s, strlen(s), &r);
	CHECK(got == st, "expr \"%.40s\": %s, want %s", s, expr_strerror(got), expr_strerror(st));
	if (st == EXPR_OK)
		CHECK_NEAR(r.value, v, 1e-12, s);
}

/* depth EXPR_DEPTH_MAX parses, one more does not, a million '(' neither (nor overflows) */
static void test_expr_depth(void)
{
	size_t big = 1000000;
	char *s = malloc(2 * big + 2);
	CHECK(s, "out of memory");
	if (!s)
		return;
	for (int d = EXPR_DEPTH_MAX; d <= EXPR_DEPTH_MAX + 1; d++) {
		memset(s, '(', (size_t)d);
		s[d] = '7';
		memset(s + d + 1, ')', (size_t)d);
		s[2 * d + 1] = 0;
		expect_expr(s, d <= EXPR_DEPTH_MAX ? EXPR_OK : EXPR_ERR_DEPTH, 7);
	}
	memset(s, '(', big);
	s[big] = '7';
	memset(s + big + 1, ')', big);
	s[2 * big + 1] = 0;
	expect_expr(s, EXPR_ERR_DEPTH, 0);
	free(s);
}

static void test_expr(void)
{
	expect_expr("2+3*4", EXPR_OK, 14);
	expect_expr(" ( 2 + 3 ) * 4 ", EXPR_OK, 20);
	expect_expr("8/4/2", EXPR_OK, 1);
	expect_expr("10-4-3", EXPR_OK, 3);
	expect_expr("7/2", EXPR_OK, 3.5);
	expect_expr("0", EXPR_OK, 0);
	expect_expr("((((1))))", EXPR_OK, 1);
	expect_expr("", EXPR_ERR_SYNTAX, 0);
	expect_expr("-1+2", EXPR_ERR_SYNTAX, 0);
	expect_expr("+1", EXPR_ERR_SYNTAX, 0);
	expect_expr("2**3", EXPR_ERR_SYNTAX, 0);
	expect_expr("8//2", EXPR_ERR_SYNTAX, 0);
	expect_expr("1 2", EXPR_ERR_SYNTAX, 0);
	expect_expr("()", EXPR_ERR_SYNTAX, 0);
	expect_expr("(1", EXPR_ERR_SYNTAX, 0);
	expect_expr("1)", EXPR_ERR_SYNTAX, 0);
	expect_expr("1e5", EXPR_ERR_CHAR, 0);
	expect_expr("1.5", EXPR_ERR_CHAR, 0);
	expect_expr("2^3", EXPR_ERR_CHAR, 0);
	expect_expr("01", EXPR_ERR_NUMBER, 0);
	expect_expr("1234567890123456", EXPR_ERR_NUMBER, 0);
	expect_expr("123456789012345", EXPR_OK, 123456789012345.0);
	expect_expr("5/(3-3)", EXPR_ERR_DIV_ZERO, 0);
	expect_expr("1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1", EXPR_ERR_COUNT, 0);
	test_expr_depth();
	struct expr_result r;
	CHECK(expr_eval("3 + 4 * 5", 5, &r) == EXPR_OK && r.value == 7.0, "length bounds input");
	CHECK(expr_eval("12*(3+40)", 9, &r) == EXPR_OK && r.n_numbers == 3 && r.numbers[0] == 12 &&
		      r.numbers[2] == 40, "numbers recorded");
}

/* the answer text of a response */
static void expect_find(const char *resp, int found, const char *content)
{
	const char *a = NULL;
	size_t len = 0;
	int f = task_answer_find(resp, &a, &len);
	CHECK(f == found, "find in \"%s\": %d", resp, f);
	if (f && found)
		CHECK(len == strlen(content) && memcmp(a, content, len) == 0, "content of \"%s\": %.*s",
		      resp, (int)len, a);
}

static void test_answer_find(void)
{
	expect_find("<answer>1</answer>", 1, "1");
	expect_find("x<answer>1</answer>y<answer>2</answer>z", 1, "2");
	expect_find("<answer>1</answer><answer>2", 1, "1");
	expect_find("<answer>a <answer>b</answer>", 1, "a <answer>b");
	expect_find("<answer>1</answer> junk </answer>", 1, "1");
	expect_find("<answer></answer>", 1, "");
	expect_find("<answer>1", 0, "");
	expect_find("1</answer>", 0, "");
	expect_find("", 0, "");
}

static void test_params(void)
{
	enum task_kind k;
	struct task_params p;
	char err[160];
	CHECK(task_kind_parse("arith", &k) == 0 && k == TASK_ARITH, "arith");
	CHECK(task_kind_parse("countdown", &k) == 0 && k == TASK_COUNTDOWN, "countdown");
	CHECK(task_kind_parse("Arith", &k) == -1 && task_kind_parse("", &k) == -1, "unknown kind");
	CHECK(strcmp(task_kind_name(TASK_COUNTDOWN), "countdown") == 0, "name");
	for (int kk = TASK_ARITH; kk <= TASK_COUNTDOWN; kk++) {
		task_params_default((enum task_kind)kk, &p);
		CHECK(task_params_check((enum task_kind)kk, &p, err, sizeof(err)) == 0, "%s", err);
		int too_many = kk == TASK_ARITH ? TASK_ARITH_OPS_MAX + 1 : TASK_NUMBERS_MAX;
		struct task_params bad[] = { { 0, 3, 50 }, { 3, 2, 50 }, { 1, too_many, 50 },
					     { 1, 3, 0 }, { 1, 3, 1000 } };
		for (int i = 0; i < 5; i++) {
			err[0] = 0;
			CHECK(task_params_check((enum task_kind)kk, &bad[i], err, sizeof(err)) == -1 &&
				      err[0], "bad params %d accepted", i);
			struct task_example ex;
			CHECK(task_example_get((enum task_kind)kk, &bad[i], 1, TASK_TRAIN, 0, &ex) == -1 &&
				      ex.prompt[0] == 0, "bad params %d: example", i);
		}
	}
	task_params_default(TASK_ARITH, &p);
	struct task_example ex;
	CHECK(task_example_get(TASK_ARITH, &p, 1, 2, 0, &ex) == -1, "bad split");
}

static int example_get(enum task_kind k, const struct task_params *p, uint64_t seed, int split,
		       int64_t index, struct task_example *ex)
{
	int rc = task_example_get(k, p, seed, split, index, ex);
	CHECK(rc == 0, "%s seed %llu split %d index %lld", task_kind_name(k),
	      (unsigned long long)seed, split, (long long)index);
	return rc;
}

static void test_determinism(enum task_kind k)
{
	struct task_params p;
	struct task_example a, b;
	int differ = 0, seed_differ = 0;
	task_params_default(k, &p);
	for (int i = 0; i < 100; i++) {
		example_get(k, &p, 42, TASK_TRAIN, i, &a);
		example_get(k, &p, 42, TASK_TRAIN, i, &b);
		CHECK(memcmp(&a, &b, sizeof(a)) == 0, "%s index %d not deterministic", task_kind_name(k),
		      i);
		example_get(k, &p, 42, TASK_TRAIN, i + 1, &b);
		differ += strcmp(a.prompt, b.prompt) != 0;
		example_get(k, &p, 43, TASK_TRAIN, i, &b);
		seed_differ += strcmp(a.prompt, b.prompt) != 0;
	}
	CHECK(differ >= 90, "%s: only %d of 100 neighbours differ", task_kind_name(k), differ);
	CHECK(seed_differ >= 90, "%s: only %d of 100 differ across seeds", task_kind_name(k),
	      seed_differ);
}

/* pinned outputs: a generator change that alters the data stream must be deliberate */
static void test_golden(void)
{
	struct task_params p;
	struct task_example ex;
	task_params_default(TASK_ARITH, &p);
	example_get(TASK_ARITH, &p, 1234, TASK_TRAIN, 0, &ex);
	CHECK(strcmp(ex.prompt, "17+39-44-12=") == 0 &&
		      strcmp(ex.solution, "17+39=56,56-44=12,12-12=0.<answer>0</answer>") == 0,
	      "golden arith: %s -> %s", ex.prompt, ex.solution);
	task_params_default(TASK_COUNTDOWN, &p);
	example_get(TASK_COUNTDOWN, &p, 1234, TASK_EVAL, 7, &ex);
	CHECK(strcmp(ex.prompt, "Using the numbers [41, 36, 49], create an equation that equals "
				"126. You can use basic arithmetic operations (+, -, *, /) and each "
				"number can only be used once. Show your work in <think> </think> "
				"tags. And return the final answer in <answer> </answer> tags, for "
				"example <answer> (1 + 2) / 3 </answer>.") == 0 &&
		      strcmp(ex.solution, "<think>49 + 41 = 90, 90 + 36 = 126.</think>"
					  "<answer>(49 + 41) + 36</answer>") == 0,
	      "golden countdown: %s -> %s", ex.prompt, ex.solution);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

typedef char problem_key[TASK_TEXT_MAX];

/* sorted keys of n examples of one split */
static problem_key *split_keys(enum task_kind k, const struct task_params *p, int split, int n)
{
	problem_key *keys = calloc((size_t)n, sizeof(*keys));
	struct task_example ex;
	for (int i = 0; keys && i < n; i++) {
		example_get(k, p, 7, split, i, &ex);
		CHECK(task_split_of(k, &ex) == split, "split of %s", ex.prompt);
		task_key(k, &ex, keys[i], sizeof(keys[i]));
	}
	if (keys)
		qsort(keys, (size_t)n, sizeof(*keys), cmp_str);
	return keys;
}

static int count_distinct(problem_key *keys, int n)
{
	int d = n > 0;
	for (int i = 1; i < n; i++)
		d += strcmp(keys[i], keys[i - 1]) != 0;
	return d;
}

static void test_disjoint(enum task_kind k)
{
	struct task_params p;
	task_params_default(k, &p);
	problem_key *tr = split_keys(k, &p, TASK_TRAIN, N_TRAIN), *ev = split_keys(k, &p, TASK_EVAL, N_EVAL);
	CHECK(tr && ev, "out of memory");
	if (!tr || !ev)
		goto out;
	int shared = 0;
	for (int i = 0, j = 0; i < N_TRAIN && j < N_EVAL;) {
		int c = strcmp(tr[i], ev[j]);
		shared += c == 0;
		i += c <= 0;
		j += c >= 0;
	}
	CHECK(shared == 0, "%s: %d eval problems also in train", task_kind_name(k), shared);
	int dt = count_distinct(tr, N_TRAIN), de = count_distinct(ev, N_EVAL);
	printf("%s: %d distinct train problems of %d, %d distinct eval of %d\n", task_kind_name(k),
	       dt, N_TRAIN, de, N_EVAL);
	CHECK(de > N_EVAL / 4 && dt > N_TRAIN / 4, "%s: too few distinct problems", task_kind_name(k));
out:
	free(tr);
	free(ev);
}

/* recompute the chain from the prompt alone */
static void arith_oracle(const struct task_example *ex, const struct task_params *p)
{
	const char *s = ex->prompt;
	char *end;
	long v = strtol(s, &end, 10), terms = 1;
	int ok = v >= 1 && v <= p->max_operand;
	while (*end == '+' || *end == '-') {
		char op = *end;
		long b = strtol(end + 1, &end, 10);
		ok = ok && b >= 1 && b <= p->max_operand;
		v = op == '+' ? v + b : v - b;
		ok = ok && v >= 0 && v <= 999;
		terms++;
	}
	ok = ok && strcmp(end, "=") == 0 && terms - 1 >= p->min_ops && terms - 1 <= p->max_ops;
	CHECK(ok && v == ex->target && atol(ex->answer) == v, "arith oracle: %s -> %ld (%s)",
	      ex->prompt, v, ex->answer);
}

/* 1 when some tree of + - * / over v[0..n) gives target (exact up to 1e-6) */
static int cd_solvable(double *v, int n, double target)
{
	if (n == 1)
		return fabs(v[0] - target) < 1e-6;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			if (i == j)
				continue;
			double a = v[i], b = v[j], w[8];
			int m = 0;
			for (int q = 0; q < n; q++)
				if (q != i && q != j)
					w[m++] = v[q];
			double r[4] = { a + b, a - b, a * b, b != 0 ? a / b : NAN };
			for (int o = 0; o < 4; o++) {
				if (isnan(r[o]))
					continue;
				w[m] = r[o];
				if (cd_solvable(w, m + 1, target))
					return 1;
			}
		}
	return 0;
}

static void countdown_oracle(const struct task_example *ex, const struct task_params *p)
{
	double v[8];
	int ok = ex->n_numbers >= p->min_ops + 1 && ex->n_numbers <= p->max_ops + 1;
	for (int i = 0; i < ex->n_numbers; i++) {
		ok = ok && ex->numbers[i] >= 1 && ex->numbers[i] <= p->max_operand;
		v[i] = ex->numbers[i];
	}
	ok = ok && ex->target >= 1 && ex->target <= 1000;
	CHECK(ok, "countdown ranges: %s", ex->prompt);
	if (ex->n_numbers <= 5) /* the search grows as n!^2 4^n */
		CHECK(cd_solvable(v, ex->n_numbers, (double)ex->target), "unreachable: %s", ex->prompt);
	CHECK(strncmp(ex->prompt, "Using the numbers [", 19) == 0 &&
		      strstr(ex->prompt, "for example <answer> (1 + 2) / 3 </answer>."),
	      "prompt: %s", ex->prompt);
}

static void check_solutions(enum task_kind k, const struct task_params *p, int n, int max_prompt,
			    int max_solution)
{
	struct tokenizer t;
	int32_t ids[TASK_TEXT_MAX];
	char back[TASK_TEXT_MAX];
	tokenizer_init_chars(&t);
	for (int i = 0; i < n; i++) {
		struct task_example ex;
		int correct = 0;
		if (example_get(k, p, 99, i % 5 == 0 ? TASK_EVAL : TASK_TRAIN, i, &ex))
			continue;
		CHECK(task_reward(k, &ex, ex.solution, &correct) == 1.0 && correct == 1,
		      "own solution fails: %s -> %s", ex.prompt, ex.solution);
		CHECK((int)strlen(ex.prompt) <= max_prompt && (int)strlen(ex.solution) <= max_solution,
		      "too long: %s -> %s", ex.prompt, ex.solution);
		int m = tokenizer_encode(&t, ex.solution, ids, TASK_TEXT_MAX);
		CHECK(m > 0 && tokenizer_decode(&t, ids, m, back, sizeof(back)) == m &&
			      strcmp(back, ex.solution) == 0, "char tokens: %s", ex.solution);
		CHECK(tokenizer_encode(&t, ex.prompt, ids, TASK_TEXT_MAX) > 0, "prompt tokens");
		if (k == TASK_ARITH)
			arith_oracle(&ex, p);
		else
			countdown_oracle(&ex, p);
	}
	tokenizer_free(&t);
}

static void test_solutions(void)
{
	struct task_params p;
	task_params_default(TASK_ARITH, &p);
	check_solutions(TASK_ARITH, &p, N_SOLVE, 32, 64);
	p = (struct task_params){ 7, 7, 999 };
	check_solutions(TASK_ARITH, &p, 200, 32, TASK_TEXT_MAX - 1);
	p = (struct task_params){ TASK_ARITH_OPS_MAX, TASK_ARITH_OPS_MAX, 999 };
	check_solutions(TASK_ARITH, &p, 200, 64, TASK_TEXT_MAX - 1);
	task_params_default(TASK_COUNTDOWN, &p);
	check_solutions(TASK_COUNTDOWN, &p, N_SOLVE, TASK_TEXT_MAX - 1, TASK_TEXT_MAX - 1);
	p = (struct task_params){ 1, 5, 999 };
	check_solutions(TASK_COUNTDOWN, &p, 100, TASK_TEXT_MAX - 1, TASK_TEXT_MAX - 1);
	p = (struct task_params){ 7, 7, 999 };
	check_solutions(TASK_COUNTDOWN, &p, 20, TASK_TEXT_MAX - 1, TASK_TEXT_MAX - 1);
}

/* a tiny problem space: a split may be empty, but a result is always of its split */
static void test_tiny_space(void)
{
	struct task_params p = { 1, 1, 1 };
	int found = 0;
	for (int s = TASK_TRAIN; s <= TASK_EVAL; s++) {
		struct task_example ex;
		int rc = task_example_get(TASK_ARITH, &p, 5, s, 0, &ex);
		found += rc == 0;
		CHECK(rc == 0 ? task_split_of(TASK_ARITH, &ex) == s : ex.prompt[0] == 0, "split %d", s);
	}
	CHECK(found >= 1, "neither split of a two-problem space");
}

static void expect_reward(enum task_kind k, const struct task_example *ex, const char *resp,
			  double want)
{
	int correct = -1;
	double r = task_reward(k, ex, resp, &correct);
	CHECK(r == want && correct == (want == 1.0), "%s reward of \"%.60s\": %g (correct %d), want %g",
	      task_kind_name(k), resp, r, correct, want);
}

static void test_arith_verifier(void)
{
	struct task_example ex = { .prompt = "12+34-7=", .answer = "39", .target = 39 };
	const char *cases1[] = { "12+34=46,46-7=39.<answer>39</answer>", "<answer> 39 </answer>",
				 "<answer>\t39\n</answer>", "<answer>1</answer><answer>39</answer>",
				 "<answer>39</answer><answer>4", "so <answer>39</answer> done" };
	const char *cases0[] = { "<answer>40</answer>", "<answer>039</answer>", "<answer>+39</answer>",
				 "<answer>39.0</answer>", "<answer>3 9</answer>", "<answer>39",
				 "39", "", "<answer>39</answer><answer>1</answer>",
				 "<answer></answer>", "<answer>-39</answer>", "<ANSWER>39</ANSWER>",
				 "<answer>39</ answer>" };
	for (size_t i = 0; i < sizeof(cases1) / sizeof(*cases1); i++)
		expect_reward(TASK_ARITH, &ex, cases1[i], 1.0);
	for (size_t i = 0; i < sizeof(cases0) / sizeof(*cases0); i++)
		expect_reward(TASK_ARITH, &ex, cases0[i], 0.0);
	struct task_example zero = { .prompt = "5-5=", .answer = "0", .target = 0 };
	expect_reward(TASK_ARITH, &zero, "<answer>0</answer>", 1.0);
	expect_reward(TASK_ARITH, &zero, "<answer>00</answer>", 0.0);
	expect_reward(TASK_ARITH, &zero, "<answer>-0</answer>", 0.0);
}

static struct task_example cd_example(int a, int b, int c, long target)
{
	struct task_example ex = { .numbers = { a, b, c }, .n_numbers = 3, .target = target };
	return ex;
}

/* a response whose answer is prefix, then n copies of c, then suffix */
static char *cd_long(const char *prefix, char c, int n, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + (size_t)n + ls + 1);
	if (!s)
		return NULL;
	memcpy(s, prefix, lp);
	memset(s + lp, c, (size_t)n);
	memcpy(s + lp + n, suffix, ls + 1);
	return s;
}

static void test_countdown_hostile(const struct task_example *ex)
{
	char *s[5] = {
		cd_long("<answer>", '(', 10000, "44 + 19 + 35</answer>"),
		cd_long("<answer>", '9', 300, " * 0 + 44 + 19 + 35</answer>"),
		cd_long("<answer>44 + 19 + 35", ')', 10000, "</answer>"),
		cd_long("<answer>44 + 19 +", ' ', 100000, "35</answer>"),
		cd_long("<answer>", '1', 1, "+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1</answer>"),
	};
	double want[5] = { 0.1, 0.1, 0.1, 1.0, 0.1 };
	for (int i = 0; i < 5; i++) {
		CHECK(s[i], "out of memory");
		if (s[i])
			expect_reward(TASK_COUNTDOWN, ex, s[i], want[i]);
		free(s[i]);
	}
	char nested[8 + 2 * 60 + 32] = "<answer>";
	for (int i = 0; i < 60; i++)
		strcat(nested, "(");
	strcat(nested, "44 + 19 + 35");
	for (int i = 0; i < 60; i++)
		strcat(nested, ")");
	strcat(nested, "</answer>");
	expect_reward(TASK_COUNTDOWN, ex, nested, 1.0);
}

static void test_countdown_verifier(void)
{
	struct task_example ex = cd_example(44, 19, 35, 98);
	const char *right[] = { "<answer>44 + 19 + 35</answer>", "<answer>44+19+35</answer>",
				"<think>44 + 19 = 63, 63 + 35 = 98.</think> <answer> (44 + 19) + 35 </answer>",
				"<answer>1</answer> then <answer>35 + (19 + 44)</answer>",
				"<answer>44 + 19 + 35</answer><answer>1", "<answer>44 +\n19 + 35</answer>" };
	const char *wrong[] = { "<answer>44 + 19 - 35</answer>", "<answer>44 + 19 + 35</answer><answer>1</answer>",
				"<answer>44 + 19 + 35 + 35 - 35</answer>", "<answer>63 + 35</answer>",
				"<answer>44 + 19 + 35 = 98</answer>", "<answer>44 ** 1 + 19 + 35</answer>",
				"<answer>44 ^ 19 + 35</answer>", "<answer>x + 44 + 19 + 35</answer>",
				"<answer>1e5</answer>", "<answer>44 + 19 + 35.0</answer>",
				"<answer>(44 + 19 + 35</answer>", "<answer>44 + 19) + 35</answer>",
				"<answer></answer>", "<answer>   </answer>", "<answer>044 + 19 + 35</answer>",
				"<answer>99999999999999999999999*99999999999999999999999</answer>",
				"<answer>98</answer>", "<answer>-(-44 - 19 - 35)</answer>" };
	const char *none[] = { "44 + 19 + 35", "<answer>44 + 19 + 35", "", "</answer>44+19+35</answer>x" };
	for (size_t i = 0; i < sizeof(right) / sizeof(*right); i++)
		expect_reward(TASK_COUNTDOWN, &ex, right[i], 1.0);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(*wrong); i++)
		expect_reward(TASK_COUNTDOWN, &ex, wrong[i], 0.1);
	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
		expect_reward(TASK_COUNTDOWN, &ex, none[i], 0.0);
	test_countdown_hostile(&ex);

	struct task_example sq = cd_example(1, 5, 5, 25), nine = cd_example(2, 3, 4, 9);
	expect_reward(TASK_COUNTDOWN, &sq, "<answer>5 * 5 * 1</answer>", 1.0);
	expect_reward(TASK_COUNTDOWN, &sq, "<answer>5 * 5</answer>", 0.1);          /* missing 1 */
	expect_reward(TASK_COUNTDOWN, &sq, "<answer>5 * 5 * 1 * 1</answer>", 0.1);  /* extra 1 */
	expect_reward(TASK_COUNTDOWN, &nine, "<answer>2 + 3 + 4</answer>", 1.0);
	expect_reward(TASK_COUNTDOWN, &nine, "<answer>3 + 3 + 3</answer>", 0.1);    /* reused 3 */
	expect_reward(TASK_COUNTDOWN, &nine, "<answer>4 / (3 - 3) + 2</answer>", 0.1);
	struct task_example third = cd_example(1, 3, 3, 1), sixty = cd_example(44, 19, 35, 60);
	expect_reward(TASK_COUNTDOWN, &third, "<answer>1 / 3 * 3</answer>", 1.0);
	expect_reward(TASK_COUNTDOWN, &sixty, "<answer>44 - 19 + 35</answer>", 1.0);
	expect_reward(TASK_COUNTDOWN, &sixty, "<answer>-19 + 44 + 35</answer>", 0.1); /* unary */
}

int main(void)
{
	test_tokenizer();
	test_expr();
	test_answer_find();
	test_params();
	test_determinism(TASK_ARITH);
	test_determinism(TASK_COUNTDOWN);
	test_golden();
	test_disjoint(TASK_ARITH);
	test_disjoint(TASK_COUNTDOWN);
	test_solutions();
	test_tiny_space();
	test_arith_verifier();
	test_countdown_verifier();
	return check_done("test_tasks");
}
