#!/usr/bin/env bash
# test_report_watch.sh - `attnrl report RUN_DIR --watch` and the eta of the console line:
# - started before a real 6-step run exists, watch says once that it waits for metrics.jsonl;
#   while the run trains report.html carries the refresh tag and is rewritten as steps arrive
#   (the steps it shows grow); when the run ends watch exits 0 by itself, leaving a last page
#   of all 6 steps without the refresh tag;
# - the run's step lines end with "| eta ..." except the last, and metrics.jsonl has no eta;
# - on a folder whose LOCK is held (by python's fcntl lock, an outside holder): the page is not
#   rewritten while the logs stay the same, is when a row is added, a row still being written
#   (no newline yet) is not counted as bad; SIGTERM and SIGINT end watch with exit 0 and a
#   page without the refresh tag; once the lock is free, watch writes one page and exits 0;
# - a folder that is not a run, a file, and --watch 0 are one line and exit 2.
set -u
source tests/lib.sh
bin=${ATTNRL_BIN:-bin/attnrl}
py=/usr/bin/python3
run=$tmp/r/w
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# waits up to $1 seconds (0.2 s polls) for the command after it to succeed
wait_for() {
	local tries=$(($1 * 5))
	shift
	while ((tries-- > 0)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null; }
steps_shown() { # the steps a page says it shows (0: none), or nothing when there is no page
	[ -f "$1" ] || return 1
	grep -o '[0-9]* steps logged' "$1" | grep -o '^[0-9]*' || echo 0
}
shows() { [ "$(steps_shown "$1")" = "$2" ]; } # page, steps
refresh_tag() { grep -q '<meta http-equiv="refresh" content="1">' "$1"; }

# ---- a real run, watched from before it starts ------------------------------------------
"$bin" report "$run" --watch 1 >"$tmp/watch.out" 2>&1 &
watch=$!
pids+=($watch)
wait_for 20 grep -qs "waiting for $run/metrics.jsonl" "$tmp/watch.out" ||
	fail "no waiting line: $(cat "$tmp/watch.out")"
# the default job's steps (about 2 s each here) span several pages of a 1 s watch
"$bin" train configs/default.yaml run.dir="$tmp/r" run.name=w train.steps=6 train.threads=1 \
	data.eval_size=20 >"$tmp/train.log" 2>&1 &
train=$!
pids+=($train)
seen=" " # the step counts of the pages with the refresh tag, in order, each once
deadline=$((SECONDS + 150))
while alive $watch && ((SECONDS < deadline)); do
	cp "$run/report.html" "$tmp/page.html" 2>/dev/null || { sleep 0.1; continue; }
	if refresh_tag "$tmp/page.html"; then
		s=$(steps_shown "$tmp/page.html")
		[[ "$seen" == *" $s " ]] || seen="$seen$s "
	fi
	sleep 0.1
done
alive $watch && fail "watch still running 150 s after it started" && kill $watch
wait $watch
rc=$?
wait $train || fail "train: exit $?: $(tail -n 3 "$tmp/train.log")"
[ $rc -eq 0 ] || fail "watch ended with exit $rc: $(cat "$tmp/watch.out")"
[ "$(grep -c "waiting for" "$tmp/watch.out")" -eq 1 ] || fail "waiting line not once: $(cat "$tmp/watch.out")"
grep -q "^attnrl report: $run/report.html (6 steps, 12 samples; 0 + 0 bad lines skipped)$" "$tmp/watch.out" ||
	fail "no last page line: $(cat "$tmp/watch.out")"
echo "steps shown by the pages with the refresh tag:$seen"
read -ra counts <<<"$seen"
((${#counts[@]} >= 2)) || fail "the page with the refresh tag was not rewritten as steps came: steps shown '$seen'"
for ((k = 1; k < ${#counts[@]}; k++)); do
	((counts[k] > counts[k - 1])) || fail "steps shown do not grow: '$seen'"
done
refresh_tag "$run/report.html" && fail "the last page still has the refresh tag"
[ "$(steps_shown "$run/report.html")" = 6 ] || fail "the last page shows $(steps_shown "$run/report.html") steps, not 6"
ls "$run"/report.html.tmp 2>/dev/null && fail "a temporary page was left behind"

# ---- the eta of the console line --------------------------------------------------------
for s in 1 2 3 4 5; do
	grep -qE "^step +$s/6 \|.* \| eta [0-9]+(s|m[0-9]{2}s|h[0-9]{2}m)$" "$tmp/train.log" ||
		fail "step $s: no eta at the end of the line: $(grep "^step *$s/" "$tmp/train.log")"
done
grep -E "^step +6/6 " "$tmp/train.log" | grep -q "eta" && fail "eta on the last step's line"
grep -q "eta" "$run/metrics.jsonl" && fail "eta in metrics.jsonl"

# ---- a folder whose lock an outside process holds ---------------------------------------
fake=$tmp/fake
mkdir -p "$fake"
row() { echo "{\"step\": $1, \"reward_mean\": 0.5, \"loss\": 0.1}"; }
row 1 >"$fake/metrics.jsonl"
$py -c 'import fcntl, os, sys, time
f = open(sys.argv[1], "a+"); fcntl.lockf(f, fcntl.LOCK_EX)
f.write("pid=%d host=%s started=now\n" % (os.getpid(), os.uname()[1])); f.flush()
open(sys.argv[2], "w").close(); time.sleep(300)' "$fake/LOCK" "$tmp/locked" &
holder=$!
pids+=($holder)
wait_for 20 test -f "$tmp/locked" || fail "the lock holder did not start"
inode() { stat -c %i "$fake/report.html" 2>/dev/null; }

"$bin" report "$fake" --watch 1 >"$tmp/fake.out" 2>&1 &
watch=$!
pids+=($watch)
wait_for 20 test -f "$fake/report.html" || fail "no page of the held folder"
first=$(inode)
refresh_tag "$fake/report.html" || fail "the page of a held folder has no refresh tag"
sleep 2.5 # two polls with the logs unchanged
[ "$(inode)" = "$first" ] || fail "the page was rewritten while the logs stayed the same"
row 2 >>"$fake/metrics.jsonl"
printf '{"step": 3, "rew' >>"$fake/metrics.jsonl" # a row being written
wait_for 20 shows "$fake/report.html" 2 || fail "the page did not follow a new row"
grep -q 'bad line' "$fake/report.html" && fail "the row being written counted as a bad line"
kill -TERM $watch
wait_for 20 dead $watch || fail "SIGTERM did not end watch"
wait $watch
rc=$?
[ $rc -eq 0 ] || fail "watch after SIGTERM: exit $rc: $(cat "$tmp/fake.out")"
refresh_tag "$fake/report.html" && fail "the page after SIGTERM has the refresh tag"
[ "$(steps_shown "$fake/report.html")" = 2 ] || fail "the page after SIGTERM: $(steps_shown "$fake/report.html") steps"

"$bin" report "$fake" --watch 1 >"$tmp/fake2.out" 2>&1 &
watch=$!
pids+=($watch)
wait_for 20 grep -qs "watching" "$tmp/fake2.out" || fail "the second watch did not start"
wait_for 20 refresh_tag "$fake/report.html" || fail "no page of the second watch"
kill -INT $watch
wait_for 20 dead $watch || fail "SIGINT did not end watch"
wait $watch
rc=$?
[ $rc -eq 0 ] || fail "watch after SIGINT: exit $rc: $(cat "$tmp/fake2.out")"
refresh_tag "$fake/report.html" && fail "the page after SIGINT has the refresh tag"

kill $holder
wait $holder 2>/dev/null
echo '"}' >>"$fake/metrics.jsonl" # the run died: the cut row stays bad
expect "watch of an ended run" 0 "(2 steps, 0 samples; 1 + 0 bad lines skipped)" \
	timeout 30 "$bin" report "$fake" --watch 1
refresh_tag "$fake/report.html" && fail "the page of an ended run has the refresh tag"

# ---- usage mistakes ---------------------------------------------------------------------
mkdir -p "$tmp/notrun"
touch "$tmp/notrun/notes.txt"
expect "not a run" 2 "'$tmp/notrun' holds none of LOCK, config.yaml, metrics.jsonl: not a run directory" \
	timeout 30 "$bin" report "$tmp/notrun" --watch 1
expect "a file" 2 "'$tmp/notrun/notes.txt' is not a directory" \
	timeout 30 "$bin" report "$tmp/notrun/notes.txt" --watch
expect "watch 0" 2 "--watch '0': expected an integer in [1, 86400]" "$bin" report "$run" --watch 0
echo "test_report_watch: $fails failed"
[ "$fails" -eq 0 ]
