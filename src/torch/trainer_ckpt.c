/*
 * trainer_ckpt.c - the trainer's side of checkpoints (see ckpt.h for the folder protocol):
 * the weights (model_save, Hugging Face names, fp32), the AdamW moments (trainer_zero.c: one
 * file, or one shard per rank), the trainer state; and the resume that reads them back. The
 * resumed run continues bit for bit: sampling is a function of (run.seed, step), the data order of
 * (data.seed, cursor), and everything else that carries over is saved here.
 */
#include "attnrl/trainer.h"
#include "trainer_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attnrl/ckpt.h"
#include "attnrl/fsutil.h"
#include "attnrl/safetensors.h"
#include "attnrl/stop.h"
#include "attnrl/testhook.h"


static void state_of(const struct trainer *t, long step, struct ckpt_state *s)
{
	*s = (struct ckpt_state){ .step = step, .opt_step = t->opt_step, .skipped = t->skipped,
				  .bad_run = t->bad_run, .data_cursor = t->data.cursor,
				  .run_seed = t->cfg.run.seed, .data_seed = t->cfg.data.seed,
				  .world_size = t->world,
				  .config_hash = ckpt_config_hash(&t->cfg) };
}

/* rank 0 begins the folder and writes the weights (the same on every rank) */
static int save_begin(struct trainer *t, long step, struct ckpt_state *s, char *err, size_t n)
{
	char dir[1200], path[1300];
	if (runlog_sync(&t->log, step, &s->log, err, n))
		return -1;
	if (t->cfg.train.keep_last >= 2) /* room first, keeping one complete checkpoint */
		ckpt_prune(t->run_dir, t->cfg.train.keep_last - 1);
	if (ckpt_begin(t->run_dir, step, dir, sizeof(dir), err, n))
		return -1;
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (trainer_device_mirror(t, err, n) || model_save(t->pol.model, path, err, n))
		return -1;
	testhook_point("ckpt_write", step);
	return 0;
}

/* the three phases of a save, each ended by every rank learning whether any failed: rank 0
 * begins the folder and writes the weights; the moments go in (rank 0, or every rank its
 * shard); rank 0 writes the state and commits. The phases return 1 for "another rank failed" */
static int save_phase(struct trainer *t, int phase, long step, struct ckpt_state *s, char *err,
		      size_t n)
{
	char dir[1200];
	int failed = 0;
	ckpt_tmp_dir(t->run_dir, step, dir, sizeof(dir));
	if (phase == 0 && !t->rank)
		failed = save_begin(t, step, s, err, n) != 0;
	else if (phase == 1)
		failed = trainer_save_moments(t, dir, err, n) != 0;
	else if (phase == 2 && !t->rank)
		failed = ckpt_write_state(dir, s, &t->cfg, err, n) ||
			 ckpt_commit(t->run_dir, step, err, n);
	char derr[256];
	int any = trainer_any(t, failed, derr, sizeof(derr));
	if (any < 0 && !failed)
		snprintf(err, n, "%s", derr);
	return any < 0 || failed ? -1 : any;
}

static int save_files(struct trainer *t, long step, char *err, size_t n)
{
	struct ckpt_state s;
	state_of(t, step, &s);
	for (int phase = 0; phase < 3; phase++) {
		int rc = save_phase(t, phase, step, &s, err, n);
		if (rc > 0)
			snprintf(err, n, "another rank could not write its part (its log says why)");
		if (rc)
			return -1;
	}
	return 0;
}

/* what frees room for the next save: train.keep_last helps only when it can go below the
 * number of checkpoints kept while one is written (save_begin prunes to keep_last - 1) */
static void room_hint(long keep, char *buf, size_t n)
{
	if (keep == 0)
		snprintf(buf, n, "free space, or set train.keep_last=N to keep only the newest N "
			 "checkpoints, and rerun to resume from it");
	else if (keep <= 2)
		snprintf(buf, n, "free space and rerun to resume from it (train.keep_last cannot help: "
			 "one complete checkpoint is always kept while the next is written)");
	else
		snprintf(buf, n, "free space, or lower train.keep_last (now %ld; a save first removes "
			 "the oldest down to train.keep_last - 1), and rerun to resume from it", keep);
}

/* every rank takes part (the phases agree on failures); rank 0 reports */
int trainer_save(struct trainer *t, long step, char *err, size_t n)
{
	char why[1024], hint[200];
	double t0 = fs_now();
	if (save_files(t, step, why, sizeof(why))) {
		if (!t->rank)
			ckpt_discard(t->run_dir, step);
		room_hint(t->cfg.train.keep_last, hint, sizeof(hint));
		if (t->last_saved > 0)
			snprintf(err, n, "checkpoint of step %ld not saved: %s; the previous checkpoint "
				 "ckpt/step_%ld is intact; %s", step, why, t->last_saved, hint);
		else
			snprintf(err, n, "checkpoint of step %ld not saved: %s", step, why);
		return -1;
	}
	t->last_saved = step;
	t->save_seconds = fs_now() - t0;
	if (t->rank)
		return 0;
	testhook_point("after_ckpt", step);
	ckpt_prune(t->run_dir, t->cfg.train.keep_last);
	if (t->log.tty)
		printf("\r\033[K");
	printf("ckpt  step %ld: saved %s/ckpt/step_%ld (%.1fs)\n", step, t->run_dir, step,
	       t->save_seconds);
	fflush(stdout);
	return 0;
}

/* 1 when the checkpoint folder dir is <run_dir>/ckpt/step_N */
static int in_run_dir(const struct trainer *t, const char *dir)
{
	char up[1300], a[PATH_MAX], b[PATH_MAX];
	snprintf(up, sizeof(up), "%s/../..", dir);
	return realpath(up, a) && realpath(t->run_dir, b) && !strcmp(a, b);
}

/* trainer_state.json read and checked, every file against its checksum */
static int read_checked(const char *dir, struct ckpt_state *s, char *err, size_t n)
{
	return ckpt_read_state(dir, s, err, n) || ckpt_verify(dir, NULL, err, n) ? -1 : 0;
}

/* run.resume=auto: the newest checkpoint that passes read_checked; a damaged one is reported
 * in one line and the previous complete one is tried */
static int resume_auto(const struct trainer *t, char *dir, size_t dn, struct ckpt_state *s,
		       char *err, size_t n)
{
	char why[1200];
	for (long step = ckpt_latest(t->run_dir, dir, dn); step;) {
		if (!read_checked(dir, s, why, sizeof(why)))
			return 0;
		step = ckpt_latest_before(t->run_dir, step, dir, dn);
		if (!step) {
			snprintf(err, n, "%s; no earlier complete checkpoint to fall back to; rerun with "
				 "run.resume=never to start over", why);
			return -1;
		}
		if (!t->rank)
			fprintf(stderr, "attnrl train: warning: %s; resuming from the previous "
				"checkpoint %s\n", why, dir);
	}
	dir[0] = 0;
	return 0;
}

/* run.resume -> the checkpoint folder to load and its state, "" for a fresh run */
static int resume_dir(const struct trainer *t, char *dir, size_t dn, struct ckpt_state *s,
		      char *err, size_t n)
{
	const char *r = t->cfg.run.resume;
	char why[1200];
	dir[0] = 0;
	if (!strcmp(r, "never"))
		return 0;
	if (!strcmp(r, "auto") || !*r)
		return resume_auto(t, dir, dn, s, err, n);
	if (!ckpt_complete(r)) {
		snprintf(err, n, "run.resume '%s': not a complete checkpoint (no DONE file in it); "
			 "give a ckpt/step_N folder, auto or never", r);
		return -1;
	}
	if (read_checked(r, s, why, sizeof(why))) {
		snprintf(err, n, "run.resume: %s; give another checkpoint, auto or never", why);
		return -1;
	}
	snprintf(dir, dn, "%s", r);
	return 0;
}

static int load_state(struct trainer *t, const char *dir, struct ckpt_state *s, char *err,
		      size_t n)
{
	char why[900];
	if (ckpt_check_config(dir, s, &t->cfg, t->world, why, sizeof(why))) {
		if (!t->cfg.run.resume_force) {
			snprintf(err, n, "%s; rerun with that config, add run.resume_force=true to "
				 "resume anyway, or run.resume=never to start over", why);
			return -1;
		}
		fprintf(stderr, "attnrl train: warning: %s (run.resume_force=true: resuming)\n", why);
	}
	return 0;
}

int trainer_resume(struct trainer *t, struct runlog_pos *pos, char *err, size_t n)
{
	char dir[1200], path[1300];
	struct ckpt_state s;
	if (resume_dir(t, dir, sizeof(dir), &s, err, n))
		return -1;
	if (!dir[0])
		return 0;
	if (load_state(t, dir, &s, err, n))
		return -1;
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (model_load(t->pol.model, path, err, n))
		return -1;
	if (trainer_load_moments(t, dir, err, n))
		return -1;
	t->opt_step = s.opt_step;
	t->skipped = s.skipped;
	t->bad_run = s.bad_run;
	t->data.cursor = s.data_cursor;
	t->start_step = t->last_saved = s.step;
	snprintf(t->resumed_from, sizeof(t->resumed_from), "%s", dir);
	*pos = s.log;
	if (!in_run_dir(t, dir)) /* another run's checkpoint: this run's logs start afresh */
		pos->metrics = pos->samples = pos->tensorboard = -1;
	return 1;
}

/* ---- stopping -------------------------------------------------------------------------- */

int trainer_stop_save(struct trainer *t, long step, char *err, size_t n)
{
	int why = stop_requested();
	t->data.cursor = t->cursor0;
	if (t->log.tty)
		printf("\r\033[K");
	if (step > t->last_saved && trainer_save(t, step, err, n))
		return -1;
	if (t->rank)
		return TRAINER_STOPPED;
	if (t->last_saved)
		printf("attnrl train: stopped by %s after step %ld; checkpoint %s/ckpt/step_%ld; rerun "
		       "the same command to resume (exit %d)\n", stop_reason(why), step, t->run_dir,
		       t->last_saved, STOP_EXIT_PREEMPTED);
	else
		printf("attnrl train: stopped by %s before the first step; nothing to save (exit "
		       "%d)\n", stop_reason(why), STOP_EXIT_PREEMPTED);
	fflush(stdout);
	return TRAINER_STOPPED;
}

void trainer_deadline_init(struct trainer *t)
{
	double now = fs_now(), d = 0;
	if (t->cfg.train.time_limit > 0)
		d = t->t_init + t->cfg.train.time_limit;
	const char *end = getenv("SLURM_JOB_END_TIME");
	char *tail;
	long long e = end ? strtoll(end, &tail, 10) : 0;
	if (e > 0 && !*tail) {
		double slurm = now + (double)(e - (long long)time(NULL));
		if (!d || slurm < d)
			d = slurm;
	}
	t->deadline = d;
}

void trainer_deadline_check(struct trainer *t)
{
	if (t->deadline <= 0)
		return;
	double now = fs_now(), need = t->step_max + t->save_seconds + 1.0;
	if (now + need > t->deadline && (t->step_max > 0 || now >= t->deadline))
		stop_request(STOP_DEADLINE);
}
