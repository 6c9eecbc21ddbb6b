/*
 * test_args.c - the argument parser of the commands (args.h), against one table that holds
 * every kind: values and their ranges, defaults, switches, choices, required flags and
 * positionals, a list of positionals compacted to the front of argv, --flag=value, the
 * messages word for word, the synopsis, the --help text and what args_exit prints and returns;
 * and a switch with an optional integer value (ARGS_SWITCH_LONG) in a table of its own.
 */
#include "attnrl/args.h"
#include "check.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct t_opts {
	const char *name, *path, *mode;
	long count, seed;
	double rate;
	int verbose;
	struct args_list rest;
};

#define T(f) offsetof(struct t_opts, f)
static const struct args_opt t_table[] = {
	{ "NAME", ARGS_STR, T(name), NULL, 0, 0, NULL, ARGS_REQUIRED, "a name" },
	{ "--path", ARGS_STR, T(path), "PATH", 0, 0, NULL, ARGS_REQUIRED, "a path" },
	{ "--mode", ARGS_CHOICE, T(mode), "fast|slow|exact", 0, 0, "fast", ARGS_OPTIONAL, "how" },
	{ "--count", ARGS_LONG, T(count), "N", 1, 1024, "64", ARGS_OPTIONAL, "how many" },
	{ "--seed", ARGS_LONG, T(seed), "S", 0, (double)LONG_MAX, NULL, ARGS_OPTIONAL, "a seed" },
	{ "--rate", ARGS_DOUBLE, T(rate), "R", 0, 1, NULL, ARGS_OPTIONAL, "a rate" },
	{ "--verbose", ARGS_SWITCH, T(verbose), NULL, 0, 0, NULL, ARGS_OPTIONAL, "say more" },
	{ "CONFIG", ARGS_LIST, T(rest), "[CONFIG] [section.key=value ...]", 0, 0, NULL,
	  ARGS_OPTIONAL, "configs, overrides" },
	{ NULL },
};
static const struct args_spec t_spec = { "t", "a test command", t_table };

/* one positional, no list, nothing required */
struct u_opts {
	const char *dir;
	int on;
};
static const struct args_opt u_table[] = {
	{ "DIR", ARGS_STR, offsetof(struct u_opts, dir), NULL, 0, 0, NULL, ARGS_OPTIONAL, "a folder" },
	{ "--on", ARGS_SWITCH, offsetof(struct u_opts, on), NULL, 0, 0, NULL, ARGS_OPTIONAL, "on" },
	{ NULL },
};
static const struct args_spec u_spec = { "u", "another", u_table };

/* a positional and a switch that may carry a value */
struct w_opts {
	const char *dir;
	long every;
};
static const struct args_opt w_table[] = {
	{ "DIR", ARGS_STR, offsetof(struct w_opts, dir), NULL, 0, 0, NULL, ARGS_OPTIONAL, "a folder" },
	{ "--every", ARGS_SWITCH_LONG, offsetof(struct w_opts, every), "S", 1, 60, "10",
	  ARGS_OPTIONAL, "repeat" },
	{ NULL },
};
static const struct args_spec w_spec = { "w", "a third", w_table };

static char line_buf[1024], *argv_buf[64], err[512];
static struct t_opts o;

/* words of line (split at spaces; "" for an empty word) as a fresh argv; argc */
static int split(const char *line)
{
	int argc = 0;
	snprintf(line_buf, sizeof(line_buf), "%s", line);
	for (char *p = line_buf; *p && argc < 63;) {
		argv_buf[argc++] = p;
		p += strcspn(p, " ");
		if (*p)
			*p++ = '\0';
	}
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv_buf[i], "''"))
			argv_buf[i][0] = '\0';
	argv_buf[argc] = NULL;
	return argc;
}

/* parses line into o, set beforehand as a caller would: seed -1, rate 0.5 */
static int parse(const char *line)
{
	memset(&o, 0, sizeof(o));
	o.seed = -1;
	o.rate = 0.5;
	err[0] = '\0';
	int argc = split(line);
	return args_parse(&t_spec, &o, argc, argv_buf, err, sizeof(err));
}

/* line fails with exactly msg */
static void check_error(const char *line, const char *msg)
{
	int rc = parse(line);
	CHECK(rc == -1 && !strcmp(err, msg), "'%s': rc %d, '%s' (want '%s')", line, rc, err, msg);
}

static void test_values(void)
{
	CHECK(parse("run --path p") == 0, "%s", err);
	CHECK(!strcmp(o.name, "run") && !strcmp(o.path, "p"), "name, path");
	CHECK(!strcmp(o.mode, "fast") && o.count == 64, "defaults: %s %ld", o.mode, o.count);
	CHECK(o.seed == -1 && o.rate == 0.5, "no default: the field as the caller set it");
	CHECK(o.verbose == 0 && o.rest.n == 0 && o.rest.v == argv_buf, "empty list");

	CHECK(parse("run --path=a=b --mode slow --count 1024 --seed 9223372036854775807 "
		    "--rate 0.25 --verbose a.yaml k=v") == 0, "%s", err);
	CHECK(!strcmp(o.path, "a=b"), "--flag=value splits at the first '=': %s", o.path);
	CHECK(!strcmp(o.mode, "slow") && o.count == 1024 && o.seed == LONG_MAX, "values");
	CHECK(o.rate == 0.25 && o.verbose == 1, "rate %g, switch %d", o.rate, o.verbose);
	CHECK(o.rest.n == 2 && o.rest.v == argv_buf, "list of %d", o.rest.n);
	CHECK(o.rest.n == 2 && !strcmp(o.rest.v[0], "a.yaml") && !strcmp(o.rest.v[1], "k=v"),
	      "list compacted to the front of argv, in order");

	CHECK(parse("x.yaml --count=1 run --path p - k=v --count 7") == 0, "%s", err);
	CHECK(!strcmp(o.name, "x.yaml") && o.count == 7, "positionals in order; last value wins");
	CHECK(o.rest.n == 3 && !strcmp(o.rest.v[0], "run") && !strcmp(o.rest.v[1], "-") &&
	      !strcmp(o.rest.v[2], "k=v"), "'-' is a positional");

	CHECK(parse("--path --verbose run --rate=1 --mode exact") == 0, "%s", err);
	CHECK(!strcmp(o.path, "--verbose") && !o.verbose, "the argument after a flag is its value");
	CHECK(o.rate == 1 && !strcmp(o.mode, "exact"), "the ends of the ranges");
	CHECK(parse("run --path '' --rate 0") == 0 && !strcmp(o.path, "") && o.rate == 0,
	      "an empty string");
}

static void test_errors(void)
{
	check_error("run --path p --count 0", "--count '0': expected an integer in [1, 1024]");
	check_error("run --path p --count 1025", "--count '1025': expected an integer in [1, 1024]");
	check_error("run --path p --count 12x", "--count '12x': expected an integer in [1, 1024]");
	check_error("run --path p --count ''", "--count '': expected an integer in [1, 1024]");
	check_error("run --path p --count 1.0", "--count '1.0': expected an integer in [1, 1024]");
	check_error("run --path p --seed -1", "--seed '-1': expected an integer >= 0");
	check_error("run --path p --seed 9223372036854775808",
		    "--seed '9223372036854775808': expected an integer >= 0");
	check_error("run --path p --rate 1.5", "--rate '1.5': expected a number in [0, 1]");
	check_error("run --path p --rate -0.1", "--rate '-0.1': expected a number in [0, 1]");
	check_error("run --path p --rate nan", "--rate 'nan': expected a number in [0, 1]");
	check_error("run --path p --rate x", "--rate 'x': expected a number in [0, 1]");
	check_error("run --path p --mode fas", "--mode 'fas': expected fast, slow or exact");
	check_error("run --path p --mode fastslow", "--mode 'fastslow': expected fast, slow or exact");
	check_error("run --path p --mode=", "--mode '': expected fast, slow or exact");
	check_error("run --path p --mode fast|slow",
		    "--mode 'fast|slow': expected fast, slow or exact");
	check_error("run --path", "--path needs a value");
	check_error("run --path p --count", "--count needs a value");
	check_error("run --path p --pth x", "unknown flag '--pth'");
	check_error("run --path p --pth=x", "unknown flag '--pth'");
	check_error("run -x --path p", "unknown flag '-x'");
	check_error("run --path p --verbose=1", "--verbose takes no value");
	check_error("run", "missing --path PATH");
	check_error("--path p", "missing NAME");
	check_error("--path p --count 0 --help", "--count '0': expected an integer in [1, 1024]");

	struct u_opts u = { 0 };
	int argc = split("a b");
	CHECK(args_parse(&u_spec, &u, argc, argv_buf, err, sizeof(err)) == -1 &&
	      !strcmp(err, "unexpected argument 'b'"), "no slot for a second positional: %s", err);
	u.dir = NULL;
	argc = split("--on");
	CHECK(args_parse(&u_spec, &u, argc, argv_buf, err, sizeof(err)) == 0 && !u.dir && u.on,
	      "an optional positional left out: %s", err);
}

static void test_help(void)
{
	CHECK(parse("--help") == ARGS_HELP, "--help before the required ones");
	CHECK(parse("run --path p -h k=v") == ARGS_HELP, "-h");
	CHECK(parse("run --path -h") == 0 && !strcmp(o.path, "-h"), "-h as a value: %s", err);
	CHECK(parse("--path -h") == -1 && !strcmp(err, "missing NAME") && !strcmp(o.path, "-h"),
	      "-h as the value of --path: %s", err);

	char syn[512];
	args_synopsis(&t_spec, syn, sizeof(syn));
	const char *want = "NAME --path PATH [--mode fast|slow|exact] [--count N] [--seed S] "
			   "[--rate R] [--verbose] [CONFIG] [section.key=value ...]";
	CHECK(!strcmp(syn, want), "synopsis '%s'", syn);
	args_synopsis(&t_spec, syn, 20);
	CHECK(strlen(syn) == 19 && !strncmp(syn, want, 19), "truncated synopsis '%s'", syn);
	args_synopsis(&u_spec, syn, sizeof(syn));
	CHECK(!strcmp(syn, "[DIR] [--on]"), "optional positional: '%s'", syn);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	args_help(&t_spec, f);
	fclose(f);
	const char *lines[] = {
		"usage: attnrl t NAME --path PATH [--mode fast|slow|exact] [--count N] [--seed S] "
		"[--rate R] [--verbose] [CONFIG] [section.key=value ...]\n",
		"a test command\n",
		"  NAME                    a name\n",
		"  --path PATH             a path; required\n",
		"  --mode fast|slow|exact  how; default fast\n",
		"  --count N               how many; an integer in [1, 1024]; default 64\n",
		"  --seed S                a seed; an integer >= 0\n",
		"  --rate R                a rate; a number in [0, 1]\n",
		"  --verbose               say more\n",
		"  CONFIG                  configs, overrides\n",
		"  -h, --help              this text\n",
	};
	const char *p = text;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		size_t k = strlen(lines[i]);
		CHECK(p && !strncmp(p, lines[i], k), "help line %zu: want '%s', got '%.*s'", i,
		      lines[i], (int)strcspn(p ? p : "", "\n"), p ? p : "");
		p = p && !strncmp(p, lines[i], k) ? p + k : NULL;
	}
	CHECK(p && !*p, "help: nothing after the lines");
	free(text);
}

/* what args_exit writes to fd (1 or 2) and returns */
static int exit_output(int rc, const char *msg, int fd, char *out, size_t n)
{
	FILE *tmp = tmpfile();
	int saved = dup(fd);
	fflush(fd == 1 ? stdout : stderr);
	dup2(fileno(tmp), fd);
	int code = args_exit(&t_spec, rc, msg);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	size_t k = fread(out, 1, n - 1, tmp);
	out[k] = '\0';
	fclose(tmp);
	return code;
}

static void test_exit(void)
{
	char out[2048];
	CHECK(parse("run --path p --pth") == -1, "unknown flag");
	int code = exit_output(-1, err, 2, out, sizeof(out));
	CHECK(code == ATTNRL_EXIT_USAGE && ATTNRL_EXIT_USAGE == 2, "exit %d", code);
	CHECK(!strcmp(out, "attnrl t: unknown flag '--pth'; usage: attnrl t NAME --path PATH "
		      "[--mode fast|slow|exact] [--count N] [--seed S] [--rate R] [--verbose] "
		      "[CONFIG] [section.key=value ...]\n"), "error line: %s", out);
	code = exit_output(ARGS_HELP, NULL, 1, out, sizeof(out));
	CHECK(code == 0 && !strncmp(out, "usage: attnrl t NAME --path PATH", 32), "help: %d %s",
	      code, out);
	CHECK(args_exit(&t_spec, 0, NULL) == 0, "0 stays 0");
}

/* w_table on line: 0 or -1 (err); *w as parsed, from dir NULL and every 0 */
static int parse_w(const char *line, struct w_opts *w)
{
	*w = (struct w_opts){ NULL, 0 };
	err[0] = '\0';
	int argc = split(line);
	return args_parse(&w_spec, w, argc, argv_buf, err, sizeof(err));
}

static void test_switch_long(void)
{
	struct w_opts w;
	CHECK(parse_w("d", &w) == 0 && w.every == 0 && !strcmp(w.dir, "d"), "not given: 0");
	CHECK(parse_w("d --every", &w) == 0 && w.every == 10, "alone: the default, %ld", w.every);
	CHECK(parse_w("--every d", &w) == 0 && w.every == 10 && !strcmp(w.dir, "d"),
	      "a next argument that is no number is a positional: %s", err);
	CHECK(parse_w("--every 5 d", &w) == 0 && w.every == 5 && !strcmp(w.dir, "d"),
	      "a next argument of digits is its value: %ld", w.every);
	CHECK(parse_w("d --every=60", &w) == 0 && w.every == 60, "=V: %ld", w.every);
	CHECK(parse_w("d --every 0", &w) == -1 &&
	      !strcmp(err, "--every '0': expected an integer in [1, 60]"), "range: %s", err);
	CHECK(parse_w("d --every=x", &w) == -1 &&
	      !strcmp(err, "--every 'x': expected an integer in [1, 60]"), "=x: %s", err);
	CHECK(parse_w("--every -5", &w) == -1 && !strcmp(err, "unknown flag '-5'"),
	      "a negative number is not taken: %s", err);

	char syn[256], *text = NULL;
	size_t len = 0;
	args_synopsis(&w_spec, syn, sizeof(syn));
	CHECK(!strcmp(syn, "[DIR] [--every [S]]"), "synopsis '%s'", syn);
	FILE *f = open_memstream(&text, &len);
	args_help(&w_spec, f);
	fclose(f);
	CHECK(strstr(text, "\n  --every [S]  repeat; an integer in [1, 60]; S left out: 10\n") != NULL,
	      "help: %s", text);
	free(text);
}

/* a default the table's own check refuses, and a table too long */
static void test_tables(void)
{
	static const struct args_opt bad[] = {
		{ "--n", ARGS_LONG, offsetof(struct t_opts, count), "N", 1, 10, "0", ARGS_OPTIONAL, "n" },
		{ NULL },
	};
	static const struct args_spec bad_spec = { "bad", "", bad };
	static struct args_opt many[ARGS_OPTS_MAX + 2];
	static const struct args_spec many_spec = { "many", "", many };
	for (int i = 0; i <= ARGS_OPTS_MAX; i++)
		many[i] = (struct args_opt){ "--v", ARGS_SWITCH, offsetof(struct t_opts, verbose),
					     NULL, 0, 0, NULL, ARGS_OPTIONAL, "v" };
	CHECK(args_parse(&bad_spec, &o, 0, argv_buf, err, sizeof(err)) == -1 &&
	      !strcmp(err, "--n '0': expected an integer in [1, 10]"), "bad default: %s", err);
	CHECK(args_parse(&many_spec, &o, 0, argv_buf, err, sizeof(err)) == -1 &&
	      strstr(err, "more than 32 entries"), "long table: %s", err);
}

int main(void)
{
	test_values();
	test_errors();
	test_help();
	test_exit();
	test_switch_long();
	test_tables();
	return check_done("test_args");
}
