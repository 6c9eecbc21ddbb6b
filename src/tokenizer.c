/*
 * tokenizer.c - the tokenizer struct and its character-level vocabulary (see tokenizer.h).
 * Every table lives in one allocation, sized before it is filled: the piece pointers, the
 * lengths, the special flags, then the NUL-terminated texts.
 */
#include "attnrl/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "tokenizer_internal.h"

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
int tokenizer_alloc(struct tokenizer *t, int V, size_t text_bytes)
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
	t->add_bos = 1;
	t->stop_ids[t->n_stop_ids++] = t->eos_id;
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

int tokenizer_load(struct tokenizer *t, const char *path, char *err, size_t n)
{
	struct stat st;
	memset(t, 0, sizeof(*t));
	if (stat(path, &st)) {
		snprintf(err, n, "tokenizer '%s': %s; give a tokenizer.json, a llama2.c tokenizer.bin "
			 "or a model folder", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		char file[4096];
		snprintf(file, sizeof(file), "%s/tokenizer.json", path);
		if (access(file, R_OK)) {
			snprintf(err, n, "tokenizer: folder '%s' has no readable tokenizer.json; set "
				 "model.tokenizer to the tokenizer file", path);
			return -1;
		}
		return tokenizer_load_bpe(t, file, err, n);
	}
	if (fs_has_suffix(path, ".bin"))
		return tokenizer_load_llama2c(t, path, err, n);
	return tokenizer_load_bpe(t, path, err, n);
}

void tokenizer_free(struct tokenizer *t)
{
	if (t->impl_free)
		t->impl_free(t->impl);
	free(t->mem);
	memset(t, 0, sizeof(*t));
}

int tokenizer_encode(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids)
{
	if (t->impl_encode)
		return t->impl_encode(t, text, ids, max_ids);
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

int32_t tokenizer_find(const struct tokenizer *t, const char *text)
{
	size_t k = strlen(text);
	for (int32_t id = 0; id < t->vocab_size; id++)
		if ((size_t)t->piece_len[id] == k && !memcmp(t->piece[id], text, k))
			return id;
	return -1;
}

int tokenizer_is_stop(const struct tokenizer *t, int32_t id)
{
	for (int i = 0; i < t->n_stop_ids; i++)
		if (t->stop_ids[i] == id)
			return 1;
	return 0;
}

const char *tokenizer_text(const struct tokenizer *t, int32_t id)
{
	return id >= 0 && id < t->vocab_size && !t->special[id] ? t->piece[id] : "";
}
