#!/usr/bin/env python3
"""A reward program for attnrl: math answers checked with math-verify (or sympy).

attnrl starts reward.workers copies of reward.command and speaks JSON lines with each:
  request on stdin:   {"id": 3, "task": "math", "prompt": "...", "response": "...",
                       "ground_truth": "72", ...the dataset row's own fields}
  reply on stdout:    {"id": 3, "reward": 1.0, "correct": true, "info": {"answer": "72"}}
One reply per request, flushed; anything else goes to stderr. See docs/rewards.md.

The response's answer is its last \\boxed{...}, else its last <answer>...</answer>. It is
compared with ground_truth by math-verify (https://pypi.org/project/math-verify/) when that is
installed, else by sympy, else as text. --exact compares the trimmed answer with ground_truth
as text, the rule of attnrl's built-in arith verifier.

  reward.command: python3 examples/rewards/math_answer.py
  reward.command: python3 examples/rewards/math_answer.py --exact
"""
import json
import re
import sys

ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S)


def last_boxed(text):
    """the content of the last \\boxed{...} with balanced braces, or None"""
    start = text.rfind("\\boxed{")
    while start >= 0:
        i, depth = start + len("\\boxed{"), 1
        for j in range(i, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i:j]
        start = text.rfind("\\boxed{", 0, start)
    return None


def extract(response):
    boxed = last_boxed(response)
    if boxed is not None:
        return boxed
    tags = ANSWER_TAG.findall(response)
    return tags[-1] if tags else None


def make_checker(exact):
    if exact:
        return "text", lambda answer, truth: answer.strip(" \t\n\r") == truth
    try:
        from math_verify import parse, verify

        def check(answer, truth):
            return bool(verify(parse("$" + truth + "$"), parse("$" + answer + "$")))

        return "math-verify", check
    except ImportError:
        pass
    try:
        import sympy

        def check(answer, truth):
            if answer.strip() == truth.strip():
                return True
            try:
                return sympy.simplify(sympy.sympify(answer) - sympy.sympify(truth)) == 0
            except (sympy.SympifyError, TypeError, ValueError, SyntaxError):
                return False

        return "sympy", check
    except ImportError:
        return "text", lambda answer, truth: answer.strip() == truth.strip()


def main():
    exact = "--exact" in sys.argv[1:]
    name, check = make_checker(exact)
    for line in sys.stdin:
        req = json.loads(line)
        answer = extract(req["response"])
        correct = answer is not None and check(answer, str(req["ground_truth"]))
        reply = {"id": req["id"], "reward": 1.0 if correct else 0.0, "correct": correct,
                 "info": {"answer": answer, "checker": name}}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
