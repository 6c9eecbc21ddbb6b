/*
 * emu.cpp - the CPU emulation behind tests/gpu/emu/cuda_runtime.h: fibers for the threads of
 * one block at a time, barriers, warp exchange, and the runtime calls of the harness over host
 * memory. A fiber starts on its own stack through makecontext/setcontext once; every later
 * switch is _setjmp/_longjmp (no system call, unlike swapcontext). A deadlock (a barrier some
 * live thread never reaches) ends the program with a message naming where each thread waits.
 */
#include <time.h>
#include "cuda_runtime.h"
#include "emu_mem.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include <deque>
#include <map>
#include <set>
#include <tuple>
#include <vector>

uint3 blockIdx;
dim3 blockDim, gridDim;
const uint3 *emu_thread_idx;
void *emu_dyn_smem;

namespace {

enum { RUN, WAIT_WARP, WAIT_BLOCK, DONE };
constexpr size_t STACK = 256 * 1024;

struct fiber {
	ucontext_t ctx;
	jmp_buf jb;
	int created, started;
	uint3 idx;
	int lane, warp, state;
	void *where; /* the caller of the barrier it waits at */
	std::vector<char> stack;
};

/* fibers live across launches (a deque never moves them: a ucontext points into itself), each
 * running blocks in a loop, so that getcontext/setcontext (system calls) happen once per fiber */
std::deque<fiber> fibers;
jmp_buf sched;
fiber *cur;
const std::function<void()> *body;
int n_threads, block_live, block_waiting;
int warp_live[32], warp_waiting[32];
uint64_t slots[32][32];

void release(int state, int warp)
{
	for (int i = 0; i < n_threads; i++) {
		fiber &f = fibers[i];
		if (f.state == state && (warp < 0 || f.warp == warp))
			f.state = RUN;
	}
}

/* a barrier is complete when every live thread of its scope waits at it */
void settle(int warp)
{
	if (warp >= 0 && warp_waiting[warp] && warp_waiting[warp] == warp_live[warp]) {
		warp_waiting[warp] = 0;
		release(WAIT_WARP, warp);
	}
	if (block_waiting && block_waiting == block_live) {
		block_waiting = 0;
		release(WAIT_BLOCK, -1);
	}
}

void wait_at(int state)
{
	fiber *me = cur;
	me->state = state;
	if (state == WAIT_WARP)
		warp_waiting[me->warp]++;
	else
		block_waiting++;
	settle(me->warp);
	if (me->state != RUN && !_setjmp(me->jb))
		_longjmp(sched, 1);
	cur = me;
	emu_thread_idx = &me->idx;
}

/* a fiber's life: one block's body after another, parked between them */
void entry(int i)
{
	for (;;) {
		(*body)();
		fiber *me = &fibers[i];
		me->state = DONE;
		warp_live[me->warp]--;
		block_live--;
		settle(me->warp);
		if (!_setjmp(me->jb))
			_longjmp(sched, 1);
		cur = &fibers[i]; /* resumed for the next block */
		emu_thread_idx = &cur->idx;
	}
}

__attribute__((noinline)) void init_fiber(int i)
{
	fiber &f = fibers[i];
	f.idx = { (unsigned)i, 0, 0 };
	f.lane = i % 32;
	f.warp = i / 32;
	f.state = RUN;
	if (f.created)
		return;
	f.created = 1;
	f.started = 0;
	f.stack.resize(STACK);
	getcontext(&f.ctx);
	f.ctx.uc_stack.ss_sp = f.stack.data();
	f.ctx.uc_stack.ss_size = STACK;
	f.ctx.uc_link = nullptr;
	makecontext(&f.ctx, (void (*)())entry, 1, i);
}

/* runs f until it waits at a barrier or ends */
__attribute__((noinline)) void resume(fiber *f)
{
	cur = f;
	emu_thread_idx = &f->idx;
	if (_setjmp(sched))
		return;
	if (!f->started) {
		f->started = 1;
		setcontext(&f->ctx);
	}
	_longjmp(f->jb, 1);
}

} // namespace

/* stream capture: while a stream is captured, work is recorded here and replayed by
 * cudaGraphLaunch; the launchers' lambdas capture their arguments by value, as a graph does */
static std::vector<std::function<void()>> *capture;

static int captured(const std::function<void()> &op)
{
	if (capture)
		capture->push_back(op);
	return capture != nullptr;
}

/* the runtime's sticky state: the last error (cudaGetLastError), whether the capture under way
 * was invalidated, the kernels that ran once (a GPU loads a kernel's module at its first launch,
 * which is illegal while a stream is captured) and the kernels' shared memory attributes */
static cudaError_t last_error;
static int capture_invalid;
static std::set<const void *> loaded;
static std::map<const void *, int> smem_allowed;

static void invalidate_capture(const char *what)
{
	fprintf(stderr, "emu: %s runs for the first time while a stream is captured; on a GPU "
		"loading it breaks the capture (run it once before capturing)\n", what);
	capture_invalid = 1;
	last_error = cudaErrorStreamCaptureInvalidated;
}

/* the device's opt-in limit of shared memory per block: ATTNRL_EMU_SMEM_OPTIN bytes, or an
 * H100's 227 KiB */
static int smem_optin(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("ATTNRL_EMU_SMEM_OPTIN");
		v = e && *e ? atoi(e) : 227 * 1024;
	}
	return v;
}

cudaError_t emu_set_smem(const void *kernel, int bytes)
{
	if (bytes < 0 || bytes > smem_optin())
		return last_error = cudaErrorInvalidValue;
	smem_allowed[kernel] = bytes;
	return cudaSuccess;
}

void emu_run(const void *kernel, dim3 grid, dim3 block, size_t smem, const std::function<void()> &fn)
{
	auto at = smem_allowed.find(kernel);
	size_t allowed = at != smem_allowed.end() ? at->second : std::min(48 * 1024, smem_optin());
	if (smem > allowed) {
		fprintf(stderr, "emu: a launch asks for %zu bytes of dynamic shared memory, the kernel "
			"may use %zu (the device's opt-in limit is %d)\n", smem, allowed, smem_optin());
		last_error = cudaErrorInvalidValue;
		return;
	}
	if (capture && !loaded.count(kernel)) {
		invalidate_capture("a kernel");
		return;
	}
	if (captured([=] { emu_run(kernel, grid, block, smem, fn); }))
		return;
	loaded.insert(kernel);
	n_threads = block.x * block.y * block.z;
	if (block.y != 1 || block.z != 1 || n_threads > 1024) {
		fprintf(stderr, "emu: only 1-D blocks of at most 1024 threads\n");
		exit(3);
	}
	std::vector<char> dyn(smem + 16);
	emu_dyn_smem = dyn.data();
	blockDim = block;
	gridDim = grid;
	body = &fn;
	while ((int)fibers.size() < n_threads)
		fibers.emplace_back();
	for (unsigned z = 0; z < grid.z; z++)
		for (unsigned y = 0; y < grid.y; y++)
			for (unsigned x = 0; x < grid.x; x++) {
				blockIdx = { x, y, z };
				memset(dyn.data(), 0xa5, dyn.size()); /* shared memory starts as garbage */
				block_live = n_threads;
				block_waiting = 0;
				for (int w = 0; w < 32; w++) {
					warp_live[w] = std::max(0, std::min(32, n_threads - 32 * w));
					warp_waiting[w] = 0;
				}
				for (int i = 0; i < n_threads; i++)
					init_fiber(i);
				for (int done = 0; done < n_threads;) {
					int ran = 0;
					done = 0;
					for (int i = 0; i < n_threads; i++) {
						fiber &f = fibers[i];
						if (f.state == RUN) {
							resume(&f);
							ran = 1;
						}
						done += f.state == DONE;
					}
					if (!ran && done < n_threads) {
						int ww = 0;
						for (int i = 0; i < n_threads; i++)
							ww += fibers[i].state == WAIT_WARP;
						fprintf(stderr, "emu: deadlock in block (%u,%u,%u): %d of %d threads "
							"wait at a barrier others never reach (%d at warp "
							"barriers, %d at __syncthreads)\n", x, y, z,
							n_threads - done, n_threads, ww, n_threads - done - ww);
						for (int i = 0; i < n_threads; i++) {
							fiber &f = fibers[i];
							if (f.state != DONE && (!i || f.where != fibers[i - 1].where))
								fprintf(stderr, "emu:   thread %d waits, called from %p\n",
									(int)f.idx.x, f.where);
						}
						exit(3);
					}
				}
			}
}

void __syncthreads(void)
{
	cur->where = __builtin_return_address(0);
	wait_at(WAIT_BLOCK);
}

void __syncwarp(unsigned int)
{
	cur->where = __builtin_return_address(0);
	wait_at(WAIT_WARP);
}

int emu_lane(void)
{
	return cur->lane;
}

uint64_t emu_exchange(uint64_t v, int src)
{
	fiber *me = cur;
	me->where = __builtin_return_address(0);
	slots[me->warp][me->lane] = v;
	wait_at(WAIT_WARP);
	uint64_t r = slots[me->warp][src];
	wait_at(WAIT_WARP);
	return r;
}

unsigned int emu_match_any(uint64_t v)
{
	fiber *me = cur;
	me->where = __builtin_return_address(0);
	slots[me->warp][me->lane] = v;
	wait_at(WAIT_WARP);
	unsigned int m = 0;
	for (int l = 0; l < 32; l++) {
		int i = me->warp * 32 + l;
		if (i < n_threads && fibers[i].state != DONE && slots[me->warp][l] == v)
			m |= 1u << l;
	}
	wait_at(WAIT_WARP);
	return m;
}

/* ---- the runtime API over host memory (streams, events, the registry: emu_mem.cpp) ----- */

extern "C" {

cudaError_t cudaMalloc(void **p, size_t bytes)
{
	*p = malloc(bytes ? bytes : 1);
	if (*p) {
		memset(*p, 0x7f, bytes); /* device memory starts as garbage too */
		emu_mem_add(*p, bytes);
	}
	return *p ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t cudaFree(void *p)
{
	emu_mem_remove(p);
	free(p);
	return cudaSuccess;
}

/* a synchronous call while a stream is captured is an error on a GPU (and ends the capture) */
cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind)
{
	if (capture)
		return cudaErrorStreamCaptureUnsupported;
	memmove(dst, src, bytes);
	emu_mem_wrote(dst, bytes, nullptr);
	emu_stream_synced(nullptr);
	return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind,
			    cudaStream_t s)
{
	emu_mem_wrote(dst, bytes, s);
	if (!captured([=] { memmove(dst, src, bytes); }))
		memmove(dst, src, bytes);
	return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch,
			      size_t width, size_t height, enum cudaMemcpyKind, cudaStream_t s)
{
	emu_mem_wrote(dst, height ? (height - 1) * dpitch + width : 0, s);
	auto op = [=] {
		for (size_t r = 0; r < height; r++)
			memmove((char *)dst + r * dpitch, (const char *)src + r * spitch, width);
	};
	if (!captured(op))
		op();
	return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s)
{
	emu_mem_wrote(p, bytes, s);
	if (!captured([=] { memset(p, value, bytes); }))
		memset(p, value, bytes);
	return cudaSuccess;
}

cudaError_t cudaSetDevice(int device)
{
	return device == 0 ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t cudaGetDevice(int *device)
{
	*device = 0;
	return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device)
{
	if (device != 0)
		return cudaErrorInvalidValue;
	*value = attr == cudaDevAttrMaxSharedMemoryPerBlockOptin ? smem_optin() : 48 * 1024;
	return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
	if (capture)
		return cudaErrorStreamCaptureUnsupported;
	emu_stream_synced(s);
	return cudaSuccess;
}

struct emu_graph {
	std::vector<std::function<void()>> ops;
};

cudaError_t cudaStreamBeginCapture(cudaStream_t, enum cudaStreamCaptureMode)
{
	if (capture)
		return cudaErrorInvalidValue;
	capture = new std::vector<std::function<void()>>();
	return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t *g)
{
	if (!capture)
		return cudaErrorInvalidValue;
	*g = capture_invalid ? nullptr : new emu_graph{ std::move(*capture) };
	delete capture;
	capture = nullptr;
	if (capture_invalid) {
		capture_invalid = 0;
		return cudaErrorStreamCaptureInvalidated;
	}
	return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long)
{
	*e = (cudaGraphExec_t) new emu_graph(*g);
	return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t)
{
	if (capture)
		return cudaErrorInvalidValue;
	for (auto &op : ((emu_graph *)e)->ops)
		op();
	return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e)
{
	delete (emu_graph *)e;
	return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g)
{
	delete g;
	return cudaSuccess;
}

cudaError_t cudaMemset(void *p, int value, size_t bytes)
{
	memset(p, value, bytes);
	emu_mem_wrote(p, bytes, nullptr);
	emu_stream_synced(nullptr);
	return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
	if (capture)
		return cudaErrorStreamCaptureUnsupported;
	emu_device_synced();
	return cudaSuccess;
}

cudaError_t cudaGetLastError(void)
{
	cudaError_t e = last_error;
	last_error = cudaSuccess;
	return e;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "CPU emulation (tests/gpu/emu)");
	p->multiProcessorCount = 1;
	return cudaSuccess;
}

const char *cudaGetErrorName(cudaError_t e)
{
	return e == cudaSuccess ? "cudaSuccess" :
	       e == cudaErrorStreamCaptureUnsupported ? "cudaErrorStreamCaptureUnsupported" :
	       e == cudaErrorStreamCaptureInvalidated ? "cudaErrorStreamCaptureInvalidated" :
	       "cudaErrorInvalidValue";
}

const char *cudaGetErrorString(cudaError_t e)
{
	return cudaGetErrorName(e);
}
}

/* ---- cuBLAS: the one gemm engine_gpu.c uses ---------------------------------------------- */

#include "cublas_v2.h"
#include "attnrl/kernels.h"

struct emu_cublas {
	int unused;
};

static float load(const void *p, cudaDataType t, size_t i)
{
	return t == CUDA_R_16BF ? kern_bf2f(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

extern "C" {

cublasStatus_t cublasCreate(cublasHandle_t *h)
{
	*h = new emu_cublas();
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h)
{
	delete h;
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t, cudaStream_t)
{
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t, void *, size_t)
{
	return CUBLAS_STATUS_SUCCESS;
}

static void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float al,
		 const void *A, cudaDataType at, int lda, const void *B, cudaDataType bt, int ldb,
		 float be, void *C, cudaDataType ct, int ldc);

/* C (m, n) = alpha op(A) op(B) + beta C, column-major */
cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m,
			    int n, int k, const void *alpha, const void *A, cudaDataType at, int lda,
			    const void *B, cudaDataType bt, int ldb, const void *beta, void *C,
			    cudaDataType ct, int ldc, cublasComputeType_t, cublasGemmAlgo_t)
{
	/* cuBLAS picks its kernels by shape: a shape's first gemm may load one */
	static std::set<std::tuple<int, int, int, int, int, int, int, int>> shapes;
	auto shape = std::make_tuple(ta, tb, m, n, k, at, bt, ct);
	if (capture && !shapes.count(shape)) {
		invalidate_capture("a cuBLAS gemm of a new shape");
		return CUBLAS_STATUS_EXECUTION_FAILED;
	}
	float al = *(const float *)alpha, be = *(const float *)beta; /* host pointer mode */
	if (!captured([=] { gemm(ta, tb, m, n, k, al, A, at, lda, B, bt, ldb, be, C, ct, ldc); })) {
		gemm(ta, tb, m, n, k, al, A, at, lda, B, bt, ldb, be, C, ct, ldc);
		shapes.insert(shape);
	}
	return CUBLAS_STATUS_SUCCESS;
}
}

static void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float al,
		 const void *A, cudaDataType at, int lda, const void *B, cudaDataType bt, int ldb,
		 float be, void *C, cudaDataType ct, int ldc)
{
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			float s = 0.0f;
			for (int p = 0; p < k; p++) {
				size_t ia = ta == CUBLAS_OP_N ? i + (size_t)p * lda : p + (size_t)i * lda;
				size_t ib = tb == CUBLAS_OP_N ? p + (size_t)j * ldb : j + (size_t)p * ldb;
				s += load(A, at, ia) * load(B, bt, ib);
			}
			size_t ic = i + (size_t)j * ldc;
			float v = al * s + (be != 0.0f ? be * load(C, ct, ic) : 0.0f);
			if (ct == CUDA_R_16BF)
				((uint16_t *)C)[ic] = kern_f2bf(v);
			else
				((float *)C)[ic] = v;
		}
}
