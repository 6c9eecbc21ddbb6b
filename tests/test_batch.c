/*
 * test_batch.c - packing rollout rows for the training forward (src/batch.c): a pack of any row
 * list holds each row's tokens shifted by one (inputs, targets), the response mask and the
 * padding after it; gather and scatter move per-token arrays between the rollout's layout and
 * the pack's and back. batch_plan's micro-batches: every row of the range exactly once; with a
 * budget, rows longest first and each micro-batch within the budget (padding included) unless
 * it is one row; without one, rollout order in groups of the given size.
 */
#include <stdlib.h>
#include <string.h>

#include "attnrl/batch.h"
#include "attnrl/rng.h"
#include "check.h"

#define NB 24
#define CAP 64

static void fill_batch(struct rollout_batch *rb, struct rng *r)
{
	for (int b = 0; b < NB; b++) {
		rb->prompt_len[b] = rng_range(r, 2, 12);
		rb->resp_len[b] = rng_range(r, 1, CAP - 12);
		for (int j = 0; j < CAP; j++)
			rb->tokens[b * CAP + j] = j < rb->prompt_len[b] + rb->resp_len[b] ? 1000 * b + j : 0;
	}
}

static void check_pack(const struct rollout_batch *rb)
{
	struct batch_pack p;
	int rows[4] = { 7, 2, 19, 2 }; /* any rows, in any order, even twice */
	CHECK(!batch_pack_init(&p, 4, CAP, 0), "init");
	CHECK(!batch_pack_rows(&p, rb, rows, 4), "pack");
	int T = 0;
	for (int i = 0; i < 4; i++)
		T = batch_row_len(rb, rows[i]) > T ? batch_row_len(rb, rows[i]) : T;
	CHECK(p.B == 4 && p.T == T, "shape %d x %d, want 4 x %d", p.B, p.T, T);
	for (int i = 0; i < 4; i++) {
		int b = rows[i], P = rb->prompt_len[b], n = P + rb->resp_len[b];
		for (int j = 0; j < p.T; j++) {
			size_t at = (size_t)i * p.T + j;
			int in = j + 1 < n;
			CHECK(p.ids[at] == (in ? 1000 * b + j : 0) && p.targets[at] == (in ? 1000 * b + j + 1 : 0),
			      "row %d position %d", b, j);
			CHECK(p.mask[at] == (j + 1 >= P && in), "mask row %d position %d", b, j);
		}
	}
	float *src = calloc(NB * CAP, sizeof(float)), *dst = calloc(NB * CAP, sizeof(float));
	float *packed = calloc((size_t)p.B * p.T, sizeof(float));
	for (int i = 0; i < NB * CAP; i++)
		src[i] = (float)i;
	batch_pack_gather(&p, rb, src, packed);
	batch_pack_scatter(&p, rb, packed, dst);
	for (int i = 0; i < 3; i++) { /* rows 7, 2, 19: response tokens come back, nothing else */
		int b = rows[i], P = rb->prompt_len[b], n = P + rb->resp_len[b];
		for (int j = 0; j < CAP; j++)
			CHECK(dst[b * CAP + j] == (j >= P && j < n ? src[b * CAP + j] : 0.0f),
			      "round trip row %d token %d", b, j);
	}
	CHECK(batch_pack_rows(&p, rb, (int[]){ 1, 2, 3, 4, 5 }, 5) == -1, "5 rows in a pack of 4");
	free(src);
	free(dst);
	free(packed);
	batch_pack_free(&p);
}

static void check_plan(const struct rollout_batch *rb, int first, int count, long budget, int per)
{
	int order[NB], starts[NB + 1], seen[NB] = { 0 };
	int k = batch_plan(rb, first, count, budget, per, order, starts);
	CHECK(k >= 1 && starts[0] == 0 && starts[k] == count, "plan of %d rows: %d micro-batches", count, k);
	for (int i = 0; i < count; i++) {
		CHECK(order[i] >= first && order[i] < first + count, "row %d out of range", order[i]);
		if (order[i] >= first && order[i] < first + count)
			seen[order[i]]++;
	}
	for (int b = first; b < first + count; b++)
		CHECK(seen[b] == 1, "row %d appears %d times", b, seen[b]);
	for (int m = 0; m < k; m++) {
		int n = starts[m + 1] - starts[m], T = batch_row_len(rb, order[starts[m]]);
		CHECK(n >= 1, "empty micro-batch");
		if (!budget) {
			CHECK(n == (count - starts[m] < per ? count - starts[m] : per) &&
			      order[starts[m]] == first + starts[m], "fixed micro-batch %d", m);
			continue;
		}
		CHECK(n == 1 || (long)n * T <= budget, "micro-batch %d: %d rows x %d > %ld", m, n, T, budget);
		if (m + 1 < k) /* a greedy plan: the next row would not have fitted */
			CHECK((long)(n + 1) * T > budget, "micro-batch %d could take one more row", m);
	}
	for (int i = 1; budget && i < count; i++)
		CHECK(batch_row_len(rb, order[i - 1]) >= batch_row_len(rb, order[i]), "not longest first");
}

int main(void)
{
	struct rollout_batch rb;
	struct rng r;
	rng_init(&r, 5);
	CHECK(!rollout_batch_init(&rb, NB, CAP), "rollout_batch_init");
	fill_batch(&rb, &r);
	check_pack(&rb);
	check_plan(&rb, 0, NB, 0, 5);
	check_plan(&rb, 8, 8, 0, 4);
	check_plan(&rb, 0, NB, 64, 0);
	check_plan(&rb, 0, NB, 150, 0);
	check_plan(&rb, 8, 16, 1000, 0);
	check_plan(&rb, 0, NB, 30, 0); /* rows longer than the budget: one each */
	rollout_batch_free(&rb);
	return check_done("test_batch");
}
