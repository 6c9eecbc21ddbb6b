/*
 * cmd_inspect_svg.c - the picture of `attnrl inspect` (see cmd_inspect.h): three header lines (the
 * prompt, the model and response, the statistics' set-up) over the rhythm picture of
 * report_rhythm.c, as one standalone SVG 1.1 file.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/cmd_inspect.h"
#include "attnrl/report_rhythm.h"
#include "attnrl/report_svg.h"
#include "attnrl/report_text.h"

static const char *piece_of(const void *ctx, int r, int *len)
{
	return inspect_piece(ctx, r, len);
}

static void header(FILE *f, const struct rhythmsvg *v, const struct inspect *in)
{
	const struct model_config *mc = &in->pol.model->cfg;
	const struct attnstats_config *sc = &in->stats->cfg;
	char prompt[512], line[1024], layers[256] = "", check[32] = "skipped";
	size_t fit = (size_t)((v->W - 32) / 9.5) - 19; /* bold 15 px: up to 9.5 px a column */
	visible_text(in->opt->prompt, strlen(in->opt->prompt), VISIBLE_QUOTE, prompt,
		     fit < sizeof(prompt) ? fit : sizeof(prompt));
	snprintf(line, sizeof(line), "attnrl inspect: \"%s\"", prompt);
	svg_text(f, 16, 24, "font-size=\"15\" font-weight=\"bold\"", line);
	const char *path = in->cfg->model.path, *base = strrchr(path, '/');
	snprintf(line, sizeof(line), "%s, %d layers x %d heads, %s%s  |  P = %d, R = %d (%s)  |  "
		 "strategy %s", in->cfg->model.arch, mc->n_layers, mc->n_heads,
		 path[0] ? "weights " : "random init", base ? base + 1 : path, in->P, in->R,
		 !in->generated ? "given" : in->cfg->rollout.temperature > 0 ? "sampled" : "greedy",
		 in->cfg->credit.strategy);
	svg_text(f, 16, 42, "font-size=\"11.5\" fill=\"#444\"", line);
	if (!isnan(in->diff_waad))
		snprintf(check, sizeof(check), "%.1e", fmax(in->diff_waad, in->diff_fai));
	for (int i = 0; i < sc->n_sampled; i++)
		snprintf(layers + strlen(layers), sizeof(layers) - strlen(layers), "%s%d", i ? "," : "",
			 sc->layers[i]);
	snprintf(line, sizeof(line), "layers %s  |  H_loc mean d %.2f, H_glob mean d %.2f  |  W = %d, "
		 "top_q = %g  |  streamed vs maps: %s", layers, in->res.d_loc, in->res.d_glob,
		 sc->window, in->cp.top_q, check);
	svg_text(f, 16, 58, "font-size=\"11.5\" fill=\"#444\"", line);
}

int inspect_write_svg(const struct inspect *in, FILE *f)
{
	const struct attnstats_config *sc = &in->stats->cfg;
	struct rhythmsvg v = {
		.R = in->R, .P = in->P, .piece = piece_of, .ctx = in,
		.waad = in->res.waad, .fai = in->res.fai, .gamma = in->gamma, .delta = in->delta,
		.entropy = in->entropy, .fai_ok = in->res.fai_ok, .sets = in->sets,
		.shown = in->cp.strategy, .gamma_none = in->strategy == CREDIT_NONE,
		.window = sc->window, .fai_lo = sc->fai_lo, .fai_hi = sc->fai_hi, .k = in->cp.k,
	};
	rhythmsvg_plan(&v, 80);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
		"version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"%s\" fill=\"%s\">\n", v.W, v.H, v.W, v.H, SVG_FONT, SVG_INK);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	header(f, &v, in);
	rhythmsvg_draw(&v, f);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
