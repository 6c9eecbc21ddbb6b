/*
 * llama2c.c - llama2.c checkpoints (see llama2c.h): the 28-byte header is validated and the
 * file size must be exactly what the header implies (tied or untied classifier; both checks
 * are llama2c_header.c's); the file is then mapped read-only and every array is copied into an empty model, wq and wk rows permuted
 * from llama2.c's interleaved RoPE pairs to Hugging Face's half-split ones.
 */
#include "attnrl/llama2c.h"
#include "attnrl/errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>



/* the dims of path from its header, checked against the file's size (*size) */
static int header_read(const char *path, struct model_config *mc, off_t *size, char *err, size_t n)
{
	struct stat st;
	unsigned char head[LLAMA2C_HEADER_BYTES];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return err_set(err, n, "%s: cannot open the llama2.c checkpoint: %s", path, strerror(errno));
	int rc = fstat(fd, &st);
	ssize_t got = rc ? -1 : pread(fd, head, sizeof(head), 0);
	close(fd);
	if (rc || got < 0)
		return err_set(err, n, "%s: cannot read the llama2.c checkpoint: %s", path, strerror(errno));
	if (llama2c_check(head, (size_t)got, (int64_t)st.st_size, path, mc, err, n))
		return -1;
	*size = st.st_size;
	return 0;
}

int llama2c_read_config(const char *path, struct model_config *mc, char *err, size_t n)
{
	off_t size;
	memset(mc, 0, sizeof(*mc));
	return header_read(path, mc, &size, err, n);
}

/* rows (H*E, D) of a query or key matrix: head h's pair (2i, 2i+1) -> rows (i, i + E/2) */
static void rope_permute(float *dst, const float *src, int heads, int E, int D)
{
	for (int h = 0; h < heads; h++)
		for (int i = 0; i < E / 2; i++) {
			const float *a = src + ((size_t)h * E + 2 * i) * D;
			memcpy(dst + ((size_t)h * E + i) * D, a, D * sizeof(float));
			memcpy(dst + ((size_t)h * E + i + E / 2) * D, a + D, D * sizeof(float));
		}
}

/* copies the arrays at p into m; scratch holds D*D floats */
static int weights_copy(struct model *m, const float *p, float *scratch)
{
	const struct model_config *c = &m->cfg;
	int64_t D = c->dim, F = c->hidden_dim, L = c->n_layers, V = c->vocab_size;
	int64_t E = c->head_dim, KE = (int64_t)c->n_kv_heads * E;
	const float *emb = p;
	const float *rms_att = emb + V * D, *wq = rms_att + L * D, *wk = wq + L * D * D;
	const float *wv = wk + L * KE * D, *wo = wv + L * KE * D, *rms_ffn = wo + L * D * D;
	const float *w1 = rms_ffn + L * D, *w2 = w1 + L * F * D, *w3 = w2 + L * D * F;
	const float *rms_final = w3 + L * F * D;
	int rc = tensor_write_f32(m->embed, emb, V * D);
	for (int64_t l = 0; l < L && !rc; l++) {
		struct model_layer *y = &m->layers[l];
		rc |= tensor_write_f32(y->attn_norm, rms_att + l * D, D);
		rope_permute(scratch, wq + l * D * D, c->n_heads, (int)E, (int)D);
		rc |= tensor_write_f32(y->wq, scratch, D * D);
		rope_permute(scratch, wk + l * KE * D, c->n_kv_heads, (int)E, (int)D);
		rc |= tensor_write_f32(y->wk, scratch, KE * D);
		rc |= tensor_write_f32(y->wv, wv + l * KE * D, KE * D);
		rc |= tensor_write_f32(y->wo, wo + l * D * D, D * D);
		rc |= tensor_write_f32(y->ffn_norm, rms_ffn + l * D, D);
		rc |= tensor_write_f32(y->w_gate, w1 + l * F * D, F * D);
		rc |= tensor_write_f32(y->w_down, w2 + l * D * F, D * F);
		rc |= tensor_write_f32(y->w_up, w3 + l * F * D, F * D);
	}
	rc = rc || tensor_write_f32(m->final_norm, rms_final, D);
	return rc;
}

struct model *llama2c_load(const char *path, int max_seq_len, char *err, size_t n)
{
	struct model_config mc;
	off_t size;
	if (header_read(path, &mc, &size, err, n))
		return NULL;
	if (max_seq_len > 0)
		mc.max_seq_len = max_seq_len;
	int fd = open(path, O_RDONLY);
	void *map = fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map == MAP_FAILED) {
		err_set(err, n, "%s: cannot map the llama2.c checkpoint: %s", path, strerror(errno));
		return NULL;
	}
	struct model *m = model_create_empty(&mc);
	float *scratch = malloc((size_t)mc.dim * mc.dim * sizeof(float));
	if (!m || !scratch) {
		err_set(err, n, "%s: cannot allocate the model (%d layers, dim %d): %s", path,
		     mc.n_layers, mc.dim, m ? "out of memory" : tensor_last_error());
		goto fail;
	}
	const float *p = (const float *)((const char *)map + LLAMA2C_HEADER_BYTES);
	/* the last array when untied: the size check made the file end exactly after it */
	const float *wcls = p + (size - LLAMA2C_HEADER_BYTES) / 4 - (int64_t)mc.vocab_size * mc.dim;
	if (weights_copy(m, p, scratch) ||
	    (!mc.tie_embeddings && tensor_write_f32(m->lm_head, wcls, (int64_t)mc.vocab_size * mc.dim))) {
		err_set(err, n, "%s: cannot copy the weights: %s", path, tensor_last_error());
		goto fail;
	}
	free(scratch);
	munmap(map, (size_t)size);
	return m;
fail:
	free(scratch);
	model_destroy(m);
	munmap(map, (size_t)size);
	return NULL;
}
