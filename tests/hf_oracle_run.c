/*
 * hf_oracle_run.c - attnrl's side of tests/test_oracle_hf.sh: what attnrl computes on a Hugging
 * Face folder, written to files that tests/ref/hf_oracle.py compares with transformers.
 *
 *   hf_oracle_run model FOLDER CASE.safetensors OUT.safetensors [WEIGHTS.safetensors]
 *       loads FOLDER as `train` and `generate` do (hf_read_config, hf_load_weights) and
 *       writes to OUT:
 *         logits      F32 (N, T, V)  the training forward (model_forward) of CASE's ids (N, T)
 *         greedy      I64 (P, M)     the decode engine's greedy continuation of each prompt
 *         sampled     I64 (P, M)     a continuation sampled at CASE's temperature and seed
 *         sampled_logp F32 (P, M)    the log-prob the sampler gave each sampled token
 *       CASE holds ids (N, T), prompts (P, Tp) padded, prompt_len (P), and sample (3: M, the
 *       temperature in thousandths, the seed); EOS does not end a continuation (it is
 *       compared up to the first EOS by the Python side). WEIGHTS: the model also saved as
 *       attnrl's own safetensors (model_save), as a run's model.safetensors.
 *   hf_oracle_run template NAME TOKENIZER IN.jsonl
 *       each line of IN a JSON string, the question; prints the ids of the prompt attnrl
 *       trains on (data_encode: the template NAME rendered, tokenized, BOS when due), one
 *       line of ids per question.
 *
 * Any failure: one line on stderr, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/data.h"
#include "attnrl/engine.h"
#include "attnrl/fsutil.h"
#include "attnrl/hf.h"
#include "attnrl/json.h"
#include "attnrl/model.h"
#include "attnrl/rollout.h"
#include "attnrl/safetensors.h"
#include "attnrl/tokenizer.h"

#define MAX_LEN 256 /* the engine's sequence room: prompts plus continuations */

static char err[1024];

static int fail(const char *what)
{
	fprintf(stderr, "hf_oracle_run: %s%s%s\n", what, err[0] ? ": " : "", err);
	return 1;
}

/* CASE's tensor name as int64 (dims into shape); NULL when absent or not I64 */
static const int64_t *case_i64(const struct st_file *f, const char *name, int ndim, int64_t *shape)
{
	const struct st_tensor *t = st_find(f, name);
	if (!t || t->dtype != ST_I64 || t->ndim != ndim) {
		snprintf(err, sizeof(err), "CASE: no %d-d I64 tensor '%s'", ndim, name);
		return NULL;
	}
	memcpy(shape, t->shape, sizeof(int64_t) * ndim);
	return t->data;
}

/* the training forward of ids (N, T) into logits (N, T, V) */
static int run_forward(const struct model *m, const int64_t *ids, const int64_t *shape, float *logits)
{
	tensor_frame_push();
	int64_t s[2] = { shape[0], shape[1] };
	tensor *x = tensor_from_i64(ids, s, 2);
	tensor *out = x ? model_forward(m, x) : NULL;
	int rc = !out || tensor_read_f32(out, logits, shape[0] * shape[1] * m->cfg.vocab_size);
	if (rc)
		snprintf(err, sizeof(err), "forward: %s", tensor_last_error());
	tensor_frame_pop();
	return rc ? -1 : 0;
}

/* the decode engine's continuations of every prompt: (P, M) tokens and their log-probs */
static int run_decode(const struct model *m, const int32_t *const *prompts, const int *lens, int P,
		      const struct rollout_params *rp, int64_t *tokens, float *logp)
{
	struct engine_config ec;
	struct engine_weights ew;
	struct tokenizer tok;
	struct rollout ro;
	struct rollout_batch b;
	int rc = -1, M = rp->max_new_tokens;
	model_engine_config(m, &ec);
	ew.layers = calloc(ec.n_layers, sizeof(*ew.layers));
	model_engine_weights(m, &ew);
	memset(&b, 0, sizeof(b));
	/* the character vocabulary only decodes the responses' texts (unused here) */
	struct engine *eng = tokenizer_init_chars(&tok) ? NULL
			     : engine_create(&ec, &ew, P, 256, MAX_LEN, err, sizeof(err));
	if (!eng || rollout_init(&ro, eng, &tok) || rollout_batch_init(&b, P, MAX_LEN)) {
		if (!err[0])
			snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (rollout_generate(&ro, prompts, lens, P, 1, rp, &b, err, sizeof(err)))
		goto out_ro;
	for (int i = 0; i < P; i++) {
		if (b.resp_len[i] != M) {
			snprintf(err, sizeof(err), "prompt %d: %d tokens generated, not %d", i, b.resp_len[i], M);
			goto out_ro;
		}
		for (int t = 0; t < M; t++) {
			size_t at = (size_t)i * b.cap_len + b.prompt_len[i] + t;
			tokens[(size_t)i * M + t] = b.tokens[at];
			logp[(size_t)i * M + t] = b.logp[at];
		}
	}
	rc = 0;
out_ro:
	rollout_free(&ro);
out:
	rollout_batch_free(&b);
	engine_destroy(eng);
	tokenizer_free(&tok);
	free(ew.layers);
	return rc;
}

static int cmd_model(const char *folder, const char *case_path, const char *out_path,
		     const char *weights)
{
	struct hf_info info;
	struct st_file f;
	int64_t ishape[2], pshape[2], lshape[1], sshape[1];
	if (hf_read_config(folder, &info, err, sizeof(err)))
		return fail("config");
	info.mc.max_seq_len = MAX_LEN;
	struct model *m = model_create_empty(&info.mc);
	if (!m || hf_load_weights(m, folder, err, sizeof(err)))
		return fail("load");
	if (weights && model_save(m, weights, err, sizeof(err)))
		return fail("save");
	if (st_open(&f, case_path, err, sizeof(err)))
		return fail("case");
	const int64_t *ids = case_i64(&f, "ids", 2, ishape);
	const int64_t *pr = case_i64(&f, "prompts", 2, pshape);
	const int64_t *plen = case_i64(&f, "prompt_len", 1, lshape);
	const int64_t *sample = case_i64(&f, "sample", 1, sshape);
	if (!ids || !pr || !plen || !sample || lshape[0] != pshape[0] || sshape[0] != 3)
		return fail("case");
	int P = (int)pshape[0], M = (int)sample[0], V = m->cfg.vocab_size;
	size_t nl = (size_t)ishape[0] * ishape[1] * V;
	float *logits = malloc(nl * sizeof(float)), *glogp = malloc(sizeof(float) * P * M);
	float *slogp = malloc(sizeof(float) * P * M);
	int64_t *greedy = malloc(sizeof(int64_t) * P * M), *sampled = malloc(sizeof(int64_t) * P * M);
	int32_t *pids = malloc(sizeof(int32_t) * P * pshape[1]);
	const int32_t **prompts = malloc(sizeof(*prompts) * P);
	int *lens = malloc(sizeof(int) * P);
	if (!logits || !glogp || !slogp || !greedy || !sampled || !pids || !prompts || !lens)
		return fail("out of memory");
	for (int i = 0; i < P; i++) {
		lens[i] = (int)plen[i];
		prompts[i] = pids + (size_t)i * pshape[1];
		for (int t = 0; t < pshape[1]; t++)
			pids[(size_t)i * pshape[1] + t] = (int32_t)pr[(size_t)i * pshape[1] + t];
		if (lens[i] < 1 || lens[i] > pshape[1] || lens[i] + M > MAX_LEN)
			return fail("case: a prompt length is out of range");
	}
	struct rollout_params rp = { .max_new_tokens = M, .ignore_eos = 1, .temperature = 0.0,
				     .top_p = 1.0, .seed = (uint64_t)sample[2] };
	if (run_forward(m, ids, ishape, logits))
		return fail("model_forward");
	if (run_decode(m, prompts, lens, P, &rp, greedy, glogp))
		return fail("greedy");
	rp.temperature = sample[1] / 1000.0;
	if (run_decode(m, prompts, lens, P, &rp, sampled, slogp))
		return fail("sampling");
	int64_t lg_shape[3] = { ishape[0], ishape[1], V }, pm[2] = { P, M };
	struct st_entry e[4] = { { "logits", ST_F32, 3, lg_shape, logits },
				 { "greedy", ST_I64, 2, pm, greedy },
				 { "sampled", ST_I64, 2, pm, sampled },
				 { "sampled_logp", ST_F32, 2, pm, slogp } };
	if (st_write(out_path, e, 4, NULL, 0, err, sizeof(err)))
		return fail("write");
	st_close(&f);
	model_destroy(m);
	free(logits), free(glogp), free(slogp), free(greedy), free(sampled), free(pids);
	free(prompts), free(lens);
	return 0;
}

static int cmd_template(const char *name, const char *tok_path, const char *in_path)
{
	static struct data d;
	struct tokenizer tok;
	static int32_t ids[DATA_PROMPT_MAX];
	char *text;
	size_t len;
	if (tokenizer_load(&tok, tok_path, err, sizeof(err)))
		return fail("tokenizer");
	if (template_init(&d.tpl, name, err, sizeof(err)))
		return fail("template");
	d.tok = &tok;
	if (fs_read_file(in_path, &text, &len)) {
		snprintf(err, sizeof(err), "%s", in_path);
		return fail("cannot read");
	}
	for (char *line = text, *end; line < text + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(text + len - line));
		if (!end)
			end = text + len;
		struct json *q = json_parse(line, (size_t)(end - line), err, sizeof(err));
		if (!q || !json_str(q))
			return fail("IN: not a JSON string");
		int k = data_encode(&d, json_str(q), ids, DATA_PROMPT_MAX, err, sizeof(err));
		if (k < 0)
			return fail("data_encode");
		for (int i = 0; i < k; i++)
			printf(i ? " %d" : "%d", ids[i]);
		printf("\n");
		json_free(q);
	}
	free(text);
	tokenizer_free(&tok);
	return fflush(stdout) ? fail("cannot write the output") : 0;
}

int main(int argc, char **argv)
{
	tensor_set_threads(1);
	if (argc >= 5 && !strcmp(argv[1], "model"))
		return cmd_model(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
	if (argc == 5 && !strcmp(argv[1], "template"))
		return cmd_template(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: hf_oracle_run model FOLDER CASE OUT [WEIGHTS] | template NAME TOKENIZER IN.jsonl\n");
	return 2;
}
