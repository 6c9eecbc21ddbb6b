/*
 * test_task_mathans.c - the math answer checker. Oracle: hand-written verdicts a person gives to
 * each pair (what the MATH / GSM8K graders are meant to accept), the \boxed{} extraction of
 * hand-made responses, and every reference answer of MATH500 / GSM8K matching itself when
 * boxed (../shared/data; skipped with a message when absent).
 */
#include "attnrl/json.h"
#include "attnrl/task_mathans.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

struct pair {
	const char *given, *reference;
	int equal;
};

static const struct pair pairs[] = {
	/* fractions */
	{ "\\frac{1}{2}", "\\frac12", 1 },
	{ "\\dfrac{1}{2}", "\\frac{1}{2}", 1 },
	{ "\\tfrac{3}{4}", "\\frac 34", 1 },
	{ "1/2", "\\frac{1}{2}", 1 },
	{ "0.5", "\\frac{1}{2}", 1 },
	{ "\\frac{2}{4}", "\\frac{1}{2}", 1 },
	{ "-\\frac{1}{3}", "\\frac{-1}{3}", 1 },
	{ "-1/3", "-\\frac{1}{3}", 1 },
	{ "\\frac9{19}", "\\frac{9}{19}", 1 },
	{ "\\frac{270}{7}", "\\frac{270}7\\text{ degrees}", 1 },
	{ "137.5", "137 \\frac{1}{2}", 1 },
	{ "\\frac{9}{5}", "1\\frac{4}{5}", 1 },
	/* decimals, integers */
	{ "2.50", "2.5", 1 },
	{ "3.0", "3", 1 },
	{ "3.", "3", 1 },
	{ ".5", "0.5", 1 },
	{ "0.0000672", ".0000672", 1 },
	{ "1,000", "1000", 1 },
	{ "11,111,111,100", "11,\\! 111,\\! 111,\\! 100", 1 },
	{ "10080", "10,\\!080", 1 },
	{ "0.30000000000000004", "0.3", 1 },
	{ "+5", "5", 1 },
	{ " 42 ", "42", 1 },
	{ "42.", "42", 1 },
	/* units, symbols, text */
	{ "18.90", "\\$18.90", 1 },
	{ "\\$32,348", "32348", 1 },
	{ "5.4", "5.4 \\text{ cents}", 1 },
	{ "15", "15\\mbox{ cm}^2", 1 },
	{ "864 square inches", "864 \\mbox{ inches}^2", 1 },
	{ "12 cm", "12", 1 },
	{ "7 dollars", "7", 1 },
	{ "30 degrees", "30^\\circ", 1 },
	{ "30", "30^{\\circ}", 1 },
	{ "50\\%", "50", 1 },
	{ "50%", "50", 1 },
	{ "\\text{(B)}", "(B)", 1 },
	{ "\\textbf{Evelyn}", "\\text{Evelyn}", 1 },
	{ "\\mbox{east}", "\\text{east}", 1 },
	{ "\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", 1 },
	{ "\\sqrt2", "\\sqrt{2}", 1 },
	{ "11\\sqrt2", "11\\sqrt{2}", 1 },
	{ "2 \\sqrt{5}", "2\\sqrt{5}", 1 },
	{ "12\\pi", "12 \\pi", 1 },
	{ "\\pi", "\\pi", 1 },
	{ "x\\in[-2,7]", "x \\in [-2,7]", 1 },
	{ "[-2,7]", "x \\in [-2,7]", 1 },
	/* assignments, equations */
	{ "x = 5", "5", 1 },
	{ "5", "x=5", 1 },
	{ "y=2x+3", "y = 2x + 3", 1 },
	{ "-2x", "y = -2x", 1 },
	{ "5x-7y+11z+4=0", "5x - 7y + 11z + 4 = 0", 1 },
	/* tuples, intervals, sets, lists, matrices */
	{ "(1, 2)", "(1,2)", 1 },
	{ "(0.5, 2)", "(\\frac{1}{2}, 2)", 1 },
	{ "\\left(\\frac{3}{5},\\frac{8}{3}\\right]", "(\\frac35, \\frac83]", 1 },
	{ "\\{-2, 1+\\sqrt{5}\\}", "\\{1+\\sqrt{5},-2\\}", 1 },
	{ "1, -2", "-2, 1", 1 },
	{ "1 and -2", "-2,1", 1 },
	{ "3,5,7", "3, 5, 7", 1 },
	{ "(2,\\infty)", "(2, \\infty)", 1 },
	{ "[2, +\\infty)", "[2,\\infty)", 1 },
	{ "\\begin{pmatrix} -1/3 \\\\ 2/3 \\end{pmatrix}",
	  "\\begin{pmatrix} -\\frac{1}{3} \\\\ \\frac{2}{3} \\end{pmatrix}", 1 },
	{ "\\begin{bmatrix} 1 & 0 \\\\ 0 & 1 \\end{bmatrix}",
	  "\\begin{pmatrix} 1 & 0 \\\\ 0 & 1.0 \\end{pmatrix}", 1 },
	{ "\\emptyset", "\\varnothing", 1 },
	{ "{5}", "5", 1 },
	{ "-2 + 7i", "-2+7i", 1 },

	/* must not match */
	{ "1/2", "2", 0 },
	{ "\\frac{1}{2}", "\\frac{2}{1}", 0 },
	{ "10", "100", 0 },
	{ "(1,2)", "(2,1)", 0 },
	{ "3", "3.1", 0 },
	{ "x=5", "y=5", 0 },
	{ "12", "1,2", 0 },
	{ "1,2", "12", 0 },
	{ "-5", "5", 0 },
	{ "\\sqrt{2}", "2", 0 },
	{ "50\\%", "0.5", 0 },
	{ "0.333", "\\frac{1}{3}", 0 },
	{ "0.3333333", "\\frac13", 0 },
	{ "(1,2)", "[1,2]", 0 },
	{ "(3,4]", "(3,4)", 0 },
	{ "1,2,3", "1,2", 0 },
	{ "{1,2}", "{1,3}", 0 },
	{ "1000000", "1000001", 0 },
	{ "0", "0.0000001", 0 },
	{ "\\sqrt{3}", "\\sqrt{2}", 0 },
	{ "2\\pi", "\\pi", 0 },
	{ "1,000", "1,0000", 0 },
	{ "", "5", 0 },
	{ "5", "", 0 },
	{ "(1,2)", "1,2", 0 },
	{ "3m", "3", 0 },
	{ "\\frac{1}{2}x", "\\frac{1}{2}", 0 },
	{ "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", 0 },
	{ "\\infty", "-\\infty", 0 },
};

static void test_pairs(void)
{
	int n = (int)(sizeof(pairs) / sizeof(pairs[0])), neg = 0;
	for (int i = 0; i < n; i++) {
		const struct pair *p = &pairs[i];
		int got = math_equal(p->given, p->reference);
		char a[MATH_TEXT_MAX], b[MATH_TEXT_MAX];
		if (math_normalize(p->given, a, sizeof(a)) < 0)
			strcpy(a, "(failed)");
		if (math_normalize(p->reference, b, sizeof(b)) < 0)
			strcpy(b, "(failed)");
		CHECK(got == p->equal, "\"%s\" vs \"%s\": %d, want %d (normalised \"%s\" / \"%s\")",
		      p->given, p->reference, got, p->equal, a, b);
		CHECK(math_equal(p->reference, p->given) == p->equal, "not symmetric: %s / %s",
		      p->given, p->reference);
		neg += !p->equal;
	}
	CHECK(n >= 60 && neg >= 15, "%d pairs, %d negative", n, neg);
}

static void expect_box(const char *text, const char *want)
{
	const char *b = NULL;
	size_t len = 0;
	int found = math_last_boxed(text, &b, &len);
	if (!want) {
		CHECK(!found, "\"%s\": found \"%.*s\", want none", text, (int)len, b ? b : "");
		return;
	}
	CHECK(found && len == strlen(want) && !memcmp(b, want, len), "\"%s\": got \"%.*s\", want \"%s\"",
	      text, found ? (int)len : 0, found ? b : "", want);
}

static void test_extract(void)
{
	expect_box("so the answer is $\\boxed{42}$.", "42");
	expect_box("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}");
	expect_box("\\boxed{\\{1, \\{2\\}\\}}", "\\{1, \\{2\\}\\}");
	expect_box("first \\boxed{1} then \\boxed{2}", "2");
	expect_box("\\boxed{1} and \\fbox{7}", "7");
	expect_box("\\fbox{7} then \\boxed{8}", "8");
	expect_box("the answer is \\boxed 5$.", "5");
	expect_box("the answer is \\boxed 12", "12");
	expect_box("\\boxed{a{b}c}", "a{b}c");
	expect_box("\\boxed{1} then \\boxed{2", NULL);
	expect_box("\\boxed{\\frac{1}{2}", NULL);
	expect_box("no box here", NULL);
	expect_box("\\boxed", NULL);
	expect_box("\\boxed{}", "");
	expect_box("\\boxedx{3}", NULL);
	expect_box("\\boxed{3} \\boxedx{4}", "3");

	int ok = -1;
	CHECK(math_reward("... so \\boxed{\\dfrac{1}{2}}.", "0.5", &ok) == 1.0 && ok == 1, "reward 1");
	CHECK(math_reward("\\boxed{2} no, \\boxed{3}", "2", &ok) == 0.0 && ok == 0, "last wins");
	CHECK(math_reward("the answer is 2", "2", &ok) == 0.0 && ok == 0, "no box: 0");
	CHECK(math_reward("\\boxed{}", "", &ok) == 0.0 && ok == 0, "empty: 0");
	CHECK(math_reward("\\boxed{2", "2", NULL) == 0.0, "unbalanced: 0");

	char big[3 * MATH_TEXT_MAX], out[MATH_TEXT_MAX];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(math_normalize(big, out, sizeof(out)) == -1, "too long: normalise fails");
	CHECK(math_equal(big, big) == 1, "too long: byte-identical still matches");
	big[5] = '2';
	CHECK(math_equal(big, "1") == 0, "too long vs short");
	CHECK(math_normalize("\\frac{1}{2}", out, 4) == -1, "small out buffer");
	CHECK(math_normalize(" \\dfrac12 ", out, sizeof(out)) >= 0 && !strcmp(out, "\\frac{1}{2}"),
	      "normalise: %s", out);
}

/* hostile inputs: deep nesting, lone braces, many commas; must not crash (ASan) */
static void test_hostile(void)
{
	static const char *const texts[] = {
		"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{", "}}}}}}}}", "\\frac{", "\\frac{1}{",
		"\\sqrt", "((((((((((1,2),3),4),5),6),7),8),9),10)", ",,,,,,,,,,,,", "\\text{",
		"\\begin{pmatrix}\\end{pmatrix}", "x=", "x\\in", "\\left", "$$$", "-", "+.", ".",
		"\\begin{array}{", "1,00,000", "99999999999999999999999999/3", "\\frac{1}{0}",
		"\\frac{0}{0}", "inf", "and and and",
	};
	int n = (int)(sizeof(texts) / sizeof(texts[0]));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			int r = math_equal(texts[i], texts[j]);
			CHECK(r == 0 || r == 1, "%s vs %s: %d", texts[i], texts[j], r);
		}
	char many[2 * 200 + 1];
	for (int i = 0; i < 200; i++)
		many[2 * i] = '1', many[2 * i + 1] = ',';
	many[399] = '\0';
	CHECK(math_equal(many, many) == 1, "200 items equal themselves");
	CHECK(math_equal("\\frac{1}{0}", "\\frac{1}{0}") == 1, "same text");
	CHECK(math_equal("99999999999999999999", "99999999999999999999") == 1, "big same");
	CHECK(math_equal("99999999999999999999", "99999999999999999998") == 0, "big differ");
}

/* every reference answer of a JSONL file matches itself, alone and boxed */
static void check_file(const char *path, const char *field, int gsm8k)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("test_task_mathans: %s absent, real-data check skipped\n", path);
		return;
	}
	char line[1 << 16], err[256], resp[MATH_TEXT_MAX + 64], num[64];
	int rows = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		struct json *j = json_parse(line, strlen(line), err, sizeof(err));
		const struct json *v = json_get(j, field);
		const char *a = json_str(v);
		if (!a && json_type(v) == JSON_NUMBER) {
			snprintf(num, sizeof(num), "%.17g", json_num(v));
			a = num;
		}
		CHECK(a, "%s:%d: no %s", path, rows + 1, field);
		if (a && gsm8k) {
			const char *h = strstr(a, "#### ");
			a = h ? h + 5 : a;
		}
		rows++;
		if (a) {
			snprintf(resp, sizeof(resp), "... so the answer is \\boxed{%s}.", a);
			int ok = 0;
			if (!math_equal(a, a) || math_reward(resp, a, &ok) != 1.0 || !ok) {
				bad++;
				CHECK(0, "%s:%d: \"%s\" does not match itself", path, rows, a);
			}
		}
		json_free(j);
	}
	fclose(f);
	printf("test_task_mathans: %s: %d rows, %d answers that do not match themselves\n", path,
	       rows, bad);
}

int main(void)
{
	test_pairs();
	test_extract();
	test_hostile();
	check_file("../shared/data/math500/test.jsonl", "answer", 0);
	check_file("../shared/data/aime24/test.jsonl", "answer", 0);
	check_file("../shared/data/amc23/test.jsonl", "answer", 0);
	check_file("../shared/data/gsm8k/test.jsonl", "answer", 1);
	return check_done("test_task_mathans");
}
