/*
 * test_safetensors.c - safetensors writing and validated reading.
 * A fixture of every dtype (plus a scalar, an empty tensor and odd names) is written, read
 * back and compared byte for byte; Python (struct + json + zlib, no numpy) reads the same file
 * as an outside oracle when /usr/bin/python3 exists. Then hand-made and truncated files must
 * each fail with their specific one-line error, and failing writes (missing folder, full disk
 * via a /dev/full symlink, invalid entries) must leave no file behind. Outputs go to a fresh
 * mkdtemp folder under /tmp, removed at the end.
 */
#include "attnrl/json.h"
#include "attnrl/safetensors.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_st_XXXXXX";
static char err[512];

/* ---- the fixture ------------------------------------------------------------------------- */

static float f32[2][3] = { { 1.5f, -2.0f, 3.25f }, { 0.0f, -0.0f, 1e-30f } };
static uint16_t f16[4] = { 0x3c00, 0xc000, 0x7bff, 0x0001 };
static uint16_t bf16[5] = { 0x3f80, 0xbf80, 0x7f80, 0x0000, 0x4049 };
static double f64[2] = { 3.141592653589793, -1e300 };
static int64_t i64[3] = { INT64_MIN, -1, INT64_MAX };
static int32_t i32[1] = { -123456789 };
static int16_t i16[2] = { -32768, 32767 };
static int8_t i8[3] = { -128, 0, 127 };
static uint8_t u8[7] = { 0, 1, 2, 3, 250, 254, 255 };
static uint8_t bools[2] = { 1, 0 };
static float scalar = 42.0f;

static const int64_t s23[] = { 2, 3 }, s4[] = { 4 }, s5[] = { 5 }, s2[] = { 2 }, s3[] = { 3 },
		     s1[] = { 1 }, s7[] = { 7 }, s04[] = { 0, 4 }, s1117[] = { 1, 1, 1, 7 };

static const struct st_entry fixture[] = {
	{ "model.embed.weight", ST_F32, 2, s23, f32 },
	{ "h.0.f16", ST_F16, 1, s4, f16 },
	{ "h.0.bf16", ST_BF16, 1, s5, bf16 },
	{ "f64", ST_F64, 1, s2, f64 },
	{ "i64", ST_I64, 1, s3, i64 },
	{ "i32", ST_I32, 1, s1, i32 },
	{ "i16", ST_I16, 1, s2, i16 },
	{ "i8", ST_I8, 1, s3, i8 },
	{ "u8 caf\xc3\xa9", ST_U8, 1, s7, u8 },
	{ "bool \"quoted\"", ST_BOOL, 1, s2, bools },
	{ "scalar", ST_F32, 0, NULL, &scalar },
	{ "empty", ST_F32, 2, s04, NULL },
	{ "u8.4d", ST_U8, 4, s1117, u8 },
};
#define NF ((int)(sizeof(fixture) / sizeof(fixture[0])))
static const char *const fixture_meta[] = { "format", "pt", "note", "line 1\nline \"2\" \xe2\x82\xac" };

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static size_t entry_bytes(const struct st_entry *e)
{
	size_t n = st_dtype_size(e->dtype);
	for (int d = 0; d < e->ndim; d++)
		n *= (size_t)e->shape[d];
	return n;
}

static char *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*n + 1);
	*n = fread(buf, 1, *n, f);
	fclose(f);
	return buf;
}

static void write_all(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(p, 1, n, f) == n && fclose(f) == 0, "write %s", path);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- round trip -------------------------------------------------------------------------- */

static void check_fixture(const struct st_file *f, const char *what)
{
	CHECK(f->n_tensors == NF && f->n_meta == 2, "%s: %d tensors, %d meta", what, f->n_tensors,
	      f->n_meta);
	for (int i = 0; i < NF && i < f->n_tensors; i++) {
		const struct st_tensor *t = &f->tensors[i];
		const struct st_entry *e = &fixture[i];
		size_t nb = entry_bytes(e);
		CHECK(!strcmp(t->name, e->name), "%s: tensor %d is '%s'", what, i, t->name);
		CHECK(t->dtype == e->dtype && t->ndim == e->ndim && t->nbytes == nb, "%s: %s", what,
		      e->name);
		CHECK(!e->ndim || !memcmp(t->shape, e->shape, (size_t)e->ndim * 8), "%s: shape of %s", what,
		      e->name);
		CHECK(!nb || !memcmp(t->data, e->data, nb), "%s: bytes of %s", what, e->name);
		CHECK(st_find(f, e->name) == t, "%s: st_find %s", what, e->name);
		CHECK((size_t)((const char *)t->data - (const char *)f->map) % st_dtype_size(t->dtype) == 0,
		      "%s: %s is aligned", what, e->name);
	}
	CHECK(st_find(f, "model") == NULL && st_find(f, "") == NULL, "%s: st_find absent", what);
	CHECK(st_meta(f, "format") && !strcmp(st_meta(f, "format"), "pt"), "%s: meta format", what);
	CHECK(st_meta(f, "note") && !strcmp(st_meta(f, "note"), fixture_meta[3]), "%s: meta note", what);
	CHECK(st_meta(f, "absent") == NULL, "%s: meta absent", what);
}

static void test_roundtrip(const char *path)
{
	struct st_file f;
	size_t n = 0;
	CHECK(st_write(path, fixture, NF, fixture_meta, 2, err, sizeof(err)) == 0, "write: %s", err);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(!exists(tmp), "no .tmp left behind");
	CHECK(st_open(&f, path, err, sizeof(err)) == 0, "open: %s", err);
	check_fixture(&f, "reopened");
	st_close(&f);
	st_close(&f);
	CHECK(f.map == NULL && f.tensors == NULL && f.n_tensors == 0, "st_close zeroes");
	char *b = read_all(path, &n);
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | (unsigned char)b[i];
	size_t data = 0;
	for (int i = 0; i < NF; i++)
		data += entry_bytes(&fixture[i]);
	CHECK((8 + hlen) % 8 == 0 && n == 8 + hlen + data, "layout: header %llu, file %zu",
	      (unsigned long long)hlen, n);
	CHECK(!strncmp(b + 8, "{\"__metadata__\":{\"format\":\"pt\"", 30), "metadata first: %.40s",
	      b + 8);
	struct json *h = json_parse(b + 8, (size_t)hlen, err, sizeof(err));
	CHECK(h && json_len(h) == (size_t)NF + 1, "header parses: %s", err);
	CHECK(h && !strcmp(json_key_at(h, 0), "__metadata__") && !strcmp(json_key_at(h, 1), fixture[0].name),
	      "header order");
	json_free(h);
	/* from memory: an exact-size copy (ASan sees reads past it), tensors point into it */
	char *copy = malloc(n);
	memcpy(copy, b, n);
	CHECK(st_parse(&f, copy, n, "mem", err, sizeof(err)) == 0, "st_parse: %s", err);
	check_fixture(&f, "parsed from memory");
	CHECK(f.map == NULL && f.n_tensors == NF && (const char *)f.tensors[0].data >= copy &&
	      (const char *)f.tensors[0].data < copy + n, "st_parse: data in the buffer");
	st_close(&f);
	CHECK(st_parse(&f, copy, 7, "mem", err, sizeof(err)) == -1 &&
	      !strcmp(err, "mem: truncated: the file has 7 bytes, fewer than the 8 of the header "
		      "length"), "st_parse of 7 bytes: '%s'", err);
	CHECK(st_parse(&f, copy, n - 1, "mem", err, sizeof(err)) == -1 && !strncmp(err, "mem: ", 5),
	      "st_parse of a cut file: '%s'", err);
	free(copy);
	free(b);
}

static void test_overwrite(const char *path)
{
	struct st_file f;
	const struct st_entry one = { "only", ST_I32, 1, s1, i32 };
	CHECK(st_write(path, &one, 1, NULL, 0, err, sizeof(err)) == 0, "overwrite: %s", err);
	CHECK(st_open(&f, path, err, sizeof(err)) == 0, "open overwritten: %s", err);
	CHECK(f.n_tensors == 1 && f.n_meta == 0 && !strcmp(f.tensors[0].name, "only"), "replaced");
	CHECK(*(const int32_t *)f.tensors[0].data == i32[0], "value");
	st_close(&f);
	char p[300];
	path_of(p, sizeof(p), "nothing.safetensors");
	CHECK(st_write(p, NULL, 0, NULL, 0, err, sizeof(err)) == 0, "empty file: %s", err);
	CHECK(st_open(&f, p, err, sizeof(err)) == 0 && f.n_tensors == 0, "empty reopens: %s", err);
	st_close(&f);
	unlink(p);
}

static void test_dtypes(void)
{
	const char *names[] = { "F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL" };
	const size_t sizes[] = { 4, 2, 2, 8, 8, 4, 2, 1, 1, 1 };
	for (int i = 0; i < 10; i++)
		CHECK(!strcmp(st_dtype_name(i), names[i]) && st_dtype_size(i) == sizes[i], "dtype %d", i);
	CHECK(st_dtype_size(10) == 0 && st_dtype_size(-1) == 0 && !strcmp(st_dtype_name(99), "?"),
	      "unknown dtype");
}

/* ---- Python as the outside reader ---------------------------------------------------------- */

static uint32_t crc32_of(const void *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= ((const unsigned char *)p)[i];
		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void hex_of(char *out, const char *s)
{
	for (; *s; s++, out += 2)
		sprintf(out, "%02x", (unsigned char)*s);
	*out = 0;
}

static const char *py_reader =
	"import json, struct, sys, zlib\n"
	"b = open(sys.argv[1], 'rb').read()\n"
	"n = struct.unpack('<Q', b[:8])[0]\n"
	"h = json.loads(b[8:8 + n].decode('utf-8'))\n"
	"data = b[8 + n:]\n"
	"print('H', n % 8, len(data), sep='|')\n"
	"for k, v in h.pop('__metadata__', {}).items():\n"
	"    print('M', k.encode().hex(), v.encode().hex(), sep='|')\n"
	"for k, v in h.items():\n"
	"    s, e = v['data_offsets']\n"
	"    shape = ','.join(str(d) for d in v['shape'])\n"
	"    print('T', k.encode().hex(), v['dtype'], shape, s, e, zlib.crc32(data[s:e]), sep='|')\n";

/* the layout st_write promises: 8-byte dtypes first, then 4, 2, 1; given order within a size */
static uint64_t expected_offset(int i)
{
	uint64_t off = 0;
	size_t zi = st_dtype_size(fixture[i].dtype);
	for (int j = 0; j < NF; j++) {
		size_t zj = st_dtype_size(fixture[j].dtype);
		if (zj > zi || (zj == zi && j < i))
			off += entry_bytes(&fixture[j]);
	}
	return off;
}

static void py_check_tensor(const char *line, int i, uint64_t *total)
{
	char want[600], hex[200], shape[100] = "";
	const struct st_entry *e = &fixture[i];
	size_t nb = entry_bytes(e);
	hex_of(hex, e->name);
	for (int d = 0; d < e->ndim; d++)
		sprintf(shape + strlen(shape), "%s%lld", d ? "," : "", (long long)e->shape[d]);
	uint64_t off = expected_offset(i);
	snprintf(want, sizeof(want), "T|%s|%s|%s|%llu|%llu|%lu\n", hex, st_dtype_name(e->dtype), shape,
		 (unsigned long long)off, (unsigned long long)(off + nb),
		 (unsigned long)crc32_of(e->data, nb));
	CHECK(!strcmp(line, want), "python sees\n%s  want\n%s", line, want);
	*total += nb;
}

static void test_python_reads(const char *path)
{
	char script[300], cmd[700], line[700], k[100], v[200], want[400], hline[700] = "";
	int nt = 0, nm = 0;
	uint64_t off = 0;
	if (access("/usr/bin/python3", X_OK))
		return;
	path_of(script, sizeof(script), "reader.py");
	write_all(script, py_reader, strlen(py_reader));
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", script, path);
	FILE *p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		if (line[0] == 'T' && nt < NF) {
			py_check_tensor(line, nt++, &off);
		} else if (line[0] == 'M' && nm < 2) {
			hex_of(k, fixture_meta[2 * nm]);
			hex_of(v, fixture_meta[2 * nm + 1]);
			snprintf(want, sizeof(want), "M|%s|%s\n", k, v);
			CHECK(!strcmp(line, want), "python metadata %d: %s", nm, line);
			nm++;
		} else {
			CHECK(line[0] == 'H' && !hline[0], "python line: %s", line);
			snprintf(hline, sizeof(hline), "%s", line);
		}
	}
	CHECK(p && pclose(p) == 0, "python3 reader failed");
	CHECK(nt == NF && nm == 2, "python lines: %d tensors, %d meta", nt, nm);
	snprintf(want, sizeof(want), "H|0|%llu\n", (unsigned long long)off);
	CHECK(!strcmp(hline, want), "python: header %% 8 and data size: %s", hline);
	unlink(script);
}

/* ---- corrupt files ------------------------------------------------------------------------- */

/* st_open(path) must fail with "path: <what...>" and leave f zeroed */
static void expect_open_err(const char *path, const char *what)
{
	struct st_file f;
	char want[700];
	int rc = st_open(&f, path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: %s", path, what);
	CHECK(rc == -1, "%s should fail", what);
	CHECK(strstr(err, want) == err, "error\n  got  %s\n  want %s...", err, want);
	CHECK(!strchr(err, '\n'), "one line: %s", err);
	CHECK(f.map == NULL && f.tensors == NULL && f.n_tensors == 0, "zeroed after failure");
	st_close(&f);
}

/* a file of an 8-byte header length hlen, the header text, then n_data zero bytes */
static void raw_file(const char *path, uint64_t hlen, const char *header, size_t n_data)
{
	size_t hn = strlen(header);
	unsigned char *b = calloc(1, 8 + hn + n_data);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(hlen >> (8 * i));
	memcpy(b + 8, header, hn);
	write_all(path, b, 8 + hn + n_data);
	free(b);
}

static void expect_header_err(const char *header, size_t n_data, const char *what)
{
	char p[300];
	path_of(p, sizeof(p), "model.safetensors");
	raw_file(p, strlen(header), header, n_data);
	expect_open_err(p, what);
}

#define T(body) "{\"w\": {" body "}}"

static void test_bad_headers(void)
{
	char p[300], what[200];
	path_of(p, sizeof(p), "x.safetensors");
	raw_file(p, 3000, "", 92);
	expect_open_err(p, "truncated: header says 3000 bytes but the file has 100");
	raw_file(p, 200u << 20, "{}", 0);
	expect_open_err(p, "header length 209715200 is over the 100 MB limit");
	raw_file(p, UINT64_MAX, "{}", 0);
	expect_open_err(p, "header length 18446744073709551615 is over the 100 MB limit");
	path_of(p, sizeof(p), "absent.safetensors");
	expect_open_err(p, "cannot open: No such file or directory");
	expect_open_err(dir, "not a regular file");

	expect_header_err("{\"model.norm.weight\": {\"dtype\": \"F32\", \"shape\": [64], "
			  "\"data_offsets\": [0, 12]}}", 12,
			  "tensor 'model.norm.weight': data_offsets [0, 12] hold 12 bytes but shape "
			  "[64] of F32 needs 256");
	expect_header_err(T("\"dtype\": \"F32\",}"), 0,
			  "header (bytes 8 to 33) is not valid JSON: line 1 col 23: trailing comma");
	expect_header_err("{\"a\": 1", 0, "header (bytes 8 to 15) is not valid JSON: line 1 col 8");
	expect_header_err("[1, 2]", 0, "header is array, not a JSON object");
	expect_header_err("", 0, "header (bytes 8 to 8) is not valid JSON: line 1 col 1");
	expect_header_err(T("\"dtype\": \"F8_E4M3\", \"shape\": [1], \"data_offsets\": [0, 1]"), 1,
			  "tensor 'w': unknown dtype 'F8_E4M3'");
	expect_header_err(T("\"dtype\": 4, \"shape\": [1], \"data_offsets\": [0, 1]"), 1,
			  "tensor 'w': dtype is number, not a string");
	expect_header_err(T("\"shape\": [1], \"data_offsets\": [0, 1]"), 1, "tensor 'w': missing dtype");
	expect_header_err(T("\"dtype\": \"U8\", \"data_offsets\": [0, 1]"), 1, "tensor 'w': missing shape");
	expect_header_err(T("\"dtype\": \"U8\", \"shape\": 1, \"data_offsets\": [0, 1]"), 1,
			  "tensor 'w': shape is number, not a list");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [4]"), 16, "tensor 'w': missing data_offsets");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [-3], \"data_offsets\": [0, 0]"), 0,
			  "tensor 'w': shape[0] is -3, not a non-negative integer");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [2, 2.5], \"data_offsets\": [0, 0]"), 0,
			  "tensor 'w': shape[1] is 2.5, not a non-negative integer");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 8]"), 8,
			  "tensor 'w': shape[0] is string, not a non-negative integer");
	expect_header_err(T("\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 1]"),
			  1, "tensor 'w': shape has 9 dims, more than 8");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], "
			    "\"data_offsets\": [0, 16]"), 16,
			  "tensor 'w': shape [4294967296, 4294967296] of F32 overflows 64 bits");
	expect_header_err(T("\"dtype\": \"F64\", \"shape\": [2305843009213693952], "
			    "\"data_offsets\": [0, 16]"), 16,
			  "tensor 'w': shape [2305843009213693952] of F64 overflows 64 bits");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 400]"), 16,
			  "tensor 'w': data_offsets [0, 400] run past the end of the data, which has "
			  "16 bytes");
	expect_header_err(T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]"), 16,
			  "tensor 'w': data_offsets [8, 4] begin after they end");
	const char *bad_offsets[] = { "[0]", "[0, 4, 8]", "[-4, 0]", "\"0,4\"", "[0, 4.5]", "{}" };
	for (int i = 0; i < 6; i++) {
		char h[200];
		snprintf(h, sizeof(h), T("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": %s"),
			 bad_offsets[i]);
		expect_header_err(h, 16, "tensor 'w': data_offsets is not a list of two non-negative "
					 "integers");
	}
	expect_header_err("{\"w\": 3}", 0, "tensor 'w': entry is number, not an object");
	expect_header_err("{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}, "
			  "\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2,
			  "header (bytes 8 to 128) is not valid JSON: line 1 col 62: duplicate key \"w\"");
	expect_header_err("{\"a\\u0000b\": {}}", 0, "header key 0 ('a...') holds a NUL byte");
	expect_header_err("{\"__metadata__\": [1]}", 0, "__metadata__ is array, not an object");
	expect_header_err("{\"__metadata__\": {\"a\": \"b\", \"n\": 1}}", 0,
			  "__metadata__ 'n' is number, not a string");
	snprintf(what, sizeof(what), "truncated: the file has 5 bytes");
	path_of(p, sizeof(p), "five.safetensors");
	write_all(p, "\x02\0\0\0\0", 5);
	expect_open_err(p, what);
}

/* valid oddities: spaces around the header, a zero-size tensor at the very end, no tensors */
static void test_odd_but_valid(void)
{
	char p[300];
	struct st_file f;
	const char *h = "  {\"e\": {\"dtype\": \"BOOL\", \"shape\": [0, 3], \"data_offsets\": [4, 4]},"
			"\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}    ";
	path_of(p, sizeof(p), "odd.safetensors");
	raw_file(p, strlen(h), h, 4);
	CHECK(st_open(&f, p, err, sizeof(err)) == 0, "odd file: %s", err);
	CHECK(f.n_tensors == 2 && f.tensors[0].nbytes == 0 && f.tensors[1].nbytes == 4, "odd tensors");
	CHECK(f.tensors[0].ndim == 2 && f.tensors[0].shape[1] == 3, "zero-size shape");
	st_close(&f);
	raw_file(p, 2, "{}", 0);
	CHECK(st_open(&f, p, err, sizeof(err)) == 0 && f.n_tensors == 0 && f.n_meta == 0, "{}: %s", err);
	st_close(&f);
	unlink(p);
}

/* every cut of a good file fails with the truncation named at the right place */
static void test_truncations(const char *good)
{
	size_t n;
	char p[300], what[200];
	char *b = read_all(good, &n);
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | (unsigned char)b[i];
	path_of(p, sizeof(p), "cut.safetensors");
	size_t cuts[] = { 0, 1, 7, 8, 9, 8 + (size_t)hlen / 2, 8 + (size_t)hlen - 1, 8 + (size_t)hlen,
			  8 + (size_t)hlen + 1, n - 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_all(p, b, cuts[i]);
		if (cuts[i] < 8)
			snprintf(what, sizeof(what), "truncated: the file has %zu bytes", cuts[i]);
		else if (cuts[i] < 8 + hlen)
			snprintf(what, sizeof(what), "truncated: header says %llu bytes but the file "
				 "has %zu", (unsigned long long)hlen, cuts[i]);
		else
			snprintf(what, sizeof(what), "tensor '%s': data_offsets",
				 i + 1 < sizeof(cuts) / sizeof(cuts[0]) ? fixture[0].name : "u8.4d");
		expect_open_err(p, what);
		if (cuts[i] >= 8 + hlen)
			CHECK(strstr(err, "run past the end of the data") && strstr(err, "truncated file?"),
			      "cut at %zu: %s", cuts[i], err);
	}
	unlink(p);
	free(b);
}

/* ---- failing writes ----------------------------------------------------------------------- */

static void expect_write_err(const char *path, const struct st_entry *e, int n, const char *want)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(st_write(path, e, n, NULL, 0, err, sizeof(err)) == -1, "write should fail: %s", want);
	CHECK(strstr(err, want) != NULL, "write error\n  got  %s\n  want %s", err, want);
	CHECK(!exists(tmp), "%s left behind", tmp);
}

static void test_write_failures(const char *good)
{
	char p[300], want[400];
	path_of(p, sizeof(p), "nodir/x.safetensors");
	snprintf(want, sizeof(want), "cannot write '%s.tmp': No such file or directory", p);
	expect_write_err(p, fixture, NF, want);
	CHECK(!strcmp(err, want), "exact: %s", err);

	path_of(p, sizeof(p), "bad.safetensors");
	const int64_t neg[] = { 2, -1 }, nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	const struct st_entry bad[][2] = {
		{ { "a", 42, 1, s1, f32 } },
		{ { "a", ST_F32, 2, neg, f32 } },
		{ { "a", ST_F32, 9, nine, f32 } },
		{ { "a", ST_F32, 1, s4, NULL } },
		{ { "__metadata__", ST_F32, 1, s1, f32 } },
		{ { "", ST_F32, 1, s1, f32 } },
		{ { "a", ST_F32, 1, s1, f32 }, { "a", ST_U8, 1, s1, u8 } },
	};
	const char *msgs[] = { "tensor 'a': unknown dtype 42", "tensor 'a': shape[1] is -1",
			       "tensor 'a': 9 dims", "tensor 'a': no data",
			       "invalid tensor name '__metadata__'", "invalid tensor name ''",
			       "duplicate tensor name 'a'" };
	for (int i = 0; i < 7; i++) {
		expect_write_err(p, bad[i], i == 6 ? 2 : 1, msgs[i]);
		CHECK(!exists(p), "invalid entries wrote %s", p);
	}
	if (!exists("/dev/full"))
		return;
	/* a full disk: path.tmp is a symlink to /dev/full; the old file must survive */
	static float big[1 << 18];
	const int64_t sbig[] = { 1 << 18 };
	const struct st_entry large = { "big", ST_F32, 1, sbig, big };
	char tmp[320];
	size_t n0, n1;
	char *before = read_all(good, &n0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", good);
	for (int i = 0; i < 2; i++) {
		CHECK(symlink("/dev/full", tmp) == 0, "symlink");
		snprintf(want, sizeof(want), "cannot write '%s': No space left on device", tmp);
		expect_write_err(good, i ? &large : fixture, i ? 1 : NF, want);
		CHECK(!strcmp(err, want), "full disk: %s", err);
	}
	char *after = read_all(good, &n1);
	CHECK(before && after && n0 == n1 && !memcmp(before, after, n0), "old file intact");
	free(before);
	free(after);
}

int main(void)
{
	char good[300];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	path_of(good, sizeof(good), "good.safetensors");
	test_dtypes();
	test_roundtrip(good);
	test_overwrite(good);
	test_roundtrip(good);
	test_python_reads(good);
	test_bad_headers();
	test_odd_but_valid();
	test_truncations(good);
	test_write_failures(good);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleanup");
	return check_done("test_safetensors");
}
