/*
 * grpo_schedule.h - the learning-rate schedule of GRPO and of the supervised warm-up: linear
 * warmup, then constant or cosine (docs/config.md, optim.schedule). Pure C.
 */
#ifndef ATTNRL_GRPO_SCHEDULE_H
#define ATTNRL_GRPO_SCHEDULE_H

/* learning rate of optimizer step s (0-based) of total: linear warmup, then constant or cosine
 * down to lr_min */
double grpo_lr_at(long s, long total, double lr, double lr_min, long warmup, int cosine);

#endif
