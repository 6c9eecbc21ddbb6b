#!/usr/bin/env bash
# test_gpu_check.sh - scripts/gpu-check.sh --rehearse, the GPU check on a machine without a
# GPU: every build the GPU run makes (make CUDA=1, the kernel harness, the GPU engine and loop
# against the real CUDA headers) and the emulated kernels, engine and decode loop pass, every
# GPU-only step is reported as skipped, the summary is written. It builds what make CUDA=1
# builds, so it runs in the CUDA=1 build's make test only, where that is already done.
set -u
cd "$(dirname "$0")/.."
if [ "${ATTNRL_BUILD:-}" != build/cuda ]; then
	echo "SKIP: the rehearsal runs in the CUDA=1 build's make test (make CUDA=1 test)"
	exit 0
fi
source tests/lib.sh
OUT=$tmp scripts/gpu-check.sh --rehearse --deadline 300 >"$tmp/out" 2>&1
rc=$?
sum=$tmp/gpu-check/summary.txt
[ $rc -eq 0 ] || fail "gpu-check --rehearse: exit $rc"
[ -s "$sum" ] || fail "gpu-check --rehearse wrote no summary.txt"
for s in emu-build emu-kernels emu-step emu-engine emu-loop harness-build engine-build build run-cpu; do
	grep -qE "^  $s +PASS" "$sum" || fail "the rehearsal's step $s did not pass"
done
for s in kernels memcheck racecheck step check-engine check-rollout bench-rollout train-cuda qwen3; do
	grep -qE "^  $s +skipped \(no GPU\)" "$sum" || fail "the rehearsal's GPU step $s is not 'skipped (no GPU)'"
done
if [ "$fails" -ne 0 ]; then
	grep -E 'FAIL|NOT|error' "$tmp/out" | head -20
	tail -30 "$tmp/out"
fi
echo "test_gpu_check: $(grep -c ' PASS ' "$sum") steps passed, $(grep -c 'skipped (no GPU)' "$sum") GPU steps skipped; $fails failed"
[ "$fails" -eq 0 ]
