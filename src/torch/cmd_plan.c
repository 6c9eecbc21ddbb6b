/*
 * cmd_plan.c - `attnrl plan CONFIG [section.key=value ...] [--world N] [--gpu]`: the memory
 * plan of `attnrl train` with that config, per rank, without running it: the model's shape
 * from model.path's config.json or header (nothing else is read) or the model.* keys, then
 * memplan.h's terms, one per line, with what they hold. The same plan a run prints at its start
 * and refuses on when it does not fit; here it is printed for any machine, e.g. the GPUs a
 * config is meant for.
 */
#include "attnrl/commands.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "attnrl/config.h"
#include "attnrl/memplan.h"
#include "attnrl/model.h"
#include "attnrl/policy.h"
#include "attnrl/tensor.h"

struct plan_args {
	struct args_list cfg;
	long world;
	int gpu;
};

#define OPT(f) offsetof(struct plan_args, f)
static const struct args_opt plan_opts[] = {
	{ "CONFIG", ARGS_LIST, OPT(cfg), "CONFIG [section.key=value ...]", 0, 0, NULL,
	  ARGS_REQUIRED, "a YAML file, then overrides of its options" },
	{ "--world", ARGS_LONG, OPT(world), "N", 1, 65536, "1", ARGS_OPTIONAL,
	  "data-parallel ranks (processes) the run would have" },
	{ "--gpu", ARGS_SWITCH, OPT(gpu), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "the plan of a rank on a GPU (bf16 forward, fp32 master weights; rollout.engine=gpu)" },
	{ NULL },
};
const struct args_spec cmd_plan_args = { "plan", "the memory plan of a training run, per rank",
					 plan_opts };

/* one term: GiB from 1 GiB, else MiB */
static void print_term(const char *name, double bytes, const char *what)
{
	double gib = 1024.0 * 1048576;
	if (bytes >= gib)
		printf("  %-12s %8.1f GiB  %s\n", name, bytes / gib, what);
	else
		printf("  %-12s %8.0f MiB  %s\n", name, bytes / 1048576, what);
}

static void print_plan(const struct memplan *p, const struct model_config *mc, const struct config *c,
		       long world, int gpu)
{
	long B = c->rollout.prompts_per_step / world * c->rollout.group_size;
	long budget = c->algo.micro_batch_tokens;
	long micro = c->algo.micro_batch ? c->algo.micro_batch : c->algo.mini_batch / world;
	printf("attnrl plan: %ld rank%s on %s; %s, %d layers, dim %d, vocabulary %d; %ld responses "
	       "per rank of up to %ld tokens; micro-batch ", world, world > 1 ? "s" : "",
	       gpu ? "GPUs" : "the CPU", model_arch_name(mc), mc->n_layers, mc->dim, mc->vocab_size,
	       B, c->model.max_seq_len);
	if (budget)
		printf("%ld tokens\n", budget);
	else
		printf("%ld x %ld tokens\n", micro, c->model.max_seq_len);
	const struct { const char *name; double v; const char *what; } rows[] = {
		{ "weights", p->weights, gpu ? "fp32 master weights + the engine's bf16 copy" : "fp32" },
		{ "grads", p->grads, "fp32 gradients (during the update)" },
		{ "comm", p->comm, "the all-reduce's fp32 buffer" },
		{ "adam", p->adam, c->dist.shard_optimizer && world > 1 ? "AdamW moments, 1/ranks each (ZeRO-1)"
									: "AdamW moments" },
		{ "ref", p->ref, "the reference model (algo.kl_coef > 0)" },
		{ "kv", p->kv, gpu && c->rollout.release_kv
			? "the decode engine's KV cache (every response at max_seq_len), released for the update"
			: "the decode engine's KV cache (every response at max_seq_len)" },
		{ "activations", p->activations, c->train.checkpoint_layers
			? "one micro-batch: each layer's input + one layer (train.checkpoint_layers)"
			: "one micro-batch, every layer" },
		{ "logits", p->logits, c->model.logits_chunk < 0 ? "[tokens x vocab] and gradient"
								 : "one chunk of the output layer" },
		{ "base", p->base, gpu ? "CUDA context, workspaces, allocator slack" : "libtorch, the program" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].v > 0)
			print_term(rows[i].name, rows[i].v, rows[i].what);
	printf("  %-12s %8.1f GiB  per rank (as `attnrl train` prints it)%s\n", "total",
	       p->total / (1024.0 * 1048576), gpu && c->rollout.release_kv
	       ? "; the KV cache or the update's grads, activations and logits, whichever is larger"
	       : "");
}

int cmd_plan(int argc, char **argv)
{
	struct plan_args a = { .world = 1 };
	struct config c;
	struct model_config mc;
	char err[1024];
	int rc = args_parse(&cmd_plan_args, &a, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_plan_args, rc, err);
	if (cmd_config_load(&c, &a.cfg))
		return ATTNRL_EXIT_USAGE;
	if (c.rollout.prompts_per_step % a.world) {
		fprintf(stderr, "attnrl plan: --world %ld does not divide rollout.prompts_per_step=%ld\n",
			a.world, c.rollout.prompts_per_step);
		return ATTNRL_EXIT_USAGE;
	}
	if (policy_model_config(&c, &mc, err, sizeof(err))) {
		fprintf(stderr, "attnrl plan: %s\n", err);
		return 1;
	}
	struct memplan p;
	struct memplan_shape s = { mc.dim, mc.n_layers, mc.n_heads, mc.n_kv_heads, mc.head_dim,
				   mc.hidden_dim, mc.vocab_size, mc.tie_embeddings,
				   /* GPU builds run torch 2.x: a fused attention keeps no scores */
				   a.gpu ? 0 : tensor_attention_keeps_scores() };
	memplan_run(&p, &s, &c, (int)a.world, a.gpu);
	print_plan(&p, &mc, &c, a.world, a.gpu);
	return 0;
}
