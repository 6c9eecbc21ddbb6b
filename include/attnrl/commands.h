/*
 * commands.h - the attnrl commands, one per src/cmd_*.c or src/torch/cmd_*.c file; main.c's
 * table names them. Each takes the arguments after its name and returns the exit status (0 ok,
 * 1 run-time failure, ATTNRL_EXIT_USAGE (2) usage or config error), having printed one line on
 * failure. Each reads its arguments with args.h against its table, cmd_NAME_args: its name,
 * summary, flags and positionals, from which `attnrl help` and `attnrl NAME --help` print.
 */
#ifndef ATTNRL_COMMANDS_H
#define ATTNRL_COMMANDS_H

#include "attnrl/args.h"

struct config;

extern const struct args_spec cmd_train_args, cmd_sft_args, cmd_config_args, cmd_inspect_args,
	cmd_generate_args, cmd_eval_args, cmd_export_args, cmd_report_args,
	cmd_countdown_data_args, cmd_tokenize_args, cmd_plan_args, cmd_analyze_args;

/* train CONFIG [section.key=value ...]: GRPO training (src/torch/cmd_train.c); 75 when it
 * stopped on a signal or its time limit with a checkpoint saved */
int cmd_train(int argc, char **argv);

/* sft CONFIG [section.key=value ...]: supervised warm-up on the task's worked solutions
 * (src/torch/cmd_sft.c) */
int cmd_sft(int argc, char **argv);

/* plan CONFIG [section.key=value ...] [--world N] [--gpu]: a run's memory plan, per rank
 * (src/torch/cmd_plan.c) */
int cmd_plan(int argc, char **argv);

/* config CONFIG [section.key=value ...] | config --reference (src/cmd_config.c) */
int cmd_config(int argc, char **argv);
/* CONFIG [section.key=value ...] (a list of args.h, at least CONFIG) -> c: the file, the
 * overrides, validation; prints one line and returns -1 on any error (src/cmd_config.c) */
int cmd_config_load(struct config *c, const struct args_list *cfg);

/* inspect CONFIG [k=v ...] --prompt TEXT [--response TEXT] [--svg FILE] [--json FILE]
 * [--with-maps] (src/torch/cmd_inspect.c) */
int cmd_inspect(int argc, char **argv);

/* generate --model PATH [--tokenizer PATH] [--prompt TEXT] [--max-new-tokens N] ...
 * [CONFIG] [section.key=value ...] (src/torch/cmd_generate.c) */
int cmd_generate(int argc, char **argv);

/* eval --model PATH|RUN_DIR [--data FILE.jsonl] [--k N] [--preset aime] [--by FIELD] ...:
 * avg@k and pass@k overall and per subset (src/torch/cmd_eval.c) */
int cmd_eval(int argc, char **argv);

/* --model PATH|RUN_DIR (a Hugging Face folder, llama2.c .bin, attnrl .safetensors, run or
 * checkpoint) and CONFIG [section.key=value ...] into c (config_init first): a run's
 * config.yaml is the base, then the CONFIG files, then the overrides, then model.path. A run's
 * weights path goes into weights (cap bytes; "" for other models), *weights_over = 1 when they
 * are to be loaded over the model the run started from (model_load after policy_init). Not
 * validated. -1 with one line in err (src/torch/cmd_eval.c) */
int cmd_model_config(struct config *c, const char *model, const struct args_list *list,
		     char *weights, size_t cap, int *weights_over, char *err, size_t n);
/* a run's weights ("" : nothing to check) against its checksums; -1 with one line in err */
int cmd_model_verify(const char *weights, char *err, size_t n);
/* path (NULL: nothing) can be written as the output file of flag; -1 with one line in err */
int cmd_output_check(const char *flag, const char *path, char *err, size_t n);

/* analyze --model PATH|RUN_DIR [--prompts FILE.jsonl] [--n N] [--k K] ...: the paper's
 * Section 4 analysis of sampled responses, peaks and linkages per layer third and the
 * perturbation test (src/torch/cmd_analyze.c) */
int cmd_analyze(int argc, char **argv);

/* export RUN_DIR [--step N] --out DIR [--dtype float32|bfloat16|float16]
 * (src/torch/cmd_export.c) */
int cmd_export(int argc, char **argv);

/* report RUN_DIR [--out FILE] [--samples N]: the run as one HTML page (src/cmd_report.c) */
int cmd_report(int argc, char **argv);

/* countdown-data --out DIR [--seed S] [--train N] [--test N] ...: TinyZero-style Countdown
 * JSONL (src/cmd_countdown.c) */
int cmd_countdown_data(int argc, char **argv);

/* tokenize --tokenizer PATH [--json] [--decode | --split] [--time] (src/cmd_tokenize.c) */
int cmd_tokenize(int argc, char **argv);

#endif
