/*
 * args.h - the command line of every attnrl command: one table of its flags and positionals
 * drives the parsing, the checks (values, ranges, what is required), the usage line of its
 * errors and its --help text, so that none of them can drift from another.
 *
 * A command declares its table and spec next to its options struct:
 *
 *   struct report_args { const char *run_dir, *out; long samples; };
 *   #define OPT(f) offsetof(struct report_args, f)
 *   static const struct args_opt report_opts[] = {
 *       { "RUN_DIR", ARGS_STR, OPT(run_dir), NULL, 0, 0, NULL, ARGS_REQUIRED, "the run" },
 *       { "--samples", ARGS_LONG, OPT(samples), "N", 0, 1000, "6", ARGS_OPTIONAL, "shown" },
 *       { NULL },
 *   };
 *   const struct args_spec cmd_report_args = { "report", "the run as a page", report_opts };
 *
 * and starts with
 *
 *   if ((rc = args_parse(&cmd_report_args, &a, argc, argv, err, sizeof(err))))
 *       return args_exit(&cmd_report_args, rc, err);
 *
 * Flags are `--name VALUE` or `--name=VALUE` (a switch takes no value); the argument after a
 * flag is always its value, whatever it looks like, except after an ARGS_SWITCH_LONG, whose
 * value is optional: it takes the next argument only when that is all digits (`--watch`,
 * `--watch 5`, `--watch=5`). `-h` and `--help` anywhere else ask for the help. Any other
 * argument that starts with '-' (and is not "-" alone) is an unknown flag; the rest are
 * positionals, given to the table's positional entries (names without a dash) in their order:
 * a one-value entry takes one, a list (ARGS_LIST, the last positional entry) takes all that
 * remain, as CONFIG [section.key=value ...] for the config loader. A flag given twice keeps
 * its last value.
 */
#ifndef ATTNRL_ARGS_H
#define ATTNRL_ARGS_H

#include <stddef.h>
#include <stdio.h>

/* the exit status of a usage or config error, found before anything runs (every command) */
#define ATTNRL_EXIT_USAGE 2
/* args_parse's outcome when -h or --help was given */
#define ARGS_HELP 1
/* entries of one table, the end mark not counted */
#define ARGS_OPTS_MAX 32

/* what an entry's field is */
enum args_kind {
	ARGS_STR,    /* const char *: the argument itself */
	ARGS_CHOICE, /* const char *: one of the words of meta, "a|b|c" */
	ARGS_LONG,   /* long, an integer in [lo, hi] (hi >= LONG_MAX: no upper bound) */
	ARGS_DOUBLE, /* double, a finite number in [lo, hi] */
	ARGS_SWITCH, /* int, set to 1; takes no value */
	ARGS_SWITCH_LONG, /* long, a switch that may carry an integer in [lo, hi]: alone it sets
			     def, with `=V` or a next argument of digits only it sets V; not given,
			     the field is left as the caller set it (0: off) */
	ARGS_LIST,   /* struct args_list: every positional left (a positional entry only) */
};

/* the positionals of an ARGS_LIST entry, in their order, moved to the front of argv */
struct args_list {
	char **v;
	int n;
};

/* required: */
#define ARGS_OPTIONAL 0
#define ARGS_REQUIRED 1

/* one flag ("--model") or positional ("RUN_DIR", "CONFIG") of a command; a table lists every
 * field, help last: { "--k", ARGS_LONG, OPT(k), "N", 1, 1024, NULL, ARGS_OPTIONAL, "..." } */
struct args_opt {
	const char *name;
	enum args_kind kind;
	size_t offset;    /* of its field in the command's options struct */
	const char *meta; /* the value in the synopsis ("PATH"); a list's whole synopsis */
	double lo, hi;    /* ARGS_LONG, ARGS_DOUBLE; 0, 0 for the other kinds */
	const char *def;  /* the default, read as a given value is; NULL: the field is left as
			     the caller set it (ARGS_SWITCH_LONG: the value when given alone) */
	int required;     /* ARGS_REQUIRED: a flag that must be given, a positional (a list of
			     at least one) that must be there */
	const char *help; /* one line */
};

/* a command: its name after "attnrl", one line of what it does, its table ended by { NULL } */
struct args_spec {
	const char *name;
	const char *summary;
	const struct args_opt *opts;
};

/* argv (the arguments after the command's name) against s into the struct at opts: the
 * defaults first, then the arguments; positionals of a list are moved to the front of argv.
 * 0; ARGS_HELP when -h or --help was given; -1 with one line in err ("unknown flag '--x'",
 * "--k '0': expected an integer in [1, 1024]", "missing --model PATH") */
int args_parse(const struct args_spec *s, void *opts, int argc, char **argv, char *err,
	       size_t n);
/* what a command returns when args_parse did not give 0, or when a check of its own found a
 * usage error (rc -1, err its line): the help on stdout and 0, or "attnrl NAME: <err>; usage:
 * attnrl NAME <synopsis>" on stderr and ATTNRL_EXIT_USAGE */
int args_exit(const struct args_spec *s, int rc, const char *err);

/* the synopsis from the table, one line: "RUN_DIR [--out FILE] [--samples N]" (truncated to
 * n - 1 bytes) */
void args_synopsis(const struct args_spec *s, char *buf, size_t n);
/* the --help text: the usage line, the summary, one line per entry: its help, then "; required",
 * the range and the default where it has them */
void args_help(const struct args_spec *s, FILE *f);

#endif
