/* report_svg.c - escaping, text and axis ticks for the SVG pictures (see report_svg.h). */
#include "attnrl/report_svg.h"

#include <math.h>

static void escape_byte(FILE *f, char c)
{
	switch (c) {
	case '&': fputs("&amp;", f); break;
	case '<': fputs("&lt;", f); break;
	case '>': fputs("&gt;", f); break;
	case '"': fputs("&quot;", f); break;
	case '\'': fputs("&#39;", f); break;
	case 0: fputs("\xef\xbf\xbd", f); break;
	default: fputc(c, f);
	}
}

void svg_escape(FILE *f, const char *s)
{
	for (; s && *s; s++)
		escape_byte(f, *s);
}

void svg_escape_n(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		escape_byte(f, s[i]);
}

void svg_text(FILE *f, double x, double y, const char *attrs, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	svg_escape(f, s);
	fputs("</text>\n", f);
}

static double nice_step(double raw)
{
	double p = pow(10, floor(log10(raw))), k = raw / p;
	return p * (k <= 1 ? 1 : k <= 2 ? 2 : k <= 2.5 ? 2.5 : k <= 5 ? 5 : 10);
}

void svg_axis(double lo, double hi, int n, double *amin, double *amax, double *step)
{
	if (!(hi > lo)) { /* a flat series: [0, 1] at zero, else +-10% */
		double pad = fabs(lo) * 0.1;
		hi = lo == 0 ? 1 : hi + pad;
		lo = lo == 0 ? 0 : lo - pad;
	}
	*step = nice_step((hi - lo) / (n > 0 ? n : 1));
	*amin = floor(lo / *step + 1e-9) * *step;
	*amax = ceil(hi / *step - 1e-9) * *step;
	if (*amax <= *amin)
		*amax = *amin + *step;
}

double svg_max(const float *x, const uint8_t *ok, int n)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		if ((!ok || ok[i]) && isfinite(x[i]))
			m = fmax(m, x[i]);
	return m;
}

void svg_num(char *out, size_t n, double v)
{
	snprintf(out, n, "%.4g", fabs(v) < 1e-12 ? 0.0 : v);
}

void svg_y_grid(FILE *f, double left, double top, double w, double h, double y0, double y1,
		double step)
{
	char num[32];
	for (double v = y0; v <= y1 + step * 1e-6; v += step) {
		double y = top + h - (v - y0) / (y1 - y0) * h;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
			left, y, left + w, y, SVG_GRID);
		svg_num(num, sizeof(num), v);
		svg_text(f, left - 5, y + 4, "font-size=\"10.5\" text-anchor=\"end\"", num);
	}
}

