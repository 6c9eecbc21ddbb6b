/*
 * cmd_inspect_report.c - what `attnrl inspect` prints (header and per-token table) and its JSON
 * dump (see cmd_inspect.h). Token text is always shown escaped: one visible line per token.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/cmd_inspect.h"
#include "attnrl/json.h"
#include "attnrl/report_text.h"

const char *inspect_piece(const struct inspect *in, int r, int *len)
{
	int32_t id = in->tokens[in->P + r];
	const char *p = tokenizer_piece(&in->pol.tok, id);
	*len = p ? in->pol.tok.piece_len[id] : 1;
	return p ? p : "?";
}

void inspect_sets_text(const struct inspect *in, int r, char *out)
{
	credit_sets_text(in->sets[r], in->cp.strategy, out);
}

/* ---- the printed report ------------------------------------------------------------------ */

static void print_groups(const struct inspect *in, FILE *f, int which, const char *name, float mean)
{
	int H = in->stats->cfg.n_heads;
	fprintf(f, "%s (mean d %.3f):", name, mean);
	for (int q = 0; q < in->res.n_pairs; q++)
		if (in->res.group[q] & which)
			fprintf(f, "  L%d.H%d %.3f", in->stats->cfg.layers[q / H], q % H, in->res.d[q]);
	fprintf(f, "\n");
}

static void print_header(const struct inspect *in, FILE *f)
{
	static const char *const stops[] = { "EOS", "the stop string", "max_new_tokens" };
	const struct config *c = in->cfg;
	const struct model_config *mc = &in->pol.model->cfg;
	const struct attnstats_config *sc = &in->stats->cfg;
	char text[1024];
	if (c->model.path[0])
		snprintf(text, sizeof(text), "weights %s", c->model.path);
	else
		snprintf(text, sizeof(text), "random init (seed %ld)", c->run.seed);
	fprintf(f, "model: %s, %d layers x %d heads (%d kv), dim %d, %s; strategy %s%s\n",
		c->model.arch, mc->n_layers, mc->n_heads, mc->n_kv_heads, mc->dim, text,
		c->credit.strategy,
		in->strategy == CREDIT_NONE ? ": gamma = 1 (coupled sets shown for information only)" : "");
	visible_text(in->opt->prompt, strlen(in->opt->prompt), VISIBLE_QUOTE, text, sizeof(text));
	fprintf(f, "prompt: P = %d tokens (BOS first): \"%s\"\n", in->P, text);
	if (in->generated)
		fprintf(f, "response: R = %d tokens, generated (%s, seed %ld), stopped by %s\n", in->R,
			c->rollout.temperature > 0 ? "sampled" : "greedy", c->run.seed,
			stops[in->stop_reason]);
	else
		fprintf(f, "response: R = %d tokens, given (teacher-forced)\n", in->R);
	fprintf(f, "sampled layers:");
	for (int i = 0; i < sc->n_sampled; i++)
		fprintf(f, " %d", sc->layers[i]);
	fprintf(f, " (%d pairs); W = %d, H_lo = %d, H_hi = %d, top_q = %g\n", in->res.n_pairs,
		sc->window, sc->fai_lo, sc->fai_hi, in->cp.top_q);
	print_groups(in, f, ATTNSTATS_LOC, "local heads H_loc ", in->res.d_loc);
	print_groups(in, f, ATTNSTATS_GLOB, "global heads H_glob", in->res.d_glob);
	if (isnan(in->diff_waad))
		fprintf(f, "check: skipped (the maps would not fit in memory)\n");
	else
		fprintf(f, "check: streamed vs maps: max |WAAD diff| %.2e, max |FAI diff| %.2e (%s, "
			"tolerance %.0e)\n", in->diff_waad, in->diff_fai,
			fmax(in->diff_waad, in->diff_fai) < INSPECT_CHECK_TOL ? "ok" : "MISMATCH",
			INSPECT_CHECK_TOL);
	fprintf(f, "sets: P preplan (T_loc), A anchor (T_glob), D dominated anchor, I its introducer%s\n",
		in->cp.strategy == CREDIT_RANDOM ? ", R random" :
		in->cp.strategy == CREDIT_ENTROPY ? ", E high entropy" : "");
}

void inspect_print(const struct inspect *in, FILE *f)
{
	char tok[64], sets[8];
	int w = 5, len;
	print_header(in, f);
	for (int r = 0; r < in->R; r++) {
		const char *p = inspect_piece(in, r, &len);
		int cols = visible_text(p, (size_t)len, VISIBLE_QUOTE, tok, 26) + 2;
		w = cols > w ? cols : w;
	}
	fprintf(f, "\n%5s %5s  %-*s %8s %8s %8s %8s  %-4s %6s\n", "r", "pos", w, "token", "WAAD",
		"FAI", "Delta", "entropy", "sets", "gamma");
	for (int r = 0; r < in->R; r++) {
		char fai[16];
		const char *p = inspect_piece(in, r, &len);
		int cols = visible_text(p, (size_t)len, VISIBLE_QUOTE, tok, 26) + 2;
		if (in->res.fai_ok[r])
			snprintf(fai, sizeof(fai), "%8.4f", in->res.fai[r]);
		else
			snprintf(fai, sizeof(fai), "%8s", "-");
		inspect_sets_text(in, r, sets);
		/* padded by columns, not bytes: a piece may be multi-byte UTF-8 */
		fprintf(f, "%5d %5d  \"%s\"%*s %8.4f %s %8.4f %8.4f  %-4s %6.3f\n", r, in->P + r, tok,
			w - cols, "", in->res.waad[r], fai, in->delta[r], in->entropy[r], sets,
			in->gamma[r]);
	}
	fflush(f);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void json_floats(FILE *f, const char *key, const float *x, int n)
{
	fprintf(f, ",\n \"%s\": [", key);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		json_write_float(f, x[i]);
	}
	fputc(']', f);
}

static void json_set(FILE *f, const char *key, const uint8_t *sets, int R, uint8_t flag)
{
	int k = 0;
	fprintf(f, ",\n \"%s\": [", key);
	for (int r = 0; r < R; r++)
		if (sets[r] & flag)
			fprintf(f, "%s%d", k++ ? ", " : "", r);
	fputc(']', f);
}

/* [pairs][N][N], one row a line */
static void json_maps(FILE *f, const struct inspect *in)
{
	int Q = in->res.n_pairs, N = in->N;
	fputs(",\n \"maps\": [", f);
	for (int q = 0; q < Q; q++) {
		fputs(q ? ",\n  [" : "\n  [", f);
		for (int t = 0; t < N; t++) {
			const float *row = in->maps + ((size_t)q * N + t) * N;
			fputs(t ? ",\n   [" : "\n   [", f);
			for (int s = 0; s < N; s++) {
				if (s)
					fputc(',', f);
				json_write_float(f, row[s]);
			}
			fputc(']', f);
		}
		fputc(']', f);
	}
	fputc(']', f);
}

static const char *group_name(uint8_t g)
{
	return g == (ATTNSTATS_LOC | ATTNSTATS_GLOB) ? "both" : g == ATTNSTATS_LOC ? "local"
	       : g == ATTNSTATS_GLOB ? "global" : "";
}

int inspect_write_json(const struct inspect *in, FILE *f)
{
	const struct attnstats_config *sc = &in->stats->cfg;
	fputs("{\"prompt\": ", f);
	json_write_string(f, in->opt->prompt);
	fprintf(f, ",\n \"prompt_len\": %d, \"resp_len\": %d, \"generated\": %s, \"strategy\": ",
		in->P, in->R, in->generated ? "true" : "false");
	json_write_string(f, in->cfg->credit.strategy);
	fprintf(f, ",\n \"window\": %d, \"fai_lo\": %d, \"fai_hi\": %d, \"head_quantile\": ",
		sc->window, sc->fai_lo, sc->fai_hi);
	json_write_number(f, sc->head_quantile);
	fputs(", \"top_q\": ", f);
	json_write_number(f, in->cp.top_q);
	fputs(",\n \"layers\": [", f);
	for (int i = 0; i < sc->n_sampled; i++)
		fprintf(f, "%s%d", i ? ", " : "", sc->layers[i]);
	fprintf(f, "], \"heads_per_layer\": %d,\n \"tokens\": [", sc->n_heads);
	for (int r = 0; r < in->R; r++) {
		int len;
		const char *p = inspect_piece(in, r, &len);
		if (r)
			fputs(", ", f);
		json_write_strn(f, p, (size_t)len);
	}
	fputc(']', f);
	json_floats(f, "waad", in->res.waad, in->R);
	json_floats(f, "fai", in->res.fai, in->R);
	fputs(",\n \"fai_ok\": [", f);
	for (int r = 0; r < in->R; r++)
		fprintf(f, "%s%s", r ? ", " : "", in->res.fai_ok[r] ? "true" : "false");
	fputc(']', f);
	json_floats(f, "delta", in->delta, in->R);
	json_floats(f, "gamma", in->gamma, in->R);
	json_floats(f, "entropy", in->entropy, in->R);
	json_set(f, "preplan", in->sets, in->R, CREDIT_IN_LOC);
	json_set(f, "anchor", in->sets, in->R, CREDIT_IN_GLOB);
	json_set(f, "dominated", in->sets, in->R, CREDIT_IN_D);
	json_set(f, "intro", in->sets, in->R, CREDIT_IN_I);
	json_floats(f, "d", in->res.d, in->res.n_pairs);
	fputs(",\n \"group\": [", f);
	for (int q = 0; q < in->res.n_pairs; q++)
		fprintf(f, "%s\"%s\"", q ? ", " : "", group_name(in->res.group[q]));
	fputs("],\n \"maps_check\": {\"waad\": ", f);
	json_write_number(f, in->diff_waad);
	fputs(", \"fai\": ", f);
	json_write_number(f, in->diff_fai);
	fputc('}', f);
	if (in->opt->with_maps && in->maps)
		json_maps(f, in);
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
