/*
 * test_trainer.c - the GRPO loop end to end on a tiny model:
 * every training step leaves the number of live tensor handles unchanged (no leak); the run
 * directory holds config.yaml, metrics.jsonl with the eval of step 0 on its first line and
 * the documented keys on every later line (and eval_accuracy on eval steps), samples.jsonl and the model; the rollout's log-probs equal the
 * training forward's; the same seed gives the same
 * metrics and a byte-identical model; a different seed does not.
 */
#include <stdlib.h>
#include <string.h>

#include "attnrl/json.h"
#include "attnrl/tensor.h"
#include "attnrl/trainer.h"
#include "check.h"

static const char *KEYS[] = { "step", "reward_mean", "accuracy", "loss", "grad_norm", "lr",
			      "entropy", "clip_frac", "response_len_mean", "rollout_tokens_per_s",
			      "time_rollout_s", "time_update_s" };

static const char *extra_override[2];

static void tiny_config(struct config *c, const char *name, long seed)
{
	char err[512];
	const char *ov[] = { "model.dim=32", "model.n_layers=2", "model.n_heads=4", "model.n_kv_heads=2",
			     "rollout.prompts_per_step=4", "rollout.group_size=4",
			     "rollout.max_new_tokens=20", "algo.mini_batch=8", "algo.micro_batch=4",
			     "optim.lr=1e-3", "train.steps=4", "train.eval_every=2", "data.eval_size=8",
			     "train.threads=1", "run.dir=build/tests/runs", "run.resume=never", "optim.schedule=cosine",
			     "optim.warmup_steps=2", "algo.kl_coef=0.01", "algo.entropy_coef=0.001" };
	config_init(c);
	for (size_t i = 0; i < sizeof(ov) / sizeof(ov[0]); i++)
		CHECK(!config_apply_override(c, ov[i], err, sizeof(err)), "%s", err);
	for (int i = 0; i < 2 && extra_override[i]; i++)
		CHECK(!config_apply_override(c, extra_override[i], err, sizeof(err)), "%s", err);
	snprintf(c->run.name, sizeof(c->run.name), "%s", name);
	c->run.seed = seed;
	CHECK(!config_validate(c, err, sizeof(err)), "%s", err);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = ftell(f);
	rewind(f);
	char *buf = malloc(*len + 1);
	*len = fread(buf, 1, *len, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

/* runs the tiny job; returns the metrics lines (caller frees) */
static char *run_job(const char *name, long seed, char **model, size_t *model_len)
{
	static struct config c;
	char err[1024], path[256];
	tiny_config(&c, name, seed);
	long live0 = tensor_live_count();
	struct trainer *t = trainer_create(&c, err, sizeof(err));
	CHECK(t != NULL, "trainer_create: %s", err);
	long live1 = tensor_live_count();
	CHECK(t && !trainer_run(t, err, sizeof(err)), "trainer_run: %s", err);
	CHECK(tensor_live_count() == live1, "live handles %ld after the steps, %ld before",
	      tensor_live_count(), live1);
	trainer_destroy(t);
	CHECK(tensor_live_count() == live0, "live handles %ld after trainer_destroy, %ld at start",
	      tensor_live_count(), live0);
	size_t len;
	snprintf(path, sizeof(path), "build/tests/runs/%s/model.safetensors", name);
	*model = slurp(path, model_len);
	snprintf(path, sizeof(path), "build/tests/runs/%s/config.yaml", name);
	char *cfg = slurp(path, &len);
	CHECK(cfg && strstr(cfg, "group_size"), "config.yaml written");
	free(cfg);
	snprintf(path, sizeof(path), "build/tests/runs/%s/samples.jsonl", name);
	char *samples = slurp(path, &len);
	CHECK(samples && strstr(samples, "\"response\""), "samples.jsonl written");
	free(samples);
	snprintf(path, sizeof(path), "build/tests/runs/%s/metrics.jsonl", name);
	return slurp(path, &len);
}

/* the first line is step 0's eval (step, eval_accuracy, eval_reward_mean); every later line
 * parses, has the keys, steps count 1..n, eval on steps 2 and 4 */
static void check_metrics(char *text, double *loss_sum)
{
	int line_no = 0, first = 1;
	*loss_sum = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char err[256];
		struct json *j = json_parse(line, strlen(line), err, sizeof(err));
		CHECK(j != NULL, "metrics line %d: %s", line_no + 1 + !first, err);
		if (!j)
			continue;
		if (first) {
			int64_t step = -1;
			json_int(json_get(j, "step"), &step);
			double acc = json_num(json_get(j, "eval_accuracy"));
			CHECK(step == 0 && acc >= 0 && acc <= 1 && json_get(j, "eval_reward_mean") &&
			      !json_get(j, "loss"), "first metrics line: not the eval of step 0: %s", line);
			first = 0;
			json_free(j);
			continue;
		}
		line_no++;
		for (size_t k = 0; k < sizeof(KEYS) / sizeof(KEYS[0]); k++)
			CHECK(json_get(j, KEYS[k]) != NULL, "metrics line %d lacks %s", line_no, KEYS[k]);
		int64_t step = -1;
		json_int(json_get(j, "step"), &step);
		CHECK(step == line_no, "step %lld on line %d", (long long)step, line_no);
		CHECK((json_get(j, "eval_accuracy") != NULL) == (step % 2 == 0), "eval_accuracy on step %lld", (long long)step);
		*loss_sum += json_num(json_get(j, "loss")) + json_num(json_get(j, "reward_mean"));
		/* the rollout's own log-probs (decode engine) against the training forward's (ATen) */
		double mis = json_num(json_get(j, "logp_mismatch"));
		CHECK(mis >= 0 && mis < 1e-4, "step %lld: logp_mismatch %g", (long long)step, mis);
		json_free(j);
	}
	CHECK(line_no == 4, "%d metrics lines, expected 4", line_no);
}

/* per step, gamma_mean and loss of two credit runs agree (from step 1: line 1 is step 0's eval) */
static void compare_runs(char *a, char *b)
{
	char *sa, *sb;
	char *la = strtok_r(a, "\n", &sa), *lb = strtok_r(b, "\n", &sb);
	CHECK(la && lb && strstr(la, "\"step\": 0,") && strstr(lb, "\"step\": 0,"), "step 0's eval first");
	la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb);
	int steps = 0;
	for (; la && lb; la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), steps++) {
		char err[256];
		struct json *x = json_parse(la, strlen(la), err, sizeof(err));
		struct json *y = json_parse(lb, strlen(lb), err, sizeof(err));
		const char *keys[] = { "gamma_mean", "frac_anchor", "frac_dominated", "loss" };
		for (int k = 0; x && y && k < 4; k++)
			CHECK_NEAR(json_num(json_get(x, keys[k])), json_num(json_get(y, keys[k])), 1e-6, keys[k]);
		json_free(x);
		json_free(y);
	}
	CHECK(steps == 4, "%d steps compared", steps);
}

int main(void)
{
	size_t la, lb, lc;
	char *ma, *mb, *mc;
	char *a = run_job("det_a", 5, &ma, &la), *b = run_job("det_b", 5, &mb, &lb);
	char *c = run_job("det_c", 6, &mc, &lc);
	double sa, sb, sc;
	CHECK(a && b && c, "metrics.jsonl written");
	if (a && b && c) {
		check_metrics(a, &sa);
		check_metrics(b, &sb);
		check_metrics(c, &sc);
		CHECK(sa == sb, "same seed, different metrics: %.9g vs %.9g", sa, sb);
		CHECK(sa != sc, "different seed, same metrics");
	}
	CHECK(ma && mb && la == lb && !memcmp(ma, mb, la), "same seed: the models differ");
	CHECK(ma && mc && (la != lc || memcmp(ma, mc, la)), "different seed: identical models");
	free(a), free(b), free(c), free(ma), free(mb), free(mc);
	/* credit on: the streamed statistics feed gamma, its metrics and the per-token samples */
	extra_override[0] = "credit.strategy=coupled";
	char *d = run_job("credit", 5, &ma, &la), *samples;
	CHECK(d && strstr(d, "\"gamma_mean\"") && strstr(d, "\"frac_anchor\""), "credit metrics");
	size_t ls;
	samples = slurp("build/tests/runs/credit/samples.jsonl", &ls);
	CHECK(samples && strstr(samples, "\"waad\"") && strstr(samples, "\"gamma\"") &&
	      strstr(samples, "\"delta\""), "per-token samples");
	/* the paper's way (a separate forward with maps) selects the same tokens: the same run */
	extra_override[1] = "credit.compute=maps";
	char *e = run_job("credit_maps", 5, &mb, &lb);
	compare_runs(d, e);
	free(d), free(e), free(ma), free(mb), free(samples);
	return check_done("test_trainer");
}
