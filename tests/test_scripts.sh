#!/usr/bin/env bash
# test_scripts.sh - the scripts the README and docs/ tell a user to run run as written: every
# shell script they name (scripts/, bench/, tests/) and every scripts/*.sh is committed executable
# (mode 100755; outside a git checkout: executable) and starts with a shebang. And
# scripts/gpu-check.sh, which only a GPU machine runs in full, keeps its interface: one-line
# refusals of bad options, its plan, and a summary even when the deadline leaves no time.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh

# paths of scripts anywhere in the text, and whatever `bash X` or `sudo X` runs when X is a path
docs="README.md $(ls docs/*.md)"
named=$( {
	grep -ohE '(scripts|bench|tests)/[A-Za-z0-9_./-]+\.(sh|sbatch)' $docs
	grep -ohE '(^|[ `(])(bash|sudo) +[A-Za-z0-9_.-]*/[A-Za-z0-9_./-]+' $docs | awk '{ print $NF }'
} | sort -u)
echo "$named" | grep -qx 'scripts/install-deps.sh' || fail "README.md and docs/ do not name scripts/install-deps.sh (is the pattern stale?)"
[ "$(echo "$named" | grep -c '^scripts/')" -ge 3 ] || fail "README.md and docs/ name fewer than 3 scripts/ (is the pattern stale?)"
n=0
for f in $(printf '%s\n' $named scripts/*.sh | sort -u); do
	n=$((n + 1))
	if [ ! -f "$f" ]; then
		fail "README.md or docs/ names $f, which does not exist"
		continue
	fi
	mode=$(git ls-files -s -- "$f" 2>/dev/null | cut -d' ' -f1)
	if [ -n "$mode" ]; then
		[ "$mode" = 100755 ] || fail "$f is committed with mode $mode (git update-index --chmod=+x $f)"
	elif [ ! -x "$f" ]; then
		fail "$f is not executable (chmod +x $f)"
	fi
	[ "$(head -c 2 "$f")" = '#!' ] || fail "$f does not start with a shebang (#!/usr/bin/env bash)"
done

gc=scripts/gpu-check.sh
expect "an unknown part" 2 "unknown part 'kernel'" $gc --parts kernel,build
expect "an unknown part from the environment" 2 "unknown part 'gpu'" env GPU_CHECK_PARTS=gpu $gc
expect "a bad deadline" 2 "deadline '9m' is not a whole number" $gc --deadline 9m
expect "an unknown option" 2 "unknown option '--parts-all'" $gc --parts-all
expect "the plan" 0 "build, qwen3 (5 steps" $gc --plan --rehearse --parts qwen3
expect "the plan's prerequisites" 0 "gpu-check needs: a GPU; nvcc; a CUDA torch" $gc --plan --rehearse
# no time for any step: each is reported as not started, the summary still comes, exit 1
out=$(OUT=$tmp $gc --rehearse --deadline 1 --parts kernels,build 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "gpu-check past its deadline: exit $rc (want 1)"
[[ $out == *"harness-build  NOT STARTED (the deadline came)"* ]] || fail "gpu-check past its deadline: no 'NOT STARTED' row: $out"
[ -s "$tmp/gpu-check/summary.txt" ] || fail "gpu-check past its deadline wrote no summary.txt"
echo "test_scripts: $n scripts checked; $fails failed"
[ "$fails" -eq 0 ]
