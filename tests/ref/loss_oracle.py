#!/usr/bin/env python3
"""attnrl's GRPO advantages and loss against verl's and TRL's own code (tests/test_loss_oracle.sh).

  loss_oracle.py run HELPER DIR      builds the batches in DIR, runs HELPER (tests/loss_oracle.c:
                                     attnrl's src/grpo_advantage.c and src/torch/grpo_loss.c) on
                                     them, runs verl and TRL on the same tensors, compares;
                                     exit status 3 when verl or TRL does not import

The rollout batch: 4 prompts x 4 responses, 12 positions, response lengths 1..12 (the rest is
padding holding finite junk, so that a missing mask shows), rewards with a zero-std group,
log-probs whose ratios fall inside and outside the clip range (some above 3 with negative
advantages), reference log-probs for k3, entropies, and per-token credit gamma in {1, 1.5}.
A second batch ("wide") puts the reference far away (k3 up to ~50).

Compared, all in fp32, within 1e-6 (TOL):
  verl (verl.trainer.ppo.core_algos and verl.workers.utils.losses.ppo_loss, the loss of verl's
  actor worker): compute_grpo_outcome_advantage with norm_adv_by_std_in_grpo true and false;
  the vanilla policy loss per token (compute_policy_loss_vanilla: its per-token values are the
  gradient of a token-sum with respect to rollout_is_weights); kl_penalty "low_var_kl" per
  token; agg_loss token-mean / seq-mean-token-mean / seq-mean-token-sum-norm (and
  seq-mean-token-sum = attnrl's sum-norm x max_new); ppo_loss's value and its gradient with
  respect to the log-probs and the entropies, with KL loss and entropy bonus.
  TRL (GRPOTrainer._compute_loss, TRL's own method, on an instance made with object.__new__
  whose model forward, _get_per_token_logps_and_entropies, returns the batch's log-probs and
  entropies): loss_type grpo, dr_grpo, dapo with epsilon / epsilon_high, beta and entropy_coef:
  the loss value and its gradients.

Conventions that differ, each checked here as a stated mapping or a stated difference:
  - verl's dual clip: compute_policy_loss_vanilla caps -A * ratio at -A * clip_ratio_c (3.0) for
    A < 0; attnrl and TRL have no such cap: attnrl = verl with clip_ratio_c = 1e9. With 3.0 the
    per-token losses differ exactly where A < 0 and ratio > 3 (checked).
  - verl's low_var_kl clamps k3 to [-10, 10]; attnrl and TRL do not: equal where k3 <= 10, verl
    10 where attnrl's k3 > 10 (the wide batch).
  - Dr. GRPO's constant: attnrl divides by rollout.max_new_tokens, as TRL's dr_grpo divides by
    max_completion_length; verl's seq-mean-token-sum-norm divides by loss_scale_factor, the
    padded response length when unset: attnrl = verl with loss_scale_factor = max_new_tokens.
  - seq-mean over a mini-batch: attnrl and TRL count every sequence; verl counts the sequences
    with a response token, or global_batch_size when given (its trainer passes the mini-batch
    size): attnrl = verl with global_batch_size = the mini-batch's sequences.
  - the std: N - 1 in attnrl, verl (torch.std) and TRL (trl's nanstd, checked), + 1e-6 in attnrl
    and verl, + 1e-4 in TRL (scale_rewards="group"; its advantage code is inline in
    _generate_and_score_completions and not run here). drgrpo = verl norm_adv_by_std_in_grpo
    false = TRL scale_rewards "none".
  - a group of one response: attnrl gives 0 (no baseline); verl uses mean 0, std 1, so
    r / (1 + 1e-6) (checked).
  - TRL's entropy bonus is always a token mean over the micro-batch, whatever the loss type;
    attnrl's and verl's use the loss aggregation: equal for dapo / token-mean (checked), not
    for grpo / seq-mean-token-mean (checked to differ).
  - TRL multiplies the KL term by the ratio pi / pi_old by default (use_bias_correction_kl, the
    DeepSeek-V3.2 correction); attnrl and verl do not: attnrl = TRL with
    use_bias_correction_kl=False (the default is checked to differ).
  - where the KL enters: attnrl, verl's use_kl_loss and TRL's beta add it to the loss per token;
    verl's use_kl_in_reward (a reward penalty) is another algorithm and is not compared.
"""
import os
import subprocess
import sys
import tempfile
import types
from collections import defaultdict

try:
    import numpy as np
except ImportError:  # reported as a missing peer (exit status 3)
    np = None

TOL = 1e-6
N_GROUPS, G, T, MAX_NEW, P = 4, 4, 12, 16, 3
B = N_GROUPS * G

# name, advantage, loss_agg, clip_low, clip_high, kl_coef, entropy_coef, use_gamma
CONFIGS = [
    ("tmm", "grpo", "seq-mean-token-mean", 0.2, 0.2, 0.0, 0.0, 0),
    ("tm", "grpo", "token-mean", 0.2, 0.28, 0.0, 0.0, 0),
    ("sn", "drgrpo", "seq-mean-token-sum-norm", 0.2, 0.28, 0.0, 0.0, 0),
    ("k3", "grpo", "token-mean", 0.2, 0.28, 1.0, 0.0, 0),
    ("tmm_all", "grpo", "seq-mean-token-mean", 0.1, 0.3, 0.05, 0.02, 1),
    ("tm_all", "grpo", "token-mean", 0.2, 0.28, 0.05, 0.02, 1),
    ("sn_all", "drgrpo", "seq-mean-token-sum-norm", 0.2, 0.28, 0.05, 0.02, 1),
    ("tmm_kl", "grpo", "seq-mean-token-mean", 0.2, 0.28, 0.04, 0.0, 1),
    ("sn_kl", "grpo", "seq-mean-token-sum-norm", 0.2, 0.28, 0.04, 0.0, 0),
]
WIDE_CONFIGS = [("tm", "grpo", "token-mean", 0.2, 0.28, 0.0, 0.0, 0),
                ("k3", "grpo", "token-mean", 0.2, 0.28, 1.0, 0.0, 0),
                ("tm_kl", "grpo", "token-mean", 0.2, 0.28, 0.1, 0.0, 0)]
TRL_LOSS = {"seq-mean-token-mean": "grpo", "seq-mean-token-sum-norm": "dr_grpo", "token-mean": "dapo"}


def import_peers():
    """verl's core_algos and actor loss, TRL's GRPOTrainer. verl's package __init__ imports Ray
    (verl.protocol) for its distributed runtime; none of the code run here uses it, and Ray is
    hundreds of MB, so when it is not installed a stand-in module with the one name read at
    import time (ray.ObjectRef, a type annotation) takes its place."""
    import importlib.util
    if importlib.util.find_spec("ray") is None:
        ray = types.ModuleType("ray")
        ray.ObjectRef = type("ObjectRef", (), {})
        sys.modules["ray"] = ray
    import torch
    import trl
    import verl
    from trl import GRPOConfig, GRPOTrainer
    from trl.trainer.utils import nanstd
    from verl.trainer.ppo import core_algos
    from verl.workers.config import ActorConfig
    from verl.workers.utils.losses import ppo_loss
    return types.SimpleNamespace(torch=torch, trl=trl, verl=verl, ca=core_algos, ActorConfig=ActorConfig,
                                 ppo_loss=ppo_loss, GRPOConfig=GRPOConfig, GRPOTrainer=GRPOTrainer,
                                 nanstd=nanstd)


def make_batch(seed, wide=False):
    rng = np.random.default_rng(seed)
    lens = rng.integers(1, T + 1, B).astype(np.int32)
    lens[0], lens[1] = T, 1
    mask = (np.arange(T)[None, :] < lens[:, None]).astype(np.float32)
    rewards = np.concatenate([[1, 0, 0, 1], [0.5] * 4, np.round(rng.uniform(0, 1, 4) * 8) / 8,
                              [1, 0, 0, 0]]).astype(np.float32)
    old = -rng.uniform(0.05, 3.0, (B, T))
    delta = rng.normal(0, 0.25, (B, T))
    big = rng.random((B, T)) < 0.12  # ratios far out: above 3 or below 0.3
    old[big] = -rng.uniform(2.0, 4.0, big.sum())
    delta[big] = rng.choice([-1, 1], big.sum()) * rng.uniform(1.2, 1.6, big.sum())
    logp = old + delta
    if wide:
        ref = logp + rng.uniform(-4.0, 4.0, (B, T))
    else:
        ref = logp + np.clip(rng.normal(0, 0.6, (B, T)), -2.5, 2.5)
    f32 = lambda x: np.ascontiguousarray(x, dtype=np.float32)
    return {
        "tokens": rng.integers(0, 1000, (B, P + T)).astype(np.int64),
        "mask": mask, "lens": lens, "rewards": rewards,
        "old_logp": f32(old), "logp": f32(logp), "ref_logp": f32(ref),
        "entropy": f32(rng.uniform(0.0, 3.0, (B, T))),
        "gamma": f32(np.where(rng.random((B, T)) < 0.4, 1.5, 1.0)),
        "group": np.repeat(np.arange(N_GROUPS), G).astype(np.int32),
    }


def run_attnrl(helper, path, batch, configs, out):
    from safetensors.numpy import load_file, save_file
    meta = {"G": str(G), "max_new": str(MAX_NEW),
            "configs": ";".join(",".join(str(v) for v in c) for c in configs)}
    save_file(batch, path, metadata=meta)
    r = subprocess.run([helper, path, out], capture_output=True, text=True)
    if r.returncode:
        sys.exit("loss_oracle: %s failed: %s%s" % (helper, r.stdout, r.stderr))
    print(r.stdout.strip())
    return load_file(out)


class Checks:
    def __init__(self):
        self.rows, self.failed = [], 0

    def near(self, what, got, want, tol=TOL):
        err = float(np.max(np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))))
        ok = err <= tol
        self.failed += not ok
        self.rows.append("%-4s %-62s max err %.2e" % ("ok" if ok else "FAIL", what, err))

    def true(self, what, cond):
        self.failed += not cond
        self.rows.append("%-4s %s" % ("ok" if cond else "FAIL", what))


def grad_or_zeros(t):
    return t.grad.numpy() if t.grad is not None else np.zeros(tuple(t.shape), np.float32)


def actor_config(pe, c, clip_ratio_c=1e9):
    name, adv, agg, lo, hi, kl, ent, _ = c
    return pe.ActorConfig(strategy="fsdp", clip_ratio=lo, clip_ratio_low=lo, clip_ratio_high=hi,
                          clip_ratio_c=clip_ratio_c, loss_agg_mode=agg, loss_scale_factor=MAX_NEW,
                          use_kl_loss=kl != 0.0, kl_loss_coef=kl, kl_loss_type="low_var_kl",
                          entropy_coeff=ent, rollout_n=G, ppo_mini_batch_size=B // G,
                          ppo_micro_batch_size_per_gpu=B)


def verl_advantages(pe, bt, norm):
    torch = pe.torch
    mask = torch.from_numpy(bt["mask"])
    scores = torch.zeros(B, T)
    scores[torch.arange(B), torch.from_numpy(bt["lens"]).long() - 1] = torch.from_numpy(bt["rewards"])
    index = np.array(["p%d" % g for g in bt["group"]], dtype=object)
    adv, _ = pe.ca.compute_grpo_outcome_advantage(scores, mask, index, norm_adv_by_std_in_grpo=norm)
    return adv


def verl_token_pg(pe, bt, adv_tok, c, clip_ratio_c):
    """compute_policy_loss_vanilla's per-token losses (masked): the gradient of its token-sum
    aggregation with respect to rollout_is_weights (ones)"""
    torch = pe.torch
    w = torch.ones(B, T, requires_grad=True)
    loss, _ = pe.ca.compute_policy_loss_vanilla(
        old_log_prob=torch.from_numpy(bt["old_logp"]), log_prob=torch.from_numpy(bt["logp"]),
        advantages=adv_tok, response_mask=torch.from_numpy(bt["mask"]).bool(), loss_agg_mode="token-sum",
        config=actor_config(pe, c, clip_ratio_c), rollout_is_weights=w)
    loss.backward()
    return w.grad.numpy()


def verl_ppo_loss(pe, bt, adv_tok, c):
    """verl's actor loss (verl.workers.utils.losses.ppo_loss) on the batch: log-probs and
    entropies in its unpadded layout (prompt + response tokens of each sequence, shifted by one)"""
    torch = pe.torch
    from tensordict import TensorDict
    from verl.utils import tensordict_utils as tu
    lp = torch.from_numpy(bt["logp"]).clone().requires_grad_()
    ent = torch.from_numpy(bt["entropy"]).clone().requires_grad_()
    lens = bt["lens"]

    def unpad(x):
        parts = []
        for b in range(B):
            parts += [torch.zeros(P - 1), x[b, :lens[b]], torch.zeros(1)]
        return torch.cat(parts)
    mask = torch.from_numpy(bt["mask"])
    attn = torch.cat([torch.ones(B, P), mask], 1).long()
    data = TensorDict({"prompts": torch.from_numpy(bt["tokens"][:, :P]),
                       "responses": torch.from_numpy(bt["tokens"][:, P:]), "attention_mask": attn,
                       "response_mask": mask, "old_log_probs": torch.from_numpy(bt["old_logp"]),
                       "advantages": adv_tok, "ref_log_prob": torch.from_numpy(bt["ref_logp"])},
                      batch_size=[B])
    tu.assign_non_tensor(data, dp_size=1, batch_num_tokens=int(lens.sum()), global_batch_size=B)
    loss, _ = pe.ppo_loss(actor_config(pe, c), {"log_probs": unpad(lp), "entropy": unpad(ent)}, data)
    loss.backward()
    return float(loss.detach()), lp.grad.numpy(), grad_or_zeros(ent)


def trl_loss(pe, bt, adv_tok, loss_type, lo, hi, beta, ent_coef, bias_kl=False):
    """TRL's GRPOTrainer._compute_loss on the batch: an instance made without __init__ (no model,
    no data), given the attributes that __init__ sets from a GRPOConfig; the model forward
    returns the batch's log-probs and entropies"""
    torch = pe.torch
    with tempfile.TemporaryDirectory() as tmp:
        args = pe.GRPOConfig(output_dir=tmp, loss_type=loss_type, epsilon=lo, epsilon_high=hi, beta=beta,
                             entropy_coef=ent_coef, max_completion_length=MAX_NEW, num_generations=G,
                             per_device_train_batch_size=B, report_to="none", use_cpu=True,
                             use_bias_correction_kl=bias_kl)
    tr = object.__new__(pe.GRPOTrainer)
    tr.args = args
    tr.loss_type, tr.beta, tr.max_completion_length = args.loss_type, args.beta, args.max_completion_length
    tr.epsilon_low = args.epsilon
    tr.epsilon_high = args.epsilon_high if args.epsilon_high is not None else args.epsilon
    tr.importance_sampling_level = args.importance_sampling_level
    tr.off_policy_mask_threshold = args.off_policy_mask_threshold
    tr.top_entropy_quantile = args.top_entropy_quantile
    tr.use_vllm, tr.vllm_importance_sampling_correction = False, args.vllm_importance_sampling_correction
    tr.entropy_coef, tr.use_adaptive_entropy = args.entropy_coef, args.use_adaptive_entropy
    tr._entropy_bonus_enabled = tr.entropy_coef != 0.0 or tr.use_adaptive_entropy
    tr._last_world_entropy, tr._entropy_window_stats = float("inf"), None
    tr.aux_loss_enabled = False
    tr.current_gradient_accumulation_steps = 1
    tr.model = types.SimpleNamespace(training=True)
    tr.accelerator = types.SimpleNamespace(num_processes=1, sync_gradients=True, gather=lambda x: x,
                                           gather_for_metrics=lambda x: x,
                                           reduce=lambda x, reduction="sum": x)
    tr._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    lp = torch.from_numpy(bt["logp"]).clone().requires_grad_()
    ent = torch.from_numpy(bt["entropy"]).clone().requires_grad_()
    tr._get_per_token_logps_and_entropies = lambda *a, **k: (lp, ent, None)
    mask = torch.from_numpy(bt["mask"]).long()
    inputs = {"prompt_ids": torch.from_numpy(bt["tokens"][:, :P]), "prompt_mask": torch.ones(B, P).long(),
              "completion_ids": torch.from_numpy(bt["tokens"][:, P:]), "completion_mask": mask,
              "advantages": adv_tok, "old_per_token_logps": torch.from_numpy(bt["old_logp"]),
              "ref_per_token_logps": torch.from_numpy(bt["ref_logp"]),
              "num_items_in_batch": torch.tensor(float(bt["lens"].sum()))}
    loss = tr._compute_loss(None, inputs)
    loss.backward()
    return float(loss.detach()), lp.grad.numpy(), grad_or_zeros(ent)


def compare_main(pe, bt, res, ck):
    torch = pe.torch
    mask = bt["mask"]
    cfg = {c[0]: c for c in CONFIGS}
    # advantages: attnrl's A per sequence against verl's per token
    vadv = {}
    for mode, norm in (("grpo", True), ("drgrpo", False)):
        name = next(c[0] for c in CONFIGS if c[1] == mode)
        vadv[mode] = verl_advantages(pe, bt, norm)
        ck.near("advantage %-6s = verl grpo norm_adv_by_std_in_grpo=%s" % (mode, norm),
                res[name + ".adv"][:, None] * mask, vadv[mode].numpy())
    grouped = torch.from_numpy(bt["rewards"]).view(N_GROUPS, G)
    ck.near("std: TRL's nanstd = torch.std (N - 1, verl's, matched above)", pe.nanstd(grouped, dim=1),
            torch.std(grouped, dim=1))
    single = verl_advantages_single(pe, bt)
    ck.true("group of one: attnrl 0, verl r / (1 + 1e-6)",
            np.all(res["adv_single"] == 0) and np.allclose(single, bt["rewards"] / (1 + 1e-6), atol=TOL))

    def adv_tok(name):
        c = cfg[name]
        a = vadv[c[1]]  # verl's advantages, (B, T), zero on padding
        return a * torch.from_numpy(bt["gamma"]) if c[7] else a

    # the clipped surrogate per token
    for name in ("tmm", "tm", "sn"):
        c = cfg[name]
        v = verl_token_pg(pe, bt, adv_tok(name), c, 1e9)
        ck.near("surrogate/token %-4s clip %.2f/%.2f = verl vanilla, clip_ratio_c 1e9" % (name, c[3], c[4]),
                res[name + ".tok"] * mask, v)
    v3 = verl_token_pg(pe, bt, adv_tok("tm"), cfg["tm"], 3.0)
    ratio = np.exp(bt["logp"].astype(np.float64) - bt["old_logp"])
    a_tok = adv_tok("tm").numpy()
    dual = (a_tok < 0) & (ratio > 3.0) & (mask > 0)
    diff = np.abs(res["tm.tok"] * mask - v3) > TOL
    ck.true("verl's dual clip 3.0 differs on exactly the %d tokens with A < 0, ratio > 3" % dual.sum(),
            dual.sum() > 0 and np.array_equal(diff, dual))
    # k3 per token: (surrogate + 1 * k3) - surrogate, both attnrl
    kl_v = pe.ca.kl_penalty(torch.from_numpy(bt["logp"]), torch.from_numpy(bt["ref_logp"]), "low_var_kl")
    ck.near("k3 / token = verl kl_penalty low_var_kl", (res["k3.tok"] - res["tm.tok"]) * mask,
            kl_v.numpy() * mask)
    # aggregations alone: verl's agg_loss over attnrl's token losses
    for name in ("tmm", "tm", "sn"):
        c = cfg[name]
        v = pe.ca.agg_loss(torch.from_numpy(res[name + ".tok"]), torch.from_numpy(mask), c[2],
                           global_batch_size=B, loss_scale_factor=MAX_NEW)
        ck.near("aggregation %-24s = verl agg_loss" % c[2], res[name + ".loss"], float(v))
    v = pe.ca.agg_loss(torch.from_numpy(res["sn.tok"]), torch.from_numpy(mask), "seq-mean-token-sum",
                       global_batch_size=B)
    ck.near("sum-norm = verl agg_loss seq-mean-token-sum / max_new", res["sn.loss"], float(v) / MAX_NEW)
    v = pe.ca.agg_loss(torch.from_numpy(res["sn.tok"]), torch.from_numpy(mask), "seq-mean-token-sum-norm",
                       global_batch_size=B)
    ck.true("verl's sum-norm without loss_scale_factor divides by the padded length %d, not max_new %d"
            % (T, MAX_NEW), abs(float(v) * T / MAX_NEW - res["sn.loss"]) <= TOL)
    # whole loss: verl's actor loss
    for name in ("tmm", "tm", "sn", "tmm_all", "tm_all", "sn_all", "tmm_kl", "sn_kl"):
        c = cfg[name]
        loss, dlp, dent = verl_ppo_loss(pe, bt, adv_tok(name), c)
        what = "%s/%s kl %.2f ent %.2f%s" % (c[1], c[2], c[5], c[6], " gamma" if c[7] else "")
        ck.near("verl ppo_loss       %-44s" % what, res[name + ".loss"], loss)
        ck.near("verl d/dlogp        %-44s" % what, res[name + ".dlogp"], dlp)
        ck.near("verl d/dentropy     %-44s" % what, res[name + ".dent"], dent)
    # TRL's loss
    for name in ("tmm", "tm", "sn", "tm_all", "tmm_kl", "sn_kl"):
        c = cfg[name]
        lt = TRL_LOSS[c[2]]
        loss, dlp, dent = trl_loss(pe, bt, adv_tok(name), lt, c[3], c[4], c[5], c[6])
        what = "%s eps %.2f/%.2f beta %.2f ent %.2f%s" % (lt, c[3], c[4], c[5], c[6], " gamma" if c[7] else "")
        ck.near("TRL _compute_loss   %-44s" % what, res[name + ".loss"], loss)
        ck.near("TRL d/dlogp         %-44s" % what, res[name + ".dlogp"], dlp)
        ck.near("TRL d/dentropy      %-44s" % what, res[name + ".dent"], dent)
    c = cfg["tmm_all"]
    loss, _, _ = trl_loss(pe, bt, adv_tok("tmm_all"), "grpo", c[3], c[4], c[5], c[6])
    c = cfg["tmm_kl"]
    loss, _, _ = trl_loss(pe, bt, adv_tok("tmm_kl"), "grpo", c[3], c[4], c[5], c[6], bias_kl=True)
    ck.true("TRL's default use_bias_correction_kl (KL x ratio) differs from attnrl's plain k3",
            abs(loss - res["tmm_kl.loss"]) > 1e-4)
    ck.true("TRL grpo's entropy bonus (a token mean) differs from attnrl's seq-mean-token-mean one",
            abs(loss - res["tmm_all.loss"]) > 1e-4)


def verl_advantages_single(pe, bt):
    torch = pe.torch
    scores = torch.zeros(B, T)
    scores[torch.arange(B), torch.from_numpy(bt["lens"]).long() - 1] = torch.from_numpy(bt["rewards"])
    index = np.array(["s%d" % i for i in range(B)], dtype=object)
    adv, _ = pe.ca.compute_grpo_outcome_advantage(scores, torch.from_numpy(bt["mask"]), index)
    return adv[torch.arange(B), 0].numpy()


def compare_wide(pe, bt, res, ck):
    torch = pe.torch
    mask = bt["mask"]
    kl_v = pe.ca.kl_penalty(torch.from_numpy(bt["logp"]), torch.from_numpy(bt["ref_logp"]), "low_var_kl").numpy()
    k3 = (res["k3.tok"] - res["tm.tok"]) * mask
    big = (k3 > 10) & (mask > 0)
    ck.true("wide: verl clamps k3 at 10 on the %d tokens where it is larger, equal elsewhere" % big.sum(),
            big.sum() > 0 and np.allclose(kl_v[big], 10.0) and
            np.max(np.abs((k3 - kl_v * mask)[~big])) <= TOL)
    adv = verl_advantages(pe, bt, True)
    loss, dlp, _ = trl_loss(pe, bt, adv, "dapo", 0.2, 0.28, 0.1, 0.0)
    ck.near("wide: TRL dapo beta 0.10 (unclamped k3 up to %.1f)" % float(k3.max()),
            res["tm_kl.loss"], loss)
    ck.near("wide: TRL d/dlogp", res["tm_kl.dlogp"], dlp)


def main():
    if len(sys.argv) != 4 or sys.argv[1] != "run":
        sys.exit(__doc__)
    helper, d = sys.argv[2], sys.argv[3]
    try:
        if np is None:
            raise ImportError("No module named 'numpy'")
        pe = import_peers()
    except ImportError as e:
        print("loss_oracle: %s" % e)
        return 3
    print("loss_oracle: verl %s, trl %s, torch %s" % (pe.verl.__version__, pe.trl.__version__,
                                                     pe.torch.__version__))
    ck = Checks()
    bt = make_batch(1)
    res = run_attnrl(helper, os.path.join(d, "batch.safetensors"), bt, CONFIGS, os.path.join(d, "attnrl.safetensors"))
    compare_main(pe, bt, res, ck)
    bw = make_batch(2, wide=True)
    rw = run_attnrl(helper, os.path.join(d, "wide.safetensors"), bw, WIDE_CONFIGS, os.path.join(d, "wide_out.safetensors"))
    compare_wide(pe, bw, rw, ck)
    print("\n".join(ck.rows))
    print("loss_oracle: %d checks against verl %s and TRL %s, %d failed" % (len(ck.rows), pe.verl.__version__,
                                                                            pe.trl.__version__, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
