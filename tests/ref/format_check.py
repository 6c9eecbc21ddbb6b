"""format_check.py FILE - the <think>/<answer> format reward judged by a regular expression
written from its definition (task.h), against attnrl's verdicts (test_rewards.c).

Each line of FILE: the C verdict (0/1), a tab, the response with \\n, \\t and \\\\ escaped.
Definition: the response, trimmed of spaces, tabs and newlines, is <think>X</think>, optional
white space, <answer>Y</answer>, where neither X nor Y contains any of the four tags.
Exits 1 on any disagreement.
"""
import re
import sys

TAG = r"(?:<think>|</think>|<answer>|</answer>)"
BODY = r"(?:(?!" + TAG + r").)*"
WS = r"[ \t\n\r]*"
FORMAT = re.compile(WS + "<think>" + BODY + "</think>" + WS + "<answer>" + BODY + "</answer>" + WS,
                    re.S)


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def main():
    bad = n = 0
    for line in open(sys.argv[1], encoding="utf-8"):
        verdict, text = line.rstrip("\n").split("\t", 1)
        text = unescape(text)
        want = 1 if FORMAT.fullmatch(text) else 0
        n += 1
        if want != int(verdict):
            bad += 1
            if bad <= 5:
                print(f"MISMATCH python {want} attnrl {verdict}: {text!r}")
    print(f"format_check: {n} responses, {bad} disagreements")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
