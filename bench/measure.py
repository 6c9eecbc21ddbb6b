"""Helpers of bench/run.sh (standard library only).

  measure.py run NAME -- CMD...   runs CMD with stdout to NAME.out and stderr to NAME.err, and
                                  writes NAME.acct.json: wall seconds, the CPU seconds CMD used,
                                  and the CPU seconds every other process on the machine used
                                  meanwhile (from /proc/stat): the contention during the run,
                                  and CMD's peak resident memory (maxrss_kib).
  measure.py table DIR T...       one Markdown table per thread count from DIR's files: attnrl
                                  against the reference's ref-tT (and, when present, ref2-tT:
                                  the same reference under another torch), a column pair each.
"""
import json
import os
import resource
import subprocess
import sys
import time


def busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    return sum(v[:8]) - v[3] - v[4]


def run(name, cmd):
    hz = os.sysconf("SC_CLK_TCK")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, t0 = busy_jiffies(), time.monotonic()
    with open(name + ".out", "w") as out, open(name + ".err", "w") as err:
        rc = subprocess.call(cmd, stdout=out, stderr=err)
    b1, t1 = busy_jiffies(), time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    total = (b1 - b0) / hz
    with open(name + ".acct.json", "w") as f:
        json.dump(dict(cmd=cmd, rc=rc, wall_s=t1 - t0, own_cpu_s=own,
                       other_cpu_s=max(0.0, total - own), cores=os.cpu_count(),
                       maxrss_kib=ru1.ru_maxrss), f)
    return rc


def attnrl_metrics(path, skip):
    try:
        rows = [json.loads(l) for l in open(path) if l.strip()]
    except (OSError, ValueError) as e:
        sys.exit(f"bench: cannot read attnrl's metrics: {e}")
    rows = [r for r in rows if "time_step_s" in r]
    meas = rows[skip:] if len(rows) > skip else rows
    if not meas:
        sys.exit(f"bench: no step records in {path}")
    short = [r["step"] for r in rows if r.get("response_len_mean") != 64]
    if short:
        sys.exit(f"bench: {path}: responses are not all 64 tokens long at step(s) {short} "
                 f"(configs/bench.yaml needs rollout.stop \"\" and rollout.ignore_eos true)")
    n = len(meas)
    tokens = sum(r["rollout_tokens_per_s"] * r["time_rollout_s"] for r in meas)
    roll = sum(r["time_rollout_s"] for r in meas)
    return dict(rollout_tokens_per_s=tokens / roll, time_rollout_s=roll / n,
                best_rollout_tokens_per_s=max(r["rollout_tokens_per_s"] for r in meas),
                best_time_step_s=min(r["time_step_s"] for r in meas),
                best_time_update_s=min(r["time_update_s"] for r in meas),
                time_update_s=sum(r["time_update_s"] for r in meas) / n,
                time_step_s=sum(r["time_step_s"] for r in meas) / n, measured_steps=n,
                logp_mismatch=sum(r.get("logp_mismatch", 0.0) for r in meas) / n)


def fmt(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def others(acct):
    # cores that other processes kept busy, on average, while this run ran
    return acct["other_cpu_s"] / max(1e-9, acct["wall_s"])


def ref_metrics(r):
    rs = r["per_step"][1:] or r["per_step"]
    return dict(r, best_rollout_tokens_per_s=max(x["rollout_tokens_per_s"] for x in rs),
                best_time_step_s=min(x["time_step_s"] for x in rs),
                best_time_update_s=min(x["time_update_s"] for x in rs),
                logp_mismatch=sum(s["logp_mismatch"] for s in r["per_step"]) / len(r["per_step"]))


def table(d, threads):
    for t in threads:
        a = attnrl_metrics(os.path.join(d, f"runs/bench-t{t}/metrics.jsonl"), 1)
        refs, accts = [], [json.load(open(os.path.join(d, f"attnrl-t{t}.acct.json")))]
        # ref: the system's torch; ref2: the environment's (a column each when present)
        for name in ("ref", "ref2"):
            path = os.path.join(d, f"{name}-t{t}.out")
            if name == "ref2" and not os.path.exists(path):
                continue
            try:
                refs.append(ref_metrics(json.load(open(path))))
                accts.append(json.load(open(os.path.join(d, f"{name}-t{t}.acct.json"))))
            except (OSError, ValueError) as e:
                sys.exit(f"bench: cannot read the reference's results: {e}")
        print(f"\n### {t} thread{'s' if t != '1' else ''} "
              f"(steps 2..{a['measured_steps'] + 1} averaged; step 1 is a warm-up)\n")
        print("| measure | attnrl | " + " | ".join(
            f"PyTorch eager (torch {r['torch'].split('+')[0]}) | ratio" for r in refs) + " |")
        print("|---|---:|" + "---:|---:|" * len(refs))
        rows = [("rollout tokens/s", "rollout_tokens_per_s", True),
                ("seconds per GRPO step (rollout + update)", "time_step_s", False),
                ("rollout seconds per step", "time_rollout_s", False),
                ("update seconds per step (old log-probs + optimizer steps)",
                 "time_update_s", False)]
        for label, k, higher in rows:
            cells = [f"{fmt(r[k])} | {(a[k] / r[k] if higher else r[k] / a[k]):.2f}x" for r in refs]
            print(f"| {label} | {fmt(a[k])} | " + " | ".join(cells) + " |")
        for r in refs:
            best = [("rollout tokens/s", a["best_rollout_tokens_per_s"],
                     r["best_rollout_tokens_per_s"], True),
                    ("s/step", a["best_time_step_s"], r["best_time_step_s"], False),
                    ("update s", a["best_time_update_s"], r["best_time_update_s"], False)]
            print(f"\nBest measured step against torch {r['torch'].split('+')[0]} (less sensitive "
                  "to other processes): " + "; ".join(
                      f"{k} {fmt(x)} vs {fmt(y)} ({(x / y if hi else y / x):.2f}x)"
                      for k, x, y, hi in best) + ".")
        busy = [others(x) for x in accts]
        print(f"\nratio > 1: attnrl is faster. Other processes kept "
              + ", ".join(f"{b:.2f}" for b in busy) + f" of the {accts[0]['cores']} cores busy "
              "during the attnrl run and the reference run(s) (wall "
              + ", ".join(f"{x['wall_s']:.0f}s" for x in accts) + "). Decode vs training "
              f"forward log-prob mismatch: attnrl {a['logp_mismatch']:.2g}, reference(s) "
              + ", ".join(f"{r['logp_mismatch']:.2g}" for r in refs) + ".")
        worst = max(busy)
        if worst + int(t) > accts[0]["cores"] + 0.1:
            print(f"\n**warning**: other processes competed for the cores (on average "
                  f"{worst:.2f} busy, {t} needed, {accts[0]['cores']} in all): these timings are "
                  f"unreliable, rerun when the machine is idle (OMP_WAIT_POLICY=passive makes both "
                  f"sides suffer less from it).")


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run" and "--" in sys.argv:
        i = sys.argv.index("--")
        return run(sys.argv[2], sys.argv[i + 1:])
    if len(sys.argv) >= 4 and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3:])
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
