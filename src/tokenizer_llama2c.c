/*
 * tokenizer_llama2c.c - llama2.c's tokenizer.bin: int32 max_token_length, then per id a float
 * score, an int32 length and that many bytes. The file holds no count: ids are read until the
 * end of the file, which must fall exactly after a record.
 *
 * Encoding is run.c's encode() without BOS/EOS: a dummy-prefix " " when the text is not empty,
 * each UTF-8 codepoint looked up as a piece (else its bytes as ids 3 + byte), then the adjacent
 * pair whose concatenation is the best-scoring piece is merged, the leftmost on a tie, until no
 * pair is a piece. Lookups compare the file's strings (a byte token is "<0x0A>" there).
 * Decoding: "<0xXX>" pieces are that byte; ids 0, 1, 2 (<unk>, <s>, </s>) are special. BOS (1)
 * is also a stop id: run.c ends a sample when the model emits BOS, the start of the next story.
 */
#include "attnrl/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"

#include "tokenizer_internal.h"

#define L2C_SPECIALS 3  /* <unk> <s> </s> */
#define L2C_BYTE0 3     /* ids 3..258 are the bytes <0x00>..<0xFF> */

struct l2c_vocab {
	int V;
	char **str;       /* (V) the file's strings, NUL-terminated */
	float *score;     /* (V) */
	int *sorted;      /* (V) ids by strcmp of str, for bsearch */
	int max_len;      /* longest str */
	char *mem;        /* one block behind the tables */
};

static int by_str(const void *a, const void *b, void *vocab)
{
	const struct l2c_vocab *v = vocab;
	return strcmp(v->str[*(const int *)a], v->str[*(const int *)b]);
}

/* the id whose string is s, -1 if none */
static int vocab_find(const struct l2c_vocab *v, const char *s)
{
	int lo = 0, hi = v->V - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(s, v->str[v->sorted[mid]]);
		if (!c)
			return v->sorted[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* the byte of a "<0xXX>" string, -1 for any other string */
static int byte_piece(const char *s)
{
	unsigned int b;
	char end;
	if (strlen(s) != 6 || strncmp(s, "<0x", 3) || s[5] != '>')
		return -1;
	if (sscanf(s + 3, "%2X%c", &b, &end) != 2 || end != '>')
		return -1;
	return (int)b;
}

static void vocab_free(void *p)
{
	struct l2c_vocab *v = p;
	if (v)
		free(v->mem);
	free(v);
}

/* ---- encoding ---------------------------------------------------------------------------- */

/* the best merge of ids a, b: its id, -1 if a b is not a piece */
static int pair_merge(const struct l2c_vocab *v, int a, int b, char *buf)
{
	size_t la = strlen(v->str[a]);
	memcpy(buf, v->str[a], la);
	strcpy(buf + la, v->str[b]);
	return vocab_find(v, buf);
}

/* codepoints to ids (byte fallback), as run.c; returns the count */
static int encode_codepoints(const struct l2c_vocab *v, const char *text, int *ids, int n)
{
	char cp[5];
	size_t len = 0;
	for (const char *c = text; *c; c++) {
		if ((*c & 0xC0) != 0x80)
			len = 0;
		cp[len++] = *c;
		cp[len] = '\0';
		if ((c[1] & 0xC0) == 0x80 && len < 4)
			continue;
		int id = vocab_find(v, cp);
		if (id >= 0)
			ids[n++] = id;
		else
			for (size_t i = 0; i < len; i++)
				ids[n++] = L2C_BYTE0 + (unsigned char)cp[i];
		len = 0;
	}
	return n;
}

/* merges the best-scoring pair until none is a piece; merge[i] caches the pair (i, i+1) */
static int encode_merges(const struct l2c_vocab *v, int *ids, int n, int *merge, char *buf)
{
	for (int i = 0; i + 1 < n; i++)
		merge[i] = pair_merge(v, ids[i], ids[i + 1], buf);
	for (;;) {
		int best = -1;
		float best_score = -1e10f;
		for (int i = 0; i + 1 < n; i++)
			if (merge[i] >= 0 && v->score[merge[i]] > best_score) {
				best_score = v->score[merge[i]];
				best = i;
			}
		if (best < 0)
			return n;
		ids[best] = merge[best];
		memmove(ids + best + 1, ids + best + 2, (n - best - 2) * sizeof(*ids));
		memmove(merge + best + 1, merge + best + 2, (n > best + 2 ? n - best - 3 : 0) * sizeof(*merge));
		n--;
		if (best > 0)
			merge[best - 1] = pair_merge(v, ids[best - 1], ids[best], buf);
		if (best + 1 < n)
			merge[best] = pair_merge(v, ids[best], ids[best + 1], buf);
	}
}

static int l2c_encode(const struct tokenizer *t, const char *text, int32_t *out, int max_ids)
{
	const struct l2c_vocab *v = t->impl;
	size_t cap = strlen(text) + 2;
	int *ids = malloc(cap * sizeof(int)), *merge = malloc(cap * sizeof(int));
	char *buf = malloc(2 * (size_t)v->max_len + 1);
	int n = -1;
	if (!ids || !merge || !buf)
		goto out;
	n = 0;
	if (text[0])
		ids[n++] = vocab_find(v, " ");
	n = encode_codepoints(v, text, ids, n);
	n = encode_merges(v, ids, n, merge, buf);
	if (n > max_ids) {
		n = -1;
		goto out;
	}
	for (int i = 0; i < n; i++)
		out[i] = ids[i];
out:
	free(ids);
	free(merge);
	free(buf);
	return n;
}

/* ---- loading ----------------------------------------------------------------------------- */

static int fail(char *err, size_t n, const char *path, const char *what)
{
	snprintf(err, n, "%s: not a llama2.c tokenizer.bin: %s; give the tokenizer.bin exported "
		 "with the model", path, what);
	return -1;
}

/* the whole file into *data (a NUL added); its size, or -1 with err */
static long file_read(const char *path, char **data, char *err, size_t n)
{
	size_t len;
	int rc = fs_read_file(path, data, &len);
	if (rc == -1)
		snprintf(err, n, "%s: cannot open the tokenizer: %s", path, strerror(errno));
	else if (rc)
		snprintf(err, n, "%s: cannot read the tokenizer: %s", path,
			 errno == ENOMEM ? "out of memory" : strerror(errno));
	return rc ? -1 : (long)len;
}

/* the records of data: their count, or -1 when the file does not end after one */
static int records_count(const char *data, long size, long *text_bytes)
{
	long off = 4;
	int V = 0;
	*text_bytes = 0;
	while (off < size) {
		int32_t len;
		if (size - off < 8)
			return -1;
		memcpy(&len, data + off + 4, 4);
		if (len < 0 || len > size - off - 8)
			return -1;
		off += 8 + len;
		*text_bytes += len + 1;
		V++;
	}
	return V;
}

/* the tables of v and the pieces of t from the records */
static void vocab_fill(struct tokenizer *t, struct l2c_vocab *v, const char *data)
{
	long off = 4;
	char *text = (char *)(t->special + v->V), *raw = (char *)(v->sorted + v->V);
	for (int i = 0; i < v->V; i++) {
		int32_t len;
		memcpy(&v->score[i], data + off, 4);
		memcpy(&len, data + off + 4, 4);
		memcpy(raw, data + off + 8, (size_t)len);
		raw[len] = '\0';
		v->str[i] = raw;
		raw += len + 1;
		off += 8 + len;
		int b = byte_piece(v->str[i]);
		t->piece[i] = text;
		t->special[i] = i < L2C_SPECIALS;
		if (b >= 0 && !t->special[i]) {
			text[0] = (char)b;
			t->piece_len[i] = 1;
		} else {
			t->piece_len[i] = (int)strlen(v->str[i]);
			memcpy(text, v->str[i], (size_t)t->piece_len[i]);
		}
		text += t->piece_len[i] + 1;
		if ((int)strlen(v->str[i]) > v->max_len)
			v->max_len = (int)strlen(v->str[i]);
		v->sorted[i] = i;
	}
	qsort_r(v->sorted, v->V, sizeof(int), by_str, v);
}

/* what run.c takes for granted: byte fallback ids and a dummy-prefix piece */
static int vocab_check(const struct l2c_vocab *v, const char *path, char *err, size_t n)
{
	char what[160];
	for (int b = 0; b < 256; b++)
		if (byte_piece(v->str[L2C_BYTE0 + b]) != b) {
			snprintf(what, sizeof(what), "id %d is '%.20s', not the byte piece <0x%02X>",
				 L2C_BYTE0 + b, v->str[L2C_BYTE0 + b], b);
			return fail(err, n, path, what);
		}
	if (vocab_find(v, " ") < 0)
		return fail(err, n, path, "no \" \" piece (the dummy prefix)");
	return 0;
}

int tokenizer_parse_llama2c(struct tokenizer *t, const void *bytes, size_t len, const char *path,
			    char *err, size_t n)
{
	const char *data = bytes;
	char what[96];
	struct l2c_vocab *v = calloc(1, sizeof(*v));
	long text_bytes, size = (long)len;
	memset(t, 0, sizeof(*t));
	if (!v) {
		snprintf(err, n, "%s: out of memory", path);
		return -1;
	}
	int V = size < 4 ? -1 : records_count(data, size, &text_bytes);
	if (V < 0) {
		fail(err, n, path, size < 4 ? "shorter than its 4-byte header" :
		     "the file does not end after a (score, length, bytes) record");
		goto fail;
	}
	if (V < L2C_BYTE0 + 256) {
		snprintf(what, sizeof(what), "%d ids, fewer than the %d of <unk> <s> </s> and the 256 "
			 "bytes", V, L2C_BYTE0 + 256);
		fail(err, n, path, what);
		goto fail;
	}
	v->V = V;
	/* str, score, sorted, then the raw strings; the pieces are about as long */
	v->mem = malloc((size_t)V * (sizeof(char *) + sizeof(float) + sizeof(int)) + text_bytes);
	if (!v->mem || tokenizer_alloc(t, V, (size_t)text_bytes)) {
		snprintf(err, n, "%s: out of memory", path);
		goto fail;
	}
	v->str = (char **)v->mem;
	v->score = (float *)(v->str + V);
	v->sorted = (int *)(v->score + V);
	vocab_fill(t, v, data);
	if (vocab_check(v, path, err, n))
		goto fail;
	t->kind = TOKENIZER_LLAMA2C;
	t->pad_id = -1, t->bos_id = 1, t->eos_id = 2;
	t->add_bos = 1;
	t->stop_ids[t->n_stop_ids++] = t->eos_id;
	t->stop_ids[t->n_stop_ids++] = t->bos_id;
	memset(t->byte_id, -1, sizeof(t->byte_id));
	t->impl = v;
	t->impl_encode = l2c_encode;
	t->impl_free = vocab_free;
	return 0;
fail:
	free(t->mem);
	memset(t, 0, sizeof(*t));
	vocab_free(v);
	return -1;
}

int tokenizer_load_llama2c(struct tokenizer *t, const char *path, char *err, size_t n)
{
	char *data = NULL;
	long size = file_read(path, &data, err, n);
	memset(t, 0, sizeof(*t));
	if (size < 0)
		return -1;
	int rc = tokenizer_parse_llama2c(t, data, (size_t)size, path, err, n);
	free(data);
	return rc;
}
