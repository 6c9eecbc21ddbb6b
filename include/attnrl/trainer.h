/*
 * trainer.h - the GRPO run: per step, prompts -> rollouts -> rewards -> credit -> advantages ->
 * PPO-clip update in mini-batches (micro-batch gradient accumulation, AdamW, grad-norm clipping)
 * -> logs; eval on the held-out split every train.eval_every steps; periodic checkpoints, resume,
 * stop requests and deadlines. The trainer is opaque here; its state and what the trainer_*.c
 * files share are src/torch/trainer_internal.h.
 */
#ifndef ATTNRL_TRAINER_H
#define ATTNRL_TRAINER_H

#include <stddef.h>

#include "attnrl/config.h"

struct trainer;

#define TRAINER_STOPPED 1 /* trainer_run: stopped by a signal or the deadline, checkpoint saved */
#define TRAINER_BUSY 2    /* trainer_run: another process holds the run folder's lock */

/* set-up of the run c describes (resumes from a checkpoint as run.resume says); NULL with err.
 * A set-up cut short by a stop request, or by the run folder's lock held elsewhere, still
 * returns the trainer: trainer_run then says so (TRAINER_STOPPED, TRAINER_BUSY) */
struct trainer *trainer_create(const struct config *c, char *err, size_t n);
void trainer_destroy(struct trainer *t);
/* 0 when train.steps are done, TRAINER_STOPPED, TRAINER_BUSY, or -1 with err */
int trainer_run(struct trainer *t, char *err, size_t n);

/* mkdir -p of <run.dir>/<run.name> and config.yaml inside (the run folder of train and sft) */
int trainer_prepare_run_dir(const struct config *c, char *dir, size_t dir_n, char *err, size_t n);

#endif
