/*
 * report_rhythm.c - the attention rhythm of one response as SVG (see report_rhythm.h): WAAD curve,
 * gamma strip, FAI bars, marked sets, token labels, hover titles.
 */
#include "attnrl/report_rhythm.h"

#include <math.h>
#include <string.h>

#include "attnrl/report_svg.h"
#include "attnrl/report_text.h"

#define C_WAAD "#404040"
#define C_PREPLAN "#e6550d"
#define C_INTRO "#7b4fbf"
#define C_FAI "#b7d3ea"
#define C_ANCHOR "#1f5fa8"
#define C_DOMINATED "#d62728"
#define C_UNDEF "#9a9a9a"
#define C_GAMMA_UP "#2ca25f"

/* ---- scales ------------------------------------------------------------------------------ */

static void axis_range(const float *x, const uint8_t *ok, int n, double *max, double *step)
{
	double m = svg_max(x, ok, n), lo;
	svg_axis(0, m > 0 ? m : 1, 4, &lo, max, step);
}

static double col_x(const struct rhythmsvg *v, int r)
{
	return v->ml + (r + 0.5) * v->cw;
}

static double y_of(double val, double top, double h, double max)
{
	return top + h - (val > max ? max : val) / max * h;
}

static const char *piece(const struct rhythmsvg *v, int r, int *len)
{
	const char *p = v->piece(v->ctx, r, len);
	if (!p)
		*len = 1;
	return p ? p : "?";
}

/* ---- legend ------------------------------------------------------------------------------ */

enum mark { MARK_CURVE, MARK_PREPLAN, MARK_INTRO, MARK_FAI, MARK_ANCHOR, MARK_DOMINATED,
	    MARK_UNDEF, MARK_GAMMA };

static void draw_mark(FILE *f, enum mark m, double x, double y)
{
	switch (m) {
	case MARK_CURVE:
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"1.5\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
			x, y, x + 16, y, C_WAAD, x + 8, y, C_WAAD);
		break;
	case MARK_PREPLAN:
		fprintf(f, "<path d=\"M%.1f %.1fh10l-5 8z\" fill=\"%s\"/><line x1=\"%.1f\" y1=\"%.1f\" "
			"x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"3 2\"/>\n", x + 3,
			y - 6, C_PREPLAN, x + 8, y + 2, x + 8, y + 7, C_PREPLAN);
		break;
	case MARK_INTRO:
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"2\"/>\n", x + 8, y, C_INTRO);
		break;
	case MARK_UNDEF:
		fprintf(f, "<path d=\"M%.1f %.1fl6 6m0 -6l-6 6\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
			x + 5, y - 3, C_UNDEF);
		break;
	default: {
		const char *c = m == MARK_FAI ? C_FAI : m == MARK_ANCHOR ? C_ANCHOR
			      : m == MARK_DOMINATED ? C_DOMINATED : C_GAMMA_UP;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n",
			x + 1, y - 5, c);
	}
	}
}

/* draws the legend when f is set; returns the rows it takes. D and I exist only under the
 * coupled strategy (and none, which shows the coupled sets) */
static int legend(FILE *f, const struct rhythmsvg *v, double y)
{
	static const struct { enum mark m; const char *label; } items[] = {
		{ MARK_CURVE, "WAAD (local heads)" },
		{ MARK_PREPLAN, "preplan token (T_loc: top Delta)" },
		{ MARK_INTRO, "introducer (I), arc to its dominated anchor" },
		{ MARK_FAI, "FAI (global heads)" },
		{ MARK_ANCHOR, "anchor (T_glob: top FAI)" },
		{ MARK_DOMINATED, "dominated anchor (D)" },
		{ MARK_UNDEF, "FAI undefined (T(s) empty)" },
		{ MARK_GAMMA, "gamma > 1" },
	};
	double x = v->ml, right = v->W - 16;
	int rows = 1;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if ((items[i].m == MARK_INTRO || items[i].m == MARK_DOMINATED) &&
		    v->shown != CREDIT_COUPLED)
			continue;
		double w = 24 + strlen(items[i].label) * 6.1 + 18;
		if (x + w > right && x > v->ml)
			x = v->ml, rows++;
		if (f) {
			double yy = y + (rows - 1) * 18;
			draw_mark(f, items[i].m, x, yy);
			svg_text(f, x + 22, yy + 4, "font-size=\"11\"", items[i].label);
		}
		x += w;
	}
	return rows;
}

/* ---- panels ------------------------------------------------------------------------------ */

static void panel(FILE *f, const struct rhythmsvg *v, double top, double h, double max,
		  double step, const char *ylabel, const char *title)
{
	char num[32];
	for (double val = 0; val <= max + step * 1e-6; val += step) {
		double y = y_of(val, top, h, max);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			v->ml, y, v->ml + v->pw, y, SVG_GRID);
		snprintf(num, sizeof(num), "%g", val);
		svg_text(f, v->ml - 6, y + 4, "font-size=\"11\" text-anchor=\"end\"", num);
	}
	fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"%s\"/>\n", v->ml, top,
		top + h, v->ml + v->pw, SVG_INK);
	fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" font-size=\"12\" "
		"text-anchor=\"middle\">%s</text>\n", v->ml - 40, top + h / 2, ylabel);
	svg_text(f, v->ml, top - 22, "font-size=\"12\" font-weight=\"bold\"", title);
}

/* light vertical guides every 5 tokens, with their index under the FAI axis */
static void guides(FILE *f, const struct rhythmsvg *v)
{
	int every = v->R > 150 ? 10 : 5;
	char num[16];
	for (int r = 0; r < v->R; r += every) {
		double x = col_x(v, r);
		fprintf(f, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"%s\"/>\n", x,
			v->waad_top, v->waad_top + v->waad_h, x, v->fai_top, v->fai_top + v->fai_h,
			SVG_GRID);
		snprintf(num, sizeof(num), "%d", r);
		svg_text(f, x, v->fai_top + v->fai_h + 12,
			 "font-size=\"9\" fill=\"#777\" text-anchor=\"middle\"", num);
	}
}

/* the introducer of dominated anchor t (docs/method.md section 6): argmax Delta in [t-k, t-1], ties
 * -> the latest */
static int intro_of(const struct rhythmsvg *v, int t)
{
	int best = -1;
	for (int u = t - v->k < 0 ? 0 : t - v->k; u < t; u++)
		if (best < 0 || v->delta[u] >= v->delta[best])
			best = u;
	return best;
}

static void waad_panel(FILE *f, const struct rhythmsvg *v)
{
	char title[160];
	snprintf(title, sizeof(title), "WAAD_t: attention distance of the local heads, clipped at "
		 "W = %d (a jump marks a preplan token)", v->window);
	panel(f, v, v->waad_top, v->waad_h, v->waad_max, v->waad_step, "WAAD", title);
	for (int r = 0; r < v->R; r++) {
		if (!(v->sets[r] & CREDIT_IN_LOC))
			continue;
		double x = col_x(v, r);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-opacity=\"0.6\" stroke-dasharray=\"3 3\"/>\n<path d=\"M%.1f %.1fh9l-4.5 8z\" "
			"fill=\"%s\"/>\n", x, v->waad_top, x, v->waad_top + v->waad_h, C_PREPLAN,
			x - 4.5, v->waad_top - 10, C_PREPLAN);
	}
	for (int t = 0; v->delta && t < v->R; t++) {
		int u = (v->sets[t] & CREDIT_IN_D) ? intro_of(v, t) : -1;
		if (u < 0)
			continue;
		double x0 = col_x(v, t), x1 = col_x(v, u), y = v->waad_top + v->waad_h - 4;
		fprintf(f, "<path d=\"M%.1f %.1fQ%.1f %.1f %.1f %.1f\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"1.2\" stroke-dasharray=\"2 2\"/>\n", x0, y, (x0 + x1) / 2,
			y - 14 - 3 * (t - u), x1, y, C_INTRO);
	}
	fprintf(f, "<polyline class=\"waad\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
		"points=\"", C_WAAD);
	for (int r = 0; r < v->R; r++)
		fprintf(f, "%s%.1f,%.1f", r ? " " : "", col_x(v, r),
			y_of(v->waad[r], v->waad_top, v->waad_h, v->waad_max));
	fputs("\"/>\n", f);
	for (int r = 0; r < v->R; r++) {
		double x = col_x(v, r), y = y_of(v->waad[r], v->waad_top, v->waad_h, v->waad_max);
		int pre = v->sets[r] & CREDIT_IN_LOC;
		if (v->sets[r] & CREDIT_IN_I)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" stroke=\"%s\" "
				"stroke-width=\"2\"/>\n", x, y, C_INTRO);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"/>\n", x, y,
			pre ? "3.5" : "2.5", pre ? C_PREPLAN : C_WAAD);
	}
}

/* gamma per token: white at 1, green up to the largest gamma (pink below 1) */
static void gamma_strip(FILE *f, const struct rhythmsvg *v)
{
	double top = 1;
	for (int r = 0; r < v->R; r++)
		top = fmax(top, v->gamma[r]);
	svg_text(f, v->ml - 6, v->gamma_y + v->gamma_h - 2, "font-size=\"11\" text-anchor=\"end\"",
		 "gamma");
	for (int r = 0; r < v->R; r++) {
		double g = v->gamma[r], a = g > 1 ? (g - 1) / (top - 1) : g < 1 ? 1 - g : 0;
		fprintf(f, "<rect class=\"gamma\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"%s\" fill-opacity=\"%.2f\" stroke=\"#ccc\" stroke-width=\"0.5\"/>\n",
			v->ml + r * v->cw, v->gamma_y, v->cw, v->gamma_h,
			g == 1 ? "#ffffff" : g < 1 ? "#e7298a" : C_GAMMA_UP, g == 1 ? 1.0 : 0.25 + 0.75 * a);
	}
	if (v->gamma_none)
		svg_text(f, v->ml + 4, v->gamma_y + v->gamma_h - 2, "font-size=\"10\" fill=\"#555\"",
			 "strategy none: gamma = 1 everywhere (the sets are shown for information)");
}

static void fai_panel(FILE *f, const struct rhythmsvg *v)
{
	char title[200];
	snprintf(title, sizeof(title), "FAI_s: attention the global heads pay to token s from t in "
		 "[s+%d, s+%d] (tall bars: anchors)", v->fai_lo, v->fai_hi);
	panel(f, v, v->fai_top, v->fai_h, v->fai_max, v->fai_step, "FAI", title);
	double bw = v->cw * 0.72, base = v->fai_top + v->fai_h;
	for (int r = 0; r < v->R; r++) {
		double x = col_x(v, r);
		if (!v->fai_ok[r]) {
			fprintf(f, "<path d=\"M%.1f %.1fl6 -6m0 6l-6 -6\" stroke=\"%s\" stroke-width=\"1.3\"/>\n",
				x - 3, base - 2, C_UNDEF);
			continue;
		}
		uint8_t s = v->sets[r];
		const char *c = s & CREDIT_IN_D ? C_DOMINATED : s & CREDIT_IN_GLOB ? C_ANCHOR : C_FAI;
		double y = y_of(v->fai[r], v->fai_top, v->fai_h, v->fai_max);
		fprintf(f, "<rect class=\"fai\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"%s\"/>\n", x - bw / 2, y, bw, base - y, c);
	}
}

static int label(const struct rhythmsvg *v, int r, char *text)
{
	int len;
	const char *p = piece(v, r, &len);
	return visible_text(p, (size_t)len, VISIBLE_SPACE, text, RHYTHMSVG_LABEL_CHARS + 4);
}

static void token_labels(FILE *f, const struct rhythmsvg *v)
{
	char text[64];
	for (int r = 0; r < v->R; r++) {
		uint8_t s = v->sets[r];
		int cols = label(v, r, text);
		const char *c = s & CREDIT_IN_D ? C_DOMINATED : s & CREDIT_IN_GLOB ? C_ANCHOR
			      : s & CREDIT_IN_LOC ? C_PREPLAN : SVG_INK;
		const char *bold = s & (CREDIT_IN_LOC | CREDIT_IN_GLOB) ? " font-weight=\"bold\"" : "";
		if (cols <= 2) /* a character (or an escape): upright; longer text: rotated */
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-family=\"%s\" font-size=\"%d\" "
				"text-anchor=\"middle\" fill=\"%s\"%s>", col_x(v, r), v->label_y + 10,
				SVG_MONO, cols == 1 ? 12 : 9, c, bold);
		else
			fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" font-family=\"%s\" "
				"font-size=\"11\" text-anchor=\"end\" dy=\"0.35em\" fill=\"%s\"%s>",
				col_x(v, r), v->label_y, SVG_MONO, c, bold);
		svg_escape(f, text);
		fputs("</text>\n", f);
	}
}

/* an invisible rect per column whose <title> a viewer shows on hover */
static void hover(FILE *f, const struct rhythmsvg *v)
{
	char text[64], sets[8];
	for (int r = 0; r < v->R; r++) {
		int len;
		const char *p = piece(v, r, &len);
		visible_text(p, (size_t)len, VISIBLE_QUOTE, text, sizeof(text));
		credit_sets_text(v->sets[r], v->shown, sets);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill-opacity=\"0\">"
			"<title>r %d", v->ml + r * v->cw, v->waad_top, v->cw, v->label_y - v->waad_top, r);
		if (v->P >= 0)
			fprintf(f, " (position %d)", v->P + r);
		fputs(" \"", f);
		svg_escape(f, text);
		fprintf(f, "\"&#10;WAAD %.4f  FAI ", v->waad[r]);
		if (v->fai_ok[r])
			fprintf(f, "%.4f", v->fai[r]);
		else
			fputs("-", f);
		if (v->delta)
			fprintf(f, "  Delta %.4f", v->delta[r]);
		fputs("&#10;", f);
		if (v->entropy)
			fprintf(f, "entropy %.3f  ", v->entropy[r]);
		fprintf(f, "sets %s  gamma %.3f</title></rect>\n", sets, v->gamma[r]);
	}
}

/* ---- the whole ---------------------------------------------------------------------------- */

void rhythmsvg_plan(struct rhythmsvg *v, double top)
{
	v->ml = 64;
	v->pw = 14.0 * v->R > 800 - 64 - 24 ? 14.0 * v->R : 800 - 64 - 24;
	v->cw = v->pw / (v->R ? v->R : 1);
	v->W = v->ml + v->pw + 24;
	v->legend_y = top;
	v->legend_rows = legend(NULL, v, v->legend_y);
	v->waad_top = v->legend_y + 18 * v->legend_rows + 40;
	v->waad_h = 210;
	v->gamma_y = v->waad_top + v->waad_h + 12;
	v->gamma_h = 12;
	v->fai_top = v->gamma_y + v->gamma_h + 44;
	v->fai_h = 150;
	v->label_y = v->fai_top + v->fai_h + 20;
	int cols = 1;
	for (int r = 0; r < v->R; r++) {
		char text[64];
		int c = label(v, r, text);
		cols = c > cols ? c : cols;
	}
	v->H = v->label_y + (cols <= 2 ? 14 : cols * 6.8) + 16;
	axis_range(v->waad, NULL, v->R, &v->waad_max, &v->waad_step);
	axis_range(v->fai, v->fai_ok, v->R, &v->fai_max, &v->fai_step);
}

void rhythmsvg_draw(const struct rhythmsvg *v, FILE *f)
{
	legend(f, v, v->legend_y);
	guides(f, v);
	waad_panel(f, v);
	gamma_strip(f, v);
	fai_panel(f, v);
	token_labels(f, v);
	hover(f, v);
}
