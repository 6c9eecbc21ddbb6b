/*
 * inspect.h - `attnrl inspect`: one prompt and one response (given, teacher-forced, or generated
 * by the model) through the decode engine with the attention statistics streaming, as in
 * training (docs/method.md sections 3-7); prints the head groups and a per-token table (WAAD, FAI,
 * Delta, entropy, the preplan / anchor / dominated / introducer sets, gamma), checks the
 * streamed statistics against the map-based reference (the sequence fed again in slot 1 with
 * its maps captured), and optionally writes a picture (SVG) and every number (JSON).
 * Per-token arrays are (R), index r = position P + r; maps are (Q, N, N), Q sampled
 * (layer, head) pairs in (layer, head) order, N = P + R.
 */
#ifndef ATTNRL_INSPECT_H
#define ATTNRL_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attnrl/attnstats.h"
#include "attnrl/config.h"
#include "attnrl/credit.h"
#include "attnrl/policy.h"

/* exit statuses of inspect_run */
#define INSPECT_FAILED 1    /* run-time failure: memory, a file, the engine */
#define INSPECT_BAD_INPUT 2 /* usage: text outside the vocabulary, too long, bad credit.* keys */
#define INSPECT_CHECK_TOL 1e-5 /* streamed vs map-based WAAD / FAI (docs/method.md section 7) */

struct inspect_options {
	const char *prompt;          /* --prompt TEXT (required) */
	const char *response;        /* --response TEXT; NULL = the model generates it */
	const char *svg_path;        /* --svg FILE; default inspect.svg */
	const char *json_path;       /* --json FILE; NULL = none */
	int with_maps;               /* --with-maps: the maps go into the JSON */
	int n_config_args;           /* CONFIG then section.key=value overrides, */
	char **config_args;          /* moved to the front of argv by inspect_args */
};

/* everything known about the inspected response */
struct inspect {
	const struct config *cfg;
	const struct inspect_options *opt;
	struct policy pol;
	struct attnstats *stats;     /* slot 0: the response (streamed), slot 1: map capture */
	struct attnstats_result res; /* streamed: d, groups, WAAD, FAI, fai_ok */
	struct attnstats_result ref; /* the same from the maps, under res's grouping */
	struct credit_params cp;     /* cp.strategy is coupled when the configured one is none */
	enum credit_strategy strategy; /* as configured */
	int P, R, N, generated, stop_reason;
	int32_t *tokens;             /* (N) BOS, prompt, response */
	float *entropy, *delta, *gamma; /* (R) */
	uint8_t *sets;               /* (R) CREDIT_IN_* flags */
	float *maps;                 /* (Q, N, N), NULL when too large to check */
	double diff_waad, diff_fai;  /* max |streamed - maps|; NAN when not checked */
};

/* splits argv (after the command name) into flags and CONFIG + overrides; -1 with one line */
int inspect_args(struct inspect_options *o, int argc, char **argv, char *err, size_t n);
/* the whole command on a loaded, validated config: 0, INSPECT_FAILED or INSPECT_BAD_INPUT
 * with one line in err; the report goes to stdout */
int inspect_run(const struct config *c, const struct inspect_options *o, char *err, size_t n);

/* response token r's text (len bytes) and its sets as "PADI" ('.' where not in; R / E added for
 * the random / entropy strategies; out holds 8) */
const char *inspect_piece(const struct inspect *in, int r, int *len);
void inspect_sets_text(const struct inspect *in, int r, char *out);

/* the report (inspect_report.c): header lines and the per-token table */
void inspect_print(const struct inspect *in, FILE *f);
/* every number as one JSON object (maps included with --with-maps); 0 or -1 */
int inspect_write_json(const struct inspect *in, FILE *f);
/* the picture (inspect_svg.c): WAAD curve over the response tokens, FAI bars, marked sets,
 * gamma strip, legend; standalone SVG 1.1; 0 or -1 */
int inspect_write_svg(const struct inspect *in, FILE *f);

#endif
