/*
 * tbevents.h - TensorBoard event files, written without a protobuf library: the Event,
 * Summary and TensorProto messages encoded by hand (the few fields used), each framed as a
 * TFRecord.
 *
 * A TFRecord is: uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes, the
 * data, uint32 masked CRC-32C of the data; mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8.
 * A file starts with an Event holding only file_version "brain.Event:2" (tbevents_write_version);
 * then each Event has a wall time, a step and a Summary of values:
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; TensorProto tensor = 8;
 *             SummaryMetadata metadata = 9; }
 * A scalar is a Value with simple_value. A text (the text plugin) is a Value with metadata
 * { plugin_data = 1 { plugin_name = 1: "text" } } and tensor { dtype = 1: 7 (DT_STRING),
 * tensor_shape = 2: {} (a scalar), string_val = 8: the bytes }. Fields at their default (0,
 * empty) are left out, as protobuf's own writers do, so the bytes equal theirs.
 */
#ifndef ATTNRL_TBEVENTS_H
#define ATTNRL_TBEVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* one Event's Summary being built: values are added, then tbevents_write frames it */
struct tbevents {
	unsigned char *buf; /* the Summary's encoded values, then scratch for the record */
	size_t len, cap;
	int oom;            /* an append ran out of memory: the next write fails (ENOMEM) */
};

void tbevents_init(struct tbevents *e);
void tbevents_free(struct tbevents *e);

/* a scalar value (simple_value) tagged tag */
void tbevents_scalar(struct tbevents *e, const char *tag, float v);
/* a text value (the text plugin; TensorBoard renders it as Markdown) tagged tag */
void tbevents_text(struct tbevents *e, const char *tag, const char *text);
/* the Event {wall_time, step, summary of the values added} as one record into f, and the
 * values cleared for the next; 0, or -1 (out of memory: errno ENOMEM; a failed fwrite shows in
 * ferror(f)) */
int tbevents_write(struct tbevents *e, FILE *f, double wall_time, long step);
/* the first record of a file: Event {wall_time, file_version "brain.Event:2"} */
int tbevents_write_version(FILE *f, double wall_time);

/* data[0..len) framed as a TFRecord into f; 0, or -1 when fwrite wrote less */
int tbevents_record(FILE *f, const void *data, size_t len);
/* the masked CRC-32C of data[0..len) that a TFRecord stores */
uint32_t tbevents_masked_crc(const void *data, size_t len);
/* the bytes of data[0..len) that are whole records with matching CRCs, from the start: where a
 * file cut short (a crash inside a write) is cut back to */
size_t tbevents_valid_end(const unsigned char *data, size_t len);

#endif
