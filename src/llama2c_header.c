/*
 * llama2c_header.c - the header of a llama2.c checkpoint (see llama2c.h): its 7 int32 dims
 * in range and consistent, and the file size exactly what they imply (tied or untied
 * classifier). Pure C (the sanitizer and fuzz builds); llama2c.c reads the header and calls it.
 */
#include "attnrl/llama2c.h"
#include "attnrl/errmsg.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* the header as run.c reads it */
struct l2c_header { int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; };


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
			return err_set(err, n, "%s: not a llama2.c checkpoint: header %s = %d (want 1..%d); "
				    "give a model.bin written by llama2.c's export", path, names[i], v[i],
				    max[i]);
	}
	if (h->dim % h->n_heads || h->n_heads % h->n_kv_heads || (h->dim / h->n_heads) % 2)
		return err_set(err, n, "%s: not a llama2.c checkpoint: dim %d, n_heads %d, n_kv_heads %d "
			    "(want dim a multiple of n_heads with an even head size, n_heads a multiple "
			    "of n_kv_heads)", path, h->dim, h->n_heads, h->n_kv_heads);
	return 0;
}

static void config_from(struct model_config *mc, const struct l2c_header *h)
{
	memset(mc, 0, sizeof(*mc));
	mc->dim = h->dim;
	mc->hidden_dim = h->hidden_dim;
	mc->n_layers = h->n_layers;
	mc->n_heads = h->n_heads;
	mc->n_kv_heads = h->n_kv_heads;
	mc->head_dim = h->dim / h->n_heads;
	mc->vocab_size = abs(h->vocab_size);
	mc->max_seq_len = h->seq_len;
	mc->rope_theta = 10000.0;
	mc->norm_eps = 1e-5;
	mc->tie_embeddings = h->vocab_size > 0;
	mc->rope_scaling = ROPE_SCALING_NONE;
}

int llama2c_check(const void *head, size_t len, int64_t file_size, const char *where,
		  struct model_config *mc, char *err, size_t n)
{
	struct l2c_header h;
	if (len < LLAMA2C_HEADER_BYTES)
		return err_set(err, n, "%s: truncated llama2.c checkpoint: %lld bytes, shorter than its "
			    "%d-byte header", where, (long long)file_size, LLAMA2C_HEADER_BYTES);
	memcpy(&h, head, sizeof(h));
	if (header_check(where, &h, err, n))
		return -1;
	int untied = h.vocab_size < 0;
	int64_t want = LLAMA2C_HEADER_BYTES + 4 * l2c_floats(&h, untied);
	if (file_size != want)
		return err_set(err, n, "%s: llama2.c checkpoint of %lld bytes, but its header (dim %d, "
			    "hidden %d, layers %d, heads %d/%d, vocab %d, seq_len %d, %s) implies %lld "
			    "bytes; the file is truncated or not a llama2.c export", where,
			    (long long)file_size, h.dim, h.hidden_dim, h.n_layers, h.n_heads,
			    h.n_kv_heads, abs(h.vocab_size), h.seq_len,
			    untied ? "untied classifier" : "tied classifier", (long long)want);
	config_from(mc, &h);
	return 0;
}
