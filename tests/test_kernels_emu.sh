#!/usr/bin/env bash
# test_kernels_emu.sh - the CUDA kernels (kernels/*.cu) run on the CPU by the emulation in
# tests/gpu/emu (a fiber per CUDA thread, real barrier and warp-shuffle semantics) against
# their CPU twins (src/kernels_cpu.c) on fresh random inputs: the GPU harness's checks at small
# sizes. It proves the kernels' indexing, synchronisation structure and arithmetic, not their
# behaviour on a GPU (scripts/gpu-check.sh does that).
set -u
cd "$(dirname "$0")/.."
bin=build/emu/check_kernels
if [ ! -x $bin ]; then
	echo "FAIL: $bin is missing (make test builds it; or: make $bin)"
	exit 1
fi
out=$($bin --small 2>&1)
rc=$?
echo "$out" | grep -E 'FAIL|emu:' || true
n=$(echo "$out" | grep -c '^CHECK.*PASS$')
if [ $rc -ne 0 ] || [ "$n" -lt 20 ]; then
	echo "$out" | tail -5
	echo "test_kernels_emu: FAILED (exit $rc, $n checks passed)"
	exit 1
fi
echo "test_kernels_emu: $n emulated kernel checks passed"
