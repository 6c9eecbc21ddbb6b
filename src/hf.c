/* hf.c - Hugging Face folders (see hf.h). Placeholder until the loader lands. */
#include "attnrl/hf.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int hf_is_folder(const char *dir)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/config.json", dir);
	return !stat(dir, &st) && S_ISDIR(st.st_mode) && !stat(p, &st);
}

int hf_read_config(const char *dir, struct hf_info *info, char *err, size_t n)
{
	memset(info, 0, sizeof(*info));
	snprintf(err, n, "%s: Hugging Face folders are not supported yet", dir);
	return -1;
}

int hf_load_weights(struct model *m, const char *dir, char *err, size_t n)
{
	(void)m;
	snprintf(err, n, "%s: Hugging Face folders are not supported yet", dir);
	return -1;
}

int hf_save(const struct model *m, const char *dir, const char *dtype, const char *tok_src,
	    int32_t bos_id, int32_t eos_id, char *err, size_t n)
{
	(void)m, (void)dtype, (void)tok_src, (void)bos_id, (void)eos_id;
	snprintf(err, n, "%s: Hugging Face folders are not supported yet", dir);
	return -1;
}
