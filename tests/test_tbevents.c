/*
 * test_tbevents.c - the TensorBoard event records of src/tbevents.c against bytes written by
 * TensorBoard's own Python classes (tensorboard.compat.proto's Event, Summary and TensorProto
 * serialized by protobuf, framed with tensorboard's masked_crc32c):
 *   Event(wall_time=1.5, file_version="brain.Event:2")
 *   Event(wall_time=1700000000.25, step=300, summary=[Value(tag="loss", simple_value=-0.125),
 *         Value(tag="samples/0", tensor=TensorProto(dtype=7, tensor_shape={},
 *               string_val=[b"hi\n"]), metadata={plugin_data={plugin_name="text"}})])
 * and the CRC-32C check value of "123456789" (0xE3069283, the Castagnoli polynomial that
 * TFRecord uses; masked 0xC78AB0E5). tests/test_tensorboard.sh reads whole runs' files with
 * TensorBoard's reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/ckpt.h"
#include "attnrl/tbevents.h"
#include "check.h"

static const char version_hex[] =
	"1800000000000000a37f4b2209000000000000f83f1a0d627261696e2e4576656e743a322a28646c";
static const char event_hex[] =
	"3d000000000000006049f1ec0900001040fc54d94110ac022a2f0a0b0a046c6f737315000000be0a200a0973"
	"616d706c65732f30420908071200420368690a4a080a060a047465787439101d85";

/* hex text into bytes (malloc'ed); the count */
static size_t unhex(const char *hex, unsigned char **out)
{
	size_t n = strlen(hex) / 2;
	*out = malloc(n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		(*out)[i] = (unsigned char)v;
	}
	return n;
}

/* what write(f) puts in a file, against hex */
static void check_bytes(const char *what, const char *hex, const unsigned char *got, size_t len)
{
	unsigned char *want;
	size_t n = unhex(hex, &want);
	CHECK(len == n && !memcmp(got, want, n), "%s: %zu bytes, want %zu (TensorBoard's)", what,
	      len, n);
	free(want);
}

static void test_crc(void)
{
	CHECK(ckpt_crc32c(0, "123456789", 9) == 0xE3069283u, "CRC-32C check value: %08x",
	      (unsigned)ckpt_crc32c(0, "123456789", 9));
	CHECK(tbevents_masked_crc("123456789", 9) == 0xC78AB0E5u, "masked: %08x",
	      (unsigned)tbevents_masked_crc("123456789", 9));
}

static void test_records(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tbevents e;
	tbevents_init(&e);
	CHECK(!tbevents_write_version(f, 1.5), "version record");
	fflush(f);
	check_bytes("version record", version_hex, (unsigned char *)buf, len);
	size_t first = len;
	tbevents_scalar(&e, "loss", -0.125f);
	tbevents_text(&e, "samples/0", "hi\n");
	CHECK(!tbevents_write(&e, f, 1700000000.25, 300), "event record");
	fflush(f);
	check_bytes("event record", event_hex, (unsigned char *)buf + first, len - first);
	CHECK(e.len == 0, "values cleared after the write: %zu bytes left", e.len);

	const unsigned char *u = (const unsigned char *)buf;
	CHECK(tbevents_valid_end(u, len) == len, "two whole records: %zu of %zu",
	      tbevents_valid_end(u, len), len);
	CHECK(tbevents_valid_end(u, len - 1) == first, "the second cut short: %zu, want %zu",
	      tbevents_valid_end(u, len - 1), first);
	CHECK(tbevents_valid_end(u, first + 11) == first, "the second's header cut short");
	buf[first + 20] ^= 1; /* the second's data damaged: its CRC no longer matches */
	CHECK(tbevents_valid_end(u, len) == first, "damaged data: %zu, want %zu",
	      tbevents_valid_end(u, len), first);
	buf[first + 20] ^= 1;
	buf[first + 3] ^= 0x40; /* a length of 2^30: its header CRC catches it */
	CHECK(tbevents_valid_end(u, len) == first, "damaged length: %zu, want %zu",
	      tbevents_valid_end(u, len), first);
	CHECK(tbevents_valid_end(u, 0) == 0, "empty");
	tbevents_free(&e);
	fclose(f);
	free(buf);
}

int main(void)
{
	test_crc();
	test_records();
	return check_done("test_tbevents");
}
