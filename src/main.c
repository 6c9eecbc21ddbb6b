/*
 * main.c - the attnrl command line: one table of the commands (name, function, synopsis, one
 * line of what it does); main() picks the row and runs it, `attnrl help` prints the table.
 * Each command lives in its own file (src/cmd_*.c, src/torch/cmd_*.c; commands.h). Exit status
 * 0 on success, 1 on a run-time failure, 2 on a usage or config error, 75 when train stopped on
 * a signal or its time limit with a checkpoint saved (rerun to resume).
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/commands.h"

#define EXIT_USAGE 2
#define SUMMARY_COLUMN 41 /* where a summary starts when the synopsis leaves room */

static int cmd_help(int argc, char **argv);

/* `attnrl NAME ARGS` (a "\n" in ARGS goes on in the next line) and what it does, in one line */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
} commands[] = {
	{ "train", cmd_train, "CONFIG [section.key=value ...]",
	  "GRPO training from a YAML config" },
	{ "sft", cmd_sft, "CONFIG [section.key=value ...]",
	  "supervised warm-up on the task's solutions" },
	{ "config", cmd_config, "CONFIG [section.key=value ...] | --reference",
	  "print the resolved config as YAML, or the option table (Markdown)" },
	{ "inspect", cmd_inspect,
	  "CONFIG [section.key=value ...] --prompt TEXT [--response TEXT]\n"
	  "[--svg FILE] [--json FILE] [--with-maps]",
	  "per-token WAAD, FAI, sets, gamma of one response" },
	{ "generate", cmd_generate,
	  "--model PATH [--tokenizer PATH] [--prompt TEXT] [--max-new-tokens N]\n"
	  "[--temperature T] [--seed S]",
	  "sample one continuation (greedy: T=0)" },
	{ "eval", cmd_eval,
	  "--model PATH|RUN_DIR [--data FILE.jsonl] [--k N] [--temperature T] [--top-p P]\n"
	  "[--preset aime|greedy] [--by FIELD] [--limit N] [--json FILE] [CONFIG] [k=v ...]",
	  "avg@k / pass@k of a model or run on a benchmark, overall and per subset" },
	{ "export", cmd_export, "RUN_DIR [--step N] --out DIR [--dtype float32|bfloat16|float16]",
	  "a run's weights as a Hugging Face folder" },
	{ "report", cmd_report, "RUN_DIR [--out FILE] [--samples N]",
	  "the run as one HTML page with SVG charts (default RUN_DIR/report.html)" },
	{ "countdown-data", cmd_countdown_data, "--out DIR [--seed S] [--train 20000] [--test 512]",
	  "a fixed Countdown set (TinyZero's rules) as DIR/train.jsonl, DIR/test.jsonl" },
	{ "tokenize", cmd_tokenize, "--tokenizer PATH [--json] [--decode | --split] [--time]",
	  "stdin lines -> token ids (no BOS/EOS); --decode: ids -> text; --split: pre-token ends" },
	{ "help", cmd_help, "", "this text" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* s with each "\n" followed by the indent; returns the length of its last line */
static int put_lines(FILE *f, const char *s, int col)
{
	for (; *s; s++) {
		fputc(*s, f);
		if (*s == '\n')
			col = fprintf(f, "          ");
		else
			col++;
	}
	return col;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: attnrl <command> [args]\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		int col = fprintf(f, "  %s%s", c->name, c->args[0] ? " " : "");
		col = put_lines(f, c->args, col);
		if (col + 2 <= SUMMARY_COLUMN)
			fprintf(f, "%*s", SUMMARY_COLUMN - col, "");
		else
			fprintf(f, "\n          ");
		put_lines(f, c->summary, 0);
		fputc('\n', f);
	}
}

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	usage(stdout);
	return 0;
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
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "attnrl: unknown command '%s'; see 'attnrl help'\n", name);
	return EXIT_USAGE;
}
