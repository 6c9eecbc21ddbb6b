/*
 * hf.h - Hugging Face model folders in and out.
 *
 * A folder holds config.json, model.safetensors or shards *.safetensors listed in
 * model.safetensors.index.json ("weight_map": {tensor name: file}), tokenizer.json and
 * tokenizer_config.json. Architectures: LlamaForCausalLM (Llama 2, 3), Qwen2ForCausalLM
 * (q/k/v bias), Qwen3ForCausalLM (q/k RMSNorm); fields read: hidden_size, intermediate_size,
 * num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim, vocab_size,
 * rms_norm_eps, rope_theta, rope_scaling (linear, llama3), tie_word_embeddings,
 * max_position_embeddings, torch_dtype, bos_token_id, eos_token_id (int or list).
 * Stored dtypes F32, BF16, F16 become fp32 parameters; the files are mmapped and each tensor's
 * pages are released once copied, so loading peaks near the fp32 size of the model.
 * Errors are one line naming the file, the tensor, expected and found shapes or the offset.
 */
#ifndef ATTNRL_HF_H
#define ATTNRL_HF_H

#include <stddef.h>
#include <stdint.h>

#include "attnrl/hf_config.h"
#include "attnrl/model.h"

/* 1 when dir is a folder holding config.json */
int hf_is_folder(const char *dir);
/* <dir>/config.json -> info; -1 with one line in err (unsupported architecture, missing or
 * inconsistent field) */
int hf_read_config(const char *dir, struct hf_info *info, char *err, size_t n);
/* every parameter of m from the folder's safetensors (single or sharded); m's shapes must
 * match; -1 with err naming the file and tensor */
int hf_load_weights(struct model *m, const char *dir, char *err, size_t n);

/* writes dir as a Hugging Face folder (created if needed; written in dir.tmp then renamed
 * when dir does not exist yet): config.json, model.safetensors with Hugging Face names in
 * dtype ("float32" | "bfloat16" | "float16"; bf16/fp16 rounded to nearest even), and the
 * tokenizer files (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * generation_config.json) copied from tok_src when tok_src is a folder holding them (or
 * tokenizer.json alone when tok_src is a .json file); "": tokenizer.json and
 * tokenizer_config.json of the built-in character vocabulary (tokenizer_init_chars); NULL: none.
 * bos_id/eos_id go to config.json (-1: null). */
int hf_save(const struct model *m, const char *dir, const char *dtype, const char *tok_src,
	    int32_t bos_id, int32_t eos_id, char *err, size_t n);

#endif
