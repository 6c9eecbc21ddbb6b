/*
 * trainer_ckpt.c - the trainer's side of checkpoints (see ckpt.h for the folder protocol):
 * the weights (model_save, Hugging Face names, fp32), the AdamW moments as
 * optimizer.safetensors ("<param>.exp_avg", "<param>.exp_avg_sq", fp32; opt_step and skipped
 * in the metadata), the trainer state; and the resume that reads them back. The resumed run
 * continues bit for bit: sampling is a function of (run.seed, step), the data order of
 * (data.seed, cursor), and everything else that carries over is saved here.
 */
#include "attnrl/trainer.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attnrl/ckpt.h"
#include "attnrl/safetensors.h"
#include "attnrl/stop.h"


static const char *const MOMENT_SUFFIX[2] = { ".exp_avg", ".exp_avg_sq" };

static tensor *moment(const struct trainer *t, int i, int k)
{
	return k ? t->adam_v[i] : t->adam_m[i];
}

static int save_optimizer(const struct trainer *t, const char *dir, char *err, size_t n)
{
	const struct model *m = t->pol.model;
	int np = m->n_params, rc = -1;
	struct st_entry *e = calloc(2 * np, sizeof(*e));
	int64_t(*shapes)[8] = calloc(np, sizeof(*shapes));
	char (*names)[300] = calloc(2 * np, sizeof(*names));
	char path[1400], step[32], skipped[32];
	if (!e || !shapes || !names) {
		snprintf(err, n, "checkpoint: out of memory");
		goto out;
	}
	for (int i = 0; i < np; i++) {
		int nd = tensor_ndim(m->params[i]);
		for (int d = 0; d < nd; d++)
			shapes[i][d] = tensor_size(m->params[i], d);
		for (int k = 0; k < 2; k++) {
			snprintf(names[2 * i + k], sizeof(names[0]), "%s%s", m->names[i], MOMENT_SUFFIX[k]);
			e[2 * i + k] = (struct st_entry){ names[2 * i + k], ST_F32, nd, shapes[i],
							  tensor_data(moment(t, i, k)) };
		}
	}
	snprintf(step, sizeof(step), "%ld", t->opt_step);
	snprintf(skipped, sizeof(skipped), "%ld", t->skipped);
	const char *meta[] = { "format", "pt", "opt_step", step, "skipped", skipped };
	snprintf(path, sizeof(path), "%s/optimizer.safetensors", dir);
	rc = st_write(path, e, 2 * np, meta, 3, err, n);
out:
	free(e);
	free(shapes);
	free(names);
	return rc;
}

/* the moments of every parameter from path; shapes must match */
static int load_optimizer(struct trainer *t, const char *path, char *err, size_t n)
{
	const struct model *m = t->pol.model;
	struct st_file f;
	char name[300];
	if (st_open(&f, path, err, n))
		return -1;
	int rc = 0;
	for (int i = 0; i < m->n_params && !rc; i++) {
		for (int k = 0; k < 2 && !rc; k++) {
			tensor *x = moment(t, i, k);
			snprintf(name, sizeof(name), "%s%s", m->names[i], MOMENT_SUFFIX[k]);
			const struct st_tensor *s = st_find(&f, name);
			if (!s || s->dtype != ST_F32 || s->nbytes != (size_t)tensor_numel(x) * 4) {
				snprintf(err, n, "%s: tensor '%s' is %s (expected F32, %" PRId64
					 " values)", path, name, s ? "of another dtype or size" : "missing",
					 tensor_numel(x));
				rc = -1;
			} else {
				rc = tensor_write_f32(x, s->data, tensor_numel(x));
			}
		}
	}
	st_close(&f);
	return rc;
}

static void state_of(const struct trainer *t, long step, struct ckpt_state *s)
{
	*s = (struct ckpt_state){ .step = step, .opt_step = t->opt_step, .skipped = t->skipped,
				  .bad_run = t->bad_run, .data_cursor = t->data.cursor,
				  .run_seed = t->cfg.run.seed, .data_seed = t->cfg.data.seed,
				  .world_size = t->world,
				  .config_hash = ckpt_config_hash(&t->cfg) };
}

static int save_files(struct trainer *t, long step, char *err, size_t n)
{
	struct ckpt_state s;
	char dir[1200], path[1300];
	state_of(t, step, &s);
	if (runlog_sync(&t->log, step, &s.log)) {
		snprintf(err, n, "cannot flush metrics.jsonl / samples.jsonl in '%.900s'", t->run_dir);
		return -1;
	}
	if (ckpt_begin(t->run_dir, step, dir, sizeof(dir), err, n))
		return -1;
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (model_save(t->pol.model, path, err, n))
		return -1;
	stop_test_point("ckpt_write", step);
	if (save_optimizer(t, dir, err, n) || ckpt_write_state(dir, &s, &t->cfg, err, n))
		return -1;
	return ckpt_commit(t->run_dir, step, err, n);
}

/* rank 0 writes (the weights and moments are the same on every rank); all learn how it went */
int trainer_save(struct trainer *t, long step, char *err, size_t n)
{
	char why[1024];
	double t0 = runlog_now();
	int failed = !t->rank && save_files(t, step, why, sizeof(why));
	int any = trainer_any(t, failed, err, n);
	if (any < 0)
		return -1;
	if (any && t->rank) {
		snprintf(err, n, "checkpoint of step %ld not saved by rank 0 (its log says why)", step);
		return -1;
	}
	if (t->rank) {
		t->last_saved = step;
		return 0;
	}
	if (failed) {
		ckpt_discard(t->run_dir, step);
		if (t->last_saved > 0)
			snprintf(err, n, "checkpoint of step %ld not saved: %s; the previous checkpoint "
				 "ckpt/step_%ld is intact; free space and rerun to resume from it", step,
				 why, t->last_saved);
		else
			snprintf(err, n, "checkpoint of step %ld not saved: %s", step, why);
		return -1;
	}
	stop_test_point("after_ckpt", step);
	ckpt_prune(t->run_dir, t->cfg.train.keep_last);
	t->last_saved = step;
	t->save_seconds = runlog_now() - t0;
	if (t->log.tty)
		printf("\r\033[K");
	printf("ckpt  step %ld: saved %s/ckpt/step_%ld (%.1fs)\n", step, t->run_dir, step,
	       t->save_seconds);
	fflush(stdout);
	return 0;
}

/* run.resume -> the checkpoint folder to load, "" for a fresh run */
static int resume_dir(const struct trainer *t, char *dir, size_t dn, char *err, size_t n)
{
	const char *r = t->cfg.run.resume;
	dir[0] = 0;
	if (!strcmp(r, "never"))
		return 0;
	if (!strcmp(r, "auto") || !*r) {
		ckpt_latest(t->run_dir, dir, dn);
		return 0;
	}
	if (!ckpt_complete(r)) {
		snprintf(err, n, "run.resume '%s': not a complete checkpoint (no DONE file in it); "
			 "give a ckpt/step_N folder, auto or never", r);
		return -1;
	}
	snprintf(dir, dn, "%s", r);
	return 0;
}

/* 1 when the checkpoint folder dir is <run_dir>/ckpt/step_N */
static int in_run_dir(const struct trainer *t, const char *dir)
{
	char up[1300], a[PATH_MAX], b[PATH_MAX];
	snprintf(up, sizeof(up), "%s/../..", dir);
	return realpath(up, a) && realpath(t->run_dir, b) && !strcmp(a, b);
}

static int load_state(struct trainer *t, const char *dir, struct ckpt_state *s, char *err,
		      size_t n)
{
	char why[900];
	if (ckpt_read_state(dir, s, err, n))
		return -1;
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
	if (resume_dir(t, dir, sizeof(dir), err, n))
		return -1;
	if (!dir[0])
		return 0;
	if (load_state(t, dir, &s, err, n))
		return -1;
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (model_load(t->pol.model, path, err, n))
		return -1;
	snprintf(path, sizeof(path), "%s/optimizer.safetensors", dir);
	if (load_optimizer(t, path, err, n))
		return -1;
	t->opt_step = s.opt_step;
	t->skipped = s.skipped;
	t->bad_run = s.bad_run;
	t->data.cursor = s.data_cursor;
	t->start_step = t->last_saved = s.step;
	snprintf(t->resumed_from, sizeof(t->resumed_from), "%s", dir);
	*pos = s.log;
	if (!in_run_dir(t, dir)) /* another run's checkpoint: this run's logs start afresh */
		pos->metrics = pos->samples = -1;
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
	double now = runlog_now(), d = 0;
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
	double now = runlog_now(), need = t->step_max + t->save_seconds + 1.0;
	if (now + need > t->deadline && (t->step_max > 0 || now >= t->deadline))
		stop_request(STOP_DEADLINE);
}
