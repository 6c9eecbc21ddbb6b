/*
 * unicode.h - the bits of Unicode the BPE tokenizer needs: UTF-8 decoding, the character
 * classes of its pre-tokenizer regexes (\p{L}, \p{N}, \s) and NFC normalization.
 *
 * The data is generated from Python's unicodedata by scripts/gen-unicode.py into
 * src/unicode_tables.c (Unicode 14.0.0; unicode_version() says which). \s is the White_Space
 * property, as in Oniguruma (the regex engine of Hugging Face's tokenizers): U+0009..U+000D,
 * U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
 */
#ifndef ATTNRL_UNICODE_H
#define ATTNRL_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#define UNICODE_L 1         /* general category L* (\p{L}) */
#define UNICODE_N 2         /* general category N* (\p{N}) */
#define UNICODE_WS 4        /* White_Space (\s) */
#define UNICODE_NFC_CHECK 8 /* may change under NFC (NFC_Quick_Check != Yes, or ccc > 0) */

const char *unicode_version(void);
unsigned unicode_flags(uint32_t cp);     /* UNICODE_* bits; 0 above U+10FFFF */
int unicode_ccc(uint32_t cp);            /* canonical combining class */

/* the code point at s[0..n) (n >= 1) into *cp and its length in bytes; an invalid or
 * truncated sequence is one byte read as U+FFFD (Rust strings, as HF sees them, are valid) */
int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
int utf8_encode(uint32_t cp, char *out); /* 1..4 bytes written */

/* 1 when s[0..n) may change under NFC (a fast scan; 0 means it is already NFC) */
int unicode_nfc_needed(const char *s, size_t n);
/* NFC of s[0..n) into a malloc'd, NUL-terminated string (*out_n bytes); NULL when out of
 * memory. Valid UTF-8 in, valid UTF-8 out. */
char *unicode_nfc(const char *s, size_t n, size_t *out_n);

#endif
