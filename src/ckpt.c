/*
 * ckpt.c - checkpoint folders: the write protocol (.tmp folder, fsync, rename, DONE), the
 * search for the newest complete one, pruning, trainer_state.json with the CRC-32C of every
 * other file, its checks on resume, and the config check of a resume (see ckpt.h). Checkpoint
 * folders hold plain files only. This module never calls libtorch.
 */
#include "attnrl/ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/testhook.h"

#ifndef ATTNRL_COMMIT
#define ATTNRL_COMMIT "unknown"
#endif

#define CKPT_PATH_MAX 4096
#define CKPT_FORMAT 2 /* 2 added "crc32c"; format 1 (no checksums) still loads, unchecked */

/* ---- CRC-32C --------------------------------------------------------------------------- */

static uint32_t crc_tab[8][256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_tab[0][i] = c;
	}
	for (int t = 1; t < 8; t++)
		for (int i = 0; i < 256; i++)
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

/* slicing-by-8: eight table lookups per 8 bytes, no unaligned loads */
uint32_t ckpt_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	if (!crc_tab[0][1])
		crc_init();
	crc = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		      crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^ crc_tab[3][p[4]] ^
		      crc_tab[2][p[5]] ^ crc_tab[1][p[6]] ^ crc_tab[0][p[7]];
	}
	while (len--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* the CRC-32C of a whole file; -1 with errno when it cannot be read */
static int crc_file(const char *path, uint32_t *crc)
{
	static unsigned char buf[1 << 20];
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t k;
	*crc = 0;
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
		*crc = ckpt_crc32c(*crc, buf, k);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		errno = EIO;
	return bad ? -1 : 0;
}

/* ---- the config hash ------------------------------------------------------------------- */

/* c with the keys a resume may change set to their defaults */
static void config_normalize(struct config *c)
{
	struct config d;
	config_init(&d);
	memcpy(c->run.name, d.run.name, sizeof(d.run.name));
	memcpy(c->run.dir, d.run.dir, sizeof(d.run.dir));
	memcpy(c->run.resume, d.run.resume, sizeof(d.run.resume));
	c->run.resume_force = d.run.resume_force;
	if (strcmp(c->optim.schedule, "cosine"))
		c->train.steps = d.train.steps;
	c->train.log_every = d.train.log_every;
	c->train.eval_every = d.train.eval_every;
	c->train.eval_before = d.train.eval_before;
	c->train.samples_per_step = d.train.samples_per_step;
	c->train.save_every = d.train.save_every;
	c->train.keep_last = d.train.keep_last;
	c->train.time_limit = d.train.time_limit;
	c->train.max_bad_steps = d.train.max_bad_steps;
	c->train.memory_check = d.train.memory_check;
	memcpy(c->train.device, d.train.device, sizeof(d.train.device)); /* CPU <-> GPU resumes */
	memcpy(c->dist.rendezvous, d.dist.rendezvous, sizeof(d.dist.rendezvous));
	c->dist.timeout = d.dist.timeout;
	c->eval = d.eval; /* eval settings do not touch training */
	c->log = d.log;
}

uint64_t ckpt_config_hash(const struct config *c)
{
	static struct config tmp;
	tmp = *c;
	config_normalize(&tmp);
	return config_hash(&tmp);
}

/* ---- files and folders ----------------------------------------------------------------- */

/* text into dir/name, fsynced; 0 or -1 with errno */
static int write_synced(const char *dir, const char *name, const char *text, size_t len)
{
	char path[CKPT_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(text, 1, len, f) == len && !fflush(f) && !fsync(fileno(f));
	int e = errno;
	if (fclose(f) && ok)
		return -1;
	errno = e;
	return ok ? 0 : -1;
}

int ckpt_complete(const char *dir)
{
	char path[CKPT_PATH_MAX + 400];
	struct stat st;
	snprintf(path, sizeof(path), "%s/DONE", dir);
	return !stat(path, &st);
}

/* the N of "step_N" (tmp 0) or ".step_N.tmp" (tmp 1); -1 for other names */
static long step_of(const char *name, int tmp)
{
	const char *p = name + (tmp ? 6 : 5);
	char *end;
	if (strncmp(name, tmp ? ".step_" : "step_", tmp ? 6 : 5) || *p < '0' || *p > '9')
		return -1;
	long v = strtol(p, &end, 10);
	return !strcmp(end, tmp ? ".tmp" : "") ? v : -1;
}

/* the steps of the complete checkpoints, newest first (caller frees); count in *n; unfinished
 * folders are removed when clean is set */
static long *scan(const char *run_dir, int clean, int *n)
{
	char ck[CKPT_PATH_MAX], path[CKPT_PATH_MAX + 300];
	long *steps = NULL;
	int cap = 0;
	*n = 0;
	snprintf(ck, sizeof(ck), "%s/ckpt", run_dir);
	DIR *d = opendir(ck);
	for (struct dirent *e; d && (e = readdir(d));) {
		long s = step_of(e->d_name, 0), t = step_of(e->d_name, 1);
		snprintf(path, sizeof(path), "%s/%s", ck, e->d_name);
		if (s >= 0 && ckpt_complete(path)) {
			if (*n == cap && !(steps = realloc(steps, (cap = 2 * cap + 8) * sizeof(long))))
				break;
			steps[(*n)++] = s;
		} else if (clean && (s >= 0 || t >= 0)) {
			fs_rm_tree(path);
		}
	}
	if (d)
		closedir(d);
	for (int i = 1; i < *n; i++) /* insertion sort, newest first */
		for (int j = i; j > 0 && steps[j] > steps[j - 1]; j--) {
			long x = steps[j];
			steps[j] = steps[j - 1];
			steps[j - 1] = x;
		}
	return steps;
}

long ckpt_latest(const char *run_dir, char *dir, size_t dir_n)
{
	return ckpt_latest_before(run_dir, LONG_MAX, dir, dir_n);
}

long ckpt_latest_before(const char *run_dir, long before, char *dir, size_t dir_n)
{
	int n, i = 0;
	long *steps = scan(run_dir, 0, &n);
	while (i < n && steps[i] >= before)
		i++;
	long step = i < n ? steps[i] : 0;
	free(steps);
	if (step)
		snprintf(dir, dir_n, "%s/ckpt/step_%ld", run_dir, step);
	return step;
}

void ckpt_tmp_dir(const char *run_dir, long step, char *dir, size_t dir_n)
{
	snprintf(dir, dir_n, "%s/ckpt/.step_%ld.tmp", run_dir, step);
}

void ckpt_discard(const char *run_dir, long step)
{
	char path[CKPT_PATH_MAX];
	ckpt_tmp_dir(run_dir, step, path, sizeof(path));
	fs_rm_tree(path);
}

/* a complete checkpoint stops being one first (DONE removed and the folder synced), so a kill
 * part-way through the removal never leaves a folder that looks complete with files missing */
static void remove_complete(const char *dir)
{
	char done[CKPT_PATH_MAX + 8];
	snprintf(done, sizeof(done), "%s/DONE", dir);
	if (unlink(done) == 0)
		fs_sync(dir);
	fs_rm_tree(dir);
}

void ckpt_prune(const char *run_dir, long keep)
{
	char path[CKPT_PATH_MAX];
	int n;
	long *steps = scan(run_dir, 0, &n);
	for (int i = (int)keep; keep > 0 && i < n; i++) {
		snprintf(path, sizeof(path), "%s/ckpt/step_%ld", run_dir, steps[i]);
		remove_complete(path);
	}
	free(steps);
}

int ckpt_remove_after(const char *run_dir, long step)
{
	char path[CKPT_PATH_MAX];
	int n, removed = 0;
	long *steps = scan(run_dir, 0, &n);
	for (int i = 0; i < n && steps[i] > step; i++, removed++) {
		snprintf(path, sizeof(path), "%s/ckpt/step_%ld", run_dir, steps[i]);
		remove_complete(path);
	}
	free(steps);
	return removed;
}

/* ---- writing --------------------------------------------------------------------------- */

int ckpt_begin(const char *run_dir, long step, char *dir, size_t dir_n, char *err, size_t n)
{
	char ck[CKPT_PATH_MAX];
	int cnt;
	snprintf(ck, sizeof(ck), "%s/ckpt", run_dir);
	if (mkdir(ck, 0777) && errno != EEXIST) {
		snprintf(err, n, "cannot create '%s': %s", ck, strerror(errno));
		return -1;
	}
	free(scan(run_dir, 1, &cnt));
	ckpt_tmp_dir(run_dir, step, dir, dir_n);
	if (mkdir(dir, 0777)) {
		snprintf(err, n, "cannot create '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* {"name": "8 hex digits", ...}: the CRC-32C of the files of dir (names sorted) and of
 * config.yaml (from its text) */
static int write_crcs(FILE *f, const char *dir, const char *config, size_t config_len)
{
	char path[CKPT_PATH_MAX + 300], **names = NULL;
	int k = 0, cap = 0, rc = 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	for (struct dirent *e; !rc && (e = readdir(d));) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "trainer_state.json") ||
		    !strcmp(e->d_name, "config.yaml") || !strcmp(e->d_name, "DONE"))
			continue;
		char **more = k < cap ? names : realloc(names, (cap = 2 * cap + 8) * sizeof(*names));
		if (!more || !(more[k] = strdup(e->d_name)))
			rc = -1;
		if (more)
			names = more;
		k += !rc;
	}
	closedir(d);
	if (k)
		qsort(names, (size_t)k, sizeof(*names), name_cmp);
	fprintf(f, "{\"config.yaml\": \"%08" PRIx32 "\"",
		ckpt_crc32c(0, config, config_len));
	for (int i = 0; i < k && !rc; i++) {
		uint32_t crc;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = crc_file(path, &crc);
		fprintf(f, ", ");
		json_write_string(f, names[i]);
		fprintf(f, ": \"%08" PRIx32 "\"", crc);
	}
	fprintf(f, "}");
	for (int i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return rc;
}

static char *state_json(const struct ckpt_state *s, const char *dir, const char *config,
			size_t config_len, size_t *len)
{
	char *text = NULL, hash[24];
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	struct json_out o;
	snprintf(hash, sizeof(hash), "%016" PRIx64, s->config_hash);
	json_obj_begin(&o, f);
	json_kv_int(&o, "format", CKPT_FORMAT);
	json_kv_int(&o, "step", s->step);
	json_kv_int(&o, "opt_step", s->opt_step);
	json_kv_int(&o, "skipped_updates", s->skipped);
	json_kv_int(&o, "bad_steps_in_a_row", s->bad_run);
	json_kv_int(&o, "data_cursor", s->data_cursor);
	json_kv_int(&o, "run_seed", s->run_seed);
	json_kv_int(&o, "data_seed", s->data_seed);
	json_kv_int(&o, "world_size", s->world_size);
	json_kv_str(&o, "config_hash", hash);
	json_kv_int(&o, "metrics_bytes", s->log.metrics);
	json_kv_int(&o, "samples_bytes", s->log.samples);
	if (s->log.tensorboard >= 0) /* none without log.tensorboard */
		json_kv_int(&o, "tensorboard_bytes", s->log.tensorboard);
	json_kv_str(&o, "attnrl_commit", ATTNRL_COMMIT);
	json_kv_key(&o, "crc32c");
	int bad = write_crcs(f, dir, config, config_len);
	json_obj_end(&o);
	if (fclose(f) || bad) {
		free(text);
		return NULL;
	}
	return text;
}

static char *config_text(const struct config *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	int bad = config_write_yaml(c, f);
	if (fclose(f) || bad) {
		free(text);
		return NULL;
	}
	return text;
}

int ckpt_write_state(const char *dir, const struct ckpt_state *s, const struct config *c,
		     char *err, size_t n)
{
	size_t ls = 0, lc = 0;
	char *ct = config_text(c, &lc), *st = ct ? state_json(s, dir, ct, lc, &ls) : NULL;
	const char *name = "trainer_state.json";
	errno = ENOMEM;
	int rc = !st || !ct || write_synced(dir, name, st, ls) ||
		 write_synced(dir, (name = "config.yaml"), ct, lc);
	if (rc)
		snprintf(err, n, "cannot write '%s/%s': %s", dir, name, strerror(errno));
	free(st);
	free(ct);
	return rc ? -1 : 0;
}

int ckpt_commit(const char *run_dir, long step, char *err, size_t n)
{
	char ck[CKPT_PATH_MAX], tmp[CKPT_PATH_MAX + 32], dst[CKPT_PATH_MAX + 32];
	snprintf(ck, sizeof(ck), "%s/ckpt", run_dir);
	snprintf(tmp, sizeof(tmp), "%s/.step_%ld.tmp", ck, step);
	snprintf(dst, sizeof(dst), "%s/step_%ld", ck, step);
	const char *what = tmp;
	if (fs_sync(tmp) || rename(tmp, dst) || (what = ck, fs_sync(ck)))
		goto fail;
	testhook_point("ckpt_rename", step);
	what = dst;
	if (write_synced(dst, "DONE", "", 0) || fs_sync(dst))
		goto fail;
	return 0;
fail:
	snprintf(err, n, "cannot commit the checkpoint '%s': %s", what, strerror(errno));
	return -1;
}

/* ---- reading --------------------------------------------------------------------------- */

static int get_long(const struct json *j, const char *key, long *v)
{
	int64_t x;
	if (json_int(json_get(j, key), &x))
		return -1;
	*v = (long)x;
	return 0;
}

/* the N of a folder named step_N (trailing slashes allowed); -1 for other names */
static long folder_step(const char *dir)
{
	char name[CKPT_PATH_MAX];
	snprintf(name, sizeof(name), "%s", dir);
	for (size_t k = strlen(name); k > 1 && name[k - 1] == '/'; k--)
		name[k - 1] = 0;
	const char *b = strrchr(name, '/');
	return step_of(b ? b + 1 : name, 0);
}

/* one line when the values of s cannot be those of a checkpoint in dir */
static int check_state(const char *path, const char *dir, long format,
		       const struct ckpt_state *s, char *err, size_t n)
{
	const char *keys[] = { "step", "opt_step", "skipped_updates", "bad_steps_in_a_row",
			       "metrics_bytes", "samples_bytes" };
	long vals[] = { s->step, s->opt_step, s->skipped, s->bad_run, s->log.metrics,
			s->log.samples };
	long folder = folder_step(dir);
	if (format < 1 || format > CKPT_FORMAT) {
		snprintf(err, n, "'%s': format %ld is not one this attnrl reads (1 to %d)", path,
			 format, CKPT_FORMAT);
		return -1;
	}
	for (int i = 0; i < 6; i++)
		if (vals[i] < 0) {
			snprintf(err, n, "'%s': %s is %ld; it cannot be negative", path, keys[i],
				 vals[i]);
			return -1;
		}
	if (s->data_cursor < 0) {
		snprintf(err, n, "'%s': data_cursor is %" PRId64 "; it cannot be negative", path,
			 s->data_cursor);
		return -1;
	}
	if (s->world_size < 1) {
		snprintf(err, n, "'%s': world_size is %ld; it must be at least 1", path,
			 s->world_size);
		return -1;
	}
	if (folder >= 0 && folder != s->step) {
		snprintf(err, n, "'%s': step is %ld but the folder is step_%ld", path, s->step,
			 folder);
		return -1;
	}
	return 0;
}

/* "tensorboard_bytes": the event file's size, absent (-1) when the run kept none (or was
 * saved before attnrl wrote event files) */
static int read_tensorboard_bytes(const struct json *j, const char *path, struct ckpt_state *s,
				  char *err, size_t n)
{
	s->log.tensorboard = -1;
	if (!json_get(j, "tensorboard_bytes"))
		return 0;
	if (get_long(j, "tensorboard_bytes", &s->log.tensorboard) || s->log.tensorboard < 0) {
		snprintf(err, n, "'%s': tensorboard_bytes is not a count of bytes", path);
		return -1;
	}
	return 0;
}

int ckpt_read_state(const char *dir, struct ckpt_state *s, char *err, size_t n)
{
	char path[CKPT_PATH_MAX];
	long format = 0;
	snprintf(path, sizeof(path), "%s/trainer_state.json", dir);
	struct json *j = json_load(path, err, n);
	if (!j)
		return -1;
	memset(s, 0, sizeof(*s));
	const char *keys[] = { "format", "step", "opt_step", "skipped_updates",
			       "bad_steps_in_a_row", "run_seed", "data_seed", "world_size",
			       "metrics_bytes", "samples_bytes" };
	long *vals[] = { &format, &s->step, &s->opt_step, &s->skipped, &s->bad_run, &s->run_seed,
			 &s->data_seed, &s->world_size, &s->log.metrics, &s->log.samples };
	const char *hash = json_str(json_get(j, "config_hash"));
	int rc = 0;
	for (int i = 0; i < 10 && !rc; i++)
		if (get_long(j, keys[i], vals[i])) {
			snprintf(err, n, "'%s': no integer '%s'", path, keys[i]);
			rc = -1;
		}
	if (!rc)
		rc = read_tensorboard_bytes(j, path, s, err, n);
	if (!rc && json_int(json_get(j, "data_cursor"), &s->data_cursor)) {
		snprintf(err, n, "'%s': no integer 'data_cursor'", path);
		rc = -1;
	}
	if (!rc && (!hash || sscanf(hash, "%" SCNx64, &s->config_hash) != 1)) {
		snprintf(err, n, "'%s': no 'config_hash'", path);
		rc = -1;
	}
	if (!rc)
		rc = check_state(path, dir, format, s, err, n);
	s->log.step = s->step;
	json_free(j);
	return rc;
}

int ckpt_verify(const char *dir, const char *only, char *err, size_t n)
{
	char path[CKPT_PATH_MAX + 300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/trainer_state.json", dir);
	if (stat(path, &st) && errno == ENOENT)
		return 0;
	struct json *j = json_load(path, err, n);
	if (!j)
		return -1;
	const struct json *crcs = json_get(j, "crc32c");
	int rc = 0;
	if (crcs && json_type(crcs) != JSON_OBJECT) {
		snprintf(err, n, "'%s': crc32c is not an object", path);
		rc = -1;
	}
	for (size_t i = 0; i < json_len(crcs) && !rc; i++) {
		const char *name = json_key_at(crcs, i), *want = json_str(json_at(crcs, i));
		uint32_t crc, w;
		if (only && strcmp(name, only))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (strchr(name, '/') || !want || sscanf(want, "%" SCNx32, &w) != 1) {
			snprintf(err, n, "'%s/trainer_state.json': bad crc32c entry for '%s'", dir, name);
			rc = -1;
		} else if (crc_file(path, &crc)) {
			snprintf(err, n, "'%s': cannot read: %s", path, strerror(errno));
			rc = -1;
		} else if (crc != w) {
			snprintf(err, n, "'%s': checksum mismatch (CRC-32C %08" PRIx32 ", trainer_state"
				 ".json says %08" PRIx32 "): the file is damaged", path, crc, w);
			rc = -1;
		}
	}
	json_free(j);
	return rc;
}

/* "a.b: x -> y, ..." for the lines that differ between the YAML of two configs */
static void config_diff(const struct config *a, const struct config *b, char *out, size_t n)
{
	size_t la, lb, k = 0;
	char *ta = config_text(a, &la), *tb = config_text(b, &lb), *sa, *sb, sec[64] = "";
	out[0] = 0;
	char *x = ta ? strtok_r(ta, "\n", &sa) : NULL, *y = tb ? strtok_r(tb, "\n", &sb) : NULL;
	for (; x && y && k + 1 < n; x = strtok_r(NULL, "\n", &sa), y = strtok_r(NULL, "\n", &sb)) {
		if (x[0] != ' ' && x[0] != '#')
			snprintf(sec, sizeof(sec), "%.*s", (int)strcspn(x, ":"), x);
		if (!strcmp(x, y) || x[0] != ' ')
			continue;
		char *cx = strstr(x, " #"), *cy = strstr(y, " #");
		for (; cx && cx > x && cx[-1] == ' '; cx--)
			;
		for (; cy && cy > y && cy[-1] == ' '; cy--)
			;
		if (cx)
			*cx = 0;
		if (cy)
			*cy = 0;
		char *key = x + strspn(x, " "), *colon = strchr(key, ':');
		char *vy = strchr(y, ':');
		if (!colon || !vy)
			continue;
		k += snprintf(out + k, n - k, "%s%s.%.*s:%s ->%s", k ? ", " : "", sec,
			      (int)(colon - key), key, colon + 1, vy + 1);
	}
	free(ta);
	free(tb);
}

int ckpt_check_config(const char *dir, const struct ckpt_state *s, const struct config *c,
		      long world_size, char *err, size_t n)
{
	static struct config old, now;
	char path[CKPT_PATH_MAX], diff[512], why[256];
	if (s->world_size != world_size) {
		snprintf(err, n, "checkpoint '%s' was written by %ld processes, this run has %ld", dir,
			 s->world_size, world_size);
		return -1;
	}
	if (s->config_hash == ckpt_config_hash(c))
		return 0;
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	config_init(&old);
	now = *c;
	diff[0] = 0;
	if (config_load_file(&old, path, why, sizeof(why)))
		snprintf(diff, sizeof(diff), "(its config.yaml does not load: %s)", why);
	config_normalize(&old);
	config_normalize(&now);
	if (!diff[0])
		config_diff(&old, &now, diff, sizeof(diff));
	snprintf(err, n, "checkpoint '%s' was written with another config: %s", dir,
		 diff[0] ? diff : "(the hash differs)");
	return -1;
}
