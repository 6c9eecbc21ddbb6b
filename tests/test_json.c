/*
 * test_json.c - the JSON reader and writer.
 * Every document is parsed from an exact-size heap copy without a NUL, so ASan sees any read
 * past the end. Oracles: hand-decoded UTF-8 bytes and IEEE values, error positions counted by
 * hand, exhaustive prefixes and seeded byte mutations (must fail cleanly, never crash), a
 * synthetic 10 MB tokenizer.json timed against the 1 s budget, and, when /usr/bin/python3 is
 * there, Python's json module reading what the writer wrote and writing what the reader reads.
 */
#include "attnrl/json.h"
#include "check.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char errbuf[256];

static struct json *parse_n(const char *text, size_t n)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, text, n);
	struct json *root = json_parse(copy, n, errbuf, sizeof(errbuf));
	free(copy); /* the DOM must not point into the text */
	return root;
}

static struct json *parse(const char *text)
{
	return parse_n(text, strlen(text));
}

static void test_types(void)
{
	struct json *r = parse(" {\"n\": null, \"t\": true, \"f\": false, \"x\": -1.5,\n"
			       "  \"s\": \"hi\", \"a\": [1, [], {}], \"o\": {\"k\": \"v\"}} ");
	CHECK(r != NULL, "parse: %s", errbuf);
	CHECK(json_type(r) == JSON_OBJECT && json_len(r) == 7, "root");
	const char *keys[] = { "n", "t", "f", "x", "s", "a", "o" };
	enum json_type types[] = { JSON_NULL, JSON_BOOL, JSON_BOOL, JSON_NUMBER, JSON_STRING,
				   JSON_ARRAY, JSON_OBJECT };
	for (size_t i = 0; i < 7; i++) {
		CHECK(json_key_at(r, i) && !strcmp(json_key_at(r, i), keys[i]), "key %zu", i);
		CHECK(json_type(json_at(r, i)) == types[i], "type of %s", keys[i]);
		CHECK(json_get(r, keys[i]) == json_at(r, i), "get %s", keys[i]);
	}
	CHECK(json_bool(json_get(r, "t")) == 1 && json_bool(json_get(r, "f")) == 0, "bools");
	CHECK(json_bool(json_get(r, "n")) == -1, "null is no bool");
	CHECK(json_num(json_get(r, "x")) == -1.5, "number");
	CHECK(!strcmp(json_str(json_get(r, "s")), "hi") && json_str_len(json_get(r, "s")) == 2, "str");
	const struct json *a = json_get(r, "a");
	CHECK(json_len(a) == 3 && json_num(json_at(a, 0)) == 1, "array");
	CHECK(json_len(json_at(a, 1)) == 0 && json_type(json_at(a, 2)) == JSON_OBJECT, "empties");
	CHECK(json_at(a, 3) == NULL && json_key_at(a, 0) == NULL, "array bounds, no keys");
	CHECK(!strcmp(json_str(json_get(json_get(r, "o"), "k")), "v"), "nested");
	CHECK(json_get(r, "missing") == NULL && json_get(NULL, "x") == NULL, "missing");
	CHECK(json_type(json_get(json_get(r, "zz"), "y")) == JSON_MISSING, "chained missing");
	CHECK(isnan(json_num(json_get(r, "s"))) && json_str(json_get(r, "x")) == NULL, "wrong type");
	CHECK(json_int(NULL, NULL) == -1 && json_len(NULL) == 0, "NULL accessors");
	CHECK(!strcmp(json_type_name(JSON_ARRAY), "array"), "type name");
	json_free(r);
	json_free(NULL);
	for (const char *s = "null\0true\0\"\"\0[]\0{}\0-0\0"; *s; s += strlen(s) + 1) {
		r = parse(s);
		CHECK(r != NULL, "scalar root %s: %s", s, errbuf);
		json_free(r);
	}
}

static void expect_str(const char *doc, const char *bytes, size_t n)
{
	struct json *r = parse(doc);
	CHECK(r && json_type(r) == JSON_STRING, "%s: %s", doc, errbuf);
	CHECK(r && json_str_len(r) == n && !memcmp(json_str(r), bytes, n) && !json_str(r)[n],
	      "%s decodes to %zu bytes", doc, json_str_len(r));
	json_free(r);
}

static void test_strings(void)
{
	expect_str("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
	expect_str("\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9", 4);
	expect_str("\"\\u20ac\"", "\xe2\x82\xac", 3);
	expect_str("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);
	expect_str("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
	expect_str("\"\\ud800\"", "\xef\xbf\xbd", 3);
	expect_str("\"\\udc00x\"", "\xef\xbf\xbdx", 4);
	expect_str("\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4);
	expect_str("\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80", 7);
	expect_str("\"a\\u0000b\"", "a\0b", 3);
	expect_str("\"\\u0120x\"", "\xc4\xa0x", 3);
	expect_str("\"caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f\"", "caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f", 12);
	expect_str("\"\"", "", 0);
	expect_str("\"\xef\xbb\xbf\"", "\xef\xbb\xbf", 3);   /* U+FEFF inside a string stays */
	expect_str("\xef\xbb\xbf\"bom\"", "bom", 3);          /* a leading BOM is skipped */
}

static void expect_int(const char *doc, int ok, int64_t want, double num)
{
	struct json *r = parse(doc);
	int64_t v = 12345;
	CHECK(r && json_type(r) == JSON_NUMBER, "%s: %s", doc, errbuf);
	CHECK((json_int(r, &v) == 0) == ok && (!ok || v == want), "%s: json_int %lld", doc,
	      (long long)v);
	CHECK(json_num(r) == num, "%s: json_num %.17g vs %.17g", doc, json_num(r), num);
	json_free(r);
}

static void test_numbers(void)
{
	expect_int("0", 1, 0, 0.0);
	expect_int("123", 1, 123, 123.0);
	expect_int("-123", 1, -123, -123.0);
	expect_int("1e3", 1, 1000, 1000.0);
	expect_int("2.0", 1, 2, 2.0);
	expect_int("1E+2", 1, 100, 100.0);
	expect_int("1.5", 0, 0, 1.5);
	expect_int("2.5e-3", 0, 0, 0.0025);
	expect_int("0.1", 0, 0, 0.1);
	expect_int("9007199254740993", 1, 9007199254740993LL, 9007199254740992.0);
	expect_int("9223372036854775807", 1, INT64_MAX, 9223372036854775807.0);
	expect_int("-9223372036854775808", 1, INT64_MIN, -9223372036854775808.0);
	expect_int("9223372036854775808", 0, 0, 9223372036854775808.0);
	expect_int("-9223372036854775809", 0, 0, -9223372036854775808.0);
	expect_int("18446744073709551616", 0, 0, 18446744073709551616.0);
	expect_int("1e-400", 0, 0, 0.0);
	expect_int("0.0001e4", 1, 1, 1.0);
	expect_int("2.50e1", 1, 25, 25.0);
	expect_int("100000000000000000000000e-5", 1, 1000000000000000000LL, 1e18);
	expect_int("9007199254740993.0", 1, 9007199254740993LL, 9007199254740992.0);
	expect_int("1.0000000000000000001", 0, 0, 1.0);
	expect_int("-9223372036854775808.0e0", 1, INT64_MIN, -9223372036854775808.0);
	expect_int("0e999999999999", 1, 0, 0.0);
	expect_int("4.9406564584124654e-324", 0, 0, 4.9406564584124654e-324);
	expect_int("1.7976931348623157e308", 0, 0, DBL_MAX);
	struct json *r = parse("-0");
	int64_t v = 7;
	CHECK(r && json_num(r) == 0 && signbit(json_num(r)), "-0 keeps its sign");
	CHECK(json_int(r, &v) == 0 && v == 0, "-0 is the integer 0");
	json_free(r);
	r = parse("-0.0e0");
	CHECK(r && signbit(json_num(r)), "-0.0e0");
	json_free(r);
	char big[400] = "0.";
	memset(big + 2, '3', 300);
	r = parse(big);
	CHECK(r && json_num(r) == 1.0 / 3.0, "300-digit number: %s", errbuf);
	json_free(r);
}

static void expect_err(const char *doc, size_t n, const char *where, const char *what)
{
	struct json *r = parse_n(doc, n);
	CHECK(r == NULL, "'%.40s' should fail", doc);
	CHECK(!strncmp(errbuf, where, strlen(where)) && errbuf[strlen(where)] == ':',
	      "'%.40s': want %s, got '%s'", doc, where, errbuf);
	CHECK(strstr(errbuf, what) != NULL, "'%.40s': want '%s' in '%s'", doc, what, errbuf);
	json_free(r);
}

#define ERR(doc, where, what) expect_err(doc, sizeof(doc) - 1, where, what)

static void test_errors(void)
{
	ERR("[1, 2,]", "line 1 col 7", "trailing comma before ']'");
	ERR("{\"a\": 1,}", "line 1 col 9", "trailing comma before '}'");
	ERR("{\n  \"a\": [1,\n    2,,]\n}", "line 3 col 7", "expected a value, found ','");
	ERR("\"abc", "line 1 col 1", "unterminated string");
	ERR("[\"ab\\", "line 1 col 2", "unterminated string");
	ERR("\"a\\qb\"", "line 1 col 3", "invalid escape '\\q'");
	ERR("\"\\u12\"", "line 1 col 2", "invalid \\u escape");
	ERR("\"\\u12G4\"", "line 1 col 2", "invalid \\u escape");
	ERR("\"a\nb\"", "line 1 col 3", "unescaped control character 0x0a");
	ERR("\"\t\"", "line 1 col 2", "control character 0x09");
	ERR("\"\x00\"", "line 1 col 2", "control character 0x00");
	ERR("\"\xff\"", "line 1 col 2", "invalid UTF-8 byte 0xff");
	ERR("\"\xc0\xaf\"", "line 1 col 2", "invalid UTF-8");
	ERR("\"\xed\xa0\x80\"", "line 1 col 2", "invalid UTF-8");
	ERR("\"\xe2\x82\"", "line 1 col 2", "invalid UTF-8");
	ERR("\"\xf4\x90\x80\x80\"", "line 1 col 2", "invalid UTF-8");
	ERR("01", "line 1 col 1", "leading zero");
	ERR("[-01]", "line 1 col 2", "leading zero");
	ERR("-", "line 1 col 2", "expected a digit after '-'");
	ERR("-x", "line 1 col 2", "expected a digit after '-'");
	ERR("1.", "line 1 col 3", "expected a digit after '.'");
	ERR("1.e5", "line 1 col 3", "expected a digit after '.'");
	ERR("1e", "line 1 col 3", "expected a digit in the exponent");
	ERR("1e+", "line 1 col 4", "expected a digit in the exponent");
	ERR(".5", "line 1 col 1", "expected a value, found '.'");
	ERR("+1", "line 1 col 1", "expected a value, found '+'");
	ERR("1e400", "line 1 col 1", "number out of range");
	ERR("-1e400", "line 1 col 1", "number out of range");
	ERR("nan", "line 1 col 1", "expected a value, found 'n'");
	ERR("NaN", "line 1 col 1", "expected a value, found 'N'");
	ERR("[Infinity]", "line 1 col 2", "expected a value, found 'I'");
	ERR("-Infinity", "line 1 col 2", "expected a digit after '-'");
	ERR("tru", "line 1 col 1", "found 't'");
	ERR("True", "line 1 col 1", "found 'T'");
	ERR("[1 2]", "line 1 col 4", "expected ',' or ']' after an array element");
	ERR("{\"a\" 1}", "line 1 col 6", "expected ':' after an object key");
	ERR("{1: 2}", "line 1 col 2", "expected a string key");
	ERR("{\"a\": 1 \"b\": 2}", "line 1 col 9", "expected ',' or '}' after an object member");
	ERR("{\"a\": 1,, }", "line 1 col 9", "expected a string key");
	ERR("[,1]", "line 1 col 2", "expected a value, found ','");
	ERR("", "line 1 col 1", "unexpected end of input");
	ERR(" \n ", "line 2 col 2", "unexpected end of input");
	ERR("[", "line 1 col 2", "unexpected end of input");
	ERR("[1", "line 1 col 3", "unexpected end of input (expected ',' or ']')");
	ERR("{\"a\"", "line 1 col 5", "expected ':'");
	ERR("{\"a\":", "line 1 col 6", "unexpected end of input");
	ERR("{\"a\":1", "line 1 col 7", "expected ',' or '}'");
	ERR("[1] x", "line 1 col 5", "unexpected characters after the document");
	ERR("{\"a\":1}}", "line 1 col 8", "unexpected characters");
	ERR("1 2", "line 1 col 3", "unexpected characters");
	ERR("// c\n1", "line 1 col 1", "found '/'");
	ERR("[1] /* c */", "line 1 col 5", "unexpected characters");
	ERR("'a'", "line 1 col 1", "found '''");
	ERR("\x01", "line 1 col 1", "found byte 0x01");
	ERR("[1,\xc2\xa0" "2]", "line 1 col 4", "found byte 0xc2");
}

static void test_depth(void)
{
	enum { N = 1000 };
	char *s = malloc(6 * N);
	for (int depth = 511; depth <= 513; depth++) {
		memset(s, '[', (size_t)depth);
		memset(s + depth, ']', (size_t)depth);
		struct json *r = parse_n(s, 2 * (size_t)depth);
		CHECK((r != NULL) == (depth <= JSON_MAX_DEPTH), "depth %d: %s", depth, errbuf);
		json_free(r);
	}
	memset(s, '[', N);
	memset(s + N, ']', N);
	expect_err(s, 2 * N, "line 1 col 513", "nesting deeper than 512 levels");
	for (int i = 0; i < N; i++)
		s[i] = i % 2 ? '[' : '{';
	struct json *r = parse_n(s, N);
	CHECK(r == NULL && strstr(errbuf, "expected a string key"), "{[{[: %s", errbuf);
	for (int i = 0; i < N; i++)
		memcpy(s + 6 * i, "{\"a\":[", 6);
	expect_err(s, 6 * N, "line 1 col 1537", "nesting deeper than 512 levels");
	free(s);
}

static void test_objects(void)
{
	ERR("{\"a\": 1, \"b\": 2, \"a\": 3}", "line 1 col 18", "duplicate key \"a\"");
	ERR("{\"a\": {\"x\": 1},\n \"b\": {\"x\": 1, \"x\": 2}}", "line 2 col 16",
	    "duplicate key \"x\"");
	ERR("[{\"k\": 1}, {\"k\": 1, \"\\u006b\": 2}]", "line 1 col 21", "duplicate key \"k\"");
	struct json *r = parse("[{\"a\": 1}, {\"a\": 2}, {\"a\": {\"a\": 3}}]");
	CHECK(r && json_num(json_get(json_at(r, 1), "a")) == 2, "same key in sibling objects");
	json_free(r);
	char doc[40000];
	size_t k = (size_t)sprintf(doc, "{");
	for (int i = 0; i < 2000; i++)
		k += (size_t)sprintf(doc + k, "%s\"key%d\": %d", i ? ", " : "", i, i);
	sprintf(doc + k, ", \"\": -1, \"a\\u0000b\": -2}");
	r = parse(doc);
	CHECK(r && json_len(r) == 2002, "big object: %s", errbuf);
	int bad = 0;
	for (int i = 0; i < 2000; i++) {
		char key[16];
		int64_t v;
		sprintf(key, "key%d", i);
		bad += json_int(json_get(r, key), &v) || v != i;
	}
	CHECK(bad == 0, "hashed lookups: %d wrong", bad);
	CHECK(json_get(r, "key2000") == NULL && json_get(r, "key") == NULL, "hashed absent");
	CHECK(json_num(json_get(r, "")) == -1, "empty key");
	CHECK(json_get(r, "a") == NULL && json_str_len(json_at(r, 2001)) == 0, "NUL key");
	CHECK(json_key_at(r, 2001) && !memcmp(json_key_at(r, 2001), "a\0b", 4), "NUL key bytes");
	json_free(r);
	k = (size_t)sprintf(doc, "{");
	for (int i = 0; i < 2000; i++)
		k += (size_t)sprintf(doc + k, "%s\"key%d\": %d", i ? ",\n" : "", i % 1500, i);
	sprintf(doc + k, "}");
	ERR(doc, "line 1501 col 1", "duplicate key \"key0\"");
}

/* every strict prefix of a document fails cleanly; seeded mutations never crash */
static void test_prefixes_and_mutations(void)
{
	const char *doc = "{\"a\": [1, -2.5e+3, true, false, null, \"x\\n\\u00e9\\ud83d\\ude00\"],"
			  " \"b\": {\"c\": {}, \"d\": []}, \"\xc3\xa9\": 0}";
	size_t n = strlen(doc);
	int ok = 0;
	for (size_t i = 0; i < n; i++) {
		struct json *r = parse_n(doc, i);
		ok += r != NULL;
		json_free(r);
	}
	CHECK(ok == 0, "%d prefixes parsed", ok);
	uint64_t s = 88172645463325252ULL;
	char *m = malloc(n);
	int parsed = 0;
	for (int it = 0; it < 20000; it++) {
		memcpy(m, doc, n);
		for (int k = 0; k < 1 + it % 3; k++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			m[s % n] = (char)(s >> 32);
		}
		struct json *r = parse_n(m, n - (it % 5 == 0 ? s % 7 : 0));
		parsed += r != NULL;
		json_free(r);
	}
	free(m);
	printf("test_json: %d of 20000 mutated documents still parse\n", parsed);
}

/* the length of a valid multi-byte UTF-8 sequence at s, decoded the long way; 0 if invalid */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = s[0] > 0xf4 ? 0 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	uint32_t cp = s[0] & (0x7fu >> len);
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	return cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

/* bytes with each invalid UTF-8 byte replaced by U+FFFD, as the writer promises */
static size_t expected_utf8(const unsigned char *s, size_t n, unsigned char *out)
{
	size_t k = 0;
	for (size_t i = 0, len; i < n;) {
		if (s[i] < 0x80) {
			out[k++] = s[i++];
		} else if ((len = utf8_len(s + i, n - i)) > 0) {
			memcpy(out + k, s + i, len);
			k += len, i += len;
		} else {
			memcpy(out + k, "\xef\xbf\xbd", 3);
			k += 3, i++;
		}
	}
	return k;
}

#define W(lit) { lit, sizeof(lit) - 1 }
static const struct {
	const char *s;
	size_t n;
} wstr[] = {
	W("plain"), W(""), W("quote \" backslash \\ slash /"), W("\x01\x02\x1f\x7f tab\tnl\ncr\r\b\f"),
	W("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), W("bad \xff\xfe end"), W("overlong \xc0\xaf"),
	W("surrogate \xed\xa0\x80"), W("cut \xe2\x82"), W("lone cont \x80\xbf"), W("max \xf4\x8f\xbf\xbf"),
	W("past max \xf4\x90\x80\x80"), W("nul\0inside"), W("\xf8\x88\x80\x80\x80 five"),
};
#define NS ((int)(sizeof(wstr) / sizeof(wstr[0])))
static const double wnums[] = { 0.1,     1.0 / 3,  -0.0,   1e-300, 4.9406564584124654e-324,
				DBL_MAX, 123456789012345678.0, 1e21, -2.5, 100,
				0.30000000000000004 };

static char *read_all(FILE *f, size_t *n)
{
	long len;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)len + 1);
	*n = fread(buf, 1, (size_t)len, f);
	buf[*n] = 0;
	return buf;
}

static void test_writer_strings(void)
{
	FILE *f = tmpfile();
	for (int i = 0; i < NS; i++) {
		json_write_strn(f, wstr[i].s, wstr[i].n);
		fputc('\n', f);
	}
	json_write_string(f, NULL);
	size_t n;
	char *text = read_all(f, &n), *line = text;
	fclose(f);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)text[i] >= 0x20 || text[i] == '\n', "raw byte 0x%02x", text[i]);
	for (int i = 0; i < NS; i++) {
		unsigned char want[128];
		char *nl = strchr(line, '\n');
		size_t k = expected_utf8((const unsigned char *)wstr[i].s, wstr[i].n, want);
		struct json *r = parse_n(line, (size_t)(nl - line));
		CHECK(r && json_str_len(r) == k && !memcmp(json_str(r), want, k), "string %d: %.*s", i,
		      (int)(nl - line), line);
		json_free(r);
		line = nl + 1;
	}
	CHECK(!strcmp(line, "null"), "NULL string: %s", line);
	free(text);
}

static void write_to(char *buf, size_t n, double x, int as_float)
{
	FILE *f = tmpfile();
	size_t k;
	if (as_float)
		json_write_float(f, (float)x);
	else
		json_write_number(f, x);
	char *s = read_all(f, &k);
	fclose(f);
	snprintf(buf, n, "%s", s);
	free(s);
}

static void test_writer_numbers(void)
{
	char buf[64];
	for (size_t i = 0; i < sizeof(wnums) / sizeof(wnums[0]); i++) {
		write_to(buf, sizeof(buf), wnums[i], 0);
		struct json *r = parse(buf);
		CHECK(r && !memcmp(&(double){ json_num(r) }, &wnums[i], 8), "%.17g -> %s", wnums[i],
		      buf);
		json_free(r);
	}
	const char *want[][2] = { { "0.1", "0.1" }, { "100", "100" }, { "-0.0", "-0.0" },
				  { "1e+21", "1e+21" }, { "0.30000000000000004", "0.3" } };
	const double xs[] = { 0.1, 100, -0.0, 1e21, 0.30000000000000004 };
	for (int i = 0; i < 5; i++) {
		write_to(buf, sizeof(buf), xs[i], 0);
		CHECK(!strcmp(buf, want[i][0]), "double %.17g -> %s", xs[i], buf);
		write_to(buf, sizeof(buf), xs[i], 1);
		CHECK(!strcmp(buf, want[i][1]), "float %.9g -> %s", xs[i], buf);
	}
	write_to(buf, sizeof(buf), 0.1f, 1);
	CHECK(!strcmp(buf, "0.1"), "0.1f -> %s", buf);
	write_to(buf, sizeof(buf), (double)0.1f, 0);
	CHECK(strtod(buf, NULL) == (double)0.1f, "(double)0.1f -> %s", buf);
	const double bad[] = { NAN, INFINITY, -INFINITY };
	for (int i = 0; i < 3; i++) {
		write_to(buf, sizeof(buf), bad[i], i == 1);
		CHECK(!strcmp(buf, "null"), "non-finite -> %s", buf);
	}
}

static void test_builder(void)
{
	FILE *f = tmpfile();
	struct json_out o;
	size_t n;
	json_obj_begin(&o, f);
	json_kv_int(&o, "step", 3);
	json_kv_num(&o, "loss", 0.25);
	json_kv_float(&o, "lr", 1e-5f);
	json_kv_bool(&o, "ok", 1);
	json_kv_str(&o, "name", "a\"b");
	json_kv_raw(&o, "v", "[1, 2]");
	json_kv_key(&o, "big");
	fprintf(f, "%lld", (long long)INT64_MIN);
	json_obj_end(&o);
	json_obj_begin(&o, f);
	json_obj_end(&o);
	char *text = read_all(f, &n);
	fclose(f);
	const char *want = "{\"step\": 3, \"loss\": 0.25, \"lr\": 1e-05, \"ok\": true, "
			   "\"name\": \"a\\\"b\", \"v\": [1, 2], \"big\": -9223372036854775808}\n{}\n";
	CHECK(!strcmp(text, want), "builder:\n%s", text);
	struct json *r = parse_n(text, (size_t)(strchr(text, '\n') - text));
	int64_t big = 0;
	CHECK(r && json_len(r) == 7 && (float)json_num(json_get(r, "lr")) == 1e-5f, "reparse");
	CHECK(json_int(json_get(r, "big"), &big) == 0 && big == INT64_MIN, "INT64_MIN");
	json_free(r);
	free(text);
}

/* CPU seconds of this process: robust to a loaded machine */
static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* a tokenizer.json look-alike: a 150k-entry vocab with \u escapes and a 150k merges list */
static char *fake_tokenizer(size_t *n)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, n);
	fputs("{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 0, \"content\": \"<|endoftext|>\","
	      " \"special\": true}],\n \"model\": {\"type\": \"BPE\", \"dropout\": null, \"vocab\": {", m);
	for (int i = 0; i < 150000; i++)
		fprintf(m, "%s\n    \"\\u0120tok%d\\\"\xc4\xa0%x\": %d", i ? "," : "", i, i * 7, i);
	fputs("},\n \"merges\": [", m);
	for (int i = 0; i < 200000; i++)
		fprintf(m, "%s\n    \"\xc4\xa0t%d ok%d\"", i ? "," : "", i, i % 977);
	fputs("]}}\n", m);
	fclose(m);
	return buf;
}

#if defined(__SANITIZE_ADDRESS__)
#define PARSE_BUDGET_S 3.0 /* ASan slows allocation and memory access several times */
#else
#define PARSE_BUDGET_S 1.0
#endif

static void test_big_document(void)
{
	size_t n;
	char *doc = fake_tokenizer(&n);
	double t0 = now();
	struct json *r = json_parse(doc, n, errbuf, sizeof(errbuf));
	double dt = now() - t0;
	printf("test_json: parsed a %.1f MB tokenizer-like document in %.3f s of CPU\n",
	       (double)n / 1e6, dt);
	CHECK(r != NULL, "big document: %s", errbuf);
	CHECK(dt < PARSE_BUDGET_S, "parse took %.3f s of CPU", dt);
	const struct json *vocab = json_get(json_get(r, "model"), "vocab");
	CHECK(json_len(vocab) == 150000, "vocab size %zu", json_len(vocab));
	int bad = 0;
	t0 = now();
	for (int i = 0; i < 150000; i += 7) {
		char key[64];
		int64_t id;
		sprintf(key, "\xc4\xa0tok%d\"\xc4\xa0%x", i, i * 7);
		bad += json_int(json_get(vocab, key), &id) || id != i;
	}
	CHECK(bad == 0, "%d vocab lookups wrong", bad);
	const struct json *merges = json_get(json_get(r, "model"), "merges");
	CHECK(json_len(merges) == 200000, "merges %zu", json_len(merges));
	CHECK(json_str(json_at(merges, 5)) && !strcmp(json_str(json_at(merges, 5)), "\xc4\xa0t5 ok5"),
	      "merge 5");
	printf("test_json: 21429 vocab lookups in %.4f s\n", now() - t0);
	json_free(r);
	free(doc);
}

static void test_load(void)
{
	char dir[] = "/tmp/test_json_XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/c.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"hidden_size\": 64,\n \"rope_theta\": 1e4,\n \"bad\": [1,]}", f);
	fclose(f);
	struct json *r = json_load(path, errbuf, sizeof(errbuf));
	char want[128];
	snprintf(want, sizeof(want), "%s: line 3 col 12: trailing comma before ']'", path);
	CHECK(r == NULL && !strcmp(errbuf, want), "load error: %s", errbuf);
	f = fopen(path, "w");
	fputs("{\"hidden_size\": 64, \"rope_theta\": 1e4}", f);
	fclose(f);
	r = json_load(path, errbuf, sizeof(errbuf));
	int64_t h = 0;
	CHECK(r && json_int(json_get(r, "hidden_size"), &h) == 0 && h == 64, "load: %s", errbuf);
	CHECK(json_num(json_get(r, "rope_theta")) == 10000.0, "rope_theta");
	json_free(r);
	unlink(path);
	r = json_load(path, errbuf, sizeof(errbuf));
	CHECK(r == NULL && strstr(errbuf, "cannot read: No such file"), "missing: %s", errbuf);
	r = json_load(dir, errbuf, sizeof(errbuf));
	CHECK(r == NULL && strstr(errbuf, "cannot read"), "a folder: %s", errbuf);
	rmdir(dir);
}

/* ---- Python's json module as the outside oracle (skipped without /usr/bin/python3) ------- */

static const char *py_script =
	"import json, random, sys\n"
	"for line in open(sys.argv[1], encoding='utf-8'):\n"
	"    o = json.loads(line)\n"
	"    print('W', o['s'].encode('utf-8').hex(), float(o['x']).hex(), sep='|')\n"
	"random.seed(7)\n"
	"pool = [chr(c) for c in list(range(0, 0x80)) + [0xe9, 0x20ac, 0xfffd, 0xffff, 0x1f600,\n"
	"        0x10ffff, 0x2028, 0x7f]]\n"
	"for i in range(300):\n"
	"    s = ''.join(random.choice(pool) for _ in range(random.randrange(0, 12)))\n"
	"    x = random.choice([random.random() * 10 ** random.randrange(-300, 300), i, -i])\n"
	"    doc = json.dumps({'s': s, 'x': x}, ensure_ascii=bool(i % 2))\n"
	"    print('R', s.encode('utf-8').hex(), float(x).hex(), doc, sep='|')\n";

static size_t unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = 0;
	for (; n < cap && h[2 * n] && h[2 * n] != '|'; n++)
		sscanf(h + 2 * n, "%2hhx", &out[n]);
	return n;
}

/* "W|utf8 hex|float hex" for a line the writer wrote; "R|hex|hex|doc" for a Python document */
static void py_check_line(char *line, int *iw, int *nr)
{
	unsigned char want[256];
	char *hx = strchr(line, '|'), *fx = hx ? strchr(hx + 1, '|') : NULL;
	char *doc = fx ? strchr(fx + 1, '|') : NULL;
	CHECK(fx != NULL, "python line: %s", line);
	if (!fx)
		return;
	size_t k = unhex(hx + 1, want, sizeof(want));
	double x = strtod(fx + 1, NULL);
	if (line[0] == 'W') {
		unsigned char mine[128];
		size_t m = *iw < NS ? expected_utf8((const unsigned char *)wstr[*iw].s, wstr[*iw].n, mine) : 0;
		CHECK(*iw < NS && m == k && !memcmp(mine, want, k), "python read string %d", *iw);
		CHECK(!memcmp(&x, &wnums[*iw % 11], 8), "python read %.17g as %s", wnums[*iw % 11], fx + 1);
		(*iw)++;
		return;
	}
	CHECK(doc != NULL, "python line: %s", line);
	if (!doc)
		return;
	doc[strcspn(doc, "\n")] = 0;
	struct json *r = parse(doc + 1);
	CHECK(r && json_str_len(json_get(r, "s")) == k && !memcmp(json_str(json_get(r, "s")), want, k),
	      "python doc %s: %s", doc + 1, errbuf);
	CHECK(json_num(json_get(r, "x")) == x, "python number %s", doc + 1);
	json_free(r);
	(*nr)++;
}

static void test_python_oracle(void)
{
	if (access("/usr/bin/python3", X_OK))
		return;
	char dir[] = "/tmp/test_json_py_XXXXXX", data[64], script[64], cmd[200], line[4096];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(data, sizeof(data), "%s/w.jsonl", dir);
	snprintf(script, sizeof(script), "%s/oracle.py", dir);
	FILE *f = fopen(script, "w");
	fputs(py_script, f);
	fclose(f);
	f = fopen(data, "w");
	for (int i = 0; i < NS; i++) {
		struct json_out o;
		json_obj_begin(&o, f);
		json_kv_key(&o, "s");
		json_write_strn(f, wstr[i].s, wstr[i].n);
		json_kv_num(&o, "x", wnums[i % 11]);
		json_obj_end(&o);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", script, data);
	FILE *p = popen(cmd, "r");
	int iw = 0, nr = 0;
	while (p && fgets(line, sizeof(line), p))
		py_check_line(line, &iw, &nr);
	CHECK(p && pclose(p) == 0, "python3 failed");
	CHECK(iw == NS && nr == 300, "python lines: %d written, %d read", iw, nr);
	unlink(data);
	unlink(script);
	rmdir(dir);
}

int main(void)
{
	test_types();
	test_strings();
	test_numbers();
	test_errors();
	test_depth();
	test_objects();
	test_prefixes_and_mutations();
	test_writer_strings();
	test_writer_numbers();
	test_builder();
	test_big_document();
	test_load();
	test_python_oracle();
	return check_done("test_json");
}
