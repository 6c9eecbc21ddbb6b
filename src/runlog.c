/* runlog.c - console, metrics.jsonl and samples.jsonl (see runlog.h). */
#include "attnrl/runlog.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"

/* dir/name, fresh ("w"), or cut to keep bytes and appended to (resume) */
static FILE *open_in(const char *dir, const char *name, long keep, char *err, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, keep < 0 ? "w" : "r+");
	if (!f) {
		snprintf(err, n, "cannot %s '%s': %s", keep < 0 ? "create" : "reopen", path,
			 strerror(errno));
		return NULL;
	}
	if (keep < 0)
		return f;
	struct stat st;
	errno = 0;
	if (fstat(fileno(f), &st) || st.st_size < keep || ftruncate(fileno(f), keep) ||
	    fseek(f, 0, SEEK_END)) {
		snprintf(err, n, "cannot cut '%s' back to the checkpoint's %ld bytes: %s", path, keep,
			 errno ? strerror(errno) : "the file is shorter");
		fclose(f);
		return NULL;
	}
	return f;
}

int runlog_open(struct runlog *l, const char *dir, long total_steps, const struct runlog_pos *at,
		char *err, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->metrics = open_in(dir, "metrics.jsonl", at ? at->metrics : -1, err, n);
	l->samples = l->metrics ? open_in(dir, "samples.jsonl", at ? at->samples : -1, err, n) : NULL;
	if (!l->samples) {
		runlog_close(l);
		return -1;
	}
	l->tty = isatty(STDOUT_FILENO);
	l->total_steps = total_steps;
	l->first_step = at ? at->step : 0;
	l->t_start = fs_now();
	return 0;
}

static int sync_one(FILE *f, long *pos)
{
	if (fflush(f) || fsync(fileno(f)))
		return -1;
	*pos = ftell(f);
	return *pos < 0 ? -1 : 0;
}

int runlog_sync(struct runlog *l, long step, struct runlog_pos *at)
{
	at->step = step;
	return sync_one(l->metrics, &at->metrics) || sync_one(l->samples, &at->samples) ? -1 : 0;
}

void runlog_close(struct runlog *l)
{
	if (l->metrics)
		fclose(l->metrics);
	if (l->samples)
		fclose(l->samples);
	l->metrics = l->samples = NULL;
}

static void write_metrics(FILE *f, const struct step_metrics *m)
{
	struct json_out o;
	json_obj_begin(&o, f);
	json_kv_int(&o, "step", m->step);
	const struct { const char *k; double v; } kv[] = {
		{ "reward_mean", m->reward_mean }, { "accuracy", m->accuracy }, { "loss", m->loss },
		{ "grad_norm", m->grad_norm }, { "lr", m->lr }, { "entropy", m->entropy },
		{ "clip_frac", m->clip_frac }, { "kl", m->kl },
		{ "response_len_mean", m->response_len_mean },
		{ "rollout_tokens_per_s", m->rollout_tokens_per_s },
		{ "time_rollout_s", m->time_rollout_s }, { "time_update_s", m->time_update_s },
		{ "time_step_s", m->time_step_s }, { "time_credit_s", m->time_credit_s }, { "logp_mismatch", m->logp_mismatch },
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		json_kv_num(&o, kv[i].k, kv[i].v);
	json_kv_int(&o, "skipped_updates", m->skipped_updates);
	json_kv_int(&o, "bad_step", m->bad_step);
	if (m->has_credit) {
		const struct rhythm_metrics *c = &m->credit;
		const struct { const char *k; double v; } ck[] = {
			{ "gamma_mean", c->gamma_mean }, { "frac_preplan", c->frac_loc },
			{ "frac_anchor", c->frac_glob }, { "frac_dominated", c->frac_d },
			{ "frac_intro", c->frac_i }, { "waad_mean", c->waad_mean },
			{ "fai_mean", c->fai_mean }, { "head_d_local", c->d_loc },
			{ "head_d_global", c->d_glob },
		};
		for (size_t i = 0; i < sizeof(ck) / sizeof(ck[0]); i++)
			json_kv_num(&o, ck[i].k, ck[i].v);
	}
	if (m->has_eval) {
		json_kv_num(&o, "eval_accuracy", m->eval_accuracy);
		json_kv_num(&o, "eval_reward_mean", m->eval_reward_mean);
	}
	json_obj_end(&o);
	fflush(f);
}

static void progress_bar(const struct runlog *l, long step)
{
	int width = 30, done = l->total_steps ? (int)(width * step / l->total_steps) : width;
	double el = fs_now() - l->t_start;
	long done_here = step - l->first_step;
	double eta = done_here > 0 ? el / done_here * (l->total_steps - step) : 0.0;
	char bar[64];
	for (int i = 0; i < width; i++)
		bar[i] = i < done ? '#' : '.';
	bar[width] = 0;
	printf("[%s] %ld/%ld  %.0fs elapsed, eta %.0fs\r", bar, step, l->total_steps, el, eta);
	fflush(stdout);
}

void runlog_step(struct runlog *l, const struct step_metrics *m, int print)
{
	write_metrics(l->metrics, m);
	if (!print)
		return;
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
	printf("\n");
	if (l->tty)
		progress_bar(l, m->step);
	fflush(stdout);
}

void runlog_eval(struct runlog *l, long step, double accuracy, double reward, int n)
{
	struct json_out o; /* a metrics line of its own: the held-out curve starts at this step */
	json_obj_begin(&o, l->metrics);
	json_kv_int(&o, "step", step);
	json_kv_num(&o, "eval_accuracy", accuracy);
	json_kv_num(&o, "eval_reward_mean", reward);
	json_obj_end(&o);
	fflush(l->metrics);
	if (l->tty)
		printf("\r\033[K");
	printf("eval  step %ld: accuracy %.3f (%d held-out problems), reward %.3f\n", step, accuracy,
	       n, reward);
	fflush(stdout);
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

void runlog_sample(struct runlog *l, long step, const char *prompt, const char *response,
		   double reward, int correct, const struct sample_detail *d)
{
	struct json_out o;
	json_obj_begin(&o, l->samples);
	json_kv_int(&o, "step", step);
	json_kv_str(&o, "prompt", prompt);
	json_kv_str(&o, "response", response);
	json_kv_num(&o, "reward", reward);
	json_kv_bool(&o, "correct", correct);
	if (d)
		detail(&o, d);
	json_obj_end(&o);
	fflush(l->samples);
}
