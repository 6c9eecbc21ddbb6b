"""Hugging Face transformers as the oracle of attnrl's forward, decoding, export and chat
prompts: the Python side of tests/test_oracle_hf.sh, run on .venv's Python (one process, as
importing torch and transformers takes seconds). attnrl's side is `attnrl export`,
`attnrl tokenize` and tests/hf_oracle_run.c (the model API: training forward, decode engine,
sampler, data_encode).

  hf_oracle.py DIR ATTNRL HF_ORACLE_RUN [TOKENIZERS]
    1. transformers' own config classes and save_pretrained write random-weight folders:
       DIR/qwen3 (untied, q/k norm, head_dim 32 != 64/4, GQA 4:2, sharded in 40 KB pieces),
       DIR/llama (tied, llama3 rope scaling, GQA 6:2, 3 layers) and DIR/qwen2 (q/k/v biases,
       linear rope scaling, GQA 4:2, untied); norms and biases drawn away from 1 and 0.
    2. attnrl runs on each: hf_oracle_run writes its logits, greedy and sampled continuations
       (DIR/NAME.out.safetensors) and the weights as a finished run's model.safetensors;
       `attnrl export` writes that run as DIR/NAME.f32 and DIR/NAME.bf16 (--dtype), the
       latter read back by hf_oracle_run. With TOKENIZERS (../shared/tokenizers), the qwen3
       and llama runs carry its qwen3 and llama3 tokenizers into their exports, and
       `attnrl tokenize` and attnrl's qwen-chat / llama3-chat prompts (data_encode) are taken
       from the exported folders.
    3. against transformers (AutoModelForCausalLM.from_pretrained, fp32), per model:
       - attnrl's logits of the transformers folder: max abs err <= 1e-4 over 256 positions;
       - the greedy continuations of attnrl's decode engine (20 prompts, 16 tokens) equal
         generate(do_sample=False) token for token, up to and including the first EOS;
       - the log-probs attnrl's sampler gave its sampled tokens (T = 0.8) equal
         log_softmax(logits / T) of transformers' forward over the same tokens: <= 1e-5;
       - the float32 export in transformers gives attnrl's logits (<= 1e-4); the bfloat16
         export, run in fp32, gives attnrl's logits of that folder (<= 1e-4: the same bf16
         weights on both sides), and run in bf16 stays within the bf16 bound (BF16_STEPS);
       per tokenizer, on the export carrying it:
       - AutoTokenizer's ids of TEXTS (no special tokens added) equal attnrl tokenize's;
       - apply_chat_template([user question], add_generation_prompt=True) equals attnrl's
         prompt of the matching built-in template for each of 50 questions.
Exit 1 on any difference, printing what differs.
"""
import json
import os
import random
import subprocess
import sys
import time

import torch
import transformers
from safetensors.torch import load_file, save_file

LOGIT_TOL = 1e-4
LOGP_TOL = 1e-5
# bf16 keeps 8 significant bits: each weight stored and each activation transformers rounds
# to bf16 moves by up to 2^-9 of its size. Over a 2-3 layer model the logits move by a handful
# of such steps of their own size; the bound is 2^-9 * 16 * (1 + max |logit|), 16 roundings of
# the largest logit. The fp32 checks are the sharp ones; this one shows that the bf16 export
# runs in transformers' bf16 path as close to attnrl as transformers' own fp32 run is.
BF16_STEPS = 16

N_SEQS, SEQ_LEN = 4, 64  # logits of 256 positions per model
N_PROMPTS, MAX_NEW = 20, 16
SAMPLE_T, SAMPLE_SEED = 0.8, 1234
# matrices N(0, 0.1^2): about 1/sqrt(hidden_size), so activations keep their size through the
# layers as in a trained model and logits stay within a few units; fp32 then agrees to ~1e-5
WEIGHT_STD = 0.1

MODELS = {
    "qwen3": dict(cls="Qwen3Config", kw=dict(
        hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=32, vocab_size=320, tie_word_embeddings=False,
        rope_theta=1000000.0, rms_norm_eps=1e-6, bos_token_id=None, eos_token_id=5,
        max_position_embeddings=512), shard="40KB"),
    "llama": dict(cls="LlamaConfig", kw=dict(
        hidden_size=96, intermediate_size=192, num_hidden_layers=3, num_attention_heads=6,
        num_key_value_heads=2, vocab_size=288, tie_word_embeddings=True, rms_norm_eps=1e-5,
        rope_theta=500000.0, bos_token_id=1, eos_token_id=2, max_position_embeddings=512,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 32}),
        shard=None),
    "qwen2": dict(cls="Qwen2Config", kw=dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=300, tie_word_embeddings=False, rms_norm_eps=1e-6,
        rope_theta=10000.0, bos_token_id=None, eos_token_id=7, max_position_embeddings=512,
        rope_scaling={"rope_type": "linear", "factor": 2.0}), shard=None),
}
# the tokenizer (of ../shared/tokenizers) an export of the model carries, and the built-in
# template of attnrl that each tokenizer's chat template must equal
TOKENIZER_OF = {"qwen3": "qwen3", "llama": "llama3"}
TEMPLATES = {"qwen3": "qwen-chat", "llama3": "llama3-chat"}

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


# ---- make ----------------------------------------------------------------------------------

def make_model(name, spec, out, seed):
    torch.manual_seed(seed)
    cfg = getattr(transformers, spec["cls"])(**spec["kw"])
    model = transformers.AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if "norm" in pname:
                p.copy_(1 + 0.3 * torch.randn_like(p))
            elif pname.endswith("bias"):
                p.copy_(0.3 * torch.randn_like(p))
            else:
                p.copy_(WEIGHT_STD * torch.randn_like(p))
    kw = {"max_shard_size": spec["shard"]} if spec["shard"] else {}
    model.save_pretrained(out, **kw)
    return cfg.vocab_size


def make_case(path, V, rng):
    ids = torch.tensor([[rng.randrange(V) for _ in range(SEQ_LEN)] for _ in range(N_SEQS)])
    lens = [rng.randint(1, 12) for _ in range(N_PROMPTS)]
    prompts = torch.zeros(N_PROMPTS, 12, dtype=torch.int64)
    for i, n in enumerate(lens):
        prompts[i, :n] = torch.tensor([rng.randrange(V) for _ in range(n)])
    save_file({"ids": ids, "prompts": prompts, "prompt_len": torch.tensor(lens),
               "sample": torch.tensor([MAX_NEW, round(SAMPLE_T * 1000), SAMPLE_SEED])}, path)


TEXTS = [
    "Hello, world!", "  two leading spaces and trailing  ", "line one\nline two\n\n\nthree",
    "tabs\tand\r\nwindows lines", "x = f(3) + 42 * y_1; // code", "12345678901234567890 3.14159",
    "naïve café déjà vu — “quotes”", "中文分词测试，标点。", "日本語のテキストです", "emoji 🙂👍🏽 and ZWJ 👨‍👩‍👧",
    "don't won't it's I'm we'll they've", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>text",
    "   ", "\n", "A" * 50, "mixed123abc ABC def!!!???", "Ünïcödé ÀÉÎÕÜ ß", "\\boxed{x^2 + 1}",
    "Σ α β γ δ — Привет мир", "https://example.com/path?q=1&r=2", "a\u00a0b\u2003c\u3000d",
]


def make_questions(rng):
    base = ["What is 12 + 30?", "Solve for x: 2x + 3 = 11.", "Name three primes.",
            "Explain why the sky is blue.", "Translate 'bonjour' to English.",
            "Write a haiku about rain.", "What is the derivative of x^3?",
            "List the planets in order.", "How many legs does a spider have?",
            "Compute 17 * 23."]
    out = []
    for i in range(50):
        q = base[i % len(base)]
        kind = i // len(base)
        if kind == 1:
            q = q + "\nAnswer in \\boxed{}."
        elif kind == 2:
            q = " " + q + "  "  # surrounding spaces
        elif kind == 3:
            q = "\n" + q + "\n\n"  # surrounding newlines
        elif kind == 4:
            q = ["Ünïcödé question: 3² = ?", "数学：1+1=？", "emoji 🙂 count: 🙂🙂🙂",
                 "tab\tseparated\tfields", "multi\n\nparagraph\n\nquestion",
                 "a <|im_end|> inside", "quotes \"double\" and 'single'",
                 "trailing tab\t", "\u00a0non-breaking space\u00a0", ""][i % 10]
        out.append(q)
    return out


def make_main(d):
    rng = random.Random(7)
    for k, (name, spec) in enumerate(MODELS.items()):
        V = make_model(name, spec, os.path.join(d, name), 100 + k)
        make_case(os.path.join(d, name + ".case.safetensors"), V, rng)
    with open(os.path.join(d, "texts.jsonl"), "w") as f:
        for t in TEXTS:
            f.write(json.dumps(t) + "\n")
    with open(os.path.join(d, "questions.jsonl"), "w") as f:
        for q in make_questions(rng):
            f.write(json.dumps(q) + "\n")
    print(f"hf_oracle: {len(MODELS)} folders written by transformers {transformers.__version__}")


# ---- attnrl's side -------------------------------------------------------------------------

def attnrl(what, args, stdin=None, stdout=None):
    """one attnrl command; a failure is reported with its stderr"""
    fin = open(stdin) if stdin else subprocess.DEVNULL
    fout = open(stdout, "w") if stdout else subprocess.DEVNULL
    try:
        r = subprocess.run(args, stdin=fin, stdout=fout, stderr=subprocess.PIPE, text=True)
    finally:
        for f in (fin, fout):
            if f is not subprocess.DEVNULL:
                f.close()
    if r.returncode:
        check(False, f"{what}: {' '.join(os.path.basename(a) for a in args[:2])} exit "
              f"{r.returncode}: {r.stderr.strip()[-300:]}")
    return r.returncode == 0


def attnrl_side(d, bin_, run, tokenizers):
    """returns the tokenizer names whose files went out with an export"""
    toks = []
    for name in MODELS:
        f, case, rdir = os.path.join(d, name), os.path.join(d, name + ".case.safetensors"), \
            os.path.join(d, "run_" + name)
        os.makedirs(rdir)
        attnrl(name, [run, "model", f, case, f + ".out.safetensors",
                      os.path.join(rdir, "model.safetensors")])
        # a finished run that started from the folder, as `attnrl export` finds one
        tok = TOKENIZER_OF.get(name)
        with open(os.path.join(rdir, "config.yaml"), "w") as y:
            y.write(f"model:\n  path: {json.dumps(f)}\n")
            if tokenizers and tok:
                y.write(f"  tokenizer: {json.dumps(os.path.join(tokenizers, tok))}\n")
                toks.append(tok)
        for dtype, out in (("float32", f + ".f32"), ("bfloat16", f + ".bf16")):
            attnrl(name, [bin_, "export", rdir, "--out", out, "--dtype", dtype])
        attnrl(name, [run, "model", f + ".bf16", case, f + ".bf16.out.safetensors"])
        if tokenizers and tok:
            attnrl(tok, [bin_, "tokenize", "--tokenizer", f + ".f32", "--json"],
                   os.path.join(d, "texts.jsonl"), os.path.join(d, f"tok_{tok}.ids"))
            attnrl(tok, [run, "template", TEMPLATES[tok], f + ".f32",
                         os.path.join(d, "questions.jsonl")], None,
                   os.path.join(d, f"tok_{tok}.tpl.ids"))
    return toks


# ---- check ---------------------------------------------------------------------------------

def load(folder, dtype=torch.float32):
    m = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    return m.eval()


def logits_of(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def check_model(d, name):
    case = load_file(os.path.join(d, name + ".case.safetensors"))
    ours = load_file(os.path.join(d, name + ".out.safetensors"))
    hf = load(os.path.join(d, name))
    ref = logits_of(hf, case["ids"])
    err = (ref - ours["logits"]).abs().max().item()
    check(ref.shape == ours["logits"].shape and err <= LOGIT_TOL,
          f"{name}: logits of transformers' folder, {ref.shape[0] * ref.shape[1]} positions, "
          f"max abs err {err:.2e} (<= {LOGIT_TOL:g}; |logit| up to {ref.abs().max():.1f})")

    eos = hf.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    # one batch, prompts padded on the left as generate() wants them
    lens = case["prompt_len"].tolist()
    W = max(lens)
    ids = torch.zeros(N_PROMPTS, W, dtype=torch.int64)
    mask = torch.zeros_like(ids)
    for i, n in enumerate(lens):
        ids[i, W - n:] = case["prompts"][i, :n]
        mask[i, W - n:] = 1
    with torch.no_grad():
        out = hf.generate(ids, attention_mask=mask, do_sample=False, max_new_tokens=MAX_NEW,
                          pad_token_id=0, output_scores=True, return_dict_in_generate=True)
    same, n_tok, n_eos, min_gap = 0, 0, 0, float("inf")
    for i in range(N_PROMPTS):
        mine = ours["greedy"][i].tolist()
        cut = next((k + 1 for k, t in enumerate(mine) if t in eos), len(mine))
        theirs = out.sequences[i, W:W + cut].tolist()
        for s in out.scores[:cut]:
            top = s[i].float().topk(2).values
            min_gap = min(min_gap, (top[0] - top[1]).item())
        n_eos += cut < len(mine) or mine[-1] in eos
        n_tok += cut
        if mine[:cut] == theirs:
            same += 1
        else:
            print(f"  prompt {i}: attnrl {mine[:cut]}\n  {' ' * len(str(i))}  transformers {theirs}")
    check(same == N_PROMPTS,
          f"{name}: greedy decode engine = generate(do_sample=False): {same}/{N_PROMPTS} prompts, "
          f"{n_tok} tokens, {n_eos} ended by EOS (smallest top-1/top-2 logit gap {min_gap:.2g})")
    # the sampled continuations after their prompts, padded on the right: causal attention
    # keeps the padding out of every position compared
    seqs = torch.zeros(N_PROMPTS, W + MAX_NEW, dtype=torch.int64)
    for i, n in enumerate(lens):
        seqs[i, :n] = case["prompts"][i, :n]
        seqs[i, n:n + MAX_NEW] = ours["sampled"][i]
    lp = torch.log_softmax(logits_of(hf, seqs) / SAMPLE_T, dim=-1)
    worst_lp = 0.0
    for i, n in enumerate(lens):
        want = lp[i, n - 1:n - 1 + MAX_NEW].gather(1, ours["sampled"][i].unsqueeze(1)).squeeze(1)
        worst_lp = max(worst_lp, (want - ours["sampled_logp"][i]).abs().max().item())
    check(worst_lp <= LOGP_TOL,
          f"{name}: sampled log-probs at T={SAMPLE_T}, {N_PROMPTS}x{MAX_NEW} tokens, "
          f"max abs err {worst_lp:.2e} (<= {LOGP_TOL:g})")

    ex = load(os.path.join(d, name + ".f32"))
    err = (logits_of(ex, case["ids"]) - ours["logits"]).abs().max().item()
    check(err <= LOGIT_TOL, f"{name}: attnrl export float32 in transformers: max abs err {err:.2e}")
    ours_bf = load_file(os.path.join(d, name + ".bf16.out.safetensors"))["logits"]
    theirs_bf = logits_of(load(os.path.join(d, name + ".bf16")), case["ids"])
    err = (theirs_bf - ours_bf).abs().max().item()
    check(err <= LOGIT_TOL, f"{name}: attnrl export bfloat16 in transformers (fp32 compute) = "
          f"attnrl on that folder: max abs err {err:.2e}")
    native = logits_of(load(os.path.join(d, name + ".bf16"), torch.bfloat16), case["ids"])
    err = (native - ours_bf).abs().max().item()
    own = (native - theirs_bf).abs().max().item()
    tol = 2.0 ** -9 * BF16_STEPS * (1 + ours_bf.abs().max().item())
    check(err <= tol, f"{name}: attnrl export bfloat16 in transformers (bf16 compute): "
          f"max abs err {err:.3f} (<= {tol:.3f}, bf16 rounding; transformers' own bf16 vs fp32: "
          f"{own:.3f})")


def read_ids(path):
    with open(path) as f:
        return [[int(x) for x in line.split()] for line in f]


def check_tokenizer(d, name):
    model = next(m for m, t in TOKENIZER_OF.items() if t == name)
    tok = transformers.AutoTokenizer.from_pretrained(os.path.join(d, model + ".f32"))
    texts = [json.loads(l) for l in open(os.path.join(d, "texts.jsonl"))]
    ours = read_ids(os.path.join(d, f"tok_{name}.ids"))
    bad = [i for i, t in enumerate(texts) if tok(t, add_special_tokens=False)["input_ids"] != ours[i]]
    for i in bad[:3]:
        print(f"  {texts[i]!r}: attnrl {ours[i]}, transformers "
              f"{tok(texts[i], add_special_tokens=False)['input_ids']}")
    check(not bad and len(ours) == len(texts),
          f"{name}: AutoTokenizer on the export = attnrl tokenize: {len(texts) - len(bad)}/{len(texts)} texts")
    qs = [json.loads(l) for l in open(os.path.join(d, "questions.jsonl"))]
    ours = read_ids(os.path.join(d, f"tok_{name}.tpl.ids"))
    bad = []
    for i, q in enumerate(qs):
        msgs = [{"role": "user", "content": q}]
        ids = tok.apply_chat_template(msgs, add_generation_prompt=True)["input_ids"]
        if ids != ours[i]:
            bad.append(i)
            if len(bad) <= 3:
                print(f"  {q!r}:\n    attnrl       {tok.decode(ours[i])!r}\n    transformers "
                      f"{tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)!r}")
    check(not bad and len(ours) == len(qs),
          f"{name}: attnrl's {TEMPLATES[name]} = apply_chat_template(add_generation_prompt=True): "
          f"{len(qs) - len(bad)}/{len(qs)} questions token for token")


def main(d, bin_, run, tokenizers):
    t0 = time.time()
    torch.set_num_threads(1)
    make_main(d)
    toks = attnrl_side(d, bin_, run, tokenizers)
    if failures:
        return 1
    for name in MODELS:
        check_model(d, name)
    for name in toks:
        check_tokenizer(d, name)
    print(f"hf_oracle: transformers {transformers.__version__}, {len(failures)} failed, "
          f"{time.time() - t0:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    transformers.logging.set_verbosity_error()
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:4], sys.argv[4] if len(sys.argv) == 5 else None))
