/*
 * tokenizer.c - the tokenizer struct and its character-level vocabulary (see tokenizer.h).
 * Every table lives in one allocation, sized before it is filled: the piece pointers, the
 * lengths, the special flags, then the NUL-terminated texts.
 */
#include "attnrl/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHARS_SPECIALS 3
#define CHARS_V (CHARS_SPECIALS + 2 + 95)

static const char *const chars_special[CHARS_SPECIALS] = { "<pad>", "<bos>", "<eos>" };

/* the byte of char-vocab id i >= CHARS_SPECIALS: '\t', '\n', then 32..126 */
static int chars_byte(int i)
{
	int k = i - CHARS_SPECIALS;
	return k == 0 ? '\t' : k == 1 ? '\n' : 32 + (k - 2);
}

/* one block for V pieces holding text_bytes of text (NULs included) */
static int tokenizer_alloc(struct tokenizer *t, int V, size_t text_bytes)
{
	size_t ptrs = (size_t)V * sizeof(char *), lens = (size_t)V * sizeof(int);
	char *m = calloc(1, ptrs + lens + (size_t)V + text_bytes);
	if (!m) {
		fprintf(stderr, "%s:%d: out of memory: tokenizer of %d pieces\n", __FILE__, __LINE__,
			V);
		return -1;
	}
	t->mem = m;
	t->vocab_size = V;
	t->piece = (char **)m;
	t->piece_len = (int *)(m + ptrs);
	t->special = (unsigned char *)(m + ptrs + lens);
	return 0;
}

int tokenizer_init_chars(struct tokenizer *t)
{
	memset(t, 0, sizeof(*t));
	size_t text_bytes = 0;
	for (int i = 0; i < CHARS_SPECIALS; i++)
		text_bytes += strlen(chars_special[i]) + 1;
	text_bytes += 2 * (CHARS_V - CHARS_SPECIALS);
	if (tokenizer_alloc(t, CHARS_V, text_bytes))
		return -1;
	t->kind = TOKENIZER_CHARS;
	t->pad_id = 0, t->bos_id = 1, t->eos_id = 2;
	char *text = (char *)(t->special + CHARS_V);
	memset(t->byte_id, -1, sizeof(t->byte_id));
	for (int i = 0; i < CHARS_V; i++) {
		t->piece[i] = text;
		if (i < CHARS_SPECIALS) {
			t->special[i] = 1;
			t->piece_len[i] = (int)strlen(chars_special[i]);
			memcpy(text, chars_special[i], (size_t)t->piece_len[i]);
		} else {
			t->piece_len[i] = 1;
			text[0] = (char)chars_byte(i);
			t->byte_id[chars_byte(i)] = i;
		}
		text += t->piece_len[i] + 1;
	}
	return 0;
}

void tokenizer_free(struct tokenizer *t)
{
	free(t->mem);
	memset(t, 0, sizeof(*t));
}

int tokenizer_encode(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids)
{
	int n = 0;
	for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
		int32_t id = t->byte_id[*s];
		if (id < 0 || n >= max_ids)
			return -1;
		ids[n++] = id;
	}
	return n;
}

int tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n, char *out, size_t cap)
{
	size_t len = 0;
	if (cap == 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int32_t id = ids[i];
		if (id < 0 || id >= t->vocab_size)
			goto fail;
		if (t->special[id])
			continue;
		size_t k = (size_t)t->piece_len[id];
		if (len + k + 1 > cap)
			goto fail;
		memcpy(out + len, t->piece[id], k);
		len += k;
	}
	out[len] = '\0';
	return (int)len;
fail:
	out[0] = '\0';
	return -1;
}

const char *tokenizer_piece(const struct tokenizer *t, int32_t id)
{
	return id >= 0 && id < t->vocab_size ? t->piece[id] : NULL;
}
