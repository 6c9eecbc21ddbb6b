"""analyze_check.py - recomputes tests/analyze_oracle's output with numpy and Python's re.

Usage: analyze_check.py FILE (the helper's output). Peaks, the pooled linkages and densities
(docs/method.md section 11) with np.quantile's default (linear) quantile and a stable sort for
ties; the FAI extremes; the Jaccard overlap with NLTK's English stop-word list as published
(179 words; the apostrophe forms can never match a word, which ends at the apostrophe).
Prints one line per kind of check and exits 1 on any difference.
"""
import math
import re
import sys

import numpy as np

# nltk_data corpora/stopwords/english, in its order
NLTK_ENGLISH = """i me my myself we our ours ourselves you you're you've you'll you'd your yours
yourself yourselves he him his himself she she's her hers herself it it's its itself they them
their theirs themselves what which who whom this that that'll these those am is are was were be
been being have has had having do does did doing a an the and but if or because as until while
of at by for with about against between into through during before after above below to from up
down in out on off over under again further then once here there when where why how all any
both each few more most other some such no nor not only own same so than too very s t can will
just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't
doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't
needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn
wouldn't""".split()


def peaks(x, kind, q, thr_q, thr_abs):
    R = len(x)
    m = np.zeros(R, dtype=bool)
    if kind == 0:
        k = min(R, math.ceil(q * R - 1e-9))
        order = np.argsort(-x.astype(np.float64), kind="stable")[:k]
        m[order] = True
        return m
    thr = thr_abs if not math.isnan(thr_abs) else np.quantile(x.astype(np.float64), thr_q)
    for i in range(R):
        up = i == 0 or x[i] > x[i - 1]
        down = i == R - 1 or x[i] >= x[i + 1]
        m[i] = up and down and x[i] >= thr
    return m


def linkages(resp, kind, q, thr_q, thr_abs):
    s = np.zeros(9)
    for _, R, (e, w, g, r) in resp:
        pw, pg, pr = (peaks(v, kind, q, thr_q, thr_abs) for v in (w, g, r))
        cover = pw | np.concatenate([[False], pw[:-1]])
        s += [e[pw].astype(np.float64).sum(), pw.sum(), e.astype(np.float64).sum(), R,
              pr.sum(), (pr & pg).sum(), pg.sum(), (pg & cover).sum(),
              pg.sum() * cover.sum() / R]
    return [s[0] / s[1], s[2] / s[3], s[5] / s[4], s[6] / s[3], s[7] / s[6], s[8] / s[6],
            s[1] / s[3], s[6] / s[3], s[4] / s[3]]


STOP = {w.encode() for w in NLTK_ENGLISH}


def jaccard(a, b):
    A, B = (set(re.findall(rb"[a-z0-9\x80-\xff]+", t.lower())) - STOP for t in (a, b))
    return 1.0 if not A | B else len(A & B) / len(A | B)


def read(path):
    lines = open(path, "rb").read().split(b"\n")
    resp, rules, ext, jac, stop = [], [], [], [], []
    i = 0
    while i < len(lines):
        head = lines[i].split(b" ", 1)
        tag = head[0]
        if tag == b"resp":
            prob, R = map(int, head[1].split())
            arrs = [np.array(lines[i + 1 + a].split(), dtype=np.float32) for a in range(4)]
            resp.append((prob, R, arrs))
            i += 5
        elif tag == b"rule":
            k, q, tq, ta = head[1].split()
            out = [float(v) for v in lines[i + 1].split()[1:]]
            rules.append((int(k), float(q), float(tq), float(ta), out))
            i += 2
        elif tag == b"ext":
            left, right = head[1].split(b"|")
            R = int(left.split()[0])
            ext.append((R, [int(v) for v in left.split()[1:]], [int(v) for v in right.split()]))
            i += 1
        elif tag == b"stop":
            stop = [w.decode() for w in head[1].split()]
            i += 1
        elif tag == b"jac":
            jac.append((float(head[1]), lines[i + 1][2:], lines[i + 2][2:]))
            i += 3
        else:
            i += 1
    return resp, rules, ext, jac, stop


def main():
    resp, rules, ext, jac, stop = read(sys.argv[1])
    want = [w for w in NLTK_ENGLISH if "'" not in w]
    print(f"stop words: {len(stop)}, NLTK's without apostrophe forms: {len(want)}, "
          f"{'equal' if stop == want else 'DIFFERENT'}")
    bad = stop != want
    for k, q, tq, ta, out in rules:
        ref = linkages(resp, k, q, tq, ta)
        diff = [(j, o, r) for j, (o, r) in enumerate(zip(out, ref)) if abs(o - r) > 1e-9]
        bad += len(diff)
        print(f"rule kind={k} q={q} thr_q={tq} thr_abs={ta}: {len(out)} values, "
              f"{len(diff)} differ{': ' + str(diff) if diff else ''}; densities "
              f"{ref[6]:.3f} {ref[7]:.3f} {ref[8]:.3f}")
    ext_bad = 0
    for (R, top, bot), (_, _, (_, _, g, _)) in zip(ext, resp):
        x = g[: R - 1].astype(np.float64)
        want_top = list(np.argsort(-x, kind="stable")[:3])
        want_bot = list(np.argsort(x, kind="stable")[:3])
        ext_bad += (top != want_top) + (bot != want_bot)
    print(f"extremes: {len(ext)} responses, {ext_bad} differ")
    jac_bad = [(j, a, b) for j, a, b in jac if abs(j - jaccard(a, b)) > 1e-12]
    print(f"jaccard: {len(jac)} pairs, {len(jac_bad)} differ{': ' + str(jac_bad[:3]) if jac_bad else ''}")
    bad += ext_bad + len(jac_bad)
    if len(resp) != 60 or len(rules) != 4 or len(jac) != 200:
        print(f"analyze_check: read {len(resp)} responses, {len(rules)} rules, {len(jac)} pairs")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
