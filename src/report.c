/*
 * report.c - reads a run directory for `attnrl report` (see report.h): config.yaml into a
 * config (defaults when absent or unreadable, with the reason kept), every good line of
 * metrics.jsonl into a (rows, keys) table, and where each good line of samples.jsonl is.
 */
#include "attnrl/report.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attnrl/json.h"

const char *const report_keys[RK_COUNT] = {
	"reward_mean", "accuracy", "eval_accuracy", "eval_reward_mean", "response_len_mean",
	"entropy", "clip_frac", "gamma_mean", "frac_preplan", "frac_anchor", "frac_dominated",
	"frac_intro", "loss", "grad_norm", "kl", "logp_mismatch", "rollout_tokens_per_s",
	"time_rollout_s", "time_credit_s", "time_update_s", "time_step_s",
};

/* room for one more row / sample (doubling) */
static int grow(void **p, long *cap, long need, size_t each)
{
	if (need <= *cap)
		return 0;
	long c = *cap ? *cap * 2 : 64;
	void *q = realloc(*p, (size_t)c * each);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static void bad_line(struct report_file *rf, long line, const char *why)
{
	if (!rf->skipped++) {
		rf->first_bad = line;
		snprintf(rf->why, sizeof(rf->why), "%s", why);
	}
}

/* a parsed line as a logged record: an object with an integer step; NULL after bad_line */
static struct json *record(struct report_file *rf, const char *text, size_t len, long line,
			   int64_t *step)
{
	char err[160];
	struct json *j = json_parse(text, len, err, sizeof(err));
	if (!j) {
		bad_line(rf, line, err);
		return NULL;
	}
	if (json_type(j) != JSON_OBJECT || json_int(json_get(j, "step"), step)) {
		bad_line(rf, line, json_type(j) != JSON_OBJECT ? "not a JSON object"
								: "no integer \"step\"");
		json_free(j);
		return NULL;
	}
	return j;
}

static int blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

typedef int (*line_fn)(struct report *r, struct json *j, int64_t step, long line, long off,
		       long len);

/* every line of dir/name through fn; a missing file is noted, not an error */
static int read_jsonl(struct report *r, const char *name, struct report_file *rf, line_fn fn,
		      char *err, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		rf->missing = errno == ENOENT;
		if (rf->missing)
			return 0;
		snprintf(err, n, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t got;
	long line = 0, off = 0;
	int rc = 0;
	while (!rc && (got = getline(&buf, &cap, f)) >= 0) {
		if (r->live && buf[got - 1] != '\n')
			break; /* the row the run is writing */
		line++;
		int64_t step;
		struct json *j = blank(buf, (size_t)got) ? NULL : record(rf, buf, (size_t)got, line, &step);
		if (j) {
			rf->rows++;
			rc = fn(r, j, step, line, off, (long)got);
			json_free(j);
		}
		off += (long)got;
	}
	if (!rc && ferror(f))
		rc = -1;
	if (rc)
		snprintf(err, n, "cannot read '%s': %s", path, errno ? strerror(errno) : "out of memory");
	free(buf);
	fclose(f);
	return rc;
}

static int metrics_row(struct report *r, struct json *j, int64_t step, long line, long off,
		       long len)
{
	long cap = r->cap_rows;
	(void)line, (void)off, (void)len;
	if (grow((void **)&r->step, &cap, r->n_rows + 1, sizeof(long)) ||
	    grow((void **)&r->val, &r->cap_rows, r->n_rows + 1, RK_COUNT * sizeof(double)))
		return -1;
	double *v = r->val + (size_t)r->n_rows * RK_COUNT;
	for (int k = 0; k < RK_COUNT; k++) {
		double x = json_num(json_get(j, report_keys[k]));
		v[k] = isfinite(x) ? x : NAN;
	}
	r->step[r->n_rows++] = (long)step;
	if (step >= 1 && !r->n_steps++)
		r->first_step = (long)step;
	return 0;
}

static int sample_row(struct report *r, struct json *j, int64_t step, long line, long off,
		      long len)
{
	if (grow((void **)&r->sample, &r->cap_samples, r->n_samples + 1, sizeof(*r->sample)))
		return -1;
	struct report_sample *s = &r->sample[r->n_samples++];
	s->step = (long)step;
	s->line = line;
	s->offset = off;
	s->len = len;
	s->detail = json_type(json_get(j, "tokens")) == JSON_ARRAY;
	return 0;
}

static void load_config(struct report *r)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/config.yaml", r->dir);
	config_init(&r->cfg);
	r->has_cfg = !config_load_file(&r->cfg, path, r->cfg_err, sizeof(r->cfg_err));
	if (!r->has_cfg)
		config_init(&r->cfg); /* a half-applied file would mislead */
}

static int load(struct report *r, const char *dir, int live, char *err, size_t n)
{
	struct stat st;
	memset(r, 0, sizeof(*r));
	r->live = live;
	errno = 0;
	if (strlen(dir) >= sizeof(r->dir)) {
		snprintf(err, n, "run directory path too long (%zu bytes)", strlen(dir));
		return -1;
	}
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, n, "run directory '%s': %s; give the run.dir/run.name of a train run, "
			 "e.g. runs/default", dir, errno ? strerror(errno) : "not a directory");
		return -1;
	}
	load_config(r);
	if (read_jsonl(r, "metrics.jsonl", &r->metrics, metrics_row, err, n) ||
	    read_jsonl(r, "samples.jsonl", &r->samples, sample_row, err, n)) {
		report_free(r);
		return -1;
	}
	if (r->metrics.missing && r->samples.missing) {
		snprintf(err, n, "'%s' holds no metrics.jsonl nor samples.jsonl: not a run directory "
			 "(attnrl train writes them into run.dir/run.name, e.g. runs/default)", dir);
		report_free(r);
		return -1;
	}
	return 0;
}

int report_load(struct report *r, const char *dir, char *err, size_t n)
{
	return load(r, dir, 0, err, n);
}

int report_load_live(struct report *r, const char *dir, char *err, size_t n)
{
	return load(r, dir, 1, err, n);
}

void report_free(struct report *r)
{
	free(r->step);
	free(r->val);
	free(r->sample);
	r->step = NULL;
	r->val = NULL;
	r->sample = NULL;
	r->n_rows = r->n_steps = r->n_samples = r->cap_rows = r->cap_samples = 0;
}
