/*
 * hf_config.h - a Hugging Face config.json -> the model's dims and special ids (see hf.h for
 * the fields read). Pure C: hf_read_config (hf.h) reads <dir>/config.json and calls this.
 */
#ifndef ATTNRL_HF_CONFIG_H
#define ATTNRL_HF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/model.h"

struct json;

struct hf_info {
	struct model_config mc;        /* max_seq_len = max_position_embeddings */
	char torch_dtype[16];          /* "float32" | "bfloat16" | "float16" ("float32" if absent) */
	int32_t bos_id, eos_ids[8];    /* -1 / none when absent */
	int n_eos;
};

/* a parsed config.json -> info; -1 with "where: what" in err (unsupported architecture,
 * missing or inconsistent field) */
int hf_config_from_json(const struct json *root, const char *where, struct hf_info *info,
			char *err, size_t n);
/* the same from the JSON text json[0..len) (no NUL needed); invalid JSON is
 * "where: line L col C: what" */
int hf_parse_config(const char *json, size_t len, const char *where, struct hf_info *info,
		    char *err, size_t n);

#endif
