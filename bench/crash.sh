#!/usr/bin/env bash
# crash.sh - crash consistency of `attnrl train`: a reference run of a small config goes to the
# end, a second uninterrupted run (the control) must equal it, then N runs of the same config
# are killed at random moments and rerun (the same command, run.resume=auto) until they exit 0;
# each must end byte-identical to the reference: model.safetensors (sha256), samples.jsonl, and
# metrics.jsonl with the timing keys removed (every key ending in _s: time_*_s,
# rollout_tokens_per_s; the logs hold no other clock field).
#
# Kill moments come from a generator seeded with SEED (python's random.Random("SEED:i")), so a
# given SEED draws the same plan: the kind of each kill, its signal, and its moment as a share
# of the kill span (from the start to the last checkpoint line, the shorter of the two
# uninterrupted runs) or of a checkpoint's write time; the moment in seconds follows the
# machine's speed, so the phase hit can change from one machine or load to another. Kinds, by
# trial number i:
#   - i % 8 == 0: a stop signal (SIGTERM, SIGUSR1, SIGINT in turn) at a uniform moment of the
#     span (exit 75 expected, or the signal's default action before main);
#   - i % 3 == 0: SIGKILL aimed at a checkpoint write: once the console shows "step S/" of a
#     drawn checkpoint step S, after a uniform share of the time the control took from that
#     line to its "ckpt  step S" line (the step's logs, then the checkpoint);
#   - otherwise: SIGKILL at a uniform moment of the span (program load and start-up included).
# A run that ends before its moment (the machine got faster) is started over in a fresh folder
# with the same share of its own span (", redrawn over Ns"; at most twice).
# Every fourth trial (i % 4 == 1) SIGKILLs its first rerun too, at a uniform moment of half the
# span (a resume killed again); later reruns are not killed. The run folder's LOCK is never
# touched: reruns must take it over by themselves.
#
# One line per trial: the first kill (signal, second sent, exit code; "run ended first" when
# the run finished before its moment), the phase it reached (the last "step N" / "ckpt" /
# "eval" console line, and a checkpoint folder left half-written: ".step_S.tmp" = killed while
# writing, "step_S-without-DONE" = between the rename and DONE, or an old checkpoint caught
# while being removed), the reruns' exit codes
# ("KILL@s:137" for a killed one), and identical / DIFFERENT (with the files). Then the phases
# hit, and
#   crash: N kills, M resumed byte-identical, K different, F failed to resume
# (F: no exit 0 within 5 reruns, a killed one included). Exit 0 only when all N are identical and no run exited with
# anything but 0 or the code of the signal the script sent it.
#
# Config: configs/default.yaml, 4 prompts x 4 responses, 12 steps, a checkpoint every 2 steps,
# an eval every 4 on 20 problems, 1 thread: 4-5 s a run. One run at a time (one core).
# Usage: bash bench/crash.sh [N]   (N = 20 by default; SEED=1; KEEP=1 keeps every run folder;
# otherwise those of identical trials are removed once judged, the others kept and named)
# Takes about 8 s per trial: about 3 minutes for N = 24 on 2 cores with another job running.
# Interrupted (Ctrl-C, SIGTERM, SIGHUP), it kills the run it started and removes its folder.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
seed=${SEED:-1}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench/crash.sh: N='$n': expected a positive count" >&2; exit 2; }
make -s bin/attnrl >/dev/null || exit 1
bin=bin/attnrl
tmp=$(mktemp -d /tmp/attnrl_crash_XXXXXX)
cfg=(configs/default.yaml rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8
	train.steps=12 train.save_every=2 train.eval_every=4 data.eval_size=20 train.threads=1
	run.dir="$tmp")
steps=12
save_every=2

helper_pid= kept=
cleanup() {
	# the helper, then the run it started (its pid is in $tmp/pid while it runs)
	[ -n "$helper_pid" ] && kill "$helper_pid" 2>/dev/null
	[ -s "$tmp/pid" ] && kill -KILL "$(cat "$tmp/pid")" 2>/dev/null
	if [ -n "${KEEP:-}$kept" ]; then
		echo "crash: run folders kept in $tmp${kept:+ (those of trials$kept)}" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# attempt NAME LOG PLAN: runs the config once as run.name=NAME, output to LOG, killed by PLAN
# ("none"; "time SIG SECONDS"; "after PATTERN SIG SECONDS": SECONDS after a console line that
# matches the regular expression PATTERN). Sets rc (its exit code) and when (the second the
# signal was sent, "-" when none was) and writes the arrival time of each console line to
# LOG.times. The helper runs in the background so that the traps above can act meanwhile.
attempt() {
	/usr/bin/python3 - "$tmp/pid" "$2" "$3" "$bin" train "${cfg[@]}" run.name="$1" >"$tmp/attempt.out" <<'PY' &
import os, re, signal, subprocess, sys, time
pidfile, log, plan, cmd = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
child = None
def stop(sig, frame):  # SIGTERM, SIGINT: no run outlives this helper (nor an error of it, below)
    if child and child.poll() is None:
        child.kill()
    sys.exit(128 + sig)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
def main():
    kind, sig, due, pattern = plan[0], None, None, None
    if kind == "time":
        sig, due = getattr(signal, "SIG" + plan[1]), t0 + float(plan[2])
    elif kind == "after":
        pattern, sig, wait_s = plan[1], getattr(signal, "SIG" + plan[2]), float(plan[3])
    times, seen, killed_at = [], b"", None
    reader = open(log, "rb")
    while True:
        rc = child.poll()
        now = time.monotonic()
        chunk = reader.read()
        if chunk:
            seen += chunk
            *lines, seen = seen.split(b"\n")
            for line in lines:
                times.append((now - t0, line.decode(errors="replace")))
                if pattern and due is None and re.match(pattern, line.decode(errors="replace")):
                    due = now + wait_s
        if rc is not None:
            break
        if due is not None and killed_at is None and now >= due:
            killed_at = now - t0
            child.send_signal(sig)
        time.sleep(0.002)
    os.unlink(pidfile)
    with open(log + ".times", "w") as f:
        for t, line in times:
            f.write(f"{t:.3f}\t{line}\n")
    print(rc if rc >= 0 else 128 - rc, "-" if killed_at is None else f"{killed_at:.2f}")


out = open(log, "wb")
t0 = time.monotonic()
child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
open(pidfile, "w").write(str(child.pid))
try:
    main()
except BaseException:
    if child.poll() is None:
        child.kill()
    raise
PY
	helper_pid=$!
	wait "$helper_pid"
	helper_pid=
	read -r rc when <"$tmp/attempt.out" || { rc=helper-failed when=-; }
}

# metrics.jsonl without the timing keys
strip() { sed -E 's/"[a-z_]+_s": [^,}]*(, )?//g; s/, \}/}/' "$1"; }

# the phase a killed run reached: its last console line of a step, checkpoint or eval, and
# a checkpoint folder left half-written
phase() { # run-folder log
	local last half=
	last=$( (grep -E '^(step +[0-9]+/|ckpt +step|eval +step)' "$2" || true) | tail -n 1 |
		sed -E 's/^(step) +([0-9]+)\/.*/\1 \2/; s/^ckpt +step ([0-9]+).*/ckpt \1/; s/^eval +step ([0-9]+).*/eval \1/')
	for d in "$1"/ckpt/.step_*.tmp; do [ -e "$d" ] && half+=" ${d##*/}"; done
	for d in "$1"/ckpt/step_*; do [ -d "$d" ] && [ ! -e "$d/DONE" ] && half+=" ${d##*/}-without-DONE"; done
	echo "${last:-start-up}${half:+ +$half}"
}

# the files of run $1 that differ from the reference's
compare() {
	local bad=()
	[ "$(sha256sum <"$tmp/$1/model.safetensors" | cut -d' ' -f1)" = "$ref_sha" ] || bad+=(model.safetensors)
	cmp -s "$tmp/ref/samples.jsonl" "$tmp/$1/samples.jsonl" || bad+=(samples.jsonl)
	strip "$tmp/$1/metrics.jsonl" | cmp -s "$tmp/ref.metrics" - || bad+=(metrics.jsonl)
	echo "${bad[*]}"
}

# the reference, and a second uninterrupted run: the control (identical, or nothing below
# means anything) and, warm, the time scales of the plan
t_start=$(date +%s)
attempt ref "$tmp/ref.log" none
[ "$rc" = 0 ] || { echo "crash: the reference run exited $rc:"; tail -n 3 "$tmp/ref.log"; exit 1; }
ref_sha=$(sha256sum <"$tmp/ref/model.safetensors" | cut -d' ' -f1)
strip "$tmp/ref/metrics.jsonl" >"$tmp/ref.metrics"
attempt control "$tmp/control.log" none
[ "$rc" = 0 ] || { echo "crash: the control run exited $rc:"; tail -n 3 "$tmp/control.log"; exit 1; }
bad=$(compare control)
[ -z "$bad" ] || { echo "crash: two uninterrupted runs differ ($bad): no kill can be judged"; exit 1; }
# kills are drawn over the span from the start to the last checkpoint line (the shorter run's)
last_ckpt() { grep -P '\tckpt +step' "$1" | tail -n 1 | cut -f 1; }
ref_s=$(printf '%s\n' "$(last_ckpt "$tmp/ref.log.times")" "$(last_ckpt "$tmp/control.log.times")" | sort -g | head -n 1)
# per checkpoint step S: the seconds from its "step S/" line to its "ckpt  step S" line
declare -A ckpt_s
while IFS=$'\t' read -r s gap; do ckpt_s[$s]=$gap; done < <(/usr/bin/python3 - "$tmp/control.log.times" <<'PY'
import re, sys
at = {}
for line in open(sys.argv[1]):  # the control's, run warm
    t, text = line.rstrip("\n").split("\t", 1)
    m = re.match(r"(step) +(\d+)/|(ckpt) +step (\d+)", text)
    if m:
        at[(m.group(1) or m.group(3), int(m.group(2) or m.group(4)))] = float(t)
for (kind, s), t in sorted(at.items()):
    if kind == "ckpt" and ("step", s) in at:
        print(f"{s}\t{t - at[('step', s)]:.3f}")
PY
)
gaps=$(printf '%s\n' "${ckpt_s[@]}" | sort -g | sed -n '1p;$p' | paste -sd-)
echo "crash: reference and control runs $(tail -n 1 "$tmp/ref.log.times" | cut -f 1)s, $(tail -n 1 "$tmp/control.log.times" | cut -f 1)s, identical; kill span ${ref_s}s ($steps steps, a checkpoint every $save_every: ${gaps}s from a" \
	"step line to its ckpt line); $n trials, SEED=$seed; load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
printf '%-3s | %-36s | %-30s | %-16s | %s\n' "#" "kill (signal at s -> exit)" "phase reached" "reruns (exit)" "result"

# the plan of trial i: "KIND SIG FRACTION CKPT_STEP SECOND_KILL_FRACTION"
plan() {
	/usr/bin/python3 - "$seed" "$1" "$steps" "$save_every" <<'PY'
import random, sys
seed, i, steps, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(f"{seed}:{i}")
u, s, v = r.random(), r.choice(range(every, steps + 1, every)), r.random()
if i % 8 == 0:
    kind, sig = "signal", ("TERM", "USR1", "INT")[(i // 8 - 1) % 3]
elif i % 3 == 0:
    kind, sig = "ckpt", "KILL"
else:
    kind, sig = "time", "KILL"
print(kind, sig, f"{u:.4f}", s, f"{v:.4f}" if i % 4 == 1 else "-")
PY
}

same=0 diff=0 failed=0 odd=0 ph_start=0 ph_step=0 ph_ckpt=0 ph_half=0
for i in $(seq "$n"); do
	read -r kind sig u s v < <(plan "$i")
	name=k$i
	log=$tmp/$name.log
	case $kind in
	ckpt) at=$(/usr/bin/python3 -c "print(f'{$u * ${ckpt_s[$s]:-0.1}:.3f}')")
		attempt "$name" "$log" "after step\\s+$s/ KILL $at"
		what="KILL in ckpt $s at ${when}s" ;;
	*) span=$ref_s redo=
		for try in 1 2 3; do
			at=$(/usr/bin/python3 -c "print(f'{$u * $span:.3f}')")
			attempt "$name" "$log" "time $sig $at"
			[ "$when" = - ] && [ "$rc" = 0 ] && [ "$try" -lt 3 ] || break
			# the run ended before its moment: again from nothing, over that run's span
			span=$(last_ckpt "$log.times")
			redo="$redo, redrawn over ${span}s"
			rm -rf "${tmp:?}/$name"
		done
		what="$sig at ${when}s$redo" ;;
	esac
	[ "$when" = - ] && what="${what% at *} planned at +${at}s: none sent, run ended first"
	what="$what -> $rc"
	where=$(phase "$tmp/$name" "$log")
	# an exit that no kill explains: 0 only when the signal came too late, 75 after a stop signal
	case "$when:$rc:$sig" in
	-:0:*|*:137:KILL|*:75:TERM|*:75:USR1|*:75:INT|*:143:TERM|*:138:USR1|*:130:INT) ;;
	*) odd=$((odd + 1)); what="$what (unexpected)" ;;
	esac
	# the reruns: the first one killed again on every fourth trial; then until exit 0
	reruns=() ok=
	for a in 1 2 3 4 5; do
		if [ "$a" = 1 ] && [ "$v" != - ]; then
			at=$(/usr/bin/python3 -c "print(f'{$v * $ref_s / 2:.3f}')")
			attempt "$name" "$log.r$a" "time KILL $at"
			if [ "$when" != - ]; then
				reruns+=("KILL@${when}s:$rc")
				[ "$rc" = 137 ] || odd=$((odd + 1))
				continue
			fi
		else
			attempt "$name" "$log.r$a" none
		fi
		reruns+=("$rc")
		[ "$rc" = 0 ] && { ok=1; break; }
		odd=$((odd + 1))
		echo "    rerun $a of trial $i exited $rc: $(tail -n 1 "$log.r$a")"
	done
	if [ -z "$ok" ]; then
		failed=$((failed + 1)) result="FAILED to resume"
	else
		bad=$(compare "$name")
		if [ -z "$bad" ]; then
			same=$((same + 1)) result=identical
		else
			diff=$((diff + 1)) result="DIFFERENT: $bad"
		fi
	fi
	case $where in
	*+*) ph_half=$((ph_half + 1)) ;;
	start-up) ph_start=$((ph_start + 1)) ;;
	ckpt*) ph_ckpt=$((ph_ckpt + 1)) ;;
	*) ph_step=$((ph_step + 1)) ;;
	esac
	printf '%-3s | %-36s | %-30s | %-16s | %s\n' "$i" "$what" "$where" "$(IFS=,; echo "${reruns[*]}")" "$result"
	if [ "$result" != identical ]; then
		kept="$kept $i"
	elif [ -z "${KEEP:-}" ]; then
		rm -rf "${tmp:?}/$name" "$log"*
	fi
done
echo "crash: $(($(date +%s) - t_start)) s; first kills in start-up (no step line yet) $ph_start, after a step or eval line $ph_step," \
	"after a ckpt line $ph_ckpt, with a checkpoint half-written $ph_half; $odd unexpected exit codes"
echo "crash: $n kills, $same resumed byte-identical, $diff different, $failed failed to resume"
[ "$same" -eq "$n" ] && [ "$odd" -eq 0 ]
