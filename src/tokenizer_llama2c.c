/* tokenizer_llama2c.c - llama2.c tokenizer.bin. Placeholder until it lands. */
#include "attnrl/tokenizer.h"

#include <stdio.h>

int tokenizer_load_llama2c(struct tokenizer *t, const char *path, char *err, size_t n)
{
	(void)t;
	snprintf(err, n, "%s: llama2.c tokenizer.bin is not supported yet", path);
	return -1;
}
