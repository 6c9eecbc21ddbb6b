/*
 * fuzz_hf_config.c - libFuzzer target of the Hugging Face config.json reader: the input is the
 * JSON text for hf_parse_config; an accepted config must satisfy what the model code relies
 * on (positive dims, heads a multiple of kv heads, an even head size).
 */
#include "attnrl/hf_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hf_info info;
	char err[1024];
	if (hf_parse_config((const char *)data, size, "config.json", &info, err, sizeof(err)))
		return 0;
	const struct model_config *mc = &info.mc;
	if (mc->dim <= 0 || mc->n_layers <= 0 || mc->n_heads <= 0 || mc->n_kv_heads <= 0 ||
	    mc->head_dim <= 0 || mc->head_dim % 2 || mc->hidden_dim <= 0 || mc->vocab_size <= 0 ||
	    mc->max_seq_len <= 0 || mc->n_heads % mc->n_kv_heads || info.n_eos < 0 ||
	    info.n_eos > 8) {
		fprintf(stderr, "accepted an inconsistent config: dim %d layers %d heads %d/%d "
			"head_dim %d hidden %d vocab %d seq %d\n", mc->dim, mc->n_layers, mc->n_heads,
			mc->n_kv_heads, mc->head_dim, mc->hidden_dim, mc->vocab_size, mc->max_seq_len);
		abort();
	}
	return 0;
}
