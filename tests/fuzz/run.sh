#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS TARGET... - runs each libFuzzer target build/fuzz/fuzz_TARGET for SECONDS
# on its seeds (tests/fuzz/corpus/TARGET, read only; new inputs go to build/fuzz/corpus/TARGET),
# after replaying tests/fuzz/regressions/TARGET/*. Hangs (-timeout=10), leaks and RSS over 2 GB are
# failures; crash inputs go to build/fuzz/artifacts/. Prints one line per target and exits
# non-zero when any target failed. FUZZ_ARGS adds libFuzzer flags.
set -u
secs=$1
shift
declare -A maxlen=([config]=4096 [safetensors]=4096 [hf_config]=4096 [tokenizer_bpe]=8192
		   [llama2c]=16384 [jsonl]=4096 [report]=8192 [reward]=4096)
mkdir -p build/fuzz/artifacts build/fuzz/logs
failed=0
for t in "$@"; do
	bin=build/fuzz/fuzz_$t log=build/fuzz/logs/$t.log
	mkdir -p "build/fuzz/corpus/$t"
	flags=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1
	       -artifact_prefix="build/fuzz/artifacts/$t-" -max_len="${maxlen[$t]:-4096}")
	[ -f "tests/fuzz/$t.dict" ] && flags+=(-dict="tests/fuzz/$t.dict")
	regs=(tests/fuzz/regressions/$t/*)
	if [ -e "${regs[0]}" ] && ! "$bin" "${flags[@]}" "${regs[@]}" >"$log.regressions" 2>&1; then
		echo "fuzz $t: FAILED on a regression input (see $log.regressions)"
		failed=1
		continue
	fi
	"$bin" "${flags[@]}" -max_total_time="$secs" ${FUZZ_ARGS:-} "build/fuzz/corpus/$t" \
		"tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	if [ "$rc" -ne 0 ]; then
		failed=1
		echo "fuzz $t: FAILED (exit $rc, see $log): $(grep -m1 -E 'ERROR|runtime error|ALARM|out-of-memory' "$log")"
		ls -1 build/fuzz/artifacts/"$t"-* 2>/dev/null | sed 's/^/  artifact: /'
	fi
	# libFuzzer stops at the first crash, leak, hang or OOM
	printf 'fuzz %-14s %ss: %s runs (%s/s), cov %s ft %s, %s crashes\n' "$t" "$secs" \
		"${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$((rc ? 1 : 0))"
done
exit $failed
