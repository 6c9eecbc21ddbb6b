/*
 * args.c - the one argument parser of the commands (args.h): a command's table of flags and
 * positionals -> its options struct, the synopsis of its usage line, its --help text.
 * Nothing here knows a command; every message names the flag or positional it is about.
 */
#include "attnrl/args.h"
#include "attnrl/errmsg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ARGS_SYNOPSIS_MAX 2048
#define ARGS_HELP_COLUMN 24 /* the widest left column of the help; longer names stick out */


static int is_positional(const struct args_opt *o)
{
	return o->name[0] != '-';
}

/* a flag, or something that looks like one ("-" alone is a positional: stdin by convention) */
static int looks_like_flag(const char *a)
{
	return a[0] == '-' && a[1];
}

static void *field(const struct args_opt *o, void *opts)
{
	return (char *)opts + o->offset;
}

/* "an integer in [1, 1024]", "an integer >= 0", "a number in [0, 1]" */
static void range_text(const struct args_opt *o, char *buf, size_t n)
{
	int integer = o->kind == ARGS_LONG || o->kind == ARGS_SWITCH_LONG;
	if (integer && o->hi >= (double)LONG_MAX)
		snprintf(buf, n, "an integer >= %.0f", o->lo);
	else if (integer)
		snprintf(buf, n, "an integer in [%.0f, %.0f]", o->lo, o->hi);
	else
		snprintf(buf, n, "a number in [%g, %g]", o->lo, o->hi);
}

/* 1 when v is one of the words of "a|b|c" */
static int choice_ok(const char *words, const char *v)
{
	size_t len = strlen(v);
	if (strchr(v, '|'))
		return 0;
	for (const char *p = words; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
		if (!strncmp(p, v, len) && (p[len] == '|' || !p[len]))
			return 1;
	return 0;
}

/* printf into buf at *k, never past its n bytes */
static void append(char *buf, size_t n, size_t *k, const char *fmt, ...)
{
	va_list ap;
	if (*k + 1 >= n)
		return;
	va_start(ap, fmt);
	int w = vsnprintf(buf + *k, n - *k, fmt, ap);
	va_end(ap);
	*k = w < 0 ? *k : *k + (size_t)w < n ? *k + (size_t)w : n - 1;
}

/* "a|b|c" as "a, b or c" */
static void choice_text(const char *words, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (const char *p = words; *p;) {
		const char *bar = strchr(p, '|');
		int len = bar ? (int)(bar - p) : (int)strlen(p);
		append(buf, n, &k, "%s%.*s", p == words ? "" : bar ? ", " : " or ", len, p);
		p += len + (bar != NULL);
	}
}

/* text as the value of o, checked, into its field */
static int set_value(const struct args_opt *o, void *opts, const char *v, char *err, size_t n)
{
	char want[256];
	char *end;
	switch (o->kind) {
	case ARGS_STR:
		*(const char **)field(o, opts) = v;
		return 0;
	case ARGS_CHOICE:
		if (!choice_ok(o->meta, v)) {
			choice_text(o->meta, want, sizeof(want));
			return err_set(err, n, "%s '%.200s': expected %s", o->name, v, want);
		}
		*(const char **)field(o, opts) = v;
		return 0;
	case ARGS_LONG:
	case ARGS_SWITCH_LONG: {
		errno = 0;
		long x = strtol(v, &end, 10);
		if (isspace((unsigned char)*v) || end == v || *end || errno || (double)x < o->lo ||
		    (double)x > o->hi) {
			range_text(o, want, sizeof(want));
			return err_set(err, n, "%s '%.200s': expected %s", o->name, v, want);
		}
		*(long *)field(o, opts) = x;
		return 0;
	}
	case ARGS_DOUBLE: {
		double x = strtod(v, &end);
		if (isspace((unsigned char)*v) || end == v || *end || !isfinite(x) || x < o->lo ||
		    x > o->hi) {
			range_text(o, want, sizeof(want));
			return err_set(err, n, "%s '%.200s': expected %s", o->name, v, want);
		}
		*(double *)field(o, opts) = x;
		return 0;
	}
	case ARGS_SWITCH:
		*(int *)field(o, opts) = 1;
		return 0;
	case ARGS_LIST:
		break;
	}
	return err_set(err, n, "%s: a list takes positionals only (a bug in the table)", o->name);
}

/* 1 when a is a non-empty run of digits: the value of an ARGS_SWITCH_LONG given as "--k V" */
static int all_digits(const char *a)
{
	return *a && a[strspn(a, "0123456789")] == '\0';
}

/* the flag named by a[0, len), or -1 */
static int find_flag(const struct args_opt *opts, const char *a, size_t len)
{
	for (int k = 0; opts[k].name; k++)
		if (!is_positional(&opts[k]) && strlen(opts[k].name) == len &&
		    !strncmp(opts[k].name, a, len))
			return k;
	return -1;
}

/* the entries' defaults and the empty lists, before any argument */
static int set_defaults(const struct args_spec *s, void *opts, char **argv, char *err, size_t n)
{
	for (int k = 0; s->opts[k].name; k++) {
		const struct args_opt *o = &s->opts[k];
		if (k == ARGS_OPTS_MAX)
			return err_set(err, n, "more than %d entries in the table of attnrl %s (a bug)",
				    ARGS_OPTS_MAX, s->name);
		if (o->kind == ARGS_LIST)
			*(struct args_list *)field(o, opts) = (struct args_list){ argv, 0 };
		else if (o->kind == ARGS_SWITCH_LONG && (!o->def || !o->meta))
			return err_set(err, n, "%s: a switch with a value needs its meta and default "
				       "(a bug in the table)", o->name);
		else if (o->kind != ARGS_SWITCH_LONG && o->def && set_value(o, opts, o->def, err, n))
			return -1;
	}
	return 0;
}

/* argument a as the next positional: the entry after *next, or the list */
static int take_positional(const struct args_spec *s, void *opts, int *next, char **argv,
			   char *a, unsigned char *given, char *err, size_t n)
{
	int k = *next;
	while (s->opts[k].name && !is_positional(&s->opts[k]))
		k++;
	if (!s->opts[k].name)
		return err_set(err, n, "unexpected argument '%.200s'", a);
	const struct args_opt *o = &s->opts[k];
	given[k] = 1;
	if (o->kind == ARGS_LIST) {
		struct args_list *l = field(o, opts);
		argv[l->n++] = a; /* never past a's own slot: the list is compacted in place */
		*next = k;
		return 0;
	}
	*next = k + 1;
	return set_value(o, opts, a, err, n);
}

int args_parse(const struct args_spec *s, void *opts, int argc, char **argv, char *err,
	       size_t n)
{
	unsigned char given[ARGS_OPTS_MAX] = { 0 };
	int next = 0;
	if (set_defaults(s, opts, argv, err, n))
		return -1;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (!looks_like_flag(a)) {
			if (take_positional(s, opts, &next, argv, a, given, err, n))
				return -1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return ARGS_HELP;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		int k = find_flag(s->opts, a, len);
		if (k < 0)
			return err_set(err, n, "unknown flag '%.*s'", (int)(len < 200 ? len : 200), a);
		const struct args_opt *o = &s->opts[k];
		const char *v = eq ? eq + 1 : NULL;
		if (o->kind == ARGS_SWITCH && v)
			return err_set(err, n, "%s takes no value", o->name);
		if (o->kind == ARGS_SWITCH_LONG && !v)
			v = i + 1 < argc && all_digits(argv[i + 1]) ? argv[++i] : o->def;
		if (o->kind != ARGS_SWITCH && !v) {
			if (i + 1 >= argc)
				return err_set(err, n, "%s needs a value", o->name);
			v = argv[++i];
		}
		if (set_value(o, opts, v, err, n))
			return -1;
		given[k] = 1;
	}
	for (int k = 0; s->opts[k].name; k++) {
		const struct args_opt *o = &s->opts[k];
		if (o->required && !given[k])
			return err_set(err, n, "missing %s%s%s", o->name,
				    is_positional(o) || !o->meta ? "" : " ",
				    is_positional(o) || !o->meta ? "" : o->meta);
	}
	return 0;
}

void args_synopsis(const struct args_spec *s, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (int i = 0; s->opts[i].name; i++) {
		const struct args_opt *o = &s->opts[i];
		const char *sep = k ? " " : "";
		int open = !o->required && o->kind != ARGS_LIST;
		if (o->kind == ARGS_LIST)
			append(buf, n, &k, "%s%s", sep, o->meta ? o->meta : o->name);
		else if (o->kind == ARGS_SWITCH_LONG)
			append(buf, n, &k, "%s[%s [%s]]", sep, o->name, o->meta);
		else if (is_positional(o) || o->kind == ARGS_SWITCH || !o->meta)
			append(buf, n, &k, "%s%s%s%s", sep, open ? "[" : "", o->name, open ? "]" : "");
		else
			append(buf, n, &k, "%s%s%s %s%s", sep, open ? "[" : "", o->name, o->meta,
			       open ? "]" : "");
	}
}

/* an entry's left column in the help: "--out FILE", "RUN_DIR" */
static void help_name(const struct args_opt *o, char *buf, size_t n)
{
	if (is_positional(o) || o->kind == ARGS_SWITCH || !o->meta)
		snprintf(buf, n, "%s", o->name);
	else if (o->kind == ARGS_SWITCH_LONG)
		snprintf(buf, n, "%s [%s]", o->name, o->meta);
	else
		snprintf(buf, n, "%s %s", o->name, o->meta);
}

void args_help(const struct args_spec *s, FILE *f)
{
	char syn[ARGS_SYNOPSIS_MAX], name[128], range[128];
	int width = (int)strlen("-h, --help");
	args_synopsis(s, syn, sizeof(syn));
	fprintf(f, "usage: attnrl %s%s%s\n%s\n", s->name, syn[0] ? " " : "", syn, s->summary);
	for (int i = 0; s->opts[i].name; i++) {
		help_name(&s->opts[i], name, sizeof(name));
		if ((int)strlen(name) > width && strlen(name) <= ARGS_HELP_COLUMN)
			width = (int)strlen(name);
	}
	for (int i = 0; s->opts[i].name; i++) {
		const struct args_opt *o = &s->opts[i];
		help_name(o, name, sizeof(name));
		fprintf(f, "  %-*s  %s", width, name, o->help);
		if (o->required && !is_positional(o))
			fprintf(f, "; required");
		if (o->kind == ARGS_LONG || o->kind == ARGS_DOUBLE || o->kind == ARGS_SWITCH_LONG) {
			range_text(o, range, sizeof(range));
			fprintf(f, "; %s", range);
		}
		if (o->kind == ARGS_SWITCH_LONG)
			fprintf(f, "; %s left out: %s", o->meta, o->def);
		else if (o->def)
			fprintf(f, "; default %s", o->def);
		fprintf(f, "\n");
	}
	fprintf(f, "  %-*s  this text\n", width, "-h, --help");
}

int args_exit(const struct args_spec *s, int rc, const char *err)
{
	char syn[ARGS_SYNOPSIS_MAX];
	if (rc == 0)
		return 0;
	if (rc == ARGS_HELP) {
		args_help(s, stdout);
		return fflush(stdout) ? 1 : 0;
	}
	args_synopsis(s, syn, sizeof(syn));
	fprintf(stderr, "attnrl %s: %s; usage: attnrl %s%s%s\n", s->name, err, s->name,
		syn[0] ? " " : "", syn);
	return ATTNRL_EXIT_USAGE;
}
