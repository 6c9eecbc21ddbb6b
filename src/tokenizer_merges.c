/*
 * tokenizer_merges.c - the byte-level BPE encoder: text -> added tokens | NFC -> pre-tokens -> BPE
 * -> ids, step for step as Hugging Face's tokenizers does it (its AddedVocabulary, normalizer,
 * pre-tokenizer and BPE model).
 *
 * BPE works on bytes: the byte-to-unicode map of the file's strings is undone at load, so a
 * word is its raw bytes, each byte starts as its one-byte token, and the merge table maps a
 * pair of ids to (rank, merged id). Merging replays HF's Word::merge_all exactly: a min-heap of
 * (rank, position) candidates, a candidate skipped when its pair no longer makes the same id,
 * the new neighbour pairs pushed after each merge. With ignore_merges (Llama 3), a word that
 * is itself in the vocabulary is one id. Words up to BPE_CACHE_WORD bytes are cached.
 */
#include "tokenizer_bpe_internal.h"

#include <stdlib.h>
#include <string.h>

#include "attnrl/unicode.h"

#define BPE_CACHE_SLOTS (1 << 16)
#define BPE_CACHE_WORD 64
#define BPE_CACHE_ARENA (8 << 20)

struct cache_slot {
	uint32_t hash, off; /* off: the word's bytes then its ids (int32) in the arena */
	uint16_t len, n_ids; /* len 0: empty */
};

struct bpe_cache {
	struct cache_slot slot[BPE_CACHE_SLOTS];
	size_t used, count;
	char arena[BPE_CACHE_ARENA];
};

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h ^ h >> 15;
}

static uint32_t hash_pair(uint64_t p)
{
	p ^= p >> 33;
	p *= 0xff51afd7ed558ccdULL;
	p ^= p >> 33;
	return (uint32_t)p;
}

static uint32_t pow2_above(size_t n)
{
	uint32_t c = 16;
	while (c < 2 * n)
		c <<= 1;
	return c;
}

struct bpe *bpe_create(size_t n_vocab, size_t n_merges)
{
	struct bpe *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	uint32_t nv = pow2_above(n_vocab), nm = pow2_above(n_merges);
	b->vocab = malloc(nv * sizeof(*b->vocab));
	b->merge = malloc(nm * sizeof(*b->merge));
	b->cache = calloc(1, sizeof(*b->cache));
	if (!b->vocab || !b->merge || !b->cache) {
		bpe_destroy(b);
		return NULL;
	}
	memset(b->vocab, -1, nv * sizeof(*b->vocab));
	for (uint32_t i = 0; i < nm; i++)
		b->merge[i].pair = BPE_NO_PAIR;
	b->vocab_mask = nv - 1, b->merge_mask = nm - 1;
	memset(b->byte_id, -1, sizeof(b->byte_id));
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

void bpe_destroy(void *p)
{
	struct bpe *b = p;
	if (!b)
		return;
	if (b->cache)
		pthread_mutex_destroy(&b->lock);
	free(b->vocab);
	free(b->merge);
	free(b->cache);
	free(b->added);
	free(b->added_text);
	free(b);
}

/* the slot of s[0..n) in the vocabulary hash: its id, or the empty slot where it would go */
static uint32_t vocab_slot(const struct bpe *b, const struct tokenizer *t, const char *s, size_t n)
{
	uint32_t i = hash_bytes(s, n) & b->vocab_mask;
	for (;; i = (i + 1) & b->vocab_mask) {
		int32_t id = b->vocab[i];
		if (id < 0 || ((size_t)t->piece_len[id] == n && !memcmp(t->piece[id], s, n)))
			return i;
	}
}

int bpe_vocab_add(struct bpe *b, const struct tokenizer *t, int32_t id)
{
	uint32_t i = vocab_slot(b, t, t->piece[id], (size_t)t->piece_len[id]);
	int dup = b->vocab[i] >= 0;
	b->vocab[i] = id;
	if (t->piece_len[id] == 1)
		b->byte_id[(unsigned char)t->piece[id][0]] = id;
	return dup ? -1 : 0;
}

int32_t bpe_vocab_find(const struct bpe *b, const struct tokenizer *t, const char *s, size_t n)
{
	return b->vocab[vocab_slot(b, t, s, n)];
}

void bpe_merge_add(struct bpe *b, int32_t left, int32_t right, int32_t rank, int32_t id)
{
	uint64_t pair = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
	uint32_t i = hash_pair(pair) & b->merge_mask;
	while (b->merge[i].pair != BPE_NO_PAIR && b->merge[i].pair != pair)
		i = (i + 1) & b->merge_mask;
	b->merge[i] = (struct bpe_merge){ pair, rank, id }; /* a repeated merge: the last wins */
}

static const struct bpe_merge *merge_find(const struct bpe *b, int32_t left, int32_t right)
{
	uint64_t pair = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
	for (uint32_t i = hash_pair(pair) & b->merge_mask;; i = (i + 1) & b->merge_mask) {
		if (b->merge[i].pair == pair)
			return &b->merge[i];
		if (b->merge[i].pair == BPE_NO_PAIR)
			return NULL;
	}
}

/* ---- merging one word ---- */

struct symbol {
	int32_t id;
	int prev, next; /* -1 at the ends */
	int alive;
};

struct cand {
	int32_t rank, pos, id;
};

static int cand_less(const struct cand *a, const struct cand *b)
{
	return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(struct cand *h, int *n, struct cand c)
{
	int i = (*n)++;
	while (i > 0 && cand_less(&c, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = c;
}

static struct cand heap_pop(struct cand *h, int *n)
{
	struct cand top = h[0], last = h[--*n];
	int i = 0;
	for (;;) {
		int k = 2 * i + 1;
		if (k >= *n)
			break;
		if (k + 1 < *n && cand_less(&h[k + 1], &h[k]))
			k++;
		if (!cand_less(&h[k], &last))
			break;
		h[i] = h[k];
		i = k;
	}
	if (*n > 0)
		h[i] = last;
	return top;
}

static void push_pair(const struct bpe *b, struct symbol *s, int pos, struct cand *h, int *nh)
{
	if (pos < 0 || s[pos].next < 0)
		return;
	const struct bpe_merge *m = merge_find(b, s[pos].id, s[s[pos].next].id);
	if (m)
		heap_push(h, nh, (struct cand){ m->rank, pos, m->id });
}

/* BPE of the n-byte word w into out (room for n ids); the count. s, h: room for n each. */
static int merge_word(const struct bpe *b, const unsigned char *w, int n, int32_t *out,
		      struct symbol *s, struct cand *h)
{
	int ns = 0, nh = 0;
	for (int i = 0; i < n; i++) {
		int32_t id = b->byte_id[w[i]];
		if (id < 0)
			continue; /* no unk token: HF drops what the vocabulary lacks */
		s[ns] = (struct symbol){ id, ns - 1, -1, 1 };
		if (ns > 0)
			s[ns - 1].next = ns;
		ns++;
	}
	for (int i = 0; i + 1 < ns; i++)
		push_pair(b, s, i, h, &nh);
	while (nh > 0) {
		struct cand c = heap_pop(h, &nh);
		if (!s[c.pos].alive || s[c.pos].next < 0)
			continue;
		int right = s[c.pos].next;
		const struct bpe_merge *m = merge_find(b, s[c.pos].id, s[right].id);
		if (!m || m->id != c.id)
			continue;
		s[c.pos].id = c.id;
		s[c.pos].next = s[right].next;
		s[right].alive = 0;
		if (s[right].next >= 0)
			s[s[right].next].prev = c.pos;
		push_pair(b, s, s[c.pos].prev, h, &nh);
		push_pair(b, s, c.pos, h, &nh);
	}
	int k = 0;
	for (int i = 0; i < ns; i++)
		if (s[i].alive)
			out[k++] = s[i].id;
	return k;
}

/* ---- the word cache ---- */

static int cache_get(struct bpe *b, const char *w, size_t n, uint32_t h, int32_t *out, int room)
{
	struct bpe_cache *c = b->cache;
	int got = -1;
	pthread_mutex_lock(&b->lock);
	for (uint32_t i = h & (BPE_CACHE_SLOTS - 1);; i = (i + 1) & (BPE_CACHE_SLOTS - 1)) {
		struct cache_slot *e = &c->slot[i];
		if (!e->len)
			break;
		if (e->hash == h && e->len == n && !memcmp(c->arena + e->off, w, n)) {
			if (e->n_ids <= room) {
				memcpy(out, c->arena + e->off + n, e->n_ids * sizeof(int32_t));
				got = e->n_ids;
			}
			break;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return got;
}

static void cache_put(struct bpe *b, const char *w, size_t n, uint32_t h, const int32_t *ids, int k)
{
	struct bpe_cache *c = b->cache;
	size_t need = (n + (size_t)k * sizeof(int32_t) + 3) & ~(size_t)3;
	pthread_mutex_lock(&b->lock);
	if (c->used + need > BPE_CACHE_ARENA || c->count >= BPE_CACHE_SLOTS / 2) {
		memset(c->slot, 0, sizeof(c->slot));
		c->used = c->count = 0;
	}
	uint32_t i = h & (BPE_CACHE_SLOTS - 1);
	while (c->slot[i].len)
		i = (i + 1) & (BPE_CACHE_SLOTS - 1); /* a word raced in twice is harmless */
	memcpy(c->arena + c->used, w, n);
	memcpy(c->arena + c->used + n, ids, (size_t)k * sizeof(int32_t));
	c->slot[i] = (struct cache_slot){ h, (uint32_t)c->used, (uint16_t)n, (uint16_t)k };
	c->used += need;
	c->count++;
	pthread_mutex_unlock(&b->lock);
}

/* ---- encoding ---- */

struct out {
	int32_t *ids;
	int n, max;
	int32_t *word;      /* scratch of merge_word for words up to cap bytes */
	struct symbol *sym;
	struct cand *heap;  /* 3 cap candidates at most */
	int cap;
};

static int grow(struct out *o, int n)
{
	int cap = n * 2;
	int32_t *w = realloc(o->word, (size_t)cap * sizeof(*w));
	if (w)
		o->word = w;
	struct symbol *s = realloc(o->sym, (size_t)cap * sizeof(*s));
	if (s)
		o->sym = s;
	struct cand *h = realloc(o->heap, (size_t)cap * 3 * sizeof(*h));
	if (h)
		o->heap = h;
	if (!w || !s || !h)
		return -1;
	o->cap = cap;
	return 0;
}

static int word_ids(const struct tokenizer *t, const char *w, size_t n, struct out *o)
{
	struct bpe *b = t->impl;
	if (b->ignore_merges) {
		int32_t id = bpe_vocab_find(b, t, w, n);
		if (id >= 0) {
			if (o->n >= o->max)
				return -1;
			o->ids[o->n++] = id;
			return 0;
		}
	}
	int room = o->max - o->n;
	uint32_t h = 0;
	if (n <= BPE_CACHE_WORD) {
		h = hash_bytes(w, n);
		int k = cache_get(b, w, n, h, o->ids + o->n, room);
		if (k >= 0) {
			o->n += k;
			return 0;
		}
	}
	if ((int)n > o->cap && grow(o, (int)n))
		return -1;
	int k = merge_word(b, (const unsigned char *)w, (int)n, o->word, o->sym, o->heap);
	if (k > room)
		return -1;
	memcpy(o->ids + o->n, o->word, (size_t)k * sizeof(int32_t));
	if (n <= BPE_CACHE_WORD)
		cache_put(b, w, n, h, o->word, k);
	o->n += k;
	return 0;
}

/* a span of text between added tokens: normalize, pre-tokenize, BPE */
static int encode_span(const struct tokenizer *t, const char *s, size_t n, struct out *o)
{
	struct bpe *b = t->impl;
	char *norm = NULL;
	if (b->nfc && unicode_nfc_needed(s, n)) {
		norm = unicode_nfc(s, n, &n);
		if (!norm)
			return -1;
		s = norm;
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc;) {
		size_t k = pretok_next(b->pretok, s + i, n - i);
		rc = word_ids(t, s + i, k, o);
		i += k;
	}
	free(norm);
	return rc;
}

static int is_ws_at(const char *s, size_t n, size_t *len)
{
	uint32_t cp;
	*len = (size_t)utf8_decode((const unsigned char *)s, n, &cp);
	return (unicode_flags(cp) & UNICODE_WS) != 0;
}

/* the leftmost-longest added token at or after i: its index and span, or -1 */
static int next_added(const struct bpe *b, const char *s, size_t n, size_t i, size_t *start,
		      size_t *end)
{
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		for (int k = b->added_first[c]; k < b->added_first[c + 1]; k++) {
			const struct bpe_added *a = &b->added[k];
			if ((size_t)a->len > n - i || memcmp(s + i, a->text, (size_t)a->len))
				continue;
			*start = i, *end = i + (size_t)a->len;
			if (a->rstrip) {
				size_t len;
				while (*end < n && is_ws_at(s + *end, n - *end, &len))
					*end += len;
			}
			return k;
		}
	}
	return -1;
}

int bpe_encode(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids)
{
	const struct bpe *b = t->impl;
	struct out o = { ids, 0, max_ids, NULL, NULL, NULL, 0 };
	size_t n = strlen(text), i = 0, start, end;
	int rc = 0;
	while (i < n && !rc) {
		int k = next_added(b, text, n, i, &start, &end);
		if (k < 0)
			start = end = n;
		else if (b->added[k].lstrip) /* whitespace before the token is part of it */
			while (start > i) {
				size_t p = start - 1, len;
				while (p > i && ((unsigned char)text[p] & 0xC0) == 0x80)
					p--;
				if (!is_ws_at(text + p, n - p, &len) || p + len != start)
					break;
				start = p;
			}
		if (start > i)
			rc = encode_span(t, text + i, start - i, &o);
		if (k >= 0 && !rc) {
			if (o.n >= o.max)
				rc = -1;
			else
				o.ids[o.n++] = b->added[k].id;
		}
		i = end;
	}
	free(o.word);
	free(o.sym);
	free(o.heap);
	return rc ? -1 : o.n;
}
