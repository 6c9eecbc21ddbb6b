/* tbevents.c - TensorBoard event records, protobuf encoded by hand (see tbevents.h). Sizes of
 * nested messages are computed before they are written, so each value is appended in one pass
 * with no scratch copy. */
#include "attnrl/tbevents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/ckpt.h"

/* protobuf wire types */
enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

#define TB_DT_STRING 7
#define TB_FILE_VERSION "brain.Event:2"

static size_t varint_size(uint64_t v)
{
	size_t k = 1;
	while (v >= 0x80) {
		v >>= 7;
		k++;
	}
	return k;
}

/* a field of wire type LEN holding len bytes: key, length, content */
static size_t len_field_size(size_t len)
{
	return 1 + varint_size(len) + len;
}

/* room for k more bytes; 0, or -1 with e->oom set */
static int reserve(struct tbevents *e, size_t k)
{
	if (e->oom)
		return -1;
	if (e->len + k <= e->cap)
		return 0;
	size_t cap = e->cap ? e->cap : 256;
	while (cap < e->len + k)
		cap *= 2;
	unsigned char *b = realloc(e->buf, cap);
	if (!b) {
		e->oom = 1;
		return -1;
	}
	e->buf = b;
	e->cap = cap;
	return 0;
}

/* the appends below assume reserve() made room */
static void put_varint(struct tbevents *e, uint64_t v)
{
	while (v >= 0x80) {
		e->buf[e->len++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	e->buf[e->len++] = (unsigned char)v;
}

static void put_key(struct tbevents *e, int field, int wire)
{
	put_varint(e, (uint64_t)(field << 3 | wire));
}

static void put_le(struct tbevents *e, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		e->buf[e->len++] = (unsigned char)(v >> (8 * i));
}

/* the key and length of a LEN field; its len bytes of content follow */
static void put_len(struct tbevents *e, int field, size_t len)
{
	put_key(e, field, WIRE_LEN);
	put_varint(e, len);
}

static void put_bytes(struct tbevents *e, int field, const void *p, size_t len)
{
	put_len(e, field, len);
	memcpy(e->buf + e->len, p, len);
	e->len += len;
}

void tbevents_init(struct tbevents *e)
{
	memset(e, 0, sizeof(*e));
}

void tbevents_free(struct tbevents *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

/* Summary.value (1) { tag (1), simple_value (2) } */
void tbevents_scalar(struct tbevents *e, const char *tag, float v)
{
	size_t tl = strlen(tag), value = len_field_size(tl) + 5;
	uint32_t bits;
	memcpy(&bits, &v, 4);
	if (reserve(e, len_field_size(value)))
		return;
	put_len(e, 1, value);
	put_bytes(e, 1, tag, tl);
	put_key(e, 2, WIRE_I32);
	put_le(e, bits, 4);
}

/* Summary.value (1) { tag (1), tensor (8) { dtype (1), tensor_shape (2) {}, string_val (8) },
 * metadata (9) { plugin_data (1) { plugin_name (1) } } } */
void tbevents_text(struct tbevents *e, const char *tag, const char *text)
{
	static const char plugin[] = "text";
	size_t tl = strlen(tag), xl = strlen(text);
	size_t tensor = 2 + len_field_size(0) + len_field_size(xl);
	size_t meta = len_field_size(len_field_size(sizeof(plugin) - 1));
	size_t value = len_field_size(tl) + len_field_size(tensor) + len_field_size(meta);
	if (reserve(e, len_field_size(value)))
		return;
	put_len(e, 1, value);
	put_bytes(e, 1, tag, tl);
	put_len(e, 8, tensor);
	put_key(e, 1, WIRE_VARINT);
	put_varint(e, TB_DT_STRING);
	put_len(e, 2, 0);
	put_bytes(e, 8, text, xl);
	put_len(e, 9, meta);
	put_len(e, 1, len_field_size(sizeof(plugin) - 1));
	put_bytes(e, 1, plugin, sizeof(plugin) - 1);
}

uint32_t tbevents_masked_crc(const void *data, size_t len)
{
	uint32_t c = ckpt_crc32c(0, data, len);
	return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

int tbevents_record(FILE *f, const void *data, size_t len)
{
	unsigned char head[12], tail[4];
	for (int i = 0; i < 8; i++)
		head[i] = (unsigned char)((uint64_t)len >> (8 * i));
	uint32_t hc = tbevents_masked_crc(head, 8), dc = tbevents_masked_crc(data, len);
	for (int i = 0; i < 4; i++) {
		head[8 + i] = (unsigned char)(hc >> (8 * i));
		tail[i] = (unsigned char)(dc >> (8 * i));
	}
	return fwrite(head, 1, 12, f) == 12 && fwrite(data, 1, len, f) == len &&
	       fwrite(tail, 1, 4, f) == 4 ? 0 : -1;
}

/* Event { wall_time (1), step (2) } at the end of e->buf, after the summary's n bytes */
static void put_event_head(struct tbevents *e, double wall_time, long step)
{
	uint64_t bits;
	memcpy(&bits, &wall_time, 8);
	if (wall_time != 0) {
		put_key(e, 1, WIRE_I64);
		put_le(e, bits, 8);
	}
	if (step) {
		put_key(e, 2, WIRE_VARINT);
		put_varint(e, (uint64_t)(int64_t)step);
	}
}

int tbevents_write(struct tbevents *e, FILE *f, double wall_time, long step)
{
	size_t n = e->len; /* the Event goes after the summary in buf, then is framed from there */
	if (reserve(e, 9 + 11 + 1 + varint_size(n) + n)) {
		e->len = 0;
		e->oom = 0;
		errno = ENOMEM;
		return -1;
	}
	put_event_head(e, wall_time, step);
	put_len(e, 5, n);
	memcpy(e->buf + e->len, e->buf, n);
	e->len += n;
	int rc = tbevents_record(f, e->buf + n, e->len - n);
	e->len = 0;
	return rc;
}

int tbevents_write_version(FILE *f, double wall_time)
{
	struct tbevents e;
	tbevents_init(&e);
	int rc = reserve(&e, 9 + len_field_size(sizeof(TB_FILE_VERSION) - 1));
	if (!rc) {
		put_event_head(&e, wall_time, 0);
		put_bytes(&e, 3, TB_FILE_VERSION, sizeof(TB_FILE_VERSION) - 1);
		rc = tbevents_record(f, e.buf, e.len);
	} else {
		errno = ENOMEM;
	}
	tbevents_free(&e);
	return rc;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t tbevents_valid_end(const unsigned char *data, size_t len)
{
	size_t at = 0;
	while (len - at >= 16) {
		uint64_t n = 0;
		for (int i = 0; i < 8; i++)
			n |= (uint64_t)data[at + i] << (8 * i);
		if (tbevents_masked_crc(data + at, 8) != le32(data + at + 8) || n > len - at - 16 ||
		    tbevents_masked_crc(data + at + 12, n) != le32(data + at + 12 + n))
			break;
		at += 16 + n;
	}
	return at;
}
