#!/usr/bin/env bash
# test_export.sh - `attnrl export`: a one-step run exported as a Hugging Face folder holds the
# run's weights exactly (fp32: same bits; bf16: torch's rounding), judged by tests/ref/hf_ref.py
# (json + numpy + torch); a run that started from a Hugging Face folder takes its shape, dtype
# and tokenizer files from that folder, not from config.yaml's model.* keys; checkpoints by
# --step; never into a run's folder, over an earlier export only with --force; the built-in
# character vocabulary exported as a tokenizer.json that generate, eval and transformers read
# with the run's ids; one-line errors.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
source tests/lib.sh

if ! $py -c 'import torch, numpy' 2>/dev/null; then
	echo "test_export: SKIP ($py with torch and numpy is needed for the reference)"
	exit 0
fi
$bin train configs/default.yaml train.steps=1 rollout.prompts_per_step=2 rollout.group_size=2 \
	algo.mini_batch=4 train.eval_every=0 train.threads=1 run.dir="$tmp" run.name=r1 >"$tmp/train.log" 2>&1 ||
	fail "training: $(tail -n 3 "$tmp/train.log")"
w1=$tmp/r1/model.safetensors

expect "export fp32" 0 "float32" $bin export "$tmp/r1" --out "$tmp/hf32"
checks=("$tmp/hf32" "$w1")
expect "export bf16" 0 "bfloat16" $bin export "$tmp/r1" --out "$tmp/hfbf" --dtype bfloat16
checks+=("$tmp/hfbf" "$w1")
[ -e "$tmp/hf32.tmp" ] && fail "hf32.tmp left behind"

# a run that started from a Hugging Face folder: its config.yaml's model.* keys say another
# shape (dim 64, qwen3), the folder's config.json is what counts
echo '{"fake": "tokenizer"}' >"$tmp/hfbf/tokenizer.json"
echo '{"model_max_length": 256}' >"$tmp/hfbf/tokenizer_config.json"
mkdir -p "$tmp/r2/ckpt/step_1"
$bin config configs/default.yaml model.path="$tmp/hfbf" model.dim=64 model.arch=qwen3 >"$tmp/r2/config.yaml"
cp "$w1" "$tmp/r2/ckpt/step_1/model.safetensors"
expect "checkpoint without DONE" 1 "checkpoint without DONE" $bin export "$tmp/r2" --step 1 --out "$tmp/x"
touch "$tmp/r2/ckpt/step_1/DONE"
expect "export from an HF start" 0 "step_1/model.safetensors" $bin export "$tmp/r2" --step 1 --out "$tmp/out/nested/hf2"
cp -r "$tmp/out/nested/hf2" "$tmp/hf2_bf16"
checks+=("$tmp/hf2_bf16" "$w1")
grep -q '"torch_dtype": "bfloat16"' "$tmp/out/nested/hf2/config.json" || fail "default dtype is not the source folder's"
cmp -s "$tmp/hfbf/tokenizer.json" "$tmp/out/nested/hf2/tokenizer.json" || fail "tokenizer.json not copied"
cmp -s "$tmp/hfbf/tokenizer_config.json" "$tmp/out/nested/hf2/tokenizer_config.json" || fail "tokenizer_config.json not copied"
# exporting again into the folder of an earlier export: refused, then replaced with --force
sums() { (cd "$1" && find . -type f ! -name LOCK | sort | xargs sha256sum); }
before=$(sums "$tmp/out/nested/hf2")
expect "over an earlier export" 2 "already holds config.json; give --force" $bin export "$tmp/r2" --step 1 --out "$tmp/out/nested/hf2" --dtype float32
[ "$(sums "$tmp/out/nested/hf2")" = "$before" ] || fail "a refused export changed the files"
expect "export --force over an earlier export" 0 "float32" $bin export "$tmp/r2" --step 1 --out "$tmp/out/nested/hf2" --dtype float32 --force
[ "$(sums "$tmp/out/nested/hf2")" != "$before" ] || fail "--force did not replace the files"
ls "$tmp/out/nested" | grep -q tmp && fail "--force left a temporary file: $(ls "$tmp/out/nested")"
checks+=("$tmp/out/nested/hf2" "$w1")
# one Python start judges every export (torch takes a second or two to import)
$py tests/ref/hf_ref.py weights "${checks[@]}" || fail "an export differs from the run's weights"

# a run's folder is never written, with --force neither: the run itself, its checkpoint,
# another run; the run's files stay as they were
before=$(sums "$tmp/r1")
expect "into the run itself" 2 "--out '$tmp/r1' is the run being exported" $bin export "$tmp/r1" --out "$tmp/r1"
expect "into the run itself, --force" 2 "is the run being exported" $bin export "$tmp/r1" --out "$tmp/r1/" --force
expect "into its checkpoint" 2 "step_1' is a run's folder (it holds" $bin export "$tmp/r1" --out "$tmp/r1/ckpt/step_1" --force
expect "into another run" 2 "is a run's folder (it holds config.yaml)" $bin export "$tmp/r1" --out "$tmp/r2" --force
[ "$(sums "$tmp/r1")" = "$before" ] || fail "a refused export changed the run's files"
mkdir "$tmp/empty"
expect "into an empty folder" 0 "float32" $bin export "$tmp/r1" --out "$tmp/empty"

# the character vocabulary (model.tokenizer empty) goes out as tokenizer.json and
# tokenizer_config.json: generate and eval read the folder and answer as the run does
gen() { $bin generate train.threads=1 --prompt "12+30=" --max-new-tokens 12 --temperature 0 "$@" 2>&1; }
[ -f "$tmp/hf32/tokenizer.json" ] && [ -f "$tmp/hf32/tokenizer_config.json" ] || fail "no tokenizer files in a character-vocabulary export"
a=$(gen --model "$tmp/hf32") b=$(gen --model "$w1" configs/default.yaml)
[ "$a" = "$b" ] || fail "generate from the export: '$a', from the run: '$b'"
ev() { $bin eval train.threads=1 --limit 6 --max-new-tokens 16 "$@" >/dev/null; }
ev --model "$tmp/hf32" configs/default.yaml --json "$tmp/e_hf.json" || fail "eval of the export"
ev --model "$tmp/r1" --json "$tmp/e_run.json" || fail "eval of the run"
$py -c 'import json,sys; a,b=(json.load(open(f))["per_problem"] for f in sys.argv[1:]); sys.exit(0 if a==b else 1)' \
	"$tmp/e_hf.json" "$tmp/e_run.json" || fail "eval of the export differs from the run's"
# ... and Hugging Face's transformers gives the ids of the documented vocabulary (<pad> <bos>
# <eos>, tab, newline, then bytes 32..126; BOS in front), as attnrl tokenize does
hpy=${ATTNRL_PY:-.venv/bin/python}
if "$hpy" -c 'import transformers' 2>/dev/null; then
	texts=$'12+30=\nhello, World! {"a": [1]}\t~\n<answer>42</answer><eos>'
	printf '%s\n' "$texts" | $bin tokenize --tokenizer "$tmp/hf32" >"$tmp/ids.txt" || fail "attnrl tokenize of the export"
	"$hpy" - "$tmp/hf32" "$tmp/ids.txt" "$texts" <<'PY' || fail "transformers' ids of the exported tokenizer"
import sys
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1])
ours = [[int(x) for x in l.split()] for l in open(sys.argv[2])]
texts = sys.argv[3].split("\n")
def doc(s):
    ids, i = [], 0
    while i < len(s):
        if s.startswith("<eos>", i):
            ids.append(2); i += 5; continue
        c = s[i]; i += 1
        ids.append(3 if c == "\t" else 4 if c == "\n" else ord(c) - 27)
    return ids
assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, len(tok)) == (0, 1, 2, 100), tok
for t, o in zip(texts, ours):
    hf = tok(t)["input_ids"]
    assert hf == [1] + o == [1] + doc(t), (t, hf, o, doc(t))
    assert tok.decode(hf, skip_special_tokens=True) == t.replace("<eos>", ""), t
PY
elif [ "${CI:-}" = true ]; then
	fail "$hpy with transformers is needed to check the exported tokenizer"
else
	echo "test_export: transformers check skipped ($hpy has no transformers)"
fi

expect "absent checkpoint" 1 "no checkpoint of step 7 (checkpoints: 1)" $bin export "$tmp/r2" --step 7 --out "$tmp/x"
expect "unfinished run" 1 "r2/model.safetensors: not found" $bin export "$tmp/r2" --out "$tmp/x"
expect "not a run" 1 "is not a run directory (no config.yaml)" $bin export "$tmp/nope" --out "$tmp/x"
expect "bad dtype" 2 "--dtype 'fp8': expected float32, bfloat16 or float16" $bin export "$tmp/r1" --out "$tmp/x" --dtype fp8
mkdir -p "$tmp/r3"
$bin config configs/default.yaml model.path="$tmp/gone" >"$tmp/r3/config.yaml"
cp "$w1" "$tmp/r3/model.safetensors"
expect "source folder gone" 1 "model.path '$tmp/gone' of the run is gone" $bin export "$tmp/r3" --out "$tmp/x"
[ -e "$tmp/x" ] && fail "a failed export left $tmp/x"
echo "test_export: $fails failed"
[ "$fails" -eq 0 ]
