/*
 * cmd_analyze_html.c - `attnrl analyze --html FILE`: the results as one HTML page in the run
 * report's style (no script, no external resource). One inline SVG per linkage (each third's
 * value with its interval, its baseline beside it as a red bar with its own interval), one for
 * the lifts (1 marked), one for the peak densities (the paper's implied 20% and 22% marked) and
 * one for the perturbation (the paper's 0.534 and 0.631 marked), then the text table. Every
 * drawn number carries data-v (and the SVG data-n), so a test can read the picture back.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/report_svg.h"

#include "cmd_analyze_internal.h"

#define AH_W 456
#define AH_H 230
#define AH_ML 58.0
#define AH_MR 14.0
#define AH_MT 44.0
#define AH_MB 30.0
#define AH_VALUE "#1f77b4"
#define AH_BASE "#d62728"
#define AH_REF "#888888"
#define AH_SLOT 84 /* pixels per category, at least */

/* one category: a value with its interval, and optionally a baseline with its own */
struct ah_item {
	const char *label;
	double v, lo, hi;
	double b, b_lo, b_hi; /* NAN: no baseline */
};

struct ah_chart {
	const char *id, *title, *caption;
	const struct ah_item *items;
	int n;
	const double *refs; /* horizontal reference lines */
	const char *const *ref_labels;
	int n_refs;
};

struct ah_frame {
	double y0, y1, ystep, pw, ph;
	int w; /* the picture's width: room for every category's label */
};

static double ah_y(const struct ah_frame *fr, double v)
{
	return AH_MT + fr->ph - (v - fr->y0) / (fr->y1 - fr->y0) * fr->ph;
}

static void ah_range(const struct ah_chart *c, double *lo, double *hi)
{
	*lo = INFINITY, *hi = -INFINITY;
	for (int i = 0; i < c->n; i++) {
		const double v[6] = { c->items[i].v, c->items[i].lo, c->items[i].hi, c->items[i].b,
				      c->items[i].b_lo, c->items[i].b_hi };
		for (int j = 0; j < 6; j++)
			if (isfinite(v[j]))
				*lo = fmin(*lo, v[j]), *hi = fmax(*hi, v[j]);
	}
	for (int j = 0; j < c->n_refs; j++)
		*lo = fmin(*lo, c->refs[j]), *hi = fmax(*hi, c->refs[j]);
	if (*lo > *hi)
		*lo = 0, *hi = 1;
	*lo = fmin(*lo, 0);
}

static void ah_axes(FILE *f, const struct ah_frame *fr)
{
	svg_y_grid(f, AH_ML, AH_MT, fr->pw, fr->ph, fr->y0, fr->y1, fr->ystep);
	fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"%s\"/>\n", AH_ML, AH_MT,
		AH_MT + fr->ph, AH_ML + fr->pw, SVG_INK);
}

/* a point at x with its interval; key names it for data-key */
static void ah_mark(FILE *f, const struct ah_frame *fr, double x, double v, double lo, double hi,
		    const char *key, const char *color, int bar)
{
	if (!isfinite(v))
		return;
	if (isfinite(lo) && isfinite(hi))
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"1.5\"/>\n", x, ah_y(fr, lo), x, ah_y(fr, hi), color);
	if (bar)
		fprintf(f, "<rect data-key=\"%s\" data-v=\"%.17g\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
			"height=\"3\" fill=\"%s\"/>\n", key, v, x - 7, ah_y(fr, v) - 1.5, color);
	else
		fprintf(f, "<circle data-key=\"%s\" data-v=\"%.17g\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
			"fill=\"%s\"/>\n", key, v, x, ah_y(fr, v), color);
}

static void ah_chart(FILE *f, const struct ah_chart *c)
{
	struct ah_frame fr;
	double lo, hi;
	ah_range(c, &lo, &hi);
	svg_axis(lo, hi, 4, &fr.y0, &fr.y1, &fr.ystep);
	fr.w = AH_ML + AH_MR + c->n * AH_SLOT > AH_W ? (int)(AH_ML + AH_MR) + c->n * AH_SLOT : AH_W;
	fr.pw = fr.w - AH_ML - AH_MR, fr.ph = AH_H - AH_MT - AH_MB;
	fprintf(f, "<svg class=\"plot\" id=\"plot-%s\" data-n=\"%d\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"%s\" fill=\"%s\" role=\"img\"><title>", c->id,
		c->n, fr.w, AH_H, fr.w, AH_H, SVG_FONT, SVG_INK);
	svg_escape(f, c->title);
	fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	svg_text(f, 8, 16, "font-size=\"13\" font-weight=\"bold\"", c->title);
	svg_text(f, 8, 32, "font-size=\"10.5\" fill=\"#555\"", c->caption);
	ah_axes(f, &fr);
	for (int j = 0; j < c->n_refs; j++) {
		double y = ah_y(&fr, c->refs[j]);
		fprintf(f, "<line data-key=\"ref\" data-v=\"%.17g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>\n", c->refs[j], AH_ML, y,
			AH_ML + fr.pw, y, AH_REF);
		if (j % 2) /* neighbouring lines: their labels at opposite ends */
			svg_text(f, AH_ML + 4, y - 3, "font-size=\"10\" fill=\"#888\"", c->ref_labels[j]);
		else
			svg_text(f, AH_ML + fr.pw - 2, y - 3,
				 "font-size=\"10\" fill=\"#888\" text-anchor=\"end\"", c->ref_labels[j]);
	}
	for (int i = 0; i < c->n; i++) {
		const struct ah_item *it = &c->items[i];
		double x = AH_ML + (i + 0.5) * fr.pw / c->n, dx = isnan(it->b) ? 0 : 10;
		ah_mark(f, &fr, x - dx, it->v, it->lo, it->hi, "value", AH_VALUE, 0);
		ah_mark(f, &fr, x + dx, it->b, it->b_lo, it->b_hi, "baseline", AH_BASE, 1);
		svg_text(f, x, AH_MT + fr.ph + 15, "font-size=\"10.5\" text-anchor=\"middle\"", it->label);
	}
	fputs("</svg>\n", f);
}

static const char *const ah_css =
	"body { font-family: " SVG_FONT "; color: " SVG_INK "; margin: 24px; max-width: 980px; }\n"
	"h1 { font-size: 20px; } .meta { color: #555; font-size: 13px; }\n"
	"svg.plot { margin: 6px 10px 6px 0; border: 1px solid #ddd; }\n"
	"pre { font-size: 12px; background: #f7f7f7; padding: 8px; overflow-x: auto; }\n";

/* the three linkages, each third's value against its baseline */
static void ah_linkages(FILE *f, const struct analyze_linkages *link, const char *const *labels)
{
	static const char *const ids[3] = { "entropy", "receiver", "follow" };
	static const char *const titles[3] = {
		"Entropy at WAAD peaks", "Receiver FAI peaks among global peaks",
		"FAI peaks at or after a WAAD peak" };
	static const char *const caps[3] = {
		"mean entropy at WAAD peaks (blue) vs over all tokens (red)",
		"share of receiver peaks that are global (blue) vs global density (red)",
		"share at/after a WAAD peak (blue) vs shuffled peaks (red)" };
	struct ah_item it[AN_THIRDS], lift[3 * AN_THIRDS];
	char lift_labels[3 * AN_THIRDS][32];
	for (int l = 0; l < 3; l++) {
		for (int g = 0; g < AN_THIRDS; g++) {
			const struct analyze_stat *s = l == 0 ? &link[g].entropy
						     : l == 1 ? &link[g].receiver : &link[g].follow;
			it[g] = (struct ah_item){ labels[g], s->value.point, s->value.lo, s->value.hi,
						  s->baseline.point, s->baseline.lo, s->baseline.hi };
			snprintf(lift_labels[l * AN_THIRDS + g], 32, "%s/%s", ids[l], labels[g]);
			lift[l * AN_THIRDS + g] = (struct ah_item){ lift_labels[l * AN_THIRDS + g],
				s->lift.point, s->lift.lo, s->lift.hi, NAN, NAN, NAN };
		}
		ah_chart(f, &(struct ah_chart){ ids[l], titles[l], caps[l], it, AN_THIRDS, NULL, NULL, 0 });
	}
	static const double one[1] = { 1 };
	static const char *const one_label[1] = { "no link (1)" };
	ah_chart(f, &(struct ah_chart){ "lift", "Lift (value / baseline)",
					"per linkage and third, with 95% intervals", lift,
					3 * AN_THIRDS, one, one_label, 1 });
}

static void ah_densities(FILE *f, const struct analyze_linkages *link, const char *const *labels)
{
	static const char *const sig[3] = { "WAAD", "glob", "recv" };
	struct ah_item it[3 * AN_THIRDS];
	char lab[3 * AN_THIRDS][32];
	for (int g = 0; g < AN_THIRDS; g++) {
		const double d[3] = { link[g].density_waad, link[g].density_glob, link[g].density_recv };
		for (int s = 0; s < 3; s++) {
			snprintf(lab[g * 3 + s], 32, "%.6s %s", labels[g], sig[s]);
			it[g * 3 + s] = (struct ah_item){ lab[g * 3 + s], d[s], NAN, NAN, NAN, NAN, NAN };
		}
	}
	static const double refs[2] = { 0.20, 0.22 };
	static const char *const ref_labels[2] = { "paper WAAD ~20%", "paper global FAI ~22%" };
	ah_chart(f, &(struct ah_chart){ "density", "Peak densities (peaks / tokens)",
					"per third: WAAD, global FAI, receiver FAI", it,
					3 * AN_THIRDS, refs, ref_labels, 2 });
}

static void ah_perturb(FILE *f, const struct analyze_perturb *p)
{
	struct ah_item it[2] = { { "high FAI", p->mean_high, NAN, NAN, NAN, NAN, NAN },
				 { "low FAI", p->mean_low, NAN, NAN, NAN, NAN, NAN } };
	static const double refs[2] = { 0.534, 0.631 };
	static const char *const ref_labels[2] = { "paper high 0.534", "paper low 0.631" };
	char cap[128];
	snprintf(cap, sizeof(cap), "mean Jaccard of the continuations; high < low in %.1f%% of "
		 "%d problems", 100 * p->frac_high_lower, p->n);
	ah_chart(f, &(struct ah_chart){ "perturb", "Perturbation (Table 1)", cap, it, 2, refs,
					ref_labels, 2 });
}

int an_write_html(FILE *f, const char *meta, const struct analyze_linkages *link,
		  const char *const *labels, const struct analyze_perturb *pert)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>attnrl analyze</title>\n<style>\n%s</style>\n</head>\n<body>\n"
		"<h1>attnrl analyze</h1>\n<p class=\"meta\">", ah_css);
	svg_escape(f, meta);
	fputs("</p>\n", f);
	ah_linkages(f, link, labels);
	ah_densities(f, link, labels);
	if (pert)
		ah_perturb(f, pert);
	fputs("<pre>", f);
	analyze_print(f, labels, link, AN_THIRDS);
	fputs("</pre>\n<p class=\"meta\">written by <code>attnrl analyze</code>: no script, no "
	      "external resource</p>\n</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}
