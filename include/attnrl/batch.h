/*
 * batch.h - packing sequences of a rollout batch for the training forward: inputs are tokens
 * 0..n-2, targets tokens 1..n-1, so packed position j predicts token j+1. Per-token arrays of the
 * rollout (indexed by token, (B, cap_len)) are gathered into packed positions and back.
 * Shapes: B packed sequences, T packed positions.
 */
#ifndef ATTNRL_BATCH_H
#define ATTNRL_BATCH_H

#include <stdint.h>

#include "attnrl/rollout.h"

struct batch_pack {
	int B, T, cap_B, cap_T;
	int first;          /* rollout index of packed row 0 */
	int64_t *ids;       /* (B, T) */
	int64_t *targets;   /* (B, T) */
	float *mask;        /* (B, T) 1 where the target is a response token */
	int *resp_len;      /* (B) */
	long tokens;        /* response tokens in the pack */
};

int batch_pack_init(struct batch_pack *p, int cap_B, int cap_T);
void batch_pack_free(struct batch_pack *p);
/* rows first..first+count-1 of rb; -1 when they exceed the capacity */
int batch_pack_build(struct batch_pack *p, const struct rollout_batch *rb, int first, int count);
/* token-indexed src (rb's B, cap_len) -> packed dst (B, T); zeros off the mask */
void batch_pack_gather(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
		       float *dst);
/* packed src (B, T) -> token-indexed dst, response tokens only */
void batch_pack_scatter(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
			float *dst);

#endif
