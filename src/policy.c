/* policy.c - tokenizer + model + decode engine from a config (see policy.h). */
#include "attnrl/policy.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int policy_set_threads(long threads)
{
	int n = threads > 0 ? (int)threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	omp_set_num_threads(n);
	tensor_set_threads(n);
	return n;
}

static int policy_model(struct policy *p, const struct config *c, char *err, size_t n)
{
	struct model_config mc;
	if (model_config_from(&mc, c, p->tok.vocab_size, err, n))
		return -1;
	p->model = model_create(&mc, (uint64_t)c->run.seed, c->model.init_std);
	if (!p->model) {
		snprintf(err, n, "model: cannot create the parameters: %s", tensor_last_error());
		return -1;
	}
	if (c->model.path[0] && model_load(p->model, c->model.path, err, n))
		return -1;
	return 0;
}

int policy_init(struct policy *p, const struct config *c, int max_seqs, char *err, size_t n)
{
	memset(p, 0, sizeof(*p));
	if (tokenizer_init_chars(&p->tok)) {
		snprintf(err, n, "tokenizer: out of memory");
		return -1;
	}
	if (policy_model(p, c, err, n))
		return -1;
	struct engine_config ec;
	struct engine_weights ew;
	model_engine_config(p->model, &ec);
	p->layers = calloc(ec.n_layers, sizeof(*p->layers));
	if (!p->layers) {
		snprintf(err, n, "policy: out of memory");
		return -1;
	}
	ew.layers = p->layers;
	model_engine_weights(p->model, &ew);
	int rows = max_seqs > 256 ? max_seqs : 256;
	p->eng = engine_create(&ec, &ew, max_seqs, rows, (int)c->model.max_seq_len, err, n);
	if (!p->eng)
		return -1;
	if (rollout_init(&p->ro, p->eng, &p->tok)) {
		snprintf(err, n, "rollout: out of memory");
		return -1;
	}
	return 0;
}

void policy_free(struct policy *p)
{
	rollout_free(&p->ro);
	engine_destroy(p->eng);
	free(p->layers);
	model_destroy(p->model);
	tokenizer_free(&p->tok);
	memset(p, 0, sizeof(*p));
}
