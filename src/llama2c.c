/* llama2c.c - llama2.c checkpoints (see llama2c.h). Placeholder until the loader lands. */
#include "attnrl/llama2c.h"

#include <stdio.h>
#include <string.h>

int llama2c_read_config(const char *path, struct model_config *mc, char *err, size_t n)
{
	memset(mc, 0, sizeof(*mc));
	snprintf(err, n, "%s: llama2.c checkpoints are not supported yet", path);
	return -1;
}

struct model *llama2c_load(const char *path, int max_seq_len, char *err, size_t n)
{
	(void)max_seq_len;
	snprintf(err, n, "%s: llama2.c checkpoints are not supported yet", path);
	return NULL;
}
