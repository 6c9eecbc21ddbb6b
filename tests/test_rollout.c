/*
 * test_rollout.c - batched sampling on the decode engine (pure C, random weights):
 * same seed -> same tokens (also across thread counts), different seed -> different tokens;
 * a prompt's greedy response does not depend on the other prompts of the batch (lengths
 * differ); stop strings, EOS and max_new_tokens end a response exactly; recorded log-probs and
 * entropies match their definition; top-k / top-p sample from the right renormalised set;
 * after a stop request (stop.h) an interruptible rollout returns before its first decode step
 * and another one runs to its end.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/rollout.h"
#include "attnrl/stop.h"
#include "check.h"
#include "engine_fixture.h"

static const char *PROMPTS[] = { "12+34-7=", "5-3=", "40+41+42-1=" };

static void gen(struct fixture *f, const int *which, int n, int G, struct rollout_params *p,
		struct rollout_batch *out)
{
	int32_t ids[3][64];
	const int32_t *rows[3];
	int lens[3];
	for (int i = 0; i < n; i++) {
		ids[i][0] = f->tok.bos_id;
		lens[i] = 1 + tokenizer_encode(&f->tok, PROMPTS[which[i]], ids[i] + 1, 63);
		rows[i] = ids[i];
	}
	char err[256];
	int rc = rollout_generate(&f->ro, rows, lens, n, G, p, out, err, sizeof(err));
	CHECK(rc == 0, "rollout_generate: %s", err);
}

static int same_tokens(const struct rollout_batch *a, int ia, const struct rollout_batch *b, int ib)
{
	if (a->resp_len[ia] != b->resp_len[ib] || a->prompt_len[ia] != b->prompt_len[ib])
		return 0;
	int n = a->prompt_len[ia] + a->resp_len[ia];
	return !memcmp(a->tokens + (size_t)ia * a->cap_len, b->tokens + (size_t)ib * b->cap_len,
		       n * sizeof(int32_t));
}

static void test_determinism(struct fixture *f)
{
	struct rollout_batch a, b;
	rollout_batch_init(&a, 12, C);
	rollout_batch_init(&b, 12, C);
	struct rollout_params p = { .max_new_tokens = 40, .top_k = 0, .temperature = 1.0, .top_p = 1.0, .stop = NULL, .seed = 7 };
	int which[3] = { 0, 1, 2 };
	omp_set_num_threads(1);
	gen(f, which, 3, 4, &p, &a);
	omp_set_num_threads(2);
	gen(f, which, 3, 4, &p, &b);
	int same = 1, differ_in_group = 0;
	for (int i = 0; i < 12; i++)
		same &= same_tokens(&a, i, &b, i);
	for (int i = 1; i < 4; i++)
		differ_in_group |= !same_tokens(&a, 0, &a, i);
	CHECK(same, "same seed, 1 vs 2 threads: tokens differ");
	CHECK(differ_in_group, "the G responses of one prompt are all identical");
	p.seed = 8;
	gen(f, which, 3, 4, &p, &b);
	int differ = 0;
	for (int i = 0; i < 12; i++)
		differ |= !same_tokens(&a, i, &b, i);
	CHECK(differ, "a different seed gave the same tokens");
	rollout_batch_free(&a);
	rollout_batch_free(&b);
}

static void test_batch_independence(struct fixture *f)
{
	struct rollout_batch all, one;
	rollout_batch_init(&all, 6, C);
	rollout_batch_init(&one, 6, C);
	struct rollout_params p = { .max_new_tokens = 30, .top_k = 0, .temperature = 0.0, .top_p = 1.0, .stop = NULL, .seed = 1 };
	int which[3] = { 0, 1, 2 };
	gen(f, which, 3, 2, &p, &all);
	for (int i = 0; i < 3; i++) {
		gen(f, &which[i], 1, 1, &p, &one);
		CHECK(same_tokens(&all, 2 * i, &one, 0), "prompt %d: greedy response depends on the batch", i);
		CHECK(same_tokens(&all, 2 * i + 1, &one, 0), "prompt %d: group copy differs", i);
	}
	CHECK(all.prompt_len[0] != all.prompt_len[2], "prompts should differ in length");
	rollout_batch_free(&all);
	rollout_batch_free(&one);
}

static void test_stops(struct fixture *f)
{
	struct rollout_batch a, b;
	rollout_batch_init(&a, 2, C);
	rollout_batch_init(&b, 2, C);
	struct rollout_params p = { .max_new_tokens = 24, .top_k = 0, .temperature = 1.0, .top_p = 1.0, .stop = NULL, .seed = 3 };
	int which[1] = { 0 };
	gen(f, which, 1, 2, &p, &a);
	CHECK(a.resp_len[0] == 24 && a.stop_reason[0] == ROLLOUT_LENGTH,
	      "max_new_tokens: len %d reason %d", a.resp_len[0], a.stop_reason[0]);
	/* a stop string taken from the unconstrained text ends the response at its first end */
	char stop[4];
	const char *text = rollout_text(&a, 0);
	memcpy(stop, text + 5, 3);
	stop[3] = 0;
	const char *first = strstr(text, stop);
	p.stop = stop;
	gen(f, which, 1, 2, &p, &b);
	const char *tb = rollout_text(&b, 0);
	CHECK(strlen(stop) == 3 && first, "stop string from '%s'", text);
	CHECK(b.stop_reason[0] == ROLLOUT_STOP_STRING && strlen(tb) == (size_t)(first - text) + 3 &&
	      !strncmp(tb, text, strlen(tb)), "stop '%s': got '%s' from '%s'", stop, tb, text);
	/* EOS: make the 4th sampled token the EOS id; the response ends with it, included */
	int32_t eos = a.tokens[a.prompt_len[0] + 3];
	int k = 0;
	while (a.tokens[a.prompt_len[0] + k] != eos)
		k++;
	int32_t saved = f->tok.stop_ids[0];
	f->tok.stop_ids[0] = eos;
	p.stop = NULL;
	gen(f, which, 1, 2, &p, &b);
	f->tok.stop_ids[0] = saved;
	CHECK(b.stop_reason[0] == ROLLOUT_EOS && b.resp_len[0] == k + 1,
	      "EOS: reason %d len %d, expected len %d", b.stop_reason[0], b.resp_len[0], k + 1);
	rollout_batch_free(&a);
	rollout_batch_free(&b);
}

static void test_sampler(void)
{
	float logits[5] = { logf(0.5f), logf(0.3f), logf(0.15f), logf(0.04f), logf(0.01f) };
	int order[5], counts[5] = { 0 };
	float probs[5], lp, ent;
	struct rng r;
	rng_init(&r, 9);
	struct rollout_params p = { .max_new_tokens = 1, .top_k = 0, .temperature = 1.0, .top_p = 0.75, .stop = NULL, .seed = 0 };
	for (int i = 0; i < 20000; i++)
		counts[rollout_sample(logits, 5, &p, &r, order, probs, &lp, &ent)]++;
	CHECK(counts[2] == 0 && counts[3] == 0 && counts[4] == 0, "top_p 0.75 kept a token outside {0,1}");
	CHECK_NEAR(counts[0] / 20000.0, 0.625, 0.015, "top_p 0.75: P(0) renormalised");
	memset(counts, 0, sizeof(counts));
	p = (struct rollout_params){ .max_new_tokens = 1, .top_k = 3, .temperature = 1.0, .top_p = 1.0, .stop = NULL, .seed = 0 };
	for (int i = 0; i < 20000; i++)
		counts[rollout_sample(logits, 5, &p, &r, order, probs, &lp, &ent)]++;
	CHECK(counts[3] == 0 && counts[4] == 0, "top_k 3 kept a token outside the top 3");
	CHECK_NEAR(counts[2] / 20000.0, 0.15 / 0.95, 0.012, "top_k 3: P(2) renormalised");
	/* temperature 2: logp and entropy of softmax(logits / 2) */
	p = (struct rollout_params){ .max_new_tokens = 1, .top_k = 0, .temperature = 2.0, .top_p = 1.0, .stop = NULL, .seed = 0 };
	int32_t t = rollout_sample(logits, 5, &p, &r, order, probs, &lp, &ent);
	double z = 0, h = 0;
	for (int i = 0; i < 5; i++)
		z += exp(logits[i] / 2);
	for (int i = 0; i < 5; i++) {
		double q = exp(logits[i] / 2) / z;
		h -= q * log(q);
	}
	CHECK_NEAR(lp, logits[t] / 2 - log(z), 1e-5, "logp at temperature 2");
	CHECK_NEAR(ent, h, 1e-5, "entropy at temperature 2");
	p.temperature = 0;
	CHECK(rollout_sample(logits, 5, &p, &r, order, probs, &lp, &ent) == 0, "greedy picks the argmax");
}

/* last: the stop flag cannot be cleared */
static void test_interrupt(struct fixture *f)
{
	struct rollout_batch b;
	rollout_batch_init(&b, 3, C);
	struct rollout_params p = { .max_new_tokens = 20, .temperature = 1.0, .top_p = 1.0,
				    .ignore_eos = 1, .seed = 3, .interruptible = 1 };
	int32_t ids[2] = { f->tok.bos_id, 5 };
	const int32_t *rows[1] = { ids };
	int lens[1] = { 2 };
	char err[256];
	stop_request(STOP_DEADLINE);
	int rc = rollout_generate(&f->ro, rows, lens, 1, 3, &p, &b, err, sizeof(err));
	CHECK(rc == ROLLOUT_INTERRUPTED && b.resp_len[0] == 1, "interruptible: rc %d, %d tokens", rc,
	      b.resp_len[0]);
	p.interruptible = 0;
	rc = rollout_generate(&f->ro, rows, lens, 1, 3, &p, &b, err, sizeof(err));
	CHECK(rc == 0 && b.resp_len[0] == 20, "not interruptible: rc %d, %d tokens", rc, b.resp_len[0]);
	rollout_batch_free(&b);
}

int main(void)
{
	struct fixture f;
	fixture_init(&f, 12);
	test_determinism(&f);
	test_batch_independence(&f);
	test_stops(&f);
	test_sampler();
	test_interrupt(&f);
	fixture_free(&f);
	return check_done("test_rollout");
}
