#!/usr/bin/env bash
# test_words.sh - the product speaks of itself only: no file of the repository (code, comments,
# docs, scripts, tests) cites tracker numbers or tells how its work was organised (who worked
# when, on which machines). Such history belongs in the git log. Fuzz inputs and fixtures are
# data.
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
words='\bissues? ?#?[0-9]+|\bsessions?\b|\blent\b|\bnot drawn for\b'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files)
else
	files=$(find . -type f -not -path './.git/*' -not -path './build/*' -not -path './.venv/*' | sed 's|^\./||')
fi
hits=$(printf '%s\n' $files | grep -vE '^tests/(fuzz/(corpus|regressions)|fixtures)/|^tests/test_words\.sh$' |
	xargs grep -nIiE "$words" 2>/dev/null)
[ -z "$hits" ] || fail "process words in the product:"$'\n'"$hits"
echo "test_words: $(printf '%s\n' $files | wc -l) files searched; $( [ -z "$hits" ] && echo 0 || echo "$hits" | wc -l) lines with process words"
[ "$fails" -eq 0 ]
