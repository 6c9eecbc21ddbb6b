/*
 * cmd_report.c - `attnrl report RUN_DIR [--out FILE] [--samples N]`: the run's HTML page
 * (report.h), by default RUN_DIR/report.html, written to FILE.tmp and renamed into place.
 */
#include "attnrl/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/report.h"

#define EXIT_USAGE 2
#define REPORT_USAGE "usage: attnrl report RUN_DIR [--out FILE] [--samples N]"

struct report_args {
	const char *run_dir, *out;
	int samples;
};

static int parse_args(struct report_args *a, int argc, char **argv, char *err, size_t n)
{
	memset(a, 0, sizeof(*a));
	a->samples = 6;
	for (int i = 0; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (k[0] != '-' && !a->run_dir) {
			a->run_dir = k;
			continue;
		}
		if (strcmp(k, "--out") && strcmp(k, "--samples")) {
			snprintf(err, n, "unknown argument '%s'; " REPORT_USAGE, k);
			return -1;
		}
		if (!v) {
			snprintf(err, n, "%s needs a value; " REPORT_USAGE, k);
			return -1;
		}
		i++;
		if (!strcmp(k, "--out")) {
			a->out = v;
			continue;
		}
		long s = strtol(v, &end, 10);
		if (*end || end == v || s < 0 || s > 1000) {
			snprintf(err, n, "--samples '%s': expected a count in [0, 1000]", v);
			return -1;
		}
		a->samples = (int)s;
	}
	if (!a->run_dir) {
		snprintf(err, n, "missing RUN_DIR; " REPORT_USAGE);
		return -1;
	}
	return 0;
}

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
	struct report_args a;
	char err[1024], out[1024];
	if (parse_args(&a, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "attnrl report: %s\n", err);
		return EXIT_USAGE;
	}
	if (report_load(&r, a.run_dir, err, sizeof(err))) {
		fprintf(stderr, "attnrl report: %s\n", err);
		return 1;
	}
	snprintf(out, sizeof(out), "%s", a.out ? a.out : "");
	if (!a.out)
		snprintf(out, sizeof(out), "%s/report.html", a.run_dir);
	int rc = write_page(&r, out, a.samples, err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl report: %s\n", err);
	else
		printf("attnrl report: %s (%ld steps, %ld samples; %ld + %ld bad lines skipped)\n", out,
		       r.n_steps, r.n_samples, r.metrics.skipped, r.samples.skipped);
	report_free(&r);
	return rc ? 1 : 0;
}
