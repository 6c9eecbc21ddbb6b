/*
 * tokenizer_internal.h - between the tokenizer struct (src/tokenizer.c) and its loaders
 * (src/tokenizer_bpe.c, src/tokenizer_llama2c.c). Not a public interface.
 */
#ifndef ATTNRL_TOKENIZER_INTERNAL_H
#define ATTNRL_TOKENIZER_INTERNAL_H

#include <stddef.h>

#include "attnrl/tokenizer.h"

/* one block for V pieces holding text_bytes of text (NULs included); 0, or -1 (reported) */
int tokenizer_alloc(struct tokenizer *t, int V, size_t text_bytes);

#endif
