/*
 * tokenizer_bpe.c - loads a Hugging Face tokenizer.json (byte-level BPE: Qwen2/Qwen3, Llama 3)
 * into the generic tokenizer (pieces, special flags, BOS/EOS/pad) and the encoder state of
 * src/tokenizer_merges.c (vocabulary and merge hashes, added tokens, normalizer, pre-tokenizer).
 *
 * Supported, as those files use them: model BPE (merges as "a b" strings or ["a", "b"]
 * pairs, ignore_merges, no dropout / byte fallback / subword affixes), normalizer null or
 * NFC, pre_tokenizer Sequence[Split(one of the regexes of tokenizer_pretok.h, Isolated), ByteLevel
 * without regex and prefix space], decoder null or ByteLevel, added tokens with lstrip and
 * rstrip. Anything else is refused with one line naming the field.
 *
 * Pieces are the decoded bytes: each character of a vocabulary string is mapped back through
 * GPT-2's bytes_to_unicode; a string with a character outside that map keeps its UTF-8 bytes
 * (as HF's ByteLevel decoder does) and can never be the result of BPE. Special added tokens'
 * pieces are their content. BOS/EOS/pad come from the sibling tokenizer_config.json
 * (bos_token, eos_token, pad_token, add_bos_token) and the post_processor: add_bos is
 * add_bos_token when given, else 1 when a TemplateProcessing starts with a special token,
 * else 1 when there is a bos_token (Llama 3 files without the template; Qwen has none).
 */
#include "attnrl/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attnrl/json.h"
#include "attnrl/tokenizer_pretok.h"
#include "attnrl/unicode.h"
#include "tokenizer_bpe_internal.h"
#include "tokenizer_internal.h"

/* GPT-2's bytes_to_unicode, inverted: the byte of each code point below 324, or -1 */
static void byte_level_map(int16_t cp_byte[324])
{
	int extra = 0;
	for (int i = 0; i < 324; i++)
		cp_byte[i] = -1;
	for (int b = 0; b < 256; b++) {
		int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
		cp_byte[printable ? b : 256 + extra++] = (int16_t)b;
	}
}

/* s[0..n) with the byte-level map undone into out (room for n bytes); its length, or -1
 * when a character is outside the map (out then holds s) */
static int byte_level_decode(const int16_t *cp_byte, const char *s, size_t n, char *out)
{
	int len = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += (size_t)utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (cp >= 324 || cp_byte[cp] < 0) {
			memcpy(out, s, n);
			return -1;
		}
		out[len++] = (char)cp_byte[cp];
	}
	return len;
}

struct loader {
	const char *path;
	int with_config; /* read tokenizer_config.json next to path */
	char *err;
	size_t n;
	int16_t cp_byte[324];
};

static int fail(struct loader *L, const char *what)
{
	snprintf(L->err, L->n, "%s: %s", L->path, what);
	return -1;
}

static const char *type_of(const struct json *v)
{
	const char *s = json_str(json_get(v, "type"));
	return s ? s : "";
}

/* the model's options that this encoder does not implement are refused */
static int check_model(struct loader *L, const struct json *model)
{
	char what[256];
	if (!model)
		return fail(L, "no \"model\" object; give a Hugging Face tokenizer.json");
	if (strcmp(type_of(model), "BPE")) {
		snprintf(what, sizeof(what), "model.type is '%s'; only byte-level BPE is supported",
			 type_of(model));
		return fail(L, what);
	}
	if (json_type(json_get(model, "vocab")) != JSON_OBJECT ||
	    json_type(json_get(model, "merges")) != JSON_ARRAY)
		return fail(L, "model.vocab (an object) or model.merges (an array) is missing");
	if (json_type(json_get(model, "dropout")) == JSON_NUMBER)
		return fail(L, "model.dropout is set; BPE dropout is not supported");
	if (json_bool(json_get(model, "byte_fallback")) == 1)
		return fail(L, "model.byte_fallback is true; only byte-level BPE is supported");
	const char *affix[] = { "continuing_subword_prefix", "end_of_word_suffix" };
	for (int i = 0; i < 2; i++) {
		const char *s = json_str(json_get(model, affix[i]));
		if (s && *s) {
			snprintf(what, sizeof(what), "model.%s '%s' is not supported", affix[i], s);
			return fail(L, what);
		}
	}
	return 0;
}

/* normalizer, pre-tokenizer and decoder: the shapes of the Qwen2/3 and Llama 3 files */
static int check_pipeline(struct loader *L, const struct json *root, struct bpe *b)
{
	char what[512];
	const struct json *norm = json_get(root, "normalizer");
	if (json_type(norm) == JSON_OBJECT && !strcmp(type_of(norm), "NFC"))
		b->nfc = 1;
	else if (json_type(norm) == JSON_OBJECT) {
		snprintf(what, sizeof(what), "normalizer '%s' is not supported (null or NFC)",
			 type_of(norm));
		return fail(L, what);
	}
	const struct json *pre = json_get(root, "pre_tokenizer"), *seq = json_get(pre, "pretokenizers");
	const struct json *split = json_at(seq, 0), *bl = json_at(seq, 1);
	if (strcmp(type_of(pre), "Sequence") || json_len(seq) != 2 || strcmp(type_of(split), "Split") ||
	    strcmp(type_of(bl), "ByteLevel"))
		return fail(L, "pre_tokenizer is not Sequence[Split, ByteLevel] (the Qwen2/Qwen3 and "
			       "Llama 3 shape); this tokenizer is not supported");
	const char *pattern = json_str(json_get(json_get(split, "pattern"), "Regex"));
	const char *behavior = json_str(json_get(split, "behavior"));
	if (!pattern || !behavior || strcmp(behavior, "Isolated") ||
	    json_bool(json_get(split, "invert")) == 1)
		return fail(L, "pre_tokenizer Split is not a Regex pattern with behavior Isolated");
	int kind = pretok_kind_of(pattern);
	if (kind < 0) {
		snprintf(what, sizeof(what), "unknown pre_tokenizer regex '%.200s'; only the Qwen2/"
			 "Qwen3 and Llama 3 patterns are implemented", pattern);
		return fail(L, what);
	}
	b->pretok = (enum pretok_kind)kind;
	if (json_bool(json_get(bl, "use_regex")) == 1 ||
	    json_bool(json_get(bl, "add_prefix_space")) == 1)
		return fail(L, "pre_tokenizer ByteLevel with use_regex or add_prefix_space is not "
			       "supported");
	const struct json *dec = json_get(root, "decoder");
	if (json_type(dec) == JSON_OBJECT && strcmp(type_of(dec), "ByteLevel")) {
		snprintf(what, sizeof(what), "decoder '%s' is not supported (null or ByteLevel)",
			 type_of(dec));
		return fail(L, what);
	}
	return 0;
}

/* V and the bytes of text the pieces need; -1 on a bad id */
static int measure(struct loader *L, const struct json *vocab, const struct json *added, int *V,
		   size_t *text)
{
	int64_t id, max = -1;
	*text = 1; /* the shared "" of unused ids */
	for (size_t i = 0; i < json_len(vocab); i++) {
		if (json_int(json_at(vocab, i), &id) || id < 0 || id >= TOKENIZER_MAX_VOCAB) {
			char what[256];
			snprintf(what, sizeof(what), "model.vocab['%.100s'] is not a token id in [0, %d)",
				 json_key_at(vocab, i), TOKENIZER_MAX_VOCAB);
			return fail(L, what);
		}
		max = id > max ? id : max;
		*text += strlen(json_key_at(vocab, i)) + 1;
	}
	for (size_t i = 0; i < json_len(added); i++) {
		const struct json *a = json_at(added, i);
		if (json_int(json_get(a, "id"), &id) || id < 0 || id >= TOKENIZER_MAX_VOCAB ||
		    !json_str(json_get(a, "content"))) {
			char what[160];
			snprintf(what, sizeof(what), "added_tokens: an entry lacks an integer id in "
				 "[0, %d) or a content string", TOKENIZER_MAX_VOCAB);
			return fail(L, what);
		}
		max = id > max ? id : max;
		*text += json_str_len(json_get(a, "content")) + 1;
	}
	if (max < 0)
		return fail(L, "model.vocab is empty");
	*V = (int)max + 1;
	return 0;
}

/* pieces of the model vocabulary, and its byte strings into the hash */
static int fill_vocab(struct loader *L, struct tokenizer *t, struct bpe *b,
		      const struct json *vocab, char **text)
{
	for (size_t i = 0; i < json_len(vocab); i++) {
		int64_t id;
		const char *key = json_key_at(vocab, i);
		size_t n = strlen(key);
		json_int(json_at(vocab, i), &id);
		int len = byte_level_decode(L->cp_byte, key, n, *text);
		t->piece[id] = *text;
		t->piece_len[id] = len >= 0 ? len : (int)n;
		*text += t->piece_len[id] + 1;
		if (len >= 0)
			bpe_vocab_add(b, t, (int32_t)id);
	}
	return 0;
}

/* the two sides of merge m ("a b" or ["a", "b"]); -1 when it is neither */
static int merge_sides(const struct json *m, const char **l, size_t *ln, const char **r, size_t *rn)
{
	const char *s = json_str(m), *space = s ? strchr(s, ' ') : NULL;
	if (space) {
		*l = s, *ln = (size_t)(space - s);
		*r = space + 1, *rn = strlen(*r);
		return 0;
	}
	*l = json_str(json_at(m, 0)), *r = json_str(json_at(m, 1));
	if (!*l || !*r || json_len(m) != 2)
		return -1;
	*ln = strlen(*l), *rn = strlen(*r);
	return 0;
}

/* the ids of a merge's sides and of their concatenation (buf: room for ln + rn bytes); -1
 * when one is not in the vocabulary */
static int merge_ids(const struct loader *L, const struct tokenizer *t, const struct bpe *b,
		     const char *l, size_t ln, const char *r, size_t rn, char *buf, int32_t id[3])
{
	int a = byte_level_decode(L->cp_byte, l, ln, buf);
	int c = a >= 0 ? byte_level_decode(L->cp_byte, r, rn, buf + a) : -1;
	if (c < 0)
		return -1;
	id[0] = bpe_vocab_find(b, t, buf, (size_t)a);
	id[1] = bpe_vocab_find(b, t, buf + a, (size_t)c);
	id[2] = bpe_vocab_find(b, t, buf, (size_t)(a + c));
	return id[0] >= 0 && id[1] >= 0 && id[2] >= 0 ? 0 : -1;
}

/* the merge table; a merge's rank is its index (a repeated merge keeps the last, as HF) */
static int fill_merges(struct loader *L, const struct tokenizer *t, struct bpe *b,
		       const struct json *merges)
{
	char *buf = NULL, what[256];
	size_t cap = 0;
	int rc = 0;
	for (size_t i = 0; i < json_len(merges) && !rc; i++) {
		const char *l, *r;
		size_t ln, rn;
		int32_t id[3];
		if (merge_sides(json_at(merges, i), &l, &ln, &r, &rn)) {
			snprintf(what, sizeof(what), "model.merges[%zu] is neither \"a b\" nor "
				 "[\"a\", \"b\"]", i);
			rc = fail(L, what);
			break;
		}
		if (ln + rn > cap) {
			char *nb = realloc(buf, 2 * (ln + rn) + 64);
			if (!nb) {
				rc = fail(L, "out of memory reading the merges");
				break;
			}
			buf = nb, cap = 2 * (ln + rn) + 64;
		}
		if (merge_ids(L, t, b, l, ln, r, rn, buf, id)) {
			snprintf(what, sizeof(what), "model.merges[%zu] ('%.*s' + '%.*s'): a token is "
				 "not in model.vocab", i, (int)(ln > 60 ? 60 : ln), l,
				 (int)(rn > 60 ? 60 : rn), r);
			rc = fail(L, what);
			break;
		}
		bpe_merge_add(b, id[0], id[1], (int32_t)i, id[2]);
	}
	free(buf);
	return rc;
}

static int added_cmp(const void *x, const void *y)
{
	const struct bpe_added *a = x, *b = y;
	unsigned char ca = (unsigned char)a->text[0], cb = (unsigned char)b->text[0];
	if (ca != cb)
		return ca - cb;
	return b->len - a->len;
}

/* added tokens: their pieces and flags, and the matcher of src/tokenizer_merges.c */
static int fill_added(struct loader *L, struct tokenizer *t, struct bpe *b,
		      const struct json *added, char **text)
{
	size_t na = json_len(added);
	b->added = calloc(na ? na : 1, sizeof(*b->added));
	if (!b->added)
		return fail(L, "out of memory for the added tokens");
	for (size_t i = 0; i < na; i++) {
		const struct json *a = json_at(added, i);
		const char *content = json_str(json_get(a, "content"));
		size_t n = json_str_len(json_get(a, "content"));
		int64_t id;
		json_int(json_get(a, "id"), &id);
		if (json_bool(json_get(a, "single_word")) == 1)
			return fail(L, "added_tokens: single_word is not supported");
		if (json_bool(json_get(a, "normalized")) == 1 && b->nfc)
			return fail(L, "added_tokens: normalized tokens with a normalizer are not "
				       "supported");
		int special = json_bool(json_get(a, "special")) == 1;
		t->special[id] = (unsigned char)special;
		t->piece[id] = *text;
		if (special) {
			memcpy(*text, content, n);
			t->piece_len[id] = (int)n;
		} else {
			int len = byte_level_decode(L->cp_byte, content, n, *text);
			t->piece_len[id] = len >= 0 ? len : (int)n;
		}
		(*text)[t->piece_len[id]] = '\0';
		*text += t->piece_len[id] + 1;
		if (!n)
			continue;
		b->added[b->n_added++] = (struct bpe_added){
			content, (int)n, (int32_t)id, json_bool(json_get(a, "lstrip")) == 1,
			json_bool(json_get(a, "rstrip")) == 1,
		};
	}
	return 0;
}

/* the contents move out of the JSON document; sorted and indexed by first byte */
static int index_added(struct loader *L, struct bpe *b)
{
	size_t total = 0;
	for (int i = 0; i < b->n_added; i++)
		total += (size_t)b->added[i].len;
	b->added_text = malloc(total + 1);
	if (!b->added_text)
		return fail(L, "out of memory for the added tokens");
	char *p = b->added_text;
	for (int i = 0; i < b->n_added; i++) {
		memcpy(p, b->added[i].text, (size_t)b->added[i].len);
		b->added[i].text = p;
		p += b->added[i].len;
	}
	qsort(b->added, (size_t)b->n_added, sizeof(*b->added), added_cmp);
	for (int c = 0, k = 0; c <= 256; c++) {
		while (k < b->n_added && (unsigned char)b->added[k].text[0] < c)
			k++;
		b->added_first[c] = k;
	}
	return 0;
}

/* the id of a config token entry ("text" or {"content": "text"}); -1 when absent */
static int32_t token_id(const struct tokenizer *t, const struct json *v)
{
	const char *s = json_type(v) == JSON_OBJECT ? json_str(json_get(v, "content")) : json_str(v);
	return s ? tokenizer_find(t, s) : -1;
}

/* the first special token of a TemplateProcessing (alone or in a Sequence); NULL if none */
static const char *template_first(const struct json *pp)
{
	if (!strcmp(type_of(pp), "Sequence")) {
		for (size_t i = 0; i < json_len(json_get(pp, "processors")); i++) {
			const char *s = template_first(json_at(json_get(pp, "processors"), i));
			if (s)
				return s;
		}
		return NULL;
	}
	if (strcmp(type_of(pp), "TemplateProcessing"))
		return NULL;
	return json_str(json_get(json_get(json_at(json_get(pp, "single"), 0), "SpecialToken"), "id"));
}

static int read_config(struct loader *L, struct tokenizer *t, const struct json *root)
{
	char cfg_path[4096];
	const char *slash = strrchr(L->path, '/');
	int dir = slash ? (int)(slash - L->path) : 1;
	snprintf(cfg_path, sizeof(cfg_path), "%.*s/tokenizer_config.json", dir, slash ? L->path : ".");
	struct json *cfg = NULL;
	if (L->with_config && !access(cfg_path, F_OK) && !(cfg = json_load(cfg_path, L->err, L->n)))
		return -1;
	t->bos_id = token_id(t, json_get(cfg, "bos_token"));
	t->eos_id = token_id(t, json_get(cfg, "eos_token"));
	t->pad_id = token_id(t, json_get(cfg, "pad_token"));
	const char *first = template_first(json_get(root, "post_processor"));
	if (first && t->bos_id < 0)
		t->bos_id = tokenizer_find(t, first);
	int add = json_bool(json_get(cfg, "add_bos_token"));
	t->add_bos = add >= 0 ? add : first ? 1 : t->bos_id >= 0;
	if (t->add_bos && t->bos_id < 0)
		t->add_bos = 0;
	t->n_stop_ids = 0;
	if (t->eos_id >= 0)
		t->stop_ids[t->n_stop_ids++] = t->eos_id;
	json_free(cfg);
	return 0;
}

/* the tokenizer of the parsed tokenizer.json root (freed here) */
static int load_root(struct tokenizer *t, struct loader *L, struct json *root)
{
	struct bpe *b = NULL;
	byte_level_map(L->cp_byte);
	const struct json *model = json_get(root, "model"), *added = json_get(root, "added_tokens");
	const struct json *vocab = json_get(model, "vocab"), *merges = json_get(model, "merges");
	int V;
	size_t text_bytes;
	if (check_model(L, model) || measure(L, vocab, added, &V, &text_bytes))
		goto fail;
	b = bpe_create(json_len(vocab), json_len(merges));
	if (!b) {
		fail(L, "out of memory for the BPE tables");
		goto fail;
	}
	if (check_pipeline(L, root, b))
		goto fail;
	if (tokenizer_alloc(t, V, text_bytes)) {
		fail(L, "out of memory for the vocabulary");
		goto fail;
	}
	char *text = (char *)(t->special + V);
	for (int i = 0; i < V; i++)
		t->piece[i] = text; /* "" until a token claims the id */
	text++;
	b->ignore_merges = json_bool(json_get(model, "ignore_merges")) == 1;
	if (fill_vocab(L, t, b, vocab, &text) || fill_merges(L, t, b, merges) ||
	    fill_added(L, t, b, added, &text) || index_added(L, b))
		goto fail;
	t->kind = TOKENIZER_BPE;
	t->impl = b;
	t->impl_encode = bpe_encode;
	t->impl_free = bpe_destroy;
	if (read_config(L, t, root))
		goto fail_loaded;
	json_free(root);
	return 0;
fail:
	bpe_destroy(b);
fail_loaded:
	tokenizer_free(t);
	json_free(root);
	return -1;
}

int tokenizer_load_bpe(struct tokenizer *t, const char *path, char *err, size_t n)
{
	struct loader L = { path, 1, err, n, { 0 } };
	memset(t, 0, sizeof(*t));
	struct json *root = json_load(path, err, n);
	return root ? load_root(t, &L, root) : -1;
}

int tokenizer_parse_bpe(struct tokenizer *t, const char *json, size_t len, const char *where,
			char *err, size_t n)
{
	struct loader L = { where, 0, err, n, { 0 } };
	char msg[256];
	memset(t, 0, sizeof(*t));
	struct json *root = json_parse(json, len, msg, sizeof(msg));
	if (!root) {
		snprintf(err, n, "%s: %s", where, msg);
		return -1;
	}
	return load_root(t, &L, root);
}

int tokenizer_pretok_kind(const struct tokenizer *t)
{
	return t->kind == TOKENIZER_BPE ? (int)((const struct bpe *)t->impl)->pretok : -1;
}
