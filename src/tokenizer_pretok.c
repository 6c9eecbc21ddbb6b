/*
 * tokenizer_pretok.c - the Qwen2 and Llama 3 split regexes by hand (see tokenizer_pretok.h).
 *
 * Oniguruma tries the alternatives in order at each position and takes the first that
 * matches, so pretok_next() does the same, alternative by alternative:
 *   1. (?i:'s|'t|'re|'ve|'m|'ll|'d): case-insensitive with Unicode simple case folding, so
 *      's also matches 'S and 'ſ (U+017F LATIN SMALL LETTER LONG S folds to s)
 *   2. [^\r\n\p{L}\p{N}]?\p{L}+       one optional non-letter non-digit (a space, a tab, a
 *                                     quote ...) then the letters
 *   3. \p{N} (Qwen) / \p{N}{1,3} (Llama 3)
 *   4.  ?[^\s\p{L}\p{N}]+[\r\n]*      punctuation and symbols, then line breaks
 *   5. \s*[\r\n]+                     whitespace up to its last line break
 *   6. \s+(?!\S)                      whitespace but its last character when a non-space
 *                                     follows (and 2+ whitespace characters)
 *   7. \s+
 * \s is White_Space (unicode.h). Invalid UTF-8 bytes, which HF never sees, are one U+FFFD
 * each: a symbol.
 */
#include "attnrl/tokenizer_pretok.h"

#include <string.h>

#include "attnrl/unicode.h"

#define QWEN2_PATTERN "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| " \
	"?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define LLAMA3_PATTERN "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| " \
	"?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

#define CR_LF 16 /* a class bit beside unicode.h's: '\r' or '\n' */

int pretok_kind_of(const char *pattern)
{
	if (!strcmp(pattern, QWEN2_PATTERN))
		return PRETOK_QWEN2;
	if (!strcmp(pattern, LLAMA3_PATTERN))
		return PRETOK_LLAMA3;
	return -1;
}

const char *pretok_pattern(enum pretok_kind k)
{
	return k == PRETOK_LLAMA3 ? LLAMA3_PATTERN : QWEN2_PATTERN;
}

struct cursor {
	const unsigned char *s;
	size_t n;
};

/* the class bits of the code point at byte i (0 at the end) and its length in *len */
static unsigned class_at(const struct cursor *c, size_t i, int *len)
{
	if (i >= c->n) {
		*len = 0;
		return 0;
	}
	unsigned char b = c->s[i];
	if (b < 0x80) {
		*len = 1;
		if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z')
			return UNICODE_L;
		if (b >= '0' && b <= '9')
			return UNICODE_N;
		if (b == '\r' || b == '\n')
			return UNICODE_WS | CR_LF;
		return b == ' ' || (b >= '\t' && b <= '\r') ? UNICODE_WS : 0;
	}
	uint32_t cp;
	*len = utf8_decode(c->s + i, c->n - i, &cp);
	return unicode_flags(cp);
}

#define IS_OTHER(f) (!((f) & (UNICODE_L | UNICODE_N | UNICODE_WS)))

/* the end of the run of code points from i whose class has a bit of mask */
static size_t run_of(const struct cursor *c, size_t i, unsigned mask)
{
	int len;
	while (i < c->n && (class_at(c, i, &len) & mask))
		i += (size_t)len;
	return i;
}

static size_t run_of_other(const struct cursor *c, size_t i)
{
	int len;
	while (i < c->n && IS_OTHER(class_at(c, i, &len)))
		i += (size_t)len;
	return i;
}

/* alternative 1: the length of a contraction at the start, or 0 */
static size_t contraction(const struct cursor *c)
{
	const unsigned char *s = c->s;
	if (c->n < 2 || s[0] != '\'')
		return 0;
	int a = s[1] | 0x20, b = c->n >= 3 ? s[2] | 0x20 : 0;
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if (c->n >= 3 && s[1] == 0xC5 && s[2] == 0xBF) /* U+017F */
		return 3;
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

size_t pretok_next(enum pretok_kind k, const char *text, size_t n)
{
	struct cursor c = { (const unsigned char *)text, n };
	int l0, l1, len;
	size_t m = contraction(&c);
	if (m)
		return m;
	unsigned f0 = class_at(&c, 0, &l0);
	unsigned f1 = class_at(&c, (size_t)l0, &l1);
	if (f0 & UNICODE_L)
		return run_of(&c, 0, UNICODE_L);
	if (!(f0 & (CR_LF | UNICODE_L | UNICODE_N)) && (f1 & UNICODE_L))
		return run_of(&c, (size_t)l0, UNICODE_L);
	if (f0 & UNICODE_N) {
		size_t i = (size_t)l0;
		int max = k == PRETOK_LLAMA3 ? 3 : 1;
		for (int d = 1; d < max && (class_at(&c, i, &len) & UNICODE_N); d++)
			i += (size_t)len;
		return i;
	}
	if (IS_OTHER(f0) || (c.s[0] == ' ' && l1 && IS_OTHER(f1)))
		return run_of(&c, run_of_other(&c, c.s[0] == ' ' ? 1 : 0), CR_LF);
	/* f0 is whitespace: alternatives 5, 6, 7 over the run of it */
	size_t end = 0, last_break = 0, last_start = 0;
	while (end < n && (class_at(&c, end, &len) & UNICODE_WS)) {
		if (c.s[end] == '\r' || c.s[end] == '\n')
			last_break = end + 1;
		last_start = end;
		end += (size_t)len;
	}
	if (last_break)
		return last_break;
	if (end < n && last_start > 0)
		return last_start;
	return end;
}
