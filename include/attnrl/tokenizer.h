/*
 * tokenizer.h - text <-> token ids.
 *
 * One struct for every vocabulary: V pieces, each the exact bytes the id stands for in a
 * decoded text (byte-level BPE: after the byte-to-unicode map is undone; llama2.c: "<0x0A>"
 * pieces are the byte itself), and the ids of the special tokens. Special ids decode to
 * nothing. Decoding is the concatenation of the non-special pieces' bytes.
 *
 * Kinds:
 *   TOKENIZER_CHARS    the character vocabulary of the embedded default task:
 *                      id 0 "<pad>", 1 "<bos>", 2 "<eos>", 3 '\t', 4 '\n', 5..99 bytes 32..126
 *   TOKENIZER_BPE      Hugging Face tokenizer.json, byte-level BPE (Qwen2/Qwen3, Llama 3),
 *                      identical to Hugging Face's tokenizers (src/tokenizer_bpe.c)
 *   TOKENIZER_LLAMA2C  llama2.c's tokenizer.bin, score-ordered merges, byte fallback
 *                      (src/tokenizer_llama2c.c)
 *
 * Encoding never adds BOS/EOS: callers that want BOS prepend bos_id when add_bos is set.
 * BPE: added tokens (special or not) are matched in the text before BPE, as Hugging Face does.
 */
#ifndef ATTNRL_TOKENIZER_H
#define ATTNRL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

enum tokenizer_kind { TOKENIZER_CHARS, TOKENIZER_BPE, TOKENIZER_LLAMA2C };

#define TOKENIZER_MAX_STOP 8
/* token ids are below this (the largest real vocabularies hold about 256k): a file naming a
 * larger id is refused rather than allocating gigabytes for a sparse vocabulary */
#define TOKENIZER_MAX_VOCAB (1 << 24)

struct tokenizer {
	enum tokenizer_kind kind;
	int vocab_size;          /* V: one past the largest id (added tokens included) */
	int32_t pad_id, bos_id, eos_id; /* -1 when the vocabulary has none */
	int add_bos;             /* prompts start with bos_id (llama2.c, Llama 3, chars; not Qwen) */
	int32_t stop_ids[TOKENIZER_MAX_STOP]; /* ids that end a response (eos_id first) */
	int n_stop_ids;
	char **piece;            /* (V) NUL-terminated bytes of each id ("" for unused ids) */
	int *piece_len;          /* (V) bytes in piece[id] (a piece may hold a NUL byte) */
	unsigned char *special;  /* (V) 1 for ids that decode to nothing */
	int32_t byte_id[256];    /* TOKENIZER_CHARS: the id of each byte, -1 when not in the vocab */
	void *mem;               /* the one allocation behind piece, piece_len, special and texts */
	void *impl;              /* BPE / llama2.c encoder state */
	int (*impl_encode)(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids);
	void (*impl_free)(void *impl);  /* called by tokenizer_free */
};

int tokenizer_init_chars(struct tokenizer *t);     /* 0, or -1 (out of memory, reported) */
/* path: a tokenizer.json, a llama2.c tokenizer.bin (any name ending in .bin), or a folder
 * holding tokenizer.json; 0, or -1 with one line in err (what, where, how to fix) */
int tokenizer_load(struct tokenizer *t, const char *path, char *err, size_t n);
int tokenizer_load_bpe(struct tokenizer *t, const char *path, char *err, size_t n);
int tokenizer_load_llama2c(struct tokenizer *t, const char *path, char *err, size_t n);
/* the same from the file's bytes data[0..len) (no tokenizer_config.json for BPE); where names
 * them in messages */
int tokenizer_parse_bpe(struct tokenizer *t, const char *json, size_t len, const char *where,
			char *err, size_t n);
int tokenizer_parse_llama2c(struct tokenizer *t, const void *data, size_t len, const char *where,
			    char *err, size_t n);
void tokenizer_free(struct tokenizer *t);

/* ids of text, nothing added; the count, or -1 when a byte is not in the vocab (chars) or
 * max_ids is too small */
int tokenizer_encode(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids);
/* text of ids into out (NUL-terminated), special ids skipped; the length, or -1 when an id is
 * outside [0, V) or cap is too small (out then holds "" when cap > 0). Bytes are copied as
 * they are: a piece may end inside a UTF-8 sequence. */
int tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n, char *out, size_t cap);
const char *tokenizer_piece(const struct tokenizer *t, int32_t id); /* NULL outside [0, V) */
/* what id adds to a decoded text: its piece, "" for special ids and ids outside [0, V) (a
 * model's padded embedding rows) */
const char *tokenizer_text(const struct tokenizer *t, int32_t id);
/* the id whose piece (or added-token content, e.g. "<|im_end|>") is exactly text; -1 if none */
int32_t tokenizer_find(const struct tokenizer *t, const char *text);
/* 1 when id ends a response (one of stop_ids) */
int tokenizer_is_stop(const struct tokenizer *t, int32_t id);
/* the enum pretok_kind (tokenizer_pretok.h) of a TOKENIZER_BPE tokenizer; -1 for the other kinds */
int tokenizer_pretok_kind(const struct tokenizer *t);

#endif
