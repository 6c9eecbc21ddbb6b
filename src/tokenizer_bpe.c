/* tokenizer_bpe.c - byte-level BPE from tokenizer.json. Placeholder until it lands. */
#include "attnrl/tokenizer.h"

#include <stdio.h>

int tokenizer_load_bpe(struct tokenizer *t, const char *path, char *err, size_t n)
{
	(void)t;
	snprintf(err, n, "%s: tokenizer.json is not supported yet", path);
	return -1;
}
