/*
 * cmd_generate.c - `attnrl generate`: one sample from a model (a llama2.c .bin, a Hugging Face
 * folder, or an attnrl .safetensors), printed as llama2.c's run.c prints it: the generated text
 * only (not the prompt), then a newline.
 *
 * For llama2.c tokenizers the printing follows run.c byte for byte: a piece right after BOS
 * loses its leading space (sentencepiece's decoder), and a one-byte piece that is neither
 * printable nor whitespace is skipped (safe_printf). Special ids print nothing (run.c would
 * print <unk>'s text; stories260K never samples it). Generation ends at EOS or, for llama2.c
 * vocabularies, BOS (the tokenizer's stop ids; run.c stops at BOS), or after --max-new-tokens.
 */
#include "attnrl/commands.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/config.h"
#include "attnrl/policy.h"
#include "attnrl/rollout.h"

#define GEN_MIN_SEQ_LEN 8
#define L2C_FIRST_TEXT_ID (3 + 256) /* llama2.c: <unk> <s> </s>, then the 256 byte pieces */

/* the flags stay text: gen_config sets them as config keys, so that the option table checks
 * them as it checks a CONFIG */
struct gen_options {
	const char *model, *tokenizer, *prompt, *max_new, *temperature, *seed, *top_p, *top_k;
	struct args_list cfg;
};

#define OPT(f) offsetof(struct gen_options, f)
static const struct args_opt gen_opts[] = {
	{ "--model", ARGS_STR, OPT(model), "PATH", 0, 0, NULL, ARGS_REQUIRED,
	  "a llama2.c .bin, a Hugging Face folder, or an attnrl .safetensors (model.path)" },
	{ "--tokenizer", ARGS_STR, OPT(tokenizer), "PATH", 0, 0, NULL, ARGS_OPTIONAL,
	  "model.tokenizer (default: the one beside the model)" },
	{ "--prompt", ARGS_STR, OPT(prompt), "TEXT", 0, 0, NULL, ARGS_OPTIONAL,
	  "the text to continue (default: empty, from BOS)" },
	{ "--max-new-tokens", ARGS_STR, OPT(max_new), "N", 0, 0, NULL, ARGS_OPTIONAL,
	  "rollout.max_new_tokens" },
	{ "--temperature", ARGS_STR, OPT(temperature), "T", 0, 0, NULL, ARGS_OPTIONAL,
	  "rollout.temperature (0: greedy)" },
	{ "--top-p", ARGS_STR, OPT(top_p), "P", 0, 0, NULL, ARGS_OPTIONAL, "rollout.top_p" },
	{ "--top-k", ARGS_STR, OPT(top_k), "K", 0, 0, NULL, ARGS_OPTIONAL, "rollout.top_k" },
	{ "--seed", ARGS_STR, OPT(seed), "S", 0, 0, NULL, ARGS_OPTIONAL, "run.seed" },
	{ "CONFIG", ARGS_LIST, OPT(cfg), "[CONFIG] [section.key=value ...]", 0, 0, NULL,
	  ARGS_OPTIONAL, "YAML files and overrides, applied in their order, before the flags" },
	{ NULL },
};
const struct args_spec cmd_generate_args = { "generate", "sample one continuation (greedy: T=0)",
					     gen_opts };

/* CONFIG files and overrides into c, in their order; 0 or -1 (printed) */
static int gen_load(struct config *c, const struct args_list *cfg)
{
	char err[1024];
	config_init(c);
	for (int i = 0; i < cfg->n; i++) {
		const char *a = cfg->v[i];
		if (strchr(a, '=') ? config_apply_override(c, a, err, sizeof(err))
				   : config_load_file(c, a, err, sizeof(err))) {
			fprintf(stderr, "attnrl generate: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* "--flag VALUE" as key=value on c (so ranges are checked once, by the option table) */
static int gen_set(struct config *c, const char *key, const char *value)
{
	char kv[CONFIG_STR_MAX + 64], err[1024];
	if (!value)
		return 0;
	snprintf(kv, sizeof(kv), "%s=%s", key, value);
	if (config_apply_override(c, kv, err, sizeof(err))) {
		fprintf(stderr, "attnrl generate: %s\n", err);
		return -1;
	}
	return 0;
}

static int gen_config(struct config *c, const struct gen_options *o)
{
	char err[1024];
	if (gen_set(c, "model.path", o->model) || gen_set(c, "model.tokenizer", o->tokenizer) ||
	    gen_set(c, "rollout.max_new_tokens", o->max_new) ||
	    gen_set(c, "rollout.temperature", o->temperature) || gen_set(c, "run.seed", o->seed) ||
	    gen_set(c, "rollout.top_p", o->top_p) || gen_set(c, "rollout.top_k", o->top_k))
		return -1;
	/* an upper bound of the prompt's tokens: one per byte, a dummy prefix and BOS */
	long need = (long)strlen(o->prompt ? o->prompt : "") + 2 + c->rollout.max_new_tokens;
	c->model.max_seq_len = need > GEN_MIN_SEQ_LEN ? need : GEN_MIN_SEQ_LEN;
	if (config_validate(c, err, sizeof(err))) {
		fprintf(stderr, "attnrl generate: %s\n", err);
		return -1;
	}
	return 0;
}

/* BOS (when the vocabulary wants it) then the prompt's ids; the count, or -1 with err */
static int gen_prompt(const struct tokenizer *tok, const char *text, int32_t *ids, int cap,
		      char *err, size_t n)
{
	int k = 0;
	if (tok->add_bos && tok->bos_id >= 0)
		ids[k++] = tok->bos_id;
	int m = tokenizer_encode(tok, text, ids + k, cap - k);
	if (m < 0) {
		snprintf(err, n, "--prompt: the tokenizer cannot encode '%.40s'", text);
		return -1;
	}
	if (k + m == 0) {
		snprintf(err, n, "--prompt is empty and the tokenizer has no BOS to start from; give a "
			 "prompt");
		return -1;
	}
	return k + m;
}

/* what run.c prints for id after prev (llama2.c vocabularies), else the id's text */
static void gen_print(const struct tokenizer *tok, int32_t prev, int32_t id)
{
	if (id < 0 || id >= tok->vocab_size || tok->special[id])
		return;
	const char *s = tok->piece[id];
	size_t k = (size_t)tok->piece_len[id];
	if (tok->kind == TOKENIZER_LLAMA2C) {
		if (prev == tok->bos_id && id >= L2C_FIRST_TEXT_ID && s[0] == ' ')
			s++, k--;
		if (k == 0 || (k == 1 && !(isprint((unsigned char)s[0]) || isspace((unsigned char)s[0]))))
			return;
	}
	fwrite(s, 1, k, stdout);
}

static int gen_run(struct policy *p, const struct config *c, const char *prompt, char *err,
		   size_t n)
{
	struct rollout_batch b;
	struct rollout_params rp = rollout_params_from_config(c);
	int cap = (int)c->model.max_seq_len, rc = -1;
	int32_t *ids = malloc((size_t)cap * sizeof(*ids));
	memset(&b, 0, sizeof(b));
	if (!ids || rollout_batch_init(&b, 1, cap)) {
		snprintf(err, n, "out of memory");
		goto out;
	}
	int len = gen_prompt(&p->tok, prompt, ids, cap, err, n);
	if (len < 0)
		goto out;
	rp.ignore_eos = 0;
	rp.stop = "";
	const int32_t *prompts[1] = { ids };
	if (rollout_generate(&p->ro, prompts, &len, 1, 1, &rp, &b, err, n))
		goto out;
	const int32_t *seq = b.tokens;
	for (int t = len; t < len + b.resp_len[0]; t++)
		if (!tokenizer_is_stop(&p->tok, seq[t]))
			gen_print(&p->tok, seq[t - 1], seq[t]);
	printf("\n");
	rc = fflush(stdout) ? -1 : 0;
	if (rc)
		snprintf(err, n, "cannot write the output");
out:
	rollout_batch_free(&b);
	free(ids);
	return rc;
}

int cmd_generate(int argc, char **argv)
{
	static struct config c;
	struct gen_options o = { 0 };
	struct policy p;
	char err[1024];
	int rc = args_parse(&cmd_generate_args, &o, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_generate_args, rc, err);
	if (gen_load(&c, &o.cfg) || gen_config(&c, &o))
		return ATTNRL_EXIT_USAGE;
	policy_set_threads(c.train.threads);
	rc = policy_init(&p, &c, 1, err, sizeof(err)) || gen_run(&p, &c, o.prompt ? o.prompt : "",
								  err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl generate: %s\n", err);
	policy_free(&p);
	return rc ? 1 : 0;
}
