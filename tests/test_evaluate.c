/*
 * test_evaluate.c - the summary of an eval run (evaluate.h: eval_summarize): avg@k, pass@k,
 * reward and length means, overall and per subset, and the order of the subsets; training's
 * eval by subject (evaluate_subjects) from the held-out rows' labels.
 * Oracle: the definitions worked by hand on small cases (numbers in the comments).
 */
#include "attnrl/evaluate.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

#define EPS 1e-12

static const struct eval_subset *row(const struct eval_subset *s, int rows, const char *g)
{
	for (int i = 0; i < rows; i++)
		if ((!g && !s[i].group) || (g && s[i].group && !strcmp(g, s[i].group)))
			return &s[i];
	return NULL;
}

/* 4 problems, k = 4: right 1, 0, 4, 2 of 4 */
static void test_avg_pass(void)
{
	struct eval_problem p[4] = {
		{ NULL, 4, 1, 1.3, 40 }, { NULL, 4, 0, 0.4, 80 },
		{ NULL, 4, 4, 4.0, 20 }, { NULL, 4, 2, 2.1, 60 },
	};
	struct eval_subset *s;
	int rows = eval_summarize(p, 4, &s);
	CHECK(rows == 1, "no labels: one row, got %d", rows);
	CHECK(!s[0].group && s[0].n == 4 && s[0].responses == 16 && s[0].correct == 7 &&
	      s[0].solved == 3, "counts %d %d %d %d", s[0].n, s[0].responses, s[0].correct,
	      s[0].solved);
	CHECK_NEAR(s[0].avg_at_k, 7.0 / 16, EPS, "avg@4 = 7 right / 16");
	CHECK_NEAR(s[0].pass_at_k, 3.0 / 4, EPS, "pass@4 = 3 of 4 problems solved");
	CHECK_NEAR(s[0].reward_mean, 7.8 / 16, EPS, "reward = 7.8 / 16");
	CHECK_NEAR(s[0].response_len_mean, 200.0 / 16, EPS, "length = 200 / 16");
	free(s);
}

/* labels: "10" and "2" are integers (numeric order: 2 before 10), then text in byte order,
 * "(none)" for a problem without one */
static void test_subsets(void)
{
	struct eval_problem p[6] = {
		{ "10", 2, 1, 1, 10 }, { "Algebra", 2, 2, 2, 4 }, { "2", 2, 0, 0, 6 },
		{ NULL, 2, 1, 1, 2 },  { "2", 2, 2, 2, 8 },       { "10", 2, 0, 0, 2 },
	};
	struct eval_subset *s;
	int rows = eval_summarize(p, 6, &s);
	CHECK(rows == 5, "all + 4 subsets, got %d", rows);
	if (rows != 5)
		return;
	const char *order[5] = { NULL, "2", "10", "(none)", "Algebra" };
	for (int i = 1; i < 5; i++)
		CHECK(!strcmp(s[i].group, order[i]), "row %d is %s, want %s", i, s[i].group, order[i]);
	CHECK(s[0].n == 6 && s[0].responses == 12 && s[0].correct == 6 && s[0].solved == 4,
	      "all: %d %d %d %d", s[0].n, s[0].responses, s[0].correct, s[0].solved);
	const struct eval_subset *two = row(s, rows, "2"), *ten = row(s, rows, "10");
	CHECK(two && two->n == 2 && two->correct == 2 && two->solved == 1, "subset 2");
	CHECK_NEAR(two->avg_at_k, 2.0 / 4, EPS, "subset 2 avg@2");
	CHECK_NEAR(two->pass_at_k, 1.0 / 2, EPS, "subset 2 pass@2");
	CHECK_NEAR(two->response_len_mean, 14.0 / 4, EPS, "subset 2 length");
	CHECK(ten && ten->n == 2 && ten->correct == 1 && ten->solved == 1, "subset 10");
	CHECK_NEAR(ten->avg_at_k, 1.0 / 4, EPS, "subset 10 avg@2");
	CHECK_NEAR(row(s, rows, "(none)")->pass_at_k, 1.0, EPS, "(none) pass@2");
	CHECK_NEAR(row(s, rows, "Algebra")->avg_at_k, 1.0, EPS, "Algebra avg@2");
	int n = 0;
	for (int i = 1; i < rows; i++)
		n += s[i].n;
	CHECK(n == 6, "subsets cover every problem once: %d", n);
	free(s);
}

/* k = 1 greedy: avg@1 = pass@1; no problem: a zero row */
static void test_edges(void)
{
	struct eval_problem p[3] = { { "a", 1, 1, 1, 3 }, { "a", 1, 0, 0, 3 }, { "b", 1, 1, 1, 3 } };
	struct eval_subset *s;
	int rows = eval_summarize(p, 3, &s);
	CHECK(rows == 3, "rows %d", rows);
	CHECK_NEAR(s[0].avg_at_k, 2.0 / 3, EPS, "avg@1");
	CHECK_NEAR(s[0].pass_at_k, 2.0 / 3, EPS, "pass@1 = avg@1");
	free(s);
	rows = eval_summarize(p, 0, &s);
	CHECK(rows == 1 && s[0].n == 0 && s[0].avg_at_k == 0.0 && s[0].pass_at_k == 0.0,
	      "empty: %d rows", rows);
	free(s);
}

/* held-out rows Algebra, Geometry, Algebra, unlabelled; k = 2, right 2, 1, 0, 1 of 2: Algebra
 * 2 of 4, Geometry 1 of 2, (none) 1 of 2; the generated tasks (no rows) have no subjects */
static void test_subjects(void)
{
	struct dataset_row r[4] = { { .subject = "Algebra" }, { .subject = "Geometry" },
				    { .subject = "Algebra" }, { .subject = NULL } };
	const struct dataset_row *rows_of[4] = { &r[0], &r[1], &r[2], &r[3] };
	struct data d = { .from_file = 1, .eval = rows_of, .n_eval = 4 };
	double right[4] = { 2, 1, 0, 1 };
	struct eval_subset *s;
	CHECK(evaluate_has_subjects(&d, 4) && !evaluate_has_subjects(&d, 0), "labelled rows");
	int rows = evaluate_subjects(&d, right, 4, 2, &s);
	CHECK(rows == 4, "rows %d", rows);
	if (rows == 4) {
		CHECK(!strcmp(s[1].group, "(none)") && !strcmp(s[2].group, "Algebra") &&
		      !strcmp(s[3].group, "Geometry"), "order %s %s %s", s[1].group, s[2].group,
		      s[3].group);
		CHECK_NEAR(s[0].avg_at_k, 4.0 / 8, EPS, "all");
		CHECK_NEAR(row(s, rows, "Algebra")->avg_at_k, 2.0 / 4, EPS, "Algebra");
		CHECK_NEAR(row(s, rows, "Geometry")->avg_at_k, 1.0 / 2, EPS, "Geometry");
	}
	free(s);
	r[0].subject = r[1].subject = r[2].subject = NULL;
	CHECK(evaluate_subjects(&d, right, 4, 2, &s) == 0 && !s, "no labels: no rows");
	struct data gen = { .from_file = 0 };
	CHECK(!evaluate_has_subjects(&gen, 200), "a generated task has subjects");
}

int main(void)
{
	test_avg_pass();
	test_subsets();
	test_edges();
	test_subjects();
	return check_done("test_evaluate");
}
