/*
 * safetensors.c - the safetensors format: st_open maps a file read-only and validates every
 * header entry against the file before any tensor is handed out; st_write writes path.tmp,
 * checks every write, fsyncs, renames it onto path and fsyncs the folder. st_parse validates
 * the same from a buffer the caller keeps (the checks st_open runs on its mapping).
 *
 * Reading invariants after a successful st_open: every tensor's [data, data + nbytes) lies in
 * the mapping, nbytes == numel * st_dtype_size(dtype), and no two tensors share a name. The
 * tensors, their names and the metadata live in one allocation whose start is f->tensors.
 * Tensor data is only as aligned as the file makes it: files whose header is padded to a
 * multiple of 8 (st_write, Hugging Face) with offsets multiple of the element size are aligned.
 * Not checked: overlapping tensors and holes between them (harmless for reading).
 */
#include "attnrl/safetensors.h"
#include "attnrl/errmsg.h"

#include "attnrl/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_HEADER_MAX (100u << 20)
#define ST_N_DTYPES 10

static const char *const dtype_names[ST_N_DTYPES] = { "F32", "F16", "BF16", "F64", "I64",
						      "I32", "I16", "I8",   "U8",  "BOOL" };
static const unsigned char dtype_sizes[ST_N_DTYPES] = { 4, 2, 2, 8, 8, 4, 2, 1, 1, 1 };

size_t st_dtype_size(int dtype)
{
	return dtype >= 0 && dtype < ST_N_DTYPES ? dtype_sizes[dtype] : 0;
}

const char *st_dtype_name(int dtype)
{
	return dtype >= 0 && dtype < ST_N_DTYPES ? dtype_names[dtype] : "?";
}

static int dtype_parse(const char *s)
{
	for (int i = 0; s && i < ST_N_DTYPES; i++)
		if (!strcmp(s, dtype_names[i]))
			return i;
	return -1;
}


/* "[64, 32]" */
static void shape_str(char *buf, size_t n, const int64_t *shape, int ndim)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int d = 0; d < ndim && k < n; d++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "", (long long)shape[d]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

/* numel * size of dtype into *bytes; -1 when it overflows int64 */
static int shape_bytes(const int64_t *shape, int ndim, int dtype, uint64_t *bytes)
{
	int64_t numel = 1, size = (int64_t)st_dtype_size(dtype);
	for (int d = 0; d < ndim; d++) {
		if (shape[d] && numel > INT64_MAX / shape[d])
			return -1;
		numel *= shape[d];
	}
	if (numel > INT64_MAX / size)
		return -1;
	*bytes = (uint64_t)(numel * size);
	return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

struct reader {
	const char *path;
	char *err;
	size_t n;
	const unsigned char *data; /* the data section, after the header */
	uint64_t data_size;
};

/* "path: tensor 'name': what" */
static int bad(const struct reader *r, const char *name, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(r->err, r->n, "%s: tensor '%s': %s", r->path, name, what);
}

static int entry_dtype(const struct reader *r, const char *name, const struct json *v, int *dtype)
{
	if (json_type(v) == JSON_MISSING)
		return bad(r, name, "missing dtype");
	if (json_type(v) != JSON_STRING)
		return bad(r, name, "dtype is %s, not a string", json_type_name(json_type(v)));
	if ((*dtype = dtype_parse(json_str(v))) < 0)
		return bad(r, name, "unknown dtype '%s'", json_str(v));
	return 0;
}

static int entry_shape(const struct reader *r, const char *name, const struct json *v,
		       struct st_tensor *t)
{
	if (json_type(v) == JSON_MISSING)
		return bad(r, name, "missing shape");
	if (json_type(v) != JSON_ARRAY)
		return bad(r, name, "shape is %s, not a list", json_type_name(json_type(v)));
	if (json_len(v) > ST_MAX_DIMS)
		return bad(r, name, "shape has %zu dims, more than %d", json_len(v), ST_MAX_DIMS);
	t->ndim = (int)json_len(v);
	for (int d = 0; d < t->ndim; d++) {
		const struct json *x = json_at(v, (size_t)d);
		if (json_int(x, &t->shape[d]) || t->shape[d] < 0) {
			if (json_type(x) == JSON_NUMBER)
				return bad(r, name, "shape[%d] is %.17g, not a non-negative integer", d,
					   json_num(x));
			return bad(r, name, "shape[%d] is %s, not a non-negative integer", d,
				   json_type_name(json_type(x)));
		}
	}
	return 0;
}

static int entry_offsets(const struct reader *r, const char *name, const struct json *v,
			 struct st_tensor *t)
{
	int64_t b, e;
	uint64_t need;
	char shape[160];
	shape_str(shape, sizeof(shape), t->shape, t->ndim);
	if (json_type(v) == JSON_MISSING)
		return bad(r, name, "missing data_offsets");
	if (json_len(v) != 2 || json_type(v) != JSON_ARRAY || json_int(json_at(v, 0), &b) ||
	    json_int(json_at(v, 1), &e) || b < 0 || e < 0)
		return bad(r, name, "data_offsets is not a list of two non-negative integers");
	if (b > e)
		return bad(r, name, "data_offsets [%lld, %lld] begin after they end", (long long)b,
			   (long long)e);
	if ((uint64_t)e > r->data_size)
		return bad(r, name,
			   "data_offsets [%lld, %lld] run past the end of the data, which has %llu "
			   "bytes (truncated file?)",
			   (long long)b, (long long)e, (unsigned long long)r->data_size);
	if (shape_bytes(t->shape, t->ndim, t->dtype, &need))
		return bad(r, name, "shape %s of %s overflows 64 bits", shape, st_dtype_name(t->dtype));
	if ((uint64_t)(e - b) != need)
		return bad(r, name, "data_offsets [%lld, %lld] hold %lld bytes but shape %s of %s needs %llu",
			   (long long)b, (long long)e, (long long)(e - b), shape,
			   st_dtype_name(t->dtype), (unsigned long long)need);
	t->data = r->data + b;
	t->nbytes = (size_t)need;
	return 0;
}

static int entry_parse(const struct reader *r, const char *name, const struct json *v,
		       struct st_tensor *t)
{
	if (json_type(v) != JSON_OBJECT)
		return bad(r, name, "entry is %s, not an object", json_type_name(json_type(v)));
	if (entry_dtype(r, name, json_get(v, "dtype"), &t->dtype) ||
	    entry_shape(r, name, json_get(v, "shape"), t) ||
	    entry_offsets(r, name, json_get(v, "data_offsets"), t))
		return -1;
	return 0;
}

/* checks keys and metadata; counts tensors, metadata pairs and the bytes of their strings */
static int header_scan(const struct reader *r, const struct json *h, int *n_t, int *n_meta,
		       size_t *strbytes)
{
	const struct json *meta = json_get(h, "__metadata__");
	*n_t = 0;
	*strbytes = 0;
	for (size_t i = 0; i < json_len(h); i++) {
		const char *k = json_key_at(h, i);
		const struct json *last = json_get(h, k);
		if (!last)
			return err_set(r->err, r->n, "%s: header key %zu ('%s...') holds a NUL byte", r->path,
				    i, k);
		if (last != json_at(h, i))
			return err_set(r->err, r->n, "%s: duplicate key '%s' in the header", r->path, k);
		*n_t += strcmp(k, "__metadata__") != 0;
		*strbytes += strlen(k) + 1;
	}
	if (meta && json_type(meta) != JSON_OBJECT)
		return err_set(r->err, r->n, "%s: __metadata__ is %s, not an object", r->path,
			    json_type_name(json_type(meta)));
	for (size_t i = 0; i < json_len(meta); i++) {
		const struct json *v = json_at(meta, i);
		if (json_type(v) != JSON_STRING)
			return err_set(r->err, r->n, "%s: __metadata__ '%s' is %s, not a string", r->path,
				    json_key_at(meta, i), json_type_name(json_type(v)));
		*strbytes += strlen(json_key_at(meta, i)) + strlen(json_str(v)) + 2;
	}
	*n_meta = (int)json_len(meta);
	return 0;
}

static char *str_put(char **pool, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = memcpy(*pool, s, n);
	*pool += n;
	return d;
}

/* fills f's tensors and metadata from the parsed header, in file order */
static int header_load(struct st_file *f, const struct reader *r, const struct json *h)
{
	int n_t = 0, n_meta = 0, k = 0;
	size_t strbytes;
	if (header_scan(r, h, &n_t, &n_meta, &strbytes))
		return -1;
	size_t tbytes = (size_t)n_t * sizeof(struct st_tensor);
	size_t pbytes = 2 * (size_t)n_meta * sizeof(char *);
	char *block = calloc(1, tbytes + pbytes + strbytes + 1), *pool;
	if (!block)
		return err_set(r->err, r->n, "%s: out of memory for %d tensors", r->path, n_t);
	pool = block + tbytes + pbytes;
	f->tensors = (struct st_tensor *)(void *)block;
	f->meta_keys = (char **)(void *)(block + tbytes);
	f->meta_vals = f->meta_keys + n_meta;
	const struct json *meta = json_get(h, "__metadata__");
	for (int i = 0; i < n_meta; i++) {
		f->meta_keys[i] = str_put(&pool, json_key_at(meta, (size_t)i));
		f->meta_vals[i] = str_put(&pool, json_str(json_at(meta, (size_t)i)));
	}
	f->n_meta = n_meta;
	for (size_t i = 0; i < json_len(h); i++) {
		const char *name = json_key_at(h, i);
		if (!strcmp(name, "__metadata__"))
			continue;
		struct st_tensor *t = &f->tensors[k++];
		t->name = str_put(&pool, name);
		if (entry_parse(r, name, json_at(h, i), t))
			return -1;
		f->n_tensors = k;
	}
	return 0;
}

static int map_file(struct st_file *f, const char *path, char *err, size_t n)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err_set(err, n, "%s: cannot open: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, n, "%s: not a regular file", path);
	}
	if (st.st_size < 8) {
		close(fd);
		return err_set(err, n, "%s: truncated: the file has %lld bytes, fewer than the 8 of the "
			    "header length", path, (long long)st.st_size);
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return err_set(err, n, "%s: cannot map %lld bytes: %s", path, (long long)st.st_size,
			    strerror(e));
	f->map = map;
	f->map_size = (size_t)st.st_size;
	return 0;
}

/* the header of the len bytes at m (len >= 8) into f */
static int header_parse(struct st_file *f, struct reader *r, const unsigned char *m, size_t len)
{
	uint64_t hlen = 0;
	char msg[200];
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | m[i];
	if (hlen > ST_HEADER_MAX)
		return err_set(r->err, r->n, "%s: header length %llu is over the %u MB limit (not a "
			    "safetensors file?)", r->path, (unsigned long long)hlen, ST_HEADER_MAX >> 20);
	if (hlen > len - 8)
		return err_set(r->err, r->n, "%s: truncated: header says %llu bytes but the file has %zu",
			    r->path, (unsigned long long)hlen, len);
	r->data = m + 8 + hlen;
	r->data_size = len - 8 - hlen;
	struct json *h = json_parse((const char *)m + 8, (size_t)hlen, msg, sizeof(msg));
	if (!h)
		return err_set(r->err, r->n, "%s: header (bytes 8 to %llu) is not valid JSON: %s", r->path,
			    (unsigned long long)(8 + hlen), msg);
	int rc = json_type(h) == JSON_OBJECT ? header_load(f, r, h)
		 : err_set(r->err, r->n, "%s: header is %s, not a JSON object", r->path,
			json_type_name(json_type(h)));
	json_free(h);
	return rc;
}

int st_open(struct st_file *f, const char *path, char *err, size_t n)
{
	struct reader r = { path, err, n, NULL, 0 };
	memset(f, 0, sizeof(*f));
	if (map_file(f, path, err, n))
		return -1;
	if (header_parse(f, &r, f->map, f->map_size)) {
		st_close(f);
		return -1;
	}
	return 0;
}

int st_parse(struct st_file *f, const void *buf, size_t len, const char *where, char *err,
	     size_t n)
{
	struct reader r = { where, err, n, NULL, 0 };
	memset(f, 0, sizeof(*f));
	if (len < 8)
		return err_set(err, n, "%s: truncated: the file has %zu bytes, fewer than the 8 of the "
			    "header length", where, len);
	if (header_parse(f, &r, buf, len)) {
		st_close(f);
		return -1;
	}
	return 0;
}

void st_close(struct st_file *f)
{
	if (f->map)
		munmap(f->map, f->map_size);
	free(f->tensors);
	memset(f, 0, sizeof(*f));
}

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
	for (int i = 0; i < f->n_tensors; i++)
		if (!strcmp(f->tensors[i].name, name))
			return &f->tensors[i];
	return NULL;
}

const char *st_meta(const struct st_file *f, const char *key)
{
	for (int i = f->n_meta; i-- > 0;)
		if (!strcmp(f->meta_keys[i], key))
			return f->meta_vals[i];
	return NULL;
}

/* ---- fp32 conversions ----------------------------------------------------------------- */

static float f32_of_bits(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}

static uint32_t bits_of_f32(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

static float f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff;
	if (e == 0) {   /* zero or subnormal: m * 2^-24, exact in fp32 */
		float x = (float)m * 0x1p-24f;
		return sign ? -x : x;
	}
	if (e == 31)    /* inf, or NaN with its payload */
		return f32_of_bits(sign | 0x7f800000 | m << 13);
	return f32_of_bits(sign | (e + 112) << 23 | m << 13);
}

/* m >> shift, rounded to nearest even */
static uint32_t shift_rne(uint32_t m, int shift)
{
	uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
	return r + (rem > half || (rem == half && (r & 1)));
}

static uint16_t f32_to_f16(float x)
{
	uint32_t u = bits_of_f32(x), sign = (u >> 16) & 0x8000, a = u & 0x7fffffff;
	if (a > 0x7f800000)
		return (uint16_t)(sign | 0x7e00);   /* NaN, as torch (c10::Half) */
	if (a >= 0x477ff000)
		return (uint16_t)(sign | 0x7c00);   /* >= 65520 (and inf) -> inf */
	if (a < 0x33000000)
		return (uint16_t)sign;              /* <= 2^-25 -> zero */
	if (a < 0x38800000)                         /* subnormal: m * 2^(e-150) in units of 2^-24 */
		return (uint16_t)(sign | shift_rne((a & 0x7fffff) | 0x800000, 126 - (int)(a >> 23)));
	return (uint16_t)(sign | shift_rne(a - 0x38000000, 13));
}

static uint16_t f32_to_bf16(float x)
{
	uint32_t u = bits_of_f32(x);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)(u >> 16 | 0x40); /* NaN stays a (quiet) NaN */
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

int st_to_f32(float *dst, const void *src, int dtype, size_t n)
{
	const unsigned char *s = src;
	uint16_t h;
	if (dtype == ST_F32) {
		memcpy(dst, src, n * 4);
		return 0;
	}
	if (dtype != ST_BF16 && dtype != ST_F16)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memcpy(&h, s + 2 * i, 2);
		dst[i] = dtype == ST_BF16 ? f32_of_bits((uint32_t)h << 16) : f16_to_f32(h);
	}
	return 0;
}

int st_from_f32(void *dst, int dtype, const float *src, size_t n)
{
	unsigned char *d = dst;
	uint16_t h;
	if (dtype == ST_F32) {
		memcpy(dst, src, n * 4);
		return 0;
	}
	if (dtype != ST_BF16 && dtype != ST_F16)
		return -1;
	for (size_t i = 0; i < n; i++) {
		h = dtype == ST_BF16 ? f32_to_bf16(src[i]) : f32_to_f16(src[i]);
		memcpy(d + 2 * i, &h, 2);
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

static int entry_check(const char *path, const struct st_entry *e, char *err, size_t n)
{
	uint64_t bytes;
	const char *name = e->name ? e->name : "(null)";
	if (!e->name || !e->name[0] || !strcmp(e->name, "__metadata__"))
		return err_set(err, n, "%s: invalid tensor name '%s'", path, name);
	if (st_dtype_size(e->dtype) == 0)
		return err_set(err, n, "%s: tensor '%s': unknown dtype %d", path, name, e->dtype);
	if (e->ndim < 0 || e->ndim > ST_MAX_DIMS || (e->ndim && !e->shape))
		return err_set(err, n, "%s: tensor '%s': %d dims (0 to %d allowed)", path, name, e->ndim,
			    ST_MAX_DIMS);
	for (int d = 0; d < e->ndim; d++)
		if (e->shape[d] < 0)
			return err_set(err, n, "%s: tensor '%s': shape[%d] is %lld", path, name, d,
				    (long long)e->shape[d]);
	if (shape_bytes(e->shape, e->ndim, e->dtype, &bytes))
		return err_set(err, n, "%s: tensor '%s': size overflows 64 bits", path, name);
	if (bytes && !e->data)
		return err_set(err, n, "%s: tensor '%s': no data", path, name);
	return 0;
}

static int entries_check(const char *path, const struct st_entry *e, int n, const char *const *meta,
			 int n_meta, char *err, size_t errlen)
{
	if (n < 0 || n_meta < 0 || (n && !e) || (n_meta && !meta))
		return err_set(err, errlen, "%s: invalid tensor or metadata list", path);
	for (int i = 0; i < 2 * n_meta; i++)
		if (!meta[i])
			return err_set(err, errlen, "%s: metadata entry %d is NULL", path, i / 2);
	for (int i = 0; i < n; i++) {
		if (entry_check(path, &e[i], err, errlen))
			return -1;
		for (int j = 0; j < i; j++)
			if (!strcmp(e[i].name, e[j].name))
				return err_set(err, errlen, "%s: duplicate tensor name '%s'", path, e[i].name);
	}
	return 0;
}

static uint64_t entry_bytes(const struct st_entry *e)
{
	uint64_t bytes = 0;
	shape_bytes(e->shape, e->ndim, e->dtype, &bytes);
	return bytes;
}

/* data is packed by element size, 8-byte types first, in the given order within a size: the
 * data section starts 8-aligned, so every tensor is aligned to its element size */
static int size_class(int dtype)
{
	size_t z = st_dtype_size(dtype);
	return z == 8 ? 0 : z == 4 ? 1 : z == 2 ? 2 : 3;
}

static void header_entries(FILE *m, const struct st_entry *e, int n, int comma)
{
	uint64_t base[4] = { 0 }, end;
	for (int i = 0; i < n; i++)
		for (int c = size_class(e[i].dtype) + 1; c < 4; c++)
			base[c] += entry_bytes(&e[i]);
	for (int i = 0; i < n; i++) {
		uint64_t *off = &base[size_class(e[i].dtype)];
		if (comma || i)
			fputc(',', m);
		json_write_string(m, e[i].name);
		fprintf(m, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(e[i].dtype));
		for (int d = 0; d < e[i].ndim; d++)
			fprintf(m, "%s%lld", d ? "," : "", (long long)e[i].shape[d]);
		end = *off + entry_bytes(&e[i]);
		fprintf(m, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)*off,
			(unsigned long long)end);
		*off = end;
	}
}

/* the header JSON, padded with spaces so that the data starts at a multiple of 8 */
static char *header_build(const struct st_entry *e, int n, const char *const *meta, int n_meta,
			  size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);
	if (!m)
		return NULL;
	fputc('{', m);
	if (n_meta > 0) {
		fputs("\"__metadata__\":{", m);
		for (int i = 0; i < n_meta; i++) {
			if (i)
				fputc(',', m);
			json_write_string(m, meta[2 * i]);
			fputc(':', m);
			json_write_string(m, meta[2 * i + 1]);
		}
		fputc('}', m);
	}
	header_entries(m, e, n, n_meta > 0);
	fputc('}', m);
	fflush(m);
	for (size_t pad = (8 - *len % 8) % 8; pad > 0; pad--)
		fputc(' ', m);
	int bad_write = ferror(m);
	if (fclose(m) || bad_write) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int data_write(FILE *f, const char *hdr, size_t hlen, const struct st_entry *e, int n)
{
	unsigned char le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
	if (fwrite(le, 1, 8, f) != 8 || fwrite(hdr, 1, hlen, f) != hlen)
		return -1;
	for (int c = 0; c < 4; c++) {
		for (int i = 0; i < n; i++) {
			size_t bytes = (size_t)entry_bytes(&e[i]);
			if (size_class(e[i].dtype) == c && bytes && fwrite(e[i].data, 1, bytes, f) != bytes)
				return -1;
		}
	}
	return 0;
}

/* fsync of the folder holding path, so that the rename survives a crash; 0 or an errno */
static int dir_sync(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, e = 0;
	if (fd < 0 || (fsync(fd) && errno != EINVAL))
		e = dir ? errno : ENOMEM;
	if (fd >= 0)
		close(fd);
	free(dir);
	return e;
}

/* writes tmp completely or not at all: any failure removes it and keeps the first errno */
static int tmp_write(const char *tmp, const char *hdr, size_t hlen, const struct st_entry *e, int n,
		     char *err, size_t errlen)
{
	errno = 0;
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return err_set(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
	int ok = !data_write(f, hdr, hlen, e, n) && !fflush(f) && !fsync(fileno(f));
	int e1 = errno;
	if (fclose(f) && ok)
		ok = 0, e1 = errno;
	if (ok)
		return 0;
	remove(tmp);
	return err_set(err, errlen, "cannot write '%s': %s", tmp, strerror(e1 ? e1 : EIO));
}

int st_write(const char *path, const struct st_entry *e, int n, const char *const *meta, int n_meta,
	     char *err, size_t errlen)
{
	size_t hlen = 0;
	char *hdr = NULL, *tmp = NULL;
	int rc = -1;
	if (entries_check(path, e, n, meta, n_meta, err, errlen))
		return -1;
	if (!(hdr = header_build(e, n, meta, n_meta, &hlen)) ||
	    !(tmp = malloc(strlen(path) + sizeof(".tmp")))) {
		err_set(err, errlen, "%s: out of memory for the header", path);
		goto out;
	}
	sprintf(tmp, "%s.tmp", path);
	if (tmp_write(tmp, hdr, hlen, e, n, err, errlen))
		goto out;
	if (rename(tmp, path)) {
		err_set(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		remove(tmp);
		goto out;
	}
	int e_sync = dir_sync(path);
	if (e_sync) {
		err_set(err, errlen, "cannot sync the folder of '%s': %s", path, strerror(e_sync));
		goto out;
	}
	rc = 0;
out:
	free(hdr);
	free(tmp);
	return rc;
}
