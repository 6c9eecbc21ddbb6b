#!/usr/bin/env bash
# test_tokenizer_hf.sh - attnrl's byte-level BPE against Hugging Face's tokenizers core (PyPI
# tokenizers, the Rust crate's Python binding, run by tests/tokenizer/oracle.py) on the Qwen3
# and Llama 3 tokenizer.json of ../shared/tokenizers: the ids of every text of
# tests/tokenizer/gen_texts.py (GSM8K, MATH500 and generated texts) must be equal, so must the
# pre-tokens of the Split regex alone (HF: a WordLevel tokenizer with that pre-tokenizer;
# attnrl: tokenize --split), and decode(ids) must equal HF's decode(ids, skip_special_tokens)
# wherever HF's text is valid UTF-8 (see oracle.py). A Qwen3 variant with lstrip/rstrip added
# tokens checks those flags.
# The oracle runs with the project environment's python (scripts/install-deps.sh makes .venv).
# Without it the test skips, or fails when CI=true; without the tokenizer files of ../shared
# it skips.
# ATTNRL_BIN picks another binary (e.g. an ASan build of attnrl), ATTNRL_PY another python
# (with tokenizers), TOKENIZER_FIXTURES another folder holding qwen3/ and llama3/.
set -u
source tests/lib.sh
bin=${ATTNRL_BIN:-bin/attnrl}
py=${ATTNRL_PY:-.venv/bin/python}
fix=${TOKENIZER_FIXTURES:-../shared/tokenizers}

missing=""
for m in qwen3 llama3; do
	[ -f "$fix/$m/tokenizer.json" ] || missing="$missing $fix/$m/tokenizer.json"
done
no_py=""
if ! command -v "$py" >/dev/null; then
	no_py="$py"
elif ! hf_version=$("$py" tests/tokenizer/oracle.py version 2>/dev/null); then
	no_py="the tokenizers package of $py"
fi
if [ -n "$no_py" ]; then
	what="missing $no_py (Hugging Face's tokenizers from PyPI: bash scripts/install-deps.sh creates .venv)"
	[ -z "$missing" ] || what="$what and$missing (the tokenizer files of ../shared)"
	skip_unless_ci "$what"
fi
if [ -n "$missing" ]; then
	ci=""
	[ "${CI:-}" = true ] && ci=" (CI=true: skipped all the same, ../shared comes with the machine, not the repository)"
	echo "SKIP: missing$missing: the Qwen3 and Llama 3 tokenizer files, read from ../shared (or TOKENIZER_FIXTURES=DIR holding qwen3/ and llama3/)$ci"
	exit 0
fi
echo "oracle: tokenizers $hf_version ($py); tokenizer files from $fix"

python3 tests/tokenizer/gen_texts.py >"$tmp/texts.jsonl" 2>"$tmp/gen.log" || fail "gen_texts.py: $(cat "$tmp/gen.log")"
sed "s/^/note: /" "$tmp/gen.log"
n_texts=$(wc -l <"$tmp/texts.jsonl")
[ "$n_texts" -ge 2000 ] || fail "only $n_texts test texts"
# one tokenizer: encode (oracle and attnrl), compare, decode (attnrl, then the oracle compares);
# a line "m: ..." on success, "FAIL: ..." lines otherwise
check() { # name tokenizer.json texts.jsonl [ids-only]
	local m=$1 tok=$2 texts=$3 only=${4:-} d=$tmp/$1 n_texts
	mkdir -p "$d"
	n_texts=$(wc -l <"$texts")
	local more=("$d/decode_ids.txt" "$d/ref_split.txt")
	[ -z "$only" ] || more=()
	"$py" tests/tokenizer/oracle.py encode "$tok" "$texts" "${more[@]}" >"$d/ref.txt" 2>"$d/ref.err" || { echo "FAIL: $m: oracle encode: $(tail -n 1 "$d/ref.err")"; return; }
	$bin tokenize --tokenizer "$tok" --json <"$texts" >"$d/ours.txt" || { echo "FAIL: $m: attnrl tokenize"; return; }
	local bad lines split_bad=0
	[ -n "$only" ] || $bin tokenize --tokenizer "$tok" --json --split <"$texts" >"$d/split.txt" || { echo "FAIL: $m: attnrl tokenize --split"; return; }
	[ -n "$only" ] || split_bad=$(paste -d '\n' "$d/ref_split.txt" "$d/split.txt" | awk 'NR % 2 { r = $0; next } r != $0 { n++ } END { print n + 0 }')
	if [ "$split_bad" -ne 0 ]; then
		echo "FAIL: $m: $split_bad of $n_texts texts pre-tokenize differently; first ones (text, pre-token ends):"
		diff <(paste -d '\t' "$texts" "$d/ref_split.txt") <(paste -d '\t' "$texts" "$d/split.txt") | head -6 | cut -c1-300
	fi
	bad=$(paste -d '\n' "$d/ref.txt" "$d/ours.txt" | awk 'NR % 2 { r = $0; next } r != $0 { n++ } END { print n + 0 }')
	lines=$(wc -l <"$d/ours.txt")
	if [ "$bad" -ne 0 ] || [ "$lines" -ne "$n_texts" ]; then
		echo "FAIL: $m: $bad of $n_texts texts encode differently ($lines lines from attnrl); first ones (text, ids):"
		diff <(paste -d '\t' "$texts" "$d/ref.txt") <(paste -d '\t' "$texts" "$d/ours.txt") | head -6 | cut -c1-300
	fi
	if [ -n "$only" ]; then
		echo "$m: $n_texts texts, $bad encode mismatches"
		return
	fi
	$bin tokenize --tokenizer "$tok" --decode --json <"$d/decode_ids.txt" >"$d/dec.jsonl" || { echo "FAIL: $m: attnrl tokenize --decode"; return; }
	"$py" tests/tokenizer/oracle.py decode "$tok" "$d/decode_ids.txt" "$d/dec.jsonl" >"$d/dec.log" || echo "FAIL: $m: $(cat "$d/dec.log")"
	echo "$m: $n_texts texts, $split_bad pre-token mismatches, $bad encode mismatches, $(tail -n 1 "$d/dec.log")"
}

# the added-token flags the two files leave off: Qwen3 with lstrip/rstrip set on some specials,
# over the texts holding '<' and a few spaced-out ones
python3 - "$fix/qwen3/tokenizer.json" "$tmp/strip.json" "$tmp/texts.jsonl" "$tmp/strip_texts.jsonl" <<'PY' || fail "writing the lstrip/rstrip variant"
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
flags = {'<|im_start|>': ('lstrip',), '<|im_end|>': ('rstrip',), '<|endoftext|>': ('lstrip', 'rstrip'),
         '<think>': ('lstrip',)}
for a in d['added_tokens']:
    for f in flags.get(a['content'], ()):
        a[f] = True
json.dump(d, open(sys.argv[2], 'w', encoding='utf-8'))
texts = [l for l in open(sys.argv[3], encoding='utf-8') if '<' in l]
texts += [json.dumps(t) + '\n' for t in (' <|im_start|> x', 'a\u3000 <|endoftext|>\u2028 \n b',
          '<|im_end|>   \n\n', ' \t<|im_start|><|im_start|>  <|im_end|>  <|im_end|>', 'x <think>  <|endoftext|>')]
open(sys.argv[4], 'w', encoding='utf-8').writelines(texts)
PY

check qwen3 "$fix/qwen3/tokenizer.json" "$tmp/texts.jsonl" >"$tmp/qwen3.log" 2>&1 &
check llama3 "$fix/llama3/tokenizer.json" "$tmp/texts.jsonl" >"$tmp/llama3.log" 2>&1 &
check qwen3-strip "$tmp/strip.json" "$tmp/strip_texts.jsonl" ids-only >"$tmp/qwen3-strip.log" 2>&1
wait
for m in qwen3 llama3 qwen3-strip; do
	cat "$tmp/$m.log"
	fails=$((fails + $(grep -c '^FAIL' "$tmp/$m.log")))
done
echo "test_tokenizer_hf: $n_texts texts x 2 tokenizers + lstrip/rstrip variant (ids, pre-tokens, decode), $fails failed"
[ "$fails" -eq 0 ]
