/*
 * tokenizer.h - text <-> token ids.
 *
 * One struct for every vocabulary: V pieces, each a byte string, and the ids of the special
 * tokens. Special tokens (pad, bos, eos) decode to nothing. For now the only vocabulary is the
 * character-level one of the embedded default task:
 *   id 0 "<pad>", 1 "<bos>", 2 "<eos>", 3 '\t', 4 '\n', 5..99 the bytes 32..126 in order
 * (V = 100). Byte-level BPE (tokenizer.json) and llama2.c's tokenizer.bin come later and fill
 * the same fields.
 */
#ifndef ATTNRL_TOKENIZER_H
#define ATTNRL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

enum tokenizer_kind { TOKENIZER_CHARS };

struct tokenizer {
	enum tokenizer_kind kind;
	int vocab_size;          /* V */
	int32_t pad_id, bos_id, eos_id;
	char **piece;            /* (V) NUL-terminated text of each id */
	int *piece_len;          /* (V) bytes in piece[id] (a BPE piece may hold a NUL byte) */
	unsigned char *special;  /* (V) 1 for ids that decode to nothing */
	int32_t byte_id[256];    /* TOKENIZER_CHARS: the id of each byte, -1 when not in the vocab */
	void *mem;               /* the one allocation behind piece, piece_len, special and texts */
};

int tokenizer_init_chars(struct tokenizer *t);     /* 0, or -1 (out of memory, reported) */
void tokenizer_free(struct tokenizer *t);

/* ids of text, no BOS added; the count, or -1 when a byte is not in the vocab or max_ids is
 * too small */
int tokenizer_encode(const struct tokenizer *t, const char *text, int32_t *ids, int max_ids);
/* text of ids into out (NUL-terminated), special ids skipped; the length, or -1 when an id is
 * outside [0, V) or cap is too small (out then holds "" when cap > 0) */
int tokenizer_decode(const struct tokenizer *t, const int32_t *ids, int n, char *out, size_t cap);
const char *tokenizer_piece(const struct tokenizer *t, int32_t id); /* NULL outside [0, V) */

#endif
