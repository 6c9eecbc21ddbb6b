/*
 * test_tokenizer.c - the byte-level BPE loader and encoder on small tokenizer.json files
 * written here, worked by hand: merges applied in rank order (both merge formats),
 * ignore_merges, added tokens (longest match, lstrip/rstrip, special pieces skipped by
 * decode), BOS/EOS from tokenizer_config.json, and bad files refused with one clear line.
 * Plus textbook NFC cases (UAX #15) and a few pre-token splits. The full comparison with
 * Hugging Face's tokenizers is tests/test_tokenizer_hf.sh; this one runs under `make asan`.
 */
#include "attnrl/tokenizer.h"
#include "attnrl/tokenizer_pretok.h"
#include "attnrl/unicode.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/attnrl-test-tokenizer-XXXXXX";
static char path[256], cfg_path[256];

/* the Qwen2 split regex as it appears in tokenizer.json (JSON-escaped) */
#define QWEN_REGEX "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| " \
	"?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+"
#define PRE_TOKENIZER(regex) "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [" \
	"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"" regex "\"}, \"behavior\": \"Isolated\", " \
	"\"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, " \
	"\"trim_offsets\": false, \"use_regex\": false}]}"
/* a b c, space (Ġ), and merged tokens; ids 9.. are added tokens */
#define VOCAB "\"vocab\": {\"a\": 0, \"b\": 1, \"c\": 2, \"\\u0120\": 3, \"ab\": 4, \"bc\": 5, " \
	"\"abc\": 6, \"\\u0120a\": 7, \"aa\": 8}"
#define ADDED "\"added_tokens\": [" \
	"{\"id\": 9, \"content\": \"<x>\", \"special\": true}, " \
	"{\"id\": 10, \"content\": \"<x>>\", \"special\": false}, " \
	"{\"id\": 12, \"content\": \"<s>\", \"special\": true, \"lstrip\": true, \"rstrip\": true}]"

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");
	CHECK(f != NULL, "cannot write %s", p);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* a tokenizer.json with the given model members (after "type": "BPE") and top-level extras */
static void write_tokenizer(const char *model, const char *extra)
{
	char *text = malloc(16384);
	snprintf(text, 16384, "{\"version\": \"1.0\", \"normalizer\": {\"type\": \"NFC\"}, "
		 PRE_TOKENIZER(QWEN_REGEX) ", \"decoder\": {\"type\": \"ByteLevel\"}, %s%s"
		 "\"model\": {\"type\": \"BPE\", %s}}", extra, *extra ? ", " : "", model);
	write_file(path, text);
	free(text);
}

static int load(struct tokenizer *t, char *err, size_t n)
{
	return tokenizer_load(t, path, err, n);
}

/* ids of text must be want[0..nw) */
static void expect_ids(const struct tokenizer *t, const char *text, const int32_t *want, int nw)
{
	int32_t ids[64];
	int n = tokenizer_encode(t, text, ids, 64);
	int same = n == nw;
	for (int i = 0; same && i < n; i++)
		same = ids[i] == want[i];
	CHECK(same, "'%s': %d ids (want %d), first %d (want %d)", text, n, nw, n > 0 ? ids[0] : -1,
	      nw > 0 ? want[0] : -1);
}

static void test_merge_order(void)
{
	struct tokenizer t;
	char err[512];
	/* "b c" outranks "a b": abc -> a bc, and "ab c" never fires; [a, b] pairs format */
	write_tokenizer(VOCAB ", \"merges\": [[\"b\", \"c\"], [\"a\", \"b\"], [\"ab\", \"c\"], "
			"[\"\\u0120\", \"a\"], [\"a\", \"a\"]]", ADDED);
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	expect_ids(&t, "abc", (int32_t[]){ 0, 5 }, 2);
	expect_ids(&t, "ab", (int32_t[]){ 4 }, 1);
	expect_ids(&t, "aaa", (int32_t[]){ 8, 0 }, 2); /* equal ranks: the leftmost first */
	expect_ids(&t, "abc abc", (int32_t[]){ 0, 5, 7, 5 }, 4);
	CHECK(t.vocab_size == 13 && t.kind == TOKENIZER_BPE, "V %d", t.vocab_size);
	CHECK(t.piece_len[3] == 1 && t.piece[3][0] == ' ', "Ġ decodes to a space");
	CHECK(t.piece_len[11] == 0 && t.special[9] && !t.special[10], "unused id 11, flags");
	tokenizer_free(&t);
	/* "a b" then "ab c": abc -> ab c -> abc; "a b" strings format */
	write_tokenizer(VOCAB ", \"merges\": [\"a b\", \"b c\", \"ab c\"]", "");
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	expect_ids(&t, "abc", (int32_t[]){ 6 }, 1);
	expect_ids(&t, "cab", (int32_t[]){ 2, 4 }, 2);
	tokenizer_free(&t);
	/* from memory (an exact-size copy of the file): the same encoding */
	FILE *f = fopen(path, "rb");
	static char text[16384];
	size_t len = f ? fread(text, 1, sizeof(text), f) : 0;
	if (f)
		fclose(f);
	char *copy = malloc(len);
	memcpy(copy, text, len);
	CHECK(tokenizer_parse_bpe(&t, copy, len, "mem.json", err, sizeof(err)) == 0 &&
	      t.vocab_size == 9, "tokenizer_parse_bpe: %s", err);
	free(copy);
	if (t.vocab_size) {
		expect_ids(&t, "abc", (int32_t[]){ 6 }, 1);
		expect_ids(&t, "cab", (int32_t[]){ 2, 4 }, 2);
		tokenizer_free(&t);
	}
	CHECK(tokenizer_parse_bpe(&t, text, len - 1, "mem.json", err, sizeof(err)) == -1 &&
	      !strncmp(err, "mem.json: line 1 col ", 21), "parse of a cut file: '%s'", err);
}

static void test_ignore_merges(void)
{
	struct tokenizer t;
	char err[512];
	const char *merges = ", \"merges\": [\"b c\", \"a b\"]";
	char model[1024];
	snprintf(model, sizeof(model), VOCAB "%s, \"ignore_merges\": true", merges);
	write_tokenizer(model, "");
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	expect_ids(&t, "abc", (int32_t[]){ 6 }, 1); /* a vocabulary word: one id, no merging */
	expect_ids(&t, "abcc", (int32_t[]){ 0, 5, 2 }, 3);
	tokenizer_free(&t);
	snprintf(model, sizeof(model), VOCAB "%s, \"ignore_merges\": false", merges);
	write_tokenizer(model, "");
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	expect_ids(&t, "abc", (int32_t[]){ 0, 5 }, 2);
	tokenizer_free(&t);
}

static void test_added(void)
{
	struct tokenizer t;
	char err[512], out[64];
	write_tokenizer(VOCAB ", \"merges\": [\"a b\"]", ADDED);
	write_file(cfg_path, "{\"bos_token\": \"<x>\", \"eos_token\": {\"content\": \"<s>\"}}");
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	expect_ids(&t, "ab<x>c", (int32_t[]){ 4, 9, 2 }, 3);
	expect_ids(&t, "<x>><x>", (int32_t[]){ 10, 9 }, 2); /* the longest at a position */
	expect_ids(&t, "<x", (int32_t[]){ 0 }, 0); /* '<' 'x' are not in the vocab: dropped */
	expect_ids(&t, "a <s>  b", (int32_t[]){ 0, 12, 1 }, 3); /* lstrip and rstrip eat spaces */
	CHECK(t.bos_id == 9 && t.eos_id == 12 && t.add_bos == 1, "bos %d eos %d add_bos %d", t.bos_id,
	      t.eos_id, t.add_bos);
	CHECK(t.n_stop_ids == 1 && t.stop_ids[0] == 12 && t.pad_id == -1, "stop ids, pad");
	int len = tokenizer_decode(&t, (int32_t[]){ 4, 9, 3, 10, 12, 2 }, 6, out, sizeof(out));
	CHECK(len == 8 && !strcmp(out, "ab <x>>c"), "decode: %d '%s'", len, out);
	CHECK(tokenizer_find(&t, "<s>") == 12 && tokenizer_find(&t, "ab") == 4, "find");
	tokenizer_free(&t);
	write_file(cfg_path, "{\"bos_token\": \"<x>\", \"add_bos_token\": false, \"pad_token\": \"<x>>\"}");
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	CHECK(t.add_bos == 0 && t.eos_id == -1 && t.n_stop_ids == 0 && t.pad_id == 10, "config 2");
	tokenizer_free(&t);
	unlink(cfg_path);
	/* no config: Llama 3's TemplateProcessing (in a Sequence) names the BOS */
	write_tokenizer(VOCAB ", \"merges\": [\"a b\"]", ADDED ", \"post_processor\": {\"type\": "
			"\"Sequence\", \"processors\": [{\"type\": \"ByteLevel\"}, {\"type\": "
			"\"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", "
			"\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]}]}");
	CHECK(load(&t, err, sizeof(err)) == 0, "load: %s", err);
	CHECK(t.bos_id == 12 && t.add_bos == 1 && t.eos_id == -1, "template: bos %d add_bos %d",
	      t.bos_id, t.add_bos);
	tokenizer_free(&t);
}

/* a file that must be refused with one line holding want */
static void expect_error(const char *what, const char *want)
{
	struct tokenizer t;
	char err[512] = "";
	CHECK(load(&t, err, sizeof(err)) == -1, "%s: loaded", what);
	CHECK(strstr(err, want) && strstr(err, path) && !strchr(err, '\n'), "%s: '%s'", what, err);
}

static void test_errors(void)
{
	write_file(path, "{\"version\": \"1.0\"}");
	expect_error("no model", "no \"model\" object");
	write_tokenizer(VOCAB ", \"merges\": [\"a b\", \"c d\"]", "");
	expect_error("merge outside the vocabulary", "model.merges[1]");
	write_tokenizer(VOCAB ", \"merges\": [\"ab\"]", "");
	expect_error("merge without a space", "model.merges[0] is neither");
	/* found by fuzz_tokenizer_bpe: an id of 1e9 made the loader allocate and fill 14 GB */
	write_tokenizer(VOCAB ", \"merges\": []", "\"added_tokens\": [{\"id\": 1000000000, "
			"\"content\": \"<x>\", \"special\": true}]");
	expect_error("huge added id", "added_tokens: an entry lacks an integer id in [0, 16777216)");
	write_tokenizer("\"vocab\": {\"a\": 16777216}, \"merges\": []", "");
	expect_error("huge vocab id", "model.vocab['a'] is not a token id in [0, 16777216)");
	char *text = malloc(16384);
	snprintf(text, 16384, "{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": []}, "
		 PRE_TOKENIZER("\\\\w+") "}");
	write_file(path, text);
	expect_error("unknown regex", "unknown pre_tokenizer regex '\\w+'");
	snprintf(text, 16384, "{\"model\": {\"type\": \"WordPiece\", " VOCAB "}}");
	write_file(path, text);
	expect_error("not BPE", "model.type is 'WordPiece'");
	write_tokenizer(VOCAB ", \"merges\": [\"a b\"]", "");
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, 16383, f) : 0;
	if (f)
		fclose(f);
	text[n / 2] = '\0'; /* truncated */
	write_file(path, text);
	expect_error("truncated", "line 1 col");
	free(text);
	struct tokenizer t;
	char err[512];
	CHECK(tokenizer_load(&t, "/nonexistent/tokenizer.json", err, sizeof(err)) == -1 &&
	      strstr(err, "/nonexistent/tokenizer.json"), "missing file: %s", err);
}

static void expect_nfc(const char *in, const char *want)
{
	size_t n;
	char *out = unicode_nfc(in, strlen(in), &n);
	CHECK(out && n == strlen(want) && !memcmp(out, want, n), "NFC of '%s': '%s'", in,
	      out ? out : "(null)");
	free(out);
}

/* UAX #15's examples and the Hangul algorithm */
static void test_nfc(void)
{
	expect_nfc("e\xcc\x81", "\xc3\xa9");                    /* e + U+0301 -> U+00E9 */
	expect_nfc("\xe2\x84\xab", "\xc3\x85");                 /* U+212B ANGSTROM -> U+00C5 */
	expect_nfc("\xe1\xb8\x8b\xcc\xa3", "\xe1\xb8\x8d\xcc\x87"); /* U+1E0B U+0323 -> U+1E0D U+0307 */
	expect_nfc("q\xcc\x87\xcc\xa3", "q\xcc\xa3\xcc\x87");   /* reordered, nothing composes */
	expect_nfc("\xe0\xa5\x98", "\xe0\xa4\x95\xe0\xa4\xbc"); /* U+0958 is excluded: stays apart */
	expect_nfc("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81"); /* jamo -> U+AC01 */
	expect_nfc("abc", "abc");
	const char *nfc = "plain ascii \xc3\xa9 \xe4\xb8\xad";
	CHECK(!unicode_nfc_needed(nfc, strlen(nfc)), "quick check: NFC text");
	CHECK(unicode_nfc_needed("e\xcc\x81", 3), "quick check: a combining mark");
	CHECK((unicode_flags(0x3000) & UNICODE_WS) && !(unicode_flags(0x1C) & UNICODE_WS) &&
	      !(unicode_flags(0x200B) & UNICODE_WS), "White_Space");
}

/* the lengths of the pre-tokens of s must be want (0-terminated) */
static void expect_split(enum pretok_kind k, const char *s, const int *want)
{
	size_t n = strlen(s), i = 0;
	int j = 0, same = 1;
	while (i < n) {
		size_t len = pretok_next(k, s + i, n - i);
		same = same && want[j] == (int)len;
		i += len, j++;
	}
	CHECK(same && !want[j], "split of '%s'", s);
}

static void test_split(void)
{
	expect_split(PRETOK_QWEN2, "Hello world", (int[]){ 5, 6, 0 });
	expect_split(PRETOK_QWEN2, "I'M  ok\n\n x", (int[]){ 1, 2, 1, 3, 2, 2, 0 });
	expect_split(PRETOK_QWEN2, "a   ", (int[]){ 1, 3, 0 });
	expect_split(PRETOK_QWEN2, "12345", (int[]){ 1, 1, 1, 1, 1, 0 });
	expect_split(PRETOK_LLAMA3, "12345", (int[]){ 3, 2, 0 });
	expect_split(PRETOK_LLAMA3, " ...\n\nx's", (int[]){ 6, 1, 2, 0 });
	expect_split(PRETOK_QWEN2, "\t\tx", (int[]){ 1, 2, 0 });
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/tokenizer.json", dir);
	snprintf(cfg_path, sizeof(cfg_path), "%s/tokenizer_config.json", dir);
	test_merge_order();
	test_ignore_merges();
	test_added();
	test_errors();
	test_nfc();
	test_split();
	unlink(path);
	unlink(cfg_path);
	rmdir(dir);
	return check_done("test_tokenizer");
}
