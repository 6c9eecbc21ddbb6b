/*
 * batch.h - packing sequences of a rollout batch for the training forward: inputs are tokens
 * 0..n-2, targets tokens 1..n-1, so packed position j predicts token j+1. Per-token arrays of the
 * rollout (indexed by token, (B, cap_len)) are gathered into packed positions and back.
 * Shapes: B packed sequences, T packed positions (the longest packed row; shorter rows padded).
 * The micro-batches of a mini-batch come from batch_plan: a fixed number of rows in rollout
 * order, or rows sorted by length and packed under a token budget (padding included).
 */
#ifndef ATTNRL_BATCH_H
#define ATTNRL_BATCH_H

#include <stdint.h>

#include "attnrl/rollout.h"

struct batch_pack {
	int B, T, cap_B, cap_T;
	long cap_n;         /* the most positions B x T */
	int *rows;          /* (B) the rollout row of each packed row */
	int64_t *ids;       /* (B, T) */
	int64_t *targets;   /* (B, T) */
	float *mask;        /* (B, T) 1 where the target is a response token */
	int *resp_len;      /* (B) */
	long tokens;        /* response tokens in the pack */
};

/* room for up to cap_B rows of up to cap_T positions, cap_n positions in all (0: cap_B x cap_T) */
int batch_pack_init(struct batch_pack *p, int cap_B, int cap_T, long cap_n);
void batch_pack_free(struct batch_pack *p);
/* the rollout rows rows[0..count) of rb; -1 when they exceed the capacity */
int batch_pack_rows(struct batch_pack *p, const struct rollout_batch *rb, const int *rows, int count);
/* rows first..first+count-1 of rb; -1 when they exceed the capacity */
int batch_pack_build(struct batch_pack *p, const struct rollout_batch *rb, int first, int count);
/* token-indexed src (rb's B, cap_len) -> packed dst (B, T); zeros off the mask */
void batch_pack_gather(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
		       float *dst);
/* packed src (B, T) -> token-indexed dst, response tokens only */
void batch_pack_scatter(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
			float *dst);

/* positions row b of rb takes in a pack (prompt + response - 1) */
int batch_row_len(const struct rollout_batch *rb, int b);
/* the micro-batches of rows [first, first + count): micro-batch k is rows order[starts[k] ..
 * starts[k + 1]). budget 0: rollout order, per rows at a time. budget > 0: rows sorted by
 * length (longest first) and packed while (rows x longest row) <= budget, a row longer than the
 * budget alone. order has count entries, starts count + 1; returns the number of micro-batches */
int batch_plan(const struct rollout_batch *rb, int first, int count, long budget, int per,
	       int *order, int *starts);

#endif
