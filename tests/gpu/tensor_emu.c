/*
 * tensor_emu.c - the tensor API subset that src/torch/trainer_dist.c and src/torch/trainer_zero.c
 * call, over emulated device memory (tensor_emu.h). Copies are cudaMemcpyAsync on the current
 * stream, as torch's copy_ is; the few "kernels" (sum of squares, scaling, the optimizer step)
 * run on the host over the same memory, checked and recorded on the current stream. The
 * optimizer step of the ZeRO-1 slice is plain SGD (w -= lr * g), which is enough to see every
 * slice reach every rank; AdamW itself is tested against torch in tests/test_trainer.c.
 */
#include "tensor_emu.h"

#include "attnrl/model.h"
#include "emu_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tensor {
	float *d; /* emulated device memory, numel floats */
	int64_t numel, shape[8];
	int ndim, view; /* view: d belongs to another tensor */
	struct tensor *grad;
};

static char last_error[512];

static int fail(const char *fn, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(last_error, sizeof(last_error), "%s: ", fn);
	va_start(ap, fmt);
	vsnprintf(last_error + k, sizeof(last_error) - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

const char *tensor_last_error(void)
{
	return last_error;
}

cudaStream_t tensor_emu_stream(void)
{
	static cudaStream_t s;
	if (!s)
		cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
	return s;
}

void *tensor_cuda_current_stream(int device)
{
	return device < 0 ? NULL : tensor_emu_stream();
}

/* queued work on the current stream may use [p, p + n floats) */
static int usable(const char *fn, const float *p, int64_t n)
{
	char why[400];
	if (n && emu_mem_check(p, (size_t)n * sizeof(float), tensor_emu_stream(), why, sizeof(why)))
		return fail(fn, "%s", why);
	return 0;
}

static tensor *make(const int64_t *shape, int ndim)
{
	tensor *t = calloc(1, sizeof(*t));
	if (!t || ndim > 8)
		goto bad;
	t->ndim = ndim;
	t->numel = 1;
	for (int i = 0; i < ndim; i++)
		t->numel *= (t->shape[i] = shape[i]);
	if (cudaMalloc((void **)&t->d, (size_t)t->numel * sizeof(float)) == cudaSuccess)
		return t;
bad:
	free(t);
	fail("tensor_emu", "cannot allocate a tensor");
	return NULL;
}

tensor *tensor_zeros(const int64_t *shape, int ndim, int dtype, int device)
{
	tensor *t = dtype == TENSOR_F32 && device == 0 ? make(shape, ndim) : NULL;
	if (t)
		cudaMemsetAsync(t->d, 0, (size_t)t->numel * sizeof(float), tensor_emu_stream());
	else
		fail(__func__, "only F32 tensors on device 0");
	return t;
}

tensor *tensor_emu_param(int64_t numel, const float *w, const float *g)
{
	tensor *t = make(&numel, 1), *gt = make(&numel, 1);
	if (!t || !gt)
		return NULL;
	cudaMemcpyAsync(t->d, w, (size_t)numel * sizeof(float), cudaMemcpyHostToDevice,
			tensor_emu_stream());
	cudaMemcpyAsync(gt->d, g, (size_t)numel * sizeof(float), cudaMemcpyHostToDevice,
			tensor_emu_stream());
	t->grad = gt;
	return t;
}

int tensor_emu_read(const tensor *t, float *dst)
{
	if (usable(__func__, t->d, t->numel))
		return -1;
	cudaMemcpyAsync(dst, t->d, (size_t)t->numel * sizeof(float), cudaMemcpyDeviceToHost,
			tensor_emu_stream());
	return cudaStreamSynchronize(tensor_emu_stream()) ? -1 : 0;
}

tensor *tensor_keep(tensor *t)
{
	return t;
}

void tensor_free(tensor *t)
{
	if (!t)
		return;
	if (!t->view)
		cudaFree(t->d);
	tensor_free(t->grad);
	free(t);
}

int tensor_frame_push(void)
{
	return 1;
}

void tensor_frame_pop(void)
{
}

int tensor_ndim(const tensor *t)
{
	return t->ndim;
}

int64_t tensor_size(const tensor *t, int dim)
{
	return t->shape[dim < 0 ? dim + t->ndim : dim];
}

int64_t tensor_numel(const tensor *t)
{
	return t->numel;
}

int tensor_device(const tensor *t)
{
	return t ? 0 : TENSOR_CPU;
}

void *tensor_data(tensor *t)
{
	return t ? t->d : NULL;
}

tensor *tensor_grad(const tensor *t)
{
	return t->grad;
}

tensor *tensor_narrow(const tensor *t, int dim, int64_t start, int64_t len)
{
	if (!t || dim || t->ndim != 1 || start < 0 || len < 0 || start + len > t->numel) {
		fail(__func__, "only ranges of 1-D tensors");
		return NULL;
	}
	tensor *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	*v = (tensor){ t->d + start, len, { len }, 1, 1, NULL };
	return v;
}

/* fn over the pieces of the tensors ts (their grads when grads) seen as one flat buffer that
 * fall in [off, off + len): piece, its index in the flat buffer, its length */
typedef int (*piece_fn)(float *x, int64_t at, int64_t k, void *ctx);
static int flat_walk(tensor *const *ts, int n, int grads, int64_t off, int64_t len, piece_fn fn,
		     void *ctx)
{
	int64_t at = 0;
	for (int i = 0; i < n; i++) {
		tensor *x = grads ? ts[i]->grad : ts[i];
		int64_t lo = at > off ? at : off;
		int64_t hi = at + x->numel < off + len ? at + x->numel : off + len;
		if (lo < hi && fn(x->d + (lo - at), lo, hi - lo, ctx))
			return -1;
		at += x->numel;
	}
	return 0;
}

struct copy_ctx {
	tensor *flat;
	int64_t off;
	int to_flat;
};

static int copy_piece(float *x, int64_t at, int64_t k, void *ctx)
{
	struct copy_ctx *c = ctx;
	float *f = c->flat->d + (at - c->off);
	float *dst = c->to_flat ? f : x, *src = c->to_flat ? x : f;
	if (usable("tensor_flat_copy", src, k) || usable("tensor_flat_copy", dst, k))
		return -1;
	cudaMemcpyAsync(dst, src, (size_t)k * sizeof(float), cudaMemcpyDeviceToDevice,
			tensor_emu_stream());
	return 0;
}

int tensor_flat_copy(tensor *const *ts, int n, int grads, tensor *flat, int64_t off,
		     int to_flat)
{
	struct copy_ctx c = { flat, off, to_flat };
	for (int i = 0; grads && i < n; i++)
		if (!ts[i]->grad)
			return fail(__func__, "parameter %d has no gradient", i);
	return flat_walk(ts, n, grads, off, flat->numel, copy_piece, &c);
}

int tensor_sumsq(const tensor *t, double *out)
{
	if (usable(__func__, t->d, t->numel))
		return -1;
	double s = 0;
	for (int64_t i = 0; i < t->numel; i++)
		s += (double)t->d[i] * t->d[i];
	*out = s;
	return 0;
}

int tensor_scale_(tensor *t, double s)
{
	if (usable(__func__, t->d, t->numel))
		return -1;
	for (int64_t i = 0; i < t->numel; i++)
		t->d[i] = (float)(t->d[i] * s);
	emu_mem_wrote(t->d, (size_t)t->numel * sizeof(float), tensor_emu_stream());
	return 0;
}

struct sgd_ctx {
	const tensor *g;
	int64_t off;
	double lr;
};

static int sgd_piece(float *w, int64_t at, int64_t k, void *ctx)
{
	struct sgd_ctx *c = ctx;
	const float *g = c->g->d + (at - c->off);
	if (usable("tensor_adamw_flat", w, k) || usable("tensor_adamw_flat", g, k))
		return -1;
	for (int64_t i = 0; i < k; i++)
		w[i] = (float)(w[i] - c->lr * g[i]);
	emu_mem_wrote(w, (size_t)k * sizeof(float), tensor_emu_stream());
	return 0;
}

int tensor_adamw_flat(tensor *const *params, int n, int64_t off, tensor *m, tensor *v,
		      const tensor *g, const struct tensor_adamw *hp)
{
	struct sgd_ctx c = { g, off, hp->lr };
	(void)m, (void)v;
	return flat_walk(params, n, 0, off, g->numel, sgd_piece, &c);
}

int model_set_requires_grad(struct model *m, int flag)
{
	(void)m, (void)flag;
	return 0;
}

/* ---- not needed by the data-parallel path: refused ------------------------------------- */

static int absent(const char *fn)
{
	return fail(fn, "not in the emulated tensor API");
}

int tensor_clip_grad_norm(tensor *const *params, int n, double max_norm, double *norm_out)
{
	(void)params, (void)n, (void)max_norm, (void)norm_out;
	return absent(__func__);
}

int tensor_adamw_step(tensor *const *params, tensor *const *m, tensor *const *v, int n,
		      const struct tensor_adamw *hp)
{
	(void)params, (void)m, (void)v, (void)n, (void)hp;
	return absent(__func__);
}

tensor *tensor_to(const tensor *t, int dtype, int device)
{
	(void)t, (void)dtype, (void)device;
	absent(__func__);
	return NULL;
}

int tensor_write_f32(tensor *t, const float *src, int64_t n)
{
	(void)t, (void)src, (void)n;
	return absent(__func__);
}
