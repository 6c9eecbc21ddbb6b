/*
 * loss_oracle.c - attnrl's GRPO advantages and loss (src/grpo_advantage.c, src/torch/grpo_loss.c)
 * evaluated on a rollout batch read from a safetensors file, for tests/test_loss_oracle.sh,
 * whose reference side (tests/ref/loss_oracle.py) runs verl's and TRL's code on the same batch.
 *
 *   loss_oracle BATCH.safetensors OUT.safetensors
 *
 * BATCH holds mask, old_logp, ref_logp, logp, entropy, gamma (B,T) F32, lens (B) I32 and
 * rewards (B) F32; its metadata: G (responses per group), max_new (rollout.max_new_tokens) and
 * configs, a ';'-separated list of "name,advantage,loss_agg,clip_low,clip_high,kl_coef,
 * entropy_coef,use_gamma" (advantage and loss_agg as in the config file). For each
 * configuration OUT gets, with the whole batch as one mini-batch:
 *   NAME.adv (B)      group advantages (adv_compute)
 *   NAME.weight (B,T) token weights of the aggregation (adv_token_weights)
 *   NAME.tok (B,T)    the per-token loss terms: d loss / d weight (loss = sum(tok * weight))
 *   NAME.dlogp (B,T)  d loss / d logp;   NAME.dent (B,T)  d loss / d entropy
 *   NAME.loss (1) F64 the loss value
 * and adv_single (B): grpo advantages with every response a group of its own (G = 1).
 * Token advantages are gamma * A on response tokens when use_gamma is 1, else A, as the
 * trainer's micro-step builds them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/grpo_advantage.h"
#include "attnrl/grpo_loss.h"
#include "attnrl/safetensors.h"
#include "attnrl/tensor.h"

#define MAX_CFG 64

struct cfg {
	char name[32];
	enum adv_mode adv;
	enum loss_agg agg;
	struct grpo_hparams hp;
	int use_gamma;
};

static int die(const char *what)
{
	fprintf(stderr, "loss_oracle: %s\n", what);
	return 1;
}

/* the F32 (or I32 for lens) tensor name of shape (B) or (B,T), copied into a new array */
static float *get_f32(const struct st_file *f, const char *name, int64_t n)
{
	const struct st_tensor *t = st_find(f, name);
	if (!t || t->dtype != ST_F32 || (int64_t)(t->nbytes / 4) != n) {
		fprintf(stderr, "loss_oracle: batch tensor %s missing or not F32 of %lld values\n", name,
			(long long)n);
		return NULL;
	}
	float *d = malloc(n * sizeof(float));
	if (d)
		memcpy(d, t->data, n * sizeof(float));
	return d;
}

static int parse_cfgs(const char *s, struct cfg *c, int max)
{
	int n = 0;
	char *copy = strdup(s), *save = NULL;
	if (!copy)
		return -1;
	for (char *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
		char adv[16], agg[32];
		if (n == max ||
		    sscanf(e, "%31[^,],%15[^,],%31[^,],%lf,%lf,%lf,%lf,%d", c[n].name, adv, agg,
			   &c[n].hp.clip_low, &c[n].hp.clip_high, &c[n].hp.kl_coef,
			   &c[n].hp.entropy_coef, &c[n].use_gamma) != 8 ||
		    adv_mode_parse(adv, &c[n].adv) || loss_agg_parse(agg, &c[n].agg)) {
			fprintf(stderr, "loss_oracle: bad configuration '%s'\n", e);
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return die("usage: loss_oracle BATCH.safetensors OUT.safetensors");
	char err[512];
	struct st_file f;
	if (st_open(&f, argv[1], err, sizeof(err)))
		return die(err);
	const struct st_tensor *mt = st_find(&f, "mask");
	const char *gs = st_meta(&f, "G"), *mn = st_meta(&f, "max_new"), *cs = st_meta(&f, "configs");
	if (!mt || mt->ndim != 2 || !gs || !mn || !cs)
		return die("batch needs a (B,T) mask and the metadata G, max_new, configs");
	int B = (int)mt->shape[0], T = (int)mt->shape[1], G = atoi(gs), max_new = atoi(mn);
	if (G < 1 || B % G)
		return die("B is not a multiple of G");
	int64_t bt = (int64_t)B * T;
	const struct st_tensor *lt = st_find(&f, "lens");
	if (!lt || lt->dtype != ST_I32 || lt->nbytes != (size_t)B * 4)
		return die("batch tensor lens missing or not I32 (B)");
	int *lens = malloc(B * sizeof(int));
	memcpy(lens, lt->data, B * sizeof(int));
	float *mask = get_f32(&f, "mask", bt), *old = get_f32(&f, "old_logp", bt);
	float *ref = get_f32(&f, "ref_logp", bt), *lp = get_f32(&f, "logp", bt);
	float *ent = get_f32(&f, "entropy", bt), *gam = get_f32(&f, "gamma", bt);
	float *rew = get_f32(&f, "rewards", B);
	struct cfg *cfg = calloc(MAX_CFG, sizeof(*cfg));
	int n_cfg = cfg ? parse_cfgs(cs, cfg, MAX_CFG) : -1;
	if (!lens || !mask || !old || !ref || !lp || !ent || !gam || !rew || n_cfg < 1)
		return 1;
	long tokens = 0;
	for (int b = 0; b < B; b++)
		tokens += lens[b];

	/* outputs: 5 (B,T) or (B) arrays and one double per configuration, plus adv_single */
	int n_out = 6 * n_cfg + 1;
	struct st_entry *e = calloc(n_out, sizeof(*e));
	char (*names)[48] = calloc(n_out, sizeof(*names));
	float *buf = calloc((size_t)n_cfg * (4 * bt + B) + B, sizeof(float));
	double *losses = calloc(n_cfg, sizeof(double));
	float *adv_tok = malloc(bt * sizeof(float));
	if (!e || !names || !buf || !losses || !adv_tok)
		return die("out of memory");
	int64_t shape_bt[2] = { B, T }, shape_b[1] = { B }, shape_1[1] = { 1 };
	tensor_set_threads(1);
	int k = 0;
	float *p = buf;
	for (int c = 0; c < n_cfg; c++) {
		const struct cfg *q = &cfg[c];
		float *adv = p, *w = adv + B, *tok = w + bt, *dlogp = tok + bt, *dent = dlogp + bt;
		p = dent + bt;
		adv_compute(rew, B / G, G, q->adv, adv);
		adv_token_weights(mask, lens, B, T, q->agg, B, tokens, max_new, w);
		for (int64_t i = 0; i < bt; i++)
			adv_tok[i] = mask[i] * (q->use_gamma ? gam[i] : 1.0f) * adv[i / T];
		tensor_frame_push();
		tensor *t_lp = tensor_from_f32(lp, shape_bt, 2), *t_ent = tensor_from_f32(ent, shape_bt, 2);
		tensor *t_w = tensor_from_f32(w, shape_bt, 2);
		if (tensor_set_requires_grad(t_lp, 1) || tensor_set_requires_grad(t_ent, 1) ||
		    tensor_set_requires_grad(t_w, 1))
			return die(tensor_last_error());
		tensor *loss = grpo_loss(t_lp, tensor_from_f32(old, shape_bt, 2),
					 tensor_from_f32(ref, shape_bt, 2), t_ent,
					 tensor_from_f32(adv_tok, shape_bt, 2), t_w, &q->hp);
		if (!loss || tensor_backward(loss) || tensor_item(loss, &losses[c]) ||
		    tensor_read_f32(tensor_grad(t_w), tok, bt) ||
		    tensor_read_f32(tensor_grad(t_lp), dlogp, bt) ||
		    tensor_read_f32(tensor_grad(t_ent), dent, bt))
			return die(tensor_last_error());
		tensor_frame_pop();
		const char *suffix[5] = { "adv", "weight", "tok", "dlogp", "dent" };
		float *data[5] = { adv, w, tok, dlogp, dent };
		for (int j = 0; j < 5; j++, k++) {
			snprintf(names[k], sizeof(names[k]), "%s.%s", q->name, suffix[j]);
			e[k] = (struct st_entry){ names[k], ST_F32, j ? 2 : 1, j ? shape_bt : shape_b, data[j] };
		}
		snprintf(names[k], sizeof(names[k]), "%s.loss", q->name);
		e[k] = (struct st_entry){ names[k], ST_F64, 1, shape_1, &losses[c] };
		k++;
	}
	adv_compute(rew, B, 1, ADV_GRPO, p);
	e[k++] = (struct st_entry){ "adv_single", ST_F32, 1, shape_b, p };
	if (st_write(argv[2], e, k, NULL, 0, err, sizeof(err)))
		return die(err);
	printf("loss_oracle: %d configurations on B=%d T=%d G=%d, %ld response tokens\n", n_cfg, B, T,
	       G, tokens);
	st_close(&f);
	free(lens), free(mask), free(old), free(ref), free(lp), free(ent), free(gam), free(rew);
	free(cfg), free(e), free(names), free(buf), free(losses), free(adv_tok);
	return 0;
}
