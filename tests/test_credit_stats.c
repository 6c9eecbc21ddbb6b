/*
 * test_credit_stats.c - docs/method.md sections 2-4 and 7:
 *  1. the sampled layers (round half to even of linspace(floor(L/3), floor(2L/3), 5));
 *  2. d, head groups, WAAD and FAI from a small hand-worked map;
 *  3. streamed statistics equal the map-based reference within 1e-5, with identical head
 *     groups: on a teacher-forced sequence, and on real rollouts of several batch shapes
 *     (prompts of different lengths, early EOS, max length reached), where every sequence's maps
 *     are rebuilt afterwards by feeding its tokens through the engine with capture on.
 */
#include <math.h>
#include <string.h>

#include "attnrl/credit.h"
#include "attnrl/credit_stats.h"
#include "attnrl/rollout.h"
#include "check.h"
#include "engine_fixture.h"

static void test_layers(void)
{
	int l[8], n = attnstats_auto_layers(36, l);
	CHECK(n == 5 && l[0] == 12 && l[1] == 15 && l[2] == 18 && l[3] == 21 && l[4] == 24,
	      "L=36: %d layers, first %d", n, l[0]);
	n = attnstats_auto_layers(28, l); /* 9 11.25 13.5 15.75 18 */
	CHECK(n == 5 && l[1] == 11 && l[2] == 14 && l[3] == 16, "L=28: %d %d %d", l[1], l[2], l[3]);
	n = attnstats_auto_layers(5, l); /* 1 1.5 2 2.5 3 -> 1 2 2 2 3 */
	CHECK(n == 3 && l[0] == 1 && l[1] == 2 && l[2] == 3, "L=5: %d layers", n);
	n = attnstats_auto_layers(4, l); /* 1 1.25 1.5 1.75 2 -> 1 1 2 2 2 */
	CHECK(n == 2 && l[0] == 1 && l[1] == 2, "L=4: %d layers", n);
	struct attnstats_config c = { .n_layers = 8, .n_heads = 2 };
	char err[256];
	CHECK(!attnstats_parse_layers(&c, "1,3,5", err, sizeof(err)) && c.n_sampled == 3 &&
	      c.layers[2] == 5, "parse 1,3,5");
	CHECK(attnstats_parse_layers(&c, "3,1", err, sizeof(err)) == -1, "descending list refused");
	CHECK(attnstats_parse_layers(&c, "9", err, sizeof(err)) == -1 && strstr(err, "[0, 8)"),
	      "out of range: %s", err);
	CHECK(attnstats_parse_layers(&c, "1,x", err, sizeof(err)) == -1, "garbage refused");
}

/* N = 4, P = 1: R = {1, 2, 3}; W = 2, H_lo = 1, H_hi = 2; two pairs.
 * pair 0 (local): rows  t=1: [.2 .8]        t=2: [0 .3 .7]      t=3: [0 0 .5 .5]
 * pair 1 (global): rows t=1: [1 0]          t=2: [.6 .4 0]      t=3: [.5 .5 0 0]
 * d0 = (.2*1 + .3*1 + .5*1) / 3 = 1/3;  d1 = (1*1 + (.6*2 + .4*1) + (.5*3 + .5*2)) / 3 = 5.1/3
 * group (quantile .5 of 2 pairs = 1 each): pair 0 local, pair 1 global.
 * WAAD_t = sum_s A0[t,s] min(t-s, 2): t=1: .2;  t=2: .3;  t=3: .5
 * FAI_s over T(s) = {t : s+1 <= t <= min(3, s+2)}: s=1: T={2,3}: (.4 + .5)/2 = .45;
 *   s=2: T={3}: 0; s=3: T empty -> 0, not ok */
static void test_hand_map(void)
{
	float maps[2][4][4] = {
		{ { 1, 0, 0, 0 }, { .2f, .8f, 0, 0 }, { 0, .3f, .7f, 0 }, { 0, 0, .5f, .5f } },
		{ { 1, 0, 0, 0 }, { 1, 0, 0, 0 }, { .6f, .4f, 0, 0 }, { .5f, .5f, 0, 0 } },
	};
	struct attnstats_config c = { .n_layers = 1, .n_heads = 2, .n_sampled = 1, .layers = { 0 },
				      .window = 2, .fai_lo = 1, .fai_hi = 2, .head_quantile = 0.5 };
	struct attnstats_result r;
	attnstats_result_init(&r, 2, 3);
	attnstats_from_maps(&c, &maps[0][0][0], 2, 4, 1, NULL, &r);
	CHECK_NEAR(r.d[0], 1.0 / 3, 1e-6, "d pair 0");
	CHECK_NEAR(r.d[1], 5.1 / 3, 1e-6, "d pair 1");
	CHECK(r.group[0] == ATTNSTATS_LOC && r.group[1] == ATTNSTATS_GLOB, "groups %d %d", r.group[0], r.group[1]);
	CHECK_NEAR(r.waad[0], .2, 1e-6, "WAAD t=1");
	CHECK_NEAR(r.waad[1], .3, 1e-6, "WAAD t=2");
	CHECK_NEAR(r.waad[2], .5, 1e-6, "WAAD t=3");
	CHECK_NEAR(r.fai[0], .45, 1e-6, "FAI s=1");
	CHECK_NEAR(r.fai[1], 0, 1e-6, "FAI s=2");
	CHECK(r.fai_ok[0] && r.fai_ok[1] && !r.fai_ok[2], "T(s) empty only for s=3");
	/* the streamed formulas on the same rows */
	struct attnstats *s = attnstats_create(&c, 1, 3);
	attnstats_begin(s, 0, 1);
	for (int t = 1; t < 4; t++)
		for (int h = 0; h < 2; h++)
			attnstats_row(s, 0, 0, h, t, maps[h][t], 1.0f);
	struct attnstats_result q;
	attnstats_result_init(&q, 2, 3);
	q.P = 1, q.R = 3;
	attnstats_distances(s, 0, 3, q.d);
	attnstats_group(&c, 2, q.d, q.group);
	attnstats_finalize(s, 0, &q);
	for (int t = 0; t < 3; t++) {
		CHECK_NEAR(q.waad[t], r.waad[t], 1e-6, "streamed WAAD");
		CHECK_NEAR(q.fai[t], r.fai[t], 1e-6, "streamed FAI");
	}
	attnstats_destroy(s);
	attnstats_result_free(&r);
	attnstats_result_free(&q);
}

static struct attnstats_config fixture_stats_config(void)
{
	struct attnstats_config c = { .n_layers = L, .n_heads = H, .window = 10, .fai_lo = 10,
				      .fai_hi = 100, .head_quantile = 0.3 };
	c.n_sampled = 2, c.layers[0] = 0, c.layers[1] = 1;
	return c;
}

/* maps (Q, N, N) of tokens through the engine in slot `slot`, one row per call */
static void capture_maps(struct fixture *f, struct attnstats *s, int slot, const int32_t *tok,
			 int N, float *maps)
{
	memset(maps, 0, (size_t)s->n_pairs * N * N * sizeof(float));
	s->maps = maps, s->maps_seq = slot, s->maps_n = N;
	f->eng->stats = s;
	float logits[128];
	for (int t = 0; t < N; t++) {
		int out = 0;
		engine_forward(f->eng, 1, &slot, &t, &tok[t], 1, &out, logits);
	}
	f->eng->stats = NULL;
	s->maps = NULL;
}

/* streamed result of slot seq against the reference from maps: values and sets; with a batch
 * grouping (per_batch) when group is given, else per response */
static void compare(const char *what, struct attnstats *s, int seq, int P, int R, const float *maps,
		    const uint8_t *group)
{
	struct attnstats_result st, ref;
	attnstats_result_init(&st, s->n_pairs, R + 1);
	attnstats_result_init(&ref, s->n_pairs, R + 1);
	st.P = P, st.R = R;
	attnstats_distances(s, seq, R, st.d);
	if (group)
		memcpy(st.group, group, s->n_pairs);
	else
		attnstats_group(&s->cfg, s->n_pairs, st.d, st.group);
	attnstats_finalize(s, seq, &st);
	attnstats_from_maps(&s->cfg, maps, s->n_pairs, P + R, P, group, &ref);
	double worst = 0;
	for (int q = 0; q < s->n_pairs; q++)
		worst = fmax(worst, fabs(st.d[q] - ref.d[q]) / fmax(1.0, fabs(ref.d[q])));
	for (int t = 0; t < R; t++) {
		worst = fmax(worst, fabs(st.waad[t] - ref.waad[t]));
		worst = fmax(worst, fabs(st.fai[t] - ref.fai[t]));
	}
	CHECK(worst < 1e-5, "%s: streamed vs maps differ by %g", what, worst);
	CHECK(!memcmp(st.group, ref.group, s->n_pairs), "%s: head groups differ", what);
	CHECK(!memcmp(st.fai_ok, ref.fai_ok, R), "%s: T(s) emptiness differs", what);
	struct credit_params cp;
	credit_params_default(&cp);
	cp.strategy = CREDIT_COUPLED;
	float d1[128], d2[128], g1[128], g2[128];
	uint8_t s1[128], s2[128];
	credit_assign(&cp, R, st.waad, st.fai, st.fai_ok, NULL, NULL, d1, s1, g1);
	credit_assign(&cp, R, ref.waad, ref.fai, ref.fai_ok, NULL, NULL, d2, s2, g2);
	CHECK(!memcmp(s1, s2, R), "%s: selected sets differ", what);
	for (int t = 0; t < R; t++)
		CHECK_NEAR(g1[t], g2[t], 1e-5, "gamma");
	attnstats_result_free(&st);
	attnstats_result_free(&ref);
}

static void test_rollouts(struct fixture *f)
{
	struct attnstats_config c = fixture_stats_config();
	struct attnstats *s = attnstats_create(&c, 12, 64);
	struct rollout_batch rb;
	rollout_batch_init(&rb, 12, C);
	static float maps[2 * H * C * C];
	const char *prompts[3] = { "12+34-7=", "5-3=", "40+41+42-1=" };
	int32_t ids[3][32];
	const int32_t *rows[3];
	int lens[3];
	for (int i = 0; i < 3; i++) {
		ids[i][0] = f->tok.bos_id;
		lens[i] = 1 + tokenizer_encode(&f->tok, prompts[i], ids[i] + 1, 31);
		rows[i] = ids[i];
	}
	/* shapes: G=3 with max length reached; then an EOS that ends some responses early */
	for (int shape = 0; shape < 2; shape++) {
		struct rollout_params p = { .max_new_tokens = shape ? 60 : 40, .ignore_eos = !shape,
					    .temperature = 1.0,
					    .top_p = 1.0, .seed = 11 + shape, .stats = s };
		int32_t saved = f->tok.eos_id;
		if (shape)
			f->tok.eos_id = f->tok.byte_id['5'];
		char err[256];
		CHECK(!rollout_generate(&f->ro, rows, lens, 3, 3, &p, &rb, err, sizeof(err)), "%s", err);
		f->tok.eos_id = saved;
		int early = 0;
		float d_stream[2 * H] = { 0 }, d_maps[2 * H] = { 0 }, d[2 * H];
		for (int b = 0; b < 9; b++) {
			int P = rb.prompt_len[b], R = rb.resp_len[b];
			early += R < p.max_new_tokens;
			capture_maps(f, s, 11, rb.tokens + (size_t)b * rb.cap_len, P + R, maps);
			char what[64];
			snprintf(what, sizeof(what), "shape %d sequence %d (P %d, R %d)", shape, b, P, R);
			compare(what, s, b, P, R, maps, NULL);
			/* per-batch grouping ranks heads by d averaged over the batch */
			struct attnstats_result ref;
			attnstats_result_init(&ref, s->n_pairs, R + 1);
			attnstats_from_maps(&s->cfg, maps, s->n_pairs, P + R, P, NULL, &ref);
			attnstats_distances(s, b, R, d);
			for (int q = 0; q < s->n_pairs; q++)
				d_stream[q] += d[q] / 9, d_maps[q] += ref.d[q] / 9;
			attnstats_result_free(&ref);
		}
		uint8_t g_stream[2 * H], g_maps[2 * H];
		attnstats_group(&s->cfg, s->n_pairs, d_stream, g_stream);
		attnstats_group(&s->cfg, s->n_pairs, d_maps, g_maps);
		CHECK(!memcmp(g_stream, g_maps, s->n_pairs), "shape %d: per-batch groups differ", shape);
		for (int b = 0; b < 9; b++) {
			int P = rb.prompt_len[b], R = rb.resp_len[b];
			capture_maps(f, s, 11, rb.tokens + (size_t)b * rb.cap_len, P + R, maps);
			compare("per-batch grouping", s, b, P, R, maps, g_stream);
		}
		CHECK(shape == 0 ? early == 0 : early > 0, "shape %d: %d early stops", shape, early);
	}
	rollout_batch_free(&rb);
	attnstats_destroy(s);
}

int main(void)
{
	struct fixture f;
	test_layers();
	test_hand_map();
	fixture_init(&f, 12);
	test_rollouts(&f);
	fixture_free(&f);
	return check_done("test_credit_stats");
}
