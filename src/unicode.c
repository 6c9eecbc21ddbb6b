/*
 * unicode.c - UTF-8, character classes and NFC over the generated tables (see unicode.h).
 *
 * NFC is the textbook algorithm (UAX #15): full canonical decomposition (Hangul syllables by
 * arithmetic), canonical ordering of each run of non-starters by combining class (a stable
 * insertion sort), then canonical composition with the primary composites of the table. A
 * text whose code points all pass the quick check (no UNICODE_NFC_CHECK bit) is NFC already
 * and is never decoded.
 */
#include "attnrl/unicode.h"

#include <stdlib.h>
#include <string.h>

#include "unicode_tables.h"

#define HANGUL_S 0xAC00
#define HANGUL_L 0x1100
#define HANGUL_V 0x1161
#define HANGUL_T 0x11A7
#define HANGUL_NL 19
#define HANGUL_NV 21
#define HANGUL_NT 28
#define HANGUL_NS (HANGUL_NL * HANGUL_NV * HANGUL_NT)

const char *unicode_version(void)
{
	return uni_version;
}

unsigned unicode_flags(uint32_t cp)
{
	if (cp >= 0x110000)
		return 0;
	return uni_flags_stage2[uni_flags_stage1[cp / UNI_BLOCK] * UNI_BLOCK + cp % UNI_BLOCK];
}

int unicode_ccc(uint32_t cp)
{
	if (cp >= 0x110000)
		return 0;
	return uni_ccc_stage2[uni_ccc_stage1[cp / UNI_BLOCK] * UNI_BLOCK + cp % UNI_BLOCK];
}

int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0];
	int len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, v = c & 0x1F, min = 0x80;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, v = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, v = c & 0x07, min = 0x10000;
	else
		goto bad;
	if ((size_t)len > n)
		goto bad;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
		goto bad;
	*cp = v;
	return len;
bad:
	*cp = 0xFFFD;
	return 1;
}

int utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

int unicode_nfc_needed(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0xCC) { /* below U+0300: ASCII, Latin-1, ... all NFC and starters */
			i += p[i] < 0x80 ? 1 : 2;
			continue;
		}
		uint32_t cp;
		i += (size_t)utf8_decode(p + i, n - i, &cp);
		if (unicode_flags(cp) & UNICODE_NFC_CHECK)
			return 1;
	}
	return 0;
}

/* the full canonical decomposition of cp into out (NULL: only count); its length */
static int decompose(uint32_t cp, uint32_t *out)
{
	if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_NS) {
		uint32_t s = cp - HANGUL_S, t = s % HANGUL_NT;
		if (out) {
			out[0] = HANGUL_L + s / (HANGUL_NV * HANGUL_NT);
			out[1] = HANGUL_V + s % (HANGUL_NV * HANGUL_NT) / HANGUL_NT;
			if (t)
				out[2] = HANGUL_T + t;
		}
		return t ? 3 : 2;
	}
	if (unicode_flags(cp) & UNICODE_NFC_CHECK) {
		int lo = 0, hi = uni_n_decomp - 1;
		while (lo <= hi) {
			int mid = (lo + hi) / 2;
			if (uni_decomp[mid].cp == cp) {
				if (out)
					memcpy(out, uni_decomp_pool + uni_decomp[mid].off,
					       uni_decomp[mid].len * sizeof(uint32_t));
				return uni_decomp[mid].len;
			}
			if (uni_decomp[mid].cp < cp)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
	}
	if (out)
		out[0] = cp;
	return 1;
}

/* the primary composite of (a, b), or 0 */
static uint32_t compose(uint32_t a, uint32_t b)
{
	if (a >= HANGUL_L && a < HANGUL_L + HANGUL_NL && b >= HANGUL_V && b < HANGUL_V + HANGUL_NV)
		return HANGUL_S + ((a - HANGUL_L) * HANGUL_NV + (b - HANGUL_V)) * HANGUL_NT;
	if (a >= HANGUL_S && a < HANGUL_S + HANGUL_NS && (a - HANGUL_S) % HANGUL_NT == 0 &&
	    b > HANGUL_T && b < HANGUL_T + HANGUL_NT)
		return a + (b - HANGUL_T);
	int lo = 0, hi = uni_n_comp - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		const struct uni_comp *c = &uni_comp[mid];
		if (c->first == a && c->second == b)
			return c->composite;
		if (c->first < a || (c->first == a && c->second < b))
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

/* stable sort of every run of non-starters by combining class */
static void canonical_order(uint32_t *cp, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int cc = unicode_ccc(cp[i]);
		if (!cc)
			continue;
		uint32_t c = cp[i];
		size_t j = i;
		while (j > 0 && unicode_ccc(cp[j - 1]) > cc) {
			cp[j] = cp[j - 1];
			j--;
		}
		cp[j] = c;
	}
}

/* canonical composition in place; the new length */
static size_t canonical_compose(uint32_t *cp, size_t n)
{
	size_t len = 0;
	long starter = -1;
	int last_cc = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = cp[i];
		int cc = unicode_ccc(c);
		if (starter >= 0 && (len == (size_t)starter + 1 || last_cc < cc)) {
			uint32_t k = compose(cp[starter], c);
			if (k) {
				cp[starter] = k;
				continue;
			}
		}
		if (cc == 0)
			starter = (long)len;
		last_cc = cc;
		cp[len++] = c;
	}
	return len;
}

char *unicode_nfc(const char *s, size_t n, size_t *out_n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0, len = 0, bytes = 0;
	uint32_t c;
	for (size_t i = 0; i < n; count += (size_t)decompose(c, NULL))
		i += (size_t)utf8_decode(p + i, n - i, &c);
	uint32_t *cp = malloc((count + 1) * sizeof(uint32_t));
	if (!cp)
		return NULL;
	for (size_t i = 0; i < n; len += (size_t)decompose(c, cp + len))
		i += (size_t)utf8_decode(p + i, n - i, &c);
	canonical_order(cp, len);
	len = canonical_compose(cp, len);
	for (size_t i = 0; i < len; i++)
		bytes += cp[i] < 0x80 ? 1 : cp[i] < 0x800 ? 2 : cp[i] < 0x10000 ? 3 : 4;
	char *out = malloc(bytes + 1);
	if (out) {
		char *o = out;
		for (size_t i = 0; i < len; i++)
			o += utf8_encode(cp[i], o);
		*o = '\0';
		*out_n = bytes;
	}
	free(cp);
	return out;
}
