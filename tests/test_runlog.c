/*
 * test_runlog.c - the run logs with log.tensorboard (src/runlog.c) without a trainer, so that the
 * sanitizer build runs them: a fresh event file starts with the version record; each metrics
 * row, eval row, amend and sample adds one whole record; runlog_sync's sizes are the files'; a
 * reopen at a checkpoint's sizes cuts all three files back (the amend's event and its ", " in
 * metrics.jsonl included); a position without an event file starts a fresh one; a run that
 * starts over without the option removes a stale event file, a resume without it leaves it;
 * an event file cut inside a record is refused, or with accept_loss kept to its whole records.
 * TensorBoard's own reader judges whole runs in tests/test_tensorboard.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/evaluate.h"
#include "attnrl/fsutil.h"
#include "attnrl/runlog.h"
#include "attnrl/tbevents.h"
#include "check.h"

static char dir[256], events[300], err[1024];

static long size_of(const char *name)
{
	char path[400];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* the whole records of the event file: their count, and 1 in *whole when they are all of it */
static int records(int *whole)
{
	char *data;
	size_t len, at = 0;
	int n = 0;
	*whole = 0;
	if (fs_read_file(events, &data, &len))
		return -1;
	size_t end = tbevents_valid_end((unsigned char *)data, len);
	while (at < end) {
		uint64_t k = 0;
		for (int i = 0; i < 8; i++)
			k |= (uint64_t)(unsigned char)data[at + i] << (8 * i);
		at += 16 + k;
		n++;
	}
	*whole = end == len;
	free(data);
	return n;
}

static void step_row(struct runlog *l, long step, int eval, const struct eval_subset *sub)
{
	struct step_metrics m = { .step = step, .loss = 0.5 / step, .skipped_updates = 1,
				  .has_eval = eval, .eval_accuracy = 0.25,
				  .eval_subsets = sub, .n_eval_subsets = sub ? 2 : 0 };
	CHECK(!runlog_step(l, &m, 0, err, sizeof(err)), "step %ld: %s", step, err);
	for (int i = 0; i < 2; i++)
		CHECK(!runlog_sample(l, step, "2+2=", "4\n<answer>4</answer>", 1.0, 1, NULL, NULL,
				     err, sizeof(err)), "sample: %s", err);
}

static void test_tensorboard(void)
{
	struct runlog l;
	struct runlog_pos at;
	struct eval_subset sub[2] = { { .group = "Algebra", .avg_at_k = 0.5 },
				      { .group = "Number Theory", .avg_at_k = 0.0 } };
	int whole;
	CHECK(!runlog_open(&l, dir, 4, 1, NULL, 0, err, sizeof(err)), "open: %s", err);
	CHECK(records(&whole) == 1 && whole, "a fresh file holds the version record");
	struct step_metrics e = { .step = 0, .eval_accuracy = 0.5, .eval_subsets = sub,
				  .n_eval_subsets = 2 };
	CHECK(!runlog_eval(&l, &e, 8, err, sizeof(err)), "eval: %s", err);
	step_row(&l, 1, 0, NULL);
	step_row(&l, 2, 1, sub);
	CHECK(!runlog_sync(&l, 2, &at, err, sizeof(err)), "sync: %s", err);
	CHECK(at.metrics == size_of("metrics.jsonl") && at.samples == size_of("samples.jsonl") &&
	      at.tensorboard == size_of(RUNLOG_EVENTS), "sync sizes %ld %ld %ld", at.metrics,
	      at.samples, at.tensorboard);
	CHECK(records(&whole) == 8 && whole, "version + eval + 2 x (row + 2 samples): %d",
	      records(&whole));
	step_row(&l, 3, 0, NULL);
	struct runlog_pos at3;
	CHECK(!runlog_sync(&l, 3, &at3, err, sizeof(err)), "sync: %s", err);
	runlog_close(&l);
	CHECK(records(&whole) == 11 && whole, "+ row and 2 samples: %d", records(&whole));

	/* a stop cut step 3's eval short: the resume adds it to the row, an event of its own */
	CHECK(!runlog_open(&l, dir, 4, 1, &at3, 0, err, sizeof(err)), "reopen: %s", err);
	CHECK(runlog_eval_missing(&l, 3), "step 3's row has no eval");
	struct step_metrics a = { .step = 3, .eval_accuracy = 0.75 };
	CHECK(!runlog_eval_amend(&l, &a, 8, err, sizeof(err)), "amend: %s", err);
	runlog_close(&l);
	CHECK(records(&whole) == 12 && whole, "+ the amend: %d", records(&whole));
	CHECK(!runlog_open(&l, dir, 4, 1, &at3, 0, err, sizeof(err)), "reopen: %s", err);
	CHECK(runlog_eval_missing(&l, 3) && size_of("metrics.jsonl") == at3.metrics &&
	      size_of(RUNLOG_EVENTS) == at3.tensorboard, "the amend cut off again");
	runlog_close(&l);

	CHECK(!runlog_open(&l, dir, 4, 1, &at, 0, err, sizeof(err)), "reopen: %s", err);
	CHECK(size_of(RUNLOG_EVENTS) == at.tensorboard && size_of("metrics.jsonl") == at.metrics &&
	      size_of("samples.jsonl") == at.samples, "cut back: %ld of %ld",
	      size_of(RUNLOG_EVENTS), at.tensorboard);
	step_row(&l, 3, 0, NULL);
	runlog_close(&l);
	CHECK(records(&whole) == 11 && whole, "resumed: %d records", records(&whole));

	/* an event file cut inside a record: refused, or with accept_loss cut to whole records */
	CHECK(!truncate(events, at.tensorboard - 3), "truncate");
	CHECK(runlog_open(&l, dir, 4, 1, &at, 0, err, sizeof(err)) < 0 &&
	      strstr(err, "events.out.tfevents.attnrl' has") && strstr(err, "resume_force"),
	      "a short event file: %s", err);
	CHECK(runlog_open(&l, dir, 4, 1, &at, 1, err, sizeof(err)) == RUNLOG_LOST &&
	      strstr(err, "bytes of whole records"), "forced: %s", err);
	runlog_close(&l);
	CHECK(records(&whole) == 7 && whole, "forced: %d whole records", records(&whole));

	at.tensorboard = -1; /* a checkpoint of a run without the option */
	CHECK(!runlog_open(&l, dir, 4, 1, &at, 0, err, sizeof(err)), "reopen, fresh: %s", err);
	runlog_close(&l);
	CHECK(records(&whole) == 1 && whole, "a checkpoint without an event file: a fresh one");
	CHECK(!runlog_open(&l, dir, 4, 0, &at, 0, err, sizeof(err)), "resume without: %s", err);
	runlog_close(&l);
	CHECK(size_of(RUNLOG_EVENTS) > 0, "a resume without the option removed the file");
	CHECK(!runlog_open(&l, dir, 4, 0, NULL, 0, err, sizeof(err)), "start over: %s", err);
	runlog_close(&l);
	CHECK(size_of(RUNLOG_EVENTS) < 0, "starting over without the option kept a stale file");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/attnrl-test-runlog-%d", (int)getpid());
	snprintf(events, sizeof(events), "%s/%s", dir, RUNLOG_EVENTS);
	mkdir(dir, 0777);
	test_tensorboard();
	fs_rm_tree(dir);
	return check_done("test_runlog");
}
