/*
 * tokenizer_pretok.h - the pre-tokenizers of byte-level BPE files: the split regexes of Qwen2/Qwen3
 * and Llama 3, matched by hand (no regex library), exactly as Oniguruma (the regex engine of
 * Hugging Face's tokenizers) matches them with Split(behavior: Isolated):
 *
 *   PRETOK_QWEN2   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
 *                  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   PRETOK_LLAMA3  the same with \p{N}{1,3} for \p{N}
 *
 * Every code point is matched by one of the alternatives, so the pre-tokens tile the text.
 */
#ifndef ATTNRL_TOKENIZER_PRETOK_H
#define ATTNRL_TOKENIZER_PRETOK_H

#include <stddef.h>

enum pretok_kind { PRETOK_QWEN2, PRETOK_LLAMA3 };

/* the kind whose Split regex is pattern (the string in tokenizer.json); -1 when unknown */
int pretok_kind_of(const char *pattern);
/* the Split regex of kind k, as tokenizer.json spells it (pretok_kind_of's inverse) */
const char *pretok_pattern(enum pretok_kind k);
/* the length in bytes of the pre-token at the start of s[0..n), n > 0 (always > 0) */
size_t pretok_next(enum pretok_kind k, const char *s, size_t n);

#endif
