/*
 * trainer_memory.c - the memory plan of a run (memplan.h): computed from the config and the
 * model's shape before anything is allocated, refused when it would not fit (unless
 * train.memory_check=false), and kept as the line the run prints under its header. A CPU run
 * is planned against the host's available memory (for the processes of this node); a GPU run
 * against its GPU's free memory (its big arrays live there).
 */
#include "trainer_internal.h"

#include <stdio.h>
#include <string.h>

#include "attnrl/memplan.h"

int trainer_memory_plan(struct trainer *t, char *err, size_t n)
{
	const struct config *c = &t->cfg;
	struct model_config mc;
	struct memplan p;
	char why[512], plan[256], top[128], where[64];
	double gib = 1024.0 * 1048576;
	t->memory_line[0] = 0;
	if (policy_model_config(c, &mc, why, sizeof(why)))
		return 0; /* policy_init reports a model it cannot read */
	struct memplan_shape s = { mc.dim, mc.n_layers, mc.n_heads, mc.n_kv_heads, mc.head_dim,
				   mc.hidden_dim, mc.vocab_size, mc.tie_embeddings,
				   tensor_attention_keeps_scores() };
	int local = t->dist.env.local_world > 0 ? t->dist.env.local_world : t->world;
	memplan_run(&p, &s, c, t->world, t->device != TENSOR_CPU);
	memplan_format(&p, plan, sizeof(plan));
	double avail = -1;
	if (t->device == TENSOR_CPU) {
		avail = memplan_available(where, sizeof(where));
	} else {
		int64_t f, total;
		snprintf(where, sizeof(where), "free on cuda:%d", t->device);
		if (!tensor_cuda_mem_info(t->device, &f, &total))
			avail = (double)f, local = 1; /* one rank per GPU */
	}
	if (avail < 0) {
		snprintf(t->memory_line, sizeof(t->memory_line), "memory plan: %s (the available "
			 "memory is unknown)", plan);
		return 0;
	}
	snprintf(t->memory_line, sizeof(t->memory_line), "memory plan: %s%s of %.1f GiB available "
		 "(%s)", plan, local > 1 ? " per process" : "", avail / gib, where);
	if (!c->train.memory_check || p.total * local <= avail)
		return 0;
	memplan_largest(&p, top, sizeof(top));
	snprintf(err, n, "memory plan: %s%s, but %.1f GiB is available (%s); the largest terms: "
		 "%s; lower model.dim, model.n_layers or model.max_seq_len (the shape), or "
		 "algo.micro_batch / algo.micro_batch_tokens / rollout.prompts_per_step (the batch), "
		 "set train.checkpoint_layers=true, or set train.memory_check=false to run anyway",
		 plan, local > 1 ? " per process" : "", avail / gib, where, top);
	return -1;
}
