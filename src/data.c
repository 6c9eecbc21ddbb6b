/* data.c - prompts from the task generators or a JSONL dataset, through the template (data.h). */
#include "attnrl/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/rng.h"

#define DATA_TEXT_MAX (TASK_TEXT_MAX + TEMPLATE_MAX) /* a rendered prompt, bytes */
#define PERM_STREAM 0x7065726dULL                    /* "perm": the train order's rng stream */

static int init_generator(struct data *d, const struct config *c, char *err, size_t n)
{
	task_params_default(d->kind, &d->tp);
	d->tp.min_ops = (int)c->data.min_ops;
	d->tp.max_ops = (int)c->data.max_ops;
	d->tp.max_operand = (int)c->data.max_operand;
	if (task_params_check(d->kind, &d->tp, err, n))
		return -1;
	d->eval_size = (int)c->data.eval_size;
	return 0;
}

struct skips {
	int too_long, unencodable, too_big;
};

/* 1 when row r can be served: its texts fit a task_example, its prompt fits prompt_max */
static int row_usable(const struct data *d, const struct dataset_row *r, int32_t *scratch,
		      struct skips *s)
{
	char e[8];
	if (strlen(r->question) >= TASK_TEXT_MAX || strlen(r->answer) >= TASK_ANSWER_MAX) {
		s->too_big++;
		return 0;
	}
	/* scratch holds a token per byte and more: -1 can only mean "not encodable" */
	int k = data_encode(d, r->question, scratch, DATA_TEXT_MAX + 2, e, sizeof(e));
	if (k < 0) {
		s->unencodable++;
		return 0;
	}
	if (k > d->prompt_max) {
		s->too_long++;
		return 0;
	}
	return 1;
}

/* the usable rows of ds with eval flag `which` (-1: every row) into out; their count */
static int select_rows(struct data *d, const struct dataset *ds, int which, const char *what,
		       const struct dataset_row **out, int32_t *scratch, const char *path)
{
	struct skips s = { 0 };
	int count = 0, seen = 0;
	for (int i = 0; i < ds->n; i++) {
		const struct dataset_row *r = &ds->rows[i];
		if (which >= 0 && r->eval != which)
			continue;
		seen++;
		if (row_usable(d, r, scratch, &s))
			out[count++] = r;
	}
	int skipped = s.too_long + s.unencodable + s.too_big;
	if (skipped)
		fprintf(stderr, "data: warning: %s: skipped %d of %d %s rows: %d longer than %d prompt "
			"tokens (model.max_seq_len - rollout.max_new_tokens), %d not encodable by the "
			"tokenizer, %d with a question over %d or an answer over %d bytes\n", path,
			skipped, seen, what, s.too_long, d->prompt_max,
			s.unencodable, s.too_big, TASK_TEXT_MAX - 1, TASK_ANSWER_MAX - 1);
	d->n_skipped += skipped;
	return count;
}

/* countdown from a file: every row must carry its numbers and target */
static int countdown_rows(const struct data *d, const struct dataset *ds, char *err, size_t n)
{
	if (d->kind != TASK_COUNTDOWN)
		return 0;
	for (int i = 0; i < ds->n; i++)
		if (!ds->rows[i].n_nums) {
			snprintf(err, n, "line %d: a countdown row needs \"nums\" and \"target\" (as "
				 "`attnrl countdown-data` writes them)", ds->rows[i].line);
			return -1;
		}
	return 0;
}

/* a folder given for a file reads as an allocation failure otherwise */
static int not_dir(const char *key, const char *path, char *err, size_t n)
{
	if (!path[0] || !fs_is_dir(path))
		return 0;
	snprintf(err, n, "%s '%s' is a directory; expected a JSONL file", key, path);
	return -1;
}

static int init_dataset(struct data *d, const struct config *c, char *err, size_t n)
{
	struct dataset_opts o = { c->data.prompt_field, c->data.answer_field, c->data.answer_format };
	const char *ep = c->data.eval_path;
	if (!c->data.path[0]) {
		snprintf(err, n, "data.task=math needs data.path, a JSONL train set "
			 "(e.g. data.path=../shared/data/gsm8k/train.jsonl)");
		return -1;
	}
	if (not_dir("data.path", c->data.path, err, n) ||
	    not_dir("data.eval_path", ep, err, n) ||
	    dataset_load(&d->train_set, c->data.path, &o, err, n) ||
	    (ep[0] && dataset_load(&d->eval_set, ep, &o, err, n)) ||
	    countdown_rows(d, &d->train_set, err, n) || countdown_rows(d, &d->eval_set, err, n))
		return -1;
	long room = c->model.max_seq_len - c->rollout.max_new_tokens;
	d->prompt_max = room < 1 ? 1 : room > DATA_PROMPT_MAX ? DATA_PROMPT_MAX : (int)room;
	int32_t *scratch = malloc((DATA_TEXT_MAX + 2) * sizeof(int32_t));
	d->train = calloc((size_t)d->train_set.n, sizeof(*d->train));
	d->eval = calloc((size_t)(ep[0] ? d->eval_set.n : d->train_set.n), sizeof(*d->eval));
	d->perm = calloc((size_t)d->train_set.n, sizeof(*d->perm));
	if (!scratch || !d->train || !d->eval || !d->perm) {
		free(scratch);
		snprintf(err, n, "data: out of memory for %d rows", d->train_set.n);
		return -1;
	}
	const char *path = c->data.path;
	d->n_train = select_rows(d, &d->train_set, ep[0] ? -1 : 0, "train", d->train, scratch, path);
	d->n_eval = ep[0] ? select_rows(d, &d->eval_set, -1, "held-out", d->eval, scratch, ep) :
			    select_rows(d, &d->train_set, 1, "held-out", d->eval, scratch, path);
	free(scratch);
	if (!d->n_train) {
		snprintf(err, n, "data: no usable train row in %s (see the warning above; raise "
			 "model.max_seq_len or pick another model.tokenizer)", c->data.path);
		return -1;
	}
	if (!d->n_eval && c->train.eval_every > 0) { /* an accuracy of no problems is NaN */
		snprintf(err, n, "data: no usable held-out row in %s (see any warning above); give "
			 "data.eval_path a JSONL file of held-out problems that fit model.max_seq_len, "
			 "or set train.eval_every=0", ep[0] ? ep : path);
		return -1;
	}
	for (int i = 0; i < d->n_train; i++)
		d->n_solutions += d->train[i]->solution && strlen(d->train[i]->solution) < TASK_TEXT_MAX;
	d->eval_size = c->data.eval_size < d->n_eval ? (int)c->data.eval_size : d->n_eval;
	d->perm_epoch = -1;
	return 0;
}

int data_init_eval(struct data *d, const struct config *c, const struct tokenizer *tok,
		   const char *path, char *err, size_t n)
{
	struct dataset_opts o = { c->data.prompt_field, c->data.answer_field, c->data.answer_format };
	memset(d, 0, sizeof(*d));
	if (task_kind_parse(c->data.task, &d->kind) || d->kind == TASK_ARITH) {
		snprintf(err, n, "data.task=%s: a JSONL file needs data.task=math, mcq or countdown",
			 c->data.task);
		return -1;
	}
	d->tok = tok;
	d->format_weight = c->data.format_reward;
	d->from_file = 1;
	if (template_init(&d->tpl, c->data.template, err, n) ||
	    dataset_load(&d->eval_set, path, &o, err, n) || countdown_rows(d, &d->eval_set, err, n))
		goto fail;
	long room = c->model.max_seq_len - c->rollout.max_new_tokens;
	d->prompt_max = room < 1 ? 1 : room > DATA_PROMPT_MAX ? DATA_PROMPT_MAX : (int)room;
	int32_t *scratch = malloc((DATA_TEXT_MAX + 2) * sizeof(int32_t));
	d->eval = calloc((size_t)d->eval_set.n, sizeof(*d->eval));
	if (!scratch || !d->eval) {
		free(scratch);
		snprintf(err, n, "data: out of memory for %d rows", d->eval_set.n);
		goto fail;
	}
	d->n_eval = select_rows(d, &d->eval_set, -1, "held-out", d->eval, scratch, path);
	free(scratch);
	if (!d->n_eval) {
		snprintf(err, n, "data: no usable row in %s (see the warning above); raise "
			 "model.max_seq_len or pick another model.tokenizer", path);
		goto fail;
	}
	d->eval_size = c->data.eval_size < d->n_eval ? (int)c->data.eval_size : d->n_eval;
	if (c->reward.command[0] && !(d->reward = reward_open(c, err, n)))
		goto fail;
	return 0;
fail:
	data_free(d);
	return -1;
}

void data_print(const struct data *d, const struct config *c, FILE *f)
{
	if (!d->from_file)
		return;
	const char *ep = c->data.eval_path;
	fprintf(f, "data: %d train rows (%s), %d held-out rows (%s), template %s\n", d->n_train,
		c->data.path, d->n_eval, ep[0] ? ep : "1 in 8 of data.path", c->data.template);
}

int data_init(struct data *d, const struct config *c, const struct tokenizer *tok, char *err, size_t n)
{
	memset(d, 0, sizeof(*d));
	if (task_kind_parse(c->data.task, &d->kind)) {
		snprintf(err, n, "data.task: unknown task '%s'", c->data.task);
		return -1;
	}
	d->from_file = task_from_file(d->kind) || (d->kind == TASK_COUNTDOWN && c->data.path[0]);
	if (!d->from_file && (c->data.path[0] || c->data.eval_path[0])) {
		snprintf(err, n, "data.path and data.eval_path are read by data.task=math, mcq or "
			 "countdown (with data.path) only; data.task=%s generates its problems",
			 c->data.task);
		return -1;
	}
	d->seed = (uint64_t)c->data.seed;
	d->tok = tok;
	d->format_weight = c->data.format_reward;
	if (template_init(&d->tpl, c->data.template, err, n))
		return -1;
	int rc = d->from_file ? init_dataset(d, c, err, n) : init_generator(d, c, err, n);
	if (!rc && c->reward.command[0] && !(d->reward = reward_open(c, err, n)))
		rc = -1;
	if (rc)
		data_free(d);
	return rc;
}

void data_free(struct data *d)
{
	reward_close(d->reward);
	d->reward = NULL;
	dataset_free(&d->train_set);
	dataset_free(&d->eval_set);
	free(d->train);
	free(d->eval);
	free(d->perm);
	d->train = d->eval = NULL;
	d->perm = NULL;
	d->n_train = d->n_eval = 0;
}

int data_encode(const struct data *d, const char *text, int32_t *ids, int max, char *err, size_t n)
{
	char buf[DATA_TEXT_MAX];
	const struct tokenizer *t = d->tok;
	if (max < 2) {
		snprintf(err, n, "data: no room for a prompt (%d tokens)", max);
		return -1;
	}
	if (template_render(&d->tpl, text, buf, sizeof(buf)) < 0) {
		snprintf(err, n, "data: prompt \"%.40s...\" in data.template is over %d bytes", text,
			 DATA_TEXT_MAX - 1);
		return -1;
	}
	int k = tokenizer_encode(t, buf, ids + 1, max - 1);
	if (k < 0) {
		snprintf(err, n, "data: prompt \"%.40s...\" does not fit in %d tokens or has a character "
			 "outside the vocabulary", text, max);
		for (char *p = err; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		return -1;
	}
	if (t->add_bos && t->bos_id >= 0 && !(k > 0 && ids[1] == t->bos_id)) {
		ids[0] = t->bos_id;
		return k + 1;
	}
	memmove(ids, ids + 1, (size_t)k * sizeof(*ids));
	return k;
}

static void row_example(const struct dataset_row *r, struct task_example *ex)
{
	memset(ex, 0, sizeof(*ex));
	snprintf(ex->prompt, sizeof(ex->prompt), "%s", r->question);
	snprintf(ex->answer, sizeof(ex->answer), "%s", r->answer);
	if (r->solution && strlen(r->solution) < sizeof(ex->solution))
		strcpy(ex->solution, r->solution);
	ex->n_numbers = r->n_nums;
	memcpy(ex->numbers, r->nums, sizeof(ex->numbers));
	ex->target = r->target;
	ex->row = r->raw;
}

int data_next_train(struct data *d, struct task_example *ex)
{
	if (!d->from_file)
		return task_example_get(d->kind, &d->tp, d->seed, TASK_TRAIN, d->cursor++, ex);
	if (d->n_train <= 0 || d->cursor < 0)
		return -1;
	int64_t c = d->cursor++, epoch = c / d->n_train;
	if (epoch != d->perm_epoch) {
		struct rng r;
		for (int64_t i = 0; i < d->n_train; i++)
			d->perm[i] = i;
		rng_init3(&r, d->seed, PERM_STREAM, (uint64_t)epoch);
		rng_shuffle_i64(&r, d->perm, d->n_train);
		d->perm_epoch = epoch;
	}
	row_example(d->train[d->perm[c % d->n_train]], ex);
	return 0;
}

int data_eval_example(const struct data *d, int64_t i, struct task_example *ex)
{
	if (!d->from_file)
		return task_example_get(d->kind, &d->tp, d->seed, TASK_EVAL, i, ex);
	if (i < 0 || i >= d->n_eval)
		return -1;
	row_example(d->eval[i], ex);
	return 0;
}

double data_reward(const struct data *d, const struct task_example *ex, const char *response,
		   int *correct)
{
	double r = task_reward(d->kind, ex, response, correct);
	return d->format_weight > 0.0 ? r + d->format_weight * task_format_ok(response) : r;
}
