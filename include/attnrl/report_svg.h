/*
 * report_svg.h - the few SVG / HTML primitives the pictures share (inspect's rhythm picture, the
 * run report's charts): text escaped for XML and HTML, a text element, and "nice" axis ticks.
 * Pure C; everything writes to a FILE and the caller checks ferror once.
 */
#ifndef ATTNRL_REPORT_SVG_H
#define ATTNRL_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SVG_FONT "DejaVu Sans, Helvetica, Arial, sans-serif"
#define SVG_MONO "DejaVu Sans Mono, Menlo, Consolas, monospace"
#define SVG_INK "#222222"
#define SVG_GRID "#e6e6e6"

/* s with & < > " ' as entities (valid in XML text, attributes and HTML alike); NULL: nothing */
void svg_escape(FILE *f, const char *s);
void svg_escape_n(FILE *f, const char *s, size_t n); /* n bytes; a NUL byte becomes U+FFFD */
/* <text x y attrs>s</text>, s escaped */
void svg_text(FILE *f, double x, double y, const char *attrs, const char *s);
/* an axis from lo to hi (lo <= hi, finite) in about n ticks of a 1-2-2.5-5 step: *amin, *amax
 * are multiples of *step that cover [lo, hi]; a flat range is widened */
void svg_axis(double lo, double hi, int n, double *amin, double *amax, double *step);
/* the largest finite x[i] (where ok is NULL or ok[i]); 0 when none */
double svg_max(const float *x, const uint8_t *ok, int n);
/* a number for a tick label or a caption: %g with at most 4 significant digits */
void svg_num(char *out, size_t n, double v);
/* a plot's value grid: a line across the plot area (left, top, w x h) and a tick label left of
 * it at y0, y0 + step, ... up to y1, the values running from y0 at the bottom to y1 at the top */
void svg_y_grid(FILE *f, double left, double top, double w, double h, double y0, double y1,
		double step);

#endif
