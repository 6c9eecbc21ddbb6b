/*
 * test_config.c - the config module against hand-written expectations: the defaults of the
 * option list in the design brief, a fixture that sets every key, overrides, one exact message
 * (file:line:col, suggestion) per error class, the cross-key batch checks, the YAML round trip
 * (same struct, same hash) and the reference table. Run from the repository root.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attnrl/config.h"
#include "check.h"

#define FIX "tests/fixtures/config/"

#define EQ_I(x, v) CHECK((x) == (v), "%s = %ld, want %ld", #x, (long)(x), (long)(v))
#define EQ_F(x, v) CHECK((x) == (v), "%s = %.17g, want %.17g", #x, (double)(x), (double)(v))
#define EQ_S(x, v) CHECK(!strcmp((x), (v)), "%s = '%s', want '%s'", #x, (x), (v))

static char err[512];

static int override(struct config *c, const char *kv)
{
	err[0] = 0;
	return config_apply_override(c, kv, err, sizeof(err));
}

/* an override that must succeed */
static void set(struct config *c, const char *kv)
{
	CHECK(override(c, kv) == 0, "override '%s': %s", kv, err);
}

/* the defaults as the design brief lists them */
static void test_defaults(void)
{
	struct config c;
	config_init(&c);
	EQ_S(c.run.name, "default"); EQ_S(c.run.dir, "runs"); EQ_I(c.run.seed, 1);
	EQ_S(c.model.arch, "llama"); EQ_S(c.model.path, ""); EQ_I(c.model.dim, 128);
	EQ_I(c.model.n_layers, 4); EQ_I(c.model.n_heads, 4); EQ_I(c.model.n_kv_heads, 0);
	EQ_I(c.model.head_dim, 0); EQ_I(c.model.hidden_dim, 0); EQ_I(c.model.max_seq_len, 256);
	EQ_F(c.model.rope_theta, 10000); EQ_F(c.model.norm_eps, 1e-5);
	EQ_I(c.model.tie_embeddings, 1); EQ_F(c.model.init_std, 0.02);
	EQ_S(c.data.task, "arith"); EQ_S(c.data.path, ""); EQ_I(c.data.seed, 1234);
	EQ_I(c.data.eval_size, 200); EQ_I(c.data.min_ops, 2); EQ_I(c.data.max_ops, 3);
	EQ_I(c.data.max_operand, 50);
	EQ_I(c.rollout.prompts_per_step, 16); EQ_I(c.rollout.group_size, 8);
	EQ_I(c.rollout.max_new_tokens, 64); EQ_F(c.rollout.temperature, 1.0);
	EQ_F(c.rollout.top_p, 1.0); EQ_I(c.rollout.top_k, 0); EQ_S(c.rollout.stop, "</answer>"); EQ_I(c.rollout.ignore_eos, 0);
	EQ_S(c.algo.advantage, "grpo"); EQ_F(c.algo.clip_low, 0.2); EQ_F(c.algo.clip_high, 0.2);
	EQ_S(c.algo.loss_agg, "seq-mean-token-mean"); EQ_F(c.algo.kl_coef, 0);
	EQ_F(c.algo.entropy_coef, 0); EQ_I(c.algo.mini_batch, 32); EQ_I(c.algo.micro_batch, 0);
	EQ_I(c.algo.ppo_epochs, 1); EQ_I(c.algo.recompute_logprobs, 1);
	EQ_F(c.optim.lr, 1e-6); EQ_F(c.optim.beta1, 0.9); EQ_F(c.optim.beta2, 0.999);
	EQ_F(c.optim.eps, 1e-8); EQ_F(c.optim.weight_decay, 0); EQ_F(c.optim.grad_clip, 1.0);
	EQ_S(c.optim.schedule, "constant"); EQ_I(c.optim.warmup_steps, 0);
	EQ_F(c.optim.lr_min, 0);
	EQ_I(c.train.steps, 100); EQ_I(c.train.log_every, 1); EQ_I(c.train.eval_every, 10);
	EQ_I(c.train.eval_before, 1); EQ_I(c.train.threads, 0);
	EQ_I(c.train.samples_per_step, 2);
	EQ_S(c.credit.strategy, "none");
	EQ_I(c.sft.steps, 1000); EQ_I(c.sft.batch_size, 32); EQ_F(c.sft.lr, 1e-3);
	EQ_I(c.sft.warmup_steps, 50); EQ_S(c.sft.out, ""); EQ_F(c.sft.direct_frac, 0.0);
	EQ_I(sizeof(c.run.name), CONFIG_STR_MAX); EQ_I(sizeof(c.model.arch), CONFIG_ENUM_MAX);
	EQ_I(sizeof(c.run.seed), sizeof(long)); EQ_I(sizeof(c.optim.lr), sizeof(double));
	EQ_S(c.model.tokenizer, ""); EQ_S(c.data.template, "plain"); EQ_S(c.data.eval_path, "");
	EQ_S(c.data.prompt_field, "auto"); EQ_S(c.data.answer_format, "auto");
	EQ_S(c.run.resume, "auto"); EQ_I(c.run.resume_force, 0); EQ_I(c.train.save_every, 50);
	EQ_I(c.train.keep_last, 2); EQ_F(c.train.time_limit, 0); EQ_I(c.train.max_bad_steps, 5);
	EQ_S(c.dist.backend, "auto"); EQ_S(c.dist.rendezvous, "auto"); EQ_F(c.dist.timeout, 300);
	EQ_I(c.train.memory_check, 1); EQ_I(CONFIG_N_OPTIONS, 114);
	EQ_I(c.model.logits_chunk, 0); EQ_I(c.algo.micro_batch_tokens, 0);
	EQ_I(c.train.checkpoint_layers, 0); EQ_I(c.eval.batch, 0); EQ_I(c.rollout.release_kv, 0);
	CHECK(config_validate(&c, err, sizeof(err)) == 0, "defaults validate: %s", err);
}

/* tests/fixtures/config/full.yaml sets every key away from its default */
static void test_full(void)
{
	struct config c;
	config_init(&c);
	CHECK(config_load_file(&c, FIX "full.yaml", err, sizeof(err)) == 0, "full.yaml: %s", err);
	EQ_S(c.run.name, "full run"); EQ_S(c.run.dir, "/tmp/attnrl-runs"); EQ_I(c.run.seed, 7);
	EQ_S(c.model.arch, "qwen3"); EQ_S(c.model.path, "models/x.safetensors");
	EQ_I(c.model.dim, 256); EQ_I(c.model.n_layers, 6); EQ_I(c.model.n_heads, 8);
	EQ_I(c.model.n_kv_heads, 2); EQ_I(c.model.head_dim, 64); EQ_I(c.model.hidden_dim, 1024);
	EQ_I(c.model.max_seq_len, 512); EQ_F(c.model.rope_theta, 500000.0);
	EQ_F(c.model.norm_eps, 1e-6); EQ_I(c.model.tie_embeddings, 0);
	EQ_F(c.model.init_std, 0.01);
	EQ_S(c.data.task, "countdown"); EQ_S(c.data.path, "data/x.jsonl"); EQ_I(c.data.seed, 99);
	EQ_I(c.data.eval_size, 50); EQ_I(c.data.min_ops, 1); EQ_I(c.data.max_ops, 4);
	EQ_I(c.data.max_operand, 100);
	EQ_I(c.rollout.prompts_per_step, 8); EQ_I(c.rollout.group_size, 4);
	EQ_I(c.rollout.max_new_tokens, 128); EQ_F(c.rollout.temperature, 0.7);
	EQ_F(c.rollout.top_p, 0.95); EQ_I(c.rollout.top_k, 40); EQ_S(c.rollout.stop, "");
	EQ_S(c.algo.advantage, "drgrpo"); EQ_F(c.algo.clip_low, 0.1);
	EQ_F(c.algo.clip_high, 0.28); EQ_S(c.algo.loss_agg, "token-mean");
	EQ_F(c.algo.kl_coef, 0.001); EQ_F(c.algo.entropy_coef, -0.01);
	EQ_I(c.algo.mini_batch, 16); EQ_I(c.algo.micro_batch, 4); EQ_I(c.algo.ppo_epochs, 2);
	EQ_I(c.algo.recompute_logprobs, 0);
	EQ_S(c.dist.backend, "gloo"); EQ_S(c.dist.rendezvous, "file"); EQ_F(c.dist.timeout, 60);
	EQ_F(c.optim.lr, 3e-4); EQ_F(c.optim.beta1, 0.8); EQ_F(c.optim.beta2, 0.95);
	EQ_F(c.optim.eps, 1e-6); EQ_F(c.optim.weight_decay, 0.1); EQ_F(c.optim.grad_clip, 0);
	EQ_S(c.optim.schedule, "cosine"); EQ_I(c.optim.warmup_steps, 10);
	EQ_F(c.optim.lr_min, 1e-5);
	EQ_I(c.train.steps, 500); EQ_I(c.train.log_every, 5); EQ_I(c.train.eval_every, 0);
	EQ_I(c.train.eval_before, 0); EQ_I(c.train.threads, 2);
	EQ_I(c.train.samples_per_step, 0);
	EQ_S(c.run.resume, "never"); EQ_I(c.run.resume_force, 1); EQ_I(c.train.save_every, 10);
	EQ_I(c.train.keep_last, 3); EQ_F(c.train.time_limit, 3600); EQ_I(c.train.max_bad_steps, 2);
	EQ_S(c.credit.strategy, "none");
	EQ_I(c.sft.steps, 20); EQ_I(c.sft.batch_size, 8); EQ_F(c.sft.lr, 5e-4);
	EQ_I(c.sft.warmup_steps, 0); EQ_S(c.sft.out, "out/sft.safetensors");
	CHECK(config_validate(&c, err, sizeof(err)) == 0, "full validates: %s", err);
	/* from memory: the same config, and the same errors under the given name */
	struct config m;
	char text[8192];
	FILE *f = fopen(FIX "full.yaml", "rb");
	size_t n = f ? fread(text, 1, sizeof(text), f) : 0;
	if (f)
		fclose(f);
	config_init(&m);
	CHECK(n > 0 && config_load_text(&m, text, n, "mem.yaml", err, sizeof(err)) == 0,
	      "config_load_text: %s", err);
	CHECK(config_hash(&m) == config_hash(&c), "config_load_text differs from config_load_file");
	const char *typo = "model:\n  dim: 64\n  dimm: 3\n";
	config_init(&m);
	CHECK(config_load_text(&m, typo, strlen(typo), "mem.yaml", err, sizeof(err)) == -1 &&
	      m.model.dim == 128 &&
	      !strcmp(err, "mem.yaml:3:3: unknown key 'model.dimm' (did you mean model.dim?)"),
	      "config_load_text error: '%s'", err);
}

/* files that are valid and set nothing (or little) */
static void test_empty_files(void)
{
	static const char *const same[] = { FIX "empty.yaml", FIX "comments.yaml" };
	struct config def, c;
	config_init(&def);
	for (int i = 0; i < 2; i++) {
		config_init(&c);
		CHECK(config_load_file(&c, same[i], err, sizeof(err)) == 0, "%s: %s", same[i], err);
		CHECK(!memcmp(&c, &def, sizeof(c)), "%s changed the defaults", same[i]);
	}
	config_init(&c);
	CHECK(config_load_file(&c, FIX "null_section.yaml", err, sizeof(err)) == 0, "%s", err);
	EQ_I(c.rollout.group_size, 4); EQ_I(c.model.dim, 128);
}

static void test_file_errors(void)
{
	static const char *const cases[][2] = {
		{ "typo_key.yaml",
		  "3:3: unknown key 'rollout.group_szie' (did you mean rollout.group_size?)" },
		{ "typo_section.yaml", "3:1: unknown section 'rolout' (did you mean rollout?)" },
		{ "bare_key.yaml", "2:1: unknown section 'group_size' (did you mean "
				   "rollout.group_size? a key goes under its section)" },
		{ "bad_int.yaml", "3:15: rollout.group_size: 'abc' is not an integer" },
		{ "out_of_range.yaml",
		  "2:10: rollout.top_p: 1.5 is out of range (expected 0 < top_p <= 1)" },
		{ "bad_enum.yaml", "2:13: algo.loss_agg: 'mean' is not one of "
				   "seq-mean-token-mean|token-mean|seq-mean-token-sum-norm" },
		{ "syntax.yaml", "4:1: found unexpected end of stream "
				 "(while scanning a quoted scalar at line 3, column 9)" },
		{ "scalar_section.yaml", "1:8: model: a section must be a mapping of key: value "
					 "lines, found the value 'llama'" },
		{ "nested.yaml", "3:5: rollout.group_size: expected a value, found a mapping "
				 "(options nest two levels: section: key: value)" },
		{ "list_value.yaml", "2:9: run.name: expected a value, found a list "
				     "(options nest two levels: section: key: value)" },
		{ "duplicate_key.yaml",
		  "4:3: duplicate key 'rollout.group_size' (first set at line 2)" },
		{ "duplicate_section.yaml", "5:1: duplicate section 'rollout' (first at line 1)" },
		{ "top_list.yaml", "1:1: the top level must be a mapping of sections "
				   "(run:, model:, ...), found a list" },
		{ "two_docs.yaml", "3:1: only one YAML document is allowed in a config" },
	};
	struct config def, c;
	config_init(&def);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256], want[512];
		snprintf(path, sizeof(path), FIX "%s", cases[i][0]);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i][1]);
		config_init(&c);
		err[0] = 0;
		CHECK(config_load_file(&c, path, err, sizeof(err)) == -1, "%s loaded", path);
		CHECK(!strcmp(err, want), "%s:\n  got  %s\n  want %s", path, err, want);
		CHECK(!strchr(err, '\n'), "%s: the message has a newline", path);
		CHECK(!memcmp(&c, &def, sizeof(c)), "%s: a failed load changed the struct", path);
	}
	config_init(&c);
	CHECK(config_load_file(&c, FIX "nope.yaml", err, sizeof(err)) == -1, "missing file");
	EQ_S(err, "config: cannot open '" FIX "nope.yaml': No such file or directory");
	CHECK(config_load_file(&c, "tests/fixtures", err, sizeof(err)) == -1, "a directory");
	EQ_S(err, "config: cannot read 'tests/fixtures': Is a directory");
	char tiny[12];
	CHECK(config_load_file(&c, FIX "typo_key.yaml", tiny, sizeof(tiny)) == -1 &&
	      strlen(tiny) == sizeof(tiny) - 1, "a short err buffer is cut, not overrun");
	CHECK(config_load_file(&c, FIX "typo_key.yaml", NULL, 0) == -1, "err may be NULL");
}

static void test_overrides(void)
{
	struct config c, before;
	config_init(&c);
	set(&c, "rollout.group_size=4"); EQ_I(c.rollout.group_size, 4);
	set(&c, "rollout.stop=a=b"); EQ_S(c.rollout.stop, "a=b");
	set(&c, "model.tie_embeddings=off"); EQ_I(c.model.tie_embeddings, 0);
	set(&c, "model.tie_embeddings=YES"); EQ_I(c.model.tie_embeddings, 1);
	set(&c, "algo.recompute_logprobs=0"); EQ_I(c.algo.recompute_logprobs, 0);
	set(&c, "run.seed=1_000"); EQ_I(c.run.seed, 1000);
	set(&c, "run.seed=+12"); EQ_I(c.run.seed, 12);
	set(&c, "optim.lr=3e-4"); EQ_F(c.optim.lr, 3e-4);
	set(&c, "optim.lr=2"); EQ_F(c.optim.lr, 2.0);
	set(&c, "model.arch=qwen2"); EQ_S(c.model.arch, "qwen2");
	set(&c, "model.path="); EQ_S(c.model.path, "");
	set(&c, "run.name=caf\xc3\xa9 run"); EQ_S(c.run.name, "caf\xc3\xa9 run");

	static const char *const bad[][2] = {
		{ "rollout.group_szie=4",
		  "unknown key 'rollout.group_szie' (did you mean rollout.group_size?)" },
		{ "rolout.group_size=4",
		  "unknown key 'rolout.group_size' (did you mean rollout.group_size?)" },
		{ "rollout.groupsize=4",
		  "unknown key 'rollout.groupsize' (did you mean rollout.group_size?)" },
		{ "group_size=4", "unknown key 'group_size' (did you mean rollout.group_size?)" },
		{ "algo.lr=1", "unknown key 'algo.lr' (did you mean optim.lr?)" },
		/* an adjacent swap is one edit (Damerau), where Levenshtein counts two */
		{ "sft.uot=x", "unknown key 'sft.uot' (did you mean sft.out?)" },
		{ "rollout.foo=1", "unknown key 'rollout.foo' (rollout has: prompts_per_step, "
				   "group_size, max_new_tokens, temperature, top_p, top_k, stop, ignore_eos, "
				   "engine, check_every, cuda_graphs, release_kv)" },
		{ "foo.bar=1", "unknown key 'foo.bar' (sections: run, model, data, reward, rollout, algo, "
			       "optim, train, log, eval, dist, credit, sft)" },
		{ "rollout.group_size=abc", "rollout.group_size: 'abc' is not an integer" },
		{ "rollout.group_size=", "rollout.group_size: no value (expected an integer)" },
		{ "model.dim=1e3", "model.dim: '1e3' is not an integer" },
		{ "model.dim=12.0", "model.dim: '12.0' is not an integer" },
		{ "run.seed=1__0", "run.seed: '1__0' is not an integer" },
		{ "run.seed=-1", "run.seed: -1 is out of range (expected seed >= 0)" },
		{ "run.seed=99999999999999999999999",
		  "run.seed: 99999999999999999999999 is out of range" },
		{ "model.dim=4", "model.dim: 4 is out of range (expected 8 <= dim <= 65536)" },
		{ "rollout.top_p=1.5",
		  "rollout.top_p: 1.5 is out of range (expected 0 < top_p <= 1)" },
		{ "rollout.top_p=0", "rollout.top_p: 0 is out of range (expected 0 < top_p <= 1)" },
		{ "rollout.top_p=nan", "rollout.top_p: 'nan' is not a finite number" },
		{ "rollout.top_p=inf", "rollout.top_p: 'inf' is not a finite number" },
		{ "rollout.top_p= 0.5", "rollout.top_p: ' 0.5' is not a number" },
		{ "rollout.top_p=0.5x", "rollout.top_p: '0.5x' is not a number" },
		{ "algo.clip_low=1",
		  "algo.clip_low: 1 is out of range (expected 0 <= clip_low < 1)" },
		{ "model.tie_embeddings=maybe",
		  "model.tie_embeddings: 'maybe' is not a boolean (expected true or false)" },
		{ "algo.loss_agg=mean", "algo.loss_agg: 'mean' is not one of "
					"seq-mean-token-mean|token-mean|seq-mean-token-sum-norm" },
		{ "algo.loss_agg=", "algo.loss_agg: no value (expected one of "
				    "seq-mean-token-mean|token-mean|seq-mean-token-sum-norm)" },
		{ "credit.strategy=locale", "credit.strategy: 'locale' is not one of none|local|global|coupled|random|entropy" },
		{ "run.name=a\nb", "run.name: control characters are not allowed in the value" },
		{ "run.name=\xff", "run.name: the value is not valid UTF-8" },
		/* found by fuzz_config: accepted, then the printed config did not load (libyaml
		 * refuses overlong forms, surrogates, code points past U+10FFFF, C1 controls and
		 * U+FFFE/U+FFFF) */
		{ "data.template={q}\xe0\x9f\x93", "data.template: the value is not valid UTF-8" },
		{ "run.name=\xc0\xaf", "run.name: the value is not valid UTF-8" },
		{ "run.name=\xed\xa0\x80", "run.name: the value is not valid UTF-8" },
		{ "run.name=\xf4\x90\x80\x80", "run.name: the value is not valid UTF-8" },
		{ "run.name=\xc2\x85", "run.name: control characters (U+0080 to U+009F, U+FFFE, U+FFFF) "
					 "are not allowed in the value" },
		{ "run.name=\xef\xbf\xbe", "run.name: control characters (U+0080 to U+009F, U+FFFE, "
					     "U+FFFF) are not allowed in the value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[1024], kv[128];
		snprintf(kv, sizeof(kv), "%s", bad[i][0]);
		char *nl = strchr(kv, '\n'); /* messages show a newline as \n */
		if (nl) {
			memmove(nl + 1, nl, strlen(nl) + 1);
			nl[0] = '\\', nl[1] = 'n';
		}
		snprintf(want, sizeof(want), "override '%s': %s", kv, bad[i][1]);
		memcpy(&before, &c, sizeof(c));
		CHECK(override(&c, bad[i][0]) == -1, "'%s' accepted", kv);
		CHECK(!strcmp(err, want), "\n  got  %s\n  want %s", err, want);
		CHECK(!memcmp(&before, &c, sizeof(c)), "'%s': a failed override changed c", kv);
	}
	CHECK(override(&c, "noequals") == -1, "no '='");
	EQ_S(err, "override 'noequals': expected section.key=value");
	CHECK(override(&c, "=4") == -1, "no key");
	EQ_S(err, "override '=4': expected section.key=value");
	char longv[CONFIG_STR_MAX + 32];
	snprintf(longv, sizeof(longv), "run.name=%0*d", CONFIG_STR_MAX, 7);
	CHECK(override(&c, longv) == -1, "a 512-byte name");
	CHECK(strstr(err, "run.name: the value is too long (512 bytes, at most 511)"), "%s", err);
	snprintf(longv, sizeof(longv), "run.name=%0*d", CONFIG_STR_MAX - 1, 7);
	set(&c, longv);
	EQ_I(strlen(c.run.name), CONFIG_STR_MAX - 1);
}

/* overrides on top of the defaults, then config_validate's message (NULL: it passes) */
static void test_validate(void)
{
	static const char *const cases[][4] = {
		{ "algo.mini_batch=48", NULL, NULL,
		  "algo.mini_batch=48 does not divide the rollout batch of 128 responses "
		  "(rollout.prompts_per_step=16 x rollout.group_size=8)" },
		{ "algo.mini_batch=256", NULL, NULL,
		  "algo.mini_batch=256 is larger than the rollout batch of 128 responses "
		  "(rollout.prompts_per_step=16 x rollout.group_size=8)" },
		{ "rollout.prompts_per_step=3", "algo.mini_batch=16", NULL,
		  "algo.mini_batch=16 does not divide the rollout batch of 24 responses "
		  "(rollout.prompts_per_step=3 x rollout.group_size=8)" },
		{ "algo.micro_batch=5", NULL, NULL,
		  "algo.micro_batch=5 does not divide algo.mini_batch=32" },
		{ "algo.micro_batch=64", NULL, NULL,
		  "algo.micro_batch=64 is larger than algo.mini_batch=32" },
		{ "model.dim=130", NULL, NULL,
		  "model.dim=130 is not divisible by model.n_heads=4 (or set model.head_dim)" },
		{ "model.dim=36", NULL, NULL,
		  "the head size 9 (model.dim / model.n_heads) must be even for RoPE" },
		{ "model.n_kv_heads=3", NULL, NULL,
		  "model.n_heads=4 is not a multiple of model.n_kv_heads=3" },
		{ "model.n_kv_heads=8", NULL, NULL,
		  "model.n_heads=4 is not a multiple of model.n_kv_heads=8" },
		{ "rollout.group_size=1", "algo.mini_batch=16", NULL,
		  "rollout.group_size=1 is too small for algo.advantage=grpo "
		  "(the group std needs at least 2 responses)" },
		{ "data.min_ops=4", NULL, NULL, "data.min_ops=4 is larger than data.max_ops=3" },
		{ "optim.lr_min=0.001", NULL, NULL,
		  "optim.lr_min=0.001 is larger than optim.lr=1e-06" },
		{ "rollout.max_new_tokens=256", NULL, NULL,
		  "rollout.max_new_tokens=256 leaves no room for the prompt in "
		  "model.max_seq_len=256" },
		{ "run.name=", NULL, NULL,
		  "run.name must not be empty (it names the run directory)" },
		{ "rollout.group_size=1", "algo.mini_batch=16", "algo.advantage=drgrpo", NULL },
		{ "model.dim=130", "model.head_dim=32", NULL, NULL },
		{ "model.n_kv_heads=2", "algo.micro_batch=8", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		config_init(&c);
		for (int k = 0; k < 3 && cases[i][k]; k++)
			set(&c, cases[i][k]);
		err[0] = 0;
		int rc = config_validate(&c, err, sizeof(err));
		if (!cases[i][3])
			CHECK(rc == 0, "case %zu (%s) should pass: %s", i, cases[i][0], err);
		else
			CHECK(rc == -1 && !strcmp(err, cases[i][3]),
			      "case %zu:\n  got  %s\n  want %s", i, err, cases[i][3]);
	}
	struct config c;
	config_init(&c);
	c.rollout.top_p = 2.0; /* set by code, not through the parser */
	CHECK(config_validate(&c, err, sizeof(err)) == -1, "top_p 2 set by code");
	EQ_S(err, "rollout.top_p: 2.0 is out of range (expected 0 < top_p <= 1)");
	config_init(&c);
	snprintf(c.model.arch, sizeof(c.model.arch), "gpt2");
	CHECK(config_validate(&c, err, sizeof(err)) == -1, "arch gpt2 set by code");
	EQ_S(err, "model.arch: 'gpt2' is not one of llama|qwen2|qwen3");
}

/* write c as YAML, load it onto fresh defaults: the same struct, the same hash */
static void roundtrip(const struct config *c, const char *what)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	CHECK(config_write_yaml(c, f) == 0, "%s: write", what);
	fclose(f);
	struct config back;
	config_init(&back);
	CHECK(config_load_file(&back, path, err, sizeof(err)) == 0, "%s: reload: %s", what, err);
	CHECK(!memcmp(&back, c, sizeof(back)), "%s: the reloaded struct differs", what);
	CHECK(config_hash(&back) == config_hash(c), "%s: hash differs", what);
	unlink(path);
}

static void test_roundtrip(void)
{
	struct config def, c;
	config_init(&def);
	roundtrip(&def, "defaults");
	config_init(&c);
	CHECK(config_load_file(&c, FIX "full.yaml", err, sizeof(err)) == 0, "full: %s", err);
	roundtrip(&c, "full");
	set(&c, "run.name=q\"uo'te \\back: # x");
	set(&c, "rollout.stop=\xe2\x9c\x93 done");
	set(&c, "data.template=\xc2\xa0\xdf\xbf\xe0\xa0\x80\xef\xbf\xbd\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf {question}");
	set(&c, "optim.lr=0.1");
	set(&c, "algo.entropy_coef=-1e-300");
	set(&c, "model.rope_theta=123456.789012345678");
	roundtrip(&c, "tricky values");

	/* random doubles of every magnitude survive the shortest-text printing */
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 200; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double mant = (double)(x >> 11) / 9007199254740992.0;
		double v = ldexp(mant, (int)(x % 200) - 100) * (x & 1 ? -1 : 1);
		char kv[64];
		snprintf(kv, sizeof(kv), "algo.entropy_coef=%.17g", v);
		set(&c, kv);
		roundtrip(&c, kv);
	}

	uint64_t h0 = config_hash(&def);
	CHECK(h0 == config_hash(&def), "the hash is deterministic");
	config_init(&c);
	set(&c, "rollout.temperature=0.9");
	CHECK(config_hash(&c) != h0, "a changed value changes the hash");

	/* numbers read as floats in any YAML tool; docs ride along as comments */
	char buf[16384];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	CHECK(config_write_yaml(&def, f) == 0, "write_yaml");
	fclose(f);
	static const char *const lines[] = {
		"\n  norm_eps: 1.0e-05 ", "\n  rope_theta: 10000.0 ", "\n  top_p: 1.0 ",
		"\n  group_size: 8 ", "\n  stop: \"</answer>\" ", "\n  arch: llama ",
		"\n  tie_embeddings: true ", "# responses per prompt (G); >= 1\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		CHECK(strstr(buf, lines[i]), "'%s' not in:\n%s", lines[i], buf);
}

static void test_reference(void)
{
	char buf[32768];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	CHECK(config_write_reference(f) == 0, "write_reference");
	fclose(f);
	int rows = 0;
	for (const char *p = buf; (p = strstr(p, "\n| `")); p++)
		rows++;
	CHECK(rows == CONFIG_N_OPTIONS, "%d rows for %d options", rows, CONFIG_N_OPTIONS);
	CHECK(!strncmp(buf, "| key | type | default | range / values | doc |\n", 47), "header");
#define NAME_ROW(sec, k, kind, def, range, doc) "| `" #sec "." #k "` |",
#define NAME_SECTION(sec, LIST) LIST(NAME_ROW)
	static const char *const names[] = { CONFIG_SECTIONS(NAME_SECTION) };
	for (int i = 0; i < CONFIG_N_OPTIONS; i++) {
		const char *p = strstr(buf, names[i]);
		CHECK(p && !strstr(p + 1, names[i]), "row %s: once", names[i]);
	}
	CHECK(strstr(buf, "| `rollout.top_p` | float | `1.0` | `(0, 1]` | "
			  "nucleus sampling mass; 1 = off |\n"), "top_p row");
	CHECK(strstr(buf, "| `model.arch` | enum | `llama` | `llama`, `qwen2`, `qwen3` | "),
	      "arch row");
	CHECK(strstr(buf, "empty = \\<run.dir>/\\<run.name>/model.safetensors |"), "'<' escaped");
}

/* configs/default.yaml: the embedded job (coupled credit, warm-up) */
static void test_default_yaml(void)
{
	struct config c;
	config_init(&c);
	CHECK(config_load_file(&c, "configs/default.yaml", err, sizeof(err)) == 0, "%s", err);
	CHECK(config_validate(&c, err, sizeof(err)) == 0, "default.yaml validates: %s", err);
	EQ_I(c.model.n_kv_heads, 2); EQ_I(c.algo.mini_batch, 64); EQ_F(c.optim.lr, 3e-5);
	EQ_I(c.optim.warmup_steps, 160); EQ_I(c.train.threads, 2);
	CHECK(!strcmp(c.credit.strategy, "coupled"), "credit.strategy %s", c.credit.strategy);
}

int main(void)
{
	test_defaults();
	test_full();
	test_empty_files();
	test_file_errors();
	test_overrides();
	test_validate();
	test_roundtrip();
	test_reference();
	test_default_yaml();
	return check_done("test_config");
}
