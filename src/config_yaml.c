/*
 * config_yaml.c - the YAML file loader of config.h (config_load_file; config_load_text from
 * memory), on libyaml's event parser, on top of the option table in config.c: a file is a
 * mapping of sections, each a mapping of key: scalar, and every value goes through opt_set
 * like an override does.
 * Invariants: a file is loaded into a copy that replaces the caller's struct only on success;
 * every error is one line, "file:line:col: what (hint)". This module never calls libtorch (it
 * is part of the sanitizer build).
 */
#include "config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---- the YAML file ------------------------------------------------------------------------- */

struct loader {
	yaml_parser_t parser;
	const char *path;
	struct config *c;
	size_t opt_line[CONFIG_N_OPTIONS], section_line[N_SECTIONS];
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(l->err, l->errlen, "%s:%zu:%zu: %s", l->path, m->line + 1, m->column + 1, msg);
}

static int next_event(struct loader *l, yaml_event_t *ev)
{
	if (yaml_parser_parse(&l->parser, ev))
		return 0;
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_MEMORY_ERROR)
		return err_set(l->err, l->errlen, "config: out of memory reading '%s'", l->path);
	if (p->error == YAML_READER_ERROR)
		return err_set(l->err, l->errlen, "%s: byte %zu: %s", l->path, p->problem_offset,
			    problem);
	if (p->context)
		return err_set(l->err, l->errlen, "%s:%zu:%zu: %s (%s at line %zu, column %zu)",
			    l->path, p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
			    p->context, p->context_mark.line + 1, p->context_mark.column + 1);
	return err_set(l->err, l->errlen, "%s:%zu:%zu: %s", l->path, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, problem);
}

static const char *scalar(const yaml_event_t *ev)
{
	return (const char *)ev->data.scalar.value;
}

/* a YAML null: an empty plain scalar, ~ or null */
static int is_null_text(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int is_null(const yaml_event_t *ev)
{
	return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       is_null_text(scalar(ev));
}

/* "a mapping", "the value 'x'", ... for messages */
static const char *event_what(const yaml_event_t *ev, char *buf, size_t n)
{
	char s[80];
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias (aliases are not supported)";
	case YAML_SCALAR_EVENT:
		snprintf(buf, n, "the value '%s'", config_shown(scalar(ev), s, sizeof(s)));
		return buf;
	default:
		return "something else";
	}
}

/* a scalar that holds a NUL byte ("\0" in a quoted string) cannot be a C string */
static int check_scalar(struct loader *l, const yaml_event_t *ev)
{
	if (strlen(scalar(ev)) != ev->data.scalar.length)
		return fail_at(l, &ev->start_mark, "a NUL byte in a value is not allowed");
	return 0;
}

/* the next key of a mapping into k: 0, or 1 at (and after) its MAPPING_END, -1 on error */
static int next_key(struct loader *l, yaml_event_t *k)
{
	if (next_event(l, k))
		return -1;
	if (k->type != YAML_MAPPING_END_EVENT)
		return 0;
	yaml_event_delete(k);
	return 1;
}

/* the keys of one section, after its MAPPING_START, up to and including its MAPPING_END */
static int load_keys(struct loader *l, int section)
{
	const char *sec = config_sections[section];
	char name[256], hint[256], b1[80], b2[160];
	for (;;) {
		yaml_event_t k, v;
		int end = next_key(l, &k);
		if (end)
			return end < 0 ? -1 : 0;
		int rc = 0;
		const struct opt *o = NULL;
		if (k.type != YAML_SCALAR_EVENT)
			rc = fail_at(l, &k.start_mark, "%s: a key must be a plain word, found %s",
				     sec, event_what(&k, b2, sizeof(b2)));
		else if (!(rc = check_scalar(l, &k)) && !(o = config_opt_find(sec, scalar(&k)))) {
			snprintf(name, sizeof(name), "%s.%s", sec,
				 config_shown(scalar(&k), b1, sizeof(b1)));
			config_unknown_hint(name, hint, sizeof(hint));
			rc = fail_at(l, &k.start_mark, "unknown key '%s'%s", name, hint);
		} else if (o && l->opt_line[o - config_opts]) {
			rc = fail_at(l, &k.start_mark, "duplicate key '%s' (first set at line %zu)",
				     o->name, l->opt_line[o - config_opts]);
		}
		if (o && !rc)
			l->opt_line[o - config_opts] = k.start_mark.line + 1;
		yaml_event_delete(&k);
		if (rc)
			return -1;
		if (next_event(l, &v))
			return -1;
		char msg[512];
		if (v.type != YAML_SCALAR_EVENT)
			rc = fail_at(l, &v.start_mark,
				     "%s: expected a value, found %s "
				     "(options nest two levels: section: key: value)",
				     o->name, event_what(&v, b2, sizeof(b2)));
		else if (!(rc = check_scalar(l, &v)) &&
			 config_opt_set(o, l->c, scalar(&v), is_null(&v), msg, sizeof(msg)))
			rc = fail_at(l, &v.start_mark, "%s", msg);
		yaml_event_delete(&v);
		if (rc)
			return -1;
	}
}

/* the sections, after the top-level MAPPING_START, up to and including its MAPPING_END */
static int load_sections(struct loader *l)
{
	char hint[256], b1[80], b2[160];
	for (;;) {
		yaml_event_t k, v;
		int end = next_key(l, &k);
		if (end)
			return end < 0 ? -1 : 0;
		int rc = 0, s = -1;
		if (k.type != YAML_SCALAR_EVENT)
			rc = fail_at(l, &k.start_mark,
				     "a section name must be a plain word, found %s",
				     event_what(&k, b2, sizeof(b2)));
		else if (!(rc = check_scalar(l, &k)) && (s = config_section_find(scalar(&k))) < 0) {
			config_section_hint(scalar(&k), hint, sizeof(hint));
			rc = fail_at(l, &k.start_mark, "unknown section '%s'%s",
				     config_shown(scalar(&k), b1, sizeof(b1)), hint);
		} else if (s >= 0 && l->section_line[s]) {
			rc = fail_at(l, &k.start_mark, "duplicate section '%s' (first at line %zu)",
				     config_sections[s], l->section_line[s]);
		}
		if (s >= 0 && !rc)
			l->section_line[s] = k.start_mark.line + 1;
		yaml_event_delete(&k);
		if (rc)
			return -1;
		if (next_event(l, &v))
			return -1;
		if (v.type == YAML_MAPPING_START_EVENT)
			rc = load_keys(l, s);
		else if (!is_null(&v))
			rc = fail_at(l, &v.start_mark,
				     "%s: a section must be a mapping of key: value lines, "
				     "found %s",
				     config_sections[s], event_what(&v, b2, sizeof(b2)));
		yaml_event_delete(&v);
		if (rc)
			return -1;
	}
}

static int load_stream(struct loader *l)
{
	yaml_event_t ev;
	char b[160];
	int rc = 0;
	if (next_event(l, &ev)) /* stream start */
		return -1;
	yaml_event_delete(&ev);
	if (next_event(l, &ev))
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) { /* empty, or only comments */
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* document start */
	if (next_event(l, &ev))
		return -1;
	if (ev.type == YAML_MAPPING_START_EVENT)
		rc = load_sections(l);
	else if (!is_null(&ev))
		rc = fail_at(l, &ev.start_mark,
			     "the top level must be a mapping of sections "
			     "(run:, model:, ...), found %s",
			     event_what(&ev, b, sizeof(b)));
	yaml_event_delete(&ev);
	if (rc || next_event(l, &ev)) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (next_event(l, &ev))
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT)
		rc = fail_at(l, &ev.start_mark, "only one YAML document is allowed in a config");
	yaml_event_delete(&ev);
	return rc;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(err, errlen, "config: cannot open '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return err_set(err, errlen, "config: cannot read '%s': %s", path, strerror(EISDIR));
	}
	struct loader *l = calloc(1, sizeof(*l));
	if (!l) {
		fclose(f);
		return err_set(err, errlen, "config: out of memory reading '%s'", path);
	}
	struct config tmp;
	memcpy(&tmp, c, sizeof(tmp));
	l->path = path, l->c = &tmp, l->err = err, l->errlen = errlen;
	int rc = -1;
	if (!yaml_parser_initialize(&l->parser)) {
		err_set(err, errlen, "config: out of memory reading '%s'", path);
	} else {
		yaml_parser_set_input_file(&l->parser, f);
		rc = load_stream(l);
		yaml_parser_delete(&l->parser);
	}
	if (rc == 0 && ferror(f))
		rc = err_set(err, errlen, "config: cannot read '%s': %s", path, strerror(errno));
	fclose(f);
	free(l);
	if (rc == 0)
		memcpy(c, &tmp, sizeof(tmp));
	return rc;
}

int config_load_text(struct config *c, const char *text, size_t len, const char *where, char *err,
		     size_t errlen)
{
	struct loader *l = calloc(1, sizeof(*l));
	if (!l)
		return err_set(err, errlen, "config: out of memory reading '%s'", where);
	struct config tmp;
	memcpy(&tmp, c, sizeof(tmp));
	l->path = where, l->c = &tmp, l->err = err, l->errlen = errlen;
	int rc = -1;
	if (!yaml_parser_initialize(&l->parser)) {
		err_set(err, errlen, "config: out of memory reading '%s'", where);
	} else {
		yaml_parser_set_input_string(&l->parser, (const unsigned char *)text, len);
		rc = load_stream(l);
		yaml_parser_delete(&l->parser);
	}
	free(l);
	if (rc == 0)
		memcpy(c, &tmp, sizeof(tmp));
	return rc;
}
