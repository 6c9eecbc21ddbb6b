/*
 * llama2c.h - llama2.c checkpoints (the legacy .bin of run.c).
 *
 * Layout: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a
 * negative vocab_size means an untied classifier), then fp32 arrays: token embedding (V, D),
 * rms_att (L, D), wq (L, D, D), wk (L, K*E, D), wv (L, K*E, D), wo (L, D, D), rms_ffn (L, D),
 * w1 (L, F, D), w2 (L, D, F), w3 (L, F, D), rms_final (D), freq_cis_real and _imag
 * (seq_len, E/2) (skipped), then wcls (V, D) when untied. llama2.c rotates interleaved pairs
 * (2i, 2i+1); the loader permutes the rows of wq and wk to Hugging Face's half-split RoPE, so
 * the model is a plain Llama afterwards (rope_theta 10000, norm eps 1e-5).
 */
#ifndef ATTNRL_LLAMA2C_H
#define ATTNRL_LLAMA2C_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/model.h"

#define LLAMA2C_HEADER_BYTES (7 * 4) /* seven int32 */

/* the dims of a checkpoint of file_size bytes from its first len bytes at head (the header
 * is the first LLAMA2C_HEADER_BYTES; fewer: truncated) (max_seq_len = its seq_len); -1 with "where: what" in
 * err on a bad header or a size the header does not imply */
int llama2c_check(const void *head, size_t len, int64_t file_size, const char *where,
		  struct model_config *mc, char *err, size_t n);
/* the checkpoint's dims (max_seq_len = its seq_len); -1 with err on a bad header or size */
int llama2c_read_config(const char *path, struct model_config *mc, char *err, size_t n);
/* a model of those dims with the weights loaded; NULL with err */
struct model *llama2c_load(const char *path, int max_seq_len, char *err, size_t n);

#endif
