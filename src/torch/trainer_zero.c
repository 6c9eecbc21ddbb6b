/*
 * trainer_zero.c - the trainer's optimizer state, plain or sharded (ZeRO-1), and its files.
 *
 * Plain: AdamW moments per parameter on every rank (adam_m, adam_v), the gradients summed by
 * one all-reduce of the flat buffer. Sharded (dist.shard_optimizer, world > 1): the parameters
 * seen as one flat buffer of n_elements, split by dist_slice; rank r keeps only the moments of
 * its slice. A step: the gradients are reduce-scattered into the flat buffer (rank r holds the
 * summed slice r), the global norm is the sum of every slice's squares, AdamW updates the
 * slice's weights in place (the formula of tensor_adamw_step, on views of the parameters), and
 * an all-gather of the flat buffer brings every rank the others' updated weights. The moments use 2/world of the plain memory.
 *
 * Files: plain runs write optimizer.safetensors ("<param>.exp_avg", "<param>.exp_avg_sq");
 * sharded runs one optimizer-rank<R>-of-<W>.safetensors per rank ("exp_avg", "exp_avg_sq",
 * 1-D, with "offset" and "numel" in the metadata); opt_step and skipped in every file's
 * metadata (the trainer state is what a resume reads). Loading reads any range of the flat moments
 * from either layout, so a run can switch dist.shard_optimizer on or off when it resumes.
 */
#include "attnrl/trainer.h"
#include "trainer_internal.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attnrl/safetensors.h"

static const char *const MOMENT_SUFFIX[2] = { ".exp_avg", ".exp_avg_sq" };
static const char *const SHARD_NAME[2] = { "exp_avg", "exp_avg_sq" };

/* ---- state ------------------------------------------------------------------------------ */

static tensor *zeros_like_param(const tensor *p)
{
	int nd = tensor_ndim(p);
	int64_t shape[8];
	for (int d = 0; d < nd; d++)
		shape[d] = tensor_size(p, d);
	return tensor_keep(tensor_zeros(shape, nd, TENSOR_F32, tensor_device(p)));
}

static tensor *flat_zeros(int64_t k, int device)
{
	return tensor_keep(tensor_zeros(&k, 1, TENSOR_F32, device));
}

/* rank 0 writes a fresh token into the run folder; every rank must read it back */
static int check_shared_dir(struct trainer *t, char *err, size_t n)
{
	char path[1200], tok[64] = { 0 }, seen[64] = { 0 };
	snprintf(path, sizeof(path), "%s/.shared-fs-check", t->run_dir);
	int bad = 0;
	if (!t->rank) {
		snprintf(tok, sizeof(tok), "%ld.%ld", (long)getpid(), (long)time(NULL));
		FILE *f = fopen(path, "w");
		bad = !f || fputs(tok, f) < 0;
		if (f && (fflush(f) || fsync(fileno(f))))
			bad = 1;
		if (f && fclose(f))
			bad = 1;
	}
	if (dist_broadcast(&t->dist, tok, sizeof(tok), 0, err, n))
		return -1;
	if (t->rank && !bad) {
		FILE *f = fopen(path, "r");
		bad = !f || !fgets(seen, sizeof(seen), f) || strcmp(seen, tok);
		if (f)
			fclose(f);
	}
	double any = bad;
	if (trainer_sum(t, &any, 1, err, n))
		return -1;
	if (any > 0) {
		snprintf(err, n, "dist.shard_optimizer: %s '%s' that rank 0 wrote; every rank writes "
			 "its optimizer shard into the run folder, so run.dir must be on a filesystem "
			 "all ranks share", bad ? "this rank cannot read" : "some rank cannot read",
			 path);
		return -1;
	}
	if (!t->rank)
		unlink(path);
	return 0;
}

int trainer_optimizer_init(struct trainer *t, char *err, size_t n)
{
	struct model *m = t->tm;
	int dev = tensor_device(m->params[0]);
	t->sharded = t->world > 1 && t->cfg.dist.shard_optimizer;
	if (t->world > 1 && !(t->flat = flat_zeros(m->n_elements, dev)))
		goto oom;
	if (t->sharded) {
		size_t off, len;
		dist_slice((size_t)m->n_elements, t->world, t->rank, &off, &len);
		t->zoff = (int64_t)off;
		t->zlen = (int64_t)len;
		if (!(t->zm = flat_zeros(t->zlen, dev)) || !(t->zv = flat_zeros(t->zlen, dev)))
			goto oom;
		if (check_shared_dir(t, err, n))
			return -1;
	} else {
		t->adam_m = calloc(m->n_params, sizeof(tensor *));
		t->adam_v = calloc(m->n_params, sizeof(tensor *));
		if (!t->adam_m || !t->adam_v)
			goto oom;
		for (int i = 0; i < m->n_params; i++)
			if (!(t->adam_m[i] = zeros_like_param(m->params[i])) ||
			    !(t->adam_v[i] = zeros_like_param(m->params[i])))
				goto oom;
	}
	if (!model_set_requires_grad(m, 1))
		return 0;
oom:
	snprintf(err, n, "trainer: cannot allocate the optimizer state: %s", tensor_last_error());
	return -1;
}

void trainer_optimizer_free(struct trainer *t)
{
	for (int i = 0; t->adam_m && i < t->tm->n_params; i++) {
		tensor_free(t->adam_m[i]);
		tensor_free(t->adam_v[i]);
	}
	free(t->adam_m);
	free(t->adam_v);
	tensor *ts[] = { t->flat, t->zm, t->zv };
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		tensor_free(ts[i]);
}

/* ---- the step --------------------------------------------------------------------------- */

static tensor *own_grads(struct trainer *t)
{
	return tensor_narrow(t->flat, 0, t->zoff, t->zlen);
}

int trainer_clip(struct trainer *t, double *norm, char *err, size_t n)
{
	struct model *m = t->tm;
	double max = t->cfg.optim.grad_clip;
	if (!t->sharded) {
		if (!tensor_clip_grad_norm(m->params, m->n_params, max, norm))
			return 0;
		snprintf(err, n, "update: %s", tensor_last_error());
		return -1;
	}
	tensor *g = own_grads(t);
	double sq;
	if (tensor_sumsq(g, &sq)) {
		snprintf(err, n, "update: %s", tensor_last_error());
		return -1;
	}
	if (trainer_sum(t, &sq, 1, err, n))
		return -1;
	*norm = sqrt(sq);
	double coef = max / (*norm + 1e-6); /* torch.nn.utils.clip_grad_norm_ */
	if (max <= 0 || coef >= 1 || !isfinite(*norm))
		return 0;
	if (tensor_scale_(g, coef)) {
		snprintf(err, n, "update: %s", tensor_last_error());
		return -1;
	}
	return 0;
}

int trainer_adamw(struct trainer *t, const struct tensor_adamw *hp, char *err, size_t n)
{
	struct model *m = t->tm;
	if (!t->sharded) {
		if (!tensor_adamw_step(m->params, t->adam_m, t->adam_v, m->n_params, hp))
			return 0;
		snprintf(err, n, "update: %s", tensor_last_error());
		return -1;
	}
	tensor *own = own_grads(t);
	if (tensor_adamw_flat(m->params, m->n_params, t->zoff, t->zm, t->zv, own, hp) ||
	    tensor_flat_copy(m->params, m->n_params, 0, own, t->zoff, 1)) {
		snprintf(err, n, "update: %s", tensor_last_error());
		return -1;
	}
	if (dist_allgather_f32(&t->dist, tensor_data(t->flat), (size_t)m->n_elements, err, n))
		return -1;
	if (tensor_flat_copy(m->params, m->n_params, 0, t->flat, 0, 0)) {
		snprintf(err, n, "update: %s", tensor_last_error());
		return -1;
	}
	return 0;
}

/* ---- files ------------------------------------------------------------------------------ */

static tensor *moment(const struct trainer *t, int i, int k)
{
	return k ? t->adam_v[i] : t->adam_m[i];
}

/* host memory of x for a file: x's own on the CPU, else a host copy in the current frame */
static void *host_data(tensor *x)
{
	if (tensor_device(x) != TENSOR_CPU)
		x = tensor_to(x, TENSOR_F32, TENSOR_CPU);
	return tensor_data(x);
}

static int save_plain(const struct trainer *t, const char *dir, char *err, size_t n)
{
	const struct model *m = t->tm;
	int np = m->n_params, rc = -1;
	struct st_entry *e = calloc(2 * np, sizeof(*e));
	int64_t(*shapes)[8] = calloc(np, sizeof(*shapes));
	char (*names)[300] = calloc(2 * np, sizeof(*names));
	char path[1400];
	tensor_frame_push();
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
							  host_data(moment(t, i, k)) };
		}
	}
	char step[32], skipped[32];
	snprintf(step, sizeof(step), "%ld", t->opt_step);
	snprintf(skipped, sizeof(skipped), "%ld", t->skipped);
	const char *meta[] = { "format", "pt", "opt_step", step, "skipped", skipped };
	snprintf(path, sizeof(path), "%s/optimizer.safetensors", dir);
	rc = st_write(path, e, 2 * np, meta, 3, err, n);
out:
	tensor_frame_pop();
	free(e);
	free(shapes);
	free(names);
	return rc;
}

static void shard_path(char *path, size_t pn, const char *dir, int rank, int world)
{
	snprintf(path, pn, "%s/optimizer-rank%05d-of-%05d.safetensors", dir, rank, world);
}

int trainer_save_moments(const struct trainer *t, const char *dir, char *err, size_t n)
{
	if (!t->sharded)
		return t->rank ? 0 : save_plain(t, dir, err, n);
	char path[1400], off[32], total[32], step[32], skipped[32];
	int64_t shape[1] = { t->zlen };
	struct st_entry e[2];
	tensor_frame_push();
	for (int k = 0; k < 2; k++)
		e[k] = (struct st_entry){ SHARD_NAME[k], ST_F32, 1, shape,
					  host_data(k ? t->zv : t->zm) };
	snprintf(off, sizeof(off), "%" PRId64, t->zoff);
	snprintf(total, sizeof(total), "%" PRId64, t->tm->n_elements);
	snprintf(step, sizeof(step), "%ld", t->opt_step);
	snprintf(skipped, sizeof(skipped), "%ld", t->skipped);
	const char *meta[] = { "format", "pt", "offset", off, "numel", total, "opt_step", step,
			       "skipped", skipped };
	shard_path(path, sizeof(path), dir, t->rank, t->world);
	int rc = st_write(path, e, 2, meta, 5, err, n);
	tensor_frame_pop();
	return rc;
}

/* the files of one checkpoint's moments: optimizer.safetensors, or every rank's shard */
struct moments {
	struct st_file *f;
	int64_t *off, *len; /* each shard's flat range */
	int nf, sharded;
	char dir[1200];
};

static void moments_close(struct moments *s)
{
	for (int i = 0; i < s->nf; i++)
		st_close(&s->f[i]);
	free(s->f);
	free(s->off);
	free(s->len);
}

/* W of the first "optimizer-rank00000-of-<W>.safetensors" in dir; 0 when none */
static int shard_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int w = 0;
	while (d && (de = readdir(d)) && !w) {
		char tail[32];
		if (sscanf(de->d_name, "optimizer-rank00000-of-%d%31s", &w, tail) != 2 ||
		    strcmp(tail, ".safetensors"))
			w = 0;
	}
	if (d)
		closedir(d);
	return w > 0 && w < 1000000 ? w : 0;
}

static int64_t meta_i64(const struct st_file *f, const char *key)
{
	const char *v = st_meta(f, key);
	char *end;
	long long x = v ? strtoll(v, &end, 10) : -1;
	return v && *v && !*end ? (int64_t)x : -1;
}

/* opens the shards and checks they tile [0, numel) in rank order */
static int open_shards(struct moments *s, int w, int64_t numel, char *err, size_t n)
{
	char path[1400];
	s->f = calloc(w, sizeof(*s->f));
	s->off = calloc(w, sizeof(int64_t));
	s->len = calloc(w, sizeof(int64_t));
	if (!s->f || !s->off || !s->len) {
		snprintf(err, n, "checkpoint: out of memory");
		return -1;
	}
	int64_t at = 0;
	for (int r = 0; r < w; r++) {
		shard_path(path, sizeof(path), s->dir, r, w);
		if (st_open(&s->f[r], path, err, n))
			return -1;
		s->nf++;
		const struct st_tensor *a = st_find(&s->f[r], SHARD_NAME[0]);
		const struct st_tensor *b = st_find(&s->f[r], SHARD_NAME[1]);
		s->off[r] = meta_i64(&s->f[r], "offset");
		s->len[r] = a ? (int64_t)(a->nbytes / 4) : -1;
		if (!a || !b || a->dtype != ST_F32 || b->dtype != ST_F32 || a->nbytes != b->nbytes ||
		    s->off[r] != at || meta_i64(&s->f[r], "numel") != numel) {
			snprintf(err, n, "%s: not shard %d of %d of this model's optimizer state (F32 "
				 "exp_avg and exp_avg_sq from offset %" PRId64 " of %" PRId64 " needed)",
				 path, r, w, at, numel);
			return -1;
		}
		at += s->len[r];
	}
	if (at != numel) {
		snprintf(err, n, "%s: the %d optimizer shards hold %" PRId64 " values, the model has %"
			 PRId64, s->dir, w, at, numel);
		return -1;
	}
	return 0;
}

static int moments_open(struct moments *s, const char *dir, const struct model *m, char *err,
			size_t n)
{
	char path[1400];
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/optimizer.safetensors", dir);
	int shards = access(path, F_OK) ? shard_count(dir) : 0;
	if (!shards) {
		if (!(s->f = calloc(1, sizeof(*s->f))) || st_open(&s->f[0], path, err, n))
			return -1;
		s->nf = 1;
		return 0;
	}
	s->sharded = 1;
	return open_shards(s, shards, m->n_elements, err, n);
}

/* moment k of parameter i, whole, from the plain file */
static const float *plain_param(struct moments *s, const struct model *m, int i, int k, char *err,
				size_t n)
{
	char name[300];
	snprintf(name, sizeof(name), "%s%s", m->names[i], MOMENT_SUFFIX[k]);
	const struct st_tensor *x = st_find(&s->f[0], name);
	int64_t numel = tensor_numel(m->params[i]);
	if (!x || x->dtype != ST_F32 || x->nbytes != (size_t)numel * 4) {
		snprintf(err, n, "%s/optimizer.safetensors: tensor '%s' is %s (expected F32, %" PRId64
			 " values)", s->dir, name, x ? "of another dtype or size" : "missing", numel);
		return NULL;
	}
	return x->data;
}

/* moment k over the flat range [off, off + len) into dst */
static int moments_read(struct moments *s, const struct model *m, int k, int64_t off,
			int64_t len, float *dst, char *err, size_t n)
{
	int64_t at = 0;
	int pieces = s->sharded ? s->nf : m->n_params;
	for (int i = 0; i < pieces && at < off + len; i++) {
		int64_t plen = s->sharded ? s->len[i] : tensor_numel(m->params[i]);
		int64_t lo = at > off ? at : off, hi = at + plen < off + len ? at + plen : off + len;
		if (lo < hi) {
			const float *src = s->sharded ?
				(const float *)st_find(&s->f[i], SHARD_NAME[k])->data :
				plain_param(s, m, i, k, err, n);
			if (!src)
				return -1;
			memcpy(dst + (lo - off), src + (lo - at), (size_t)(hi - lo) * sizeof(float));
		}
		at += plen;
	}
	return 0;
}

static int write_range(struct moments *s, const struct model *m, int k, int64_t off,
		       tensor *dst, char *err, size_t n)
{
	int64_t len = tensor_numel(dst);
	float *buf = malloc((size_t)(len ? len : 1) * sizeof(float));
	int rc = buf ? moments_read(s, m, k, off, len, buf, err, n) : -1;
	if (!buf)
		snprintf(err, n, "checkpoint: out of memory");
	else if (!rc && tensor_write_f32(dst, buf, len)) {
		snprintf(err, n, "checkpoint: %s", tensor_last_error());
		rc = -1;
	}
	free(buf);
	return rc;
}

int trainer_load_moments(struct trainer *t, const char *dir, char *err, size_t n)
{
	const struct model *m = t->tm;
	struct moments s;
	int rc = moments_open(&s, dir, m, err, n);
	for (int k = 0; k < 2 && !rc; k++) {
		if (t->sharded) {
			rc = write_range(&s, m, k, t->zoff, k ? t->zv : t->zm, err, n);
			continue;
		}
		int64_t off = 0;
		for (int i = 0; i < m->n_params && !rc; i++) {
			rc = write_range(&s, m, k, off, moment(t, i, k), err, n);
			off += tensor_numel(m->params[i]);
		}
	}
	moments_close(&s);
	return rc;
}
