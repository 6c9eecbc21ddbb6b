#!/usr/bin/env bash
# test_report.sh - `attnrl report` on a real 4-step run (credit on, eval every 2 steps):
# - the page is self-contained (no script, no external resource) and the run's text is escaped;
# - every chart's polyline has one point per metrics.jsonl line holding its key, and its pixel
#   coordinates are a linear map of (step, value) from metrics.jsonl (the outside oracle);
#   the eval of step 0 is the first line and the held-out chart's first point;
#   the time chart has one bar per step; each rhythm picture has one WAAD point per token;
# - samples.jsonl's delta is |WAAD_t - WAAD_t+1| (docs/method.md section 5);
# - headless Chromium renders it with no console error, its DOM holds every SVG, and the
#   screenshot (pixels read with PIL + numpy) shows each chart's line colour inside the chart's
#   box and the rhythm's WAAD curve, anchor and preplan colours inside the rhythm's box;
# - unhappy paths: a missing or empty run directory is one line; empty logs give a page of
#   "no data"; garbage and truncated lines are skipped and counted on the page.
# Chromium and PIL are optional here (the browser part skips), required when CI=true.
set -u
source tests/lib.sh
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
run=$tmp/r/rep

"$bin" train configs/default.yaml run.dir="$tmp/r" run.name=rep train.steps=4 train.eval_every=2 \
	rollout.prompts_per_step=8 rollout.group_size=4 algo.mini_batch=32 \
	data.eval_size=20 credit.strategy=coupled train.threads=1 >"$tmp/train.log" 2>&1 ||
	{ fail "train: $(tail -n 3 "$tmp/train.log")"; echo "test_report: $fails failed"; exit 1; }
expect "report" 0 "4 steps, 8 samples; 0 + 0 bad lines skipped" \
	"$bin" report "$run" --out "$tmp/report.html" --samples 2

# ---- the page against the logs -----------------------------------------------------------
$py - "$tmp/report.html" "$run" <<'EOF' || fail "the page disagrees with the run's logs"
import json, math, re, sys
page, run = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
rows = [json.loads(l) for l in open(run + "/metrics.jsonl")]
samples = [json.loads(l) for l in open(run + "/samples.jsonl")]
bad = []
for pat in ("<script", "http:", "https:", "src=", "href=", "url(", "<link", "<iframe", "@import"):
    if pat in page.lower():
        bad.append(f"page holds {pat!r}")
if "<answer>" in page or "&lt;answer&gt;" not in page:
    bad.append("responses are not escaped")
charts = re.findall(r'<svg class="plot" id="plot-([a-z_]+)"', page)
want = ["reward", "accuracy", "eval_accuracy", "response_len", "entropy", "clip_frac", "gamma",
        "sets", "loss", "grad_norm", "logp_mismatch", "tokens_per_s", "time"]
if charts != want:
    bad.append(f"charts {charts}, want {want}")
lines = re.findall(r'<polyline data-key="([a-z_]+)" data-n="(\d+)"[^>]*points="([^"]*)"', page)
keys = set()
for key, n, pts in lines:
    keys.add(key)
    xy = [tuple(map(float, p.split(","))) for p in pts.split()]
    logged = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
    if int(n) != len(logged) or len(xy) != len(logged):
        bad.append(f"{key}: data-n {n}, {len(xy)} points, {len(logged)} logged values")
        continue
    # pixels are a linear map of (step, value): fit on the extremes, check every point (0.1 px)
    for axis in (0, 1):
        v = [s[axis] for s in logged]
        p = [q[axis] for q in xy]
        lo, hi = v.index(min(v)), v.index(max(v))
        if v[hi] == v[lo]:
            ok = max(p) - min(p) < 0.11
        else:
            a = (p[hi] - p[lo]) / (v[hi] - v[lo])
            ok = all(abs(p[lo] + a * (v[i] - v[lo]) - p[i]) < 0.11 for i in range(len(v)))
        if not ok:
            bad.append(f"{key}: {'xy'[axis]} pixels are not a linear map of the logged values")
for key in ("reward_mean", "accuracy", "eval_accuracy", "entropy", "clip_frac", "gamma_mean",
            "frac_preplan", "frac_anchor", "frac_dominated", "frac_intro"):
    if key not in keys:
        bad.append(f"no series {key}")
if [r["step"] for r in rows if "eval_accuracy" in r] != [0, 2, 4]:
    bad.append("the run should have logged eval at steps 0, 2 and 4")
if rows[0] != {"step": 0, "eval_accuracy": rows[0].get("eval_accuracy"),
               "eval_reward_mean": rows[0].get("eval_reward_mean")}:
    bad.append(f"the first metrics line is not the eval of step 0: {rows[0]}")
steps = [r for r in rows if "time_step_s" in r]
bars = re.findall(r'<g data-key="(time_[a-z]+_s)" data-n="(\d+)" data-steps="(\d+)"', page)
if len(steps) != 4 or len(bars) != 4 or any(int(n) != 4 or int(m) != 4 for _, n, m in bars):
    bad.append(f"time bars {bars}, want 4 parts of 4 bars")
# rhythm pictures: the first and the last logged sample, one WAAD point per token
rh = re.findall(r'<svg class="rhythm" data-tokens="(\d+)".*?<polyline class="waad"[^>]*points="([^"]*)"',
                page, re.S)
want_r = [len(samples[0]["tokens"]), len(samples[-1]["tokens"])]
if [int(n) for n, _ in rh] != want_r or [len(p.split()) for _, p in rh] != want_r:
    bad.append(f"rhythm pictures {[(n, len(p.split())) for n, p in rh]}, want {want_r} tokens")
for s in samples:
    w, d = s["waad"], s["delta"]
    ref = [abs(w[t] - w[t + 1]) for t in range(len(w) - 1)] + [0.0]
    if len(d) != len(w) or any(abs(a - b) > 2e-6 * max(1, abs(x)) for a, b, x in zip(d, ref, w)):
        bad.append(f"step {s['step']}: delta is not |WAAD_t - WAAD_t+1|")
        break
for b in bad:
    print("page:", b)
sys.exit(1 if bad else 0)
EOF

# ---- unhappy paths -------------------------------------------------------------------------
expect "missing run dir" 1 "run directory '$tmp/none': No such file or directory" \
	"$bin" report "$tmp/none"
mkdir -p "$tmp/empty"
expect "not a run dir" 1 "holds no metrics.jsonl nor samples.jsonl" "$bin" report "$tmp/empty"
expect "no RUN_DIR" 2 "missing RUN_DIR; usage: attnrl report" "$bin" report
expect "bad --samples" 2 "--samples 'x'" "$bin" report "$run" --samples x
expect "unwritable --out" 1 "cannot write '$tmp/no/dir/x.html.tmp'" "$bin" report "$run" \
	--out "$tmp/no/dir/x.html"
: >"$tmp/empty/metrics.jsonl"
expect "empty metrics" 0 "0 steps, 0 samples" "$bin" report "$tmp/empty"
n=$(grep -c 'class="nodata"' "$tmp/empty/report.html")
[ "$n" -eq 13 ] || fail "empty metrics: $n charts say 'no data', want 13"
grep -q 'samples.jsonl: not found' "$tmp/empty/report.html" || fail "empty: no note of the missing samples.jsonl"
# garbage: a stray line, a record without step, a truncated last line; a hostile sample
mkdir -p "$tmp/bad"
cp "$run/config.yaml" "$tmp/bad/"
{ head -n 2 "$run/metrics.jsonl"; echo 'garbage <b>&'; echo '{"loss": 1}'
  sed -n 3,4p "$run/metrics.jsonl"; head -c 40 "$run/metrics.jsonl"; } >"$tmp/bad/metrics.jsonl"
{ echo '{"step": 1, "prompt": "a<b & \"c\" '"'"'d'"'"' </pre><script>x()</script>", "response": "</div>", "reward": 1, "correct": true, "tokens": ["<s>", "&", "\"q\""], "waad": [1, 2, 3], "fai": [0.1, 0.3, 0.2], "delta": [1, 1, 0], "gamma": [1, 1.5, 1], "preplan": [1], "anchor": [1], "dominated": [], "intro": [9]}'
  echo '{"step": 2, "prompt": "p", "response": "r", "tokens": ["a", "b"], "waad": [1], "fai": [1, 2], "gamma": [1, 1]}'
  echo '[1, 2]'; } >"$tmp/bad/samples.jsonl"
expect "garbage lines" 0 "3 steps, 2 samples; 3 + 1 bad lines skipped" "$bin" report "$tmp/bad"
$py - "$tmp/bad/report.html" <<'EOF' || fail "garbage: the page does not count the bad lines"
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
bad = []
if not re.search(r'data-file="metrics.jsonl" data-skipped="3">metrics.jsonl: 3 bad lines skipped \(first: line 3: ', page):
    bad.append("no metrics skip note")
if 'data-file="samples.jsonl" data-skipped="1"' not in page:
    bad.append("no samples skip note")
if "<script" in page or \
        "a&lt;b &amp; &quot;c&quot; &#39;d&#39; &lt;/pre&gt;&lt;script&gt;" not in page or \
        "<pre>&lt;/div&gt;</pre>" not in page:
    bad.append("the sample's text is not escaped")
if not re.search(r'<svg class="rhythm" data-tokens="3"', page) or ">&lt;s&gt;</text>" not in page \
        or ">&amp;</text>" not in page or "\\&quot;q\\&quot;" not in page:
    bad.append("the hostile tokens are not drawn escaped")
if "not drawn: its waad / fai / gamma arrays do not have one value per token" not in page:
    bad.append("no note of the sample with arrays of the wrong length")
if not re.search(r'<polyline data-key="reward_mean" data-n="3"', page):
    bad.append("reward: not the 3 good steps (the 4th good line is the eval of step 0)")
for b in bad:
    print("garbage:", b)
sys.exit(1 if bad else 0)
EOF

# ---- in a browser --------------------------------------------------------------------------
chrome=$(command -v chromium || command -v chromium-browser || true)
missing=""
[ -n "$chrome" ] || missing="chromium"
$py -c "import numpy, PIL" 2>/dev/null || missing="$missing python3-pil/python3-numpy"
if [ -n "$missing" ]; then
	if [ "${CI:-}" = true ]; then
		fail "$missing missing; CI must run scripts/install-deps.sh"
		echo "test_report: $fails failed"
		exit 1
	fi
	echo "test_report: $fails failed; SKIP: the browser checks ($missing not installed: sudo apt-get install chromium python3-pil)"
	[ "$fails" -eq 0 ]
	exit
fi
W=1000
browse() { # window height, then chromium's arguments; stdout: the DOM or nothing
	timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
		--user-data-dir="$tmp/chrome" --window-size=$W,"$@"
}
# the DOM and the boxes of the SVGs, from a copy of the page whose only change is a script that
# writes the boxes into the title (no layout change; the script's console is checked too); then
# the page itself, as a screenshot as tall as the page, its console checked for errors
sed 's#</body>#<script>console.log("attnrl-probe"); document.title = JSON.stringify({h: document.documentElement.scrollHeight, boxes: [...document.querySelectorAll("svg.plot, svg.rhythm")].map(e => { const b = e.getBoundingClientRect(); return [e.id || e.getAttribute("class"), b.x, b.y, b.width, b.height]; })});</script></body>#' \
	"$tmp/report.html" >"$tmp/probe.html"
browse 1200 --enable-logging=stderr --v=0 --dump-dom "file://$tmp/probe.html" >"$tmp/probe.dom" \
	2>"$tmp/probe.err"
H=$($py -c "import json,re,sys,html; t=re.search(r'<title>(.*?)</title>', open(sys.argv[1]).read()).group(1); print(json.loads(html.unescape(t))['h'])" "$tmp/probe.dom" 2>/dev/null)
if [ -z "$H" ]; then
	fail "chromium: no layout probe ($(tail -n 2 "$tmp/probe.err"))"
	echo "test_report: $fails failed"
	exit 1
fi
browse "$H" --enable-logging=stderr --v=0 --screenshot="$tmp/page.png" "file://$tmp/report.html" \
	>/dev/null 2>"$tmp/page.err"
grep -q "CONSOLE.*attnrl-probe" "$tmp/probe.err" || fail "chromium: no console log (--enable-logging) to check"
grep -E "CONSOLE.*(Uncaught|Error|error)" "$tmp/probe.err" "$tmp/page.err" && fail "console errors"
$py - "$tmp/report.html" "$tmp/probe.dom" "$tmp/page.png" <<'EOF' || fail "the rendered page is wrong"
import html, json, re, sys
import numpy as np
from PIL import Image
src, dom = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
bad = []
n_src, n_dom = src.count("<svg "), dom.count("<svg ")
if n_src != 15 or n_dom != n_src:
    bad.append(f"{n_dom} <svg> in the DOM, {n_src} in the page, want 15")
boxes = json.loads(html.unescape(re.search(r"<title>(.*?)</title>", dom).group(1)))["boxes"]
img = np.asarray(Image.open(sys.argv[3]).convert("RGB")).astype(int)
H, W, _ = img.shape
if len(boxes) != 15:
    bad.append(f"{len(boxes)} boxes measured")
def near(box, rgb, tol=40):
    x, y, w, h = (int(round(v)) for v in box)
    if x < 0 or y < 0 or x + w > W or y + h > H:
        bad.append(f"box {box} outside the {W}x{H} screenshot")
        return 0, 0
    a = img[y:y + h, x:x + w]
    ink = int((np.abs(a - 255).sum(axis=2) > 30).sum())
    return ink, int((np.abs(a - np.array(rgb)).sum(axis=2) < tol).sum())
for name, *box in boxes:
    if name == "rhythm":
        _, curve = near(box, (0x40, 0x40, 0x40))
        _, anchor = near(box, (0x1f, 0x5f, 0xa8))
        ink, pre = near(box, (0xe6, 0x55, 0x0d))
        if curve < 200 or anchor < 50 or pre < 20:
            bad.append(f"rhythm {box}: WAAD {curve}, anchor {anchor}, preplan {pre} pixels")
        continue
    colours = [(0xe6, 0x55, 0x0d)] if name == "plot-time" else [(0x1f, 0x77, 0xb4)]
    ink, _ = near(box, colours[0])
    x, y, w, h = (int(round(v)) for v in box)
    a = img[y:y + h, x:x + w]
    line = int((a.max(axis=2) - a.min(axis=2) > 50).sum()) # coloured: not white, grey or ink
    if ink < 2000 or line < 60:
        bad.append(f"{name}: {ink} ink pixels, {line} coloured (the series)")
for b in bad:
    print("browser:", b)
print(f"browser: {len(boxes)} SVGs checked in a {W}x{H} screenshot")
sys.exit(1 if bad else 0)
EOF
echo "test_report: $fails failed"
[ "$fails" -eq 0 ]
