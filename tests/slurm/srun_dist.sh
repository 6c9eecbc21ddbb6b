#!/usr/bin/env bash
# srun_dist.sh - dist under a real SLURM: starts a one-node SLURM on this machine (munge,
# slurmctld, slurmd in a temporary state folder; see ../shared/notes/slurm-localhost.md),
# runs build/tests/dist_worker as `srun -n 2` and `-n 3` tasks (ranks from SLURM_PROCID /
# SLURM_NTASKS / SLURM_LOCALID, file rendezvous scoped by SLURM_JOB_ID.STEP_ID), then stops
# the daemons it started, by pid. Manual (root, slurm-wlm and munge installed); not part of
# `make test`. Usage: sudo bash tests/slurm/srun_dist.sh
set -u
cd "$(dirname "$0")/../.."
w=$PWD/build/tests/dist_worker
for c in slurmctld slurmd munged srun; do
	command -v $c >/dev/null || { echo "srun_dist: $c not installed (apt-get install slurm-wlm munge)"; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "srun_dist: run as root"; exit 2; }
[ -x "$w" ] || { echo "srun_dist: $w missing: make build/tests/dist_worker"; exit 2; }
state=$(mktemp -d)
host=$(hostname)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 1
	rm -rf "$state"
}
trap cleanup EXIT

# munge with a key of its own
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
	mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
	[ -s /etc/munge/munge.key ] || head -c 1024 /dev/urandom >/etc/munge/munge.key
	chown -R munge: /etc/munge /run/munge /var/lib/munge /var/log/munge
	chmod 400 /etc/munge/munge.key
	runuser -u munge -- munged
	sleep 1
	pids+=($(cat /run/munge/munged.pid 2>/dev/null))
fi
cat >"$state/slurm.conf" <<CONF
ClusterName=local
SlurmctldHost=$host
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
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$state/state" "$state/spool"
export SLURM_CONF=$state/slurm.conf
slurmctld
slurmd
sleep 3
pids+=($(cat "$state/ctld.pid") $(cat "$state/d.pid"))
sinfo >/dev/null || { echo "srun_dist: SLURM did not come up: $(tail -3 "$state/ctld.log")"; exit 1; }

fails=0
for n in 2 3; do
	out=$(cd "$state" && timeout 60 srun -n $n --overcommit -t 1 env -u RANK -u MASTER_ADDR "$w" run "$state/run" auto 20 2>&1)
	ok=$(grep -c "ok (backend gloo, file store $state/run/.rendezvous/slurm-" <<<"$out")
	if [ "$ok" -ne $n ]; then
		echo "FAIL: srun -n $n: $out"
		fails=$((fails + 1))
	else
		echo "srun -n $n: $(sort <<<"$out" | tr '\n' ';')"
	fi
done
echo "srun_dist: $fails failed"
[ $fails -eq 0 ]
