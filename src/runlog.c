/* runlog.c - console, metrics.jsonl, samples.jsonl and the TensorBoard event file (see
 * runlog.h). Every row is flushed and checked when it ends: a write that failed (disk full,
 * EFBIG) is an error of the row, never skipped, so a checkpoint's log sizes only ever cover rows
 * that reached the file. A metrics row's members are written by one list (step_members,
 * eval_members) through put_num / put_int, each to the JSON row and to the row's event. */
#include "attnrl/runlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/json.h"

/* the bytes of path's last complete line, or with events its last whole record (0: none):
 * where a forced resume cuts a file that is shorter than its checkpoint says, so that no half
 * row is glued to the next */
static long whole_end(const char *path, int events)
{
	char *data;
	size_t len;
	if (fs_read_file(path, &data, &len))
		return 0;
	if (events)
		len = tbevents_valid_end((const unsigned char *)data, len);
	while (!events && len > 0 && data[len - 1] != '\n')
		len--;
	free(data);
	return (long)len;
}

/* dir/name, fresh ("w"), or cut to keep bytes and appended to (resume); a file missing or
 * shorter than keep is refused, or with accept_loss kept as it is (*lost set, err the warning);
 * events: the event file (records, not lines) */
static FILE *open_in(const char *dir, const char *name, const struct runlog_pos *at,
		     long keep, int events, int accept_loss, int *lost, char *err, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, keep < 0 ? "w" : "r+");
	if (!f && keep >= 0 && errno == ENOENT) {
		if (!accept_loss) {
			snprintf(err, n, "'%s' is missing, but the checkpoint of step %ld covers %ld bytes "
				 "of it; restore it, add run.resume_force=true to go on without the rows "
				 "of steps 1-%ld, or run.resume=never to start over", path, at->step, keep,
				 at->step);
			return NULL;
		}
		snprintf(err, n, "'%s' is missing: started afresh at step %ld (run.resume_force=true); "
			 "the rows of steps 1-%ld are lost", path, at->step + 1, at->step);
		*lost = 1;
		f = fopen(path, "w");
	}
	if (!f) {
		snprintf(err, n, "cannot %s '%s': %s", keep < 0 ? "create" : "reopen", path,
			 strerror(errno));
		return NULL;
	}
	if (keep < 0 || *lost)
		return f;
	struct stat st;
	errno = 0;
	if (fstat(fileno(f), &st)) {
		snprintf(err, n, "cannot read the size of '%s': %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	if (st.st_size < keep && !accept_loss) {
		snprintf(err, n, "'%s' has %lld bytes, but the checkpoint of step %ld recorded %ld: "
			 "rows it covers are lost; restore the file, add run.resume_force=true to keep "
			 "what is there and go on, or run.resume=never to start over", path,
			 (long long)st.st_size, at->step, keep);
		fclose(f);
		return NULL;
	}
	if (st.st_size < keep) {
		long recorded = keep;
		keep = whole_end(path, events);
		snprintf(err, n, "'%s' has %lld bytes, but the checkpoint of step %ld recorded %ld: "
			 "kept its %ld bytes of whole %s and going on (run.resume_force=true)", path,
			 (long long)st.st_size, at->step, recorded, keep, events ? "records" : "lines");
		*lost = 1;
	}
	/* a row ends "}\n"; runlog_eval_amend turns the "}\n" of a checkpoint's last row into ", "
	 * and the eval: cut back inside it, the row is closed again as the checkpoint saw it */
	char tail[2] = "";
	if (ftruncate(fileno(f), keep) ||
	    (!events && keep >= 2 && pread(fileno(f), tail, 2, keep - 2) == 2 &&
	     !memcmp(tail, ", ", 2) && pwrite(fileno(f), "}\n", 2, keep - 2) != 2) ||
	    fseek(f, 0, SEEK_END)) {
		snprintf(err, n, "cannot cut '%s' back to the checkpoint's %ld bytes: %s", path, keep,
			 strerror(errno));
		fclose(f);
		return NULL;
	}
	return f;
}

/* after a row: flushed, and no write of it failed (the error flag is sticky, so a write that
 * failed earlier in the row is seen here); -1 with err naming the file and errno's text */
static int row_done(FILE *f, const char *path, char *err, size_t n)
{
	errno = 0;
	if (!fflush(f) && !ferror(f))
		return 0;
	snprintf(err, n, "cannot write '%s': %s", path, errno ? strerror(errno) : "write error");
	return -1;
}

/* the event file of a run with log.tensorboard: an empty one gets the version record first */
static int events_begin(struct runlog *l, char *err, size_t n)
{
	long at = ftell(l->events);
	if (at > 0)
		return 0;
	errno = 0;
	if (at == 0 && !tbevents_write_version(l->events, fs_wall()))
		return row_done(l->events, l->events_path, err, n);
	snprintf(err, n, "cannot write '%s': %s", l->events_path,
		 errno ? strerror(errno) : "write error");
	return -1;
}

int runlog_open(struct runlog *l, const char *dir, long total_steps, int tensorboard,
		const struct runlog_pos *at, int accept_loss, char *err, size_t n)
{
	int any = 0;
	char warn[1024] = "";
	memset(l, 0, sizeof(*l));
	tbevents_init(&l->tb);
	snprintf(l->metrics_path, sizeof(l->metrics_path), "%s/metrics.jsonl", dir);
	snprintf(l->samples_path, sizeof(l->samples_path), "%s/samples.jsonl", dir);
	snprintf(l->events_path, sizeof(l->events_path), "%s/%s", dir, RUNLOG_EVENTS);
	if (!tensorboard && !at) /* a run that starts over: no stale events of the earlier one */
		unlink(l->events_path);
	const struct { FILE **f; const char *name; long keep; } files[] = {
		{ &l->metrics, "metrics.jsonl", at ? at->metrics : -1 },
		{ &l->samples, "samples.jsonl", at ? at->samples : -1 },
		{ &l->events, RUNLOG_EVENTS, at ? at->tensorboard : -1 },
	};
	for (int i = 0; i < (tensorboard ? 3 : 2); i++) {
		int lost = 0;
		*files[i].f = open_in(dir, files[i].name, at, files[i].keep, i == 2, accept_loss,
				      &lost, err, n);
		if (!*files[i].f) {
			runlog_close(l);
			return -1;
		}
		if (lost && !any)
			snprintf(warn, sizeof(warn), "%s", err);
		any |= lost;
	}
	if (l->events && events_begin(l, err, n)) {
		runlog_close(l);
		return -1;
	}
	if (any)
		snprintf(err, n, "%s", warn);
	l->tty = isatty(STDOUT_FILENO);
	l->total_steps = total_steps;
	l->first_step = at ? at->step : 0;
	l->t_start = fs_now();
	l->sample_step = -1;
	return any ? RUNLOG_LOST : 0;
}

static int sync_one(FILE *f, const char *path, long *pos, char *err, size_t n)
{
	if (row_done(f, path, err, n))
		return -1;
	if (fsync(fileno(f)) || (*pos = ftell(f)) < 0) {
		snprintf(err, n, "cannot sync '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int runlog_sync(struct runlog *l, long step, struct runlog_pos *at, char *err, size_t n)
{
	at->step = step;
	at->tensorboard = -1;
	return sync_one(l->metrics, l->metrics_path, &at->metrics, err, n) ||
	       sync_one(l->samples, l->samples_path, &at->samples, err, n) ||
	       (l->events && sync_one(l->events, l->events_path, &at->tensorboard, err, n)) ? -1 : 0;
}

void runlog_close(struct runlog *l)
{
	FILE **fs[] = { &l->metrics, &l->samples, &l->events };
	for (int i = 0; i < 3; i++) {
		if (*fs[i])
			fclose(*fs[i]);
		*fs[i] = NULL;
	}
	tbevents_free(&l->tb);
}

/* a metrics row being written: each member goes to the JSON object and, when the run keeps an
 * event file, as a scalar to the row's event (the row's step is the event's step) */
struct row {
	struct json_out o;
	struct tbevents *tb; /* NULL: no event file */
};

static void put_num(struct row *r, const char *key, double v)
{
	json_kv_num(&r->o, key, v);
	if (r->tb)
		tbevents_scalar(r->tb, key, (float)v);
}

static void put_int(struct row *r, const char *key, long v)
{
	json_kv_int(&r->o, key, v);
	if (r->tb)
		tbevents_scalar(r->tb, key, (float)v);
}

/* the members of a training step's row after "step" (the eval's come after them) */
static void step_members(struct row *r, const struct step_metrics *m)
{
	const struct { const char *k; double v; } kv[] = {
		{ "reward_mean", m->reward_mean }, { "accuracy", m->accuracy }, { "loss", m->loss },
		{ "grad_norm", m->grad_norm }, { "lr", m->lr }, { "entropy", m->entropy },
		{ "clip_frac", m->clip_frac }, { "kl", m->kl },
		{ "response_len_mean", m->response_len_mean },
		{ "rollout_tokens_per_s", m->rollout_tokens_per_s },
		{ "time_rollout_s", m->time_rollout_s }, { "time_update_s", m->time_update_s },
		{ "time_step_s", m->time_step_s }, { "time_credit_s", m->time_credit_s },
		{ "logp_mismatch", m->logp_mismatch }, { "pad_frac", m->pad_frac },
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		put_num(r, kv[i].k, kv[i].v);
	put_int(r, "skipped_updates", m->skipped_updates);
	put_int(r, "bad_step", m->bad_step);
	if (m->has_reward_program) {
		put_int(r, "reward_errors", m->reward_errors);
		put_int(r, "reward_timeouts", m->reward_timeouts);
	}
	if (!m->has_credit)
		return;
	const struct rhythm_metrics *c = &m->credit;
	const struct { const char *k; double v; } ck[] = {
		{ "gamma_mean", c->gamma_mean }, { "frac_preplan", c->frac_loc },
		{ "frac_anchor", c->frac_glob }, { "frac_dominated", c->frac_d },
		{ "frac_intro", c->frac_i }, { "waad_mean", c->waad_mean },
		{ "fai_mean", c->fai_mean }, { "head_d_local", c->d_loc },
		{ "head_d_global", c->d_glob },
	};
	for (size_t i = 0; i < sizeof(ck) / sizeof(ck[0]); i++)
		put_num(r, ck[i].k, ck[i].v);
}

/* eval_accuracy, eval_reward_mean, and eval_accuracy/<label> per subset */
static void eval_members(struct row *r, const struct step_metrics *m)
{
	char key[300];
	put_num(r, "eval_accuracy", m->eval_accuracy);
	put_num(r, "eval_reward_mean", m->eval_reward_mean);
	for (int i = 0; i < m->n_eval_subsets; i++) {
		snprintf(key, sizeof(key), "eval_accuracy/%s", m->eval_subsets[i].group);
		put_num(r, key, m->eval_subsets[i].avg_at_k);
	}
}

/* the event built in l->tb written at step, flushed and checked */
static int event_end(struct runlog *l, long step, char *err, size_t n)
{
	if (tbevents_write(&l->tb, l->events, fs_wall(), step) && !ferror(l->events)) {
		snprintf(err, n, "cannot write '%s': out of memory", l->events_path);
		return -1;
	}
	return row_done(l->events, l->events_path, err, n);
}

/* a row begun in metrics.jsonl (amend: the last row reopened), its event with it */
static void row_begin(struct runlog *l, struct row *r, int amend)
{
	if (amend)
		r->o = (struct json_out){ l->metrics, 1 }; /* the row's members go on */
	else
		json_obj_begin(&r->o, l->metrics);
	r->tb = l->events ? &l->tb : NULL;
}

/* the row ended in metrics.jsonl and its event written at step; both checked */
static int row_end(struct runlog *l, struct row *r, long step, char *err, size_t n)
{
	json_obj_end(&r->o);
	if (row_done(l->metrics, l->metrics_path, err, n))
		return -1;
	if (!r->tb)
		return 0;
	return event_end(l, step, err, n);
}

static int write_metrics(struct runlog *l, const struct step_metrics *m, char *err, size_t n)
{
	struct row r;
	row_begin(l, &r, 0);
	json_kv_int(&r.o, "step", m->step);
	step_members(&r, m);
	if (m->has_eval)
		eval_members(&r, m);
	return row_end(l, &r, m->step, err, n);
}

/* seconds as "45s", "3m12s", "2h05m" */
static void duration_text(double s, char *buf, size_t n)
{
	long t = s > 0 ? (long)(s + 0.5) : 0;
	if (t < 60)
		snprintf(buf, n, "%lds", t);
	else if (t < 3600)
		snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, n, "%ldh%02ldm", t / 3600, t % 3600 / 60);
}

/* the time left after step, from this process's mean time per step so far; 0 when none */
static int eta_text(const struct runlog *l, long step, char *buf, size_t n)
{
	long done_here = step - l->first_step;
	if (done_here <= 0 || step >= l->total_steps)
		return 0;
	duration_text((fs_now() - l->t_start) / done_here * (l->total_steps - step), buf, n);
	return 1;
}

static void progress_bar(const struct runlog *l, long step)
{
	int width = 30, done = l->total_steps ? (int)(width * step / l->total_steps) : width;
	char bar[64], el[32], eta[32] = "0s";
	for (int i = 0; i < width; i++)
		bar[i] = i < done ? '#' : '.';
	bar[width] = 0;
	duration_text(fs_now() - l->t_start, el, sizeof(el));
	eta_text(l, step, eta, sizeof(eta));
	printf("[%s] %ld/%ld  %s elapsed, eta %s\r", bar, step, l->total_steps, el, eta);
	fflush(stdout);
}

int runlog_step(struct runlog *l, const struct step_metrics *m, int print, char *err, size_t n)
{
	char eta[32];
	if (write_metrics(l, m, err, n))
		return -1;
	if (!print)
		return 0;
	if (l->tty)
		printf("\r\033[K");
	printf("step %4ld/%ld | reward %.3f | acc %.3f | loss %+.4f | gnorm %.3f | lr %.2e | "
	       "len %.1f | ent %.3f | clip %.3f | %.0f tok/s | roll %.2fs upd %.2fs",
	       m->step, l->total_steps, m->reward_mean, m->accuracy, m->loss, m->grad_norm, m->lr,
	       m->response_len_mean, m->entropy, m->clip_frac, m->rollout_tokens_per_s,
	       m->time_rollout_s, m->time_update_s);
	if (m->has_credit)
		printf(" | gamma %.3f", m->credit.gamma_mean);
	if (m->has_eval)
		printf(" | eval %.3f", m->eval_accuracy);
	if (eta_text(l, m->step, eta, sizeof(eta)))
		printf(" | eta %s", eta);
	printf("\n");
	if (l->tty)
		progress_bar(l, m->step);
	fflush(stdout);
	return 0;
}

int runlog_eval(struct runlog *l, const struct step_metrics *m, int count, char *err, size_t n)
{
	struct row r; /* a metrics line of its own: the held-out curve starts at this step */
	row_begin(l, &r, 0);
	json_kv_int(&r.o, "step", m->step);
	eval_members(&r, m);
	if (row_end(l, &r, m->step, err, n))
		return -1;
	if (l->tty)
		printf("\r\033[K");
	printf("eval  step %ld: accuracy %.3f (%d held-out problems), reward %.3f\n", m->step,
	       m->eval_accuracy, count, m->eval_reward_mean);
	fflush(stdout);
	return 0;
}

/* the last line of metrics.jsonl (written by write_metrics, so it starts {"step": N) is step's
 * row without an eval */
int runlog_eval_missing(struct runlog *l, long step)
{
	char *data, want[64];
	size_t len;
	if (fflush(l->metrics) || fs_read_file(l->metrics_path, &data, &len))
		return 0;
	while (len > 0 && data[len - 1] == '\n')
		data[--len] = 0;
	char *line = strrchr(data, '\n');
	line = line ? line + 1 : data;
	int k = snprintf(want, sizeof(want), "{\"step\": %ld,", step);
	int missing = !strncmp(line, want, k) && strstr(line, "\"loss\"") &&
		      !strstr(line, "\"eval_accuracy\"");
	free(data);
	return missing;
}

int runlog_eval_amend(struct runlog *l, const struct step_metrics *m, int count, char *err,
		      size_t n)
{
	FILE *f = l->metrics;
	long end;
	char tail[2];
	if (row_done(f, l->metrics_path, err, n))
		return -1;
	errno = 0;
	if ((end = ftell(f)) < 2 || pread(fileno(f), tail, 2, end - 2) != 2 || memcmp(tail, "}\n", 2) ||
	    ftruncate(fileno(f), end - 2) || fseek(f, end - 2, SEEK_SET)) {
		snprintf(err, n, "cannot add the eval to the last row of '%s': %s", l->metrics_path,
			 errno ? strerror(errno) : "it does not end with }");
		return -1;
	}
	struct row r; /* the eval ends the row; in the event file, an event of its own */
	row_begin(l, &r, 1);
	eval_members(&r, m);
	if (row_end(l, &r, m->step, err, n))
		return -1;
	if (l->tty)
		printf("\r\033[K");
	printf("eval  step %ld: accuracy %.3f (%d held-out problems), reward %.3f (the eval cut short "
	       "by the stop)\n", m->step, m->eval_accuracy, count, m->eval_reward_mean);
	fflush(stdout);
	return 0;
}

static void float_array(struct json_out *o, const char *key, const float *x, int n)
{
	json_kv_key(o, key);
	fputc('[', o->f);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", o->f);
		json_write_float(o->f, x[i]);
	}
	fputc(']', o->f);
}

static void detail(struct json_out *o, const struct sample_detail *d)
{
	json_kv_key(o, "tokens");
	fputc('[', o->f);
	for (int i = 0; i < d->R; i++) {
		int32_t id = d->tokens[i];
		if (i)
			fputs(", ", o->f);
		json_write_string(o->f, tokenizer_text(d->tok, id));
	}
	fputc(']', o->f);
	float_array(o, "waad", d->waad, d->R);
	float_array(o, "fai", d->fai, d->R);
	float_array(o, "delta", d->delta, d->R);
	float_array(o, "gamma", d->gamma, d->R);
	const char *names[] = { "preplan", "anchor", "dominated", "intro" };
	for (int k = 0; k < 4; k++) {
		json_kv_key(o, names[k]);
		fputc('[', o->f);
		for (int i = 0, first = 1; i < d->R; i++) {
			if (d->sets[i] & (1u << k)) {
				fprintf(o->f, first ? "%d" : ", %d", i);
				first = 0;
			}
		}
		fputc(']', o->f);
	}
}

/* text as a Markdown code block: every line indented by four spaces, so that no character of
 * a prompt or response is read as Markdown */
static void markdown_code(FILE *f, const char *text)
{
	fputs("    ", f);
	for (const char *p = text; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fputs("    ", f);
	}
	fputs("\n", f);
}

/* the sample as a text event "samples/<i>" of step: reward, prompt and response in Markdown */
static int sample_event(struct runlog *l, long step, const char *prompt, const char *response,
			double reward, int correct, char *err, size_t n)
{
	char *text = NULL, tag[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, n, "cannot write '%s': out of memory", l->events_path);
		return -1;
	}
	fprintf(f, "**reward** %.4g (%s)\n\n**prompt**\n\n", reward, correct ? "correct" : "wrong");
	markdown_code(f, prompt);
	fputs("\n**response**\n\n", f);
	markdown_code(f, response);
	if (fclose(f)) {
		free(text);
		snprintf(err, n, "cannot write '%s': out of memory", l->events_path);
		return -1;
	}
	l->sample_i = step == l->sample_step ? l->sample_i + 1 : 0;
	l->sample_step = step;
	snprintf(tag, sizeof(tag), "samples/%d", l->sample_i);
	tbevents_text(&l->tb, tag, text);
	free(text);
	return event_end(l, step, err, n);
}

int runlog_sample(struct runlog *l, long step, const char *prompt, const char *response,
		  double reward, int correct, const char *info, const struct sample_detail *d,
		  char *err, size_t n)
{
	struct json_out o;
	json_obj_begin(&o, l->samples);
	json_kv_int(&o, "step", step);
	json_kv_str(&o, "prompt", prompt);
	json_kv_str(&o, "response", response);
	json_kv_num(&o, "reward", reward);
	json_kv_bool(&o, "correct", correct);
	if (info)
		json_kv_raw(&o, "info", info);
	if (d)
		detail(&o, d);
	json_obj_end(&o);
	if (row_done(l->samples, l->samples_path, err, n))
		return -1;
	return l->events ? sample_event(l, step, prompt, response, reward, correct, err, n) : 0;
}
