/*
 * test_llama2c.c - the llama2.c checkpoint loader.
 * A small checkpoint is written (tied, then untied) with every float distinct, loaded, and
 * each parameter compared with the file's array at its offset in llama2.c's layout, wq and wk
 * through the documented row permutation. Then hand-made bad files (truncated header,
 * impossible header values, a byte too many or too few) must each fail with their own one-line
 * message naming the file. When ../shared/models/stories260K is present, the training forward
 * (model_forward) teacher-forced on run.c's 200 greedy ids from BOS
 * (tests/fixtures/stories260K/greedy_bos_200.ids, recorded from run.c) must predict each one.
 */
#include "attnrl/llama2c.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORIES "../shared/models/stories260K/stories260K.bin"
#define STORIES_IDS "tests/fixtures/stories260K/greedy_bos_200.ids"

static char path[] = "/tmp/test_l2c_XXXXXX";
static char err[512];

/* dim 8, hidden 12, 2 layers, 2 heads, 1 kv head, vocab 16, seq_len 4: head size 4 */
enum { D = 8, F = 12, L = 2, H = 2, K = 1, V = 16, S = 4, E = D / H };
static const int64_t n_tied = V * D + 2 * L * D + 2 * L * D * D + 2 * L * K * E * D +
			      3 * L * F * D + D + S * E;

/* header + n floats (value i+1 at float i) + extra bytes (negative: cut) */
static void write_ckpt(const int32_t hdr[7], int64_t n, int extra)
{
	FILE *f = fopen(path, "wb");
	fwrite(hdr, 4, 7, f);
	for (int64_t i = 0; i < n; i++) {
		float x = (float)(i + 1);
		fwrite(&x, 4, 1, f);
	}
	for (int i = 0; i < extra; i++)
		fputc(0, f);
	fclose(f);
	if (extra < 0)
		CHECK(truncate(path, 28 + 4 * n + extra) == 0, "truncate");
}

/* t (rows, cols) holds the file's floats from offset off, row r read from row perm(r) */
static int same_rows(tensor *t, int64_t off, int64_t rows, int64_t cols, int permute)
{
	float *got = malloc(rows * cols * sizeof(float));
	int ok = tensor_read_f32(t, got, rows * cols) == 0;
	for (int64_t r = 0; r < rows && ok; r++) {
		int64_t h = r / E, j = r % E, src = r;
		if (permute)
			src = h * E + (j < E / 2 ? 2 * j : 2 * (j - E / 2) + 1);
		for (int64_t c = 0; c < cols; c++)
			ok &= got[r * cols + c] == (float)(off + src * cols + c + 1);
	}
	free(got);
	return ok;
}

static void check_layout(int untied)
{
	const int32_t hdr[7] = { D, F, L, H, K, untied ? -V : V, S };
	write_ckpt(hdr, n_tied + (untied ? V * D : 0), 0);
	struct model *m = llama2c_load(path, 0, err, sizeof(err));
	CHECK(m, "load (untied %d): %s", untied, err);
	if (!m)
		return;
	const struct model_config *c = &m->cfg;
	CHECK(c->dim == D && c->hidden_dim == F && c->n_layers == L && c->n_heads == H &&
	      c->n_kv_heads == K && c->head_dim == E && c->vocab_size == V && c->max_seq_len == S,
	      "dims");
	CHECK(c->tie_embeddings == !untied && c->rope_theta == 10000.0 && c->norm_eps == 1e-5,
	      "tie %d theta %g eps %g", c->tie_embeddings, c->rope_theta, c->norm_eps);
	int64_t o = 0, KE = K * E;
	CHECK(same_rows(m->embed, o, V, D, 0), "embed");
	o += V * D;
	for (int l = 0; l < L; l++) {
		const struct model_layer *y = &m->layers[l];
		int64_t wq = o + L * D, wk = wq + L * D * D, wv = wk + L * KE * D, wo = wv + L * KE * D;
		int64_t rf = wo + L * D * D, w1 = rf + L * D, w2 = w1 + L * F * D, w3 = w2 + L * D * F;
		CHECK(same_rows(y->attn_norm, o + l * D, 1, D, 0), "rms_att %d", l);
		CHECK(same_rows(y->wq, wq + l * D * D, D, D, 1), "wq %d (permuted)", l);
		CHECK(same_rows(y->wk, wk + l * KE * D, KE, D, 1), "wk %d (permuted)", l);
		CHECK(same_rows(y->wv, wv + l * KE * D, KE, D, 0), "wv %d", l);
		CHECK(same_rows(y->wo, wo + l * D * D, D, D, 0), "wo %d", l);
		CHECK(same_rows(y->ffn_norm, rf + l * D, 1, D, 0), "rms_ffn %d", l);
		CHECK(same_rows(y->w_gate, w1 + l * F * D, F, D, 0), "w1 %d", l);
		CHECK(same_rows(y->w_down, w2 + l * D * F, D, F, 0), "w2 %d", l);
		CHECK(same_rows(y->w_up, w3 + l * F * D, F, D, 0), "w3 %d", l);
	}
	int64_t fin = V * D + 2 * L * D + 2 * L * D * D + 2 * L * KE * D + 3 * L * F * D;
	CHECK(same_rows(m->final_norm, fin, 1, D, 0), "rms_final");
	if (untied)
		CHECK(m->lm_head != m->embed && same_rows(m->lm_head, n_tied, V, D, 0), "wcls");
	else
		CHECK(m->lm_head == m->embed, "tied lm_head");
	model_destroy(m);
	m = llama2c_load(path, 64, err, sizeof(err));
	CHECK(m && m->cfg.max_seq_len == 64, "max_seq_len argument: %s", err);
	model_destroy(m);
}

/* one bad file: load and read_config fail with a message holding want (and the path) */
static void check_bad(const char *what, const int32_t hdr[7], int64_t n, int extra,
		      const char *want)
{
	struct model_config mc;
	write_ckpt(hdr, n, extra);
	err[0] = '\0';
	struct model *m = llama2c_load(path, 0, err, sizeof(err));
	CHECK(!m && strstr(err, want) && strstr(err, path) && !strchr(err, '\n'),
	      "%s: want '%s', got '%s'", what, want, err);
	model_destroy(m);
	err[0] = '\0';
	CHECK(llama2c_read_config(path, &mc, err, sizeof(err)) == -1 && strstr(err, want),
	      "%s (read_config): got '%s'", what, err);
}

static void check_errors(void)
{
	const int32_t ok[7] = { D, F, L, H, K, V, S };
	char want[128];
	check_bad("header cut", ok, 0, -10, "shorter than its 28-byte header");
	const int32_t neg[7] = { -D, F, L, H, K, V, S };
	check_bad("negative dim", neg, n_tied, 0, "header dim = -8");
	const int32_t zero_heads[7] = { D, F, L, 0, K, V, S };
	check_bad("zero heads", zero_heads, n_tied, 0, "header n_heads = 0");
	const int32_t odd[7] = { D, F, L, 3, 1, V, S };
	check_bad("dim % heads", odd, n_tied, 0, "dim 8, n_heads 3");
	const int32_t kv[7] = { D, F, L, 2, 3, V, S };
	check_bad("heads % kv heads", kv, n_tied, 0, "n_kv_heads 3");
	snprintf(want, sizeof(want), "of %lld bytes, but its header", (long long)(28 + 4 * n_tied + 1));
	check_bad("a byte too many", ok, n_tied, 1, want);
	snprintf(want, sizeof(want), "implies %lld bytes", (long long)(28 + 4 * n_tied));
	check_bad("truncated weights", ok, n_tied, -3, want);
	const int32_t untied[7] = { D, F, L, H, K, -V, S };
	snprintf(want, sizeof(want), "untied classifier) implies %lld bytes",
		 (long long)(28 + 4 * (n_tied + V * D)));
	check_bad("untied without wcls", untied, n_tied, 0, want);
	/* llama2c_check on the header bytes: the same dims as the file, the same size rule */
	struct model_config mc;
	int64_t size = 28 + 4 * n_tied;
	CHECK(llama2c_check(ok, 28, size, "m.bin", &mc, err, sizeof(err)) == 0 && mc.dim == D &&
	      mc.hidden_dim == F && mc.n_layers == L && mc.n_heads == H && mc.n_kv_heads == K &&
	      mc.vocab_size == V && mc.max_seq_len == S && mc.head_dim == D / H && mc.tie_embeddings,
	      "llama2c_check: %s", err);
	CHECK(llama2c_check(ok, 27, 27, "m.bin", &mc, err, sizeof(err)) == -1 &&
	      strstr(err, "m.bin: truncated llama2.c checkpoint: 27 bytes"), "short: '%s'", err);
	CHECK(llama2c_check(ok, 28, size + 4, "m.bin", &mc, err, sizeof(err)) == -1 &&
	      strstr(err, "m.bin: llama2.c checkpoint of"), "size: '%s'", err);
	err[0] = '\0';
	CHECK(!llama2c_load("/no/such/model.bin", 0, err, sizeof(err)) &&
	      strstr(err, "/no/such/model.bin: cannot open"), "missing file: '%s'", err);
}

/* run.c's greedy ids from BOS, teacher-forced through model_forward: argmax = the next id */
static void check_stories(void)
{
	int32_t ids[256];
	int n = 0;
	FILE *f = fopen(STORIES_IDS, "r");
	if (access(STORIES, R_OK) || !f) {
		printf("test_llama2c: stories260K check skipped: %s or %s not found\n", STORIES,
		       STORIES_IDS);
		if (f)
			fclose(f);
		return;
	}
	while (n < 256 && fscanf(f, "%d", &ids[n]) == 1)
		n++;
	fclose(f);
	CHECK(n == 200, "%s holds %d ids, want 200", STORIES_IDS, n);
	struct model_config mc;
	CHECK(llama2c_read_config(STORIES, &mc, err, sizeof(err)) == 0 && mc.dim == 64 &&
	      mc.hidden_dim == 172 && mc.n_layers == 5 && mc.n_heads == 8 && mc.n_kv_heads == 4 &&
	      mc.vocab_size == 512 && mc.max_seq_len == 512 && mc.tie_embeddings,
	      "stories260K config: %s", err);
	struct model *m = llama2c_load(STORIES, 256, err, sizeof(err));
	CHECK(m, "load stories260K: %s", err);
	if (!m)
		return;
	int64_t in[201], shape[2] = { 1, n };
	in[0] = 1;
	for (int i = 0; i < n; i++)
		in[i + 1] = ids[i];
	tensor_frame_push();
	tensor *arg = tensor_argmax(model_forward(m, tensor_from_i64(in, shape, 2)), -1);
	int64_t *am = arg ? tensor_data(arg) : NULL;
	int bad = am ? 0 : n;
	for (int t = 0; am && t < n; t++)
		bad += am[t] != ids[t];
	CHECK(bad == 0, "model_forward's argmax differs from run.c's greedy id at %d of %d positions",
	      bad, n);
	tensor_frame_pop();
	model_destroy(m);
}

int main(void)
{
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	close(fd);
	tensor_set_threads(1);
	check_layout(0);
	check_layout(1);
	check_errors();
	check_stories();
	unlink(path);
	CHECK(tensor_live_count() == 0, "%ld tensors leaked", tensor_live_count());
	return check_done("test_llama2c");
}
