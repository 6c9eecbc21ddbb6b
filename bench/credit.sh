#!/usr/bin/env bash
# credit.sh - the cost of attention-rhythm credit: the same GRPO step with credit off,
# with statistics streamed from the decode attention (credit.compute=stream), and the paper's
# way (credit.compute=maps: a separate forward per response that materialises N x N maps), for
# response lengths 128..1024. Prints step time, the overhead over credit off, and peak memory.
# Usage: bash bench/credit.sh [lengths...]   (THREADS=2 by default; 8 responses per step)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s bin/attnrl build/bench/stats_overhead >/dev/null
threads=${THREADS:-2}
lengths=${*:-128 256 512 1024}
out=build/bench/credit
mkdir -p "$out"

run() { # name length overrides... -> prints "step_s rollout_s credit_s peak_mib" (medians)
	local name=$1 len=$2
	shift 2
	/usr/bin/time -f "%M" -o "$out/$name.rss" bin/attnrl train configs/bench.yaml \
		run.dir="$out" run.name="$name" run.resume=never train.threads="$threads" train.steps=4 \
		rollout.prompts_per_step=2 rollout.group_size=4 algo.mini_batch=8 algo.micro_batch=8 \
		rollout.max_new_tokens="$len" model.max_seq_len=$((len + 32)) "$@" >"$out/$name.log" 2>&1
	python3 - "$out/$name/metrics.jsonl" "$out/$name.rss" <<'PY'
import json, sys
rows = [r for r in map(json.loads, open(sys.argv[1])) if "time_step_s" in r][1:]  # step 1 is a warm-up
med = lambda k: sorted(r[k] for r in rows)[len(rows) // 2]
print(f"{med('time_step_s'):.4f} {med('time_rollout_s'):.4f} {med('time_credit_s'):.4f} "
      f"{int(open(sys.argv[2]).read().split()[-1]) / 1024:.0f}")
PY
}

echo "## Credit cost: step time and peak memory ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, threads=$threads, $(uptime | sed 's/.*load/load/'))"
echo
echo "8 responses per step of exactly N tokens (EOS ignored), configs/bench.yaml model, coupled credit;"
echo "medians of steps 2-4. The update does the same work in all three, so the overhead is"
echo "(rollout time - rollout time off + time_credit_s) / step time off; the process's peak memory is"
echo "mostly the training forward's activations (the statistics' own memory is in the next table)."
echo
echo "| N | step, credit off (s) | streamed: rollout + credit (s) | streamed overhead | maps: rollout + credit (s) | maps overhead | peak MiB off / streamed / maps |"
echo "|---:|---:|---:|---:|---:|---:|---|"
for n in $lengths; do
	read -r s0 r0 c0 m0 < <(run "off-$n" "$n" credit.strategy=none)
	read -r s1 r1 c1 m1 < <(run "stream-$n" "$n" credit.strategy=coupled credit.compute=stream)
	read -r s2 r2 c2 m2 < <(run "maps-$n" "$n" credit.strategy=coupled credit.compute=maps)
	python3 -c "
s0,r0,r1,c1,r2,c2=$s0,$r0,$r1,$c1,$r2,$c2
print(f'| $n | {s0:.3f} | {r1:.3f} + {c1:.4f} | {100*(r1+c1-r0)/s0:+.1f}% | {r2:.3f} + {c2:.3f} | {100*(r2+c2-r0)/s0:+.1f}% | $m0 / $m1 / $m2 |')"
done

echo
echo "Inside the rollout alone (bench/stats_overhead.c: the same 8 x N-token rollout with and without"
echo "streamed statistics, best of 5 alternated runs, OMP_NUM_THREADS=$threads):"
echo
OMP_NUM_THREADS=$threads build/bench/stats_overhead 8 $lengths
