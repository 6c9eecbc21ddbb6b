/*
 * report_html.c - the page of `attnrl report` (see report.h): a header saying what the run
 * was and what could not be read, the metric charts (report_plot.h), the time per phase, and the
 * attention rhythm of a few logged samples (report_rhythm.h). All text from the run (prompts,
 * responses, tokens, paths, config strings) goes through svg_escape.
 */
#include "attnrl/report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/credit.h"
#include "attnrl/json.h"
#include "attnrl/report_plot.h"
#include "attnrl/report_rhythm.h"
#include "attnrl/report_svg.h"

#define TIME_BARS 300 /* more steps than this: bars are means over runs of steps */

static const char *const css =
	"body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:20px 24px;color:#222;"
	"background:#fff}\n"
	"h1{font-size:21px;margin:0 0 6px}h2{font-size:16px;margin:22px 0 8px}\n"
	"p{margin:4px 0;font-size:13px}.meta{color:#444}\n"
	".warn{background:#fff3cd;border:1px solid #e0c36b;padding:4px 8px;display:inline-block}\n"
	".grid{display:flex;flex-wrap:wrap;gap:10px;max-width:940px}\n"
	"svg.plot{border:1px solid #ddd}\n"
	".sample{margin:14px 0 22px}.scroll{overflow-x:auto}\n"
	"pre{white-space:pre-wrap;word-break:break-all;background:#f5f5f5;padding:5px 8px;"
	"margin:3px 0;font-size:12px;max-width:940px}\n"
	"table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px;text-align:right}"
	"th{border-bottom:1px solid #999}\n";

/* the finite values of key k as (step, value) points into x, y (n_rows each); returns n */
static int points(const struct report *r, int k, double *x, double *y)
{
	int n = 0;
	for (long i = 0; i < r->n_rows; i++) {
		double v = r->val[(size_t)i * RK_COUNT + k];
		if (isfinite(v))
			x[n] = (double)r->step[i], y[n++] = v;
	}
	return n;
}

/* ---- header ------------------------------------------------------------------------------ */

static void file_note(FILE *f, const char *name, const struct report_file *rf)
{
	if (rf->missing) {
		fprintf(f, "<p class=\"warn\" data-file=\"%s\" data-skipped=\"0\">%s: not found "
			"(nothing of it is shown)</p>\n", name, name);
		return;
	}
	if (!rf->skipped)
		return;
	fprintf(f, "<p class=\"warn\" data-file=\"%s\" data-skipped=\"%ld\">%s: %ld bad line%s "
		"skipped (first: line %ld: ", name, rf->skipped, name, rf->skipped,
		rf->skipped == 1 ? "" : "s", rf->first_bad);
	svg_escape(f, rf->why);
	fputs(")</p>\n", f);
}

static void header(FILE *f, const struct report *r)
{
	const struct config *c = &r->cfg;
	fputs("<h1>attnrl report: ", f);
	svg_escape(f, r->has_cfg ? c->run.name : r->dir);
	fputs("</h1>\n<p class=\"meta\">run directory <code>", f);
	svg_escape(f, r->dir);
	fputs("</code>", f);
	if (r->has_cfg) {
		fprintf(f, "; task %s, model %s (%ld layers, dim %ld%s", c->data.task, c->model.arch,
			c->model.n_layers, c->model.dim, c->model.path[0] ? ", from " : ", random init");
		svg_escape(f, c->model.path);
		fprintf(f, "), %ld prompts x %ld responses a step, credit.strategy %s",
			c->rollout.prompts_per_step, c->rollout.group_size, c->credit.strategy);
	}
	fputs("</p>\n<p class=\"meta\">", f);
	if (r->n_steps)
		fprintf(f, "%ld steps logged (steps %ld to %ld", r->n_steps, r->first_step,
			r->step[r->n_rows - 1]);
	else
		fputs("no step logged (", f);
	if (r->has_cfg)
		fprintf(f, " of train.steps = %ld", c->train.steps);
	fprintf(f, "), %ld samples logged</p>\n", r->n_samples);
	if (!r->has_cfg) {
		fputs("<p class=\"warn\">config.yaml: ", f);
		svg_escape(f, r->cfg_err);
		fputs(" (the defaults are assumed)</p>\n", f);
	}
	file_note(f, "metrics.jsonl", &r->metrics);
	file_note(f, "samples.jsonl", &r->samples);
}

/* ---- charts ------------------------------------------------------------------------------ */

struct chart {
	const char *id, *title;
	int from_zero;
	int keys[4], n_keys;
	const char *labels[4];
	const char *empty;
};

static const char *const colors[] = { "#1f77b4", "#e6550d", "#2ca25f", "#7b4fbf" };

static int chart(FILE *f, const struct report *r, const struct chart *ch, double *buf)
{
	struct plot_series s[4];
	for (int i = 0; i < ch->n_keys; i++) {
		double *x = buf + (size_t)2 * i * r->n_rows, *y = x + r->n_rows;
		s[i] = (struct plot_series){ report_keys[ch->keys[i]], ch->labels[i], colors[i], x, y,
					     points(r, ch->keys[i], x, y) };
	}
	struct plot p = { ch->id, ch->title, ch->empty, ch->from_zero, INFINITY, -INFINITY,
			  ch->n_keys, s };
	for (long i = 0; i < r->n_rows; i++) /* every chart over the run's steps */
		p.x_lo = fmin(p.x_lo, r->step[i]), p.x_hi = fmax(p.x_hi, r->step[i]);
	return plot_lines(f, &p);
}

static int charts(FILE *f, const struct report *r)
{
	const struct config *c = &r->cfg;
	const char *no_credit = r->has_cfg && !strcmp(c->credit.strategy, "none") ?
		"credit.strategy none: no attention statistics" : "no credit metrics logged";
	const char *no_eval = r->has_cfg && !c->train.eval_every ? "eval off (train.eval_every = 0)"
		: "no eval logged yet";
	const struct chart list[] = {
		{ "reward", "reward (mean over the step's responses)", 1, { RK_REWARD }, 1, { 0 }, 0 },
		{ "accuracy", "accuracy (training responses)", 1, { RK_ACCURACY }, 1, { 0 }, 0 },
		{ "eval_accuracy", "eval accuracy (held-out, avg@eval.k)", 1, { RK_EVAL_ACCURACY }, 1,
		  { 0 }, no_eval },
		{ "response_len", "response length (tokens, mean)", 1, { RK_LEN }, 1, { 0 }, 0 },
		{ "entropy", "entropy (nats per response token)", 1, { RK_ENTROPY }, 1, { 0 }, 0 },
		{ "clip_frac", "clip fraction (PPO ratio outside the clip)", 1, { RK_CLIP }, 1, { 0 }, 0 },
		{ "gamma", "gamma (mean over response tokens)", 0, { RK_GAMMA }, 1, { 0 }, no_credit },
		{ "sets", "tokens in each set (fraction)", 1,
		  { RK_FRAC_PREPLAN, RK_FRAC_ANCHOR, RK_FRAC_DOMINATED, RK_FRAC_INTRO }, 4,
		  { "preplan", "anchor", "dominated", "intro" }, no_credit },
		{ "loss", "loss", 0, { RK_LOSS }, 1, { 0 }, 0 },
		{ "grad_norm", "gradient norm (before clipping)", 1, { RK_GRAD_NORM }, 1, { 0 }, 0 },
		{ "logp_mismatch", "|rollout - training log-prob| (mean)", 1, { RK_LOGP_MISMATCH }, 1,
		  { 0 }, 0 },
		{ "tokens_per_s", "rollout tokens per second", 1, { RK_TOKENS_PER_S }, 1, { 0 }, 0 },
	};
	double *buf = malloc(sizeof(double) * 8 * (r->n_rows ? r->n_rows : 1));
	if (!buf)
		return -1;
	int rc = 0;
	fputs("<h2>Training</h2>\n<div class=\"grid\">\n", f);
	for (size_t i = 0; !rc && i < sizeof(list) / sizeof(list[0]); i++)
		rc = chart(f, r, &list[i], buf);
	fputs("</div>\n", f);
	free(buf);
	return rc;
}

/* ---- time per phase ---------------------------------------------------------------------- */

enum { PH_ROLLOUT, PH_CREDIT, PH_UPDATE, PH_OTHER, PH_COUNT };

/* phase times of row i (other = step - the rest, >= 0); 0 when the row has no step time */
static int phases(const struct report *r, long i, double *t)
{
	const double *v = r->val + (size_t)i * RK_COUNT;
	if (!isfinite(v[RK_T_STEP]))
		return 0;
	t[PH_ROLLOUT] = isfinite(v[RK_T_ROLLOUT]) ? fmax(v[RK_T_ROLLOUT], 0) : 0;
	t[PH_CREDIT] = isfinite(v[RK_T_CREDIT]) ? fmax(v[RK_T_CREDIT], 0) : 0;
	t[PH_UPDATE] = isfinite(v[RK_T_UPDATE]) ? fmax(v[RK_T_UPDATE], 0) : 0;
	t[PH_OTHER] = fmax(v[RK_T_STEP] - t[PH_ROLLOUT] - t[PH_CREDIT] - t[PH_UPDATE], 0);
	return 1;
}

static void time_table(FILE *f, const double *total, long steps)
{
	static const char *const names[PH_COUNT] = { "rollout", "credit", "update", "other" };
	double all = 0;
	for (int k = 0; k < PH_COUNT; k++)
		all += total[k];
	fputs("<table id=\"time-table\"><tr><th>phase</th><th>total s</th><th>s per step</th>"
	      "<th>share</th></tr>\n", f);
	for (int k = 0; k < PH_COUNT; k++)
		fprintf(f, "<tr><td>%s</td><td>%.2f</td><td>%.4f</td><td>%.1f%%</td></tr>\n", names[k],
			total[k], steps ? total[k] / steps : 0, all > 0 ? 100 * total[k] / all : 0);
	fprintf(f, "<tr><td>step</td><td>%.2f</td><td>%.4f</td><td></td></tr></table>\n", all,
		steps ? all / steps : 0);
}

static int time_chart(FILE *f, const struct report *r)
{
	long n = 0, bars, per;
	for (long i = 0; i < r->n_rows; i++)
		n += isfinite(r->val[(size_t)i * RK_COUNT + RK_T_STEP]);
	per = n > TIME_BARS ? (n + TIME_BARS - 1) / TIME_BARS : 1;
	bars = (n + per - 1) / per;
	double *x = calloc((size_t)(bars ? bars : 1) * (PH_COUNT + 1), sizeof(double));
	if (!x)
		return -1;
	double total[PH_COUNT] = { 0 }, t[PH_COUNT], *y = x + (bars ? bars : 1);
	long b = 0, in_bar = 0;
	for (long i = 0; i < r->n_rows; i++) {
		if (!phases(r, i, t))
			continue;
		x[b] += r->step[i];
		for (int k = 0; k < PH_COUNT; k++)
			y[(size_t)k * bars + b] += t[k], total[k] += t[k];
		if (++in_bar == per || i == r->n_rows - 1) {
			x[b] /= in_bar;
			for (int k = 0; k < PH_COUNT; k++)
				y[(size_t)k * bars + b] /= in_bar;
			b++, in_bar = 0;
		}
	}
	if (in_bar) { /* the last bar ended on a row without times */
		x[b] /= in_bar;
		for (int k = 0; k < PH_COUNT; k++)
			y[(size_t)k * bars + b] /= in_bar;
	}
	const struct plot_part parts[PH_COUNT] = {
		{ "time_rollout_s", "rollout", "#1f77b4", y },
		{ "time_credit_s", "credit", "#7b4fbf", y + bars },
		{ "time_update_s", "update", "#e6550d", y + 2 * bars },
		{ "time_other_s", "other", "#9a9a9a", y + 3 * bars },
	};
	fputs("<h2>Time per phase</h2>\n<div class=\"grid\">\n", f);
	char title[96];
	snprintf(title, sizeof(title), per > 1 ? "seconds per step (a bar: the mean of %ld steps)"
		 : "seconds per step", per);
	int rc = plot_stacked(f, "time", title, x, (int)bars, parts, PH_COUNT, n);
	fputs("<div>", f);
	time_table(f, total, n);
	fputs("</div></div>\n", f);
	free(x);
	return rc;
}

/* ---- samples ----------------------------------------------------------------------------- */

/* per-token arrays of one logged sample, as rhythmsvg wants them */
struct detail {
	int R;
	const struct json *tokens;
	float *waad, *fai, *gamma, *delta; /* (R) each, one block */
	uint8_t *fai_ok, *sets;            /* (R) each, one block */
};

static const char *token_piece(const void *ctx, int r, int *len)
{
	const struct json *t = json_at(ctx, (size_t)r);
	*len = (int)json_str_len(t);
	return json_str(t);
}

/* key's array of R numbers into out (non-numbers -> 0); -1 when absent or of another length */
static int floats(const struct json *j, const char *key, int R, float *out)
{
	const struct json *a = json_get(j, key);
	if (json_type(a) != JSON_ARRAY || json_len(a) != (size_t)R)
		return -1;
	for (int i = 0; i < R; i++) {
		double v = json_num(json_at(a, (size_t)i));
		out[i] = isfinite(v) ? (float)v : 0.0f;
	}
	return 0;
}

static void mark(const struct json *j, const char *key, int R, uint8_t flag, uint8_t *sets)
{
	const struct json *a = json_get(j, key);
	for (size_t i = 0; i < json_len(a); i++) {
		int64_t t;
		if (!json_int(json_at(a, i), &t) && t >= 0 && t < R)
			sets[t] |= flag;
	}
}

/* -1 with why set when the record's per-token fields do not fit together */
static int detail_of(struct detail *d, const struct json *j, const struct config *c,
		     const char **why)
{
	memset(d, 0, sizeof(*d));
	d->tokens = json_get(j, "tokens");
	d->R = (int)json_len(d->tokens);
	size_t R = (size_t)d->R ? (size_t)d->R : 1;
	d->waad = malloc(4 * R * sizeof(float));
	d->sets = calloc(2 * R, 1);
	if (!d->waad || !d->sets) {
		*why = "out of memory";
		return -1;
	}
	d->fai = d->waad + R, d->gamma = d->fai + R, d->delta = d->gamma + R, d->fai_ok = d->sets + R;
	if (floats(j, "waad", d->R, d->waad) || floats(j, "fai", d->R, d->fai) ||
	    floats(j, "gamma", d->R, d->gamma)) {
		*why = "its waad / fai / gamma arrays do not have one value per token";
		return -1;
	}
	if (floats(j, "delta", d->R, d->delta))
		d->delta = NULL; /* logs from before delta was logged: no introducer arcs */
	mark(j, "preplan", d->R, CREDIT_IN_LOC, d->sets);
	mark(j, "anchor", d->R, CREDIT_IN_GLOB, d->sets);
	mark(j, "dominated", d->R, CREDIT_IN_D, d->sets);
	mark(j, "intro", d->R, CREDIT_IN_I, d->sets);
	/* T(t) = [t + H_lo, min(t + H_hi, R - 1)] (credit_stats.c) */
	for (int t = 0; t < d->R; t++)
		d->fai_ok[t] = c->credit.fai_lo <= c->credit.fai_hi && t + c->credit.fai_lo <= d->R - 1;
	return 0;
}

static void detail_free(struct detail *d)
{
	free(d->waad);
	free(d->sets);
}

static void rhythm(FILE *f, const struct report *r, const struct json *j)
{
	const struct config *c = &r->cfg;
	struct detail d;
	const char *why = NULL;
	enum credit_strategy st = CREDIT_NONE;
	if (detail_of(&d, j, c, &why)) {
		fputs("<p class=\"warn\">not drawn: ", f);
		svg_escape(f, why);
		fputs("</p>\n", f);
		detail_free(&d);
		return;
	}
	credit_strategy_parse(c->credit.strategy, &st);
	struct rhythmsvg v = {
		.R = d.R, .P = -1, .piece = token_piece, .ctx = d.tokens, .waad = d.waad, .fai = d.fai,
		.gamma = d.gamma, .delta = d.delta, .fai_ok = d.fai_ok, .sets = d.sets,
		.shown = st == CREDIT_NONE ? CREDIT_COUPLED : st, .gamma_none = st == CREDIT_NONE,
		.window = (int)c->credit.window, .fai_lo = (int)c->credit.fai_lo,
		.fai_hi = (int)c->credit.fai_hi, .k = (int)c->credit.k,
	};
	rhythmsvg_plan(&v, 18);
	fprintf(f, "<div class=\"scroll\"><svg class=\"rhythm\" data-tokens=\"%d\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" fill=\"%s\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", d.R, v.W, v.H, v.W, v.H,
		SVG_FONT, SVG_INK);
	rhythmsvg_draw(&v, f);
	fputs("</svg></div>\n", f);
	detail_free(&d);
}

/* line s of samples.jsonl again, parsed; NULL when it changed since report_load */
static struct json *reread(FILE *in, const struct report_sample *s)
{
	char *buf = malloc((size_t)s->len + 1);
	struct json *j = NULL;
	char err[8];
	if (buf && !fseek(in, s->offset, SEEK_SET) && fread(buf, 1, (size_t)s->len, in) == (size_t)s->len)
		j = json_parse(buf, (size_t)s->len, err, sizeof(err));
	free(buf);
	return j;
}

static void sample(FILE *f, const struct report *r, FILE *in, const struct report_sample *s)
{
	struct json *j = reread(in, s);
	fprintf(f, "<div class=\"sample\" data-step=\"%ld\">\n", s->step);
	if (!j) {
		fprintf(f, "<p class=\"warn\">samples.jsonl line %ld changed while it was read</p>"
			"</div>\n", s->line);
		return;
	}
	int correct = json_bool(json_get(j, "correct"));
	char num[32];
	svg_num(num, sizeof(num), json_num(json_get(j, "reward")));
	fprintf(f, "<p><b>step %ld</b>, reward %s%s (samples.jsonl line %ld)</p>\n<pre>", s->step,
		num, correct == 1 ? ", correct" : correct == 0 ? ", wrong" : "", s->line);
	svg_escape_n(f, json_str(json_get(j, "prompt")), json_str_len(json_get(j, "prompt")));
	fputs("</pre>\n<pre>", f);
	svg_escape_n(f, json_str(json_get(j, "response")), json_str_len(json_get(j, "response")));
	fputs("</pre>\n", f);
	if (s->detail)
		rhythm(f, r, j);
	fputs("</div>\n", f);
	json_free(j);
}

static int samples(FILE *f, const struct report *r, int max_samples, char *err, size_t n)
{
	long nd = 0, m, *pick;
	for (long i = 0; i < r->n_samples; i++)
		nd += r->sample[i].detail;
	int detail = nd > 0;
	long nc = detail ? nd : r->n_samples;
	m = nc < max_samples ? nc : max_samples;
	fputs("<h2>Logged samples and their attention rhythm</h2>\n", f);
	if (!detail)
		fprintf(f, "<p class=\"meta\">%s</p>\n", r->samples.missing ? "no samples.jsonl"
			: !r->n_samples ? "no sample logged (train.samples_per_step = 0, or no step yet)"
			: "no per-token statistics in samples.jsonl (credit.strategy none): the text only");
	else
		fprintf(f, "<p class=\"meta\">%ld of %ld samples with per-token statistics, spread over "
			"the run; hover a token for its numbers</p>\n", m, nd);
	if (m <= 0)
		return 0;
	char path[1024];
	snprintf(path, sizeof(path), "%s/samples.jsonl", r->dir);
	FILE *in = fopen(path, "rb");
	pick = malloc((size_t)nc * sizeof(long));
	if (!in || !pick) {
		snprintf(err, n, "cannot read '%s' again", path);
		free(pick);
		if (in)
			fclose(in);
		return -1;
	}
	for (long i = 0, k = 0; i < r->n_samples; i++)
		if (!detail || r->sample[i].detail)
			pick[k++] = i;
	for (long q = 0; q < m; q++) {
		long at = m == 1 ? nc - 1 : (long)llround((double)q * (nc - 1) / (m - 1));
		sample(f, r, in, &r->sample[pick[at]]);
	}
	free(pick);
	fclose(in);
	return 0;
}

int report_write_html(const struct report *r, FILE *f, int max_samples, int refresh_s,
		      char *err, size_t n)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
	if (refresh_s > 0)
		fprintf(f, "<meta http-equiv=\"refresh\" content=\"%d\">\n", refresh_s);
	fputs("<title>attnrl report: ", f);
	svg_escape(f, r->has_cfg ? r->cfg.run.name : r->dir);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	header(f, r);
	if (refresh_s > 0)
		fprintf(f, "<p class=\"warn\" data-watch=\"%d\">the run is training: this page is "
			"rewritten as it logs and reloads itself every %d s</p>\n", refresh_s, refresh_s);
	if (charts(f, r) || time_chart(f, r)) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	if (samples(f, r, max_samples, err, n))
		return -1;
	fputs("<p class=\"meta\">written by <code>attnrl report</code>: no script, no external "
	      "resource</p>\n</body>\n</html>\n", f);
	if (ferror(f)) {
		snprintf(err, n, "write error");
		return -1;
	}
	return 0;
}
