/*
 * test_ckpt.c - the checkpoint folder protocol without tensors (ckpt.h), under ASan in
 * `make asan`: only folders holding DONE count (a .tmp folder or a step_N without DONE is
 * never found, and the next ckpt_begin removes both); the newest is found by number, not by
 * name order (step_10 after step_9); pruning keeps the K newest; trainer_state.json reads back
 * what was written, and Python's json module reads it too (when /usr/bin/python3 is there);
 * checkpoints after a step are removed (a run that starts over); CRC-32C matches its standard
 * check values, every file's checksum is written and a flipped byte is found, naming the file,
 * while a checkpoint without checksums (format 1) still passes; edited trainer_state.json values
 * (negative step or cursor, a step that is not the folder's, an unknown format) are refused in
 * one line naming the field; the config check accepts the keys a resume may change and names the ones it may not.
 */
#include "attnrl/ckpt.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256], err[1024];

static void touch(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL, "cannot create %s", path);
	if (f)
		fclose(f);
}

static int exists(const char *rel)
{
	char path[600];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return !stat(path, &st);
}

/* a complete checkpoint of step written through the API */
static void save(long step, const struct config *c)
{
	char dir[600];
	struct ckpt_state s = { .step = step, .opt_step = 2 * step, .data_cursor = 4 * step,
				.world_size = 1, .config_hash = ckpt_config_hash(c),
				.log = { step, 3 * step, 5 * step, step == 13 ? 7 * step : -1 } };
	CHECK(!ckpt_begin(root, step, dir, sizeof(dir), err, sizeof(err)), "begin: %s", err);
	touch(dir, "model.safetensors");
	CHECK(!ckpt_write_state(dir, &s, c, err, sizeof(err)), "state: %s", err);
	CHECK(!ckpt_commit(root, step, err, sizeof(err)), "commit: %s", err);
}

static void test_folders(const struct config *c)
{
	char dir[600], path[700];
	CHECK(ckpt_latest(root, dir, sizeof(dir)) == 0, "an empty run has a checkpoint");
	save(9, c);
	save(10, c);
	CHECK(ckpt_latest(root, dir, sizeof(dir)) == 10, "newest is not step 10");
	snprintf(path, sizeof(path), "%s/ckpt/step_10", root);
	CHECK(!strcmp(dir, path), "latest folder %s", dir);
	/* unfinished: a tmp folder and a renamed folder without DONE, both newer */
	snprintf(path, sizeof(path), "%s/ckpt/.step_12.tmp", root);
	mkdir(path, 0777);
	touch(path, "model.safetensors");
	snprintf(path, sizeof(path), "%s/ckpt/step_11", root);
	mkdir(path, 0777);
	touch(path, "model.safetensors");
	CHECK(ckpt_latest(root, dir, sizeof(dir)) == 10, "an unfinished checkpoint was chosen");
	save(13, c);
	CHECK(!exists("ckpt/step_11") && !exists("ckpt/.step_12.tmp"), "unfinished folders left");
	CHECK(exists("ckpt/step_13/DONE") && !exists("ckpt/.step_13.tmp"), "step_13 not complete");
	ckpt_prune(root, 2);
	CHECK(!exists("ckpt/step_9") && exists("ckpt/step_10") && exists("ckpt/step_13"),
	      "prune to 2 kept the wrong ones");
	ckpt_prune(root, 0);
	CHECK(exists("ckpt/step_10"), "keep 0 removed a checkpoint");
	/* a failed write: the tmp folder goes, the others stay */
	CHECK(!ckpt_begin(root, 14, dir, sizeof(dir), err, sizeof(err)), "begin: %s", err);
	touch(dir, "model.safetensors");
	ckpt_discard(root, 14);
	CHECK(!exists("ckpt/.step_14.tmp") && ckpt_latest(root, dir, sizeof(dir)) == 13, "discard");
	/* starting over from step 10: step_13 is stale */
	CHECK(ckpt_remove_after(root, 10) == 1 && exists("ckpt/step_10") && !exists("ckpt/step_13"),
	      "remove after 10");
	save(13, c);
}

static void test_state(const struct config *c)
{
	char dir[600];
	struct ckpt_state s;
	snprintf(dir, sizeof(dir), "%s/ckpt/step_13", root);
	CHECK(!ckpt_read_state(dir, &s, err, sizeof(err)), "read: %s", err);
	CHECK(s.step == 13 && s.opt_step == 26 && s.data_cursor == 52 && s.world_size == 1,
	      "state read back: step %ld opt %ld cursor %lld", s.step, s.opt_step,
	      (long long)s.data_cursor);
	CHECK(s.config_hash == ckpt_config_hash(c), "hash read back");
	CHECK(s.log.metrics == 39 && s.log.samples == 65 && s.log.tensorboard == 91,
	      "log sizes read back: %ld %ld %ld", s.log.metrics, s.log.samples, s.log.tensorboard);
	snprintf(dir, sizeof(dir), "%s/ckpt/step_10", root);
	CHECK(!ckpt_read_state(dir, &s, err, sizeof(err)) && s.log.tensorboard == -1,
	      "no event file: tensorboard_bytes absent, read as -1: %ld (%s)", s.log.tensorboard, err);
	snprintf(dir, sizeof(dir), "%s/ckpt/step_13", root);
	char cmd[800];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c \"import json,sys; d=json.load(open('%s/"
		 "trainer_state.json')); sys.exit(d['step'] != 13 or d['data_cursor'] != 52)\"", dir);
	if (!access("/usr/bin/python3", X_OK))
		CHECK(system(cmd) == 0, "Python's json reads another trainer_state.json");
}

static void test_config_check(const struct config *c)
{
	static struct config d;
	char dir[600];
	struct ckpt_state s;
	snprintf(dir, sizeof(dir), "%s/ckpt/step_13", root);
	CHECK(!ckpt_read_state(dir, &s, err, sizeof(err)), "read: %s", err);
	d = *c;
	d.train.steps = 500, d.train.save_every = 7, d.train.time_limit = 60;
	d.log.tensorboard = 1;
	snprintf(d.run.dir, sizeof(d.run.dir), "elsewhere");
	CHECK(!ckpt_check_config(dir, &s, &d, 1, err, sizeof(err)), "keys a resume may change: %s", err);
	CHECK(ckpt_check_config(dir, &s, &d, 2, err, sizeof(err)) && strstr(err, "2"), "world size");
	d.optim.lr = 2e-4;
	d.train.threads = 3;
	CHECK(ckpt_check_config(dir, &s, &d, 1, err, sizeof(err)) &&
	      strstr(err, "optim.lr: 0.0001 -> 0.0002, train.threads: 1 -> 3"), "named keys: %s", err);
	d = *c;
	snprintf(d.optim.schedule, sizeof(d.optim.schedule), "cosine");
	struct config e = d;
	e.train.steps = 99;
	CHECK(ckpt_config_hash(&d) != ckpt_config_hash(&e), "train.steps ignored with a cosine schedule");
}

/* text of dir/name with the first from replaced by to */
static void edit(const char *dir, const char *name, const char *from, const char *to)
{
	static char text[1 << 16], out[1 << 16]; /* config.yaml is some 15 KB */
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	size_t k = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f)
		fclose(f);
	text[k] = 0;
	char *at = strstr(text, from);
	CHECK(at != NULL, "'%s' not in %s", from, path);
	if (!at)
		return;
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	f = fopen(path, "w");
	fputs(out, f);
	fclose(f);
}

static void test_checksums(const struct config *c)
{
	char dir[600], copy[1400];
	struct ckpt_state s;
	CHECK(ckpt_crc32c(0, "123456789", 9) == 0xe3069283u, "CRC-32C check value");
	unsigned char zeros[32] = { 0 }, ones[32];
	memset(ones, 0xff, sizeof(ones));
	CHECK(ckpt_crc32c(0, zeros, 32) == 0x8a9136aau && ckpt_crc32c(0, ones, 32) == 0x62a8ab43u,
	      "CRC-32C of RFC 3720 B.4 vectors");
	CHECK(ckpt_crc32c(ckpt_crc32c(0, "12345", 5), "6789", 4) == 0xe3069283u, "CRC-32C in parts");
	CHECK(!ckpt_begin(root, 20, dir, sizeof(dir), err, sizeof(err)), "begin: %s", err);
	FILE *f;
	snprintf(copy, sizeof(copy), "%s/model.safetensors", dir);
	f = fopen(copy, "w");
	fputs("0123456789abcdef0123456789", f);
	fclose(f);
	s = (struct ckpt_state){ .step = 20, .world_size = 1, .config_hash = ckpt_config_hash(c) };
	CHECK(!ckpt_write_state(dir, &s, c, err, sizeof(err)), "state: %s", err);
	CHECK(!ckpt_commit(root, 20, err, sizeof(err)), "commit: %s", err);
	snprintf(dir, sizeof(dir), "%s/ckpt/step_20", root);
	CHECK(!ckpt_verify(dir, NULL, err, sizeof(err)), "verify: %s", err);
	snprintf(copy, sizeof(copy), "cp -r '%s' '%s.orig'", dir, dir);
	CHECK(system(copy) == 0, "copy");
	edit(dir, "model.safetensors", "9abc", "9aXc");
	CHECK(ckpt_verify(dir, NULL, err, sizeof(err)) && strstr(err, "step_20/model.safetensors': "
	      "checksum mismatch") && strstr(err, "the file is damaged"), "flipped byte: %s", err);
	CHECK(ckpt_verify(dir, "config.yaml", err, sizeof(err)) == 0, "only config.yaml: %s", err);
	edit(dir, "config.yaml", "train:", "trainX");
	CHECK(ckpt_verify(dir, "config.yaml", err, sizeof(err)) && strstr(err, "config.yaml'"),
	      "config.yaml checked: %s", err);
	edit(dir, "trainer_state.json", "\"crc32c\"", "\"no_crc\"");
	edit(dir, "trainer_state.json", "\"format\": 2", "\"format\": 1");
	CHECK(!ckpt_verify(dir, NULL, err, sizeof(err)), "format 1, no checksums: %s", err);
	CHECK(!ckpt_read_state(dir, &s, err, sizeof(err)), "format 1 reads: %s", err);
	static const char *const edits[][3] = {
		{ "\"step\": 20", "\"step\": -3", "step is -3; it cannot be negative" },
		{ "\"step\": 20", "\"step\": 5", "step is 5 but the folder is step_20" },
		{ "\"data_cursor\": 0", "\"data_cursor\": -1", "data_cursor is -1; it cannot be negative" },
		{ "\"format\": 2", "\"format\": 99", "format 99 is not one this attnrl reads (1 to 2)" },
		{ "\"metrics_bytes\": 0", "\"metrics_bytes\": -5", "metrics_bytes is -5" },
		{ "\"tensorboard_bytes\": 0", "\"tensorboard_bytes\": -5",
		  "tensorboard_bytes is not a count of bytes" },
		{ "\"step\": 20", "\"step\": 20, \"step\": 20", "duplicate key \"step\"" },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		snprintf(copy, sizeof(copy), "cp '%s.orig/trainer_state.json' '%s/'", dir, dir);
		CHECK(system(copy) == 0, "copy back");
		edit(dir, "trainer_state.json", edits[i][0], edits[i][1]);
		CHECK(ckpt_read_state(dir, &s, err, sizeof(err)) && strstr(err, edits[i][2]) &&
		      strstr(err, "step_20/trainer_state.json") && !strchr(err, '\n'),
		      "edit %s: %s", edits[i][1], err);
	}
	snprintf(copy, sizeof(copy), "cp '%s.orig/trainer_state.json' '%s/'", dir, dir);
	CHECK(system(copy) == 0 && !ckpt_read_state(dir, &s, err, sizeof(err)), "restored: %s", err);
	CHECK(ckpt_latest_before(root, 20, dir, sizeof(dir)) == 13 && strstr(dir, "step_13"),
	      "latest before 20: %s", dir);
	CHECK(ckpt_latest_before(root, 10, dir, sizeof(dir)) == 0, "none before 10");
}

int main(void)
{
	static struct config c;
	char err2[256];
	config_init(&c);
	CHECK(!config_apply_override(&c, "optim.lr=1e-4", err2, sizeof(err2)), "%s", err2);
	CHECK(!config_apply_override(&c, "train.threads=1", err2, sizeof(err2)), "%s", err2);
	snprintf(root, sizeof(root), "/tmp/attnrl-test-ckpt-%d", (int)getpid());
	mkdir(root, 0777);
	test_folders(&c);
	test_state(&c);
	test_config_check(&c);
	test_checksums(&c);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0, "cleanup");
	return check_done("test_ckpt");
}
