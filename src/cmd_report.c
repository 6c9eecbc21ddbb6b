/*
 * cmd_report.c - `attnrl report RUN_DIR [--out FILE] [--samples N] [--watch [SECONDS]]`: the
 * run's HTML page (report.h), by default RUN_DIR/report.html, written as FILE.tmp beside it and
 * renamed into place (fs_write_atomic), so a browser reads the old page or the new one, never
 * a part of one.
 *
 * --watch follows a run in training: every SECONDS it rewrites the page when metrics.jsonl or
 * samples.jsonl changed (size or mtime), with a refresh tag so that an open tab reloads it. It
 * waits while the folder has no metrics.jsonl (a missing or empty folder is a run about to
 * start), and ends with exit 0 after a last page without the refresh tag when no process holds
 * the run's LOCK any more (runlock_held: the run ended, however it ended) or on SIGINT, SIGTERM.
 */
#include "attnrl/commands.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attnrl/errmsg.h"
#include "attnrl/fsutil.h"
#include "attnrl/report.h"
#include "attnrl/runlock.h"
#include "attnrl/stop.h"

#define WATCH_SLICE_NS 100000000L /* a stop ends the wait between two pages within this */

struct report_args {
	const char *run_dir, *out;
	long samples, watch;
};

#define OPT(f) offsetof(struct report_args, f)
static const struct args_opt report_opts[] = {
	{ "RUN_DIR", ARGS_STR, OPT(run_dir), NULL, 0, 0, NULL, ARGS_REQUIRED,
	  "the run's folder, <run.dir>/<run.name>" },
	{ "--out", ARGS_STR, OPT(out), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "the page (default RUN_DIR/report.html)" },
	{ "--samples", ARGS_LONG, OPT(samples), "N", 0, 1000, "6", ARGS_OPTIONAL,
	  "logged samples drawn with their attention rhythm" },
	{ "--watch", ARGS_SWITCH_LONG, OPT(watch), "SECONDS", 1, 86400, "10", ARGS_OPTIONAL,
	  "follow a run in training: a page that reloads itself, rewritten every SECONDS until "
	  "the run ends" },
	{ NULL },
};
const struct args_spec cmd_report_args = {
	"report", "the run as one HTML page with SVG charts (default RUN_DIR/report.html)",
	report_opts
};

/* the page into out via out.tmp; 0 or -1 with one line in err */
static int write_page(const struct report *r, const char *out, int samples, int refresh_s,
		      char *err, size_t n)
{
	char tmp[1100], *page = NULL;
	size_t len = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *f = open_memstream(&page, &len);
	if (!f) {
		snprintf(err, n, "out of memory for the page");
		return -1;
	}
	int rc = report_write_html(r, f, samples, refresh_s, err, n);
	if (fclose(f) && !rc) {
		snprintf(err, n, "out of memory for the page");
		rc = -1;
	}
	if (!rc && fs_write_atomic(out, tmp, page, len)) {
		snprintf(err, n, "cannot write '%.900s': %s (choose another --out FILE)", tmp,
			 strerror(errno));
		rc = -1;
	}
	free(page);
	return rc;
}

static void page_line(const struct report *r, const char *out)
{
	printf("attnrl report: %s (%ld steps, %ld samples; %ld + %ld bad lines skipped)\n", out,
	       r->n_steps, r->n_samples, r->metrics.skipped, r->samples.skipped);
	fflush(stdout);
}

/* the run read (live: it is still writing) and its page written; 0, or 1 with the line printed */
static int report_once(const struct report_args *a, const char *out, int live, int refresh_s,
		       int quiet)
{
	static struct report r;
	char err[1024];
	int rc = live ? report_load_live(&r, a->run_dir, err, sizeof(err))
		      : report_load(&r, a->run_dir, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "attnrl report: %s\n", err);
		return 1;
	}
	rc = write_page(&r, out, (int)a->samples, refresh_s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl report: %s\n", err);
	else if (!quiet)
		page_line(&r, out);
	report_free(&r);
	return rc ? 1 : 0;
}

/* ---- --watch ----------------------------------------------------------------------------- */

/* what the logs looked like: size and mtime of metrics.jsonl and samples.jsonl */
struct logs_stamp {
	long long size[2], mtime_ns[2];
	int has_metrics;
};

static void logs_stamp(const char *dir, struct logs_stamp *s)
{
	static const char *const names[2] = { "metrics.jsonl", "samples.jsonl" };
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 2; i++) {
		char path[1100];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st))
			continue;
		s->size[i] = (long long)st.st_size;
		s->mtime_ns[i] = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		s->has_metrics |= i == 0;
	}
}

static int stamp_same(const struct logs_stamp *x, const struct logs_stamp *y)
{
	return x->has_metrics == y->has_metrics && x->size[0] == y->size[0] &&
	       x->size[1] == y->size[1] && x->mtime_ns[0] == y->mtime_ns[0] &&
	       x->mtime_ns[1] == y->mtime_ns[1];
}

/* 1 when dir holds one of the files a run writes first, or nothing at all */
static int may_be_run(const char *dir)
{
	static const char *const marks[] = { "LOCK", "config.yaml", "metrics.jsonl", "samples.jsonl" };
	char path[1100];
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, marks[i]);
		if (!access(path, F_OK))
			return 1;
	}
	DIR *d = opendir(dir);
	int empty = 1;
	for (struct dirent *de; d && empty && (de = readdir(d));)
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return empty;
}

/* RUN_DIR for --watch: 0 for a run's folder or one that may become one (missing or empty: a run
 * about to start), -1 with err for anything else */
static int watch_check_dir(const char *dir, char *err, size_t n)
{
	struct stat st;
	if (stat(dir, &st))
		return errno == ENOENT ? 0 : err_set(err, n, "run directory '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, n, "'%s' is not a directory; give a run's folder, "
			       "run.dir/run.name (e.g. runs/default)", dir);
	if (!may_be_run(dir))
		return err_set(err, n, "'%s' holds none of LOCK, config.yaml, metrics.jsonl: not a "
			       "run directory; give a run's folder, run.dir/run.name (e.g. runs/default)",
			       dir);
	return 0;
}

/* the wait between two pages, cut short by a stop */
static void watch_sleep(long seconds)
{
	double until = fs_now() + (double)seconds;
	struct timespec slice = { 0, WATCH_SLICE_NS };
	while (!stop_requested() && fs_now() < until)
		nanosleep(&slice, NULL);
}

/* the loop of --watch: 0 when the run ended or a signal came (last page written), else 1 */
static int watch_run(const struct report_args *a, const char *out)
{
	struct logs_stamp seen = { 0 }, now;
	int waiting = 0, written = 0;
	stop_install();
	printf("attnrl report: watching %s: %s every %ld s until the run ends\n", a->run_dir, out,
	       a->watch);
	fflush(stdout);
	for (;;) {
		int held = runlock_held(a->run_dir), stop = stop_requested() != 0;
		if (held < 0) {
			fprintf(stderr, "attnrl report: cannot read '%s/LOCK': %s\n", a->run_dir,
				strerror(errno));
			return 1;
		}
		logs_stamp(a->run_dir, &now); /* after the lock: a run that ended has written all */
		if (!now.has_metrics && !waiting++) {
			printf("attnrl report: waiting for %s/metrics.jsonl\n", a->run_dir);
			fflush(stdout);
		}
		if (!now.has_metrics && stop)
			return 0;
		if (now.has_metrics && (!held || stop))
			return report_once(a, out, held, 0, 0);
		if (now.has_metrics && (!written || !stamp_same(&now, &seen))) {
			if (report_once(a, out, 1, (int)a->watch, 1))
				return 1;
			seen = now;
			written = 1;
		}
		watch_sleep(a->watch);
	}
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = { 0 };
	char err[1024], out[1024];
	int rc = args_parse(&cmd_report_args, &a, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_report_args, rc, err);
	snprintf(out, sizeof(out), "%s", a.out ? a.out : "");
	if (!a.out)
		snprintf(out, sizeof(out), "%s/report.html", a.run_dir);
	if (!a.watch)
		return report_once(&a, out, 0, 0, 0);
	if (watch_check_dir(a.run_dir, err, sizeof(err)))
		return args_exit(&cmd_report_args, -1, err);
	return watch_run(&a, out);
}
