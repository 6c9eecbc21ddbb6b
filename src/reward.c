/* reward.c - requests to a reward program from the problems and responses, and its replies
 * combined with the built-in verifier (see reward.h). */
#include "attnrl/reward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/config.h"
#include "attnrl/data.h"
#include "attnrl/json.h"

struct reward *reward_open(const struct config *c, char *err, size_t n)
{
	struct reward *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, n, "reward: out of memory");
		return NULL;
	}
	const char *oe = c->reward.on_error;
	r->on_error = !strcmp(oe, "skip") ? REWARD_SKIP : !strcmp(oe, "abort") ? REWARD_ABORT :
									 REWARD_ZERO;
	r->add = !strcmp(c->reward.combine, "add");
	r->pool = reward_pool_open(c->reward.command, (int)c->reward.workers, c->reward.timeout_s,
				   err, n);
	if (!r->pool) {
		free(r);
		return NULL;
	}
	return r;
}

void reward_close(struct reward *r)
{
	if (!r)
		return;
	reward_pool_close(r->pool);
	free(r);
}

static int reserved_key(const char *k)
{
	static const char *const keys[] = { "id", "task", "prompt", "response", "ground_truth" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

/* the members of the problem itself: its dataset row's, or a generated problem's */
static void problem_fields(FILE *f, enum task_kind kind, const struct task_example *ex)
{
	char jerr[8];
	struct json *row = ex->row ? json_parse(ex->row, strlen(ex->row), jerr, sizeof(jerr)) : NULL;
	if (row) {
		for (size_t i = 0; i < json_len(row); i++) {
			const char *k = json_key_at(row, i);
			if (reserved_key(k))
				continue;
			fputs(", ", f);
			json_write_string(f, k);
			fputs(": ", f);
			json_write_value(f, json_at(row, i));
		}
		json_free(row);
	} else if (kind == TASK_ARITH) {
		fputs(", \"answer\": ", f);
		json_write_string(f, ex->answer);
	}
	if (!row && kind == TASK_COUNTDOWN) {
		fputs(", \"nums\": [", f);
		for (int i = 0; i < ex->n_numbers; i++)
			fprintf(f, i ? ", %d" : "%d", ex->numbers[i]);
		fprintf(f, "], \"target\": %ld", ex->target);
	}
}

/* request members after the id, malloc'd; NULL when out of memory */
static char *request_body(const struct data *d, const struct task_example *ex, const char *text)
{
	char *buf = NULL, gt[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fputs("\"task\": ", f);
	json_write_string(f, task_kind_name(d->kind));
	fputs(", \"prompt\": ", f);
	json_write_string(f, ex->prompt);
	fputs(", \"response\": ", f);
	json_write_string(f, text);
	fputs(", \"ground_truth\": ", f);
	snprintf(gt, sizeof(gt), "%ld", ex->target);
	json_write_string(f, d->kind == TASK_COUNTDOWN ? gt : ex->answer);
	problem_fields(f, d->kind, ex);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* reply -> the response's reward under reward.combine */
static void combine(const struct reward *r, const struct data *d, const struct task_example *ex,
		    const char *text, const struct reward_reply *y, struct reward_out *o)
{
	int ok = 0;
	double base = r->add ? data_reward(d, ex, text, &ok) :
			       d->format_weight * task_format_ok(text);
	o->reward = (float)(base + y->reward);
	o->correct = y->correct >= 0 ? y->correct : r->add ? ok : y->reward > 0.0;
	o->info = y->info;
}

static int score_program(struct reward *r, const struct data *d, const struct task_example *ex,
			 int per_ex, const char *const *texts, int n, struct reward_out *out,
			 char *err, size_t en)
{
	char **bodies = calloc((size_t)n, sizeof(*bodies));
	struct reward_reply *y = calloc((size_t)n, sizeof(*y));
	int rc = bodies && y ? 0 : -1;
	for (int b = 0; b < n && !rc; b++)
		rc = (bodies[b] = request_body(d, &ex[b / per_ex], texts[b])) ? 0 : -1;
	if (rc)
		snprintf(err, en, "reward: out of memory for %d requests", n);
	else
		rc = reward_pool_score(r->pool, (const char *const *)bodies, n, y, err, en);
	for (int b = 0; b < n && !rc; b++) {
		if (y[b].status == REWARD_OK) {
			combine(r, d, &ex[b / per_ex], texts[b], &y[b], &out[b]);
			y[b].info = NULL;
			continue;
		}
		out[b].failed = y[b].status;
		r->errors++;
		r->timeouts += y[b].status == REWARD_TIMEOUT;
	}
	if (y)
		reward_replies_free(y, n);
	for (int b = 0; bodies && b < n; b++)
		free(bodies[b]);
	free(bodies);
	free(y);
	return rc;
}

int reward_score(struct reward *r, const struct data *d, const struct task_example *ex,
		 int per_ex, const char *const *texts, int n, struct reward_out *out, char *err,
		 size_t en)
{
	memset(out, 0, (size_t)n * sizeof(*out));
	if (!r) {
		for (int b = 0; b < n; b++)
			out[b].reward = (float)data_reward(d, &ex[b / per_ex], texts[b], &out[b].correct);
		return 0;
	}
	r->errors = r->timeouts = 0;
	int rc = score_program(r, d, ex, per_ex, texts, n, out, err, en);
	r->errors_total += r->errors;
	r->timeouts_total += r->timeouts;
	if (!rc && r->errors && r->on_error == REWARD_ABORT) {
		char line[512];
		reward_summary(r, n, line, sizeof(line));
		snprintf(err, en, "reward: %s (reward.on_error=abort)", line);
		return -1;
	}
	return rc;
}

void reward_out_free(struct reward_out *out, int n)
{
	for (int b = 0; b < n; b++) {
		free(out[b].info);
		out[b].info = NULL;
	}
}

void reward_summary(const struct reward *r, int n, char *buf, size_t len)
{
	buf[0] = 0;
	if (!r || !r->errors)
		return;
	long restarts = reward_pool_restarts(r->pool);
	snprintf(buf, len, "%ld of %d requests failed (%ld time-out%s; %ld worker restart%s so far): "
		 "%s", r->errors, n, r->timeouts, r->timeouts == 1 ? "" : "s", restarts,
		 restarts == 1 ? "" : "s", reward_pool_last_error(r->pool));
}
