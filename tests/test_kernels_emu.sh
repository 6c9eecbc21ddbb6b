#!/usr/bin/env bash
# test_kernels_emu.sh - the CUDA kernels (kernels/*.cu) run on the CPU by the emulation in
# tests/gpu/emu (a fiber per CUDA thread, real barrier and warp-shuffle semantics) against
# their CPU twins (src/kernels_cpu.c) on fresh random inputs: the GPU harness's checks at small
# sizes; then the GPU decode engine (src/engine_gpu.c) over them against the CPU engine, and the
# GPU decode loop (src/rollout_gpu.c) over that engine; gpu-check's two benchmarks at tiny
# shapes, so that they keep working. It proves the kernels' indexing, synchronisation
# structure and arithmetic, not their behaviour on a GPU (scripts/gpu-check.sh does that).
set -u
cd "$(dirname "$0")/.."
# emu NAME ARGS...: runs $ATTNRL_BUILD/emu/NAME (build/emu/NAME); its output in $out, its status returned
emu() {
	local bin=${ATTNRL_BUILD:-build}/emu/$1
	shift
	if [ ! -x "$bin" ]; then
		echo "FAIL: $bin is missing (make test builds it; or: make $bin)"
		exit 1
	fi
	out=$("$bin" "$@" 2>&1)
}
# fails with the last lines of $out and a message
die() {
	echo "$out" | tail -"$1"
	echo "test_kernels_emu: $2"
	exit 1
}
emu check_kernels --small
rc=$?
echo "$out" | grep -E 'FAIL|emu:' || true
n=$(echo "$out" | grep -c '^CHECK.*PASS$')
[ $rc -eq 0 ] && [ "$n" -ge 20 ] || die 5 "FAILED (exit $rc, $n checks passed)"
# a device that allows 99 or 48 KiB of shared memory per block (an L40, an older GPU) instead of
# an H100's 227: the attention cases with a long FAI band keep no scores and recompute them, to
# the same bytes
ck_out=$out
for smem in 101376 49152; do
	ATTNRL_EMU_SMEM_OPTIN=$smem emu check_kernels --small
	[ "$out" = "$ck_out" ] || die 5 "the kernel checks differ at a shared memory limit of $smem bytes"
done
# the GPU decode engine over the emulated kernels and cuBLAS, against the CPU engine
emu check_engine || die 12 "the GPU engine differs from the CPU engine"
echo "$out" | grep 'engine_gpu vs engine'
eng_out=$(echo "$out" | tail -1)
# the GPU decode loop (src/rollout_gpu.c) over the emulated engine: teacher-forced against the
# CPU engine, stop decisions, schedules of host checks, compaction and graphs
emu check_rollout || die 12 "the GPU decode loop failed its checks"
echo "$out" | grep -v '^check_rollout'
ro_out=$(echo "$out" | tail -1)
digest=$(echo "$out" | grep 'digest')
# ... and its case with a long FAI band on a device with 48 KiB of shared memory per block
[ -n "$digest" ] && ATTNRL_EMU_SMEM_OPTIN=49152 emu check_rollout --slots &&
	[ "$(echo "$out" | grep 'digest')" = "$digest" ] ||
	die 5 "the decode loop differs at a shared memory limit of 48 KiB"
# gpu-check's decode benchmark, tiny, so that it keeps working (its numbers mean nothing here)
emu bench_rollout --small && [ "$(echo "$out" | grep -c '^PERF rollout')" -eq 8 ] ||
	die 5 "bench_rollout --small failed"
# gpu-check's decode-step benchmark likewise: every timing line, and per-kernel tables whose
# shares add up to the step (one row per kernel name, no launch left out)
emu bench_decode && [ "$(echo "$out" | grep -c '^PERF step B=')" -eq 12 ] ||
	die 5 "bench_decode failed"
shares=$(echo "$out" | awk '/^KERNEL breakdown/ { if (n) print s; s = 0; n++; next }
	/^KERNEL / && $NF ~ /%$/ { s += $NF + 0 } END { if (n) print s }')
[ "$(echo "$shares" | awk '$1 > 99.5 && $1 < 100.5' | wc -l)" -eq 2 ] ||
	die 30 "bench_decode's kernel shares do not add up to the step: $(echo $shares)"
echo "test_kernels_emu: $n emulated kernel checks passed (the same at 227, 99 and 48 KiB of" \
	"shared memory); $eng_out; $ro_out; bench_rollout and bench_decode ran"
