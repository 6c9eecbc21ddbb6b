"""countdown_check.py TRAIN.jsonl TEST.jsonl N_TRAIN N_TEST MIN MAX MAX_NUMBER - an outside
check of `attnrl countdown-data` (tests/test_countdown_data.sh).

Every row: 3-4 (MIN..MAX) numbers in [1, MAX_NUMBER], an integer target in [1, 1000], the
prompt names exactly those numbers and target, and the row's own answer, evaluated here with
exact fractions, uses each number once and equals the target. Every problem is also solved by
an independent brute-force search (all ways to combine the numbers with + - * /, exact
fractions) on 200 rows of each file, evenly spread (all 20,512: 100 s). The files have N_TRAIN and N_TEST rows, no problem twice in a file, no problem
(sorted numbers, target) in both. Prints one line; exits 1 on any failure.
"""
import ast
import json
import re
import sys
from fractions import Fraction
from functools import lru_cache

OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
       ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def evaluate(node, used):
    if isinstance(node, ast.Expression):
        return evaluate(node.body, used)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        return OPS[type(node.op)](evaluate(node.left, used), evaluate(node.right, used))
    raise ValueError("not + - * / over integers")


@lru_cache(maxsize=None)
def reachable(nums):
    """every value an expression over all of nums (a sorted tuple) can take"""
    if len(nums) == 1:
        return frozenset([Fraction(nums[0])])
    out = set()
    n = len(nums)
    for mask in range(1, (1 << n) - 1):
        left = tuple(sorted(nums[i] for i in range(n) if mask >> i & 1))
        right = tuple(sorted(nums[i] for i in range(n) if not mask >> i & 1))
        for a in reachable(left):
            for b in reachable(right):
                out.update((a + b, a - b, a * b))
                if b:
                    out.add(a / b)
    return frozenset(out)


def check_file(path, want_rows, lo, hi, max_number, bad):
    keys = set()
    rows = [json.loads(l) for l in open(path)]
    stride = max(1, len(rows) // 200)
    if len(rows) != want_rows:
        bad.append(f"{path}: {len(rows)} rows, want {want_rows}")
    for i, r in enumerate(rows):
        nums, target = r["nums"], r["target"]
        where = f"{path}:{i + 1}"
        if not (lo <= len(nums) <= hi and all(1 <= x <= max_number for x in nums)):
            bad.append(f"{where}: numbers {nums}")
        if not (isinstance(target, int) and 1 <= target <= 1000):
            bad.append(f"{where}: target {target}")
        m = re.search(r"Using the numbers \[([0-9, ]*)\], create an equation that equals (\d+)\.",
                      r["question"])
        if not m or [int(x) for x in m.group(1).split(", ")] != nums or int(m.group(2)) != target:
            bad.append(f"{where}: the prompt does not state {nums} and {target}")
        used = []
        try:
            value = evaluate(ast.parse(r["answer"], mode="eval"), used)
        except (ValueError, SyntaxError, ZeroDivisionError) as e:
            bad.append(f"{where}: answer {r['answer']!r}: {e}")
            continue
        if sorted(used) != sorted(nums) or value != target:
            bad.append(f"{where}: answer {r['answer']!r} = {value} with {used}")
        if i % stride == 0 and Fraction(target) not in reachable(tuple(sorted(nums))):
            bad.append(f"{where}: brute force finds no solution for {nums} -> {target}")
        key = (tuple(sorted(nums)), target)
        if key in keys:
            bad.append(f"{where}: problem {key} repeated")
        keys.add(key)
    return keys


def main():
    train, test = sys.argv[1], sys.argv[2]
    n_train, n_test, lo, hi, max_number = (int(x) for x in sys.argv[3:8])
    bad = []
    # the solver can say no: 1, 1, 1 never make 1000; 2, 3, 4 make 24 and 10/3
    if Fraction(1000) in reachable((1, 1, 1)) or not {Fraction(24), Fraction(10, 3)} <= reachable((2, 3, 4)):
        bad.append("the brute-force solver is broken")
    a = check_file(train, n_train, lo, hi, max_number, bad)
    b = check_file(test, n_test, lo, hi, max_number, bad)
    if a & b:
        bad.append(f"{len(a & b)} problems in both splits, e.g. {sorted(a & b)[0]}")
    for line in bad[:10]:
        print("BAD", line)
    sizes = sorted({len(k[0]) for k in a | b})
    print(("FAIL " if bad else "ok ") + f"{len(a)} train + {len(b)} test problems, "
          f"{sizes} numbers, answers right, solvable by brute force, disjoint")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
