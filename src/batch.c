/* batch.c - packing rollout rows for the training forward (see batch.h). */
#include "attnrl/batch.h"

#include <stdlib.h>
#include <string.h>

int batch_pack_init(struct batch_pack *p, int cap_B, int cap_T)
{
	memset(p, 0, sizeof(*p));
	size_t n = (size_t)cap_B * cap_T;
	p->cap_B = cap_B;
	p->cap_T = cap_T;
	p->ids = calloc(n, sizeof(int64_t));
	p->targets = calloc(n, sizeof(int64_t));
	p->mask = calloc(n, sizeof(float));
	p->resp_len = calloc(cap_B, sizeof(int));
	if (!p->ids || !p->targets || !p->mask || !p->resp_len) {
		batch_pack_free(p);
		return -1;
	}
	return 0;
}

void batch_pack_free(struct batch_pack *p)
{
	free(p->ids);
	free(p->targets);
	free(p->mask);
	free(p->resp_len);
	memset(p, 0, sizeof(*p));
}

int batch_pack_build(struct batch_pack *p, const struct rollout_batch *rb, int first, int count)
{
	int T = 1;
	for (int i = 0; i < count; i++) {
		int n = rb->prompt_len[first + i] + rb->resp_len[first + i] - 1;
		T = n > T ? n : T;
	}
	if (count > p->cap_B || T > p->cap_T)
		return -1;
	p->B = count;
	p->T = T;
	p->first = first;
	p->tokens = 0;
	for (int i = 0; i < count; i++) {
		int b = first + i, P = rb->prompt_len[b], R = rb->resp_len[b];
		const int32_t *tok = rb->tokens + (size_t)b * rb->cap_len;
		for (int j = 0; j < T; j++) {
			size_t at = (size_t)i * T + j;
			int in_seq = j + 1 < P + R;
			p->ids[at] = in_seq ? tok[j] : 0;
			p->targets[at] = in_seq ? tok[j + 1] : 0;
			p->mask[at] = j + 1 >= P && j + 1 < P + R ? 1.0f : 0.0f;
		}
		p->resp_len[i] = R;
		p->tokens += R;
	}
	return 0;
}

void batch_pack_gather(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
		       float *dst)
{
	for (int i = 0; i < p->B; i++) {
		const float *s = src + (size_t)(p->first + i) * rb->cap_len;
		for (int j = 0; j < p->T; j++) {
			size_t at = (size_t)i * p->T + j;
			dst[at] = p->mask[at] ? s[j + 1] : 0.0f;
		}
	}
}

void batch_pack_scatter(const struct batch_pack *p, const struct rollout_batch *rb, const float *src,
			float *dst)
{
	for (int i = 0; i < p->B; i++) {
		float *d = dst + (size_t)(p->first + i) * rb->cap_len;
		for (int j = 0; j < p->T; j++) {
			size_t at = (size_t)i * p->T + j;
			if (p->mask[at])
				d[j + 1] = src[at];
		}
	}
}
