/*
 * load_model.c - loads a Hugging Face folder as policy.c does (hf_read_config,
 * model_create_empty, hf_load_weights; no tokenizer, no decode engine and so no KV cache) and
 * prints the peak resident memory (VmHWM) next to the fp32 parameter bytes, as one JSON line.
 * Usage: build/bench/load_model DIR [max_seq_len]   (bench/memory.sh drives it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/hf.h"
#include "attnrl/model.h"

/* a /proc/self/status field in kB */
static long status_kb(const char *key)
{
	char line[256];
	long kb = -1;
	size_t k = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':')
			kb = atol(line + k + 1);
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	struct hf_info info;
	char err[1024];
	if (argc < 2) {
		fprintf(stderr, "usage: load_model DIR [max_seq_len]\n");
		return 2;
	}
	long base = status_kb("VmHWM");
	if (hf_read_config(argv[1], &info, err, sizeof(err))) {
		fprintf(stderr, "load_model: %s\n", err);
		return 1;
	}
	info.mc.max_seq_len = argc > 2 ? atoi(argv[2]) : 256;
	struct model *m = model_create_empty(&info.mc);
	if (!m || hf_load_weights(m, argv[1], err, sizeof(err))) {
		fprintf(stderr, "load_model: %s\n", m ? err : tensor_last_error());
		return 1;
	}
	printf("{\"params\": %lld, \"fp32_bytes\": %lld, \"torch_dtype\": \"%s\", "
	       "\"hwm_before_kb\": %ld, \"hwm_kb\": %ld, \"rss_kb\": %ld}\n",
	       (long long)m->n_elements, (long long)m->n_elements * 4, info.torch_dtype, base,
	       status_kb("VmHWM"), status_kb("VmRSS"));
	model_destroy(m);
	return 0;
}
