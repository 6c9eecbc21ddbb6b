#!/usr/bin/env bash
# reward.sh - the reward-program protocol's overhead per response (reward.command): N requests
# shaped like the default job's through 1 and 4 workers of a trivial Python verifier (parses
# the request, replies reward 1), against the same verifier reading the same requests from a
# file with no attnrl in between (the program's own cost) in the same run.
# Usage: bash bench/reward.sh [N]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/bench/reward_overhead >/dev/null
n=${1:-20000}
out=build/bench/reward
mkdir -p "$out"
cat >"$out/trivial.py" <<'PY'
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    sys.stdout.write(json.dumps({"id": r["id"], "reward": 1.0}) + "\n")
    sys.stdout.flush()
PY
cmd="python3 $out/trivial.py"
echo "reward.command = $cmd; $n requests; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
for w in 1 4; do
	printf '%d worker%s: ' "$w" "$([ "$w" = 1 ] && echo "" || echo s)"
	build/bench/reward_overhead "$cmd" "$w" "$n" "$out/requests.jsonl"
done
t0=$EPOCHREALTIME
python3 "$out/trivial.py" <"$out/requests.jsonl" >/dev/null
t1=$EPOCHREALTIME
python3 -c "import sys; print(f'the program alone, one process, requests from a file: {(float(sys.argv[2]) - float(sys.argv[1])) / int(sys.argv[3]) * 1e6:.3f} us per request')" "$t0" "$t1" "$n"
