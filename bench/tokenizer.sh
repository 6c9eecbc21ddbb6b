#!/usr/bin/env bash
# tokenizer.sh - encode throughput of attnrl's byte-level BPE against Hugging Face's tokenizers
# core (PyPI tokenizers, the Rust crate's Python binding, run by tests/tokenizer/oracle.py), same
# corpus, same machine, one thread (RAYON_NUM_THREADS=1 for HF), for the Qwen3 and Llama 3
# tokenizer.json of ../shared/tokenizers.
# Both sides time encoding only (not loading, not reading the corpus): attnrl with
# `tokenize --time` (the time inside tokenizer_encode), HF in Python around encode() per text
# and around encode_batch() of 1000 texts. Load times are printed beside.
# Corpus: GSM8K train questions and answers (DATA_DIR/gsm8k/train.jsonl, about 3.9 MB), else
# 20,000 texts of tests/tokenizer/gen_texts.py. Needs the project environment's python
# (ATTNRL_PY, default .venv/bin/python: bash scripts/install-deps.sh creates it).
# Usage: bash bench/tokenizer.sh        (DATA_DIR=/work/shared/data by default)
set -euo pipefail
cd "$(dirname "$0")/.."
fix=${TOKENIZER_FIXTURES:-../shared/tokenizers}
py=${ATTNRL_PY:-.venv/bin/python}
data=${DATA_DIR:-/work/shared/data}
out=build/bench/tokenizer
mkdir -p "$out"
"$py" tests/tokenizer/oracle.py version >/dev/null 2>&1 || { echo "bench/tokenizer.sh: no Hugging Face tokenizers in $py: run bash scripts/install-deps.sh (it creates .venv)"; exit 1; }
for m in qwen3 llama3; do
	[ -f "$fix/$m/tokenizer.json" ] || { echo "bench/tokenizer.sh: $fix/$m/tokenizer.json not found (the tokenizer files of ../shared)"; exit 1; }
done
make -s bin/attnrl >/dev/null
if [ -f "$data/gsm8k/train.jsonl" ]; then
	python3 -c 'import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    row = json.loads(line)
    for k in ("question", "answer"):
        print(json.dumps(row[k]))' "$data/gsm8k/train.jsonl" >"$out/corpus.jsonl"
	what="GSM8K train questions and answers"
else
	python3 tests/tokenizer/gen_texts.py --count 20000 /nonexistent >"$out/corpus.jsonl" 2>/dev/null
	what="20,000 generated texts (tests/tokenizer/gen_texts.py)"
fi
echo "corpus: $what, $(wc -l <"$out/corpus.jsonl") texts, $(wc -c <"$out/corpus.jsonl") bytes of JSON lines; load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
mbs() { sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' | sort -g | tail -n 1; }
for m in qwen3 llama3; do
	tok=$fix/$m/tokenizer.json
	ours=$(for i in 1 2 3; do bin/attnrl tokenize --tokenizer "$tok" --json --time <"$out/corpus.jsonl" 2>&1 >/dev/null; done)
	hf=$(RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false "$py" tests/tokenizer/oracle.py bench "$tok" "$out/corpus.jsonl")
	echo "== $m"
	echo "$ours" | sed 's/^/  /'
	echo "$hf" | sed 's/^/  /'
	a=$(echo "$ours" | mbs)
	b=$(echo "$hf" | mbs)
	echo "  $m: attnrl $a MB/s (best of 3), HF $b MB/s (its faster mode): $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", a / b }')x"
done
