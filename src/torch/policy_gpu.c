/*
 * policy_gpu.c - rollout.engine: the GPU decode engine and loop (engine_gpu.h, rollout_gpu.h)
 * attached to a policy, so that every rollout_generate of its struct rollout decodes on the GPU.
 * The engine's bf16 weights come from fp32 arrays on the device (a trainer's master copy) or
 * from the policy's host model. CPU-only builds keep the CPU engine (and refuse
 * rollout.engine=gpu with one line).
 */
#include "attnrl/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ATTNRL_CUDA
#include "attnrl/engine_gpu.h"
#include "attnrl/rollout_gpu.h"

static void weights_of(struct policy *p, const struct model *m, struct engine_config *c,
		       struct engine_weights *w)
{
	model_engine_config(m, c);
	w->layers = p->glayers;
	model_engine_weights(m, w);
}

int policy_gpu_attach(struct policy *p, const struct config *c, int device, const struct model *m,
		      int quiet, char *err, size_t n)
{
	struct engine_config ec;
	struct engine_weights ew;
	const struct engine *cpu = p->eng;
	char why[256];
	p->glayers = calloc(p->model->cfg.n_layers, sizeof(*p->glayers));
	if (!p->glayers) {
		snprintf(err, n, "rollout.engine: out of memory");
		return -1;
	}
	weights_of(p, m ? m : p->model, &ec, &ew);
	p->geng = engine_gpu_create(&ec, &ew, m != NULL, device, cpu->max_seqs, cpu->max_rows,
				    cpu->cache_len, why, sizeof(why));
	if (!p->geng) {
		if (!strcmp(c->rollout.engine, "auto") && strstr(why, "outside the CUDA kernels")) {
			if (!quiet)
				printf("attnrl: rollouts decode on the CPU engine: %s\n", why);
			return 0;
		}
		snprintf(err, n, "rollout.engine=%s: %s", c->rollout.engine, why);
		return -1;
	}
	struct rollout_gpu_opts o = { (int)c->rollout.check_every, c->rollout.cuda_graphs };
	p->gro = rollout_gpu_create(p->geng, &ec, cpu->max_seqs, &p->tok, &o, err, n);
	if (!p->gro)
		return -1;
	p->ro.device = rollout_gpu_device_fn;
	p->ro.device_ctx = p->gro;
	return 0;
}

int policy_gpu_reload(struct policy *p, const struct model *m)
{
	struct engine_config ec;
	struct engine_weights ew;
	if (!p->geng)
		return 0;
	weights_of(p, m ? m : p->model, &ec, &ew);
	return engine_gpu_load(p->geng, &ew, m != NULL);
}

void policy_gpu_release_kv(struct policy *p)
{
	engine_gpu_kv_release(p->geng);
}

void policy_gpu_free(struct policy *p)
{
	rollout_gpu_destroy(p->gro);
	engine_gpu_destroy(p->geng);
	p->gro = NULL;
	p->geng = NULL;
	p->ro.device = NULL;
	free(p->glayers);
	p->glayers = NULL;
}

#else

int policy_gpu_attach(struct policy *p, const struct config *c, int device, const struct model *m,
		      int quiet, char *err, size_t n)
{
	(void)p, (void)c, (void)device, (void)m, (void)quiet;
	snprintf(err, n, "rollout.engine=gpu: this attnrl is a CPU-only build; build with `make "
		 "CUDA=1` or set rollout.engine=auto");
	return -1;
}

int policy_gpu_reload(struct policy *p, const struct model *m)
{
	(void)p, (void)m;
	return 0;
}

void policy_gpu_release_kv(struct policy *p)
{
	(void)p;
}

void policy_gpu_free(struct policy *p)
{
	(void)p;
}

#endif

/* for the commands that only decode (eval): the GPU of train.device when one is visible */
int policy_gpu_auto(struct policy *p, const struct config *c, char *err, size_t n)
{
	const char *e = c->rollout.engine;
	int gpus = tensor_cuda_available() ? tensor_cuda_device_count() : 0;
	int d = config_device_parse(c->train.device);
	if (!strcmp(e, "cpu"))
		return 0;
	if (!gpus || d == CONFIG_DEVICE_CPU) {
		if (!strcmp(e, "auto"))
			return 0;
#ifdef ATTNRL_CUDA
		const char *why = gpus ? "train.device=cpu asks for no GPU" : "torch sees no CUDA device";
#else
		const char *why = "this attnrl is a CPU-only build (build with `make CUDA=1`)";
#endif
		snprintf(err, n, "rollout.engine=gpu: %s; set rollout.engine=auto or cpu", why);
		return -1;
	}
	if (d >= gpus) {
		snprintf(err, n, "train.device=%s: torch sees %d CUDA device(s)", c->train.device, gpus);
		return -1;
	}
	const char *lr = getenv("LOCAL_RANK") ? getenv("LOCAL_RANK") : getenv("SLURM_LOCALID");
	int device = d >= 0 ? d : (lr ? atoi(lr) : 0) % gpus;
	return policy_gpu_attach(p, c, device, NULL, 0, err, n);
}
