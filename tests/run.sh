#!/usr/bin/env bash
# run.sh - runs every test program (build/tests/test_*) and shell test (tests/test_*.sh) from
# the repository root, prints one line per test and ends with "N passed, N failed".
# TEST_BIN_DIR picks another build of the programs (the sanitizer one), ATTNRL_BUILD the build
# folder (build, build/pip, build/cuda) and ATTNRL_BIN its attnrl (make test sets both, for the
# shell tests); TEST_ONLY limits to the named tests (programs and scripts).
set -u
cd "$(dirname "$0")/.."
bin_dir=${TEST_BIN_DIR:-build/tests}
only=${TEST_ONLY:-}
pass=0
fail=0
failed=()
log_dir=${ATTNRL_BUILD:-build}/test-logs
mkdir -p "$log_dir"

run_one() { # name, command...
	local name=$1
	shift
	local t0=$(date +%s%N)
	if "$@" >"$log_dir/$name.log" 2>&1; then
		pass=$((pass + 1))
		local ms=$((($(date +%s%N) - t0) / 1000000))
		printf 'PASS  %-28s %4d.%01ds  %s\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) "$(tail -n 1 "$log_dir/$name.log")"
	else
		fail=$((fail + 1))
		failed+=("$name")
		printf 'FAIL  %-28s (log: %s)\n' "$name" "$log_dir/$name.log"
		tail -n 20 "$log_dir/$name.log" | sed 's/^/      /'
	fi
}

for t in "$bin_dir"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then
		continue
	fi
	run_one "$name" "$t"
done
for s in tests/test_*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then
		continue
	fi
	run_one "$name" bash "$s"
done
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
