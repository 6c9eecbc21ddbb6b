/* policy.c - tokenizer + model + decode engine from a config (see policy.h). */
#include "attnrl/policy.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/hf.h"
#include "attnrl/llama2c.h"

int policy_set_threads(long threads)
{
	int n = threads > 0 ? (int)threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	omp_set_num_threads(n);
	tensor_set_threads(n);
	return n;
}

/* tokenizer.bin or tok<vocab>.bin (llama2.c's naming, e.g. tok512.bin) in the checkpoint's
 * folder; 0 with its path in out */
static int llama2c_sibling_tokenizer(const char *model, char *out, size_t n)
{
	char dir[2048], err[256];
	struct model_config mc;
	snprintf(dir, sizeof(dir), "%s", model);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(out, n, "%s/tokenizer.bin", dir);
	if (!access(out, R_OK))
		return 0;
	if (llama2c_read_config(model, &mc, err, sizeof(err)))
		return -1;
	snprintf(out, n, "%s/tok%d.bin", dir, mc.vocab_size);
	return access(out, R_OK) ? -1 : 0;
}

int policy_tokenizer_init(struct tokenizer *tok, const struct config *c, char *err, size_t n)
{
	const char *path = c->model.tokenizer;
	if (!path[0] && c->model.path[0] && hf_is_folder(c->model.path))
		path = c->model.path;
	char found[4096];
	if (!path[0] && fs_has_suffix(c->model.path, ".bin")) {
		if (llama2c_sibling_tokenizer(c->model.path, found, sizeof(found))) {
			snprintf(err, n, "model.tokenizer: no tokenizer.bin (or tok<vocab>.bin) next to the "
				 "llama2.c checkpoint '%s'; set model.tokenizer=PATH (generate: --tokenizer PATH)",
				 c->model.path);
			return -1;
		}
		path = found;
	}
	if (path[0])
		return tokenizer_load(tok, path, err, n);
	if (tokenizer_init_chars(tok)) {
		snprintf(err, n, "tokenizer: out of memory");
		return -1;
	}
	return 0;
}

static int vocab_check(const struct policy *p, const char *path, char *err, size_t n)
{
	if (p->tok.vocab_size <= p->model->cfg.vocab_size)
		return 0;
	snprintf(err, n, "model.tokenizer: the tokenizer has %d ids but the model at '%s' only %d "
		 "embeddings; use the model's own tokenizer", p->tok.vocab_size, path,
		 p->model->cfg.vocab_size);
	return -1;
}

/* a Hugging Face folder: its config.json decides the shape, the run decides max_seq_len */
static int policy_model_hf(struct policy *p, const struct config *c, char *err, size_t n)
{
	struct hf_info info;
	if (hf_read_config(c->model.path, &info, err, n))
		return -1;
	info.mc.max_seq_len = (int)c->model.max_seq_len;
	p->model = model_create_empty(&info.mc);
	if (!p->model) {
		snprintf(err, n, "model: cannot allocate %s: %s", c->model.path, tensor_last_error());
		return -1;
	}
	return hf_load_weights(p->model, c->model.path, err, n);
}

static int policy_model(struct policy *p, const struct config *c, char *err, size_t n)
{
	const char *path = c->model.path;
	if (path[0] && fs_is_dir(path)) {
		if (!hf_is_folder(path)) {
			snprintf(err, n, "model.path '%s': a folder without config.json; give a Hugging "
				 "Face model folder", path);
			return -1;
		}
		if (policy_model_hf(p, c, err, n))
			return -1;
		return vocab_check(p, path, err, n);
	}
	if (fs_has_suffix(path, ".bin")) {
		p->model = llama2c_load(path, (int)c->model.max_seq_len, err, n);
		return p->model ? vocab_check(p, path, err, n) : -1;
	}
	struct model_config mc;
	if (model_config_from(&mc, c, p->tok.vocab_size, err, n))
		return -1;
	p->model = model_create(&mc, (uint64_t)c->run.seed, c->model.init_std);
	if (!p->model) {
		snprintf(err, n, "model: cannot create the parameters: %s", tensor_last_error());
		return -1;
	}
	if (path[0] && model_load(p->model, path, err, n))
		return -1;
	return 0;
}

int policy_model_config(const struct config *c, struct model_config *mc, char *err, size_t n)
{
	const char *path = c->model.path;
	struct hf_info info;
	struct tokenizer tok;
	int rc;
	if (path[0] && fs_is_dir(path)) {
		if (hf_read_config(path, &info, err, n))
			return -1;
		*mc = info.mc;
	} else if (fs_has_suffix(path, ".bin")) {
		if (llama2c_read_config(path, mc, err, n))
			return -1;
	} else {
		if (policy_tokenizer_init(&tok, c, err, n))
			return -1;
		rc = model_config_from(mc, c, tok.vocab_size, err, n);
		tokenizer_free(&tok);
		return rc;
	}
	mc->max_seq_len = (int)c->model.max_seq_len;
	return 0;
}

int policy_init(struct policy *p, const struct config *c, int max_seqs, char *err, size_t n)
{
	memset(p, 0, sizeof(*p));
	if (policy_tokenizer_init(&p->tok, c, err, n))
		return -1;
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
	policy_gpu_free(p);
	rollout_free(&p->ro);
	engine_destroy(p->eng);
	free(p->layers);
	model_destroy(p->model);
	tokenizer_free(&p->tok);
	memset(p, 0, sizeof(*p));
}
