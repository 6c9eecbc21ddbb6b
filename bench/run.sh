#!/usr/bin/env bash
# bench/run.sh - `make bench`: attnrl's GRPO step against a PyTorch-eager reference of the same
# model and step (bench/ref_grpo.py), side by side in one run: same machine, same batch
# (configs/bench.yaml: 16 prompts x 8 responses x 64 tokens), same thread count. The reference
# runs twice, under two PyTorch builds, one column each: the system's (PY_REF, default
# /usr/bin/python3: Debian's torch 1.13, the version of the libtorch attnrl links) and the
# project environment's (PY_REF2, default .venv/bin/python: torch 2.x, what users have). Prints
# one Markdown table per thread count; everything it wrote is under build/bench/.
#
#   make bench                     2 threads
#   THREADS=1 make bench           1 thread;  THREADS="1 2" make bench: both, one table each
#   BENCH_STEPS=10 make bench      more steps (default 6; step 1 is a warm-up, left out)
#   BENCH_PROMPTS=1 BENCH_GROUP=2  another batch shape (default 16 x 8; mini-batches of <= 64)
#   OMP_WAIT_POLICY=passive make bench   both sides sleep instead of spinning at OpenMP
#                                  barriers: much faster when other processes share the cores
#   BENCH_MALLOC=default make bench      glibc's malloc defaults (see below)
#   PY_REF=... PY_REF2=...         other Pythons for the two reference columns
#
# All three programs run with the same environment. By default that includes GLIBC_TUNABLES that
# stop glibc from handing freed memory back to the kernel between steps: PyTorch eager frees
# its tensors one at a time, glibc trims and unmaps them, and the next step faults the pages
# back in (up to 2x the reference's update time on the 2-core CI machine). attnrl does not
# depend on it; the setting keeps the comparison about the engines, not about malloc.
#
# Timings on a shared machine are only as good as its idle time: the report gives the load
# average before each run and how many cores other processes kept busy during it, and warns
# when they competed for the cores the benchmark needed.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="${THREADS:-2}"
STEPS="${BENCH_STEPS:-6}"
PROMPTS="${BENCH_PROMPTS:-16}"
GROUP="${BENCH_GROUP:-8}"
MB=$((PROMPTS * GROUP < 64 ? PROMPTS * GROUP : 64))
PY_REF="${PY_REF:-/usr/bin/python3}"
PY_REF2="${PY_REF2:-.venv/bin/python}"
BENCH_MALLOC="${BENCH_MALLOC:-tuned}"
OUT=build/bench
CONFIG=configs/bench.yaml

die() { echo "bench: $*" >&2; exit 1; }
for t in $THREADS; do
	[[ "$t" =~ ^[1-9][0-9]*$ ]] || die "THREADS='$THREADS': expected thread counts like 2 or \"1 2\""
done
[[ "$STEPS" =~ ^[0-9]+$ && "$STEPS" -ge 2 ]] || die "BENCH_STEPS='$STEPS': expected an integer >= 2"
[[ "$PROMPTS" =~ ^[1-9][0-9]*$ && "$GROUP" =~ ^[1-9][0-9]*$ && "$GROUP" -ge 2 ]] ||
	die "BENCH_PROMPTS='$PROMPTS' BENCH_GROUP='$GROUP': expected integers, the group >= 2 (GRPO)"
[ $((PROMPTS * GROUP % MB)) -eq 0 ] ||
	die "$PROMPTS x $GROUP responses do not split into mini-batches of 64: use a multiple of 64 or fewer than 64"
[ -x "$PY_REF" ] || die "$PY_REF not found: run 'sudo scripts/install-deps.sh' (or set PY_REF)"
TORCH_VERSION=$("$PY_REF" -c 'import numpy, torch; print(torch.__version__)' 2>/dev/null) ||
	die "$PY_REF cannot import torch and numpy: run 'sudo scripts/install-deps.sh'"
[ -x "$PY_REF2" ] || die "$PY_REF2 not found: make the virtual environment (requirements.txt) or set PY_REF2"
TORCH2_VERSION=$("$PY_REF2" -c 'import numpy, torch; print(torch.__version__)' 2>/dev/null) ||
	die "$PY_REF2 cannot import torch and numpy: pip install -r requirements.txt (or set PY_REF2)"

case "$BENCH_MALLOC" in
tuned) [ -n "${GLIBC_TUNABLES:-}" ] ||
	export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 ;;
default) ;;
*) die "BENCH_MALLOC='$BENCH_MALLOC': expected tuned or default" ;;
esac

make --no-print-directory all >&2 || die "the build failed"
mkdir -p "$OUT"

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain -- src include 2>/dev/null)" ] || commit="$commit + local changes"
libtorch=$(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo unknown)

attnrl_cmd() {
	echo bin/attnrl train "$CONFIG" train.threads="$1" train.steps="$STEPS" run.dir="$OUT/runs" \
		run.name="bench-t$1" rollout.prompts_per_step="$PROMPTS" rollout.group_size="$GROUP" \
		algo.mini_batch="$MB" algo.micro_batch="$MB" run.resume=never
}
ref_cmd() { # python threads
	echo "$1" bench/ref_grpo.py --threads "$2" --steps "$STEPS" --prompts "$PROMPTS" --group "$GROUP"
}

report() {
	echo "## attnrl vs PyTorch eager: one GRPO step"
	echo
	echo "$(date '+%Y-%m-%d %H:%M:%S %Z') | CPU: ${cpu:-unknown}, $(nproc) cores | threads: $THREADS" \
	     "| torch $TORCH_VERSION and $TORCH2_VERSION (references), libtorch $libtorch (attnrl)" \
	     "| attnrl $commit" \
	     "| OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset: libgomp spins)}" \
	     "| GLIBC_TUNABLES=${GLIBC_TUNABLES:-(unset)}"
	echo
	echo "Model: llama, dim 128, 4 layers, 4 heads / 2 kv heads, char vocab 100, 0.75M parameters." \
	     "Step: $PROMPTS prompts x $GROUP responses x 64 new tokens ($((PROMPTS * GROUP * 64)) tokens)," \
	     "old log-probs recomputed, mini-batches of $MB (forward, backward, clip, AdamW)."
	for t in $THREADS; do
		echo
		echo "threads=$t:"
		echo "- \`$(attnrl_cmd "$t")\`"
		echo "- \`$(ref_cmd "$PY_REF" "$t")\`"
		echo "- \`$(ref_cmd "$PY_REF2" "$t")\`"
		echo "- load before the runs: $(cat "$OUT/load-t$t.txt")"
	done
	echo "$1"
}

for t in $THREADS; do
	uptime | sed 's/.*load average/load average/' > "$OUT/load-t$t.txt"
	rm -rf "$OUT/runs/bench-t$t"
	echo "bench: attnrl, $t thread(s), $STEPS steps ..." >&2
	# shellcheck disable=SC2046 # the commands are words without spaces
	"$PY_REF" bench/measure.py run "$OUT/attnrl-t$t" -- $(attnrl_cmd "$t") || {
		tail -n 20 "$OUT/attnrl-t$t.out" "$OUT/attnrl-t$t.err" >&2
		die "attnrl failed (log: $OUT/attnrl-t$t.out, $OUT/attnrl-t$t.err)"
	}
	echo "bench: PyTorch eager reference (torch $TORCH_VERSION), $t thread(s), $STEPS steps ..." >&2
	# shellcheck disable=SC2046
	"$PY_REF" bench/measure.py run "$OUT/ref-t$t" -- $(ref_cmd "$PY_REF" "$t") || {
		tail -n 20 "$OUT/ref-t$t.err" >&2
		die "the reference failed (log: $OUT/ref-t$t.err)"
	}
	echo "bench: PyTorch eager reference (torch $TORCH2_VERSION), $t thread(s), $STEPS steps ..." >&2
	# shellcheck disable=SC2046
	"$PY_REF" bench/measure.py run "$OUT/ref2-t$t" -- $(ref_cmd "$PY_REF2" "$t") || {
		tail -n 20 "$OUT/ref2-t$t.err" >&2
		die "the reference under $PY_REF2 failed (log: $OUT/ref2-t$t.err)"
	}
done

# shellcheck disable=SC2086 # a list of thread counts
tables=$("$PY_REF" bench/measure.py table "$OUT" $THREADS) || die "no report (see above)"
stamp=$(date +%Y%m%d-%H%M%S)
report "$tables" | tee "$OUT/report-$stamp.md"
echo >&2
echo "bench: report saved to $OUT/report-$stamp.md" >&2
