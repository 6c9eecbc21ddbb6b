/*
 * llama2c.c - llama2.c checkpoints (see llama2c.h): the 28-byte header is validated and the
 * file size must be exactly what the header implies (tied or untied classifier); the file is
 * then mapped read-only and every array is copied into an empty model, wq and wk rows permuted
 * from llama2.c's interleaved RoPE pairs to Hugging Face's half-split ones.
 */
#include "attnrl/llama2c.h"

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

#define L2C_HEADER_BYTES (7 * 4)

/* the header as run.c reads it */
struct l2c_header { int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; };

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* floats after the header: the arrays run.c maps, freq_cis included, wcls when untied */
static int64_t l2c_floats(const struct l2c_header *h, int untied)
{
	int64_t D = h->dim, F = h->hidden_dim, L = h->n_layers, V = abs(h->vocab_size);
	int64_t E = D / h->n_heads, KE = (int64_t)h->n_kv_heads * E;
	int64_t n = V * D;                     /* token embedding */
	n += L * D * 2;                        /* rms_att, rms_ffn */
	n += L * D * D * 2 + L * KE * D * 2;   /* wq, wo, wk, wv */
	n += L * F * D * 3;                    /* w1, w2, w3 */
	n += D;                                /* rms_final */
	n += (int64_t)h->seq_len * E;          /* freq_cis_real and _imag, (seq_len, E/2) each */
	return n + (untied ? V * D : 0);
}

static int header_check(const char *path, const struct l2c_header *h, char *err, size_t n)
{
	const int32_t v[7] = { h->dim, h->hidden_dim, h->n_layers, h->n_heads, h->n_kv_heads,
			       h->vocab_size, h->seq_len };
	static const char *const names[7] = { "dim", "hidden_dim", "n_layers", "n_heads",
					      "n_kv_heads", "vocab_size", "seq_len" };
	static const int32_t max[7] = { 1 << 16, 1 << 20, 1 << 10, 1 << 12, 1 << 12, 1 << 24, 1 << 24 };
	for (int i = 0; i < 7; i++) {
		int32_t x = i == 5 && v[i] < 0 && v[i] != INT32_MIN ? -v[i] : v[i];
		if (x <= 0 || x > max[i])
			return fail(err, n, "%s: not a llama2.c checkpoint: header %s = %d (want 1..%d); "
				    "give a model.bin written by llama2.c's export", path, names[i], v[i],
				    max[i]);
	}
	if (h->dim % h->n_heads || h->n_heads % h->n_kv_heads || (h->dim / h->n_heads) % 2)
		return fail(err, n, "%s: not a llama2.c checkpoint: dim %d, n_heads %d, n_kv_heads %d "
			    "(want dim a multiple of n_heads with an even head size, n_heads a multiple "
			    "of n_kv_heads)", path, h->dim, h->n_heads, h->n_kv_heads);
	return 0;
}

/* the header of path, checked against the file's size (st_size) */
static int header_read(const char *path, struct l2c_header *h, off_t *size, char *err, size_t n)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail(err, n, "%s: cannot open the llama2.c checkpoint: %s", path, strerror(errno));
	int rc = fstat(fd, &st);
	ssize_t got = rc ? -1 : pread(fd, h, sizeof(*h), 0);
	close(fd);
	if (rc || got < 0)
		return fail(err, n, "%s: cannot read the llama2.c checkpoint: %s", path, strerror(errno));
	if (got != L2C_HEADER_BYTES)
		return fail(err, n, "%s: truncated llama2.c checkpoint: %lld bytes, shorter than its "
			    "%d-byte header", path, (long long)st.st_size, L2C_HEADER_BYTES);
	if (header_check(path, h, err, n))
		return -1;
	int untied = h->vocab_size < 0;
	int64_t want = L2C_HEADER_BYTES + 4 * l2c_floats(h, untied);
	if (st.st_size != want)
		return fail(err, n, "%s: llama2.c checkpoint of %lld bytes, but its header (dim %d, "
			    "hidden %d, layers %d, heads %d/%d, vocab %d, seq_len %d, %s) implies %lld "
			    "bytes; the file is truncated or not a llama2.c export", path,
			    (long long)st.st_size, h->dim, h->hidden_dim, h->n_layers, h->n_heads,
			    h->n_kv_heads, abs(h->vocab_size), h->seq_len,
			    untied ? "untied classifier" : "tied classifier", (long long)want);
	*size = st.st_size;
	return 0;
}

static void config_from(struct model_config *mc, const struct l2c_header *h, int max_seq_len)
{
	memset(mc, 0, sizeof(*mc));
	mc->dim = h->dim;
	mc->hidden_dim = h->hidden_dim;
	mc->n_layers = h->n_layers;
	mc->n_heads = h->n_heads;
	mc->n_kv_heads = h->n_kv_heads;
	mc->head_dim = h->dim / h->n_heads;
	mc->vocab_size = abs(h->vocab_size);
	mc->max_seq_len = max_seq_len > 0 ? max_seq_len : h->seq_len;
	mc->rope_theta = 10000.0;
	mc->norm_eps = 1e-5;
	mc->tie_embeddings = h->vocab_size > 0;
	mc->rope_scaling = ROPE_SCALING_NONE;
}

int llama2c_read_config(const char *path, struct model_config *mc, char *err, size_t n)
{
	struct l2c_header h;
	off_t size;
	memset(mc, 0, sizeof(*mc));
	if (header_read(path, &h, &size, err, n))
		return -1;
	config_from(mc, &h, 0);
	return 0;
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
	struct l2c_header h;
	struct model_config mc;
	off_t size;
	if (header_read(path, &h, &size, err, n))
		return NULL;
	config_from(&mc, &h, max_seq_len);
	int fd = open(path, O_RDONLY);
	void *map = fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map == MAP_FAILED) {
		fail(err, n, "%s: cannot map the llama2.c checkpoint: %s", path, strerror(errno));
		return NULL;
	}
	struct model *m = model_create_empty(&mc);
	float *scratch = malloc((size_t)mc.dim * mc.dim * sizeof(float));
	if (!m || !scratch) {
		fail(err, n, "%s: cannot allocate the model (%d layers, dim %d): %s", path,
		     mc.n_layers, mc.dim, m ? "out of memory" : tensor_last_error());
		goto fail;
	}
	const float *p = (const float *)((const char *)map + L2C_HEADER_BYTES);
	const float *wcls = p + l2c_floats(&h, 0); /* after the tied layout */
	if (weights_copy(m, p, scratch) ||
	    (!mc.tie_embeddings && tensor_write_f32(m->lm_head, wcls, (int64_t)mc.vocab_size * mc.dim))) {
		fail(err, n, "%s: cannot copy the weights: %s", path, tensor_last_error());
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
