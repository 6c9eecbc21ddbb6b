/*
 * cmd_report.c - `attnrl report RUN_DIR [--out FILE] [--samples N]`: the run's HTML page
 * (report.h), by default RUN_DIR/report.html, written to FILE.tmp and renamed into place.
 */
#include "attnrl/commands.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/report.h"

struct report_args {
	const char *run_dir, *out;
	long samples;
};

#define OPT(f) offsetof(struct report_args, f)
static const struct args_opt report_opts[] = {
	{ "RUN_DIR", ARGS_STR, OPT(run_dir), NULL, 0, 0, NULL, ARGS_REQUIRED,
	  "the run's folder, <run.dir>/<run.name>" },
	{ "--out", ARGS_STR, OPT(out), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "the page (default RUN_DIR/report.html)" },
	{ "--samples", ARGS_LONG, OPT(samples), "N", 0, 1000, "6", ARGS_OPTIONAL,
	  "logged samples drawn with their attention rhythm" },
	{ NULL },
};
const struct args_spec cmd_report_args = {
	"report", "the run as one HTML page with SVG charts (default RUN_DIR/report.html)",
	report_opts
};

/* the page into out via out.tmp; 0 or -1 with one line in err */
static int write_page(const struct report *r, const char *out, int samples, char *err, size_t n)
{
	char tmp[1100];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, n, "cannot write '%.900s': %s (choose another --out FILE)", tmp, strerror(errno));
		return -1;
	}
	int rc = report_write_html(r, f, samples, err, n);
	if (fclose(f) && !rc) {
		snprintf(err, n, "cannot write '%.900s': %s", tmp, strerror(errno));
		rc = -1;
	}
	if (!rc && rename(tmp, out)) {
		snprintf(err, n, "cannot rename '%.450s' to '%.450s': %s", tmp, out, strerror(errno));
		rc = -1;
	}
	if (rc)
		remove(tmp);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	static struct report r;
	struct report_args a = { 0 };
	char err[1024], out[1024];
	int rc = args_parse(&cmd_report_args, &a, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_report_args, rc, err);
	if (report_load(&r, a.run_dir, err, sizeof(err))) {
		fprintf(stderr, "attnrl report: %s\n", err);
		return 1;
	}
	snprintf(out, sizeof(out), "%s", a.out ? a.out : "");
	if (!a.out)
		snprintf(out, sizeof(out), "%s/report.html", a.run_dir);
	rc = write_page(&r, out, (int)a.samples, err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl report: %s\n", err);
	else
		printf("attnrl report: %s (%ld steps, %ld samples; %ld + %ld bad lines skipped)\n", out,
		       r.n_steps, r.n_samples, r.metrics.skipped, r.samples.skipped);
	report_free(&r);
	return rc ? 1 : 0;
}
