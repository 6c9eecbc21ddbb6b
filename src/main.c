/*
 * main.c - the attnrl command line: one table of the commands (their functions and argument
 * tables, commands.h); main() picks the row and runs it, `attnrl help` prints each command's
 * synopsis and summary from its argument table (args.h), `attnrl NAME --help` its flags.
 * Each command lives in its own file (src/cmd_*.c, src/torch/cmd_*.c). Exit status 0 on
 * success, 1 on a run-time failure, 2 (ATTNRL_EXIT_USAGE) on a usage or config error, 75 when
 * train stopped on a signal or its time limit with a checkpoint saved (rerun to resume).
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/args.h"
#include "attnrl/commands.h"

#define SUMMARY_COLUMN 41 /* where a summary starts when the synopsis leaves room */
#define HELP_WIDTH 92     /* where a synopsis goes on in the next line */
#define HELP_INDENT 10    /* ... indented this far */

static int cmd_help(int argc, char **argv);

static const struct args_opt help_opts[] = { { NULL } };
static const struct args_spec help_args = { "help", "this text", help_opts };

static const struct command {
	int (*run)(int argc, char **argv);
	const struct args_spec *args;
} commands[] = {
	{ cmd_train, &cmd_train_args },
	{ cmd_sft, &cmd_sft_args },
	{ cmd_config, &cmd_config_args },
	{ cmd_plan, &cmd_plan_args },
	{ cmd_inspect, &cmd_inspect_args },
	{ cmd_generate, &cmd_generate_args },
	{ cmd_eval, &cmd_eval_args },
	{ cmd_analyze, &cmd_analyze_args },
	{ cmd_export, &cmd_export_args },
	{ cmd_report, &cmd_report_args },
	{ cmd_countdown_data, &cmd_countdown_data_args },
	{ cmd_tokenize, &cmd_tokenize_args },
	{ cmd_help, &help_args },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* "  NAME SYNOPSIS", going on in the next line before a word (a [...] group is one) that
 * would pass HELP_WIDTH; returns the length of its line, or -1 when it took several */
static int put_synopsis(FILE *f, const struct args_spec *s)
{
	char syn[2048];
	int lines = 1;
	args_synopsis(s, syn, sizeof(syn));
	int col = fprintf(f, "  %s", s->name);
	for (const char *p = syn; *p;) {
		const char *e = p;
		for (int depth = 0; *e && (*e != ' ' || depth); e++)
			depth += *e == '[' ? 1 : *e == ']' ? -1 : 0;
		int len = (int)(e - p);
		if (col + 1 + len > HELP_WIDTH) {
			fprintf(f, "\n%*s", HELP_INDENT, "");
			col = HELP_INDENT, lines++;
		} else {
			col += fprintf(f, " ");
		}
		col += fprintf(f, "%.*s", len, p);
		p = *e ? e + 1 : e;
	}
	return lines == 1 ? col : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: attnrl <command> [args]; attnrl <command> --help: its flags\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		int col = put_synopsis(f, commands[i].args);
		if (col >= 0 && col + 2 <= SUMMARY_COLUMN)
			fprintf(f, "%*s", SUMMARY_COLUMN - col, "");
		else
			fprintf(f, "\n%*s", HELP_INDENT, "");
		fprintf(f, "%s\n", commands[i].args->summary);
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
		return ATTNRL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(name, commands[i].args->name))
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "attnrl: unknown command '%s'; see 'attnrl help'\n", name);
	return ATTNRL_EXIT_USAGE;
}
