/*
 * fuzz_llama2c.c - libFuzzer target of the llama2.c readers. The first byte picks one:
 * even: a checkpoint header (llama2c_check), the next 8 bytes (little-endian) being the file
 * size and the rest the file's start; odd: a tokenizer.bin (tokenizer_parse_llama2c) made of
 * the rest, which then encodes a few fixed texts and decodes them (fuzz_tokenizer.h).
 */
#include "attnrl/llama2c.h"
#include "fuzz_tokenizer.h"

#include <stdint.h>

static void check_header(const uint8_t *data, size_t size)
{
	struct model_config mc;
	char err[1024];
	uint64_t fsize = 0;
	if (size < 8)
		return;
	for (int i = 7; i >= 0; i--)
		fsize = fsize << 8 | data[i];
	if (llama2c_check(data + 8, size - 8, (int64_t)fsize, "model.bin", &mc, err, sizeof(err)))
		return;
	if (mc.dim <= 0 || mc.n_heads <= 0 || mc.n_kv_heads <= 0 || mc.head_dim <= 0 ||
	    mc.head_dim % 2 || mc.n_heads % mc.n_kv_heads || mc.vocab_size <= 0 ||
	    mc.hidden_dim <= 0 || mc.n_layers <= 0 || mc.max_seq_len <= 0) {
		fprintf(stderr, "accepted an inconsistent header\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tokenizer t;
	char err[1024];
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		check_header(data + 1, size - 1);
		return 0;
	}
	if (tokenizer_parse_llama2c(&t, data + 1, size - 1, "tokenizer.bin", err, sizeof(err)))
		return 0;
	fuzz_tokenizer(&t, "");
	tokenizer_free(&t);
	return 0;
}
