#!/usr/bin/env bash
# test_dist_emu.sh - the trainer's data parallelism on the NCCL backend, two ranks, without a
# GPU ($ATTNRL_BUILD/emu/check_dist: src/torch/trainer_dist.c, trainer_zero.c, dist.c and
# dist_nccl.c over the CUDA and NCCL emulation of tests/gpu/emu). The emulated NCCL refuses host
# memory and buffers written on another stream without an event wait; every sum must be exact. It
# proves the backend's memory and stream discipline and its slicing, not NCCL's behaviour on GPUs.
set -u
cd "$(dirname "$0")/.."
bin=${ATTNRL_BUILD:-build}/emu/check_dist
if [ ! -x "$bin" ]; then
	echo "FAIL: $bin is missing (make test builds it; or: make $bin)"
	exit 1
fi
out=$(timeout 120 "$bin" 2>&1)
rc=$?
echo "$out" | grep -v ': PASS$'
n=$(echo "$out" | grep -c '^CHECK rank .*: PASS$')
if [ $rc -ne 0 ] || [ "$n" -ne 28 ]; then
	echo "test_dist_emu: FAILED (exit $rc, $n of 28 checks passed)"
	exit 1
fi
echo "test_dist_emu: 2 ranks x 14 checks passed (all-reduce, ZeRO-1 reduce-scatter and all-gather, host scalars, broadcast, barrier)"
