/*
 * report_plot.h - small SVG charts for the run report: lines over training steps and stacked bars.
 * Each chart is one inline <svg class="plot" id="plot-ID"> element (no xmlns needed inside
 * HTML) whose series carry data-key and data-n (the points drawn), so a test can compare the
 * picture with the log it came from. A chart without data says "no data" and why. Pure C.
 */
#ifndef ATTNRL_REPORT_PLOT_H
#define ATTNRL_REPORT_PLOT_H

#include <stdio.h>

#define PLOT_W 456
#define PLOT_H 230

/* one line: n points (x ascending as logged, y finite) */
struct plot_series {
	const char *key;   /* metrics key (data-key) */
	const char *label; /* legend (charts of several series); NULL = the key */
	const char *color;
	const double *x, *y; /* (n) */
	int n;
};

struct plot {
	const char *id, *title;
	const char *empty;   /* why there is no data ("eval off"); NULL = just "no data" */
	int from_zero;       /* the y axis includes 0 */
	double x_lo, x_hi;   /* the x range (the run's steps, so charts line up); x_lo > x_hi:
			      * from the data */
	int n_series;
	const struct plot_series *series;
};

/* one part of a stacked bar chart: y (n) per bar, >= 0 */
struct plot_part {
	const char *key, *label, *color;
	const double *y;
};

/* line chart; 0 or -1 (write error) */
int plot_lines(FILE *f, const struct plot *p);
/* stacked bars at x (n), one part per layer, bottom first; n_steps: what the bars cover */
int plot_stacked(FILE *f, const char *id, const char *title, const double *x, int n,
		 const struct plot_part *parts, int n_parts, long n_steps);

#endif
