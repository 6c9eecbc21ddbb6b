/*
 * config.h - the run configuration: one option table (CONFIG_SECTIONS below) generates
 * struct config, the YAML schema, the `section.key=value` overrides, the range checks, the
 * resolved-config printer and the reference of docs/config.md, so none of them can drift from
 * another.
 *
 * Order of use: config_init (defaults) -> config_load_file -> config_apply_override for each
 * command-line `section.key=value` -> config_validate (cross-key checks). A failed load or
 * override leaves the struct as it was. Errors are one line in the caller's buffer:
 * "configs/x.yaml:12:3: unknown key 'rollout.group_szie' (did you mean rollout.group_size?)".
 *
 * Field types by kind: INT -> long, FLOAT -> double, BOOL -> int (0/1),
 * STR -> char[CONFIG_STR_MAX], ENUM -> char[CONFIG_ENUM_MAX] holding one of the allowed values.
 * A field is named exactly as its key: cfg->rollout.group_size, cfg->model.arch.
 */
#ifndef ATTNRL_CONFIG_H
#define ATTNRL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_STR_MAX 512
#define CONFIG_ENUM_MAX 64

/*
 * X(section, key, kind, default, range, doc)
 * range: numbers "[lo, hi]", "(lo, hi]", "[lo, hi)", "(lo, hi)", ">= lo", "> lo", "" = any;
 *        enums the allowed values "a|b|c"; "" for str and bool.
 */
#define CONFIG_RUN(X)                                                                              \
	X(run, name, STR, "default", "",                                                           \
	  "run directory name under run.dir (a folder name: no /, not . or ..)")                   \
	X(run, dir, STR, "runs", "", "parent of run directories")                                  \
	X(run, seed, INT, 1, ">= 0", "seeds model init, data order and sampling")                  \
	X(run, resume, STR, "auto", "",                                                            \
	  "auto = continue from the newest complete checkpoint in <run.dir>/<run.name>/ckpt "      \
	  "(a fresh run when there is none); never = start over; or a checkpoint folder")          \
	X(run, resume_force, BOOL, 0, "",                                                          \
	  "resume even when the checkpoint was written with a different config, or the logs are "  \
	  "shorter than it recorded (what is there is kept)")

#define CONFIG_MODEL(X)                                                                            \
	X(model, arch, ENUM, "llama", "llama|qwen2|qwen3",                                         \
	  "decoder variant (qwen2: q/k/v bias; qwen3: q/k RMSNorm)")                               \
	X(model, path, STR, "", "",                                                                \
	  "weights to start from: a Hugging Face folder (its config.json sets the shape), a "      \
	  "llama2.c .bin, or a .safetensors written by attnrl; empty = seeded random init")        \
	X(model, tokenizer, STR, "", "",                                                           \
	  "tokenizer.json, llama2.c tokenizer.bin, or a folder; empty = the model folder's "       \
	  "tokenizer.json, else the built-in character vocabulary")                                \
	X(model, dim, INT, 128, "[8, 65536]", "model width (embedding size)")                      \
	X(model, n_layers, INT, 4, "[1, 512]", "decoder layers")                                   \
	X(model, n_heads, INT, 4, "[1, 1024]", "attention (query) heads")                          \
	X(model, n_kv_heads, INT, 0, "[0, 1024]", "key/value heads (grouped-query); 0 = n_heads")  \
	X(model, head_dim, INT, 0, "[0, 1024]", "size of one head; 0 = dim / n_heads")             \
	X(model, hidden_dim, INT, 0, "[0, 1048576]",                                               \
	  "SwiGLU width; 0 = the llama rule (8/3 dim rounded up to a multiple of 32)")             \
	X(model, max_seq_len, INT, 256, "[8, 1048576]", "longest prompt + response, in tokens")    \
	X(model, logits_chunk, INT, 0, "[-1, 1048576]",                                            \
	  "tokens per chunk of the output layer when log-probs and entropies are computed for "   \
	  "the update and sft: no [tokens x vocab] logits in the forward or the backward; 0 = "  \
	  "automatic (about 64 MiB of fp32 logits per chunk), -1 = the full logits (reference)") \
	X(model, rope_theta, FLOAT, 10000, "(0, 1e9]", "RoPE base frequency")                      \
	X(model, norm_eps, FLOAT, 1e-5, "(0, 1)", "RMSNorm epsilon")                               \
	X(model, tie_embeddings, BOOL, 1, "", "the output projection shares the token embedding")  \
	X(model, init_std, FLOAT, 0.02, "(0, 10]",                                                 \
	  "std of the random init (when model.path is empty)")

#define CONFIG_DATA(X)                                                                             \
	X(data, task, ENUM, "arith", "arith|countdown|math|mcq",                                   \
	  "task: problem generator and reward verifier (math: a JSONL dataset, \\boxed{} answers; " \
	  "mcq: a JSONL dataset of multiple-choice questions, the chosen letter)")                 \
	X(data, path, STR, "", "",                                                                 \
	  "JSONL train set (data.task=math, mcq; countdown: rows with nums and target, as "        \
	  "`attnrl countdown-data` writes them); empty = the task's seeded generator") \
	X(data, eval_path, STR, "", "",                                                            \
	  "JSONL held-out set; empty = 1 in 8 rows of data.path, chosen by a hash of the prompt")  \
	X(data, prompt_field, STR, "auto", "",                                                     \
	  "JSONL field holding the question; auto = the first of question, problem, prompt")      \
	X(data, answer_field, STR, "auto", "",                                                     \
	  "JSONL field holding the reference answer; auto = answer, else solution")                \
	X(data, answer_format, ENUM, "auto", "auto|gsm8k|boxed|plain",                             \
	  "how the reference is read: gsm8k = after '#### ', boxed = the last \\boxed{}, plain = "  \
	  "as is; auto = gsm8k when '#### ' is present, boxed when \\boxed is, else plain")        \
	X(data, template, STR, "plain", "",                                                        \
	  "prompt template: plain, paper, qwen-chat, llama3-chat, tinyzero, or a string with "    \
	  "{question}")                                                                            \
	X(data, seed, INT, 1234, ">= 0", "seed of the task generator (train and held-out sets)")   \
	X(data, eval_size, INT, 200, "[1, 1000000]", "held-out problems for eval")                 \
	X(data, min_ops, INT, 2, "[1, 15]", "arith: operations per problem, min")                   \
	X(data, max_ops, INT, 3, "[1, 15]", "arith: operations per problem, max")                   \
	X(data, max_operand, INT, 50, "[2, 1000000]", "arith: largest operand")                   \
	X(data, format_reward, FLOAT, 0, "[0, 100]",                                               \
	  "weight of the format reward added to the task's: 1 when the response is exactly "      \
	  "<think>...</think> <answer>...</answer>; 0 = off")

#define CONFIG_REWARD(X)                                                                           \
	X(reward, command, STR, "", "",                                                            \
	  "a reward program (a shell command line): attnrl starts reward.workers of it and "      \
	  "sends one JSON line per response on its stdin, reading one JSON reply per line on its " \
	  "stdout (docs/rewards.md); empty = the built-in verifier only")                          \
	X(reward, workers, INT, 4, "[1, 256]", "processes of reward.command, per rank")            \
	X(reward, timeout_s, FLOAT, 30, "(0, 86400]",                                              \
	  "seconds a worker may stay silent with requests outstanding; its oldest request then "   \
	  "fails and the worker is restarted")                                                     \
	X(reward, on_error, ENUM, "zero", "zero|skip|abort",                                       \
	  "a request that failed (time-out, a worker that died twice under it, a bad reply): "    \
	  "zero = reward 0, not correct; skip = its group leaves the update (eval: zero); abort = "\
	  "the run ends with exit 1, naming the last checkpoint")                                  \
	X(reward, combine, ENUM, "replace", "replace|add",                                         \
	  "replace = the program's reward is the task's; add = the built-in verifier's plus the "  \
	  "program's (data.format_reward is added in both)")

#define CONFIG_ROLLOUT(X)                                                                          \
	X(rollout, prompts_per_step, INT, 16, ">= 1", "prompts per training step")                 \
	X(rollout, group_size, INT, 8, ">= 1", "responses per prompt (G)")                         \
	X(rollout, max_new_tokens, INT, 64, ">= 1", "response length limit, in tokens")            \
	X(rollout, temperature, FLOAT, 1.0, "[0, 100]", "sampling temperature; 0 = greedy")        \
	X(rollout, top_p, FLOAT, 1.0, "(0, 1]", "nucleus sampling mass; 1 = off")                  \
	X(rollout, top_k, INT, 0, ">= 0", "sample among the k most likely tokens; 0 = off")        \
	X(rollout, stop, STR, "</answer>", "", "stop string (empty = only EOS)")                    \
	X(rollout, ignore_eos, BOOL, 0, "", "keep sampling after EOS (benchmarks: fixed lengths)") \
	X(rollout, engine, ENUM, "auto", "auto|cpu|gpu",                                           \
	  "where rollouts decode: gpu = the CUDA decode engine on train.device (bf16 weights and "  \
	  "KV cache, statistics fused into the attention, no per-token host sync); cpu = the C "   \
	  "engine on a host copy of the weights; auto = gpu when the update runs on a GPU "        \
	  "(train), when torch sees one (eval)")                                                  \
	X(rollout, check_every, INT, 8, "[1, 1024]",                                               \
	  "gpu engine: decode steps between the host's checks for finished sequences")            \
	X(rollout, cuda_graphs, BOOL, 1, "", "gpu engine: replay each decode step as a CUDA graph") \
	X(rollout, release_kv, BOOL, 0, "",                                                        \
	  "hand the decode engine's KV cache back after each rollout (gpu: to the device; cpu: "  \
	  "its pages to the kernel), so the update can use that memory, and make it again for "   \
	  "the next (the memory plan then counts the larger of the two, not both)")

#define CONFIG_ALGO(X)                                                                             \
	X(algo, advantage, ENUM, "grpo", "grpo|drgrpo",                                            \
	  "grpo: (r - mean) / std over the group; drgrpo: r - mean")                               \
	X(algo, clip_low, FLOAT, 0.2, "[0, 1)", "PPO ratio clip below: 1 - clip_low")              \
	X(algo, clip_high, FLOAT, 0.2, "[0, 10]", "PPO ratio clip above: 1 + clip_high")           \
	X(algo, loss_agg, ENUM, "seq-mean-token-mean",                                             \
	  "seq-mean-token-mean|token-mean|seq-mean-token-sum-norm",                                \
	  "loss aggregation: the paper's, DAPO's token mean, Dr. GRPO's sum / max_new_tokens")     \
	X(algo, kl_coef, FLOAT, 0, ">= 0", "k3 KL penalty against the initial model; 0 = off")     \
	X(algo, entropy_coef, FLOAT, 0, "", "entropy bonus coefficient; 0 = off")                  \
	X(algo, mini_batch, INT, 32, ">= 1", "responses per optimizer step")                       \
	X(algo, micro_batch, INT, 0, ">= 0", "responses per forward/backward; 0 = mini_batch")     \
	X(algo, micro_batch_tokens, INT, 0, ">= 0",                                                \
	  "token budget of one forward/backward (prompt + response positions, padding "           \
	  "included; at least model.max_seq_len): a mini-batch's responses sorted by length and " \
	  "packed under it, the loss unchanged; 0 = algo.micro_batch responses at a time")        \
	X(algo, ppo_epochs, INT, 1, "[1, 100]", "passes over each rollout batch")                  \
	X(algo, recompute_logprobs, BOOL, 1, "",                                                   \
	  "old log-probs from the training forward (else the rollout's own)")

#define CONFIG_OPTIM(X)                                                                            \
	X(optim, lr, FLOAT, 1e-6, "(0, 10]", "peak learning rate (AdamW)")                         \
	X(optim, beta1, FLOAT, 0.9, "[0, 1)", "AdamW beta1")                                       \
	X(optim, beta2, FLOAT, 0.999, "[0, 1)", "AdamW beta2")                                     \
	X(optim, eps, FLOAT, 1e-8, "(0, 1)", "AdamW epsilon")                                      \
	X(optim, weight_decay, FLOAT, 0.0, "[0, 10]", "decoupled weight decay")                    \
	X(optim, grad_clip, FLOAT, 1.0, ">= 0", "global gradient-norm clip; 0 = off")              \
	X(optim, schedule, ENUM, "constant", "constant|cosine",                                    \
	  "cosine = linear warmup then cosine to lr_min")                                          \
	X(optim, warmup_steps, INT, 0, ">= 0", "linear warmup length, in steps")                   \
	X(optim, lr_min, FLOAT, 0, ">= 0", "learning rate at the end of the cosine")

#define CONFIG_TRAIN(X)                                                                            \
	X(train, steps, INT, 100, ">= 0", "training steps (one rollout batch each)")               \
	X(train, log_every, INT, 1, ">= 1", "console line every N steps")                          \
	X(train, eval_every, INT, 10, ">= 0", "eval every N steps; 0 = eval off")                  \
	X(train, eval_before, BOOL, 1, "", "eval before the first step (when eval is on)")         \
	X(train, threads, INT, 0, ">= 0", "torch/BLAS threads; 0 = all cores")                     \
	X(train, checkpoint_layers, BOOL, 0, "",                                                   \
	  "activation checkpointing: keep only each decoder layer's input for the backward and "  \
	  "run the layer again there (less memory, one more forward of the layers)")              \
	X(train, device, STR, "auto", "",                                                          \
	  "where the update runs: cpu, cuda (cuda:LOCAL_RANK with ranks) or cuda:N; auto = cuda "  \
	  "on CUDA builds that see a GPU, else cpu. On cuda: bf16 forward/backward, fp32 master "  \
	  "weights and AdamW moments; rollouts decode on the GPU too (rollout.engine)")           \
	X(train, samples_per_step, INT, 2, ">= 0", "records written to samples.jsonl per step")   \
	X(train, save_every, INT, 50, ">= 0",                                                      \
	  "checkpoint every N steps into <run>/ckpt/step_N; 0 = only at the end and when stopped") \
	X(train, keep_last, INT, 2, ">= 0",                                                        \
	  "complete checkpoints kept (older ones removed); 0 = all")                               \
	X(train, time_limit, FLOAT, 0, ">= 0",                                                     \
	  "seconds this run may take from its set-up; a checkpoint is saved and it exits "         \
	  "(code 75) before then, judged by the measured step time; 0 = none")                     \
	X(train, max_bad_steps, INT, 5, ">= 0",                                                    \
	  "abort after this many steps in a row with a non-finite loss or gradient; 0 = never")   \
	X(train, memory_check, BOOL, 1, "",                                                        \
	  "refuse a run whose memory plan (printed at start) exceeds the available memory (a GPU "  \
	  "run: its GPU's free memory)")

#define CONFIG_LOG(X)                                                                              \
	X(log, tensorboard, BOOL, 0, "",                                                           \
	  "also write TensorBoard event files into the run folder: every metrics.jsonl value and " \
	  "a few sample texts (tensorboard --logdir <run.dir>)")

#define CONFIG_EVAL(X)                                                                             \
	X(eval, k, INT, 1, "[1, 1024]",                                                            \
	  "responses per held-out problem, in training's periodic eval and `attnrl eval`; the "   \
	  "accuracy is their mean (avg@k; greedy k = 1 is pass@1)")                                \
	X(eval, temperature, FLOAT, 0, "[0, 100]",                                                 \
	  "eval sampling temperature; 0 = greedy (then eval.k must be 1)")                        \
	X(eval, top_p, FLOAT, 1.0, "(0, 1]", "eval nucleus sampling mass; 1 = off")                \
	X(eval, batch, INT, 0, "[0, 65536]",                                                       \
	  "sequences training's eval decodes at once; the decode engine (its KV cache of "        \
	  "max_seq_len per sequence) holds the larger of this and a step's responses; 0 = "       \
	  "data.eval_size up to 256")

#define CONFIG_DIST(X)                                                                             \
	X(dist, backend, ENUM, "auto", "auto|nccl|gloo|none",                                      \
	  "collectives between ranks: auto = nccl on CUDA builds training on GPUs, else gloo; "   \
	  "none when the launcher started one process")                                           \
	X(dist, rendezvous, ENUM, "auto", "auto|file|tcp",                                         \
	  "how ranks find each other: file = <run.dir>/<run.name>/.rendezvous (shared), tcp = "  \
	  "rank 0 serves MASTER_ADDR:MASTER_PORT; auto = tcp when MASTER_ADDR is set, else file") \
	X(dist, timeout, FLOAT, 300, "(0, 86400]",                                                 \
	  "seconds to wait for every rank at start-up, and for each collective")                   \
	X(dist, shard_optimizer, BOOL, 0, "",                                                      \
	  "ZeRO-1: each rank keeps the AdamW moments of its 1/N slice of the parameters "          \
	  "(gradients reduce-scattered, updated weights all-gathered); checkpoints hold one "      \
	  "optimizer file per rank")

#define CONFIG_CREDIT(X)                                                                           \
	X(credit, strategy, ENUM, "none", "none|local|global|coupled|random|entropy",              \
	  "per-token credit (docs/method.md section 6); none = plain GRPO")                        \
	X(credit, gamma_amp, FLOAT, 1.5, "[0, 100]", "multiplier of selected tokens' advantage")   \
	X(credit, top_q, FLOAT, 0.4, "(0, 1]", "fraction of response tokens selected (TopQ)")      \
	X(credit, window, INT, 10, "[1, 100000]", "W: WAAD's distance clip")                       \
	X(credit, fai_lo, INT, 10, "[0, 100000]", "H_lo: FAI's nearest query offset")              \
	X(credit, fai_hi, INT, 100, "[0, 100000]", "H_hi: FAI's farthest query offset")            \
	X(credit, layers, STR, "auto", "",                                                         \
	  "sampled layers: auto (5 between L/3 and 2L/3) or a list like 12,15,18")                 \
	X(credit, head_quantile, FLOAT, 0.3, "(0, 0.5]", "share of (layer, head) pairs per group")  \
	X(credit, head_grouping, ENUM, "per_response", "per_response|per_batch",                   \
	  "rank heads by d per response, or by d averaged over the rollout batch")                 \
	X(credit, sign, ENUM, "both", "both|positive|negative",                                    \
	  "advantages gamma applies to: both (v2), positive (v1), negative")                       \
	X(credit, select, ENUM, "top", "top|bottom", "TopQ side (bottom: the paper's ablation)")   \
	X(credit, alpha, FLOAT, 0.5, "[0, 1]", "coupled: share of an anchor's bonus moved to its preplan token") \
	X(credit, k, INT, 3, "[1, 100000]", "coupled: how far back an anchor's preplan token may be") \
	X(credit, tau_waad, STR, "auto", "",                                                       \
	  "coupled: WAAD threshold of a dominated anchor; auto = median WAAD of the response")     \
	X(credit, tau_delta, STR, "auto", "",                                                      \
	  "coupled: Delta threshold; auto = smallest Delta in T_loc")                              \
	X(credit, compute, ENUM, "stream", "stream|maps",                                          \
	  "stream: statistics accumulate in the decode attention; maps: the paper's way, a separate forward per response materialising N x N maps (for comparison)")

#define CONFIG_SFT(X)                                                                              \
	X(sft, steps, INT, 1000, ">= 0", "supervised steps of `attnrl sft`")                       \
	X(sft, batch_size, INT, 32, ">= 1", "examples per step")                                   \
	X(sft, lr, FLOAT, 1e-3, "(0, 10]", "peak learning rate")                                   \
	X(sft, warmup_steps, INT, 50, ">= 0", "linear warmup length, in steps")                    \
	X(sft, direct_frac, FLOAT, 0.0, "[0, 1]",                                                 \
	  "fraction of examples whose solution skips the worked steps (answer only)")              \
	X(sft, out, STR, "", "",                                                                   \
	  "where `attnrl sft` writes the model (.safetensors); "                                   \
	  "empty = <run.dir>/<run.name>/model.safetensors")

/* S(section, option list), in file order */
#define CONFIG_SECTIONS(S)                                                                         \
	S(run, CONFIG_RUN) S(model, CONFIG_MODEL) S(data, CONFIG_DATA) S(reward, CONFIG_REWARD)  \
	S(rollout, CONFIG_ROLLOUT) S(algo, CONFIG_ALGO) S(optim, CONFIG_OPTIM)                   \
	S(train, CONFIG_TRAIN) S(log, CONFIG_LOG) S(eval, CONFIG_EVAL) S(dist, CONFIG_DIST)       \
	S(credit, CONFIG_CREDIT) S(sft, CONFIG_SFT)

enum config_kind { CONFIG_INT, CONFIG_FLOAT, CONFIG_BOOL, CONFIG_STR, CONFIG_ENUM };

#define CONFIG_DECL_INT(key) long key;
#define CONFIG_DECL_FLOAT(key) double key;
#define CONFIG_DECL_BOOL(key) int key;
#define CONFIG_DECL_STR(key) char key[CONFIG_STR_MAX];
#define CONFIG_DECL_ENUM(key) char key[CONFIG_ENUM_MAX];
#define CONFIG_DECL_FIELD(sec, key, kind, def, range, doc) CONFIG_DECL_##kind(key)
#define CONFIG_DECL_SECTION(sec, LIST) struct config_##sec { LIST(CONFIG_DECL_FIELD) } sec;

/* struct config { struct config_run { char name[512]; ... } run; struct config_model ... }; */
struct config {
	CONFIG_SECTIONS(CONFIG_DECL_SECTION)
};

#define CONFIG_COUNT_FIELD(sec, key, kind, def, range, doc) +1
#define CONFIG_COUNT_SECTION(sec, LIST) LIST(CONFIG_COUNT_FIELD)
enum { CONFIG_N_OPTIONS = 0 CONFIG_SECTIONS(CONFIG_COUNT_SECTION) };

void config_init(struct config *c); /* every option at its default */
/* applies a YAML file (a mapping of sections, each a mapping of key: scalar) on top of c */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* the same from text[0..len) (no NUL needed); where names it in messages */
int config_load_text(struct config *c, const char *text, size_t len, const char *where, char *err,
		     size_t errlen);
/* applies one "section.key=value"; the value is taken verbatim (it may contain '=') */
int config_apply_override(struct config *c, const char *kv, char *err, size_t errlen);
/* every option in range, then cross-key consistency (batch arithmetic, head counts, ...) */
int config_validate(const struct config *c, char *err, size_t errlen);
/* train.device: "cuda:N" -> N, else one of these */
enum { CONFIG_DEVICE_CPU = -1, CONFIG_DEVICE_AUTO = -2, CONFIG_DEVICE_CUDA = -3 /* index from
       the rank */, CONFIG_DEVICE_BAD = -4 };
int config_device_parse(const char *s);

/* the resolved config as YAML, every key, doc and range as trailing comments; reloads equal */
int config_write_yaml(const struct config *c, FILE *f);
/* the reference of docs/config.md: a Markdown table,
 * key | type | default | range / values | doc */
int config_write_reference(FILE *f);
/* FNV-1a 64 over the comment-free resolved YAML (doc edits do not change it) */
uint64_t config_hash(const struct config *c);

#endif
