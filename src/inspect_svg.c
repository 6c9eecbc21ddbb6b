/*
 * inspect_svg.c - the picture of `attnrl inspect` (see inspect.h). One column per response
 * token: the top panel is the WAAD curve of the local heads with the preplan tokens (T_loc)
 * marked, then a strip coloured by gamma, then the FAI bars of the global heads with anchors
 * (T_glob) and dominated anchors (D) coloured; the token text runs under the axis, rotated.
 * Introducers (I) are ringed on the WAAD curve, with an arc from the anchor they introduce.
 * Hovering a column shows its numbers (an SVG <title>). Plain SVG 1.1, no script, no CSS.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/inspect.h"

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define SVG_MONO "DejaVu Sans Mono, Menlo, Consolas, monospace"
#define C_INK "#222222"
#define C_GRID "#e6e6e6"
#define C_WAAD "#404040"
#define C_PREPLAN "#e6550d"
#define C_INTRO "#7b4fbf"
#define C_FAI "#b7d3ea"
#define C_ANCHOR "#1f5fa8"
#define C_DOMINATED "#d62728"
#define C_UNDEF "#9a9a9a"
#define C_GAMMA_UP "#2ca25f"
#define SVG_LABEL_CHARS 14  /* token text under the axis is cut after this many columns */

struct layout {
	double ml, pw, cw, W, H;
	double legend_y, waad_top, waad_h, gamma_y, gamma_h, fai_top, fai_h, label_y;
	double waad_max, waad_step, fai_max, fai_step;
	int legend_rows;
};

/* ---- text -------------------------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
			      : *s == '"' ? "&quot;" : *s == '\'' ? "&apos;" : NULL;
		if (e)
			fputs(e, f);
		else
			fputc(*s, f);
	}
}

/* <text x y attrs>s</text>, s escaped for XML */
static void text_at(FILE *f, double x, double y, const char *attrs, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	xml_text(f, s);
	fputs("</text>\n", f);
}

/* ---- scales ------------------------------------------------------------------------------ */

static void axis_range(const float *x, const uint8_t *ok, int n, double *max, double *step)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		if ((!ok || ok[i]) && isfinite(x[i]))
			m = fmax(m, x[i]);
	if (!(m > 0))
		m = 1;
	double raw = m / 4, p = pow(10, floor(log10(raw))), k = raw / p;
	*step = p * (k <= 1 ? 1 : k <= 2 ? 2 : k <= 2.5 ? 2.5 : k <= 5 ? 5 : 10);
	*max = ceil(m / *step - 1e-9) * *step;
}

static double col_x(const struct layout *L, int r)
{
	return L->ml + (r + 0.5) * L->cw;
}

static double y_of(double v, double top, double h, double max)
{
	return top + h - (v > max ? max : v) / max * h;
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
static int legend(FILE *f, const struct layout *L, const struct inspect *in, double y)
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
	double x = L->ml, right = L->W - 16;
	int rows = 1;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		if ((items[i].m == MARK_INTRO || items[i].m == MARK_DOMINATED) &&
		    in->cp.strategy != CREDIT_COUPLED)
			continue;
		double w = 24 + strlen(items[i].label) * 6.1 + 18;
		if (x + w > right && x > L->ml)
			x = L->ml, rows++;
		if (f) {
			double yy = y + (rows - 1) * 18;
			draw_mark(f, items[i].m, x, yy);
			text_at(f, x + 22, yy + 4, "font-size=\"11\"", items[i].label);
		}
		x += w;
	}
	return rows;
}

/* ---- panels ------------------------------------------------------------------------------ */

static void panel(FILE *f, const struct layout *L, double top, double h, double max, double step,
		  const char *ylabel, const char *title)
{
	char num[32];
	for (double v = 0; v <= max + step * 1e-6; v += step) {
		double y = y_of(v, top, h, max);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			L->ml, y, L->ml + L->pw, y, C_GRID);
		snprintf(num, sizeof(num), "%g", v);
		text_at(f, L->ml - 6, y + 4, "font-size=\"11\" text-anchor=\"end\"", num);
	}
	fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"%s\"/>\n", L->ml, top,
		top + h, L->ml + L->pw, C_INK);
	fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" font-size=\"12\" "
		"text-anchor=\"middle\">%s</text>\n", L->ml - 40, top + h / 2, ylabel);
	text_at(f, L->ml, top - 22, "font-size=\"12\" font-weight=\"bold\"", title);
}

/* light vertical guides every 5 tokens, with their index under the FAI axis */
static void guides(FILE *f, const struct layout *L, int R)
{
	int every = R > 150 ? 10 : 5;
	char num[16];
	for (int r = 0; r < R; r += every) {
		double x = col_x(L, r);
		fprintf(f, "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fV%.1f\" stroke=\"%s\"/>\n", x,
			L->waad_top, L->waad_top + L->waad_h, x, L->fai_top, L->fai_top + L->fai_h, C_GRID);
		snprintf(num, sizeof(num), "%d", r);
		text_at(f, x, L->fai_top + L->fai_h + 12, "font-size=\"9\" fill=\"#777\" text-anchor=\"middle\"", num);
	}
}

/* the introducer of dominated anchor t (METHOD.md section 6): argmax Delta in [t-k, t-1], ties
 * -> the latest */
static int intro_of(const struct inspect *in, int t)
{
	int best = -1;
	for (int u = t - in->cp.k < 0 ? 0 : t - in->cp.k; u < t; u++)
		if (best < 0 || in->delta[u] >= in->delta[best])
			best = u;
	return best;
}

static void waad_panel(FILE *f, const struct layout *L, const struct inspect *in)
{
	const float *w = in->res.waad;
	char title[160];
	snprintf(title, sizeof(title), "WAAD_t: attention distance of the local heads, clipped at W = %d "
		 "(a jump marks a preplan token)", in->stats->cfg.window);
	panel(f, L, L->waad_top, L->waad_h, L->waad_max, L->waad_step, "WAAD", title);
	for (int r = 0; r < in->R; r++) {
		if (!(in->sets[r] & CREDIT_IN_LOC))
			continue;
		double x = col_x(L, r);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-opacity=\"0.6\" stroke-dasharray=\"3 3\"/>\n<path d=\"M%.1f %.1fh9l-4.5 8z\" "
			"fill=\"%s\"/>\n", x, L->waad_top, x, L->waad_top + L->waad_h, C_PREPLAN,
			x - 4.5, L->waad_top - 10, C_PREPLAN);
	}
	for (int t = 0; t < in->R; t++) {
		int u = (in->sets[t] & CREDIT_IN_D) ? intro_of(in, t) : -1;
		if (u < 0)
			continue;
		double x0 = col_x(L, t), x1 = col_x(L, u), y = L->waad_top + L->waad_h - 4;
		fprintf(f, "<path d=\"M%.1f %.1fQ%.1f %.1f %.1f %.1f\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"1.2\" stroke-dasharray=\"2 2\"/>\n", x0, y, (x0 + x1) / 2,
			y - 14 - 3 * (t - u), x1, y, C_INTRO);
	}
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", C_WAAD);
	for (int r = 0; r < in->R; r++)
		fprintf(f, "%s%.1f,%.1f", r ? " " : "", col_x(L, r),
			y_of(w[r], L->waad_top, L->waad_h, L->waad_max));
	fputs("\"/>\n", f);
	for (int r = 0; r < in->R; r++) {
		double x = col_x(L, r), y = y_of(w[r], L->waad_top, L->waad_h, L->waad_max);
		int pre = in->sets[r] & CREDIT_IN_LOC;
		if (in->sets[r] & CREDIT_IN_I)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" stroke=\"%s\" "
				"stroke-width=\"2\"/>\n", x, y, C_INTRO);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"/>\n", x, y,
			pre ? "3.5" : "2.5", pre ? C_PREPLAN : C_WAAD);
	}
}

/* gamma per token: white at 1, green up to the largest gamma (pink below 1) */
static void gamma_strip(FILE *f, const struct layout *L, const struct inspect *in)
{
	double top = 1;
	for (int r = 0; r < in->R; r++)
		top = fmax(top, in->gamma[r]);
	text_at(f, L->ml - 6, L->gamma_y + L->gamma_h - 2, "font-size=\"11\" text-anchor=\"end\"", "gamma");
	for (int r = 0; r < in->R; r++) {
		double g = in->gamma[r], a = g > 1 ? (g - 1) / (top - 1) : g < 1 ? 1 - g : 0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
			"fill-opacity=\"%.2f\" stroke=\"#ccc\" stroke-width=\"0.5\"/>\n", L->ml + r * L->cw,
			L->gamma_y, L->cw, L->gamma_h, g == 1 ? "#ffffff" : g < 1 ? "#e7298a" : C_GAMMA_UP,
			g == 1 ? 1.0 : 0.25 + 0.75 * a);
	}
	if (in->strategy == CREDIT_NONE)
		text_at(f, L->ml + 4, L->gamma_y + L->gamma_h - 2, "font-size=\"10\" fill=\"#555\"",
			"strategy none: gamma = 1 everywhere (the sets are shown for information)");
}

static void fai_panel(FILE *f, const struct layout *L, const struct inspect *in)
{
	char title[200];
	snprintf(title, sizeof(title), "FAI_s: attention the global heads pay to token s from t in "
		 "[s+%d, s+%d] (tall bars: anchors)", in->stats->cfg.fai_lo, in->stats->cfg.fai_hi);
	panel(f, L, L->fai_top, L->fai_h, L->fai_max, L->fai_step, "FAI", title);
	double bw = L->cw * 0.72, base = L->fai_top + L->fai_h;
	for (int r = 0; r < in->R; r++) {
		double x = col_x(L, r);
		if (!in->res.fai_ok[r]) {
			fprintf(f, "<path d=\"M%.1f %.1fl6 -6m0 6l-6 -6\" stroke=\"%s\" stroke-width=\"1.3\"/>\n",
				x - 3, base - 2, C_UNDEF);
			continue;
		}
		uint8_t s = in->sets[r];
		const char *c = s & CREDIT_IN_D ? C_DOMINATED : s & CREDIT_IN_GLOB ? C_ANCHOR : C_FAI;
		double y = y_of(in->res.fai[r], L->fai_top, L->fai_h, L->fai_max);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
			x - bw / 2, y, bw, base - y, c);
	}
}

static void token_labels(FILE *f, const struct layout *L, const struct inspect *in)
{
	char text[64];
	for (int r = 0; r < in->R; r++) {
		int len;
		const char *p = inspect_piece(in, r, &len);
		uint8_t s = in->sets[r];
		int cols = inspect_escape(p, (size_t)len, INSPECT_ESC_SPACE, text, SVG_LABEL_CHARS + 4);
		const char *c = s & CREDIT_IN_D ? C_DOMINATED : s & CREDIT_IN_GLOB ? C_ANCHOR
			      : s & CREDIT_IN_LOC ? C_PREPLAN : C_INK;
		const char *bold = s & (CREDIT_IN_LOC | CREDIT_IN_GLOB) ? " font-weight=\"bold\"" : "";
		if (cols <= 2) /* a character (or an escape): upright; longer text: rotated */
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-family=\"%s\" font-size=\"%d\" "
				"text-anchor=\"middle\" fill=\"%s\"%s>", col_x(L, r), L->label_y + 10,
				SVG_MONO, cols == 1 ? 12 : 9, c, bold);
		else
			fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" font-family=\"%s\" "
				"font-size=\"11\" text-anchor=\"end\" dy=\"0.35em\" fill=\"%s\"%s>",
				col_x(L, r), L->label_y, SVG_MONO, c, bold);
		xml_text(f, text);
		fputs("</text>\n", f);
	}
}

/* an invisible rect per column whose <title> a viewer shows on hover */
static void hover(FILE *f, const struct layout *L, const struct inspect *in)
{
	char text[64], sets[8];
	for (int r = 0; r < in->R; r++) {
		int len;
		const char *p = inspect_piece(in, r, &len);
		inspect_escape(p, (size_t)len, INSPECT_ESC_QUOTE, text, sizeof(text));
		inspect_sets_text(in, r, sets);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill-opacity=\"0\">"
			"<title>r %d (position %d) \"", L->ml + r * L->cw, L->waad_top, L->cw,
			L->label_y - L->waad_top, r, in->P + r);
		xml_text(f, text);
		fprintf(f, "\"&#10;WAAD %.4f  FAI ", in->res.waad[r]);
		if (in->res.fai_ok[r])
			fprintf(f, "%.4f", in->res.fai[r]);
		else
			fputs("-", f);
		fprintf(f, "  Delta %.4f&#10;entropy %.3f  sets %s  gamma %.3f</title></rect>\n",
			in->delta[r], in->entropy[r], sets, in->gamma[r]);
	}
}

/* ---- the page ---------------------------------------------------------------------------- */

static void header(FILE *f, const struct layout *L, const struct inspect *in)
{
	const struct model_config *mc = &in->pol.model->cfg;
	const struct attnstats_config *sc = &in->stats->cfg;
	char prompt[512], line[1024], layers[256] = "", check[32] = "skipped";
	size_t fit = (size_t)((L->W - 32) / 9.5) - 19; /* bold 15 px: up to 9.5 px a column */
	inspect_escape(in->opt->prompt, strlen(in->opt->prompt), INSPECT_ESC_QUOTE, prompt,
		       fit < sizeof(prompt) ? fit : sizeof(prompt));
	snprintf(line, sizeof(line), "attnrl inspect: \"%s\"", prompt);
	text_at(f, 16, 24, "font-size=\"15\" font-weight=\"bold\"", line);
	const char *path = in->cfg->model.path, *base = strrchr(path, '/');
	snprintf(line, sizeof(line), "%s, %d layers x %d heads, %s%s  |  P = %d, R = %d (%s)  |  "
		 "strategy %s", in->cfg->model.arch, mc->n_layers, mc->n_heads,
		 path[0] ? "weights " : "random init", base ? base + 1 : path, in->P, in->R,
		 !in->generated ? "given" : in->cfg->rollout.temperature > 0 ? "sampled" : "greedy",
		 in->cfg->credit.strategy);
	text_at(f, 16, 42, "font-size=\"11.5\" fill=\"#444\"", line);
	if (!isnan(in->diff_waad))
		snprintf(check, sizeof(check), "%.1e", fmax(in->diff_waad, in->diff_fai));
	for (int i = 0; i < sc->n_sampled; i++)
		snprintf(layers + strlen(layers), sizeof(layers) - strlen(layers), "%s%d", i ? "," : "",
			 sc->layers[i]);
	snprintf(line, sizeof(line), "layers %s  |  H_loc mean d %.2f, H_glob mean d %.2f  |  W = %d, "
		 "top_q = %g  |  streamed vs maps: %s", layers, in->res.d_loc, in->res.d_glob,
		 sc->window, in->cp.top_q, check);
	text_at(f, 16, 58, "font-size=\"11.5\" fill=\"#444\"", line);
}

static void plan(struct layout *L, const struct inspect *in)
{
	memset(L, 0, sizeof(*L));
	L->ml = 64;
	L->pw = 14.0 * in->R > 800 - 64 - 24 ? 14.0 * in->R : 800 - 64 - 24;
	L->cw = L->pw / (in->R ? in->R : 1);
	L->W = L->ml + L->pw + 24;
	L->legend_y = 80;
	L->legend_rows = legend(NULL, L, in, L->legend_y);
	L->waad_top = L->legend_y + 18 * L->legend_rows + 40;
	L->waad_h = 210;
	L->gamma_y = L->waad_top + L->waad_h + 12;
	L->gamma_h = 12;
	L->fai_top = L->gamma_y + L->gamma_h + 44;
	L->fai_h = 150;
	L->label_y = L->fai_top + L->fai_h + 20;
	int cols = 1;
	for (int r = 0; r < in->R; r++) {
		char text[64];
		int len;
		const char *p = inspect_piece(in, r, &len);
		int c = inspect_escape(p, (size_t)len, INSPECT_ESC_SPACE, text, SVG_LABEL_CHARS + 4);
		cols = c > cols ? c : cols;
	}
	L->H = L->label_y + (cols <= 2 ? 14 : cols * 6.8) + 16;
	axis_range(in->res.waad, NULL, in->R, &L->waad_max, &L->waad_step);
	axis_range(in->res.fai, in->res.fai_ok, in->R, &L->fai_max, &L->fai_step);
}

int inspect_write_svg(const struct inspect *in, FILE *f)
{
	struct layout L;
	plan(&L, in);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"%s\" fill=\"%s\">\n", L.W, L.H, L.W, L.H, SVG_FONT, C_INK);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	header(f, &L, in);
	legend(f, &L, in, L.legend_y);
	guides(f, &L, in->R);
	waad_panel(f, &L, in);
	gamma_strip(f, &L, in);
	fai_panel(f, &L, in);
	token_labels(f, &L, in);
	hover(f, &L, in);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
