#!/usr/bin/env bash
# test_cli.sh - the command line as a user meets it: config errors are one line with exit
# code 2 (credit.* included); run-time errors about a folder given for data.path or weights of
# another shape or vocabulary name what to change; `config` prints a config that reloads to
# itself; unknown commands are refused; every command's --help has a line for each of its flags;
# the config reference of docs/config.md and the command list of docs/commands.md are exactly
# what the tables generate.
set -u
bin=${ATTNRL_BIN:-bin/attnrl}
source tests/lib.sh

expect "typo in an override" 2 "did you mean rollout.group_size?" $bin config configs/default.yaml rollout.group_szie=4
printf 'rollout:\n  group_sise: 4\n' >"$tmp/typo.yaml"
expect "typo in a file" 2 "$tmp/typo.yaml:2:3: unknown key 'rollout.group_sise' (did you mean rollout.group_size?)" $bin config "$tmp/typo.yaml"
expect "wrong type" 2 "rollout.group_size: 'many' is not an integer" $bin config configs/default.yaml rollout.group_size=many
expect "out of range" 2 "rollout.top_p" $bin config configs/default.yaml rollout.top_p=1.5
expect "batch arithmetic" 2 "algo.mini_batch=48 does not divide the rollout batch of 128" $bin train configs/default.yaml algo.mini_batch=48
expect "missing file" 2 "no-such.yaml" $bin train no-such.yaml
expect "unknown command" 2 "unknown command 'trian'" $bin trian
expect "config prints YAML" 0 "group_size: 4" $bin config configs/default.yaml rollout.group_size=4

# credit.* mistakes are config errors (exit 2), like every other key; messages that name the fix
expect "credit window" 2 "credit.fai_lo=5 is above credit.fai_hi=1" $bin config configs/default.yaml credit.fai_lo=5 credit.fai_hi=1
expect "credit tau" 2 "credit.tau_waad: 'x' is neither 'auto' nor a number >= 0" $bin config configs/default.yaml credit.tau_waad=x
expect "credit layers" 2 "credit.layers: '2,1' is neither 'auto' nor an ascending list of layer indices in [0, 4)" $bin config configs/default.yaml credit.layers=2,1
expect "credit maps" 2 "credit.compute=maps supports credit.head_grouping=per_response only" $bin train configs/default.yaml credit.compute=maps credit.head_grouping=per_batch
expect "data.path a folder" 1 "attnrl train: data.path '$tmp' is a directory; expected a JSONL file" $bin train configs/default.yaml data.task=math data.path="$tmp" run.dir="$tmp/r"
if [ -d ../shared/tokenizers/qwen3 ]; then
	expect "vocabulary of the weights" 1 "the file's vocabulary is 100 tokens, model.tokenizer's 151669: give model.tokenizer the one it was trained with" \
		$bin train configs/default.yaml model.tokenizer=../shared/tokenizers/qwen3 train.memory_check=false run.dir="$tmp/r"
else
	echo "test_cli: SKIP: the vocabulary case (../shared/tokenizers/qwen3 not found)"
fi
expect "shape of the weights" 1 "missing tensor 'model.layers.4.input_layernorm.weight' [128]; set model.n_layers=4 as the file was written" \
	$bin train configs/default.yaml model.n_layers=5 run.dir="$tmp/r"

# the printed config is a config: it reloads to the same text
$bin config configs/default.yaml rollout.top_k=5 optim.lr=3e-4 >"$tmp/a.yaml"
$bin config "$tmp/a.yaml" >"$tmp/b.yaml"
cmp -s "$tmp/a.yaml" "$tmp/b.yaml" || fail "printed config does not reload to itself"

# docs/config.md's reference = the option table
sed -n '/<!-- config-reference:begin -->/,/<!-- config-reference:end -->/p' docs/config.md | sed '1d;$d' >"$tmp/doc.md"
$bin config --reference >"$tmp/table.md"
[ -s "$tmp/doc.md" ] || fail "docs/config.md has no config-reference block"
if ! cmp -s "$tmp/doc.md" "$tmp/table.md"; then
	fail "docs/config.md's config reference is stale; regenerate it with 'make config-ref'"
	diff "$tmp/doc.md" "$tmp/table.md" | head -5
fi

# every command: --help (-h) prints its usage and one line per flag, exit 0; an unknown flag is
# one line ending with the usage, exit 2
cmds=$($bin help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | grep -vx help)
[ "$(echo $cmds | wc -w)" -eq 12 ] || fail "attnrl help lists these commands: $cmds"
for c in $cmds; do
	out=$($bin $c --help)
	rc=$?
	[ "$rc" -eq 0 ] || fail "$c --help: exit $rc"
	usage=$(printf '%s\n' "$out" | head -n 1)
	[[ "$usage" == "usage: attnrl $c "* ]] || fail "$c --help: first line '$usage'"
	for f in $(printf '%s\n' "$usage" | grep -oE -- '--[a-z-]+'); do
		printf '%s\n' "$out" | grep -qE -- "^  $f( |$)" || fail "$c --help: no line for $f"
	done
	printf '%s\n' "$out" | grep -qE '^  -h, --help +this text$' || fail "$c --help: no -h line"
	[ "$($bin $c -h)" = "$out" ] || fail "$c -h differs from $c --help"
	expect "$c: unknown flag" 2 "attnrl $c: unknown flag '--no-such-flag'; $usage" $bin $c --no-such-flag
done
expect "report --help" 0 "  --samples N        logged samples drawn with their attention rhythm; an integer in [0, 1000]; default 6" $bin report --help
expect "help after a value" 2 "unknown flag '--x'" $bin report r --out --help --x

# docs/commands.md's command list = attnrl help
sed -n '/<!-- attnrl-help:begin -->/,/<!-- attnrl-help:end -->/p' docs/commands.md | sed '1,2d;$d' | sed '$d' >"$tmp/help-doc.txt"
$bin help >"$tmp/help.txt"
if ! cmp -s "$tmp/help-doc.txt" "$tmp/help.txt"; then
	fail "docs/commands.md's command list is not 'attnrl help'"
	diff "$tmp/help-doc.txt" "$tmp/help.txt" | head -5
fi
echo "test_cli: $fails failed"
[ "$fails" -eq 0 ]
