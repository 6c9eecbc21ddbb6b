/*
 * json.h - a small strict JSON reader (text -> read-only DOM) and writer helpers for JSONL logs.
 *
 * Reader: RFC 8259 only (no comments, no trailing commas, no NaN/Infinity, no leading zeros,
 * no raw control characters in strings, UTF-8 checked; a leading byte order mark is skipped).
 * Errors are one line, "line L col C: what" (1-based, col counts bytes). Nesting deeper than
 * JSON_MAX_DEPTH is an error, so hostile input cannot overflow the stack. The whole document
 * lives in a few arena blocks freed by json_free(root); every node pointer dies with it.
 * Strings are NUL-terminated UTF-8 with escapes decoded; \u surrogate pairs become one code
 * point and a lone surrogate becomes U+FFFD; a string may hold an escaped NUL, so json_str_len
 * gives the exact length. A key repeated in one object is an error ("line L col C: duplicate key
 * \"k\"", at the second one). Objects keep every member in document order (json_len,
 * json_key_at, json_at iterate them); json_get finds a member by key (hashed for large
 * objects, so lookups in a 150k-entry vocab are O(1)).
 * Every accessor accepts NULL and answers "missing", so lookups chain:
 *   json_int(json_get(json_get(cfg, "rope_scaling"), "factor"), &x)
 *
 * Writer: JSON strings and numbers onto a FILE, and a one-line object builder for JSONL:
 *   struct json_out o; json_obj_begin(&o, f); json_kv_int(&o, "step", 3);
 *   json_kv_num(&o, "loss", 0.25); json_obj_end(&o);      ->  {"step": 3, "loss": 0.25}\n
 * Callers check ferror(f) (or fflush/fclose) once, after the line.
 */
#ifndef ATTNRL_JSON_H
#define ATTNRL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 512

enum json_type { JSON_MISSING = 0, JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json; /* a node of a parsed document (opaque) */

/* parses text[0..len) (no NUL needed); NULL with "line L col C: what" in err on failure */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* reads and parses a file; errors are "path: line L col C: what" or "path: cannot read: why" */
struct json *json_load(const char *path, char *err, size_t errlen);
void json_free(struct json *root); /* the root that json_parse/json_load returned; NULL is ok */

enum json_type json_type(const struct json *v);   /* JSON_MISSING for NULL */
const char *json_type_name(enum json_type t);     /* "null", "bool", ..., "missing" */
int json_bool(const struct json *v);              /* 1 true, 0 false, -1 not a bool */
double json_num(const struct json *v);            /* NAN when not a number */
/* 0 and the exact value for an integer (also 1e3, 2.0) in int64 range; -1 otherwise */
int json_int(const struct json *v, int64_t *out);
const char *json_str(const struct json *v);       /* NULL when not a string */
size_t json_str_len(const struct json *v);        /* bytes without the NUL; 0 when not a string */
size_t json_len(const struct json *v);            /* members of an array or object, else 0 */
const struct json *json_at(const struct json *v, size_t i);    /* element or member value */
const char *json_key_at(const struct json *obj, size_t i);     /* member key; NULL if none */
const struct json *json_get(const struct json *obj, const char *key); /* member with key, or NULL */

/* writer: a quoted, escaped string (invalid UTF-8 bytes -> \ufffd each; NULL -> null) */
void json_write_string(FILE *f, const char *s);
void json_write_strn(FILE *f, const char *s, size_t n); /* n bytes, NULs escaped */
/* integers below 1e17 (floats: 1e9) exactly ("100", "-0.0"), others the shortest "%.Ng" that
 * reads back to the same double (float); non-finite -> null */
void json_write_number(FILE *f, double x);
void json_write_float(FILE *f, float x);
/* any parsed value back as compact JSON (numbers through json_write_number) */
void json_write_value(FILE *f, const struct json *v);

/* one-line object builder: {"k": v, ...} then "\n" at json_obj_end */
struct json_out {
	FILE *f;
	int n; /* members written so far */
};
void json_obj_begin(struct json_out *o, FILE *f);
void json_kv_key(struct json_out *o, const char *key); /* then write any value yourself */
void json_kv_num(struct json_out *o, const char *key, double x);
void json_kv_float(struct json_out *o, const char *key, float x);
void json_kv_int(struct json_out *o, const char *key, int64_t x);
void json_kv_bool(struct json_out *o, const char *key, int x);
void json_kv_str(struct json_out *o, const char *key, const char *s);
void json_kv_raw(struct json_out *o, const char *key, const char *json_text); /* verbatim */
void json_obj_end(struct json_out *o);

#endif
