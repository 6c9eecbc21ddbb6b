/*
 * test_grpo_advantage.c - docs/method.md section 8 worked by hand: group advantages (grpo with the
 * N-1 std and +1e-6, drgrpo), the token weights of the three loss aggregations, the schedule.
 */
#include <math.h>

#include "attnrl/grpo_advantage.h"
#include "attnrl/grpo_schedule.h"
#include "check.h"

static void test_advantages(void)
{
	/* group 1: rewards 1 0 0 1 -> mean .5, var (4 * .25) / 3 = 1/3, std .57735
	 * group 2: all equal -> 0 advantage (0 / (0 + 1e-6)) */
	float r[8] = { 1, 0, 0, 1, 0.1f, 0.1f, 0.1f, 0.1f }, a[8];
	adv_compute(r, 2, 4, ADV_GRPO, a);
	double s = sqrt(1.0 / 3.0);
	CHECK_NEAR(a[0], 0.5 / (s + 1e-6), 1e-6, "grpo a[0]");
	CHECK_NEAR(a[1], -0.5 / (s + 1e-6), 1e-6, "grpo a[1]");
	for (int i = 4; i < 8; i++)
		CHECK_NEAR(a[i], 0.0, 1e-6, "equal rewards give zero advantage");
	adv_compute(r, 2, 4, ADV_DRGRPO, a);
	CHECK_NEAR(a[0], 0.5, 1e-7, "drgrpo a[0]");
	CHECK_NEAR(a[2], -0.5, 1e-7, "drgrpo a[2]");
	/* rewards 1, 0.1, 0: mean 11/30, std sqrt(((19/30)^2 + (8/30)^2 + (11/30)^2) / 2) */
	float r3[3] = { 1, 0.1f, 0 }, a3[3];
	adv_compute(r3, 1, 3, ADV_GRPO, a3);
	double m = (1 + 0.1f + 0) / 3.0, sd = sqrt((pow(1 - m, 2) + pow(0.1f - m, 2) + m * m) / 2);
	CHECK_NEAR(a3[1], (0.1f - m) / (sd + 1e-6), 1e-6, "grpo three rewards");
}

static void test_weights(void)
{
	/* two sequences: 2 and 3 response tokens in 4 positions */
	float mask[8] = { 1, 1, 0, 0, 0, 1, 1, 1 }, w[8];
	int lens[2] = { 2, 3 };
	adv_token_weights(mask, lens, 2, 4, AGG_SEQ_MEAN_TOKEN_MEAN, 2, 5, 10, w);
	CHECK_NEAR(w[0], 1.0 / (2 * 2), 1e-7, "seq-mean-token-mean, seq 0");
	CHECK_NEAR(w[5], 1.0 / (3 * 2), 1e-7, "seq-mean-token-mean, seq 1");
	CHECK(w[2] == 0 && w[4] == 0, "padding has zero weight");
	adv_token_weights(mask, lens, 2, 4, AGG_TOKEN_MEAN, 2, 5, 10, w);
	CHECK_NEAR(w[0], 0.2, 1e-7, "token-mean");
	CHECK_NEAR(w[7], 0.2, 1e-7, "token-mean");
	adv_token_weights(mask, lens, 2, 4, AGG_SEQ_MEAN_TOKEN_SUM_NORM, 2, 5, 10, w);
	CHECK_NEAR(w[1], 1.0 / (10 * 2), 1e-7, "seq-mean-token-sum-norm");
	/* a mini-batch of 4 sequences split into two micro-batches of 2: the weights use the
	 * mini-batch size, so the two halves add up to the mini-batch mean */
	adv_token_weights(mask, lens, 2, 4, AGG_SEQ_MEAN_TOKEN_MEAN, 4, 10, 10, w);
	CHECK_NEAR(w[0] * 2 + w[5] * 3, 2.0 / 4.0, 1e-7, "micro-batch share of the mean");
	enum loss_agg agg;
	CHECK(loss_agg_parse("token-mean", &agg) == 0 && agg == AGG_TOKEN_MEAN, "parse");
	CHECK(loss_agg_parse("mean", &agg) == -1, "parse rejects unknown");
}

static void test_schedule(void)
{
	CHECK_NEAR(grpo_lr_at(0, 100, 1e-3, 0, 10, 1), 1e-4, 1e-12, "warmup step 0");
	CHECK_NEAR(grpo_lr_at(9, 100, 1e-3, 0, 10, 1), 1e-3, 1e-12, "warmup end");
	CHECK_NEAR(grpo_lr_at(55, 100, 1e-3, 0, 10, 1), 0.5e-3, 1e-12, "cosine midpoint");
	CHECK_NEAR(grpo_lr_at(100, 100, 1e-3, 1e-4, 10, 1), 1e-4, 1e-12, "cosine end = lr_min");
	CHECK_NEAR(grpo_lr_at(50, 100, 1e-3, 0, 0, 0), 1e-3, 1e-12, "constant");
}

int main(void)
{
	test_advantages();
	test_weights();
	test_schedule();
	return check_done("test_grpo_advantage");
}
