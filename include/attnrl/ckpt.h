/*
 * ckpt.h - checkpoint folders of a run and the trainer state in them (no tensors here: the
 * trainer writes model.safetensors and optimizer.safetensors into the folder ckpt_begin gives).
 *
 * Layout: <run>/ckpt/step_<N>/{model.safetensors, optimizer.safetensors, trainer_state.json,
 * config.yaml, DONE}; with dist.shard_optimizer one optimizer-rank<R>-of-<W>.safetensors per
 * rank instead of optimizer.safetensors. A checkpoint is written into <run>/ckpt/.step_<N>.tmp/ (every file
 * fsynced), the folder is renamed to step_<N>, <run>/ckpt is fsynced, then the empty DONE file
 * is created and fsynced. Only folders holding DONE are complete: nothing else is ever loaded,
 * and ckpt_begin removes unfinished ones (a .tmp folder, a step_<N> without DONE).
 *
 * trainer_state.json (format 2) holds "crc32c": the CRC-32C of every other file of the folder
 * but DONE, as 8 hex digits by name, checked by ckpt_verify on resume; a format 1 checkpoint
 * (without it) still loads, unchecked. CRC-32C (Castagnoli): a standard 32-bit check (iSCSI,
 * ext4, LevelDB) that finds every burst error up to 32 bits, computed here in portable C by
 * slicing-by-8 at about 1-2 GB/s, a small cost next to writing the file.
 *
 * The config hash (FNV-1a 64 of the resolved YAML) leaves out the keys a resumed run may
 * change: run.name, run.dir, run.resume, run.resume_force and train.{steps, log_every,
 * eval_every, eval_before, samples_per_step, save_every, keep_last, time_limit,
 * max_bad_steps, memory_check}, dist.{rendezvous, timeout} and log.*; train.steps stays in when
 * optim.schedule=cosine (it sets the schedule). train.threads, dist.backend and
 * dist.shard_optimizer stay in: they change results bitwise (a forced resume across
 * dist.shard_optimizer converts the optimizer files).
 */
#ifndef ATTNRL_CKPT_H
#define ATTNRL_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/config.h"
#include "attnrl/runlog.h"

struct ckpt_state {
	long step;              /* training steps completed */
	long opt_step, skipped; /* optimizer steps taken and skipped (AdamW's bias correction) */
	long bad_run;           /* non-finite steps in a row up to step */
	int64_t data_cursor;    /* the next train example */
	long run_seed, data_seed, world_size;
	uint64_t config_hash;   /* ckpt_config_hash */
	struct runlog_pos log;  /* metrics.jsonl, samples.jsonl and event file sizes after step */
};

uint64_t ckpt_config_hash(const struct config *c);

/* creates <run_dir>/ckpt/.step_<step>.tmp (removing unfinished checkpoints first); its path
 * into dir */
int ckpt_begin(const char *run_dir, long step, char *dir, size_t dir_n, char *err, size_t n);
/* trainer_state.json and config.yaml (the resolved config) into dir, fsynced */
int ckpt_write_state(const char *dir, const struct ckpt_state *s, const struct config *c,
		     char *err, size_t n);
/* the rename to step_<step>, then DONE; -1 with err (the .tmp folder is left for the next
 * ckpt_begin, and the earlier checkpoints are untouched) */
int ckpt_commit(const char *run_dir, long step, char *err, size_t n);
/* the .tmp folder of step (where every rank writes its part before the commit) */
void ckpt_tmp_dir(const char *run_dir, long step, char *dir, size_t dir_n);
/* removes the .tmp folder of step after a failed write (disk space back at once) */
void ckpt_discard(const char *run_dir, long step);
/* removes complete checkpoints beyond the keep newest (keep 0: none removed) */
void ckpt_prune(const char *run_dir, long keep);

/* removes the complete checkpoints after step (a run that starts over or resumes from an
 * older one makes them stale); how many */
int ckpt_remove_after(const char *run_dir, long step);

/* the CRC-32C of data[0..len), continuing from crc (0 to start) */
uint32_t ckpt_crc32c(uint32_t crc, const void *data, size_t len);

/* 1 when dir holds DONE */
int ckpt_complete(const char *dir);
/* the newest complete checkpoint's step and folder; 0 when there is none */
long ckpt_latest(const char *run_dir, char *dir, size_t dir_n);
/* the same among the checkpoints of steps below before; 0 when there is none */
long ckpt_latest_before(const char *run_dir, long before, char *dir, size_t dir_n);
/* dir/trainer_state.json, checked: a known format, no negative count, step equal to the N
 * of a folder named step_N; -1 with one line naming the file and the field */
int ckpt_read_state(const char *dir, struct ckpt_state *s, char *err, size_t n);
/* the files of dir against the checksums in its trainer_state.json (only that file when only
 * is not NULL); 0 when they match or there are none to check (format 1, or no
 * trainer_state.json: ckpt_read_state refuses that); else -1 with one line naming the file */
int ckpt_verify(const char *dir, const char *only, char *err, size_t n);
/* 0 when s and dir/config.yaml match c (hash, world size); else -1 with one line naming the
 * differing keys ("train.threads: 1 -> 2") */
int ckpt_check_config(const char *dir, const struct ckpt_state *s, const struct config *c,
		      long world_size, char *err, size_t n);

#endif
