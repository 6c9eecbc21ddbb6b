/*
 * test_tokenizer_llama2c.c - llama2.c's tokenizer.bin.
 * With ../shared/models/stories260K/tok512.bin: the encoding of each string below must be
 * run.c's encode(text, bos=0, eos=0), ids recorded from run.c itself (karpathy/llama2.c
 * 350e04fe35433e6d2941dce5a1f53308f87058eb) by a driver that includes run.c with -DTESTING
 * and prints the ids of each argument: build_tokenizer(&t, "tok512.bin", 512); encode(&t,
 * argv[a], 0, 0, ids, &n). The strings cover the dummy prefix, merges, UTF-8 codepoints found
 * and not found (byte fallback), stray continuation bytes, tabs and newlines. Then the pieces
 * (byte tokens are one byte, <unk> <s> </s> special), the special ids, stop ids, and the
 * round trip of decode(encode(text)) = " " + text. Hand-made bad files must each fail with
 * their own one-line message. Runs without torch (and under ASan).
 */
#include "attnrl/tokenizer.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOK512 "../shared/models/stories260K/tok512.bin"

static const struct { const char *text, *ids; } cases[] = {
	{ "Once upon a time", "403 407 261 378" },
	{ "", "" },
	{ "Hello, world!", "346 306 414 432 263 304 341 443" },
	{ "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac",
	  "270 485 306 414 410 229 159 150 410 233 154 168 233 159 175" },
	{ "  two  spaces\tand\ttabs\nnewline",
	  "410 410 259 424 414 410 262 427 412 331 419 12 412 264 12 413 412 430 419 13 416 "
	  "411 424 421 271 411" },
	{ "a", "261" },
	{ "<0x41>", "410 504 477 444 484 475 505" },
	{ "Lily's mom said, \"Don't worry.\"",
	  "317 439 419 357 336 432 313 455 289 439 413 263 304 420 422 426 436" },
	{ "\x80" "x\xff", "410 131 444 258" },
	{ "\xf0\x9f\x98\x80\x80\x80!", "410 243 162 155 131 131 131 443" },
	{ " ", "410 410" },
	{ "The cat sat on the mat. It was a sunny day and the children played.",
	  "291 280 294 262 294 353 265 284 294 426 359 413 286 261 262 379 416 422 328 269 "
	  "265 280 415 290 418 276 416 337 266 426" },
	{ "\n\n", "410 13 13" },
	{ "1 + 2 = 3, 100%", "410 475 410 496 410 479 410 64 410 472 432 410 475 477 477 501" },
};

static char path[] = "/tmp/test_tok_l2c_XXXXXX";
static char err[512];

static void check_stories(void)
{
	struct tokenizer t;
	if (access(TOK512, R_OK)) {
		printf("test_tokenizer_llama2c: run.c comparison skipped: %s not found\n", TOK512);
		return;
	}
	CHECK(tokenizer_load(&t, TOK512, err, sizeof(err)) == 0, "load: %s", err);
	if (t.vocab_size == 0)
		return;
	CHECK(t.kind == TOKENIZER_LLAMA2C && t.vocab_size == 512, "kind %d V %d", t.kind, t.vocab_size);
	CHECK(t.bos_id == 1 && t.eos_id == 2 && t.add_bos && t.pad_id == -1, "special ids");
	CHECK(t.n_stop_ids == 2 && t.stop_ids[0] == 2 && t.stop_ids[1] == 1, "stop ids: EOS, BOS");
	CHECK(t.special[0] && t.special[1] && t.special[2] && !t.special[3] && !t.special[511], "special");
	CHECK(t.piece_len[3] == 1 && t.piece[3][0] == 0 && t.piece_len[13] == 1 &&
	      !strcmp(t.piece[13], "\n") && !strcmp(t.piece[258], "\xff"), "byte pieces");
	CHECK(!strcmp(t.piece[403], " Once") && !strcmp(tokenizer_text(&t, 1), ""), "text pieces");
	CHECK(tokenizer_find(&t, " Once") == 403, "find");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int32_t ids[256];
		char got[2048] = "", dec[1024], want_dec[1024];
		int n = tokenizer_encode(&t, cases[i].text, ids, 256);
		for (int k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), k ? " %d" : "%d", ids[k]);
		CHECK(n >= 0 && !strcmp(got, cases[i].ids), "case %zu: encode ids '%s', run.c '%s'", i,
		      got, cases[i].ids);
		snprintf(want_dec, sizeof(want_dec), "%s%s", cases[i].text[0] ? " " : "", cases[i].text);
		CHECK(tokenizer_decode(&t, ids, n, dec, sizeof(dec)) >= 0 && !strcmp(dec, want_dec),
		      "case %zu: decode '%s'", i, dec);
		if (n > 1)
			CHECK(tokenizer_encode(&t, cases[i].text, ids, n - 1) == -1, "case %zu: too small", i);
	}
	tokenizer_free(&t);
}

/* a tokenizer.bin of V records: <unk> <s> </s>, 256 byte pieces, " ", "a", "b", "ab"; cut bytes
 * off the end; byte_at replaces the piece of id 3 + byte_at with "xx" */
static void write_tok(int V, int cut, int byte_at)
{
	FILE *f = fopen(path, "wb");
	int32_t max_len = 6;
	fwrite(&max_len, 4, 1, f);
	for (int i = 0; i < V; i++) {
		char s[16];
		float score = (float)-i;
		if (i < 3)
			strcpy(s, i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
		else if (i < 259)
			snprintf(s, sizeof(s), i - 3 == byte_at ? "xx" : "<0x%02X>", i - 3);
		else
			strcpy(s, i == 259 ? " " : i == 260 ? "a" : i == 261 ? "b" : "ab");
		int32_t len = (int32_t)strlen(s);
		fwrite(&score, 4, 1, f);
		fwrite(&len, 4, 1, f);
		fwrite(s, 1, len, f);
	}
	long size = ftell(f);
	fclose(f);
	if (cut)
		CHECK(truncate(path, size - cut) == 0, "truncate");
}

static void check_bad(const char *what, int V, int cut, int byte_at, const char *want)
{
	struct tokenizer t;
	write_tok(V, cut, byte_at);
	err[0] = '\0';
	int rc = tokenizer_load_llama2c(&t, path, err, sizeof(err));
	CHECK(rc == -1 && strstr(err, path) && strstr(err, want) && !strchr(err, '\n'),
	      "%s: want '%s', got '%s'", what, want, err);
	if (!rc)
		tokenizer_free(&t);
}

static void check_files(void)
{
	struct tokenizer t;
	write_tok(263, 0, -1);
	CHECK(tokenizer_load(&t, path, err, sizeof(err)) == -1, "a name not ending in .bin is BPE");
	CHECK(tokenizer_load_llama2c(&t, path, err, sizeof(err)) == 0 && t.vocab_size == 263,
	      "hand-made file: %s", err);
	int32_t ids[8];
	CHECK(tokenizer_encode(&t, "ab", ids, 8) == 2 && ids[0] == 259 && ids[1] == 262,
	      "dummy prefix then the merge of a b");
	CHECK(tokenizer_encode(&t, "c", ids, 8) == 2 && ids[0] == 259 && ids[1] == 3 + 'c',
	      "byte fallback");
	tokenizer_free(&t);
	/* from memory (an exact-size copy of the file): the same vocabulary and ids */
	FILE *in = fopen(path, "rb");
	static char bytes[8192];
	size_t len = in ? fread(bytes, 1, sizeof(bytes), in) : 0;
	if (in)
		fclose(in);
	char *copy = malloc(len);
	memcpy(copy, bytes, len);
	CHECK(tokenizer_parse_llama2c(&t, copy, len, "mem.bin", err, sizeof(err)) == 0 &&
	      t.vocab_size == 263, "tokenizer_parse_llama2c: %s", err);
	free(copy);
	CHECK(t.vocab_size && tokenizer_encode(&t, "ab", ids, 8) == 2 && ids[0] == 259 &&
	      ids[1] == 262, "parsed: dummy prefix then the merge of a b");
	if (t.vocab_size)
		tokenizer_free(&t);
	CHECK(tokenizer_parse_llama2c(&t, bytes, len - 1, "mem.bin", err, sizeof(err)) == -1 &&
	      !strncmp(err, "mem.bin: not a llama2.c tokenizer.bin", 37), "parse a cut file: '%s'", err);
	check_bad("a record cut", 261, 1, -1, "does not end after a (score, length, bytes) record");
	check_bad("a record header cut", 261, 3, -1, "does not end after");
	check_bad("too few ids", 100, 0, -1, "100 ids, fewer than the 259");
	check_bad("no byte piece", 261, 0, 65, "id 68 is 'xx', not the byte piece <0x41>");
	check_bad("no space piece", 259, 0, -1, "no \" \" piece");
	FILE *f = fopen(path, "wb");
	fclose(f);
	CHECK(tokenizer_load_llama2c(&t, path, err, sizeof(err)) == -1 &&
	      strstr(err, "shorter than its 4-byte header"), "empty file: '%s'", err);
	CHECK(tokenizer_load_llama2c(&t, "/no/such/tok.bin", err, sizeof(err)) == -1 &&
	      strstr(err, "/no/such/tok.bin: cannot open"), "missing file: '%s'", err);
}

int main(void)
{
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	close(fd);
	check_stories();
	check_files();
	unlink(path);
	return check_done("test_tokenizer_llama2c");
}
