/*
 * fuzz_tokenizer_bpe.c - libFuzzer target of the Hugging Face tokenizer.json loader: the input
 * is the JSON text, then (after the first NUL byte) a text to encode. A loaded tokenizer
 * encodes that text and a few fixed ones, and decodes the ids back (fuzz_tokenizer.h).
 */
#include "fuzz_tokenizer.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	const char *nul = memchr(json, '\0', size);
	size_t jlen = nul ? (size_t)(nul - json) : size;
	struct tokenizer t;
	char err[1024];
	if (tokenizer_parse_bpe(&t, json, jlen, "tokenizer.json", err, sizeof(err)))
		return 0;
	size_t tlen = nul ? size - jlen - 1 : 0;
	char *text = malloc(tlen + 1);
	memcpy(text, nul ? nul + 1 : "", tlen);
	text[tlen] = '\0';
	fuzz_tokenizer(&t, text);
	free(text);
	tokenizer_free(&t);
	return 0;
}
