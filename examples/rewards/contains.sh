#!/bin/sh
# A minimal reward program for attnrl in POSIX shell: reward 1 when the response contains
# <answer>GROUND_TRUTH</answer>, else 0. It shows the protocol (docs/rewards.md): one JSON
# request per line on stdin, one JSON reply per line on stdout. It reads the fields with sed,
# so it assumes ground_truth holds no quote or backslash (true of arith and countdown).
#   reward.command: sh examples/rewards/contains.sh
while IFS= read -r line; do
	id=$(printf '%s\n' "$line" | sed -n 's/^{"id": \([0-9]*\).*/\1/p')
	truth=$(printf '%s\n' "$line" | sed -n 's/.*"ground_truth": "\([^"\\]*\)".*/\1/p')
	case $line in
	*"<answer>$truth</answer>"*) reward=1 ;;
	*) reward=0 ;;
	esac
	printf '{"id": %s, "reward": %s}\n' "$id" "$reward"
done
