/*
 * tokenizer_bpe_internal.h - the encoder state of a byte-level BPE tokenizer, shared by its loader
 * (src/tokenizer_bpe.c) and its encoder (src/tokenizer_merges.c); internal to those two files.
 */
#ifndef ATTNRL_TOKENIZER_BPE_INTERNAL_H
#define ATTNRL_TOKENIZER_BPE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "attnrl/tokenizer.h"
#include "attnrl/tokenizer_pretok.h"

struct bpe_merge {
	uint64_t pair;   /* left id << 32 | right id; BPE_NO_PAIR when the slot is empty */
	int32_t rank, id; /* the merge's line in the file and the id it makes */
};
#define BPE_NO_PAIR UINT64_MAX

struct bpe_added {
	const char *text; /* the content, in the tokenizer's piece block or the added pool */
	int len;
	int32_t id;
	unsigned char lstrip, rstrip;
};

struct bpe_cache; /* word -> ids, src/tokenizer_merges.c */

struct bpe {
	int32_t *vocab;           /* hash slots: the id of each byte string (-1 empty) */
	uint32_t vocab_mask;
	struct bpe_merge *merge;  /* hash slots of the merges */
	uint32_t merge_mask;
	int32_t byte_id[256];     /* the one-byte tokens BPE starts from (-1: none, dropped) */
	int nfc, ignore_merges;
	enum pretok_kind pretok;
	struct bpe_added *added;  /* sorted by first byte, then longest first */
	int n_added;
	int added_first[257];     /* added tokens starting with byte b: [added_first[b], [b + 1]) */
	char *added_text;         /* copies of the added tokens' contents */
	struct bpe_cache *cache;
	pthread_mutex_t lock;     /* guards cache */
};

struct bpe *bpe_create(size_t n_vocab, size_t n_merges);
void bpe_destroy(void *b);
int bpe_vocab_add(struct bpe *b, const struct tokenizer *t, int32_t id); /* -1: duplicate bytes */
int32_t bpe_vocab_find(const struct bpe *b, const struct tokenizer *t, const char *s, size_t n);
void bpe_merge_add(struct bpe *b, int32_t left, int32_t right, int32_t rank, int32_t id);
int bpe_encode(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids);

#endif
