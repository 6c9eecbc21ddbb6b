#!/usr/bin/env python3
"""TRL's GRPOTrainer on the CPU doing attnrl's GRPO work, for `make bench-peers` (bench/peers.sh).

  peers_trl.py prompts SAMPLES P OUT     the prompts of attnrl's run, in its order (P per step),
                                        from its samples.jsonl (every response logged), with
                                        the answers; JSONL rows {"prompt", "answer", "step"}
  peers_trl.py check SAMPLES            the Python reward below against the reward attnrl logged
                                        for each response; prints one JSON object (agreement)
  peers_trl.py tokens DIR PROMPTS IDS  the ids the folder's tokenizer gives each prompt in transformers
                                        (special tokens added) against attnrl's (`attnrl tokenize`
                                        lines IDS, BOS prepended when the tokenizer has one)
  peers_trl.py table DIR SHAPE...       the Markdown table of bench/peers.sh from DIR's files
  peers_trl.py train --model DIR --prompts FILE --steps N --prompts-per-step P --group G
                     --max-new T --temperature X --lr LR --mini-batch M --micro-batch U
                     --threads K --out FILE.json
                                        N GRPO steps of TRL on those prompts; writes per-step
                                        timings and rewards as one JSON object

The reward is attnrl's arith verifier (src/task_arith.c, src/task.c; data.format_reward 0, no
format bonus): the text of the last <answer>...</answer> pair (after each "<answer>", the first
"</answer>" closes it, and the search goes on after it), spaces, tabs and newlines trimmed at
both ends, equal to the exact result printed as an integer: 1.0, else 0.0.

The settings map attnrl's (docs/peers.md): scale_rewards "group" (advantage grpo), loss_type
"grpo" (loss_agg seq-mean-token-mean), epsilon = epsilon_high = 0.2 (clip_low, clip_high),
beta 0 (kl_coef 0), no entropy bonus, constant learning rate, AdamW (0.9, 0.999, 1e-8, no
weight decay), gradient-norm clip 1.0, one pass over each batch. A rollout batch is P x G
completions; TRL generates it at once (steps_per_generation = P x G / micro-batch) and takes
M / U accumulated micro-batches of U per optimizer step, so each GRPO step makes P x G / M
optimizer steps, as attnrl's mini-batches do; old log-probs are then recomputed by a no-grad
forward, as attnrl's algo.recompute_logprobs. Generation is transformers' generate on the CPU
with its KV cache (no vLLM), fp32, no logging, evaluation or saving.

Timing: a GRPO step runs from the start of its first optimizer step to the end of its last
(TrainerCallback); the rollout is the time inside generate (_generate_single_turn) and its
tokens are the completion tokens up to and including EOS; the update is the rest of the step
(reward, old log-probs, forward, backward, clip, AdamW).
"""
import argparse
import json
import os
import sys
import time

WS = " \t\n\r"


def answer_text(response):
    """task_answer_find: the last <answer>...</answer> pair, or None"""
    op, cl = "<answer>", "</answer>"
    found, s = None, 0
    while True:
        o = response.find(op, s)
        if o < 0:
            break
        c = response.find(cl, o + len(op))
        if c < 0:
            break
        found = response[o + len(op):c]
        s = c + len(cl)
    return found


def arith_reward_one(response, answer):
    a = answer_text(response)
    return 1.0 if a is not None and a.strip(WS) == answer else 0.0


def arith_answer(prompt):
    """the exact result of a prompt like "17+29-24=", left to right"""
    expr = prompt.strip()
    if expr.endswith("="):
        expr = expr[:-1]
    v, num, op = 0, "", "+"
    for ch in expr + "+":
        if ch.isdigit():
            num += ch
            continue
        if ch not in "+-" or not num:
            raise ValueError(f"not an arith prompt: {prompt!r}")
        v = v + int(num) if op == "+" else v - int(num)
        num, op = "", ch
    return str(v)


def load_samples(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return [r for r in rows if "response" in r]


def cmd_prompts(samples, per_step, out):
    by_step = {}
    for r in load_samples(samples):
        ps = by_step.setdefault(r["step"], [])
        if r["prompt"] not in ps:
            ps.append(r["prompt"])
    with open(out, "w") as f:
        for step in sorted(by_step):
            ps = by_step[step]
            if len(ps) != per_step:
                sys.exit(f"peers_trl: {samples}: step {step} logged {len(ps)} distinct prompts, "
                         f"expected {per_step} (train.samples_per_step must log every response)")
            for p in ps:
                f.write(json.dumps({"prompt": p, "answer": arith_answer(p), "step": step}) + "\n")
    return 0


def cmd_check(samples):
    rows = load_samples(samples)
    agree = sum(arith_reward_one(r["response"], arith_answer(r["prompt"])) == float(r["reward"])
                for r in rows)
    # edge cases of the C verifier's rules, checked against what its code does
    cases = [("<answer>11</answer>", "11", 1.0), ("<answer> 11\n</answer>", "11", 1.0),
             ("<answer>1</answer><answer>11</answer>", "11", 1.0),
             ("<answer>11</answer><answer>1</answer>", "11", 0.0),
             ("<answer>11", "11", 0.0), ("11", "11", 0.0), ("<answer>011</answer>", "11", 0.0),
             ("<answer><answer>11</answer>", "11", 0.0), ("<answer>11</answer><answer>", "11", 1.0)]
    cases_ok = sum(arith_reward_one(t, a) == want for t, a, want in cases)
    print(json.dumps(dict(responses=len(rows), agree=agree,
                          rewarded=sum(float(r["reward"]) > 0 for r in rows),
                          edge_cases=len(cases), edge_cases_ok=cases_ok)))
    return 0 if rows and agree == len(rows) and cases_ok == len(cases) else 1


def cmd_tokens(model, prompts, ids):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model)
    ps = [json.loads(l)["prompt"] for l in open(prompts) if l.strip()]
    ours = [[int(x) for x in l.split()] for l in open(ids)]
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    same = sum(tok(p)["input_ids"] == bos + o for p, o in zip(ps, ours))
    print(json.dumps(dict(prompts=len(ps), same_ids=same)))
    return 0 if ps and same == len(ps) == len(ours) else 1


def mean(xs):
    return sum(xs) / len(xs)


def side_metrics(steps, acct):
    """steps 2.. (step 1 is a warm-up); tokens/s over the summed rollout time"""
    meas = steps[1:] or steps
    roll = sum(s["time_rollout_s"] for s in meas)
    tokens = sum(s["rollout_tokens_per_s"] * s["time_rollout_s"] for s in meas)
    return dict(best_step_s=min(s["time_step_s"] for s in meas),
                best_rollout_tokens_per_s=max(s["rollout_tokens_per_s"] for s in meas),
                time_step_s=mean([s["time_step_s"] for s in meas]),
                rollout_tokens_per_s=tokens / roll, time_rollout_s=roll / len(meas),
                time_update_s=mean([s["time_update_s"] for s in meas]),
                rss_mib=acct["maxrss_kib"] / 1024, n=len(meas),
                rewards=[s["reward_mean"] for s in steps],
                lens=[s["response_len_mean"] for s in steps])


def fmt(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def cmd_table(d, shapes):
    for shape in shapes:
        try:
            rows = [json.loads(l) for l in open(os.path.join(d, f"runs/{shape}/metrics.jsonl"))]
            trl_out = json.load(open(os.path.join(d, f"trl-{shape}.json")))
            acct_a = json.load(open(os.path.join(d, f"attnrl-{shape}.acct.json")))
            acct_t = json.load(open(os.path.join(d, f"trl-{shape}.acct.json")))
            info = json.load(open(os.path.join(d, f"{shape}.json")))
        except (OSError, ValueError) as e:
            sys.exit(f"peers: cannot read the results of '{shape}': {e}")
        rows = [r for r in rows if "time_step_s" in r]
        a = side_metrics([dict(r, time_update_s=r["time_step_s"] - r["time_rollout_s"])
                          for r in rows], acct_a)
        t = side_metrics(trl_out["per_step"], acct_t)
        print(f"\n### {info['title']}\n")
        print(info["what"] + f" Steps 2..{a['n'] + 1} averaged (step 1 is a warm-up).\n")
        print("| measure | attnrl | TRL GRPOTrainer | attnrl / TRL |")
        print("|---|---:|---:|---:|")
        for label, k, higher in [("seconds per GRPO step", "time_step_s", False),
                                 ("GRPO steps per second", None, True),
                                 ("rollout tokens/s", "rollout_tokens_per_s", True),
                                 ("rollout seconds per step", "time_rollout_s", False),
                                 ("update seconds per step (the rest of the step)",
                                  "time_update_s", False),
                                 ("peak RSS, MiB", "rss_mib", False)]:
            x, y = (1 / a["time_step_s"], 1 / t["time_step_s"]) if k is None else (a[k], t[k])
            ratio = x / y if higher else y / x
            word = "faster" if k != "rss_mib" else "less"
            print(f"| {label} | {fmt(x)} | {fmt(y)} | {ratio:.2f}x {word} |")
        print(f"\nBest measured step (less sensitive to other processes): "
              f"{fmt(a['best_step_s'])} s vs {fmt(t['best_step_s'])} s "
              f"({t['best_step_s'] / a['best_step_s']:.2f}x); rollout tokens/s "
              f"{fmt(a['best_rollout_tokens_per_s'])} vs {fmt(t['best_rollout_tokens_per_s'])} "
              f"({a['best_rollout_tokens_per_s'] / t['best_rollout_tokens_per_s']:.2f}x).")
        r2 = lambda xs: ", ".join(f"{x:.3f}" for x in xs)
        print(f"\nMean reward per step, attnrl: {r2(a['rewards'])}; TRL: {r2(t['rewards'])}. "
              f"Mean response length (tokens, EOS included), attnrl: {r2(a['lens'])}; TRL: "
              f"{r2(t['lens'])}.")
        oa = acct_a["other_cpu_s"] / max(1e-9, acct_a["wall_s"])
        ot = acct_t["other_cpu_s"] / max(1e-9, acct_t["wall_s"])
        print(f"\nWhole processes (start-up included): attnrl {acct_a['wall_s']:.0f} s, TRL "
              f"{acct_t['wall_s']:.0f} s wall. Other processes kept {oa:.2f} of the "
              f"{acct_a['cores']} cores busy during the attnrl run, {ot:.2f} during TRL's; "
              f"load average before: {info['load']}.")
    return 0


def cmd_train(a):
    import torch
    torch.set_num_threads(a.threads)
    import transformers
    import trl
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    t_load = time.perf_counter()
    rows = [json.loads(l) for l in open(a.prompts) if l.strip()]
    rows = rows[:a.steps * a.prompts_per_step]
    if len(rows) < a.steps * a.prompts_per_step:
        sys.exit(f"peers_trl: {a.prompts} holds {len(rows)} prompts, {a.steps} steps need "
                 f"{a.steps * a.prompts_per_step}")
    batch = a.prompts_per_step * a.group
    if a.mini_batch % a.micro_batch or batch % a.mini_batch:
        sys.exit("peers_trl: the mini-batch must split into micro-batches and the batch into "
                 "mini-batches")
    opt_per_step = batch // a.mini_batch
    tok = AutoTokenizer.from_pretrained(a.model)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
    data = Dataset.from_list([{"prompt": r["prompt"], "answer": r["answer"]} for r in rows])

    rewards = []

    def arith_reward(completions, answer, **kwargs):
        out = [arith_reward_one(c, x) for c, x in zip(completions, answer)]
        rewards.append(sum(out) / len(out))
        return out

    cfg = GRPOConfig(
        output_dir=a.workdir, use_cpu=True, bf16=False, fp16=False, seed=a.seed,
        per_device_train_batch_size=a.micro_batch,
        gradient_accumulation_steps=a.mini_batch // a.micro_batch,
        steps_per_generation=batch // a.micro_batch, num_generations=a.group,
        max_steps=a.steps * opt_per_step, shuffle_dataset=False, num_iterations=1,
        max_completion_length=a.max_new, temperature=a.temperature, top_p=1.0, top_k=0,
        generation_kwargs={"use_cache": True},
        learning_rate=a.lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, max_grad_norm=1.0,
        beta=0.0, use_bias_correction_kl=False, epsilon=0.2, epsilon_high=0.2,
        loss_type="grpo", scale_rewards="group", entropy_coef=0.0, mask_truncated_completions=False,
        use_vllm=False, report_to="none", logging_strategy="no", save_strategy="no",
        eval_strategy="no", disable_tqdm=True, gradient_checkpointing=False, log_completions=False, dataloader_num_workers=0)

    marks = dict(begin=[], end=[], gen_s=[], gen_tokens=[])

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            marks["begin"].append(time.perf_counter())

        def on_step_end(self, args, state, control, **kw):
            marks["end"].append(time.perf_counter())

    trainer = GRPOTrainer(model=model, reward_funcs=arith_reward, args=cfg, train_dataset=data,
                          processing_class=tok, callbacks=[Clock()])
    inner = trainer._generate_single_turn

    def timed_generate(*args, **kwargs):
        t0 = time.perf_counter()
        ids, logprobs = inner(*args, **kwargs)
        marks["gen_s"].append(time.perf_counter() - t0)
        marks["gen_tokens"].append(sum(len(x) for x in ids))
        return ids, logprobs

    trainer._generate_single_turn = timed_generate
    t_load = time.perf_counter() - t_load
    trainer.train()

    steps = []
    for k in range(a.steps):
        b, e = marks["begin"][k * opt_per_step], marks["end"][k * opt_per_step + opt_per_step - 1]
        g, n = marks["gen_s"][k], marks["gen_tokens"][k]
        steps.append(dict(step=k + 1, time_step_s=e - b, time_rollout_s=g, time_update_s=e - b - g,
                          rollout_tokens=n, rollout_tokens_per_s=n / g, reward_mean=rewards[k],
                          response_len_mean=n / batch))
    out = dict(torch=torch.__version__, transformers=transformers.__version__,
               trl=trl.__version__, threads=torch.get_num_threads(), load_s=t_load,
               parameters=sum(p.numel() for p in model.parameters()),
               optimizer_steps=trainer.state.global_step, per_step=steps)
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "prompts":
        return cmd_prompts(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        return cmd_check(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[1] == "tokens":
        return cmd_tokens(*sys.argv[2:])
    if len(sys.argv) >= 4 and sys.argv[1] == "table":
        return cmd_table(sys.argv[2], sys.argv[3:])
    if len(sys.argv) > 1 and sys.argv[1] == "train":
        p = argparse.ArgumentParser(prog="peers_trl.py train")
        for name, typ in [("--model", str), ("--prompts", str), ("--out", str),
                          ("--workdir", str), ("--steps", int), ("--prompts-per-step", int),
                          ("--group", int), ("--max-new", int), ("--temperature", float),
                          ("--lr", float), ("--mini-batch", int), ("--micro-batch", int),
                          ("--threads", int), ("--seed", int)]:
            p.add_argument(name, type=typ, required=name not in ("--workdir", "--seed"))
        a = p.parse_args(sys.argv[2:])
        a.workdir = a.workdir or os.path.dirname(os.path.abspath(a.out))
        a.seed = 1 if a.seed is None else a.seed
        return cmd_train(a)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
