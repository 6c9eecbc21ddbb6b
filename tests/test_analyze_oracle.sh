#!/usr/bin/env bash
# test_analyze_oracle.sh - analyze.h against numpy: tests/analyze_oracle prints random responses
# (many ties) with attnrl's peaks, pooled linkages and densities under four peak rules, the FAI
# extremes and 200 Jaccard overlaps; tests/ref/analyze_check.py recomputes them with numpy's
# quantile and stable sort, Python's re, and NLTK's published stop-word list (docs/method.md
# section 11). ATTNRL_BUILD picks the build folder holding tests/analyze_oracle.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
py=/usr/bin/python3
helper=${ATTNRL_BUILD:-build}/tests/analyze_oracle

if [ ! -x "$helper" ]; then
	echo "FAIL: $helper is missing (make test builds it; or: make $helper)"
	exit 1
fi
"$helper" > "$tmp/out.txt" || fail "$helper: exit $?"
"$py" tests/ref/analyze_check.py "$tmp/out.txt" || fail "numpy disagrees (above)"
[ "$fails" -eq 0 ]
