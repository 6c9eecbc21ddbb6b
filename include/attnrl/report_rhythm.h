/*
 * report_rhythm.h - the picture of one response's attention rhythm, shared by `attnrl inspect`
 * (a standalone SVG) and `attnrl report` (inline in the run's HTML page). One column per
 * response token: the WAAD curve of the local heads with the preplan tokens (T_loc) marked, a
 * strip coloured by gamma, the FAI bars of the global heads with anchors (T_glob) and dominated
 * anchors (D) coloured, the token text under the axis. Introducers (I) are ringed on the WAAD
 * curve, with an arc from the anchor they introduce. Hovering a column shows its numbers (an
 * SVG <title>). Plain SVG 1.1, no script, no CSS. Pure C.
 *
 * Use: fill the inputs, rhythmsvg_plan(&v, top) (the legend starts at y = top; v.W, v.H are
 * then the picture's size), write the <svg> element yourself, then rhythmsvg_draw(&v, f).
 */
#ifndef ATTNRL_REPORT_RHYTHM_H
#define ATTNRL_REPORT_RHYTHM_H

#include <stdint.h>
#include <stdio.h>

#include "attnrl/credit.h"

struct rhythmsvg {
	/* inputs: every array is (R), index r = response token r */
	int R;
	int P;                         /* prompt tokens before the response (hover); -1 unknown */
	const char *(*piece)(const void *ctx, int r, int *len); /* token r's bytes */
	const void *ctx;
	const float *waad, *fai, *gamma;
	const float *delta;            /* NULL: no introducer arcs, no Delta in the hover */
	const float *entropy;          /* NULL: no entropy in the hover */
	const uint8_t *fai_ok;         /* 0 where T(s) is empty (drawn as a cross) */
	const uint8_t *sets;           /* CREDIT_IN_* flags */
	enum credit_strategy shown;    /* the sets' strategy: D and I exist only under coupled */
	int gamma_none;                /* credit.strategy none: gamma = 1, the strip says so */
	int window, fai_lo, fai_hi, k; /* credit.window, fai_lo, fai_hi, k (titles, arcs) */
	/* layout, set by rhythmsvg_plan */
	double W, H;                   /* the picture's size */
	double ml, pw, cw, legend_y, waad_top, waad_h, gamma_y, gamma_h, fai_top, fai_h, label_y;
	double waad_max, waad_step, fai_max, fai_step;
	int legend_rows;
};

/* the layout: the legend at y = top, at least 800 px wide (14 px a token when longer) */
void rhythmsvg_plan(struct rhythmsvg *v, double top);
/* legend, panels, token labels and hover columns (no <svg> element, no header) */
void rhythmsvg_draw(const struct rhythmsvg *v, FILE *f);
/* the longest label (token text as shown, cut after RHYTHMSVG_LABEL_CHARS columns) */
#define RHYTHMSVG_LABEL_CHARS 14

#endif
