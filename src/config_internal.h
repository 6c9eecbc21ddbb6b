/*
 * config_internal.h - what the YAML loader (config_yaml.c) uses of the option table in
 * config.c. Private to those two files; the public interface is include/attnrl/config.h.
 */
#ifndef ATTNRL_CONFIG_INTERNAL_H
#define ATTNRL_CONFIG_INTERNAL_H

#include "attnrl/config.h"
#include "attnrl/errmsg.h"

#include <stddef.h>

/* one row of the option table: where an option lives in struct config and what it accepts */
struct opt {
	const char *section, *key, *name; /* name = "section.key" */
	enum config_kind kind;
	size_t offset, size;
	const char *range; /* numbers: interval; enums: "a|b|c" */
	const char *doc;
};

#define CONFIG_COUNT_ONE_SECTION(sec, LIST) +1
/* the number of sections, in config.h's order (as CONFIG_N_OPTIONS counts the options) */
enum { N_SECTIONS = 0 CONFIG_SECTIONS(CONFIG_COUNT_ONE_SECTION) };

/* the option table, one row per option in config.h's order */
extern const struct opt config_opts[CONFIG_N_OPTIONS];
/* the section names, in config.h's order */
extern const char *const config_sections[N_SECTIONS];

/* s for an error message: control characters escaped, cut after 60 bytes; returns buf */
const char *config_shown(const char *s, char *buf, size_t n);
/* the option section.key, or NULL */
const struct opt *config_opt_find(const char *section, const char *key);
/* the index of section name in config_sections[], or -1 */
int config_section_find(const char *name);
/* parses text into option o of c, storing it only when valid; -1 with the message in err */
int config_opt_set(const struct opt *o, struct config *c, const char *text, int yaml_null,
		   char *err, size_t n);
/* the hint for an unknown dotted key: " (did you mean x?)", the section's keys or sections */
void config_unknown_hint(const char *name, char *buf, size_t n);
/* the hint for an unknown top-level key: a section it resembles, or the option it names */
void config_section_hint(const char *name, char *buf, size_t n);

#endif
