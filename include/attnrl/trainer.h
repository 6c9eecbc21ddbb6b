/*
 * trainer.h - the GRPO loop: per step, prompts -> rollouts -> rewards -> advantages -> PPO-clip
 * update in mini-batches (micro-batch gradient accumulation, AdamW, grad-norm clipping) -> logs;
 * eval on the held-out split every train.eval_every steps.
 */
#ifndef ATTNRL_TRAINER_H
#define ATTNRL_TRAINER_H

#include "attnrl/advantage.h"
#include "attnrl/batch.h"
#include "attnrl/config.h"
#include "attnrl/data.h"
#include "attnrl/grpo.h"
#include "attnrl/policy.h"
#include "attnrl/rhythm.h"
#include "attnrl/runlog.h"

struct trainer {
	struct config cfg;
	struct policy pol;
	struct data data;
	struct model *ref;                /* frozen initial policy, when algo.kl_coef > 0 */
	tensor **adam_m, **adam_v;        /* AdamW moments, one per parameter */
	long opt_step, opt_steps_total, skipped;
	enum adv_mode adv_mode;
	enum loss_agg agg;
	struct grpo_hparams hp;
	struct rollout_params rp;
	int n_prompts, G, B, micro, cap_len;
	struct task_example *ex;          /* (n_prompts) */
	int32_t *prompt_ids;              /* (n_prompts, DATA_PROMPT_MAX) */
	const int32_t **prompt_rows;
	int *prompt_lens, *correct;       /* (n_prompts), (B) */
	float *rewards, *adv;             /* (B) */
	float *old_logp, *ref_logp;       /* (B, cap_len) token-indexed */
	float *host;                      /* (micro, cap_len) x 6 packing scratch */
	struct rollout_batch rb;
	struct batch_pack pack;
	struct rhythm rh;                 /* statistics -> gamma per token */
	struct runlog log;
	char run_dir[1024];
};

int trainer_init(struct trainer *t, const struct config *c, char *err, size_t n);
int trainer_run(struct trainer *t, char *err, size_t n);
void trainer_free(struct trainer *t);

/* shared with sft: mkdir -p of <run.dir>/<run.name> and config.yaml inside */
int trainer_prepare_run_dir(const struct config *c, char *dir, size_t dir_n, char *err, size_t n);

#endif
