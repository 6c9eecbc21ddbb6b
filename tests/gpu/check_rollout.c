/*
 * check_rollout.c - the GPU decode loop (src/rollout_gpu.c) over the emulated GPU engine and
 * kernels (tests/gpu/emu), run by tests/test_kernels_emu.sh:
 *  1. teacher forcing: every response the GPU loop sampled is fed through the CPU engine
 *     (src/engine.c, tested against PyTorch) with the statistics on; the recorded log-probs and
 *     entropies match the CPU engine's within bf16 accuracy, the CPU sampler with the same
 *     per-sequence stream picks the same token almost always (a wrong stream, position or
 *     token order agrees at chance), and the statistics (distance sums, WAAD, FAI) agree;
 *  2. the stop decisions made on the device are rollout.c's (rollout_gpu checks every response
 *     itself; here EOS, stop-string and length stops must all occur);
 *  3. looking every 1, 3 or 8 steps, compacting the batch, CUDA graphs on or off: identical
 *     results (the emulated gemm does not depend on the batch size; on a GPU only graphs on
 *     and off at the same schedule must be identical); no capture may be the first use of a
 *     kernel or of a gemm shape (the emulation invalidates such a capture, as lazy loading
 *     does on a GPU);
 *  4. the stop-string table against the text rule on random token sequences whose pieces have
 *     several bytes and overlap the stop string;
 *  5. struct rollout's device hook, errors, and a stop request;
 *  6. an engine planned for more sequences than the decode loop (the finished rows name the
 *     engine's spare slot, past the loop's own sequences), with a FAI band long enough that the
 *     attention's kept scores need more than 48 KiB of shared memory: the same bytes as on an
 *     engine of the loop's size. `check_rollout --slots` runs this check alone and prints a
 *     digest of its results, which must not depend on the device's shared memory limit
 *     (tests/test_kernels_emu.sh runs it with ATTNRL_EMU_SMEM_OPTIN at 227, 99 and 48 KiB; the
 *     ASan build runs it in seconds).
 */
#include <string.h>

#include "attnrl/credit_stats.h"
#include "attnrl/engine_gpu.h"
#include "attnrl/kernels.h"
#include "attnrl/rollout.h"
#include "attnrl/rollout_gpu.h"
#include "attnrl/stop.h"
#include "check.h"

#define D 64
#define L 2
#define H 4
#define KV 2
#define E 32
#define F 96
#define C 64
#include "engine_fixture.h"
#include "bf16_fixture.h"

#define NP 3 /* prompts */
#define G 3  /* responses per prompt */
#define B (NP * G)
#define MAX_NEW 36

static const char *PROMPTS[NP] = { "12+34-7=", "5-3=", "40+41+42-1=" };
static int32_t ids[NP][64];
static const int32_t *rows[NP];
static int lens[NP];

static struct attnstats *new_stats(void)
{
	struct attnstats_config c = { .n_layers = L, .n_heads = H, .n_sampled = 2, .layers = { 0, 1 },
				      .window = 4, .fai_lo = 3, .fai_hi = 12, .head_quantile = 0.3 };
	return attnstats_create(&c, B, MAX_NEW);
}

static struct rollout_gpu *loop_new(struct engine_gpu *g, struct fixture *f, int every, int graphs)
{
	char err[256];
	struct rollout_gpu_opts o = { every, graphs };
	struct rollout_gpu *r = rollout_gpu_create(g, &f->eng->cfg, B, &f->tok, &o, err, sizeof(err));
	CHECK(r != NULL, "rollout_gpu_create: %s", err);
	return r;
}

static int gen(struct rollout_gpu *r, const struct rollout_params *p, struct rollout_batch *out)
{
	char err[256] = "";
	int rc = rollout_gpu_generate(r, rows, lens, NP, G, p, out, err, sizeof(err));
	CHECK(rc == 0, "rollout_gpu_generate: %s", err);
	return rc;
}

/* ---- 1, 2: against the CPU engine ------------------------------------------------------ */

struct agree {
	int tokens, same_token, other_stream, reasons[3];
	double lp_err, ent_err, st_err;
};

/* logp of tok and the entropy under softmax(x / T), as rollout_sample computes them */
static void logp_entropy(const float *x, int V, double T, int tok, double *lp, double *ent)
{
	double mx = -INFINITY, sum = 0, e = 0;
	for (int i = 0; i < V; i++)
		mx = x[i] / T > mx ? x[i] / T : mx;
	for (int i = 0; i < V; i++)
		sum += exp(x[i] / T - mx);
	for (int i = 0; i < V; i++) {
		double l = x[i] / T - mx - log(sum);
		e -= exp(l) * l;
	}
	*lp = x[tok] / T - mx - log(sum);
	*ent = e;
}

/* worst difference of the statistics of slot b over its R rows, relative to their scale */
static double stats_err(const struct attnstats *a, const struct attnstats *c, int b, int R)
{
	int Q = a->n_pairs, M = a->max_resp;
	double worst = 0, scale_d = 1e-6, scale_w = 1e-6, scale_f = 1e-6;
	for (int q = 0; q < Q; q++) {
		scale_d = fmax(scale_d, fabs(c->dsum[b * Q + q]));
		for (int k = 0; k < R; k++) {
			scale_w = fmax(scale_w, fabs(c->waad[((size_t)b * Q + q) * M + k]));
			scale_f = fmax(scale_f, fabs(c->fai[((size_t)b * Q + q) * M + k]));
		}
	}
	for (int q = 0; q < Q; q++) {
		worst = fmax(worst, fabs(a->dsum[b * Q + q] - c->dsum[b * Q + q]) / scale_d);
		for (int k = 0; k < R; k++) {
			size_t i = ((size_t)b * Q + q) * M + k;
			worst = fmax(worst, fabs(a->waad[i] - c->waad[i]) / scale_w);
			worst = fmax(worst, fabs(a->fai[i] - c->fai[i]) / scale_f);
		}
	}
	return worst;
}

/* sequence b of rb through the CPU engine, one row per call after the prompt */
static void teacher_force(struct fixture *f, const struct rollout_batch *rb, int b,
			  const struct rollout_params *p, struct attnstats *cst, struct agree *a)
{
	int V = f->eng->cfg.vocab_size, P = rb->prompt_len[b], R = rb->resp_len[b];
	const int32_t *t = rb->tokens + (size_t)b * rb->cap_len;
	float *x = malloc((size_t)V * 4), *probs = malloc((size_t)V * 4);
	int *order = malloc((size_t)V * sizeof(int)), seq[64], pos[64], last = P - 1;
	struct rng rng, other; /* the sequence's stream, and its neighbour's */
	rng_init3(&rng, p->seed, (uint64_t)b, 0x726f6c6cULL);
	rng_init3(&other, p->seed, (uint64_t)(b + 1), 0x726f6c6cULL);
	attnstats_begin(cst, b, P);
	f->eng->stats = cst;
	for (int i = 0; i < P; i++)
		seq[i] = b, pos[i] = i;
	engine_forward(f->eng, P, seq, pos, t, 1, &last, x);
	for (int k = 0; k < R; k++) {
		int32_t want = t[P + k];
		double lp, ent;
		float slp, sent;
		logp_entropy(x, V, p->temperature, want, &lp, &ent);
		size_t at = (size_t)b * rb->cap_len + P + k;
		a->lp_err = fmax(a->lp_err, fabs(lp - rb->logp[at]) / (0.05 + 0.05 * fabs(lp)));
		a->ent_err = fmax(a->ent_err, fabs(ent - rb->entropy[at]) / (0.05 + 0.05 * ent));
		a->same_token += rollout_sample(x, V, p, &rng, order, probs, &slp, &sent) == want;
		a->other_stream += rollout_sample(x, V, p, &other, order, probs, &slp, &sent) == want;
		a->tokens++;
		int row_pos = P + k, zero = 0;
		engine_forward(f->eng, 1, &b, &row_pos, &t[P + k], 1, &zero, x);
	}
	f->eng->stats = NULL;
	a->reasons[rb->stop_reason[b]]++;
	free(x);
	free(probs);
	free(order);
}

static void check_against_cpu(struct fixture *f, struct engine_gpu *g)
{
	struct rollout_gpu *r = loop_new(g, f, 4, 1);
	struct rollout_batch rb;
	rollout_batch_init(&rb, B, C);
	struct attnstats *gst = new_stats(), *cst = new_stats();
	/* a stop string of two tokens (these responses hold it after "A", after "AA" and never) */
	struct rollout_params p = { .max_new_tokens = MAX_NEW, .temperature = 1.0, .top_p = 0.95,
				    .stop = "A0", .seed = 11, .stats = gst };
	if (!r || gen(r, &p, &rb))
		goto out;
	struct agree a = { 0 };
	for (int b = 0; b < B; b++) {
		teacher_force(f, &rb, b, &p, cst, &a);
		a.st_err = fmax(a.st_err, stats_err(gst, cst, b, rb.resp_len[b]));
	}
	printf("rollout_gpu vs CPU engine: %d tokens; the CPU sampler on the CPU logits picks the "
	       "same token %d times with the sequence's stream, %d with its neighbour's; worst "
	       "log-prob error %.3f, entropy %.3f of the tolerance; statistics within %.4f of their "
	       "scale; stops: %d EOS, %d stop string, %d length\n", a.tokens, a.same_token,
	       a.other_stream, a.lp_err, a.ent_err, a.st_err, a.reasons[0], a.reasons[1],
	       a.reasons[2]);
	CHECK(a.lp_err <= 1 && a.ent_err <= 1, "log-probs / entropies differ from the CPU engine's");
	/* bf16 logits move some draws across a boundary of the cumulative distribution or reorder
	 * near-equal probabilities of top-p's sort (here 87% agree; another stream: 27%) */
	CHECK(a.same_token >= a.tokens * 4 / 5 && a.other_stream <= a.tokens * 2 / 5,
	      "the CPU sampler picked the GPU's token %d of %d times (%d with another stream)",
	      a.same_token, a.tokens, a.other_stream);
	CHECK(a.st_err <= 0.03, "statistics differ from the CPU engine's by %.4f of their scale",
	      a.st_err);
	CHECK(a.reasons[1] > 0 && a.reasons[2] > 0, "the test should see stop-string and length "
	      "stops (%d, %d)", a.reasons[1], a.reasons[2]);
out:
	attnstats_destroy(gst);
	attnstats_destroy(cst);
	rollout_batch_free(&rb);
	rollout_gpu_destroy(r);
}

/* ---- 3: how often the host looks, compaction, graphs ------------------------------------ */

static int same_run(const struct rollout_batch *a, const struct rollout_batch *b,
		    const struct attnstats *sa, const struct attnstats *sb)
{
	size_t bt = (size_t)B * a->cap_len;
	size_t sq = (size_t)B * sa->n_pairs, sqm = sq * sa->max_resp;
	return !memcmp(a->tokens, b->tokens, bt * 4) && !memcmp(a->logp, b->logp, bt * 4) &&
	       !memcmp(a->entropy, b->entropy, bt * 4) && !memcmp(a->resp_len, b->resp_len, B * 4) &&
	       !memcmp(a->stop_reason, b->stop_reason, B * 4) &&
	       !memcmp(sa->dsum, sb->dsum, sq * 8) && !memcmp(sa->waad, sb->waad, sqm * 4) &&
	       !memcmp(sa->fai, sb->fai, sqm * 4);
}

/* in the emulation every schedule gives the same bytes; on a GPU cuBLAS may pick another
 * kernel for another batch size, so only graphs on and off at the same schedule must agree */
static void check_schedules(struct fixture *f, struct engine_gpu *g)
{
	struct { int every, graphs; } s[4] = { { 1, 0 }, { 3, 1 }, { 8, 1 }, { 3, 0 } };
	struct rollout_batch rb[4];
	struct attnstats *st[4];
	struct rollout_gpu_counts n[4];
	struct rollout_params p = { .max_new_tokens = 20, .temperature = 1.0, .top_k = 20,
				    .stop = "A", .seed = 5 };
	for (int i = 0; i < 4; i++) {
		rollout_batch_init(&rb[i], B, C);
		st[i] = new_stats();
		p.stats = st[i];
		struct rollout_gpu *r = loop_new(g, f, s[i].every, s[i].graphs);
		if (r && !gen(r, &p, &rb[i]))
			rollout_gpu_counts(r, &n[i]);
		rollout_gpu_destroy(r);
	}
	CHECK(same_run(&rb[1], &rb[3], st[1], st[3]), "graphs on and off: results differ");
#ifdef ATTNRL_CUDA_EMU
	CHECK(same_run(&rb[0], &rb[1], st[0], st[1]) && same_run(&rb[0], &rb[2], st[0], st[2]),
	      "looking every 1, 3, 8 steps, with or without graphs: results differ");
#else
	printf("rollout_gpu schedules: every 1 vs every 8 %s\n", same_run(&rb[0], &rb[2], st[0],
	       st[2]) ? "identical" : "differ (cuBLAS kernels chosen per batch size)");
#endif
	CHECK(n[0].captures == 0 && n[0].checks == n[0].steps, "every step looked at, no graphs");
	for (int i = 1; i < 3; i++) {
		/* each batch size's first step runs uncaptured, every later one is a graph (a failed
		 * capture would decode the rest uncaptured) */
		CHECK(n[i].graph_launches + n[i].warmups == n[i].steps &&
		      n[i].warmups == n[i].compactions + 1 && n[i].captures >= 1 &&
		      n[i].captures <= n[i].warmups, "graphs: %ld steps, %ld launches, %ld warm-up "
		      "steps, %ld captures, %ld compactions", n[i].steps, n[i].graph_launches,
		      n[i].warmups, n[i].captures, n[i].compactions);
		CHECK(n[i].checks == (n[i].steps + s[i].every - 1) / s[i].every,
		      "every %d: %ld checks for %ld steps", s[i].every, n[i].checks, n[i].steps);
	}
	CHECK(n[0].compactions >= 1, "responses of different lengths should compact the batch");
	printf("rollout_gpu schedules: every 1: %ld steps, %ld compactions; every 8 with graphs: "
	       "%ld steps, %ld checks, %ld warm-up steps, %ld captures\n", n[0].steps,
	       n[0].compactions, n[2].steps, n[2].checks, n[2].warmups, n[2].captures);
	for (int i = 0; i < 4; i++) {
		rollout_batch_free(&rb[i]);
		attnstats_destroy(st[i]);
	}
}

/* ---- 4: the stop-string table ----------------------------------------------------------- */

static void check_stop_table(void)
{
	const char *pieces[] = { "a", "b", "ab", "ba", "aab", "</", "answer>", "</answer>",
				 "x</answ", "er>y", "", NULL, "r>", "</answer></", "bab" };
	const char *stops[] = { "</answer>", "aab", "abab", "a", "ba" };
	int V = sizeof(pieces) / sizeof(pieces[0]);
	struct rng r;
	rng_init(&r, 3);
	int sequences = 0, matches = 0, wrong = 0;
	for (size_t si = 0; si < sizeof(stops) / sizeof(stops[0]); si++) {
		const char *s = stops[si];
		size_t m = strlen(s);
		uint16_t *next = malloc(m * V * 2);
		CHECK(rollout_gpu_stop_table(pieces, V, s, next) == 0, "stop table of '%s'", s);
		for (int n = 0; n < 2000; n++, sequences++) {
			char text[1024] = "";
			int q = 0;
			for (int k = 0; k < 40; k++) {
				int t = (int)rng_range(&r, 0, V - 1);
				strcat(text, pieces[t] ? pieces[t] : "");
				size_t len = strlen(text);
				int host = len >= m && !memcmp(text + len - m, s, m);
				q = next[(size_t)q * V + t];
				wrong += host != (q == (int)m);
				if (host || q == (int)m) {
					matches++;
					break;
				}
			}
		}
		free(next);
	}
	CHECK(wrong == 0, "stop table: %d decisions differ from the text rule", wrong);
	CHECK(matches > sequences / 4, "stop table: too few matches (%d of %d) to test it", matches,
	      sequences);
	printf("stop table vs the text rule: %d random sequences, %d stops, %d differences\n",
	       sequences, matches, wrong);
}

/* ---- 5: the device hook, errors, a stop request ----------------------------------------- */

static void check_hook_and_errors(struct fixture *f, struct engine_gpu *g)
{
	struct rollout_gpu *r = loop_new(g, f, 8, 1);
	struct rollout_batch a, b;
	rollout_batch_init(&a, B, C);
	rollout_batch_init(&b, B, C);
	struct rollout_params p = { .max_new_tokens = 5, .temperature = 0.0, .stop = "", .seed = 1 };
	char err[256];
	if (!r)
		goto out;
	gen(r, &p, &a);
	f->ro.device = rollout_gpu_device_fn;
	f->ro.device_ctx = r;
	CHECK(rollout_generate(&f->ro, rows, lens, NP, G, &p, &b, err, sizeof(err)) == 0 &&
	      !memcmp(a.tokens, b.tokens, (size_t)B * C * 4), "struct rollout's device hook");
	f->ro.device = NULL;
	CHECK(rollout_gpu_generate(r, rows, lens, NP, G + 1, &p, &b, err, sizeof(err)) == -1 &&
	      strstr(err, "exceed the planned batch"), "too many sequences: %s", err);
	p.max_new_tokens = C;
	CHECK(rollout_gpu_generate(r, rows, lens, NP, G, &p, &b, err, sizeof(err)) == -1 &&
	      strstr(err, "model.max_seq_len"), "too long: %s", err);
	p.max_new_tokens = 12; /* not complete at the first look, after 8 steps */
	p.interruptible = 1;
	stop_request(STOP_DEADLINE);
	CHECK(rollout_gpu_generate(r, rows, lens, NP, G, &p, &b, err, sizeof(err)) ==
	      ROLLOUT_INTERRUPTED, "a stop request interrupts an interruptible rollout");
	p.interruptible = 0;
	p.max_new_tokens = 5;
	CHECK(rollout_gpu_generate(r, rows, lens, NP, G, &p, &b, err, sizeof(err)) == 0 &&
	      !memcmp(a.tokens, b.tokens, (size_t)B * C * 4), "and not another one");
out:
	rollout_batch_free(&a);
	rollout_batch_free(&b);
	rollout_gpu_destroy(r);
}

/* ---- 6: more engine slots than sequences, a long FAI band ------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ULL;
	return h;
}

static void check_slots(struct fixture *f, struct engine_gpu *g)
{
	char err[256];
	struct engine_gpu *wide = engine_gpu_create(&f->eng->cfg, &f->w, 0, 0, B + 1, B, C, err,
						    sizeof(err));
	CHECK(wide != NULL, "engine_gpu_create: %s", err);
	struct attnstats_config c = { .n_layers = L, .n_heads = H, .n_sampled = 2, .layers = { 0, 1 },
				      .window = 4, .fai_lo = 3, .fai_hi = 4000, .head_quantile = 0.3 };
	struct attnstats *st[2] = { attnstats_create(&c, B, 20), attnstats_create(&c, B, 20) };
	struct rollout_batch rb[2];
	struct rollout_params p = { .max_new_tokens = 20, .temperature = 1.0, .top_k = 20,
				    .stop = "A", .seed = 5 };
	struct engine_gpu *eng[2] = { g, wide };
	for (int i = 0; i < 2; i++) {
		rollout_batch_init(&rb[i], B, C);
		p.stats = st[i];
		struct rollout_gpu *r = wide ? loop_new(eng[i], f, 8, 1) : NULL;
		if (r)
			gen(r, &p, &rb[i]);
		rollout_gpu_destroy(r);
	}
	if (wide) {
		CHECK(same_run(&rb[0], &rb[1], st[0], st[1]), "%d sequences on an engine of %d and "
		      "of %d slots: results differ", B, B, B + 1);
		size_t bt = (size_t)B * rb[0].cap_len, sq = (size_t)B * st[0]->n_pairs;
		uint64_t h = 0xcbf29ce484222325ULL;
		h = fnv(h, rb[0].tokens, bt * 4);
		h = fnv(h, rb[0].logp, bt * 4);
		h = fnv(h, rb[0].entropy, bt * 4);
		h = fnv(h, st[0]->dsum, sq * 8);
		h = fnv(h, st[0]->waad, sq * st[0]->max_resp * 4);
		h = fnv(h, st[0]->fai, sq * st[0]->max_resp * 4);
		printf("rollout_gpu on engines of %d and %d slots, FAI band %d: digest %016llx\n", B,
		       B + 1, c.fai_hi, (unsigned long long)h);
	}
	for (int i = 0; i < 2; i++) {
		rollout_batch_free(&rb[i]);
		attnstats_destroy(st[i]);
	}
	engine_gpu_destroy(wide);
}

/* the KV cache released between rollouts (rollout.release_kv) and made again by the next: the
 * engine refuses to run without it; the rollout after each release, its graphs captured again,
 * gives the bytes of the one before */
static void check_release_kv(struct fixture *f, struct engine_gpu *g)
{
	struct rollout_batch rb[3];
	struct attnstats *st[3];
	struct rollout_gpu_counts n[3];
	struct rollout_params p = { .max_new_tokens = 20, .temperature = 1.0, .top_k = 20,
				    .stop = "A", .seed = 7 };
	struct rollout_gpu *r = loop_new(g, f, 3, 1);
	for (int i = 0; i < 3; i++) {
		rollout_batch_init(&rb[i], B, C);
		st[i] = new_stats();
		p.stats = st[i];
		if (i) {
			engine_gpu_kv_release(g);
			engine_gpu_kv_release(g); /* twice: a no-op */
			CHECK(engine_gpu_run(g, 1, 0) == -1, "the engine ran without its KV cache");
		}
		if (r && !gen(r, &p, &rb[i]))
			rollout_gpu_counts(r, &n[i]);
	}
	CHECK(r && same_run(&rb[0], &rb[1], st[0], st[1]) && same_run(&rb[0], &rb[2], st[0], st[2]),
	      "a rollout after the KV cache was released and made again differs");
	CHECK(r && n[1].captures >= 1 && n[2].captures >= 1, "graphs not captured again after a "
	      "release (%ld, %ld captures)", n[1].captures, n[2].captures);
	CHECK(engine_gpu_kv_reserve(g) == 0, "the KV cache should be there after a rollout");
	printf("rollout_gpu: KV cache (%.0f KiB) released and made again twice: the same bytes, "
	       "graphs captured again (%ld, %ld)\n", engine_gpu_kv_bytes(g) / 1024, n[1].captures,
	       n[2].captures);
	for (int i = 0; i < 3; i++) {
		attnstats_destroy(st[i]);
		rollout_batch_free(&rb[i]);
	}
	rollout_gpu_destroy(r);
}

int main(int argc, char **argv)
{
	int only_slots = argc > 1 && !strcmp(argv[1], "--slots");
	struct fixture f;
	fixture_init(&f, B);
	bf16_fixture(&f);
	for (int i = 0; i < NP; i++) {
		ids[i][0] = f.tok.bos_id;
		lens[i] = 1 + tokenizer_encode(&f.tok, PROMPTS[i], ids[i] + 1, 63);
		rows[i] = ids[i];
	}
	char err[256];
	/* B rows per engine call: the 23 prefill rows of the prompts go in three calls */
	struct engine_gpu *g = engine_gpu_create(&f.eng->cfg, &f.w, 0, 0, B, B, C, err, sizeof(err));
	CHECK(g != NULL, "engine_gpu_create: %s", err);
	if (g && !only_slots) {
		check_against_cpu(&f, g);
		check_schedules(&f, g);
		check_hook_and_errors(&f, g);
		check_release_kv(&f, g);
	}
	if (g)
		check_slots(&f, g);
	if (!only_slots)
		check_stop_table();
	engine_gpu_destroy(g);
	fixture_free(&f);
	return check_done("check_rollout");
}
