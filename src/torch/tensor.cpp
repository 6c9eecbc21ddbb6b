/*
 * tensor.cpp - the C API of include/attnrl/tensor.h over libtorch; the one door to libtorch.
 *
 * Invariants:
 * - No C++ exception leaves this file: each exported function catches everything and turns it
 *   into a NULL / -1 result plus one line in the thread-local error string, prefixed with the
 *   function's name ("tensor_matmul: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)").
 *   A NULL tensor input returns NULL / -1 at once and leaves the error string alone, so a chain
 *   of ops reports its first failure. Success does not clear the error string.
 * - Every new handle is appended to this thread's frame stack; handle->slot is its index there.
 *   tensor_frame_pop() frees the live handles at indices >= the top frame's start. tensor_keep()
 *   and tensor_free() set the handle's stack entry to nullptr (slot -1 = kept, owned by the
 *   caller). Without any push, handles sit in the base frame and are freed by tensor_free().
 *   live = handles created - handles freed in this thread. Handles belong to the thread that
 *   made them; only kept handles may be freed from another thread (its live count then drifts).
 * - Builds against Debian's libtorch 1.13 (CPU) and pip torch 2.x: version switches below use
 *   TORCH_VERSION_MAJOR/MINOR; optionals are spelled c10::optional / c10::nullopt.
 */
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/cuda.h>
#include <torch/version.h>
#ifdef ATTNRL_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include "attnrl/tensor.h"
}

#define TENSOR_TORCH_AT_LEAST(maj, min) \
	(TORCH_VERSION_MAJOR > (maj) || (TORCH_VERSION_MAJOR == (maj) && TORCH_VERSION_MINOR >= (min)))

struct tensor {
	at::Tensor t;
	long slot; /* index in the owning thread's frame stack; -1 once kept */
};

struct frame_stack {
	std::vector<tensor *> stack; /* handles by slot; nullptr once freed or kept */
	std::vector<size_t> starts;  /* stack index where each pushed frame begins */
	size_t compact_at = 4096;    /* stack size that triggers compact_top() */
	long live = 0;
};

static thread_local frame_stack tl;
static thread_local std::string tl_error;

/* ---- errors ---- */

static void set_error(const char *fn, const char *msg) noexcept
{
	try {
		std::string m(msg ? msg : "");
		size_t nl = m.find('\n');
		if (nl != std::string::npos)
			m.resize(nl);
		tl_error = std::string(fn) + ": " + m;
	} catch (...) {
		/* out of memory while reporting: keep the previous message */
	}
}

/* Called inside a catch block: records the exception in flight. */
static void fail(const char *fn) noexcept
{
	try {
		throw;
	} catch (const c10::Error &e) {
		set_error(fn, e.what_without_backtrace());
	} catch (const std::exception &e) {
		set_error(fn, e.what());
	} catch (...) {
		set_error(fn, "unknown exception");
	}
}

/* ---- the frame stack ---- */

static size_t top_start(void)
{
	return tl.starts.empty() ? 0 : tl.starts.back();
}

/* Drops the holes of the top frame, so a long-lived frame whose handles are freed by hand (the
 * base frame, say) does not grow without bound. */
static void compact_top(void)
{
	size_t w = top_start();
	for (size_t r = w; r < tl.stack.size(); r++) {
		if (!tl.stack[r])
			continue;
		tl.stack[r]->slot = (long)w;
		tl.stack[w++] = tl.stack[r];
	}
	tl.stack.resize(w);
	tl.compact_at = std::max<size_t>(4096, 2 * tl.stack.size());
}

/* Drops trailing holes of the top frame (the common create-then-free order). */
static void trim_top(void)
{
	size_t start = top_start();
	while (tl.stack.size() > start && !tl.stack.back())
		tl.stack.pop_back();
}

static tensor *adopt(at::Tensor t)
{
	std::unique_ptr<tensor> h(new tensor{std::move(t), -1});
	if (tl.stack.size() >= tl.compact_at)
		compact_top();
	tl.stack.push_back(h.get());
	h->slot = (long)tl.stack.size() - 1;
	tl.live++;
	return h.release();
}

/* Runs f() -> at::Tensor and wraps the result in a new handle, or records the failure. */
template <class F> static tensor *make(const char *fn, F &&f)
{
	try {
		return adopt(f());
	} catch (...) {
		fail(fn);
	}
	return nullptr;
}

/* Runs f() -> void; 0 on success, -1 (error recorded) on failure. */
template <class F> static int status(const char *fn, F &&f)
{
	try {
		f();
		return 0;
	} catch (...) {
		fail(fn);
	}
	return -1;
}

/* Runs f() -> R; bad (error recorded) on failure. */
template <class R, class F> static R value(const char *fn, R bad, F &&f)
{
	try {
		return f();
	} catch (...) {
		fail(fn);
	}
	return bad;
}

template <class F> static tensor *unary(const char *fn, const tensor *a, F &&f)
{
	if (!a)
		return nullptr;
	return make(fn, [&] { return f(a->t); });
}

template <class F> static tensor *binary(const char *fn, const tensor *a, const tensor *b, F &&f)
{
	if (!a || !b)
		return nullptr;
	return make(fn, [&] { return f(a->t, b->t); });
}

/* 1 when ts[0..n) is NULL or holds a NULL (the caller then returns quietly). */
static bool any_null(tensor *const *ts, int n)
{
	if (!ts)
		return n > 0;
	for (int i = 0; i < n; i++)
		if (!ts[i])
			return true;
	return false;
}

/* ---- conversions ---- */

static at::ScalarType to_scalar(int dtype)
{
	switch (dtype) {
	case TENSOR_F32: return at::kFloat;
	case TENSOR_BF16: return at::kBFloat16;
	case TENSOR_F16: return at::kHalf;
	case TENSOR_I64: return at::kLong;
	case TENSOR_I32: return at::kInt;
	case TENSOR_BOOL: return at::kBool;
	}
	throw std::invalid_argument("unknown dtype " + std::to_string(dtype));
}

static int from_scalar(at::ScalarType s)
{
	switch (s) {
	case at::kFloat: return TENSOR_F32;
	case at::kBFloat16: return TENSOR_BF16;
	case at::kHalf: return TENSOR_F16;
	case at::kLong: return TENSOR_I64;
	case at::kInt: return TENSOR_I32;
	case at::kBool: return TENSOR_BOOL;
	default: break;
	}
	throw std::invalid_argument(std::string("dtype ") + c10::toString(s) + " has no tensor_dtype");
}

static at::Device to_device(int device)
{
	if (device < TENSOR_CPU)
		throw std::invalid_argument("bad device " + std::to_string(device));
	if (device == TENSOR_CPU)
		return at::Device(at::kCPU);
	return at::Device(at::kCUDA, (c10::DeviceIndex)device);
}

static at::IntArrayRef dims(const int64_t *shape, int ndim)
{
	if (ndim < 0 || (ndim > 0 && !shape))
		throw std::invalid_argument("bad shape (ndim " + std::to_string(ndim) + ")");
	return at::IntArrayRef(shape, (size_t)ndim);
}

static at::TensorOptions opts(int dtype, int device)
{
	return at::TensorOptions().dtype(to_scalar(dtype)).device(to_device(device));
}

static at::Tensor from_host(const void *data, const int64_t *shape, int ndim, at::ScalarType s)
{
	at::IntArrayRef sz = dims(shape, ndim);
	int64_t n = c10::multiply_integers(sz);
	if (n > 0 && !data)
		throw std::invalid_argument("data is NULL");
	if (n == 0)
		return at::empty(sz, at::TensorOptions().dtype(s));
	return at::from_blob(const_cast<void *>(data), sz, at::TensorOptions().dtype(s)).clone();
}

/* ---- library ---- */

extern "C" const char *tensor_last_error(void)
{
	return tl_error.c_str();
}

extern "C" const char *tensor_backend_info(void)
{
	static thread_local std::string info;
	return value(__func__, (const char *)"", [&] {
		bool cuda = torch::cuda::is_available();
		info = std::string("libtorch ") + TORCH_VERSION + (cuda ? " (CUDA), " : " (CPU), ") +
		       std::to_string(at::get_num_threads()) + " threads";
		return info.c_str();
	});
}

/* Interop threads can be set once, before any inter-op work; later calls throw: ignored. */
extern "C" void tensor_set_threads(int n)
{
	static std::once_flag interop_once;
	if (n <= 0)
		return;
	status(__func__, [&] { at::set_num_threads(n); });
	try {
		std::call_once(interop_once, [n] { at::set_num_interop_threads(n); });
	} catch (...) {
	}
}

extern "C" int tensor_cuda_available(void)
{
	return value(__func__, 0, [] { return torch::cuda::is_available() ? 1 : 0; });
}

extern "C" int tensor_cuda_device_count(void)
{
	return value(__func__, 0, [] { return (int)torch::cuda::device_count(); });
}

extern "C" int tensor_cuda_synchronize(int device)
{
	return status(__func__, [&] {
		if (device >= 0)
			torch::cuda::synchronize((int64_t)device);
	});
}

/* torch.cuda.max_memory_allocated(device): the caching allocator's peak of allocated bytes
 * (stat type 0 = aggregate over its pools); -1 on CPU-only builds */
extern "C" int64_t tensor_cuda_peak_bytes(int device)
{
#ifdef ATTNRL_CUDA
	return value(__func__, (int64_t)-1, [&] {
		auto s = c10::cuda::CUDACachingAllocator::getDeviceStats((c10::DeviceIndex)device);
		return (int64_t)s.allocated_bytes[0].peak;
	});
#else
	(void)device;
	set_error(__func__, "a CPU-only build (make CUDA=1 has the CUDA allocator)");
	return -1;
#endif
}

/* torch.cuda.empty_cache(): the caching allocator's unused blocks back to the driver, so that
 * memory torch held (an update's activations) can be allocated outside torch; no-op on CPU
 * builds */
extern "C" void tensor_cuda_empty_cache(void)
{
#ifdef ATTNRL_CUDA
	status(__func__, [&] { c10::cuda::CUDACachingAllocator::emptyCache(); });
#endif
}

/* cudaMemGetInfo on device: free and total bytes; -1 on CPU-only builds */
extern "C" int tensor_cuda_mem_info(int device, int64_t *free_bytes, int64_t *total_bytes)
{
#ifdef ATTNRL_CUDA
	return status(__func__, [&] {
		c10::cuda::CUDAGuard guard((c10::DeviceIndex)device);
		size_t f = 0, t = 0;
		C10_CUDA_CHECK(cudaMemGetInfo(&f, &t));
		*free_bytes = (int64_t)f;
		*total_bytes = (int64_t)t;
	});
#else
	(void)device, (void)free_bytes, (void)total_bytes;
	set_error(__func__, "a CPU-only build (make CUDA=1 reads the GPU's memory)");
	return -1;
#endif
}

extern "C" void *tensor_cuda_current_stream(int device)
{
#ifdef ATTNRL_CUDA
	if (device >= 0)
		return value(__func__, (void *)nullptr, [&] {
			return (void *)c10::cuda::getCurrentCUDAStream((c10::DeviceIndex)device).stream();
		});
#endif
	(void)device;
	return nullptr;
}

extern "C" long tensor_live_count(void)
{
	return tl.live;
}

/* ---- ownership ---- */

extern "C" int tensor_frame_push(void)
{
	return value(__func__, -1, [] {
		tl.starts.push_back(tl.stack.size());
		return (int)tl.starts.size();
	});
}

extern "C" void tensor_frame_pop(void)
{
	if (tl.starts.empty()) {
		set_error(__func__, "no frame to pop");
		return;
	}
	size_t start = tl.starts.back();
	for (size_t i = tl.stack.size(); i-- > start;) {
		if (tl.stack[i]) {
			delete tl.stack[i];
			tl.live--;
		}
	}
	tl.stack.resize(start);
	tl.starts.pop_back();
}

static void unlink(tensor *t)
{
	if (t->slot >= 0 && (size_t)t->slot < tl.stack.size() && tl.stack[t->slot] == t) {
		tl.stack[t->slot] = nullptr;
		trim_top();
	}
	t->slot = -1;
}

extern "C" tensor *tensor_keep(tensor *t)
{
	if (t)
		unlink(t);
	return t;
}

extern "C" void tensor_free(tensor *t)
{
	if (!t)
		return;
	unlink(t);
	delete t;
	tl.live--;
}

/* ---- creation ---- */

extern "C" tensor *tensor_empty(const int64_t *shape, int ndim, int dtype, int device)
{
	return make(__func__, [&] { return at::empty(dims(shape, ndim), opts(dtype, device)); });
}

extern "C" tensor *tensor_zeros(const int64_t *shape, int ndim, int dtype, int device)
{
	return make(__func__, [&] { return at::zeros(dims(shape, ndim), opts(dtype, device)); });
}

extern "C" tensor *tensor_full(const int64_t *shape, int ndim, double value, int dtype, int device)
{
	return make(__func__,
		    [&] { return at::full(dims(shape, ndim), value, opts(dtype, device)); });
}

extern "C" tensor *tensor_from_f32(const float *data, const int64_t *shape, int ndim)
{
	return make(__func__, [&] { return from_host(data, shape, ndim, at::kFloat); });
}

extern "C" tensor *tensor_from_i64(const int64_t *data, const int64_t *shape, int ndim)
{
	return make(__func__, [&] { return from_host(data, shape, ndim, at::kLong); });
}

extern "C" tensor *tensor_clone(const tensor *t)
{
	return unary(__func__, t, [](const at::Tensor &x) { return x.detach().clone(); });
}

extern "C" tensor *tensor_to(const tensor *t, int dtype, int device)
{
	return unary(__func__, t, [&](const at::Tensor &x) {
		return x.to(to_device(device), to_scalar(dtype));
	});
}

/* ---- inspection and host access ---- */

extern "C" int tensor_ndim(const tensor *t)
{
	if (!t)
		return -1;
	return (int)t->t.dim();
}

extern "C" int64_t tensor_size(const tensor *t, int dim)
{
	if (!t)
		return -1;
	return value(__func__, (int64_t)-1, [&] { return (int64_t)t->t.size(dim); });
}

extern "C" int64_t tensor_numel(const tensor *t)
{
	if (!t)
		return -1;
	return (int64_t)t->t.numel();
}

extern "C" int tensor_dtype(const tensor *t)
{
	if (!t)
		return -1;
	return value(__func__, -1, [&] { return from_scalar(t->t.scalar_type()); });
}

extern "C" int tensor_device(const tensor *t)
{
	if (!t)
		return TENSOR_CPU;
	return t->t.is_cuda() ? (int)t->t.get_device() : TENSOR_CPU;
}

extern "C" void *tensor_data(tensor *t)
{
	if (!t)
		return nullptr;
	return value(__func__, (void *)nullptr, [&] {
		if (!t->t.is_contiguous())
			throw std::invalid_argument("tensor is not contiguous");
		return t->t.data_ptr();
	});
}

extern "C" int tensor_item(const tensor *t, double *out)
{
	if (!t || !out)
		return -1;
	return status(__func__, [&] { *out = t->t.item<double>(); });
}

extern "C" int tensor_read_f32(const tensor *t, float *dst, int64_t n)
{
	if (!t || (!dst && n > 0))
		return -1;
	return status(__func__, [&] {
		TORCH_CHECK(t->t.numel() == n, "numel ", t->t.numel(), " != n ", n);
		at::Tensor h = t->t.detach().to(at::kCPU, at::kFloat).contiguous();
		if (n > 0)
			std::memcpy(dst, h.data_ptr<float>(), (size_t)n * sizeof(float));
	});
}

extern "C" int tensor_write_f32(tensor *t, const float *src, int64_t n)
{
	if (!t || (!src && n > 0))
		return -1;
	return status(__func__, [&] {
		TORCH_CHECK(t->t.numel() == n, "numel ", t->t.numel(), " != n ", n);
		if (n == 0)
			return;
		at::NoGradGuard no_grad;
		at::Tensor h = at::from_blob(const_cast<float *>(src), t->t.sizes(), at::kFloat);
		t->t.copy_(h);
	});
}

extern "C" int tensor_copy_(tensor *dst, const tensor *src)
{
	if (!dst || !src)
		return -1;
	return status(__func__, [&] {
		at::NoGradGuard no_grad;
		dst->t.copy_(src->t);
	});
}

/* ---- views and shape ---- */

extern "C" tensor *tensor_reshape(const tensor *t, const int64_t *shape, int ndim)
{
	return unary(__func__, t,
		     [&](const at::Tensor &x) { return x.reshape(dims(shape, ndim)); });
}

extern "C" tensor *tensor_transpose(const tensor *t, int d0, int d1)
{
	return unary(__func__, t, [&](const at::Tensor &x) { return x.transpose(d0, d1); });
}

extern "C" tensor *tensor_narrow(const tensor *t, int dim, int64_t start, int64_t len)
{
	return unary(__func__, t, [&](const at::Tensor &x) { return x.narrow(dim, start, len); });
}

extern "C" tensor *tensor_contiguous(const tensor *t)
{
	return unary(__func__, t, [](const at::Tensor &x) { return x.contiguous(); });
}

extern "C" tensor *tensor_cat(tensor *const *ts, int n, int dim)
{
	if (any_null(ts, n))
		return nullptr;
	return make(__func__, [&] {
		std::vector<at::Tensor> v;
		for (int i = 0; i < n; i++)
			v.push_back(ts[i]->t);
		return at::cat(v, dim);
	});
}

extern "C" tensor *tensor_index_select(const tensor *t, int dim, const tensor *idx)
{
	return binary(__func__, t, idx, [&](const at::Tensor &x, const at::Tensor &i) {
		return x.index_select(dim, i);
	});
}

/* ---- elementwise and reductions ---- */

#define TENSOR_BINARY(name, expr)                                                        \
	extern "C" tensor *name(const tensor *a, const tensor *b)                        \
	{                                                                                \
		return binary(__func__, a, b,                                            \
			      [](const at::Tensor &x, const at::Tensor &y) { return expr; }); \
	}
#define TENSOR_UNARY(name, expr)                                                         \
	extern "C" tensor *name(const tensor *a)                                         \
	{                                                                                \
		return unary(__func__, a, [](const at::Tensor &x) { return expr; });     \
	}

TENSOR_BINARY(tensor_add, x + y)
TENSOR_BINARY(tensor_sub, x - y)
TENSOR_BINARY(tensor_mul, x * y)
TENSOR_BINARY(tensor_div, x / y)
TENSOR_BINARY(tensor_minimum, at::minimum(x, y))
TENSOR_BINARY(tensor_maximum, at::maximum(x, y))
TENSOR_BINARY(tensor_matmul, at::matmul(x, y))
TENSOR_UNARY(tensor_exp, x.exp())
TENSOR_UNARY(tensor_log, x.log())
TENSOR_UNARY(tensor_neg, x.neg())
TENSOR_UNARY(tensor_silu, at::silu(x))
TENSOR_UNARY(tensor_sum, x.sum())
TENSOR_UNARY(tensor_mean, x.mean())
TENSOR_UNARY(tensor_detach, x.detach())

extern "C" tensor *tensor_add_scalar(const tensor *a, double s)
{
	return unary(__func__, a, [&](const at::Tensor &x) { return x + s; });
}

extern "C" tensor *tensor_mul_scalar(const tensor *a, double s)
{
	return unary(__func__, a, [&](const at::Tensor &x) { return x * s; });
}

extern "C" tensor *tensor_clamp(const tensor *a, double lo, double hi)
{
	return unary(__func__, a,
		     [&](const at::Tensor &x) { return x.clamp(at::Scalar(lo), at::Scalar(hi)); });
}

extern "C" tensor *tensor_sum_dim(const tensor *a, int dim, int keepdim)
{
	return unary(__func__, a,
		     [&](const at::Tensor &x) { return x.sum(dim, keepdim != 0); });
}

extern "C" tensor *tensor_softmax(const tensor *a, int dim)
{
	return unary(__func__, a, [&](const at::Tensor &x) { return at::softmax(x, dim); });
}

extern "C" tensor *tensor_log_softmax(const tensor *a, int dim)
{
	return unary(__func__, a, [&](const at::Tensor &x) { return at::log_softmax(x, dim); });
}

extern "C" tensor *tensor_gather(const tensor *a, int dim, const tensor *idx)
{
	return binary(__func__, a, idx, [&](const at::Tensor &x, const at::Tensor &i) {
		return x.gather(dim, i);
	});
}

extern "C" tensor *tensor_argmax(const tensor *a, int dim)
{
	return unary(__func__, a, [&](const at::Tensor &x) { return x.argmax(dim); });
}

/* A generator seeded with seed on dev: a fresh CPU one, or a clone of the device's default. */
static at::Generator seeded_generator(const at::Device &dev, uint64_t seed)
{
	if (dev.is_cpu())
		return at::detail::createCPUGenerator(seed);
	at::Generator &def = const_cast<at::Generator &>(at::globalContext().defaultGenerator(dev));
	at::Generator g = [&] {
		std::lock_guard<std::mutex> lock(def.mutex());
		return def.clone();
	}();
	g.set_current_seed(seed);
	return g;
}

extern "C" tensor *tensor_multinomial(const tensor *probs, uint64_t seed)
{
	return unary(__func__, probs, [&](const at::Tensor &p) {
		at::Tensor pf = p.is_floating_point() && p.scalar_type() != at::kHalf &&
						p.scalar_type() != at::kBFloat16
					? p
					: p.to(at::kFloat);
		return at::multinomial(pf, 1, false, seeded_generator(p.device(), seed));
	});
}

/* ---- linear algebra and the decoder's fused pieces ---- */

extern "C" tensor *tensor_linear(const tensor *x, const tensor *w, const tensor *bias)
{
	if (!x || !w)
		return nullptr;
	return make(__func__, [&] {
		c10::optional<at::Tensor> b = bias ? c10::optional<at::Tensor>(bias->t) : c10::nullopt;
		return at::linear(x->t, w->t, b);
	});
}

extern "C" tensor *tensor_embedding(const tensor *w, const tensor *ids)
{
	return binary(__func__, w, ids,
		      [](const at::Tensor &wt, const at::Tensor &i) { return at::embedding(wt, i); });
}

/* Hugging Face LlamaRMSNorm: normalize in fp32, cast back to x's dtype, then scale by w. */
extern "C" tensor *tensor_rms_norm(const tensor *x, const tensor *w, double eps)
{
	return binary(__func__, x, w, [&](const at::Tensor &xt, const at::Tensor &wt) {
		at::Tensor xf = xt.to(at::kFloat);
		at::Tensor y = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
		return wt * y.to(xt.scalar_type());
	});
}

extern "C" tensor *tensor_rope(const tensor *x, const tensor *cos, const tensor *sin)
{
	if (!x || !cos || !sin)
		return nullptr;
	return make(__func__, [&] {
		const at::Tensor &xt = x->t;
		int64_t e = xt.size(-1);
		TORCH_CHECK(e % 2 == 0, "head dim ", e, " is odd");
		at::Tensor rot = at::cat({xt.narrow(-1, e / 2, e / 2).neg(), xt.narrow(-1, 0, e / 2)}, -1);
		at::ScalarType s = xt.scalar_type();
		return xt * cos->t.to(s) + rot * sin->t.to(s);
	});
}

/* (B,K,T,E) -> (B,H,T,E): kv head j serves query heads j*H/K .. (j+1)*H/K - 1 (HF repeat_kv). */
static at::Tensor repeat_kv(const at::Tensor &x, int64_t h)
{
	int64_t k = x.size(1);
	TORCH_CHECK(k > 0 && h % k == 0, "query heads ", h, " not a multiple of kv heads ", k);
	if (k == h)
		return x;
	return x.unsqueeze(2)
		.expand({x.size(0), k, h / k, x.size(2), x.size(3)})
		.reshape({x.size(0), h, x.size(2), x.size(3)});
}

/* q (B,H,Tq,E), k/v (B,H,Tk,E) with Tq <= Tk: query i sits at position Tk - Tq + i. */
static at::Tensor attend(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
			 double scale)
{
	int64_t tq = q.size(2), tk = k.size(2);
#if TENSOR_TORCH_AT_LEAST(2, 1)
	c10::optional<at::Tensor> mask = c10::nullopt;
	if (tq != tk)
		mask = at::ones({tq, tk}, q.options().dtype(at::kBool)).tril(tk - tq);
	return at::scaled_dot_product_attention(q, k, v, mask, 0.0, tq == tk,
						c10::optional<double>(scale));
#else
	at::Tensor masked = at::ones({tq, tk}, q.options().dtype(at::kBool)).triu(tk - tq + 1);
	at::Tensor s = at::matmul(q, k.transpose(-2, -1)) * scale;
	s = s.masked_fill(masked, -std::numeric_limits<double>::infinity());
	at::Tensor p = at::softmax(s, -1, at::kFloat).to(q.scalar_type());
	return at::matmul(p, v);
#endif
}

extern "C" int tensor_attention_keeps_scores(void)
{
	return !TENSOR_TORCH_AT_LEAST(2, 1);
}

/* scale <= 0 means 1/sqrt(E). k and v may be longer than q (a KV cache): q is aligned to the
 * last positions. */
extern "C" tensor *tensor_attention_causal(const tensor *q, const tensor *k, const tensor *v,
					   double scale)
{
	if (!q || !k || !v)
		return nullptr;
	return make(__func__, [&] {
		TORCH_CHECK(q->t.dim() == 4 && k->t.dim() == 4 && v->t.dim() == 4,
			    "q, k, v must be (B,H,T,E)");
		TORCH_CHECK(q->t.size(2) <= k->t.size(2), "q is longer than k (", q->t.size(2),
			    " > ", k->t.size(2), ")");
		int64_t h = q->t.size(1);
		double sc = scale > 0 ? scale : 1.0 / std::sqrt((double)q->t.size(3));
		return attend(q->t, repeat_kv(k->t, h), repeat_kv(v->t, h), sc);
	});
}

/* logp and entropy are float32 whatever the logits' dtype. */
extern "C" tensor *tensor_token_logprobs(const tensor *logits, const tensor *targets,
					 tensor **entropy)
{
	if (entropy)
		*entropy = nullptr;
	if (!logits || !targets)
		return nullptr;
	try {
		at::Tensor lp = at::log_softmax(logits->t, -1, at::kFloat);
		at::Tensor logp = lp.gather(-1, targets->t.to(at::kLong).unsqueeze(-1)).squeeze(-1);
		at::Tensor ent;
		if (entropy)
			ent = -(lp.exp() * lp).sum(-1);
		tensor *out = adopt(logp);
		if (entropy)
			*entropy = adopt(ent);
		return out;
	} catch (...) {
		fail(__func__);
	}
	return nullptr;
}

/* ---- the output layer in chunks of tokens ---- */

/* log-probs of targets and entropies of h w^T * inv_temp, rows [r0, r0 + c) at a time: no
 * [N, V] logits tensor outlives a chunk. forward saves h, w, targets and each row's
 * log-sum-exp and entropy; backward recomputes a chunk's logits and turns the incoming
 * gradients into d logits (d logp / dz = onehot - p; d H / dz = -p (z - E_p[z]), E_p[z] =
 * lse - H), then into dh (that chunk) and dw (summed over chunks, in fp32). A bf16 h and w give
 * the logits the full path gives: the product in bf16, widened to fp32 before the scale. */
struct ChunkedHead : public torch::autograd::Function<ChunkedHead> {
	static at::Tensor logits(const at::Tensor &h, const at::Tensor &w, double inv_temp)
	{
		at::Tensor z = at::linear(h, w).to(at::kFloat);
		return inv_temp != 1.0 ? z * inv_temp : z;
	}

	static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx,
						      const at::Tensor &h, const at::Tensor &w,
						      const at::Tensor &targets, double inv_temp,
						      int64_t chunk, bool want_ent)
	{
		int64_t N = h.size(0);
		at::Tensor lse = at::empty({ N }, h.options().dtype(at::kFloat));
		at::Tensor logp = at::empty_like(lse), ent = at::zeros_like(lse);
		for (int64_t r0 = 0; r0 < N; r0 += chunk) {
			int64_t c = std::min(chunk, N - r0);
			at::Tensor z = logits(h.narrow(0, r0, c), w, inv_temp);
			at::Tensor l = at::logsumexp(z, -1);
			lse.narrow(0, r0, c).copy_(l);
			at::Tensor t = targets.narrow(0, r0, c).unsqueeze(-1);
			logp.narrow(0, r0, c).copy_(z.gather(-1, t).squeeze(-1) - l);
			if (want_ent)
				ent.narrow(0, r0, c).copy_(l - (at::exp(z - l.unsqueeze(-1)) * z).sum(-1));
		}
		ctx->save_for_backward({ h, w, targets, lse, ent });
		ctx->saved_data["inv_temp"] = inv_temp;
		ctx->saved_data["chunk"] = chunk;
		ctx->saved_data["want_ent"] = want_ent;
		return { logp, ent };
	}

	static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
						       torch::autograd::variable_list grads)
	{
		auto saved = ctx->get_saved_variables();
		const at::Tensor &h = saved[0], &w = saved[1], &targets = saved[2];
		const at::Tensor &lse = saved[3], &ent = saved[4];
		double inv_temp = ctx->saved_data["inv_temp"].toDouble();
		int64_t chunk = ctx->saved_data["chunk"].toInt(), N = h.size(0);
		at::Tensor g_lp = grads[0];
		at::Tensor g_ent = ctx->saved_data["want_ent"].toBool() ? grads[1] : at::Tensor();
		at::Tensor dh = at::empty_like(h);
		at::Tensor dw = at::zeros(w.sizes(), w.options().dtype(at::kFloat));
		for (int64_t r0 = 0; r0 < N; r0 += chunk) {
			int64_t c = std::min(chunk, N - r0);
			at::Tensor hc = h.narrow(0, r0, c);
			at::Tensor z = logits(hc, w, inv_temp);
			at::Tensor l = lse.narrow(0, r0, c).unsqueeze(-1);
			at::Tensor p = at::exp(z - l);
			at::Tensor dz = at::zeros_like(z);
			if (g_lp.defined()) {
				at::Tensor g = g_lp.narrow(0, r0, c).unsqueeze(-1);
				dz = -p * g;
				dz.scatter_add_(-1, targets.narrow(0, r0, c).unsqueeze(-1), g);
			}
			if (g_ent.defined()) {
				at::Tensor mean_z = l - ent.narrow(0, r0, c).unsqueeze(-1);
				dz -= g_ent.narrow(0, r0, c).unsqueeze(-1) * p * (z - mean_z);
			}
			if (inv_temp != 1.0)
				dz = dz * inv_temp;
			at::Tensor d = dz.to(h.scalar_type());
			dh.narrow(0, r0, c).copy_(at::matmul(d, w));
			dw.add_(at::matmul(d.t(), hc).to(at::kFloat));
		}
		return { dh, dw.to(w.scalar_type()), at::Tensor(), at::Tensor(), at::Tensor(),
			 at::Tensor() };
	}
};

/* the automatic chunk: about 64 MiB of fp32 logits */
static int64_t head_chunk(int64_t chunk, int64_t N, int64_t V)
{
	if (chunk <= 0)
		chunk = std::max<int64_t>(1, (int64_t)(16 << 20) / std::max<int64_t>(V, 1));
	return std::max<int64_t>(1, std::min(chunk, N));
}

extern "C" tensor *tensor_head_logprobs(const tensor *hidden, const tensor *w, const tensor *targets,
				       double inv_temp, int64_t chunk, tensor **entropy)
{
	if (entropy)
		*entropy = nullptr;
	if (!hidden || !w || !targets)
		return nullptr;
	try {
		const at::Tensor &x = hidden->t;
		TORCH_CHECK(x.dim() == 3 && w->t.dim() == 2 && x.size(2) == w->t.size(1),
			    "hidden (B,T,D) and weight (V,D) expected, got ", x.sizes(), " and ",
			    w->t.sizes());
		int64_t B = x.size(0), T = x.size(1), N = B * T;
		at::Tensor tg = targets->t.to(at::kLong).reshape({ N });
		auto out = ChunkedHead::apply(x.reshape({ N, x.size(2) }), w->t, tg, inv_temp,
					      head_chunk(chunk, N, w->t.size(0)), entropy != nullptr);
		tensor *lp = adopt(out[0].reshape({ B, T }));
		if (entropy)
			*entropy = adopt(out[1].reshape({ B, T }));
		return lp;
	} catch (...) {
		fail(__func__);
	}
	return nullptr;
}

/* ---- activation checkpointing ---- */

/* y = fn(ctx, x) without its activations: forward runs fn with grad off and keeps only x;
 * backward runs fn again with grad on from a detached copy of x and back-propagates the
 * incoming gradient through that graph (the parameters fn reads get their gradients there, as
 * leaves), returning x's. fn and ctx travel as integers in saved_data. */
struct Checkpoint : public torch::autograd::Function<Checkpoint> {
	static at::Tensor run(int64_t fn, int64_t ctx, const at::Tensor &x)
	{
		tensor in{ x, -1 }; /* a kept handle: fn's frame never frees it */
		tensor_frame_push();
		tensor *y = reinterpret_cast<tensor_segment_fn>(fn)(reinterpret_cast<void *>(ctx), &in);
		at::Tensor out = y ? y->t : at::Tensor();
		tensor_frame_pop();
		TORCH_CHECK(out.defined(), "checkpointed segment: ", tl_error);
		return out;
	}

	static at::Tensor forward(torch::autograd::AutogradContext *actx, const at::Tensor &x,
				  int64_t fn, int64_t ctx)
	{
		actx->save_for_backward({ x });
		actx->saved_data["fn"] = fn;
		actx->saved_data["ctx"] = ctx;
		return run(fn, ctx, x);
	}

	static torch::autograd::variable_list backward(torch::autograd::AutogradContext *actx,
						       torch::autograd::variable_list grads)
	{
		at::Tensor x = actx->get_saved_variables()[0].detach().requires_grad_(true);
		at::Tensor y;
		{
			at::AutoGradMode on(true);
			y = run(actx->saved_data["fn"].toInt(), actx->saved_data["ctx"].toInt(), x);
		}
		torch::autograd::backward({ y }, { grads[0] });
		return { x.grad(), at::Tensor(), at::Tensor() };
	}
};

extern "C" tensor *tensor_checkpoint(const tensor *x, tensor_segment_fn fn, void *ctx)
{
	if (!x)
		return nullptr;
	if (!at::GradMode::is_enabled() || !x->t.requires_grad()) /* nothing to keep or to save */
		return fn(ctx, x);
	return make(__func__, [&] {
		return Checkpoint::apply(x->t, (int64_t)reinterpret_cast<intptr_t>(fn),
					 (int64_t)reinterpret_cast<intptr_t>(ctx));
	});
}

/* ---- autograd ---- */

extern "C" int tensor_set_requires_grad(tensor *t, int flag)
{
	if (!t)
		return -1;
	return status(__func__, [&] { t->t.requires_grad_(flag != 0); });
}

extern "C" int tensor_grad_enabled(void)
{
	return at::GradMode::is_enabled() ? 1 : 0;
}

extern "C" int tensor_set_grad_enabled(int flag)
{
	int prev = at::GradMode::is_enabled() ? 1 : 0;
	at::GradMode::set_enabled(flag != 0);
	return prev;
}

extern "C" int tensor_backward(const tensor *loss)
{
	if (!loss)
		return -1;
	return status(__func__, [&] { loss->t.backward(); });
}

extern "C" tensor *tensor_grad(const tensor *t)
{
	return unary(__func__, t, [](const at::Tensor &x) {
		const at::Tensor &g = x.grad();
		return g.defined() ? g : at::zeros_like(x);
	});
}

extern "C" int tensor_zero_grad(tensor *const *params, int n)
{
	if (any_null(params, n))
		return -1;
	return status(__func__, [&] {
		for (int i = 0; i < n; i++)
			params[i]->t.mutable_grad().reset();
	});
}

/* ---- optimizer ---- */

/* torch.optim.AdamW (_single_tensor_adamw, amsgrad off) for one parameter. */
static void adamw_one(at::Tensor &p, at::Tensor &m, at::Tensor &v, const at::Tensor &g,
		      const struct tensor_adamw *hp)
{
	double b1 = hp->beta1, b2 = hp->beta2;
	p.mul_(1 - hp->lr * hp->weight_decay);
	m.mul_(b1).add_(g, 1 - b1);
	v.mul_(b2).addcmul_(g, g, 1 - b2);
	double bc1 = 1 - std::pow(b1, (double)hp->step);
	double bc2 = 1 - std::pow(b2, (double)hp->step);
	at::Tensor denom = (v.sqrt() / std::sqrt(bc2)).add_(hp->eps);
	p.addcdiv_(m, denom, -hp->lr / bc1);
}

extern "C" int tensor_adamw_step(tensor *const *params, tensor *const *m, tensor *const *v, int n,
				 const struct tensor_adamw *hp)
{
	if (any_null(params, n) || any_null(m, n) || any_null(v, n) || !hp)
		return -1;
	return status(__func__, [&] {
		TORCH_CHECK(hp->step >= 1, "step ", hp->step, " < 1 (steps count from 1)");
		at::NoGradGuard no_grad;
		for (int i = 0; i < n; i++) {
			const at::Tensor &g = params[i]->t.grad();
			if (g.defined())
				adamw_one(params[i]->t, m[i]->t, v[i]->t, g, hp);
		}
	});
}

/* the elements [off, off + k) of the concatenation of ts (or of their grads), as views of the
 * pieces that overlap it, each with its offset in that range */
template <typename F> static void over_flat(tensor *const *ts, int n, int64_t off, int64_t k, F f)
{
	int64_t at = 0;
	for (int i = 0; i < n && at < off + k; i++) {
		int64_t len = ts[i]->t.numel(), lo = std::max(at, off), hi = std::min(at + len, off + k);
		if (lo < hi)
			f(i, lo - at, hi - lo, lo - off);
		at += len;
	}
}

extern "C" int tensor_flat_copy(tensor *const *ts, int n, int grads, tensor *flat, int64_t off,
				int to_flat)
{
	if (any_null(ts, n) || !flat)
		return -1;
	return status(__func__, [&] {
		at::NoGradGuard no_grad;
		at::Tensor f = flat->t.view(-1);
		int64_t total = 0;
		for (int i = 0; i < n; i++)
			total += ts[i]->t.numel();
		TORCH_CHECK(off >= 0 && off + f.numel() <= total, "flat range [", off, ", ",
			    off + f.numel(), ") outside the ", total, " elements");
		over_flat(ts, n, off, f.numel(), [&](int i, int64_t at, int64_t len, int64_t to) {
			at::Tensor &t = ts[i]->t;
			at::Tensor dst = f.narrow(0, to, len);
			if (grads && !t.grad().defined()) {
				if (to_flat) {
					dst.zero_();
					return;
				}
				t.mutable_grad() = at::zeros_like(t);
			}
			at::Tensor src = (grads ? t.grad() : t.detach()).view(-1).narrow(0, at, len);
			if (to_flat)
				dst.copy_(src);
			else
				src.copy_(dst);
		});
	});
}

extern "C" int tensor_adamw_flat(tensor *const *params, int n, int64_t off, tensor *m,
				 tensor *v, const tensor *g, const struct tensor_adamw *hp)
{
	if (any_null(params, n) || !m || !v || !g || !hp)
		return -1;
	return status(__func__, [&] {
		TORCH_CHECK(hp->step >= 1, "step ", hp->step, " < 1 (steps count from 1)");
		int64_t k = m->t.numel();
		TORCH_CHECK(v->t.numel() == k && g->t.numel() == k, "flat AdamW: slices of ", k, ", ",
			    v->t.numel(), " and ", g->t.numel(), " elements");
		at::NoGradGuard no_grad;
		at::Tensor mf = m->t.view(-1), vf = v->t.view(-1), gf = g->t.view(-1);
		over_flat(params, n, off, k, [&](int i, int64_t at, int64_t len, int64_t to) {
			at::Tensor p = params[i]->t.detach().view(-1).narrow(0, at, len);
			at::Tensor mp = mf.narrow(0, to, len), vp = vf.narrow(0, to, len);
			adamw_one(p, mp, vp, gf.narrow(0, to, len), hp);
		});
	});
}



static at::Tensor wide(const at::Tensor &g)
{
	return g.scalar_type() == at::kDouble ? g : g.to(at::kFloat);
}

/* the norm as clip_grad_norm_ takes it per tensor (fp32 reduction, no copy), squared */
extern "C" int tensor_sumsq(const tensor *t, double *out)
{
	if (!t || !out)
		return -1;
	return status(__func__, [&] {
		double norm = wide(t->t).norm().item<double>();
		*out = norm * norm;
	});
}

extern "C" int tensor_scale_(tensor *t, double s)
{
	if (!t)
		return -1;
	return status(__func__, [&] {
		at::NoGradGuard no_grad;
		t->t.mul_(s);
	});
}

/* torch.nn.utils.clip_grad_norm_: norms per grad in fp32 (or wider), then the norm of norms. */
extern "C" int tensor_clip_grad_norm(tensor *const *params, int n, double max_norm,
				     double *norm_out)
{
	if (any_null(params, n))
		return -1;
	return status(__func__, [&] {
		at::NoGradGuard no_grad;
		std::vector<at::Tensor> norms;
		for (int i = 0; i < n; i++) {
			const at::Tensor &g = params[i]->t.grad();
			if (g.defined())
				norms.push_back(wide(g).norm().to(at::kDouble));
		}
		double total = norms.empty() ? 0.0 : at::stack(norms).norm().item<double>();
		if (norm_out)
			*norm_out = total;
		double coef = max_norm / (total + 1e-6);
		if (max_norm <= 0 || coef >= 1)
			return;
		for (int i = 0; i < n; i++) {
			at::Tensor g = params[i]->t.grad();
			if (g.defined())
				g.mul_(coef);
		}
	});
}

extern "C" int tensor_grads_finite(tensor *const *params, int n, int *finite_out)
{
	if (any_null(params, n) || !finite_out)
		return -1;
	return status(__func__, [&] {
		std::vector<at::Tensor> ok;
		for (int i = 0; i < n; i++) {
			const at::Tensor &g = params[i]->t.grad();
			if (g.defined())
				ok.push_back(at::isfinite(g).all());
		}
		*finite_out = ok.empty() ? 1 : (at::stack(ok).all().item<bool>() ? 1 : 0);
	});
}
