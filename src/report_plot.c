/*
 * report_plot.c - line and stacked-bar charts as inline SVG (see report_plot.h). The frame is fixed
 * (PLOT_W x PLOT_H); x is the training step, ticks from svg_axis.
 */
#include "attnrl/report_plot.h"

#include <math.h>
#include <string.h>

#include "attnrl/report_svg.h"

#define ML 58.0  /* left margin: tick labels */
#define MR 14.0
#define MT 44.0  /* title, caption, legend */
#define MB 36.0  /* x tick labels and the axis name */
#define DOTS_UP_TO 60 /* a marker on every point of a series this short */

struct frame {
	double x0, x1, y0, y1, xstep, ystep; /* data ranges shown */
	double pw, ph;
};

static double px(const struct frame *fr, double x)
{
	return ML + (x - fr->x0) / (fr->x1 - fr->x0) * fr->pw;
}

static double py(const struct frame *fr, double y)
{
	return MT + fr->ph - (y - fr->y0) / (fr->y1 - fr->y0) * fr->ph;
}

static void open_svg(FILE *f, const char *id, const char *title)
{
	fprintf(f, "<svg class=\"plot\" id=\"plot-");
	svg_escape(f, id);
	fprintf(f, "\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" "
		"fill=\"%s\" role=\"img\"><title>", PLOT_W, PLOT_H, PLOT_W, PLOT_H, SVG_FONT, SVG_INK);
	svg_escape(f, title);
	fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	svg_text(f, 8, 16, "font-size=\"13\" font-weight=\"bold\"", title);
}

/* grid, tick labels and the axes */
static void axes(FILE *f, const struct frame *fr)
{
	char num[32];
	svg_y_grid(f, ML, MT, fr->pw, fr->ph, fr->y0, fr->y1, fr->ystep);
	for (double v = ceil(fr->x0 / fr->xstep - 1e-9) * fr->xstep; v <= fr->x1 + fr->xstep * 1e-6;
	     v += fr->xstep) {
		svg_num(num, sizeof(num), v);
		svg_text(f, px(fr, v), MT + fr->ph + 14, "font-size=\"10.5\" text-anchor=\"middle\"", num);
	}
	fprintf(f, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"%s\"/>\n", ML, MT,
		MT + fr->ph, ML + fr->pw, SVG_INK);
	svg_text(f, ML + fr->pw / 2, PLOT_H - 6, "font-size=\"10.5\" fill=\"#555\" text-anchor=\"middle\"",
		 "step");
}

static void no_data(FILE *f, const char *why)
{
	double cx = ML + (PLOT_W - ML - MR) / 2, cy = MT + (PLOT_H - MT - MB) / 2;
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
		"stroke=\"%s\"/>\n", ML, MT, PLOT_W - ML - MR, PLOT_H - MT - MB, SVG_GRID);
	svg_text(f, cx, cy, "class=\"nodata\" font-size=\"14\" fill=\"#888\" text-anchor=\"middle\"",
		 "no data");
	if (why)
		svg_text(f, cx, cy + 18, "font-size=\"11\" fill=\"#888\" text-anchor=\"middle\"", why);
}

/* x and y ranges over every series; 0 when there is no point */
static int frame_of(struct frame *fr, const struct plot *p)
{
	double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
	int n = 0;
	for (int s = 0; s < p->n_series; s++)
		for (int i = 0; i < p->series[s].n; i++, n++) {
			xl = fmin(xl, p->series[s].x[i]), xh = fmax(xh, p->series[s].x[i]);
			yl = fmin(yl, p->series[s].y[i]), yh = fmax(yh, p->series[s].y[i]);
		}
	if (!n)
		return 0;
	if (p->from_zero)
		yl = fmin(yl, 0), yh = fmax(yh, 0);
	if (p->x_lo <= p->x_hi)
		xl = fmin(xl, p->x_lo), xh = fmax(xh, p->x_hi);
	double lo;
	svg_axis(yl, yh, 4, &fr->y0, &fr->y1, &fr->ystep);
	if (xh <= xl) /* one step: in the middle */
		xl -= 1, xh += 1;
	svg_axis(xl, xh, 6, &lo, &fr->x1, &fr->xstep);
	fr->xstep = fmax(fr->xstep, 1); /* steps are integers */
	fr->x0 = xl, fr->x1 = xh;
	fr->pw = PLOT_W - ML - MR;
	fr->ph = PLOT_H - MT - MB;
	return n;
}

/* one series: "last 0.539 at step 12, range 0.281 .. 0.595"; several: their legend */
static void caption(FILE *f, const struct plot *p)
{
	const struct plot_series *q = &p->series[0];
	if (p->n_series > 1) {
		double x = 8;
		for (int s = 0; s < p->n_series; s++) {
			q = &p->series[s];
			fprintf(f, "<rect x=\"%.1f\" y=\"26\" width=\"12\" height=\"3\" fill=\"%s\"/>\n",
				x, q->color);
			svg_text(f, x + 15, 31, "font-size=\"10.5\"", q->label ? q->label : q->key);
			x += strlen(q->label ? q->label : q->key) * 6.2 + 30;
		}
		return;
	}
	if (!q->n)
		return;
	double lo = q->y[0], hi = q->y[0];
	for (int i = 1; i < q->n; i++)
		lo = fmin(lo, q->y[i]), hi = fmax(hi, q->y[i]);
	char a[32], b[32], c[32], line[160];
	svg_num(a, sizeof(a), q->y[q->n - 1]);
	svg_num(b, sizeof(b), lo);
	svg_num(c, sizeof(c), hi);
	snprintf(line, sizeof(line), "last %s at step %.0f, range %s .. %s", a, q->x[q->n - 1], b, c);
	svg_text(f, 8, 31, "font-size=\"10.5\" fill=\"#555\"", line);
}

static void series(FILE *f, const struct frame *fr, const struct plot_series *q)
{
	fprintf(f, "<polyline data-key=\"%s\" data-n=\"%d\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"", q->key, q->n, q->color);
	for (int i = 0; i < q->n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", px(fr, q->x[i]), py(fr, q->y[i]));
	fputs("\"/>\n", f);
	if (q->n > DOTS_UP_TO)
		return;
	for (int i = 0; i < q->n; i++)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.4\" fill=\"%s\"/>\n", px(fr, q->x[i]),
			py(fr, q->y[i]), q->color);
}

int plot_lines(FILE *f, const struct plot *p)
{
	struct frame fr;
	open_svg(f, p->id, p->title);
	if (!frame_of(&fr, p)) {
		no_data(f, p->empty);
		fputs("</svg>\n", f);
		return ferror(f) ? -1 : 0;
	}
	caption(f, p);
	axes(f, &fr);
	for (int s = 0; s < p->n_series; s++)
		series(f, &fr, &p->series[s]);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}

/* the legend of a stacked chart, on the caption line */
static void parts_legend(FILE *f, const struct plot_part *parts, int n_parts)
{
	double x = 8;
	for (int k = 0; k < n_parts; k++) {
		fprintf(f, "<rect x=\"%.1f\" y=\"23\" width=\"10\" height=\"9\" fill=\"%s\"/>\n", x,
			parts[k].color);
		svg_text(f, x + 13, 31, "font-size=\"10.5\"", parts[k].label);
		x += strlen(parts[k].label) * 6.2 + 30;
	}
}

int plot_stacked(FILE *f, const char *id, const char *title, const double *x, int n,
		 const struct plot_part *parts, int n_parts, long n_steps)
{
	struct frame fr;
	double top = 0, lo;
	for (int i = 0; i < n; i++) {
		double sum = 0;
		for (int k = 0; k < n_parts; k++)
			sum += parts[k].y[i];
		top = fmax(top, sum);
	}
	open_svg(f, id, title);
	if (n < 1) {
		no_data(f, NULL);
		fputs("</svg>\n", f);
		return ferror(f) ? -1 : 0;
	}
	/* bars centred on their steps, half a bar's pitch of room at both ends */
	double d = n > 1 ? (x[n - 1] - x[0]) / (n - 1) : 1;
	d = d > 0 ? d : 1;
	svg_axis(x[0], x[n - 1], 6, &lo, &fr.x1, &fr.xstep);
	fr.xstep = fmax(fr.xstep, 1);
	fr.x0 = x[0] - d / 2, fr.x1 = x[n - 1] + d / 2;
	svg_axis(0, top, 4, &lo, &fr.y1, &fr.ystep);
	fr.y0 = 0;
	fr.pw = PLOT_W - ML - MR;
	fr.ph = PLOT_H - MT - MB;
	double bw = fr.pw / n * 0.85;
	axes(f, &fr);
	parts_legend(f, parts, n_parts);
	for (int k = 0; k < n_parts; k++) {
		fprintf(f, "<g data-key=\"%s\" data-n=\"%d\" data-steps=\"%ld\" fill=\"%s\">\n",
			parts[k].key, n, n_steps, parts[k].color);
		for (int i = 0; i < n; i++) {
			double base = 0;
			for (int j = 0; j < k; j++)
				base += parts[j].y[i];
			double y0 = py(&fr, base), y1 = py(&fr, base + parts[k].y[i]);
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\"/>\n",
				px(&fr, x[i]) - bw / 2, y1, bw, y0 - y1);
		}
		fputs("</g>\n", f);
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
