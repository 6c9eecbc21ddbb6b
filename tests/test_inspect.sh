#!/usr/bin/env bash
# test_inspect.sh - `attnrl inspect` as a user meets it, on the default config with random
# weights (no checkpoint): a given and a generated response print one table row per response
# token; the SVG is well-formed XML; WAAD, FAI, d and the head groups recomputed in Python from
# the JSON's maps (docs/method.md sections 3-4, an outside oracle) equal the streamed values; the
# preplan / anchor sets are TopQ of Delta / FAI; teacher-forcing the greedy response reproduces
# its numbers; bad input is one line with exit code 2 (1 for an unwritable output path).
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

# --svg first: the runs that give no --svg of their own must not write inspect.svg here
fast=(configs/default.yaml model.path= train.threads=2 model.max_seq_len=128 --svg "$tmp/default.svg")
# name, R, args...: runs inspect, checks exit 0, R table rows, the check line, the SVG
run_case() {
	local name=$1 R=$2
	shift 2
	if ! "$bin" inspect "${fast[@]}" "$@" --svg "$tmp/$name.svg" --json "$tmp/$name.json" \
		--with-maps >"$tmp/$name.txt" 2>"$tmp/$name.err"; then
		fail "$name: exit non-zero: $(cat "$tmp/$name.err")"
		return
	fi
	[ "$R" = json ] && R=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['resp_len'])" "$tmp/$name.json")
	local rows
	rows=$(grep -cE '^ +[0-9]+ +[0-9]+  "' "$tmp/$name.txt")
	[ "$rows" -eq "$R" ] || fail "$name: $rows table rows, want R = $R"
	grep -q "^check: streamed vs maps: .*(ok, " "$tmp/$name.txt" || fail "$name: no ok check line"
	python3 -c "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])" "$tmp/$name.svg" ||
		fail "$name: the SVG is not well-formed XML"
	python3 - "$tmp/$name.json" "$R" <<'EOF' || fail "$name: the JSON disagrees with its maps"
import json, math, sys
j = json.load(open(sys.argv[1]))
P, R, W, lo, hi = j["prompt_len"], j["resp_len"], j["window"], j["fai_lo"], j["fai_hi"]
N, maps, group = P + R, j["maps"], j["group"]
Q = len(j["layers"]) * j["heads_per_layer"]
bad = []
def near(what, a, b, tol=1e-4):
    if not abs(a - b) <= tol:
        bad.append(f"{what}: {a} vs {b}")
if R != int(sys.argv[2]) or len(j["tokens"]) != R or len(maps) != Q or len(group) != Q:
    bad.append(f"sizes: R {R}, tokens {len(j['tokens'])}, pairs {len(maps)}/{len(group)} of {Q}")
for q in range(Q):
    if len(maps[q]) != N or any(len(row) != N for row in maps[q]):
        bad.append(f"pair {q}: maps are not {N} x {N}")
    for t in range(N):
        near(f"pair {q} row {t} sum", sum(maps[q][t]), 1.0, 1e-4)
        if any(maps[q][t][s] != 0 for s in range(t + 1, N)):
            bad.append(f"pair {q} row {t}: attention to the future")
# d per pair and the grouping (lowest / highest floor(head_quantile * Q) by d, ties in order)
d = [sum(maps[q][t][s] * (t - s) for t in range(P, N) for s in range(t + 1)) / R for q in range(Q)]
for q in range(Q):
    near(f"d pair {q}", d[q], j["d"][q], 1e-4 * max(1.0, abs(d[q])))
k = max(1, int(math.floor(j["head_quantile"] * Q + 1e-9)))
order = sorted(range(Q), key=lambda q: (j["d"][q], q))
want = ["" for _ in range(Q)]
for q in order[:k]:
    want[q] = "local"
for q in order[Q - k:]:
    want[q] = "both" if want[q] else "global"
if want != group:
    bad.append(f"groups {group}, want {want}")
loc = [q for q in range(Q) if group[q] in ("local", "both")]
glob = [q for q in range(Q) if group[q] in ("global", "both")]
def mean_map(qs, t, s):
    return sum(maps[q][t][s] for q in qs) / len(qs)
for r in range(R):
    t = P + r
    waad = sum(mean_map(loc, t, s) * min(t - s, W) for s in range(t + 1))
    near(f"WAAD r={r}", waad, j["waad"][r])
    ts = range(t + lo, min(N - 1, t + hi) + 1)
    fai = sum(mean_map(glob, u, t) for u in ts) / len(ts) if len(ts) else 0.0
    if bool(len(ts)) != j["fai_ok"][r]:
        bad.append(f"fai_ok r={r}")
    near(f"FAI r={r}", fai, j["fai"][r])
    delta = abs(j["waad"][r] - j["waad"][r + 1]) if r + 1 < R else 0.0
    near(f"Delta r={r}", delta, j["delta"][r], 1e-5)
# TopQ: the ceil(q R) largest, ties -> earlier; anchors only where T(s) is not empty
n = min(R, math.ceil(j["top_q"] * R - 1e-9))
pre = sorted(sorted(range(R), key=lambda r: (-j["delta"][r], r))[:n])
ok = [r for r in range(R) if j["fai_ok"][r]]
anc = sorted(sorted(ok, key=lambda r: (-j["fai"][r], r))[:n])
if pre != j["preplan"]:
    bad.append(f"preplan {j['preplan']}, want {pre}")
if anc != j["anchor"]:
    bad.append(f"anchor {j['anchor']}, want {anc}")
if not set(j["dominated"]) <= set(j["anchor"]) or not all(1 <= g <= 2 for g in j["gamma"]):
    bad.append("dominated outside the anchors, or gamma outside [1, 2]")
for b in bad[:5]:
    print(" ", b)
sys.exit(1 if bad else 0)
EOF
}

response='12+34=46,46-7=39.<answer>39</answer>'
run_case given ${#response} --prompt "12+34-7=" --response "$response" credit.strategy=coupled
run_case generated json --prompt "5-3+8=" rollout.temperature=0 rollout.max_new_tokens=30 \
	credit.fai_lo=3 credit.fai_hi=12 credit.window=4 credit.strategy=none
run_case sampled json --prompt "40+2=" rollout.max_new_tokens=20 credit.strategy=random
grep -q "strategy none: gamma = 1" "$tmp/generated.txt" || fail "strategy none: no note in the header"
grep -q "generated (greedy" "$tmp/generated.txt" || fail "generated: not greedy"

# the greedy response fed back teacher-forced gives the same statistics
text=$(python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['tokens']
print('' if any(x.startswith('<') and x.endswith('>') and len(x) > 1 for x in t) else ''.join(t), end='')" "$tmp/generated.json")
if [ -n "$text" ]; then
	"$bin" inspect "${fast[@]}" --prompt "5-3+8=" --response "$text" credit.fai_lo=3 credit.fai_hi=12 \
		credit.window=4 --json "$tmp/forced.json" >/dev/null 2>&1 || fail "forced: exit non-zero"
	python3 - "$tmp/generated.json" "$tmp/forced.json" <<'EOF' || fail "forced: differs from the generated run"
import json, sys
g, f = (json.load(open(p)) for p in sys.argv[1:3])
for k in ("waad", "fai", "entropy", "delta", "d"):
    if len(g[k]) != len(f[k]) or max(abs(a - b) for a, b in zip(g[k], f[k])) > 1e-5:
        print(" ", k); sys.exit(1)
if g["preplan"] != f["preplan"] or g["anchor"] != f["anchor"]:
    print("  sets"); sys.exit(1)
EOF
fi

# usage and run-time errors: one line each
expect "missing --prompt" 2 "missing --prompt" $bin inspect "${fast[@]}"
expect "unknown flag" 2 "unknown flag '--promt'" $bin inspect "${fast[@]}" --promt x
expect "flag without value" 2 "--response needs a value" $bin inspect "${fast[@]}" --prompt x --response
expect "missing config" 2 "missing CONFIG" $bin inspect --prompt x
expect "bad override" 2 "did you mean" $bin inspect "${fast[@]}" credit.stratgy=local --prompt x
expect "outside the vocabulary" 2 "byte 0xc3" $bin inspect "${fast[@]}" --prompt "caf$(printf '\xc3\xa9')"
expect "too long" 2 "exceed model.max_seq_len=128" $bin inspect "${fast[@]}" --prompt "1+1=" \
	--response "$(printf '%0200d' 0)"
expect "empty response" 2 "--response is empty" $bin inspect "${fast[@]}" --prompt x --response ""
expect "bad credit.layers" 2 "credit.layers" $bin inspect "${fast[@]}" credit.layers=9 --prompt x
expect "unwritable --svg" 1 "--svg $tmp/no/such/dir/x.svg: cannot open" $bin inspect "${fast[@]}" \
	--prompt x --svg "$tmp/no/such/dir/x.svg"
echo "test_inspect: $fails failed"
[ "$fails" -eq 0 ]
