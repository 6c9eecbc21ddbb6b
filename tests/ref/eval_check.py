"""eval_check.py - an outside recomputation of `attnrl eval --json` (test_eval.sh).

  eval_check.py arith EVAL.json        every response of the arithmetic task re-judged here
                                        (the last <answer>..</answer>, as TinyZero's regex, against
                                        Python's own value of the prompt), then avg@k, pass@k and
                                        the reward mean recomputed and compared with the summary
  eval_check.py subsets EVAL.json DATA.jsonl FIELD
                                        the subset counts against the JSONL file itself (its first
                                        rows, as many as were evaluated: --limit), each
                                        subset's avg@k / pass@k recomputed from the per-problem
                                        verdicts
Prints one line; exits 1 on any mismatch.
"""
import collections
import json
import re
import sys


def close(a, b):
    return abs(a - b) <= 1e-12


def summary_row(s, group):
    return next(r for r in s["summary"] if r["subset"] == group)


def recompute(problems):
    n = len(problems)
    resp = sum(len(p["correct"]) for p in problems)
    right = sum(sum(p["correct"]) for p in problems)
    solved = sum(1 for p in problems if any(p["correct"]))
    reward = sum(sum(p["reward"]) for p in problems)
    return {"problems": n, "responses": resp, "correct": right, "solved": solved,
            "avg_at_k": right / resp, "pass_at_k": solved / n, "reward_mean": reward / resp}


def compare(mine, row, what):
    bad = []
    for key, v in mine.items():
        if not close(float(v), float(row[key])):
            bad.append(f"{what} {key}: python {v} attnrl {row[key]}")
    return bad


def arith(path):
    s = json.load(open(path))
    bad = []
    for p in s["per_problem"]:
        want = str(eval(p["prompt"].rstrip("=")))  # the prompt is "12+34-7="
        for j, text in enumerate(p["responses"]):
            found = re.findall(r"<answer>(.*?)</answer>", text, re.S)
            ok = int(bool(found) and found[-1].strip() == want)
            if ok != p["correct"][j] or float(ok) != p["reward"][j]:
                bad.append(f"problem {p['index']} response {j} {text!r}: python says {ok}, "
                           f"attnrl {p['correct'][j]}")
    mine = recompute(s["per_problem"])
    bad += compare(mine, summary_row(s, None), "all")
    if mine["responses"] != s["problems"] * s["k"]:
        bad.append("responses != problems x k")
    return bad, f"{mine['responses']} responses re-judged, avg@{s['k']} {mine['avg_at_k']:.4f}, " \
        f"pass@{s['k']} {mine['pass_at_k']:.4f}"


def subsets(path, data, field):
    s = json.load(open(path))
    rows = [json.loads(l) for l in open(data) if l.strip()][:s["problems"]]  # --limit N
    want = collections.Counter(str(r[field]) for r in rows)
    got = {r["subset"]: r["problems"] for r in s["summary"] if r["subset"] is not None}
    bad = [] if got == dict(want) else [f"subset counts: jsonl {dict(want)} attnrl {got}"]
    if len(s["per_problem"]) != len(rows):
        bad.append(f"problems {len(s['per_problem'])} != {len(rows)} rows")
    labels = [str(r[field]) for r in rows]
    if [p["subset"] for p in s["per_problem"]] != labels:
        bad.append("per-problem labels differ from the file's")
    groups = collections.defaultdict(list)
    for p in s["per_problem"]:
        groups[p["subset"]].append(p)
    for g, ps in groups.items():
        bad += compare(recompute(ps), summary_row(s, g), g)
    bad += compare(recompute(s["per_problem"]), summary_row(s, None), "all")
    order = [r["subset"] for r in s["summary"][1:]]
    key = (lambda x: int(x)) if all(x.isdigit() for x in order) else (lambda x: x)
    if order != sorted(order, key=key):
        bad.append(f"subset order {order}")
    return bad, f"{len(groups)} subsets of {field} match {data}"


def main():
    bad, msg = arith(sys.argv[2]) if sys.argv[1] == "arith" else subsets(*sys.argv[2:5])
    for b in bad[:10]:
        print("MISMATCH", b)
    print(("FAIL " if bad else "ok ") + msg)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
