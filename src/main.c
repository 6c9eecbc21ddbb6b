/*
 * main.c - the attnrl command line: train, sft, config, inspect, generate, eval, report,
 * export, countdown-data, tokenize. Each command is a short recipe over the modules; exit
 * status 0 on success, 1 on a run-time failure, 2 on a usage or config error, 75 when train
 * stopped on a signal or its time limit with a checkpoint saved (rerun to resume).
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/commands.h"
#include "attnrl/config.h"
#include "attnrl/inspect.h"
#include "attnrl/sft.h"
#include "attnrl/stop.h"
#include "attnrl/trainer.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f, "usage: attnrl <command> [args]\n"
		   "  train CONFIG [section.key=value ...]   GRPO training from a YAML config\n"
		   "  sft CONFIG [section.key=value ...]     supervised warm-up on the task's solutions\n"
		   "  config CONFIG [section.key=value ...]  print the resolved config as YAML\n"
		   "  config --reference                     print the option table (Markdown)\n"
		   "  inspect CONFIG [section.key=value ...] --prompt TEXT [--response TEXT] [--svg FILE]\n"
		   "          [--json FILE] [--with-maps]    per-token WAAD, FAI, sets, gamma of one response\n"
		   "  generate --model PATH [--tokenizer PATH] [--prompt TEXT] [--max-new-tokens N]\n"
		   "          [--temperature T] [--seed S]  sample one continuation (greedy: T=0)\n"
		   "  eval --model PATH|RUN_DIR [--data FILE.jsonl] [--k N] [--temperature T] [--top-p P]\n"
		   "          [--preset aime|greedy] [--by FIELD] [--limit N] [--json FILE] [CONFIG] [k=v ...]\n"
		   "          avg@k / pass@k of a model or run on a benchmark, overall and per subset\n"
		   "  export RUN_DIR [--step N] --out DIR [--dtype float32|bfloat16|float16]\n"
		   "                                         a run's weights as a Hugging Face folder\n"
		   "  report RUN_DIR [--out FILE] [--samples N]\n"
		   "                                         the run as one HTML page with SVG charts\n"
		   "                                         (default RUN_DIR/report.html)\n"
		   "  countdown-data --out DIR [--seed S] [--train 20000] [--test 512]\n"
		   "          a fixed Countdown set (TinyZero's rules) as DIR/train.jsonl, DIR/test.jsonl\n"
		   "  tokenize --tokenizer PATH [--json] [--decode | --split] [--time]\n"
		   "          stdin lines -> token ids (no BOS/EOS); --json: each line is a JSON string;\n"
		   "          --decode: ids -> text; --split: pre-token ends; --time: speed on stderr\n"
		   "  help                                   this text\n");
}

/* the config file then the overrides; prints one line and returns -1 on any error */
static int load_config(struct config *c, int argc, char **argv)
{
	char err[1024];
	config_init(c);
	if (argc < 1) {
		fprintf(stderr, "attnrl: missing CONFIG (a YAML file); see 'attnrl help'\n");
		return -1;
	}
	if (config_load_file(c, argv[0], err, sizeof(err)))
		goto fail;
	for (int i = 1; i < argc; i++)
		if (config_apply_override(c, argv[i], err, sizeof(err)))
			goto fail;
	if (config_validate(c, err, sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "%s\n", err);
	return -1;
}

static int cmd_config(int argc, char **argv)
{
	struct config c;
	if (argc >= 1 && !strcmp(argv[0], "--reference"))
		return config_write_reference(stdout) ? 1 : 0;
	if (load_config(&c, argc, argv))
		return EXIT_USAGE;
	return config_write_yaml(&c, stdout) ? 1 : 0;
}

static int cmd_train(int argc, char **argv)
{
	static struct config c;
	char err[1024];
	if (load_config(&c, argc, argv))
		return EXIT_USAGE;
	stop_install();
	struct trainer *t = trainer_create(&c, err, sizeof(err));
	int rc = !t ? -1 : trainer_run(t, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "attnrl train: %s\n", err);
	trainer_destroy(t);
	return rc < 0 ? 1 : rc == TRAINER_STOPPED ? STOP_EXIT_PREEMPTED : 0;
}

static int cmd_sft(int argc, char **argv)
{
	static struct config c;
	char err[1024];
	if (load_config(&c, argc, argv))
		return EXIT_USAGE;
	if (sft_run(&c, err, sizeof(err))) {
		fprintf(stderr, "attnrl sft: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	static struct config c;
	struct inspect_options o;
	char err[1024];
	if (inspect_args(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "attnrl inspect: %s\n", err);
		return EXIT_USAGE;
	}
	if (load_config(&c, o.n_config_args, o.config_args))
		return EXIT_USAGE;
	int rc = inspect_run(&c, &o, err, sizeof(err));
	if (rc)
		fprintf(stderr, "attnrl inspect: %s\n", err);
	return rc;
}

/* Training allocates and frees the same large activations every micro-step; by default glibc
 * hands such blocks back to the kernel and page-faults them in again (a fifth of the update's
 * time). Keep them in the heap instead. */
static void keep_freed_memory(void)
{
	mallopt(M_MMAP_THRESHOLD, 512 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int main(int argc, char **argv)
{
	keep_freed_memory();
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "train"))
		return cmd_train(argc - 2, argv + 2);
	if (!strcmp(cmd, "sft"))
		return cmd_sft(argc - 2, argv + 2);
	if (!strcmp(cmd, "config"))
		return cmd_config(argc - 2, argv + 2);
	if (!strcmp(cmd, "inspect"))
		return cmd_inspect(argc - 2, argv + 2);
	if (!strcmp(cmd, "generate"))
		return cmd_generate(argc - 2, argv + 2);
	if (!strcmp(cmd, "eval"))
		return cmd_eval(argc - 2, argv + 2);
	if (!strcmp(cmd, "countdown-data"))
		return cmd_countdown_data(argc - 2, argv + 2);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc - 2, argv + 2);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 2, argv + 2);
	if (!strcmp(cmd, "tokenize"))
		return cmd_tokenize(argc - 2, argv + 2);
	fprintf(stderr, "attnrl: unknown command '%s'; see 'attnrl help'\n", cmd);
	return EXIT_USAGE;
}
