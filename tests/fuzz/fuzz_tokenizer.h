/*
 * fuzz_tokenizer.h - what the tokenizer targets do with a loaded tokenizer: encode a few fixed
 * texts and the input's own text, decode the ids back, look every id's piece up.
 */
#ifndef FUZZ_TOKENIZER_H
#define FUZZ_TOKENIZER_H

#include "attnrl/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_encode_decode(const struct tokenizer *t, const char *text)
{
	size_t len = strlen(text);
	int max_ids = (int)len + 8;
	int32_t *ids = malloc((size_t)max_ids * sizeof(*ids));
	int n = tokenizer_encode(t, text, ids, max_ids);
	if (n > 0) {
		size_t cap = 1;
		for (int i = 0; i < n; i++) {
			if (ids[i] < 0 || ids[i] >= t->vocab_size) {
				fprintf(stderr, "encode gave id %d outside [0, %d)\n", ids[i], t->vocab_size);
				abort();
			}
			cap += (size_t)t->piece_len[ids[i]];
		}
		char *out = malloc(cap);
		if (tokenizer_decode(t, ids, n, out, cap) < 0) {
			fprintf(stderr, "decode of %d encoded ids failed\n", n);
			abort();
		}
		free(out);
	}
	free(ids);
}

static void fuzz_tokenizer(const struct tokenizer *t, const char *text)
{
	static const char *const fixed[] = {
		"", " ", "Hello world", "Once upon a time, there was a little girl.\n",
		"  leading\tand  trailing  \r\n", "<|im_end|><s></s>", "ümlaut 日本語 😀 123456",
		"\xff\xfe\x80 bad utf-8 \xc3", "'s 're I'm can't", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		fuzz_encode_decode(t, fixed[i]);
	fuzz_encode_decode(t, text);
	/* the first ids and the last (a sparse vocabulary may have millions) */
	for (int32_t id = -1; id <= t->vocab_size; id++) {
		if (id == 1024 && t->vocab_size - 8 > id)
			id = t->vocab_size - 8;
		const char *p = tokenizer_piece(t, id);
		tokenizer_text(t, id);
		if (p && id < 64) /* a linear search */
			tokenizer_find(t, p);
		tokenizer_is_stop(t, id);
	}
}

#endif
