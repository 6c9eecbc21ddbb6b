/*
 * cmd_inspect.c - `attnrl inspect` (see cmd_inspect.h): set up, feed or generate the response with
 * the statistics streaming in slot 0, turn them into sets and gamma exactly as training does
 * (credit_batch.c), capture the maps in slot 1 for the reference check, then the table and the
 * JSON. The picture is in cmd_inspect_svg.c.
 */
#include "attnrl/cmd_inspect.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attnrl/commands.h"
#include "attnrl/credit_batch.h"
#include "attnrl/rollout.h"

#define INSPECT_MAPS_MAX_BYTES (4ull << 30) /* beyond this the maps check is skipped */

/* ---- arguments --------------------------------------------------------------------------- */

#define OPT(f) offsetof(struct inspect_options, f)
static const struct args_opt inspect_opts[] = {
	{ "CONFIG", ARGS_LIST, OPT(config), "CONFIG [section.key=value ...]", 0, 0, NULL,
	  ARGS_REQUIRED, "a YAML file, then overrides of its options" },
	{ "--prompt", ARGS_STR, OPT(prompt), "TEXT", 0, 0, NULL, ARGS_REQUIRED,
	  "the prompt to inspect" },
	{ "--response", ARGS_STR, OPT(response), "TEXT", 0, 0, NULL, ARGS_OPTIONAL,
	  "the response, teacher-forced (default: the model generates it)" },
	{ "--svg", ARGS_STR, OPT(svg_path), "FILE", 0, 0, "inspect.svg", ARGS_OPTIONAL,
	  "the picture" },
	{ "--json", ARGS_STR, OPT(json_path), "FILE", 0, 0, NULL, ARGS_OPTIONAL,
	  "every number as JSON" },
	{ "--with-maps", ARGS_SWITCH, OPT(with_maps), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "the attention maps of the sampled heads into the JSON too" },
	{ NULL },
};
const struct args_spec cmd_inspect_args = {
	"inspect", "per-token WAAD, FAI, sets, gamma of one response", inspect_opts
};

/* ---- setup ------------------------------------------------------------------------------- */

/* the credit.* keys as the trainer reads them; strategy none still shows the coupled sets */
static int params_from(struct inspect *in, const struct config *c, char *err, size_t n)
{
	if (rhythm_credit_params(&in->cp, c, err, n))
		return -1;
	in->strategy = in->cp.strategy;
	if (in->strategy == CREDIT_NONE)
		in->cp.strategy = CREDIT_COUPLED;
	return 0;
}

/* slot 0 streams the response, slot 1 captures maps; max_resp response tokens at most */
static int stats_create(struct inspect *in, int max_resp, char *err, size_t n)
{
	const struct model_config *mc = &in->pol.model->cfg;
	struct attnstats_config sc;
	if (rhythm_stats_config(&sc, in->cfg, mc->n_layers, mc->n_heads, err, n))
		return INSPECT_BAD_INPUT;
	in->stats = attnstats_create(&sc, 2, max_resp);
	if (!in->stats || attnstats_result_init(&in->res, in->stats->n_pairs, max_resp) ||
	    attnstats_result_init(&in->ref, in->stats->n_pairs, max_resp)) {
		snprintf(err, n, "inspect: out of memory for the attention statistics");
		return INSPECT_FAILED;
	}
	return 0;
}

/* text -> ids (no BOS); the count, or -1 with a line naming the first byte outside the vocab */
static int encode(const struct tokenizer *tok, const char *what, const char *text, int32_t *ids,
		  int cap, char *err, size_t n)
{
	int k = tokenizer_encode(tok, text, ids, cap);
	if (k >= 0)
		return k;
	for (size_t i = 0; text[i]; i++) {
		unsigned char b = (unsigned char)text[i];
		if (tok->kind == TOKENIZER_CHARS && tok->byte_id[b] < 0) {
			snprintf(err, n, "%s: byte 0x%02x at offset %zu is not in the vocabulary (tab, "
				 "newline and printable ASCII only); remove or replace it", what, b, i);
			return -1;
		}
	}
	snprintf(err, n, "%s: cannot encode %zu bytes", what, strlen(text));
	return -1;
}

/* entropy of softmax(x) (temperature 1) */
static float logits_entropy(const float *x, int V)
{
	double mx = x[0], z = 0, s = 0;
	for (int i = 1; i < V; i++)
		mx = x[i] > mx ? x[i] : mx;
	for (int i = 0; i < V; i++) {
		double e = exp(x[i] - mx);
		z += e;
		s += e * (x[i] - mx);
	}
	return (float)(log(z) - s / z);
}

/* ---- the response ------------------------------------------------------------------------ */

/* the given response, teacher-forced: prompt rows (untracked) in chunks, then one response row
 * per call (attnstats: one response row per tracked sequence per call), the last one included;
 * the entropy of token r comes from the logits of the row before it */
static int feed_forced(struct inspect *in, char *err, size_t n)
{
	struct engine *e = in->pol.eng;
	int V = e->cfg.vocab_size, rc = 0;
	float *logits = malloc((size_t)V * sizeof(float));
	int *seq = calloc((size_t)e->max_rows, sizeof(int)), *pos = malloc(e->max_rows * sizeof(int));
	if (!logits || !seq || !pos) {
		snprintf(err, n, "inspect: out of memory");
		rc = INSPECT_FAILED;
		goto out;
	}
	attnstats_begin(in->stats, 0, in->P);
	e->stats = in->stats;
	for (int first = 0; first < in->P && !rc; first += e->max_rows) {
		int m = in->P - first < e->max_rows ? in->P - first : e->max_rows, last = m - 1;
		for (int i = 0; i < m; i++)
			pos[i] = first + i;
		rc = engine_forward(e, m, seq, pos, in->tokens + first, 1, &last, logits);
	}
	for (int t = in->P; t < in->N && !rc; t++) {
		int zero = 0;
		in->entropy[t - in->P] = logits_entropy(logits, V);
		rc = engine_forward(e, 1, &zero, &t, in->tokens + t, 1, &zero, logits);
	}
	e->stats = NULL;
	if (rc) {
		snprintf(err, n, "inspect: the decode engine rejected a row (token or position out of range)");
		rc = INSPECT_FAILED;
	}
out:
	free(logits);
	free(seq);
	free(pos);
	return rc;
}

/* the model's own response: rollout_generate with the config's sampling, streaming slot 0 */
static int generate(struct inspect *in, int max_new, char *err, size_t n)
{
	const struct config *c = in->cfg;
	struct rollout_batch rb;
	struct rollout_params p = rollout_params_from_config(c);
	const int32_t *prompt = in->tokens;
	p.max_new_tokens = max_new;
	p.stats = in->stats;
	if (rollout_batch_init(&rb, 1, in->P + max_new)) {
		snprintf(err, n, "inspect: out of memory");
		return INSPECT_FAILED;
	}
	int rc = rollout_generate(&in->pol.ro, &prompt, &in->P, 1, 1, &p, &rb, err, n);
	if (!rc) {
		in->R = rb.resp_len[0];
		in->N = in->P + in->R;
		in->stop_reason = rb.stop_reason[0];
		memcpy(in->tokens + in->P, rb.tokens + in->P, in->R * sizeof(int32_t));
		memcpy(in->entropy, rb.entropy + in->P, in->R * sizeof(float));
	}
	rollout_batch_free(&rb);
	return rc ? INSPECT_FAILED : 0;
}

/* the prompt (and response) into in->tokens; the response is fed or generated */
static int respond(struct inspect *in, char *err, size_t n)
{
	const struct inspect_options *o = in->opt;
	const struct tokenizer *tok = &in->pol.tok;
	int max_len = (int)in->cfg->model.max_seq_len;
	size_t cap = strlen(o->prompt) + (o->response ? strlen(o->response) : 0) + 2;
	cap = cap > (size_t)max_len + 2 ? cap : (size_t)max_len + 2;
	in->tokens = malloc(cap * sizeof(int32_t));
	in->entropy = calloc(cap, sizeof(float));
	if (!in->tokens || !in->entropy) {
		snprintf(err, n, "inspect: out of memory");
		return INSPECT_FAILED;
	}
	in->tokens[0] = tok->bos_id;
	int k = encode(tok, "--prompt", o->prompt, in->tokens + 1, (int)cap - 1, err, n);
	if (k < 0)
		return INSPECT_BAD_INPUT;
	in->P = k + 1;
	if (o->response) {
		in->R = encode(tok, "--response", o->response, in->tokens + in->P, (int)cap - in->P, err, n);
		if (in->R < 0)
			return INSPECT_BAD_INPUT;
		in->N = in->P + in->R;
	}
	if (in->P + (o->response ? in->R : 1) > max_len) {
		snprintf(err, n, "the prompt (%d tokens with BOS) + %s (%d tokens) exceed model.max_seq_len=%d; "
			 "shorten them or raise model.max_seq_len", in->P,
			 o->response ? "the response" : "at least one generated token",
			 o->response ? in->R : 1, max_len);
		return INSPECT_BAD_INPUT;
	}
	int max_new = max_len - in->P < in->cfg->rollout.max_new_tokens ? max_len - in->P
									: (int)in->cfg->rollout.max_new_tokens;
	int rc = stats_create(in, o->response ? in->R : max_new, err, n);
	if (rc)
		return rc;
	in->generated = !o->response;
	return o->response ? feed_forced(in, err, n) : generate(in, max_new, err, n);
}

/* ---- statistics -------------------------------------------------------------------------- */

/* as credit_batch.c's one_response: d, groups (per response), WAAD / FAI, sets and gamma */
static int assign(struct inspect *in, char *err, size_t n)
{
	struct attnstats_result *r = &in->res;
	in->delta = calloc(in->R, sizeof(float));
	in->gamma = calloc(in->R, sizeof(float));
	in->sets = calloc(in->R, 1);
	if (!in->delta || !in->gamma || !in->sets) {
		snprintf(err, n, "inspect: out of memory");
		return INSPECT_FAILED;
	}
	r->P = in->P;
	r->R = in->R;
	attnstats_distances(in->stats, 0, in->R, r->d);
	attnstats_group(&in->stats->cfg, r->n_pairs, r->d, r->group);
	attnstats_finalize(in->stats, 0, r);
	struct rng rng;
	rng_init3(&rng, (uint64_t)in->cfg->run.seed, 0x637265646974ULL, 0);
	credit_assign(&in->cp, in->R, r->waad, r->fai, r->fai_ok, in->entropy, &rng, in->delta,
		      in->sets, in->gamma);
	for (int t = 0; in->strategy == CREDIT_NONE && t < in->R; t++)
		in->gamma[t] = 1.0f;
	return 0;
}

/* the reference: the whole sequence fed again in slot 1, one row per call, every row's maps
 * kept; WAAD / FAI from their definitions under the streamed grouping */
static int check_maps(struct inspect *in, char *err, size_t n)
{
	struct attnstats *s = in->stats;
	struct engine *e = in->pol.eng;
	int Q = s->n_pairs, N = in->N, slot = 1, rc = 0;
	size_t bytes = (size_t)Q * N * N * sizeof(float);
	in->diff_waad = in->diff_fai = NAN;
	if (bytes > INSPECT_MAPS_MAX_BYTES) {
		if (!in->opt->with_maps)
			return 0;
		snprintf(err, n, "--with-maps: %d x %d x %d maps need %.1f GiB; use a shorter response "
			 "or fewer credit.layers", Q, N, N, bytes / 1073741824.0);
		return INSPECT_FAILED;
	}
	float *logits = malloc((size_t)e->cfg.vocab_size * sizeof(float));
	in->maps = calloc((size_t)Q * N * N, sizeof(float));
	if (!logits || !in->maps) {
		free(logits);
		snprintf(err, n, "inspect: out of memory for %d x %d x %d attention maps", Q, N, N);
		return INSPECT_FAILED;
	}
	attnstats_stop(s, slot);
	s->maps = in->maps, s->maps_seq = slot, s->maps_n = N;
	e->stats = s;
	for (int t = 0; t < N && !rc; t++) {
		int zero = 0;
		rc = engine_forward(e, 1, &slot, &t, in->tokens + t, 1, &zero, logits);
	}
	e->stats = NULL;
	s->maps = NULL;
	free(logits);
	if (rc || attnstats_from_maps(&s->cfg, in->maps, Q, N, in->P, in->res.group, &in->ref)) {
		snprintf(err, n, "inspect: the map-based reference failed (engine or memory)");
		return INSPECT_FAILED;
	}
	in->diff_waad = in->diff_fai = 0;
	for (int t = 0; t < in->R; t++) {
		in->diff_waad = fmax(in->diff_waad, fabs((double)in->res.waad[t] - in->ref.waad[t]));
		in->diff_fai = fmax(in->diff_fai, fabs((double)in->res.fai[t] - in->ref.fai[t]));
	}
	return 0;
}

/* one output file through writer; flag names it in the error */
static int write_file(const struct inspect *in, const char *flag, const char *path,
		      int (*writer)(const struct inspect *, FILE *), char *err, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, n, "%s %s: cannot open for writing: %s", flag, path, strerror(errno));
		return INSPECT_FAILED;
	}
	int rc = writer(in, f);
	if (rc | ferror(f) | fclose(f)) {
		snprintf(err, n, "%s %s: write failed (disk full?)", flag, path);
		return INSPECT_FAILED;
	}
	printf("wrote %s\n", path);
	return 0;
}

/* ---- the command ------------------------------------------------------------------------- */

/* the output paths are tried first, so that a bad one fails before the model runs (a file
 * that did not exist is removed again) */
static int check_paths(const struct inspect_options *o, char *err, size_t n)
{
	const char *paths[2] = { o->svg_path, o->json_path }, *flags[2] = { "--svg", "--json" };
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (!paths[i])
			continue;
		int existed = stat(paths[i], &st) == 0;
		FILE *f = fopen(paths[i], "a");
		if (!f) {
			snprintf(err, n, "%s %s: cannot open for writing: %s; choose a writable path",
				 flags[i], paths[i], strerror(errno));
			return -1;
		}
		fclose(f);
		if (!existed)
			remove(paths[i]);
	}
	return 0;
}

static void inspect_free(struct inspect *in)
{
	free(in->tokens);
	free(in->entropy);
	free(in->delta);
	free(in->gamma);
	free(in->sets);
	free(in->maps);
	attnstats_result_free(&in->res);
	attnstats_result_free(&in->ref);
	attnstats_destroy(in->stats);
	policy_free(&in->pol);
}

/* the whole command on a loaded, validated config: 0, INSPECT_FAILED or INSPECT_BAD_INPUT
 * with one line in err; the report goes to stdout */
static int inspect_run(const struct config *c, const struct inspect_options *o, char *err, size_t n)
{
	struct inspect *in = calloc(1, sizeof(*in));
	if (!in) {
		snprintf(err, n, "inspect: out of memory");
		return INSPECT_FAILED;
	}
	in->cfg = c;
	in->opt = o;
	int rc = check_paths(o, err, n) ? INSPECT_FAILED : 0;
	if (!rc && params_from(in, c, err, n))
		rc = INSPECT_BAD_INPUT;
	policy_set_threads(c->train.threads);
	if (!rc && policy_init(&in->pol, c, 2, err, n))
		rc = INSPECT_FAILED;
	rc = rc ? rc : respond(in, err, n);
	rc = rc ? rc : assign(in, err, n);
	rc = rc ? rc : check_maps(in, err, n);
	if (!rc)
		inspect_print(in, stdout);
	if (!rc && o->svg_path)
		rc = write_file(in, "--svg", o->svg_path, inspect_write_svg, err, n);
	if (!rc && o->json_path)
		rc = write_file(in, "--json", o->json_path, inspect_write_json, err, n);
	if (!rc && fmax(in->diff_waad, in->diff_fai) >= INSPECT_CHECK_TOL) {
		snprintf(err, n, "inspect: the streamed statistics differ from the maps by %.2e (> %.0e): "
			 "a bug in attnstats or the engine", fmax(in->diff_waad, in->diff_fai),
			 INSPECT_CHECK_TOL);
		rc = INSPECT_FAILED;
	}
	inspect_free(in);
	free(in);
	return rc;
}

int cmd_inspect(int argc, char **argv)
{
	static struct config c;
	struct inspect_options o = { 0 };
	char err[1024];
	int rc = args_parse(&cmd_inspect_args, &o, argc, argv, err, sizeof(err));
	if (!rc && o.response && !o.response[0])
		rc = -1, snprintf(err, sizeof(err), "--response is empty: give at least one "
				  "character, or leave it out to let the model generate the response");
	if (rc)
		return args_exit(&cmd_inspect_args, rc, err);
	if (cmd_config_load(&c, &o.config))
		return INSPECT_BAD_INPUT;
	rc = inspect_run(&c, &o, err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl inspect: %s\n", err);
	return rc;
}
