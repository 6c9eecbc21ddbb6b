#!/usr/bin/env bash
# test_kernels_emu.sh - the CUDA kernels (kernels/*.cu) run on the CPU by the emulation in
# tests/gpu/emu (a fiber per CUDA thread, real barrier and warp-shuffle semantics) against
# their CPU twins (src/kernels_cpu.c) on fresh random inputs: the GPU harness's checks at small
# sizes; then the GPU decode engine (src/engine_gpu.c) over them against the CPU engine, and the
# GPU decode loop (src/rollout_gpu.c) over that engine. It proves the kernels' indexing,
# synchronisation structure and arithmetic, not their behaviour on a GPU (scripts/gpu-check.sh
# does that).
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
# the GPU decode engine over the emulated kernels and cuBLAS, against the CPU engine
eng=build/emu/check_engine
if [ ! -x $eng ]; then
	echo "FAIL: $eng is missing (make test builds it; or: make $eng)"
	exit 1
fi
if ! out=$($eng 2>&1); then
	echo "$out" | tail -12
	echo "test_kernels_emu: the GPU engine differs from the CPU engine"
	exit 1
fi
echo "$out" | grep 'engine_gpu vs engine'
eng_out=$(echo "$out" | tail -1)
# the GPU decode loop (src/rollout_gpu.c) over the emulated engine: teacher-forced against the
# CPU engine, stop decisions, schedules of host checks, compaction and graphs
ro=build/emu/check_rollout
if [ ! -x $ro ]; then
	echo "FAIL: $ro is missing (make test builds it; or: make $ro)"
	exit 1
fi
if ! out=$($ro 2>&1); then
	echo "$out" | tail -12
	echo "test_kernels_emu: the GPU decode loop failed its checks"
	exit 1
fi
echo "$out" | grep -v '^check_rollout'
ro_out=$(echo "$out" | tail -1)
# gpu-check's decode benchmark, tiny, so that it keeps working (its numbers mean nothing here)
if ! out=$(build/emu/bench_rollout --small 2>&1) || [ "$(echo "$out" | grep -c '^PERF rollout')" -ne 6 ]; then
	echo "$out" | tail -5
	echo "test_kernels_emu: bench_rollout --small failed"
	exit 1
fi
echo "test_kernels_emu: $n emulated kernel checks passed; $eng_out; $ro_out; bench_rollout ran"
