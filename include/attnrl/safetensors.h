/*
 * safetensors.h - reading (mmap, validated) and writing (atomic) the safetensors format:
 * 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, and
 * optionally "__metadata__": {string: string}}, then the raw little-endian data.
 */
#ifndef ATTNRL_SAFETENSORS_H
#define ATTNRL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

enum st_dtype { ST_F32 = 0, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL };
#define ST_MAX_DIMS 8

struct st_tensor {
	char *name;
	int dtype, ndim;
	int64_t shape[ST_MAX_DIMS];
	const void *data; /* into the mapping */
	size_t nbytes;
};

struct st_file {
	struct st_tensor *tensors;
	int n_tensors;
	char **meta_keys, **meta_vals;
	int n_meta;
	void *map;
	size_t map_size;
};

size_t st_dtype_size(int dtype);
const char *st_dtype_name(int dtype);
/* maps and validates path; -1 with one line in err (what, where: the tensor or byte offset) */
int st_open(struct st_file *f, const char *path, char *err, size_t n);
/* the same for the len bytes at buf, which must outlive f (tensor data points into it); where
 * names it in messages */
int st_parse(struct st_file *f, const void *buf, size_t len, const char *where, char *err,
	     size_t n);
void st_close(struct st_file *f);
const struct st_tensor *st_find(const struct st_file *f, const char *name);
const char *st_meta(const struct st_file *f, const char *key); /* NULL when absent */

/* n values of dtype F32, BF16 or F16 at src (any alignment) -> fp32, exactly (f16 subnormals,
 * inf and NaN included); -1 for other dtypes */
int st_to_f32(float *dst, const void *src, int dtype, size_t n);
/* fp32 -> F32, BF16 or F16 at dst, rounded to nearest even as torch does (too large -> inf,
 * NaN stays NaN); -1 for other dtypes */
int st_from_f32(void *dst, int dtype, const float *src, size_t n);

struct st_entry {
	const char *name;
	int dtype, ndim;
	const int64_t *shape;
	const void *data;
};
/* writes path atomically (path.tmp, fsync, rename, fsync of the folder); meta is a list of
 * n_meta key/value pairs (meta[2i], meta[2i+1]). Header entries keep the given order; the data
 * is packed 8-byte dtypes first, then 4, 2, 1 (given order within a size), so that every
 * tensor is aligned to its element size; -1 with one line in err, and no file left behind */
int st_write(const char *path, const struct st_entry *e, int n, const char *const *meta, int n_meta,
	     char *err, size_t errlen);

#endif
