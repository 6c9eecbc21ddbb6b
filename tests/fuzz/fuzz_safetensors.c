/*
 * fuzz_safetensors.c - libFuzzer target of the safetensors reader: the input is a whole file
 * for st_parse; an accepted file's tensors are looked up by name, their bytes read (ASan
 * checks they lie inside the input) and the float ones converted to fp32.
 */
#include "attnrl/safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st_file f;
	char err[512];
	float buf[64];
	if (st_parse(&f, data, size, "fuzz.safetensors", err, sizeof(err)))
		return 0;
	unsigned sum = 0;
	for (int i = 0; i < f.n_tensors; i++) {
		const struct st_tensor *t = &f.tensors[i];
		if (st_find(&f, t->name) != t) {
			fprintf(stderr, "st_find('%s') is not the only tensor of that name\n", t->name);
			abort();
		}
		for (size_t k = 0; k < t->nbytes; k++)
			sum += ((const unsigned char *)t->data)[k];
		size_t es = st_dtype_size(t->dtype), count = t->nbytes / es;
		if (count > 64)
			count = 64;
		st_to_f32(buf, t->data, t->dtype, count);
	}
	for (int i = 0; i < f.n_meta; i++)
		sum += (unsigned)strlen(st_meta(&f, f.meta_keys[i]));
	st_close(&f);
	return (int)(sum & 0);
}
