/*
 * trainer_device.c - where the trainer's update runs (train.device) and the weights' two homes.
 *
 * On the CPU the training model is the policy's model itself (t->tm == t->pol.model): the
 * decode engine reads the memory AdamW updates, and nothing here runs. On a GPU, t->tm is a
 * copy of the policy on the device with fp32 master weights (AdamW moments are made beside
 * them, so fp32 too) and a bf16 forward/backward (model.h, compute_dtype); t->pol.model stays
 * on the host as the mirror the CPU decode engine, the checkpoints and the final save read.
 * The mirror is refreshed after the update (one device-to-host copy of the weights) when the
 * CPU engine decodes from it, else only before it is saved; the device copy is refreshed from
 * the mirror after a resume loaded it.
 * rollout.engine=gpu (auto on a GPU run): rollouts decode on the GPU engine (rollout_gpu.h),
 * whose bf16 weights are rounded from tm's fp32 master weights on the device after each of
 * these copies; the CPU engine over the mirror stays for credit.compute=maps and the tools.
 */
#include "attnrl/trainer.h"
#include "trainer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/testhook.h"

#define NO_DEVICE (-2) /* resolve(): train.device cannot be honoured */

/* train.device -> TENSOR_CPU or a CUDA index; NO_DEVICE with err when it cannot be honoured */
static int resolve(const struct trainer *t, char *err, size_t n)
{
	const char *s = t->cfg.train.device;
	int d = config_device_parse(s), built = 0, gpus = tensor_cuda_available() ?
		tensor_cuda_device_count() : 0;
#ifdef ATTNRL_CUDA
	built = 1;
#endif
	if (d == CONFIG_DEVICE_CPU || (d == CONFIG_DEVICE_AUTO && (!built || !gpus)))
		return TENSOR_CPU;
	if (d == CONFIG_DEVICE_BAD) {
		snprintf(err, n, "train.device='%s': expected auto, cpu, cuda or cuda:N", s);
		return NO_DEVICE;
	}
	if (!built || !gpus) {
		snprintf(err, n, "train.device=%s: %s; build with `make CUDA=1` on a machine with a "
			 "GPU, or set train.device=cpu", s, !built ? "this attnrl is a CPU-only build" :
			 "torch sees no CUDA device");
		return NO_DEVICE;
	}
	if (d < 0) /* auto or cuda: one GPU per rank on a node */
		return t->dist.env.local_rank % gpus;
	if (t->world > 1 && d != t->dist.env.local_rank % gpus) {
		snprintf(err, n, "train.device=%s with %d ranks: each rank trains on cuda:LOCAL_RANK "
			 "(here cuda:%d), the GPU NCCL uses; set train.device=cuda", s, t->world,
			 t->dist.env.local_rank % gpus);
		return NO_DEVICE;
	}
	if (d >= gpus) {
		snprintf(err, n, "train.device=%s: torch sees %d CUDA device(s) (0..%d); pick one of "
			 "them or use train.device=cuda", s, gpus, gpus - 1);
		return NO_DEVICE;
	}
	return d;
}

int trainer_device_resolve(struct trainer *t, char *err, size_t n)
{
	int d = resolve(t, err, n);
	if (d == NO_DEVICE)
		return -1;
	t->device = d;
	return 0;
}

/* after dist_init: collectives on device buffers need NCCL */
int trainer_device_check_dist(const struct trainer *t, char *err, size_t n)
{
	if (t->device == TENSOR_CPU || t->world == 1 || t->dist.backend == DIST_BACKEND_NCCL)
		return 0;
	snprintf(err, n, "train.device=%s with %d ranks needs dist.backend=nccl (auto picks it on "
		 "CUDA builds), not %s: Gloo collectives take host memory; set dist.backend=auto, or "
		 "train.device=cpu", t->cfg.train.device, t->world, dist_backend_name(t->dist.backend));
	return -1;
}

/* the test hook ATTNRL_TEST_TRAIN_COPY (testhook.h): a CPU run trains a separate copy as a GPU
 * run does, in this dtype; -1 for none */
static int test_copy_dtype(void)
{
	enum testhook_copy c = testhook_train_copy();
	return c == TESTHOOK_COPY_BF16 ? TENSOR_BF16 : c == TESTHOOK_COPY_F32 ? TENSOR_F32 : -1;
}

/* rollout.engine: the GPU decode engine on a GPU run unless cpu is asked for */
static int rollout_engine_init(struct trainer *t, char *err, size_t n)
{
	const char *e = t->cfg.rollout.engine;
	if (!strcmp(e, "cpu") || (!strcmp(e, "auto") && t->device == TENSOR_CPU))
		return 0;
	if (t->device == TENSOR_CPU) {
		snprintf(err, n, "rollout.engine=gpu: the GPU engine decodes from the trainer's weights "
			 "on the GPU, and this run updates on the CPU; set train.device=cuda (a `make "
			 "CUDA=1` build) or rollout.engine=auto");
		return -1;
	}
	tensor_cuda_synchronize(t->device); /* torch's copy of tm is complete */
	return policy_gpu_attach(&t->pol, &t->cfg, t->device, t->tm, t->rank, err, n);
}

int trainer_device_init(struct trainer *t, char *err, size_t n)
{
	int dtype = t->device == TENSOR_CPU ? test_copy_dtype() : TENSOR_BF16;
	if (dtype < 0) {
		t->tm = t->pol.model;
		return rollout_engine_init(t, err, n);
	}
	t->tm = model_to_device(t->pol.model, t->device, dtype);
	if (t->tm)
		return rollout_engine_init(t, err, n);
	snprintf(err, n, "train.device=%s: cannot copy the model to the device: %s",
		 t->cfg.train.device, tensor_last_error());
	return -1;
}

void trainer_device_free(struct trainer *t)
{
	policy_gpu_free(&t->pol); /* it reads tm */
	if (t->tm != t->pol.model)
		model_destroy(t->tm);
	t->tm = NULL;
}

/* the GPU engine's bf16 weights from tm's, once torch's update is done */
static int reload_gpu_engine(struct trainer *t)
{
	if (!t->pol.geng)
		return 0;
	return tensor_cuda_synchronize(t->device) || policy_gpu_reload(&t->pol, t->tm) ? -1 : 0;
}

static int copy_weights(struct trainer *t, int to_host, char *err, size_t n)
{
	int rc = to_host ? model_copy_weights(t->pol.model, t->tm) :
			   model_copy_weights(t->tm, t->pol.model);
	if (!rc) {
		t->mirror_stale = 0;
		return 0;
	}
	snprintf(err, n, "train.device: cannot copy the weights %s: %s",
		 to_host ? "to the host" : "to the GPU", tensor_last_error());
	return -1;
}

/* to_host: after an update, the GPU engine's weights from tm, and the host mirror when the CPU
 * engine decodes from it (else it is refreshed when read: trainer_device_mirror); else the
 * device weights from the mirror (after a resume); a no-op on the CPU */
int trainer_device_sync(struct trainer *t, int to_host, char *err, size_t n)
{
	if (t->tm == t->pol.model)
		return 0;
	int cpu_reads = !t->pol.gro || !strcmp(t->cfg.credit.compute, "maps");
	if (to_host && !cpu_reads)
		t->mirror_stale = 1;
	else if (copy_weights(t, to_host, err, n))
		return -1;
	if (reload_gpu_engine(t)) {
		snprintf(err, n, "rollout.engine=gpu: cannot refresh the GPU engine's weights on "
			 "cuda:%d", t->device);
		return -1;
	}
	return 0;
}

int trainer_device_mirror(struct trainer *t, char *err, size_t n)
{
	if (!t->mirror_stale)
		return 0;
	double t0 = fs_now();
	int rc = copy_weights(t, 1, err, n);
	t->sync_seconds += fs_now() - t0;
	return rc;
}

/* a host tensor on the training device (itself on the CPU) */
tensor *trainer_on_device(const struct trainer *t, tensor *x)
{
	if (t->device == TENSOR_CPU || !x)
		return x;
	return tensor_to(x, tensor_dtype(x), t->device);
}

/* "attnrl train: update on cuda:0: ..." - the figures gpu-check.sh turns into tokens/s and MFU */
void trainer_device_report(const struct trainer *t)
{
	if (t->tm == t->pol.model || t->rank)
		return;
	tensor_cuda_synchronize(t->device);
	int64_t peak = t->device == TENSOR_CPU ? -1 : tensor_cuda_peak_bytes(t->device);
	char mem[64] = "n/a", dev[32] = "cpu";
	if (peak >= 0)
		snprintf(mem, sizeof(mem), "%.2f GiB", peak / (1024.0 * 1024.0 * 1024.0));
	if (t->device != TENSOR_CPU)
		snprintf(dev, sizeof(dev), "cuda:%d", t->device);
	printf("attnrl train: update on %s (%s): %ld tokens forward+backward (%ld with padding), "
	       "%ld forward-only, %.3f s; %lld parameters; peak device memory %s (torch's); weight "
	       "copies (host mirror, GPU engine) %.3f s; rollouts on the %s engine\n", dev,
	       t->tm->compute_dtype == TENSOR_BF16 ? "bf16" : "fp32", t->upd_tokens, t->upd_padded,
	       t->fwd_tokens, t->upd_seconds, (long long)t->tm->n_elements, mem, t->sync_seconds,
	       t->pol.gro ? "GPU" : "CPU");
}
