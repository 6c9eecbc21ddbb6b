#!/usr/bin/env bash
# tests/slurm/run.sh - attnrl under a real SLURM (make test-slurm; needs root): installs
# Debian's slurm-wlm and munge when missing, starts a one-node cluster on localhost (munged,
# slurmctld, slurmd; 2 CPUs; config and state in a temporary folder, SLURM_CONF pointing at it),
# then
#   0. `srun -n 2` and `-n 3` run the dist module's collectives (build/tests/dist_worker);
#   1. `srun -n 2` trains 4 steps with Gloo (ranks from SLURM_PROCID / SLURM_NTASKS, rendezvous
#      through files in the run directory) and must match 1 process (the same check as
#      tests/test_dist_train.sh);
#   2. preemption: an `sbatch --requeue` job running `srun -n 2` with the sharded optimizer
#      (dist.shard_optimizer: every rank writes its shard of each checkpoint) is sent SIGTERM
#      mid-run (scancel --signal=TERM), saves a checkpoint, exits 75, requeues itself, resumes from the
#      checkpoint and ends with the same weights, byte for byte, as an uninterrupted 2-rank run.
# The daemons it started are stopped at exit (by pid).
set -u
cd "$(dirname "$0")/../.."
bin=$PWD/bin/attnrl
[ "$(id -u)" -eq 0 ] || { echo "test-slurm: needs root (it starts munged, slurmctld and slurmd)"; exit 1; }
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null ||
		{ echo "test-slurm: cannot install slurm-wlm and munge"; exit 1; }
fi
source tests/lib.sh
state=$tmp/slurm
mkdir -p "$state/state" "$state/spool"
started=()
cleanup() {
	for p in "${started[@]}"; do kill "$p" 2>/dev/null; done
	for i in $(seq 50); do
		alive=0
		for p in "${started[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# munge: a key if there is none, its run folder, the daemon as the munge user
if [ ! -s /etc/munge/munge.key ]; then
	dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
	chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
	pidf=/run/munge/attnrl-test.pid # munge cannot enter our temporary folder
	runuser -u munge -- munged --pid-file="$pidf" || { echo "test-slurm: munged did not start"; exit 1; }
	sleep 1
	started+=("$(cat "$pidf")")
fi
munge -n | unmunge >/dev/null || { echo "test-slurm: munge does not work"; exit 1; }

host=$(hostname)
port=$((7000 + RANDOM % 2000)) # not the default 6817/6818: another cluster may be running
export SLURM_CONF=$state/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=attnrl
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldLogFile=$state/ctld.log
SlurmdLogFile=$state/d.log
SlurmctldPidFile=$state/ctld.pid
SlurmdPidFile=$state/d.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
KillWait=60
NodeName=$host CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF" || { echo "test-slurm: the daemons did not start"; exit 1; }
for i in $(seq 50); do
	[ -s "$state/ctld.pid" ] && [ -s "$state/d.pid" ] && break
	sleep 0.2
done
started+=("$(cat "$state/ctld.pid")" "$(cat "$state/d.pid")")
for i in $(seq 60); do
	sinfo -h -o %t 2>/dev/null | grep -q idle && break
	sleep 0.5
done
sinfo -h -o %t | grep -q idle || { echo "test-slurm: the node never became idle"; cat "$state/ctld.log" | tail -5; exit 1; }

# 0. the dist module alone: srun -n 2 and -n 3 workers (ranks from SLURM_PROCID, file
#    rendezvous scoped by the job and step ids) run every collective
w=$PWD/build/tests/dist_worker
[ -x "$w" ] || make -s build/tests/dist_worker
for k in 2 3; do
	out=$(cd "$tmp" && timeout 60 srun -n $k --overcommit -t 1 env -u RANK -u MASTER_ADDR "$w" run "$tmp/w$k" auto 20 2>&1)
	ok=$(grep -c "ok (backend gloo, file store $tmp/w$k/.rendezvous/slurm-" <<<"$out")
	[ "$ok" -eq $k ] || fail "srun -n $k dist_worker: $out"
done

base=(configs/default.yaml rollout.prompts_per_step=4 rollout.group_size=4 algo.mini_batch=8
	train.eval_every=0 train.threads=1 train.save_every=1 dist.timeout=60)
weights_equal() { # run dir, run dir, tolerance (0 = identical values)
	/usr/bin/python3 tests/ref/weights_diff.py "$1/model.safetensors" "$2/model.safetensors" "$3" |
		sed 's/^/test-slurm: /'
	return "${PIPESTATUS[0]}"
}

# 1. srun -n 2 against one process
t0=$(date +%s)
$bin train "${base[@]}" train.steps=4 run.dir="$tmp/one" >"$tmp/one.log" 2>&1 || fail "1 process: $(tail -1 "$tmp/one.log")"
srun -n 2 -t 5 $bin train "${base[@]}" train.steps=4 run.dir="$tmp/srun" >"$tmp/srun.log" 2>&1 ||
	fail "srun -n 2: $(tail -3 "$tmp/srun.log")"
grep -q "2 ranks, gloo backend" "$tmp/srun.log" || fail "srun did not give attnrl 2 ranks: $(head -3 "$tmp/srun.log")"
weights_equal "$tmp/one/default" "$tmp/srun/default" 1e-4 || fail "srun -n 2 differs from 1 process"

# 2. preemption: SIGTERM mid-run, exit 75, requeue, resume
cat >"$tmp/job.sh" <<JOB
#!/bin/bash
srun -n 2 $bin train ${base[*]} train.steps=8 dist.shard_optimizer=true run.dir=$tmp/pre
rc=\$?
echo "job: attnrl exited \$rc (restart \${SLURM_RESTART_COUNT:-0})"
[ \$rc -eq 75 ] && scontrol requeue \$SLURM_JOB_ID
exit \$rc
JOB
srun -n 2 -t 5 $bin train "${base[@]}" train.steps=8 dist.shard_optimizer=true run.dir="$tmp/whole" >"$tmp/whole.log" 2>&1 ||
	fail "uninterrupted 2-rank run: $(tail -3 "$tmp/whole.log")"
job=$(sbatch --parsable --requeue -n 2 -t 10 -o "$tmp/job.out" --open-mode=append "$tmp/job.sh") ||
	fail "sbatch failed"
for i in $(seq 600); do
	grep -q '"step": 3' "$tmp/pre/default/metrics.jsonl" 2>/dev/null && break
	sleep 0.1
done
scancel --signal=TERM "$job" || fail "scancel --signal=TERM failed"
for i in $(seq 600); do
	[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
	sleep 0.5
done
[ -z "$(squeue -h -j "$job" 2>/dev/null)" ] || fail "the job never finished: $(squeue -j "$job")"
grep -q "exited 75" "$tmp/job.out" || fail "the signalled run did not exit 75: $(tail -5 "$tmp/job.out")"
grep -q "resumed from" "$tmp/job.out" || fail "the requeued job did not resume: $(tail -5 "$tmp/job.out")"
grep -q "exited 0 (restart 1)" "$tmp/job.out" || fail "the requeued job did not finish: $(tail -5 "$tmp/job.out")"
weights_equal "$tmp/whole/default" "$tmp/pre/default" 0 || fail "preempted + requeued run differs from the uninterrupted one"
ls "$tmp"/pre/default/ckpt/step_8/optimizer-rank0000[01]-of-00002.safetensors >/dev/null ||
	fail "the sharded run's checkpoint lacks its two optimizer shards"
steps=$(grep -c '"step"' "$tmp/pre/default/metrics.jsonl")
[ "$steps" -eq 8 ] || fail "metrics.jsonl holds $steps lines, want 8"
echo "test-slurm: $(( $(date +%s) - t0 )) s; $fails failed"
[ "$fails" -eq 0 ]
