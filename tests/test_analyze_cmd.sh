#!/usr/bin/env bash
# test_analyze_cmd.sh - `attnrl analyze` end to end on the default model: the held-out
# arithmetic split and a JSONL prompts file; the table has the three layer thirds, each with
# its three linkages as finite numbers, the peak densities and the perturbation summary, and
# --json holds the same numbers (tests/ref/analyze_cmd_check.py reads both), and so do the
# charts of --html; the same seed gives
# the same table whatever --batch; the top-q rule gives ceil(q R) peaks per response (the
# densities' floor); usage mistakes are one line with exit 2.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
source tests/lib.sh
an() { $bin analyze --model data/default-sft.safetensors configs/default.yaml train.threads=1 "$@"; }
small=(--n 6 --k 3 --bootstrap 200 --shuffles 50 --perturb-k 1 --alternatives 2)

# 1. the config's held-out split; the table against the JSON
an "${small[@]}" --json "$tmp/a.json" --html "$tmp/a.html" >"$tmp/a.txt" 2>"$tmp/a.err" ||
	fail "analyze: $(tail -n 2 "$tmp/a.err")"
$py tests/ref/analyze_cmd_check.py "$tmp/a.txt" "$tmp/a.json" 6 3 "$tmp/a.html" ||
	fail "table, JSON or HTML: $(cat "$tmp/a.txt")"

# 2. the same responses in calls of 4 sequences: the same numbers
an "${small[@]}" --batch 4 >"$tmp/b.txt" 2>&1 || fail "analyze --batch 4: $(tail -n 2 "$tmp/b.txt")"
diff <(grep -v ' in [0-9.]* s' "$tmp/a.txt") <(grep -v ' in [0-9.]* s' "$tmp/b.txt") >/dev/null ||
	fail "--batch 4 changed the results"

# 3. a prompts file (rows of a question or a prompt field, a blank line), local maxima, the
# sampled reference, stop words of its own
printf '{"question": "12+7="}\n\n{"prompt": "30-4+2="}\n{"question": "9+9-3="}\n' >"$tmp/p.jsonl"
printf 'the\nAnswer\n' >"$tmp/stop.txt"
an --prompts "$tmp/p.jsonl" --k 2 --bootstrap 100 --shuffles 0 --peaks localmax \
	--reference sampled --stopwords "$tmp/stop.txt" --perturb-k 1 --alternatives 1 \
	--json "$tmp/c.json" >"$tmp/c.txt" 2>"$tmp/c.err" || fail "analyze --prompts: $(tail -n 2 "$tmp/c.err")"
$py tests/ref/analyze_cmd_check.py "$tmp/c.txt" "$tmp/c.json" 3 2 || fail "prompts file: $(cat "$tmp/c.txt")"
grep -q "peaks localmax" "$tmp/c.txt" || fail "the peak rule is not in the report"

# 4. mistakes
expect "bad peak rule" 2 "--peaks 'top': expected topq or localmax" an --peaks top
expect "greedy sampling" 2 "--temperature 0: the analysis needs sampled responses" an --temperature 0
expect "no model" 2 "--model 'nope': not found" $bin analyze --model nope
expect "bad --json" 1 "cannot write it" an --n 1 --k 1 --json "$tmp/no/such/dir/a.json"
printf '{"question": "1+1="}\n\n{"text": "1+1="}\n' >"$tmp/bad.jsonl"
expect "prompt field" 1 "$tmp/bad.jsonl:3: no string field question, problem or prompt" an --prompts "$tmp/bad.jsonl"
printf '{"question": "1+1="}\n{"question": "2+2=" x}\n' >"$tmp/bad.jsonl"
expect "invalid row" 1 "$tmp/bad.jsonl:2: invalid JSON: line 1 col 21" an --prompts "$tmp/bad.jsonl"

echo "test_analyze_cmd: $fails failures"
[ "$fails" -eq 0 ]
