/*
 * test_report_page.c - the pure-C parts of `attnrl report` (run under ASan by `make asan`):
 * svg_axis covers any range with 1-2-2.5-5 steps; report_load keeps exactly the lines that are
 * JSON objects with an integer step, at every truncation of a real samples.jsonl record and of
 * a metrics record, and the page is written for each (hostile and malformed records included)
 * with nothing of the run's text unescaped. The end-to-end test is tests/test_report.sh.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attnrl/report.h"
#include "attnrl/report_svg.h"
#include "check.h"

static const char *metrics_line =
	"{\"step\": 3, \"reward_mean\": 0.5, \"accuracy\": 0.25, \"entropy\": 0.09, "
	"\"time_rollout_s\": 0.1, \"time_update_s\": 0.4, \"time_step_s\": 0.6, \"gamma_mean\": 1.2, "
	"\"eval_accuracy\": 0.55}";
static const char *sample_line =
	"{\"step\": 7, \"prompt\": \"1<2 & \\\"x\\\"\", \"response\": \"<answer>3</answer>\", "
	"\"reward\": 1, \"correct\": true, \"tokens\": [\"<\", \"&\", \"\\u0000\", \"\\n\", 5], "
	"\"waad\": [1, 2.5, null, 4, 0], \"fai\": [0.1, 0.2, 0.3, 0.4, 0.5], "
	"\"delta\": [1.5, 2.5, 4, 4, 0], \"gamma\": [1, 1.5, 0.5, 1, 1], "
	"\"preplan\": [1, -1, 99], \"anchor\": [0, 4], \"dominated\": [4], \"intro\": [\"x\"]}";

static void axis_checks(void)
{
	srand(7);
	for (int i = 0; i < 2000; i++) {
		double a = (rand() / (double)RAND_MAX - 0.5) * pow(10, rand() % 12 - 6);
		double b = i % 5 ? a + fabs(a) * (rand() / (double)RAND_MAX) * 3 : a;
		double lo, hi, step;
		svg_axis(a, b, 4, &lo, &hi, &step);
		double m = step / pow(10, floor(log10(step)) ), k = (hi - lo) / step;
		CHECK(lo <= a && hi >= b && hi > lo, "axis %g..%g -> %g..%g", a, b, lo, hi);
		CHECK(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 2.5) < 1e-9 ||
		      fabs(m - 5) < 1e-9, "step %g", step);
		CHECK(fabs(k - round(k)) < 1e-6 && k >= 1 && k <= 12, "%g ticks for %g..%g", k, a, b);
	}
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

/* report_load + report_write_html of dir into memory; the page (malloc'd) or NULL */
static char *page_of(const char *dir, struct report *r, int *rc)
{
	char err[512], *buf = NULL;
	size_t n = 0;
	*rc = report_load(r, dir, err, sizeof(err));
	if (*rc)
		return NULL;
	FILE *f = open_memstream(&buf, &n);
	*rc = f ? report_write_html(r, f, 6, 0, err, sizeof(err)) : -1;
	if (f)
		fclose(f);
	return buf;
}

/* every prefix of line (with and without its newline) as the whole file */
static void truncations(const char *dir, const char *name, const char *line, int metrics)
{
	size_t len = strlen(line);
	char *text = malloc(len + 2);
	snprintf(text, len + 2, "%s\n", line);
	for (size_t cut = 0; cut <= len + 1; cut++) {
		struct report r;
		int rc;
		write_file(dir, name, text, cut);
		char *page = page_of(dir, &r, &rc);
		long rows = metrics ? r.metrics.rows : r.samples.rows;
		long skipped = metrics ? r.metrics.skipped : r.samples.skipped;
		int whole = cut >= len; /* only the whole object is a record */
		CHECK(!rc && page, "%s cut at %zu: no page", name, cut);
		CHECK(rows == whole && skipped == (cut > 0 && !whole), "%s cut at %zu: %ld rows, %ld "
		      "skipped", name, cut, rows, skipped);
		CHECK(!page || (!strstr(page, "<answer>") && !strstr(page, "1<2")), "%s cut at %zu: "
		      "unescaped text", name, cut);
		if (whole && !metrics)
			CHECK(page && strstr(page, "class=\"rhythm\" data-tokens=\"5\""),
			      "the sample's rhythm is drawn");
		if (whole && metrics)
			CHECK(page && strstr(page, "data-key=\"reward_mean\" data-n=\"1\""),
			      "the metrics line is plotted");
		free(page);
		report_free(&r);
	}
	free(text);
}

int main(void)
{
	axis_checks();
	char dir[] = "/tmp/attnrl_test_report_XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	struct report r;
	int rc;
	char *page = page_of(dir, &r, &rc);
	CHECK(rc == -1 && !page, "an empty directory is not a run");
	write_file(dir, "config.yaml", "credit:\n  strategy: coupled\n  fai_lo: 2\n", 40);
	truncations(dir, "samples.jsonl", sample_line, 0);
	truncations(dir, "metrics.jsonl", metrics_line, 1);
	static const char garbage[] = "\n  \n{\"step\": 1.5}\n{\"step\": \"1\"}\n[]\n\x80\xff\n"
				      "{\"step\": 2, \"reward_mean\": \"x\"}\n{\"step\": 1e400}\n";
	write_file(dir, "metrics.jsonl", garbage, sizeof(garbage) - 1);
	page = page_of(dir, &r, &rc);
	CHECK(!rc && r.metrics.rows == 1 && r.metrics.skipped == 5 && r.metrics.first_bad == 3,
	      "garbage: %ld rows, %ld skipped, first at line %ld", r.metrics.rows, r.metrics.skipped,
	      r.metrics.first_bad);
	CHECK(page && strstr(page, "data-skipped=\"5\""), "garbage: the page counts the bad lines");
	free(page);
	report_free(&r);
	/* a long run: one point per step, time bars are means of 3 steps (at most 300 bars) */
	char path[512];
	snprintf(path, sizeof(path), "%s/metrics.jsonl", dir);
	FILE *f = fopen(path, "w");
	for (int s = 1; f && s <= 700; s++)
		fprintf(f, "{\"step\": %d, \"reward_mean\": %g, \"time_rollout_s\": 1, "
			"\"time_step_s\": 2}\n", s, s % 7 / 7.0);
	if (f)
		fclose(f);
	page = page_of(dir, &r, &rc);
	CHECK(!rc && page && strstr(page, "data-key=\"reward_mean\" data-n=\"700\"") &&
	      strstr(page, "data-key=\"time_rollout_s\" data-n=\"234\" data-steps=\"700\"") &&
	      strstr(page, "a bar: the mean of 3 steps"), "700 steps: 700 points, 234 time bars");
	free(page);
	report_free(&r);
	for (const char *const *n = (const char *const[]){ "metrics.jsonl", "samples.jsonl",
							  "config.yaml", "report.html", NULL }; *n; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
	return check_done("test_report_page");
}
