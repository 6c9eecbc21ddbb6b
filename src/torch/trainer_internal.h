/*
 * trainer_internal.h - the trainer's state and what trainer.c, trainer_step.c, trainer_ckpt.c,
 * trainer_device.c, trainer_dist.c and trainer_zero.c share (the public face is
 * attnrl/trainer.h). Shapes: B = this rank's responses per step (n_prompts x G), T = cap_len
 * (model.max_seq_len); per-token host arrays are indexed by token position in the rollout
 * batch, (B, T).
 */
#ifndef ATTNRL_TRAINER_INTERNAL_H
#define ATTNRL_TRAINER_INTERNAL_H

#include "attnrl/trainer.h"

#include "attnrl/batch.h"
#include "attnrl/config.h"
#include "attnrl/credit_batch.h"
#include "attnrl/data.h"
#include "attnrl/dist.h"
#include "attnrl/evaluate.h"
#include "attnrl/grpo_advantage.h"
#include "attnrl/grpo_loss.h"
#include "attnrl/policy.h"
#include "attnrl/runlock.h"
#include "attnrl/runlog.h"

struct trainer {
	struct config cfg;
	struct policy pol;                /* on a GPU run: the host mirror the decode engine reads */
	struct model *tm;                 /* the model the update trains: pol.model, or its GPU copy */
	int device;                       /* TENSOR_CPU or the CUDA index of tm (train.device) */
	int mirror_stale;                 /* pol.model is behind tm (refreshed when read); the GPU
					   * engine of rollout.engine (pol.geng) reads tm */
	/* the update's work in this process: seconds (log-prob recompute + update), tokens through
	 * forward+backward (prompt + response, and with the padding of the packs), tokens through
	 * no-grad forwards (recompute, reference); seconds of the host mirror's refresh (GPU runs);
	 * printed for a separate training copy */
	double upd_seconds, sync_seconds;
	long upd_tokens, upd_padded, fwd_tokens;
	struct data data;
	struct model *ref;                /* frozen initial policy, when algo.kl_coef > 0 */
	tensor **adam_m, **adam_v;        /* (n_params) AdamW moments, one per parameter */
	long opt_step, opt_steps_total, skipped;
	enum adv_mode adv_mode;
	enum loss_agg agg;
	struct grpo_hparams hp;
	struct rollout_params rp;
	int n_prompts, G, B, micro, cap_len; /* this rank's prompts and responses per step */
	char memory_line[512];            /* "memory plan: ..." (trainer_memory.c), "" when none */
	/* data parallelism (trainer_dist.c): rank of world; seq_ids the global index of each
	 * local response; flat the gradient buffer of the all-reduce. ZeRO-1 (trainer_zero.c,
	 * dist.shard_optimizer with world > 1): this rank owns the slice [zoff, zoff + zlen) of the
	 * flat parameters and keeps only its moments zm, zv (adam_m and adam_v are NULL) */
	struct dist dist;
	int rank, world, sharded;
	int64_t *seq_ids;                 /* (B) */
	tensor *flat;                     /* (n_elements) */
	tensor *zm, *zv;                  /* (zlen) */
	int64_t zoff, zlen;
	struct task_example *ex;          /* (n_prompts + 1): the last for other ranks' problems */
	int32_t *prompt_ids;              /* (n_prompts, DATA_PROMPT_MAX) */
	const int32_t **prompt_rows;      /* (n_prompts) rows of prompt_ids */
	int *prompt_lens, *correct;       /* (n_prompts), (B) */
	float *rewards, *adv;             /* (B) */
	const char **texts;               /* (B) the responses' texts, for reward_score */
	struct reward_out *scores;        /* (B) their rewards, failures and infos */
	uint8_t *keep;                    /* (B) 0: its group left the update (reward.on_error=skip) */
	float *old_logp, *ref_logp;       /* (B, T) token-indexed */
	float *host;                      /* (6, pack.cap_n) packing scratch */
	int *order, *starts;              /* (B), (B + 1): micro-batches of batch_plan */
	struct rollout_batch rb;
	struct batch_pack pack;
	struct rhythm rh;                 /* statistics -> gamma per token */
	struct runlog log;
	/* the periodic eval by subject when the held-out rows have labels (trainer_eval): right
	 * responses per held-out problem, summed over ranks, and their summary (evaluate.h) */
	double *eval_right;               /* (data.eval_size) */
	struct eval_subset *eval_sub;     /* (eval_rows) the "all" row first */
	int eval_rows;
	struct runlock lock;              /* rank 0: <run_dir>/LOCK, held until trainer_destroy */
	int init_rc;                      /* TRAINER_STOPPED or TRAINER_BUSY: set-up cut short */
	char init_err[1024];              /* its line, for trainer_run */
	char run_dir[1024];
	/* checkpoints and stopping (trainer_ckpt.c) */
	long start_step, last_saved;      /* the step resumed from (0: fresh), the last saved */
	long bad_run;                     /* steps in a row with a skipped (non-finite) update */
	long cur_step;
	int64_t cursor0;                  /* data cursor at the start of the current step */
	double t_init, deadline;          /* fs_now() clock; deadline 0 = none */
	double step_max, save_seconds;    /* longest step (with eval) and last save, seconds */
	char resumed_from[1200];
};

/* trainer_step.c: one training step (0, 1 when a stop request discarded it, or -1 with err) and
 * the held-out eval (fills m's eval fields; 1 when a stop request cut it short on any rank) */
int trainer_step(struct trainer *t, long step, struct step_metrics *m, char *err, size_t n);
int trainer_eval(struct trainer *t, struct step_metrics *m, char *err, size_t n);

/* trainer_dist.c: ranks, the group split, collectives (no-ops for a world of one) */
int trainer_dist_env(struct trainer *t, char *err, size_t n);
int trainer_dist_check(const struct trainer *t, char *err, size_t n);
int trainer_dist_init(struct trainer *t, char *err, size_t n);
int trainer_group_of(const struct trainer *t, int j);    /* local group j -> global group */
int trainer_local_group(const struct trainer *t, int g); /* global group -> local, or -1 */
int trainer_sum(struct trainer *t, double *v, int k, char *err, size_t n); /* in place */
int trainer_any(struct trainer *t, int flag, char *err, size_t n); /* 1 if any rank set flag */
/* err ("why") becomes "step N: why; stopping: a rerun resumes from the last good checkpoint
 * DIR (fix first)"; -1 */
int trainer_fail_at(const struct trainer *t, long step, const char *fix, char *err, size_t n);
int trainer_sum_grads(struct trainer *t, char *err, size_t n);

/* trainer_device.c: train.device -> t->device (after trainer_dist_env); Gloo refused for a
 * GPU model (after trainer_dist_init); t->tm made (after policy_init), with the GPU decode
 * engine of rollout.engine, and freed; the weights copied between tm and the host mirror
 * pol.model (to_host: after an update) and into the GPU engine; a host tensor moved to the
 * training device (x itself on the CPU) */
/* trainer_memory.c: the memory plan of a CPU run into t->memory_line (after init_sizes, before
 * the model is allocated); -1 with one line when it does not fit and train.memory_check is on */
int trainer_memory_plan(struct trainer *t, char *err, size_t n);
int trainer_device_resolve(struct trainer *t, char *err, size_t n);
int trainer_device_check_dist(const struct trainer *t, char *err, size_t n);
int trainer_device_init(struct trainer *t, char *err, size_t n);
void trainer_device_free(struct trainer *t);
int trainer_device_sync(struct trainer *t, int to_host, char *err, size_t n);
/* the host mirror brought up to date before it is read (saves) */
int trainer_device_mirror(struct trainer *t, char *err, size_t n);
tensor *trainer_on_device(const struct trainer *t, tensor *x);
void trainer_device_report(const struct trainer *t); /* one line; GPU runs only */

/* trainer_zero.c: the optimizer state (per parameter, or this rank's ZeRO-1 slice), the clip
 * and AdamW step over it, and its checkpoint files in either layout */
int trainer_optimizer_init(struct trainer *t, char *err, size_t n);
void trainer_optimizer_free(struct trainer *t);
/* clips the summed gradients to optim.grad_clip; *norm: the global norm before clipping */
int trainer_clip(struct trainer *t, double *norm, char *err, size_t n);
int trainer_adamw(struct trainer *t, const struct tensor_adamw *hp, char *err, size_t n);
/* the moments into dir: optimizer.safetensors (rank 0) or this rank's shard file */
int trainer_save_moments(const struct trainer *t, const char *dir, char *err, size_t n);
/* the moments from a checkpoint folder written with either layout, any rank count */
int trainer_load_moments(struct trainer *t, const char *dir, char *err, size_t n);

/* trainer_ckpt.c: a checkpoint of the completed step (ckpt.h); -1 with err, the earlier
 * checkpoints untouched */
int trainer_save(struct trainer *t, long step, char *err, size_t n);
/* loads the checkpoint run.resume names into t: 1 resumed (pos: the log sizes to keep,
 * -1 = fresh logs), 0 nothing to resume, -1 with err */
int trainer_resume(struct trainer *t, struct runlog_pos *pos, char *err, size_t n);
/* after a stop request: a checkpoint of the completed step (when newer than the last one) and
 * one line saying how to resume; TRAINER_STOPPED or -1 */
int trainer_stop_save(struct trainer *t, long step, char *err, size_t n);
/* the deadline from train.time_limit and SLURM_JOB_END_TIME; the check before a step asks
 * to stop (stop.h) when the next step and a save may not fit before it */
void trainer_deadline_init(struct trainer *t);
void trainer_deadline_check(struct trainer *t);

#endif
