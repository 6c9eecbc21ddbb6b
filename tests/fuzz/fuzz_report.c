/*
 * fuzz_report.c - libFuzzer target of `attnrl report`'s reader and page: the input becomes a
 * run directory (metrics.jsonl, samples.jsonl, config.yaml in a private temporary directory,
 * on /dev/shm when there is one), read by report_load and written by report_write_html to
 * /dev/null.
 *
 * Input: byte 0, then METRICS \0 SAMPLES \0 CONFIG (missing parts are empty). Bits 0..2 of
 * byte 0 say which of the three files exist; bits 3..7 are the number of samples drawn. Checks
 * beyond ASan/UBSan: the counts report_load gives agree with one another (rows + skipped lines
 * never exceed the file's lines, samples lie inside samples.jsonl).
 */
#include "attnrl/report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static FILE *null_out;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_report: property failed: %s\n", what);
		abort();
	}
}

static void put(const char *name, int present, const uint8_t *p, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	if (!present)
		return;
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		abort();
	}
}

static long lines(const uint8_t *p, size_t len)
{
	long n = 0;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n + (len && p[len - 1] != '\n');
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/fuzz_report.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir) || !(null_out = fopen("/dev/null", "w"))) {
		perror("fuzz_report: setup");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *part[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	struct report r;
	char err[512];
	if (!size)
		return 0;
	if (!null_out)
		setup();
	int mask = data[0] & 7, max_samples = data[0] >> 3;
	const uint8_t *p = data + 1, *end = data + size;
	for (int i = 0; i < 3 && p <= end; i++) {
		const uint8_t *z = i < 2 ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		part[i] = p;
		len[i] = (size_t)((z ? z : end) - p);
		p = z ? z + 1 : end + 1;
	}
	put("metrics.jsonl", mask & 1, part[0], len[0]);
	put("samples.jsonl", mask & 2, part[1], len[1]);
	put("config.yaml", mask & 4, part[2], len[2]);
	if (report_load(&r, dir, err, sizeof(err))) {
		check(!(mask & 3), "report_load fails only without both logs");
		return 0;
	}
	check(r.metrics.rows + r.metrics.skipped <= lines(part[0], len[0]), "metrics line counts");
	check(r.samples.rows + r.samples.skipped <= lines(part[1], len[1]), "samples line counts");
	check(r.n_rows == r.metrics.rows && r.n_samples == r.samples.rows, "rows kept");
	for (long i = 0; i < r.n_samples; i++)
		check(r.sample[i].offset >= 0 && r.sample[i].len > 0 &&
		      (size_t)(r.sample[i].offset + r.sample[i].len) <= len[1], "sample inside the file");
	report_write_html(&r, null_out, max_samples, 0, err, sizeof(err));
	report_free(&r);
	return 0;
}
