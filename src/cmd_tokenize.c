/*
 * cmd_tokenize.c - `attnrl tokenize`: texts from stdin to token ids on stdout, one per line,
 * nothing added (no BOS/EOS), or back with --decode. The test oracle's door to the tokenizer.
 *
 *   attnrl tokenize --tokenizer PATH [--json] [--decode | --split] [--time]
 *     each stdin line is one text (the trailing newline stripped; with --json a JSON string,
 *     so texts may hold newlines); prints its ids separated by spaces.
 *     --decode  each line is ids separated by spaces; prints their text, special ids
 *               skipped (with --json as a JSON string; invalid UTF-8 bytes are U+FFFD each)
 *     --split   prints where each pre-token of the raw text ends (code point offsets), by
 *               the pre-tokenizer regex alone (no added tokens, no normalizer): a test aid
 *     --time    on stderr: load time, and bytes / seconds spent in tokenizer_encode
 */
#include "attnrl/commands.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/json.h"
#include "attnrl/tokenizer.h"
#include "attnrl/tokenizer_pretok.h"
#include "attnrl/unicode.h"

struct tok_opts {
	const char *path;
	int json, decode, split, time;
};

#define OPT(f) offsetof(struct tok_opts, f)
static const struct args_opt tok_opts[] = {
	{ "--tokenizer", ARGS_STR, OPT(path), "PATH", 0, 0, NULL, ARGS_REQUIRED,
	  "a tokenizer.json, a llama2.c tokenizer.bin or a model folder" },
	{ "--json", ARGS_SWITCH, OPT(json), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "each line a JSON string (texts with newlines), in and out" },
	{ "--decode", ARGS_SWITCH, OPT(decode), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "lines of ids back to text, special ids skipped" },
	{ "--split", ARGS_SWITCH, OPT(split), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "where each pre-token ends (code points), by the split regex alone" },
	{ "--time", ARGS_SWITCH, OPT(time), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "load time and encoding speed on stderr" },
	{ NULL },
};
const struct args_spec cmd_tokenize_args = {
	"tokenize",
	"stdin lines -> token ids (no BOS/EOS); --decode: ids -> text; --split: pre-token ends",
	tok_opts
};

/* the pre-tokens of text as the code point offsets where they end */
static int split_line(const struct tokenizer *t, const char *text, size_t n)
{
	int kind = tokenizer_pretok_kind(t);
	if (kind < 0) {
		fprintf(stderr, "attnrl tokenize: --split needs a tokenizer.json (byte-level BPE)\n");
		return -1;
	}
	size_t cps = 0;
	for (size_t i = 0, first = 1; i < n; first = 0) {
		size_t k = pretok_next((enum pretok_kind)kind, text + i, n - i);
		for (size_t e = i + k; i < e; cps++) {
			uint32_t cp;
			i += (size_t)utf8_decode((const unsigned char *)text + i, e - i, &cp);
		}
		printf(first ? "%zu" : " %zu", cps);
	}
	putchar('\n');
	return 0;
}

/* one line of ids -> its text on stdout */
static int decode_line(const struct tokenizer *t, const struct tok_opts *o, char *line, long lineno)
{
	size_t n = 0, cap = 64;
	int32_t *ids = malloc(cap * sizeof(*ids));
	char *end;
	for (char *p = line; ids; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (n == cap) {
			int32_t *g = realloc(ids, 2 * cap * sizeof(*ids));
			if (!g)
				break;
			ids = g, cap *= 2;
		}
		ids[n++] = (int32_t)v;
	}
	size_t bytes = 1;
	for (size_t i = 0; i < n; i++)
		if (ids[i] >= 0 && ids[i] < t->vocab_size)
			bytes += (size_t)t->piece_len[ids[i]];
	char *text = ids ? malloc(bytes) : NULL;
	int len = text ? tokenizer_decode(t, ids, (int)n, text, bytes) : -1;
	if (len < 0)
		fprintf(stderr, "attnrl tokenize: line %ld: an id is outside [0, %d) (or out of memory)\n",
			lineno, t->vocab_size);
	else if (o->json) {
		json_write_strn(stdout, text, (size_t)len);
		putchar('\n');
	} else {
		fwrite(text, 1, (size_t)len, stdout);
		putchar('\n');
	}
	free(ids);
	free(text);
	return len < 0 ? -1 : 0;
}

/* one text -> its ids on stdout; *secs += the time spent encoding */
static int encode_line(const struct tokenizer *t, const char *text, size_t n, long lineno,
		       double *secs)
{
	int max = (int)(3 * n + 16); /* NFC may grow a text up to 3 times */
	int32_t *ids = malloc((size_t)max * sizeof(*ids));
	double t0 = fs_now();
	int k = ids ? tokenizer_encode(t, text, ids, max) : -1;
	*secs += fs_now() - t0;
	if (k < 0)
		fprintf(stderr, "attnrl tokenize: line %ld: cannot encode (a byte outside the "
			"vocabulary, or out of memory)\n", lineno);
	for (int i = 0; i < k; i++)
		printf(i ? " %d" : "%d", ids[i]);
	if (k >= 0)
		putchar('\n');
	free(ids);
	return k < 0 ? -1 : 0;
}

/* one stdin line -> the text it holds (--json: a JSON string) in *text, *n */
static int line_text(const struct tok_opts *o, char *line, size_t len, long lineno,
		     struct json **doc, const char **text, size_t *n)
{
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (!o->json) {
		*text = line, *n = len;
		return 0;
	}
	char err[256];
	*doc = json_parse(line, len, err, sizeof(err));
	if (!*doc || !json_str(*doc)) {
		fprintf(stderr, "attnrl tokenize: stdin line %ld: %s\n", lineno,
			*doc ? "not a JSON string" : err);
		return -1;
	}
	*text = json_str(*doc), *n = json_str_len(*doc);
	return 0;
}

int cmd_tokenize(int argc, char **argv)
{
	struct tok_opts o = { 0 };
	struct tokenizer t;
	char err[1024];
	int rc = args_parse(&cmd_tokenize_args, &o, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_tokenize_args, rc, err);
	double t0 = fs_now(), secs = 0;
	if (tokenizer_load(&t, o.path, err, sizeof(err))) {
		fprintf(stderr, "attnrl tokenize: %s\n", err);
		return ATTNRL_EXIT_USAGE;
	}
	double load = fs_now() - t0;
	char *line = NULL;
	size_t cap = 0, bytes = 0;
	ssize_t len;
	long lineno = 0;
	while (!rc && (len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (o.decode) {
			rc = decode_line(&t, &o, line, lineno);
			continue;
		}
		struct json *doc = NULL;
		const char *text = "";
		size_t n = 0;
		rc = line_text(&o, line, (size_t)len, lineno, &doc, &text, &n);
		if (!rc && memchr(text, '\0', n)) {
			fprintf(stderr, "attnrl tokenize: stdin line %ld: a text holds a NUL byte\n", lineno);
			rc = -1;
		}
		if (!rc)
			rc = o.split ? split_line(&t, text, n) : encode_line(&t, text, n, lineno, &secs);
		bytes += n;
		json_free(doc);
	}
	free(line);
	if (o.time)
		fprintf(stderr, "attnrl tokenize: load %.3f s; encoded %zu bytes in %.3f s (%.2f MB/s)\n",
			load, bytes, secs, secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
	tokenizer_free(&t);
	if (fflush(stdout)) {
		fprintf(stderr, "attnrl tokenize: cannot write stdout\n");
		return 1;
	}
	return rc ? 1 : 0;
}
