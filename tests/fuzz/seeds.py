#!/usr/bin/env python3
"""tests/fuzz/seeds.py - writes the handmade seed inputs of tests/fuzz/corpus/ (run from the repo root:
python3 tests/fuzz/seeds.py). The config seeds are configs/*.yaml and tests/fixtures/config/*.yaml
copied as they are; every other seed is written here, small and in each format's real shape."""
import json, os, struct

def put(target, name, data):
    d = os.path.join("tests", "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)

# config: a YAML document, then after a NUL the override lines
put("config", "overrides", "run:\n  name: x\nmodel:\n  dim: 64\n\0model.n_heads=8\nrollout.group_size=4\n"
    "data.template={question} =\nmodel.rope_theta=1e6\nmodel.tie_embeddings=false\n")

# safetensors: header length, JSON header (padded to 8), data
def safetensors(tensors, meta=None, pad=True):
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data

f32 = lambda *v: struct.pack("<%df" % len(v), *v)
put("safetensors", "f32", safetensors([("embed.weight", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)),
                                       ("norm.weight", "F32", [3], f32(1, 1, 1))], {"format": "pt"}))
put("safetensors", "mixed", safetensors([("a", "BF16", [2], b"\x80\x3f\x00\x40"),
                                         ("b", "F16", [1, 2], b"\x00\x3c\x00\xc0"),
                                         ("c", "I64", [1], struct.pack("<q", 7)),
                                         ("d", "BOOL", [0], b""), ("e", "U8", [], b"\x05")],
                                        {"dim": "3", "n_layers": "1"}, pad=False))

# hf config.json: llama, qwen2, qwen3 shapes with the optional fields
put("hf_config", "llama.json", json.dumps({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
    "intermediate_size": 172, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "vocab_size": 512, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "max_position_embeddings": 2048, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "bos_token_id": 1, "eos_token_id": [2, 3], "hidden_act": "silu", "attention_bias": False,
    "mlp_bias": False}, indent=2))
put("hf_config", "qwen2.json", json.dumps({
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
    "num_key_value_heads": 1, "vocab_size": 300, "max_position_embeddings": 32768,
    "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "use_sliding_window": False,
    "tie_word_embeddings": False, "torch_dtype": "float32", "bos_token_id": None,
    "eos_token_id": 299, "rope_scaling": None}, indent=2))
put("hf_config", "qwen3.json", json.dumps({
    "architectures": ["Qwen3ForCausalLM"], "hidden_size": 32, "head_dim": 16,
    "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
    "num_key_value_heads": 2, "vocab_size": 300, "rope_scaling": {"type": "linear", "factor": 2},
    "dtype": "float16"}))
put("hf_config", "qwen3_v5.json", json.dumps({  # as transformers 5 writes it
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 32,
    "head_dim": 16, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "vocab_size": 300, "dtype": "float32",
    "layer_types": ["full_attention", "full_attention"],
    "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "llama3", "factor": 8.0,
                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                        "original_max_position_embeddings": 64}}, indent=2))

# tokenizer.json: a tiny byte-level BPE with the Qwen2 split, added tokens and a template
QWEN = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
        "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
LLAMA3 = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
          "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
def tokenizer(regex, merges, extra):
    vocab = {c: i for i, c in enumerate(["a", "b", "c", "h", "e", "l", "o", "w", "r", "d", "\u0120",
                                         "\u010a", "ab", "bc", "abc", "\u0120a", "he", "ll", "hell",
                                         "hello", "\u0120w", "or", "\u0120wor", "ld", "\u0120world"])}
    t = {"version": "1.0", "truncation": None, "padding": None,
         "added_tokens": [{"id": 25, "content": "<|endoftext|>", "single_word": False,
                           "lstrip": False, "rstrip": False, "normalized": False, "special": True},
                          {"id": 26, "content": "<|im_end|>", "single_word": False, "lstrip": True,
                           "rstrip": True, "normalized": False, "special": True}],
         "normalizer": {"type": "NFC"},
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
         "post_processor": None, "decoder": {"type": "ByteLevel"},
         "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                   "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                   "ignore_merges": False, "vocab": vocab, "merges": merges}}
    t.update(extra)
    return json.dumps(t, ensure_ascii=False)
strings = ["a b", "b c", "ab c", "\u0120 a", "h e", "l l", "he ll", "hell o", "\u0120 w", "o r",
           "\u0120w or", "l d", "\u0120wor ld"]
put("tokenizer_bpe", "qwen", tokenizer(QWEN, strings, {}) + "\0hello world abc <|im_end|>\n")
put("tokenizer_bpe", "llama3", tokenizer(LLAMA3, [s.split(" ") for s in strings], {
    "post_processor": {"type": "TemplateProcessing", "single": [
        {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [], "special_tokens": {}}, "normalizer": None}) + "\0 hello  world 1234567 's\r\n")

# llama2c: byte 0 even = checkpoint header (8-byte file size, then the 28-byte header)
def l2c_size(dim, hidden, layers, heads, kv, vocab, seq):
    E = dim // heads
    n = abs(vocab) * dim + layers * dim * 2 + layers * dim * dim * 2 + layers * kv * E * dim * 2
    n += layers * hidden * dim * 3 + dim + seq * E + (abs(vocab) * dim if vocab < 0 else 0)
    return 28 + 4 * n
for name, h in [("tied", (64, 172, 5, 8, 4, 512, 512)), ("untied", (16, 32, 1, 2, 2, -32, 8))]:
    put("llama2c", "header_" + name, b"\0" + struct.pack("<Q", l2c_size(*h)) + struct.pack("<7i", *h))
# byte 0 odd = tokenizer.bin: max_token_length, then (score, length, bytes) per id
pieces = ["<unk>", "\n<s>\n", "\n</s>\n"] + ["<0x%02X>" % b for b in range(256)] + \
         [" ", "e", "t", "h", "o", " t", "he", " the", "Once", " upon", " a", " time", "\u00e9"]
body = b"".join(struct.pack("<fi", -float(i), len(p.encode())) + p.encode() for i, p in enumerate(pieces))
put("llama2c", "tokenizer_bin", b"\1" + struct.pack("<i", 8) + body)

# jsonl: rows shaped like GSM8K, MATH and AIME lines (written here, not copied)
put("jsonl", "gsm8k.jsonl",
    '{"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", '
    '"answer": "He has 3 + 4 = <<3+4=7>>7 apples.\\n#### 7"}\n'
    '{"question": "A box holds 12 pens; how many pens are in 5 boxes?", '
    '"answer": "5 * 12 = <<5*12=60>>60\\n#### 1,060"}\n')
put("jsonl", "math.jsonl",
    '{"problem": "What is $\\\\frac{1}{2} + \\\\frac{1}{3}$?", "solution": "The sum is '
    '$\\\\boxed{\\\\frac{5}{6}}$.", "answer": "\\\\frac{5}{6}", "subject": "Algebra", "level": 2}\n\n'
    '{"problem": "Compute $2^{10}$.", "solution": "$2^{10} = \\\\boxed{1024}$", '
    '"answer": "1024", "subject": "Number Theory", "level": 1, "unique_id": "x/1.json"}\r\n')
put("jsonl", "countdown.jsonl",
    '{"question": "Using the numbers [44, 19, 35], create an equation that equals 98.", '
    '"answer": "(44 + 19) + 35", "nums": [44, 19, 35], "target": 98}\n'
    '{"question": "q", "answer": "(B)", "nums": [1, 2, 3, 4, 5, 6, 7, 8], "target": -3}\n')
put("jsonl", "aime.jsonl",
    '{"id": 1, "prompt": "Find the remainder when $7^{2024}$ is divided by 100.", "answer": 1, '
    '"solution": "Powers of 7 cycle mod 100 with period 4.", "url": null}\n'
    '{"id": 2, "prompt": "\\u00c9tude \\ud83d\\ude00", "answer": 27.0, "solution": "x", '
    '"extra": [true, false, null, -0.0, 1e300, {"a": []}]}\n')

# report: byte 0 = which files exist (bit 0 metrics.jsonl, 1 samples.jsonl, 2 config.yaml) and
# samples drawn (bits 3..7), then METRICS \0 SAMPLES \0 CONFIG. The records have the keys and
# the field set of a real 3-step run (`attnrl train configs/default.yaml train.steps=3
# credit.strategy=coupled`), values made up here
METRIC_KEYS = ["reward_mean", "accuracy", "loss", "grad_norm", "lr", "entropy", "clip_frac", "kl",
               "response_len_mean", "rollout_tokens_per_s", "time_rollout_s", "time_update_s",
               "time_step_s", "time_credit_s", "logp_mismatch", "skipped_updates", "bad_step",
               "gamma_mean", "frac_preplan", "frac_anchor", "frac_dominated", "frac_intro",
               "waad_mean", "fai_mean", "head_d_local", "head_d_global"]
def metrics_line(step, extra=None):
    m = {"step": step}
    m.update({k: round(1.0 / (i + step + 1), 6) for i, k in enumerate(METRIC_KEYS)})
    m.update(extra or {})
    return json.dumps(m)
def sample_line(step, prompt, response, detail=True):
    s = {"step": step, "prompt": prompt, "response": response, "reward": step % 2,
         "correct": step % 2 == 1}
    if detail:
        toks = list(response)
        R = len(toks)
        s.update({"tokens": toks, "waad": [1.0 + (i * 7 % 9) for i in range(R)],
                  "fai": [0.1 / (i + 1) for i in range(R)], "delta": [0.5 * (i % 4) for i in range(R)],
                  "gamma": [1.0 + 0.25 * (i % 3) for i in range(R)],
                  "preplan": list(range(0, R, 2)), "anchor": list(range(0, R, 3)),
                  "dominated": [1, 4], "intro": [2]})
    return json.dumps(s)
REPORT_CONFIG = ('run:\n  name: "default"\n  dir: "/tmp/fz"\ndata:\n  task: arith\n'
                 'credit:\n  strategy: coupled\n  window: 4\n  fai_lo: 1\n  fai_hi: 8\n  k: 3\n')
def report(mask, drawn, metrics, samples, config):
    return bytes([mask | drawn << 3]) + "\n".join(metrics).encode() + b"\n\0" + \
        "\n".join(samples).encode() + b"\n\0" + config.encode()
put("report", "coupled", report(7, 3, [metrics_line(s) for s in (1, 2, 3)] +
                                [metrics_line(4, {"eval_accuracy": 0.5, "eval_reward_mean": 0.5})],
                                [sample_line(1, "17+29-24=", "<answer>13</answer>"),
                                 sample_line(3, "5*6=", "<answer>30</answer>")], REPORT_CONFIG))
put("report", "text_only", report(3, 2, [metrics_line(1), '{"step": 2, "loss": NaN}', "{trunc"],
                                  [sample_line(1, "1+1=", "<answer>2</answer>", False)], ""))
put("report", "no_metrics", report(6, 1, [], [sample_line(2, "q", "\u00e9 <", True)],
                                   REPORT_CONFIG.replace("coupled", "none")))

# reward: REFERENCE \0 RESPONSE; the reference's bytes also make a countdown problem
put("reward", "mcq_boxed", "(C) Paris\0Let me think.<think>It is C.</think> <answer>\\boxed{\\text{(C)}}</answer>")
put("reward", "mcq_phrase", "B\0The correct answer is (b). Answer: **D.** then the answer is a prime")
put("reward", "format", "2\0  <think>3 + 4 = 7</think>\n<answer> 7 </answer>\n")
put("reward", "format_bad", "x\0<think>a</think><think></think> <answer>b</answer><answer>c</answer>")
put("reward", "countdown", "\x03\x2c\x13\x23b\0<think>44 + 19 = 63</think><answer>(44 + 19) - 35</answer>")
put("reward", "math", "\\frac{5}{6}\0So $\\boxed{\\dfrac{5}{6}}$ and \\boxed{0.8333}")
put("reward", "no_reference", "<answer>(12 * 2) / (3 - 1)</answer>")
