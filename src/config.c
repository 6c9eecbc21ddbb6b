/*
 * config.c - the option table of config.h turned into an override parser, a checker and two
 * printers (config_yaml.c is the YAML file loader on top of it). config_opts[] is generated
 * from the same X-macro list as struct config, so every path (file, override, validation,
 * printing) goes through one row per option.
 * Invariants: a value is parsed and range-checked completely before it is stored, so a failed
 * override changes nothing. Every error is one line: "where: what (hint)", where =
 * file:line:col or "override 'k=v'". This module never calls libtorch (it is part of the
 * sanitizer build).
 */
#include "config_internal.h"
#include "attnrl/credit_batch.h"
#include "attnrl/data_template.h"
#include "attnrl/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPT_ROW(sec, k, kind, def, range, doc)                                                     \
	{ #sec, #k, #sec "." #k, CONFIG_##kind, offsetof(struct config, sec.k),                    \
	  sizeof(((struct config *)0)->sec.k), range, doc },
#define OPT_SECTION(sec, LIST) LIST(OPT_ROW)
const struct opt config_opts[] = { CONFIG_SECTIONS(OPT_SECTION) };

#define SECTION_NAME(sec, LIST) #sec,
const char *const config_sections[] = { CONFIG_SECTIONS(SECTION_NAME) };

#define N_OPTS ((int)(sizeof(config_opts) / sizeof(config_opts[0])))
_Static_assert(N_OPTS == CONFIG_N_OPTIONS, "config_opts[] and struct config come from one list");

static const char *const kind_names[] = { "int", "float", "bool", "str", "enum" };

#define INIT_INT(f, v) (f) = (v)
#define INIT_FLOAT(f, v) (f) = (v)
#define INIT_BOOL(f, v) (f) = (v)
#define INIT_STR(f, v) snprintf((f), sizeof(f), "%s", (v))
#define INIT_ENUM INIT_STR
#define INIT_ROW(sec, k, kind, def, range, doc) INIT_##kind(c->sec.k, def);
#define INIT_SECTION(sec, LIST) LIST(INIT_ROW)

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	CONFIG_SECTIONS(INIT_SECTION)
}

/* ---- small helpers ------------------------------------------------------------------------ */

/* s for an error message: control characters escaped, cut after 60 bytes */
const char *config_shown(const char *s, char *buf, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; s[i] && j + 8 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (i == 60) {
			j += snprintf(buf + j, n - j, "...");
			break;
		}
		if (ch == '\n')
			j += snprintf(buf + j, n - j, "\\n");
		else if (ch == '\t')
			j += snprintf(buf + j, n - j, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			j += snprintf(buf + j, n - j, "\\x%02x", ch);
		else
			buf[j++] = (char)ch;
	}
	buf[j] = 0;
	return buf;
}

static void *field(const struct opt *o, struct config *c)
{
	return (char *)c + o->offset;
}
static const void *cfield(const struct opt *o, const struct config *c)
{
	return (const char *)c + o->offset;
}

const struct opt *config_opt_find(const char *section, const char *key)
{
	for (int i = 0; i < N_OPTS; i++)
		if (!strcmp(config_opts[i].section, section) && !strcmp(config_opts[i].key, key))
			return &config_opts[i];
	return NULL;
}

static const struct opt *opt_find_name(const char *name)
{
	for (int i = 0; i < N_OPTS; i++)
		if (!strcmp(config_opts[i].name, name))
			return &config_opts[i];
	return NULL;
}

int config_section_find(const char *name)
{
	for (int i = 0; i < N_SECTIONS; i++)
		if (!strcmp(config_sections[i], name))
			return i;
	return -1;
}

/* ---- suggestions: optimal string alignment distance (Damerau-Levenshtein, adjacent swaps) --- */

static int edit_distance(const char *a, const char *b)
{
	enum { M = 64 };
	size_t n = strlen(a), m = strlen(b);
	if (n >= M || m >= M)
		return INT_MAX / 2;
	int d[M][M];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= m; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[n][m];
}

/* close enough to suggest: about one typo per four characters, at most three */
static int near(int dist, const char *typed)
{
	int t = (int)strlen(typed) / 4;
	t = t < 1 ? 1 : t > 3 ? 3 : t;
	return dist <= t;
}

/* the option the user probably meant by a dotted (or bare) key, or NULL */
static const struct opt *opt_suggest(const char *name)
{
	const struct opt *best = NULL;
	int bd = INT_MAX;
	for (int i = 0; i < N_OPTS; i++) {
		int d = edit_distance(name, config_opts[i].name);
		if (d < bd)
			bd = d, best = &config_opts[i];
	}
	if (best && near(bd, name))
		return best;
	const char *key = strrchr(name, '.');
	key = key ? key + 1 : name;
	best = NULL, bd = INT_MAX;
	for (int i = 0; i < N_OPTS; i++) {
		int d = edit_distance(key, config_opts[i].key);
		if (d < bd)
			bd = d, best = &config_opts[i];
	}
	return best && near(bd, key) ? best : NULL;
}

/* " (did you mean x?)", else the keys of the section, else the sections */
void config_unknown_hint(const char *name, char *buf, size_t n)
{
	const struct opt *o = opt_suggest(name);
	if (o) {
		snprintf(buf, n, " (did you mean %s?)", o->name);
		return;
	}
	char sec[64];
	const char *dot = strchr(name, '.');
	size_t len = dot ? (size_t)(dot - name) : 0;
	snprintf(sec, sizeof(sec), "%.*s", (int)(len < sizeof(sec) ? len : 0), name);
	size_t j = 0;
	if (dot && config_section_find(sec) >= 0) {
		j += snprintf(buf, n, " (%s has", sec);
		for (int i = 0, k = 0; i < N_OPTS && j < n; i++)
			if (!strcmp(config_opts[i].section, sec))
				j += snprintf(buf + j, n - j, "%s %s", k++ ? "," : ":",
					      config_opts[i].key);
	} else {
		j += snprintf(buf, n, " (sections");
		for (int i = 0; i < N_SECTIONS && j < n; i++)
			j += snprintf(buf + j, n - j, "%s %s", i ? "," : ":", config_sections[i]);
	}
	if (j < n)
		snprintf(buf + j, n - j, ")");
}

/* a key at the top level that is not a section: the section it resembles, or the key it is */
void config_section_hint(const char *name, char *buf, size_t n)
{
	int best = -1, bd = INT_MAX;
	for (int i = 0; i < N_SECTIONS; i++) {
		int d = edit_distance(name, config_sections[i]);
		if (d < bd)
			bd = d, best = i;
	}
	if (best >= 0 && near(bd, name)) {
		snprintf(buf, n, " (did you mean %s?)", config_sections[best]);
		return;
	}
	const struct opt *o = opt_suggest(name);
	if (o && !strcmp(o->key, name)) {
		snprintf(buf, n, " (did you mean %s? a key goes under its section)", o->name);
		return;
	}
	config_unknown_hint(name, buf, n);
}

/* ---- values -------------------------------------------------------------------------------- */

struct range {
	int has_lo, has_hi, lo_open, hi_open;
	double lo, hi;
	char lo_txt[24], hi_txt[24];
};

static int bound_parse(const char **s, double *v, char *txt)
{
	while (**s == ' ')
		(*s)++;
	char *end;
	*v = strtod(*s, &end);
	if (end == *s || end - *s >= 24)
		return -1;
	snprintf(txt, 24, "%.*s", (int)(end - *s), *s);
	*s = end;
	while (**s == ' ')
		(*s)++;
	return 0;
}

/* "[lo, hi]", "(lo, hi]", "[lo, hi)", "(lo, hi)", ">= lo", "> lo" or "" (any value) */
static int range_parse(const char *s, struct range *r)
{
	memset(r, 0, sizeof(*r));
	if (!*s)
		return 0;
	if (*s == '>') {
		r->has_lo = 1;
		r->lo_open = s[1] != '=';
		s += r->lo_open ? 1 : 2;
		return bound_parse(&s, &r->lo, r->lo_txt) || *s ? -1 : 0;
	}
	if (*s != '[' && *s != '(')
		return -1;
	r->has_lo = r->has_hi = 1;
	r->lo_open = *s++ == '(';
	if (bound_parse(&s, &r->lo, r->lo_txt) || *s++ != ',' ||
	    bound_parse(&s, &r->hi, r->hi_txt) || (*s != ']' && *s != ')') || s[1])
		return -1;
	r->hi_open = *s == ')';
	return 0;
}

/* "name: text is out of range (expected lo < key <= hi)" when v is outside o's range */
static int range_check(const struct opt *o, double v, const char *text, char *err, size_t n)
{
	struct range r;
	char buf[80];
	if (range_parse(o->range, &r))
		return err_set(err, n, "%s: bad range '%s' in the option table", o->name, o->range);
	int low = r.has_lo && (r.lo_open ? !(v > r.lo) : !(v >= r.lo));
	int high = r.has_hi && (r.hi_open ? !(v < r.hi) : !(v <= r.hi));
	if (!low && !high)
		return 0;
	if (!r.has_hi)
		return err_set(err, n, "%s: %s is out of range (expected %s %s %s)", o->name,
			    config_shown(text, buf, sizeof(buf)), o->key,
			    r.lo_open ? ">" : ">=", r.lo_txt);
	return err_set(err, n, "%s: %s is out of range (expected %s %s %s %s %s)", o->name,
		    config_shown(text, buf, sizeof(buf)), r.lo_txt, r.lo_open ? "<" : "<=", o->key,
		    r.hi_open ? "<" : "<=", r.hi_txt);
}

static int enum_has(const char *list, const char *s)
{
	size_t n = strlen(s);
	for (const char *p = list;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, s, n))
			return 1;
		if (!bar)
			return 0;
		p = bar + 1;
	}
}

/* the code point at s and its length in *len; -1 unless s starts with valid UTF-8 (the
 * shortest form, no surrogate, at most U+10FFFF), as YAML readers require */
static long utf8_next(const unsigned char *s, int *len)
{
	static const long min[4] = { 0, 0x80, 0x800, 0x10000 };
	int extra = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2
		  : (*s & 0xf8) == 0xf0 ? 3 : -1;
	if (extra < 0)
		return -1;
	long cp = *s & (0x7f >> (extra ? extra + 1 : 0));
	for (int i = 1; i <= extra; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = extra + 1;
	return cp;
}

/* what the printed config can carry: YAML allows no C0/C1 controls, U+FFFE or U+FFFF */
static int str_check(const struct opt *o, const char *s, char *err, size_t n)
{
	size_t len = strnlen(s, o->size);
	int k;
	if (len >= o->size)
		return err_set(err, n, "%s: the value is too long (%zu bytes, at most %zu)", o->name,
			    strlen(s), o->size - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(err, n, "%s: control characters are not allowed in the value",
				    o->name);
	for (size_t i = 0; i < len; i += (size_t)k) {
		long cp = utf8_next((const unsigned char *)s + i, &k);
		if (cp < 0)
			return err_set(err, n, "%s: the value is not valid UTF-8", o->name);
		if ((cp >= 0x80 && cp < 0xa0) || cp == 0xfffe || cp == 0xffff)
			return err_set(err, n, "%s: control characters (U+0080 to U+009F, "
				    "U+FFFE, U+FFFF) are not allowed in the value", o->name);
	}
	return 0;
}

/* optional sign, digits, '_' allowed between digits (1_000); *overflow set on a long overflow */
static int parse_long(const char *s, long *v, int *overflow)
{
	char buf[64];
	size_t j = 0;
	*overflow = 0;
	if (*s == '+' || *s == '-')
		buf[j++] = *s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; *s; s++) {
		if (*s == '_' && isdigit((unsigned char)s[-1]) && isdigit((unsigned char)s[1]))
			continue;
		if (!isdigit((unsigned char)*s))
			return -1;
		if (j + 1 >= sizeof(buf)) {
			*overflow = 1;
			return -1;
		}
		buf[j++] = *s;
	}
	buf[j] = 0;
	errno = 0;
	*v = strtol(buf, NULL, 10);
	if (errno == ERANGE) {
		*overflow = 1;
		return -1;
	}
	return 0;
}

static int parse_double(const char *s, double *v)
{
	if (!*s || isspace((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	return *end ? -1 : 0;
}

static int parse_bool(const char *s, int *v)
{
	static const char *const words[] = { "false", "true", "no", "yes", "off", "on", "0", "1" };
	for (int i = 0; i < 8; i++)
		if (!strcasecmp(s, words[i])) {
			*v = i % 2;
			return 0;
		}
	return -1;
}

/* parses text into option o of c (only when the whole value is good); yaml_null: text is a
 * plain YAML null (empty, ~, null), which a str option reads as "" */
int config_opt_set(const struct opt *o, struct config *c, const char *text, int yaml_null,
		   char *err, size_t n)
{
	char buf[80];
	if ((!*text || yaml_null) && o->kind != CONFIG_STR)
		return err_set(err, n, "%s: no value (expected %s%s)", o->name,
			    o->kind == CONFIG_INT     ? "an integer"
			    : o->kind == CONFIG_FLOAT ? "a number"
			    : o->kind == CONFIG_BOOL  ? "true or false"
						      : "one of ",
			    o->kind == CONFIG_ENUM ? o->range : "");
	switch (o->kind) {
	case CONFIG_INT: {
		long v;
		int overflow;
		if (parse_long(text, &v, &overflow)) {
			if (!overflow)
				return err_set(err, n, "%s: '%s' is not an integer", o->name,
					    config_shown(text, buf, sizeof(buf)));
			if (range_check(o, *text == '-' ? -HUGE_VAL : HUGE_VAL, text, err, n))
				return -1;
			return err_set(err, n, "%s: %s is out of range", o->name,
				    config_shown(text, buf, sizeof(buf)));
		}
		if (range_check(o, (double)v, text, err, n))
			return -1;
		*(long *)field(o, c) = v;
		return 0;
	}
	case CONFIG_FLOAT: {
		double v;
		if (parse_double(text, &v))
			return err_set(err, n, "%s: '%s' is not a number", o->name,
				    config_shown(text, buf, sizeof(buf)));
		if (!isfinite(v))
			return err_set(err, n, "%s: '%s' is not a finite number", o->name,
				    config_shown(text, buf, sizeof(buf)));
		if (range_check(o, v, text, err, n))
			return -1;
		*(double *)field(o, c) = v;
		return 0;
	}
	case CONFIG_BOOL: {
		int v;
		if (parse_bool(text, &v))
			return err_set(err, n, "%s: '%s' is not a boolean (expected true or false)",
				    o->name, config_shown(text, buf, sizeof(buf)));
		*(int *)field(o, c) = v;
		return 0;
	}
	case CONFIG_ENUM:
		if (!enum_has(o->range, text))
			return err_set(err, n, "%s: '%s' is not one of %s", o->name,
				    config_shown(text, buf, sizeof(buf)), o->range);
		break;
	case CONFIG_STR:
		if (yaml_null)
			text = "";
		if (str_check(o, text, err, n))
			return -1;
		break;
	}
	memset(field(o, c), 0, o->size);
	memcpy(field(o, c), text, strlen(text));
	return 0;
}

/* ---- printing ------------------------------------------------------------------------------ */

/* the shortest text that reads back as v, always with a '.' so YAML tools see a float */
static void format_double(double v, char *buf, size_t n)
{
	int p = 1;
	for (; p < 17; p++) {
		snprintf(buf, n, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	snprintf(buf, n, "%.*g", p, v);
	char *e = strchr(buf, 'e');
	int x = e ? atoi(e + 1) : 0;
	if (e && x >= 0 && x < 17) { /* 10000.0 rather than 1.0e+04 */
		snprintf(buf, n, "%.*g", x + 1 > p ? x + 1 : p, v);
		e = NULL;
	}
	if (strchr(buf, '.') || !isfinite(v))
		return;
	if (!e) {
		strncat(buf, ".0", n - strlen(buf) - 1);
		return;
	}
	char tail[32];
	snprintf(tail, sizeof(tail), "%s", e);
	snprintf(e, n - (size_t)(e - buf), ".0%s", tail);
}

/* the value of o in c as YAML text: strings double-quoted, the rest plain */
static void format_value(const struct opt *o, const struct config *c, char *buf, size_t n)
{
	const void *f = cfield(o, c);
	switch (o->kind) {
	case CONFIG_INT:
		snprintf(buf, n, "%ld", *(const long *)f);
		break;
	case CONFIG_FLOAT:
		format_double(*(const double *)f, buf, n);
		break;
	case CONFIG_BOOL:
		snprintf(buf, n, "%s", *(const int *)f ? "true" : "false");
		break;
	case CONFIG_ENUM:
		snprintf(buf, n, "%.*s", (int)strnlen(f, o->size), (const char *)f);
		break;
	case CONFIG_STR: {
		const char *s = f;
		size_t j = 0;
		buf[j++] = '"';
		for (size_t i = 0; i < o->size && s[i] && j + 3 < n; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf[j++] = '\\';
			buf[j++] = s[i];
		}
		buf[j++] = '"';
		buf[j] = 0;
		break;
	}
	}
}

/* output that is written to a file (when f), hashed, or both */
struct sink {
	FILE *f;
	uint64_t hash;
	int failed;
};

__attribute__((format(printf, 2, 3)))
static void emit(struct sink *s, const char *fmt, ...)
{
	char buf[2 * CONFIG_STR_MAX + 512];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		len = 0;
	if ((size_t)len >= sizeof(buf))
		len = sizeof(buf) - 1;
	for (int i = 0; i < len; i++)
		s->hash = (s->hash ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
	if (s->f && fwrite(buf, 1, (size_t)len, s->f) != (size_t)len)
		s->failed = 1;
}

static void write_yaml(const struct config *c, struct sink *s, int comments)
{
	char val[2 * CONFIG_STR_MAX + 8], line[2 * CONFIG_STR_MAX + 64];
	if (comments)
		emit(s, "# attnrl config, resolved: defaults, then the file, then overrides\n");
	for (int i = 0; i < N_OPTS; i++) {
		const struct opt *o = &config_opts[i];
		if (i == 0 || strcmp(o->section, config_opts[i - 1].section))
			emit(s, "%s:\n", o->section);
		if (!s->f && !strcmp(o->name, "train.memory_check"))
			continue; /* the hash: a key that cannot change results, newer than format 1 */
		format_value(o, c, val, sizeof(val));
		snprintf(line, sizeof(line), "  %s: %s", o->key, val);
		if (!comments) {
			emit(s, "%s\n", line);
			continue;
		}
		emit(s, "%-40s # %s%s%s\n", line, o->doc, *o->range ? "; " : "", o->range);
	}
}

int config_write_yaml(const struct config *c, FILE *f)
{
	struct sink s = { f, 0, 0 };
	write_yaml(c, &s, 1);
	return s.failed || ferror(f) ? -1 : 0;
}

uint64_t config_hash(const struct config *c)
{
	struct sink s = { NULL, 0xcbf29ce484222325ULL, 0 };
	write_yaml(c, &s, 0);
	return s.hash;
}

/* s as a Markdown table cell: '|' and '<' escaped */
static void md_text(struct sink *s, const char *t)
{
	for (; *t; t++)
		emit(s, "%s%c", *t == '|' || *t == '<' ? "\\" : "", *t);
}

int config_write_reference(FILE *f)
{
	struct sink s = { f, 0, 0 };
	struct config def;
	char val[2 * CONFIG_STR_MAX + 8];
	config_init(&def);
	emit(&s, "| key | type | default | range / values | doc |\n");
	emit(&s, "|-----|------|---------|----------------|-----|\n");
	for (int i = 0; i < N_OPTS; i++) {
		const struct opt *o = &config_opts[i];
		format_value(o, &def, val, sizeof(val));
		emit(&s, "| `%s` | %s | `%s` | ", o->name, kind_names[o->kind], val);
		if (o->kind == CONFIG_ENUM) {
			for (const char *p = o->range; *p; p++)
				if (*p == '|')
					emit(&s, "`, `");
				else
					emit(&s, "%s%c", p == o->range ? "`" : "", *p);
			emit(&s, "`");
		} else if (*o->range) {
			emit(&s, "`%s`", o->range);
		}
		emit(&s, " | ");
		md_text(&s, o->doc);
		emit(&s, " |\n");
	}
	return s.failed || ferror(f) ? -1 : 0;
}

/* ---- overrides ----------------------------------------------------------------------------- */

int config_apply_override(struct config *c, const char *kv, char *err, size_t errlen)
{
	char shown_kv[80], key[128], hint[256], msg[512];
	config_shown(kv, shown_kv, sizeof(shown_kv));
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return err_set(err, errlen, "override '%s': expected section.key=value", shown_kv);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	const struct opt *o = (size_t)(eq - kv) < sizeof(key) ? opt_find_name(key) : NULL;
	if (!o) {
		char k[80];
		config_unknown_hint(key, hint, sizeof(hint));
		return err_set(err, errlen, "override '%s': unknown key '%s'%s", shown_kv,
			    config_shown(key, k, sizeof(k)), hint);
	}
	if (config_opt_set(o, c, eq + 1, 0, msg, sizeof(msg)))
		return err_set(err, errlen, "override '%s': %s", shown_kv, msg);
	return 0;
}

/* ---- validation ---------------------------------------------------------------------------- */

/* one option's stored value against its kind and range (for structs filled by code) */
static int opt_check(const struct opt *o, const struct config *c, char *err, size_t n)
{
	char val[2 * CONFIG_STR_MAX + 8];
	const void *f = cfield(o, c);
	format_value(o, c, val, sizeof(val));
	switch (o->kind) {
	case CONFIG_INT:
		return range_check(o, (double)*(const long *)f, val, err, n);
	case CONFIG_FLOAT:
		if (!isfinite(*(const double *)f))
			return err_set(err, n, "%s: %s is not a finite number", o->name, val);
		return range_check(o, *(const double *)f, val, err, n);
	case CONFIG_BOOL:
		if (*(const int *)f != 0 && *(const int *)f != 1)
			return err_set(err, n, "%s: %d is not a boolean (0 or 1)", o->name,
				    *(const int *)f);
		return 0;
	case CONFIG_ENUM:
		if (strnlen(f, o->size) >= o->size || !enum_has(o->range, f))
			return err_set(err, n, "%s: '%s' is not one of %s", o->name, val, o->range);
		return 0;
	case CONFIG_STR:
		return str_check(o, f, err, n);
	}
	return 0;
}

int config_device_parse(const char *s)
{
	if (!strcmp(s, "auto"))
		return CONFIG_DEVICE_AUTO;
	if (!strcmp(s, "cpu"))
		return CONFIG_DEVICE_CPU;
	if (!strcmp(s, "cuda"))
		return CONFIG_DEVICE_CUDA;
	if (strncmp(s, "cuda:", 5) || s[5] < '0' || s[5] > '9')
		return CONFIG_DEVICE_BAD;
	char *end;
	long k = strtol(s + 5, &end, 10);
	return *end || k > 4095 ? CONFIG_DEVICE_BAD : (int)k;
}

/* the credit.* keys as rhythm_init reads them: the layer list against model.n_layers when the
 * config gives the shape (no model.path, or a .safetensors file that must match it), else
 * against the most layers the statistics support */
static int credit_validate(const struct config *c, char *err, size_t n)
{
	struct credit_params cp;
	const char *path = c->model.path;
	int own = !path[0] || fs_has_suffix(path, ".safetensors");
	struct attnstats_config sc = { .n_layers = own && c->model.n_layers < ATTNSTATS_MAX_LAYERS ?
						   (int)c->model.n_layers : ATTNSTATS_MAX_LAYERS };
	if (rhythm_credit_params(&cp, c, err, n))
		return -1;
	if (cp.strategy == CREDIT_NONE)
		return 0;
	if (attnstats_parse_layers(&sc, c->credit.layers, err, n))
		return -1;
	if (!strcmp(c->credit.compute, "maps") && strcmp(c->credit.head_grouping, "per_response"))
		return err_set(err, n, "credit.compute=maps supports "
				   "credit.head_grouping=per_response only");
	return 0;
}

int config_validate(const struct config *c, char *err, size_t n)
{
	for (int i = 0; i < N_OPTS; i++)
		if (opt_check(&config_opts[i], c, err, n))
			return -1;
	const struct config_rollout *r = &c->rollout;
	const struct config_algo *a = &c->algo;
	const struct config_model *m = &c->model;
	if (!c->run.name[0])
		return err_set(err, n, "run.name must not be empty (it names the run directory)");
	if (strchr(c->run.name, '/') || !strcmp(c->run.name, ".") || !strcmp(c->run.name, ".."))
		return err_set(err, n, "run.name='%s': not a folder name (no '/', not . or ..): "
			    "it names a folder inside run.dir; put the path in run.dir", c->run.name);
	if (r->prompts_per_step > LONG_MAX / r->group_size)
		return err_set(err, n,
			    "rollout.prompts_per_step=%ld x rollout.group_size=%ld is too large",
			    r->prompts_per_step, r->group_size);
	long batch = r->prompts_per_step * r->group_size;
	long micro = a->micro_batch ? a->micro_batch : a->mini_batch;
	if (a->mini_batch > batch)
		return err_set(err, n,
			    "algo.mini_batch=%ld is larger than the rollout batch of %ld responses "
			    "(rollout.prompts_per_step=%ld x rollout.group_size=%ld)",
			    a->mini_batch, batch, r->prompts_per_step, r->group_size);
	if (batch % a->mini_batch)
		return err_set(err, n,
			    "algo.mini_batch=%ld does not divide the rollout batch of %ld "
			    "responses (rollout.prompts_per_step=%ld x rollout.group_size=%ld)",
			    a->mini_batch, batch, r->prompts_per_step, r->group_size);
	if (micro > a->mini_batch)
		return err_set(err, n, "algo.micro_batch=%ld is larger than algo.mini_batch=%ld",
			    micro, a->mini_batch);
	if (a->mini_batch % micro)
		return err_set(err, n, "algo.micro_batch=%ld does not divide algo.mini_batch=%ld",
			    micro, a->mini_batch);
	if (a->micro_batch_tokens && a->micro_batch)
		return err_set(err, n, "algo.micro_batch_tokens=%ld and algo.micro_batch=%ld: set one "
			    "(a token budget, or a number of responses per forward/backward)",
			    a->micro_batch_tokens, a->micro_batch);
	if (a->micro_batch_tokens && a->micro_batch_tokens < m->max_seq_len)
		return err_set(err, n, "algo.micro_batch_tokens=%ld is smaller than model.max_seq_len=%ld "
			    "(the longest response must fit in one micro-batch)",
			    a->micro_batch_tokens, m->max_seq_len);
	if (!strcmp(a->advantage, "grpo") && r->group_size < 2)
		return err_set(err, n,
			    "rollout.group_size=%ld is too small for algo.advantage=grpo "
			    "(the group std needs at least 2 responses)",
			    r->group_size);
	if (r->max_new_tokens >= m->max_seq_len)
		return err_set(err, n,
			    "rollout.max_new_tokens=%ld leaves no room for the prompt in "
			    "model.max_seq_len=%ld",
			    r->max_new_tokens, m->max_seq_len);
	if (!m->head_dim && m->dim % m->n_heads)
		return err_set(err, n,
			    "model.dim=%ld is not divisible by model.n_heads=%ld "
			    "(or set model.head_dim)",
			    m->dim, m->n_heads);
	long head_dim = m->head_dim ? m->head_dim : m->dim / m->n_heads;
	if (head_dim % 2)
		return err_set(err, n, "the head size %ld (%s) must be even for RoPE", head_dim,
			    m->head_dim ? "model.head_dim" : "model.dim / model.n_heads");
	long kv = m->n_kv_heads ? m->n_kv_heads : m->n_heads;
	if (m->n_heads % kv)
		return err_set(err, n, "model.n_heads=%ld is not a multiple of model.n_kv_heads=%ld",
			    m->n_heads, kv);
	if (c->data.min_ops > c->data.max_ops)
		return err_set(err, n, "data.min_ops=%ld is larger than data.max_ops=%ld",
			    c->data.min_ops, c->data.max_ops);
	struct template tpl;
	if (template_init(&tpl, c->data.template, err, n))
		return -1;
	if ((!strcmp(c->data.task, "math") || !strcmp(c->data.task, "mcq")) && !c->data.path[0])
		return err_set(err, n, "data.task=%s needs data.path, a JSONL train set "
			    "(e.g. data.path=../shared/data/gsm8k/train.jsonl)", c->data.task);
	if (c->eval.k > 1 && c->eval.temperature == 0.0)
		return err_set(err, n, "eval.k=%ld with eval.temperature=0: greedy responses are all "
			    "the same; set eval.temperature > 0 (e.g. 1.0) or eval.k=1", c->eval.k);
	if (config_device_parse(c->train.device) == CONFIG_DEVICE_BAD)
		return err_set(err, n, "train.device='%s': expected auto, cpu, cuda or cuda:N "
			    "(N a GPU index, e.g. cuda:0)", c->train.device);
	if (c->optim.lr_min > c->optim.lr)
		return err_set(err, n, "optim.lr_min=%g is larger than optim.lr=%g", c->optim.lr_min,
			    c->optim.lr);
	return credit_validate(c, err, n);
}
