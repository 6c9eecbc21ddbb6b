#!/usr/bin/env bash
# test_dist_gloo.sh - data parallelism on CPU with real processes: 2 and 3 ranks of
# build/tests/dist_worker over Gloo, with the tcp rendezvous (rank 0's server on a free port)
# and the file rendezvous (a run folder); each rank checks all-reduce, broadcast,
# reduce-scatter + all-gather and barrier against closed-form sums. Then the failures: a rank
# that never starts (the "never arrived" line, within the timeout), a rank that leaves or
# stalls after joining, a stale rendezvous folder from an earlier run, mismatched world sizes.
# SLURM host lists are compared with Slurm's own `scontrol show hostnames` when installed.
set -u
source tests/lib.sh
w=$(dist_worker test_dist_gloo) || exit 1
ENVS=(env -u SLURM_PROCID -u SLURM_NTASKS -u MASTER_ADDR -u MASTER_PORT -u GLOO_SOCKET_IFNAME
	-u LOCAL_WORLD_SIZE)

# world ranks of one job; $1 = world, $2 = rendezvous (tcp|file), $3 = timeout, rest: extra
# environment; every rank must print its "ok" line
job() {
	local world=$1 rdzv=$2 timeout=$3 pids=() r
	shift 3
	local port=$(free_port)
	for ((r = 0; r < world; r++)); do
		"${ENVS[@]}" RANK=$r WORLD_SIZE=$world LOCAL_RANK=$r LOCAL_WORLD_SIZE=$world "$@" \
			$( [ "$rdzv" = tcp ] && echo MASTER_ADDR=127.0.0.1 MASTER_PORT=$port ) \
			$w run "$tmp/run" auto "$timeout" >"$tmp/out.$r" 2>&1 &
		pids+=($!)
	done
	local rc=0
	for ((r = 0; r < world; r++)); do
		wait "${pids[$r]}" || rc=1
	done
	return $rc
}

for world in 2 3; do
	for rdzv in tcp file; do
		if ! job $world $rdzv 20; then
			fail "$world ranks, $rdzv rendezvous: $(cat "$tmp"/out.*)"
		elif [ "$(cat "$tmp"/out.* | grep -c "ok (backend gloo, $rdzv store")" -ne $world ]; then
			fail "$world ranks, $rdzv: $(cat "$tmp"/out.*)"
		fi
		rm -f "$tmp"/out.*
	done
done
[ -z "$(ls -A "$tmp/run/.rendezvous" 2>/dev/null)" ] || fail "rendezvous folder left behind: $(ls -R "$tmp/run/.rendezvous")"

# one process, no launcher: backend none, same calls; or Gloo with a world of one
expect "world of one" 0 "rank 0/1 ok (backend none" "${ENVS[@]}" -u RANK $w run "$tmp/run" auto 5
expect "gloo, world of one" 0 "rank 0/1 ok (backend gloo, file store" "${ENVS[@]}" -u RANK DIST_BACKEND=gloo $w run "$tmp/run" auto 5
expect "backend none, 2 ranks" 1 "dist.backend=none but the launcher (env) started 2 ranks" \
	"${ENVS[@]}" RANK=0 WORLD_SIZE=2 DIST_BACKEND=none $w run "$tmp/run" auto 5
# a CPU build has no NCCL; a CUDA=1 build has, but the model here is not on a GPU
expect "backend nccl on CPU" 1 "dist: dist.backend=nccl needs " \
	"${ENVS[@]}" RANK=0 WORLD_SIZE=2 DIST_BACKEND=nccl $w run "$tmp/run" auto 5
expect "tcp without MASTER_ADDR" 1 "dist.rendezvous=tcp needs MASTER_ADDR" \
	"${ENVS[@]}" RANK=0 WORLD_SIZE=2 $w run "$tmp/run" tcp 5
# GLOO_SOCKET_IFNAME picks the interface when the ranks may span hosts (no LOCAL_WORLD_SIZE, no
# loopback MASTER_ADDR); ranks all on this host use loopback whatever it says
"${ENVS[@]}" RANK=1 WORLD_SIZE=2 GLOO_SOCKET_IFNAME=nosuch0 $w run "$tmp/ifname" file 5 >/dev/null 2>&1 &
peer=$!
expect "bad interface" 1 "dist: gloo connect failed:" \
	"${ENVS[@]}" RANK=0 WORLD_SIZE=2 GLOO_SOCKET_IFNAME=nosuch0 $w run "$tmp/ifname" file 5
wait "$peer"
expect "bad interface, one host" 0 "rank 0/1 ok (backend gloo" \
	"${ENVS[@]}" -u RANK DIST_BACKEND=gloo GLOO_SOCKET_IFNAME=nosuch0 $w run "$tmp/run" auto 5
expect "bad RANK" 1 "dist: RANK='one' is not a whole number" "${ENVS[@]}" RANK=one WORLD_SIZE=2 $w run "$tmp/run" auto 5

# the bound of the failures below: the 1 s timeout plus twice this build's start-up (a CUDA=1
# build loads torch's CUDA libraries) plus 1 s of slack
t0=$(date +%s%N)
"${ENVS[@]}" -u RANK $w run "$tmp/run" auto 5 >/dev/null 2>&1
limit=$((2000 + 2 * ($(date +%s%N) - t0) / 1000000))
# only rank 0 of 2 starts: the line names rank 1, within the 1 s timeout (plus start-up)
for rdzv in file tcp; do
	t0=$(date +%s%N)
	port=$(free_port)
	expect "rank 1 never starts ($rdzv)" 1 "dist: rendezvous timed out after 1 s: rank 1 of 2 never arrived ($rdzv store" \
		"${ENVS[@]}" RANK=0 WORLD_SIZE=2 $( [ $rdzv = tcp ] && echo MASTER_ADDR=127.0.0.1 MASTER_PORT=$port ) $w run "$tmp/run" auto 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -lt $limit ] || fail "rank 1 never starts ($rdzv): took $ms ms with a 1 s timeout (limit $limit ms)"
done
port=$(free_port)
expect "rank 0 never starts (tcp)" 1 "cannot reach rank 0 at 127.0.0.1:$port" \
	"${ENVS[@]}" RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port $w run "$tmp/run" auto 1
expect "ranks 0 and 2 never start (file)" 1 "ranks 0, 2 of 3 never arrived (file store $tmp/run/.rendezvous/local)" \
	"${ENVS[@]}" RANK=1 WORLD_SIZE=3 $w run "$tmp/run" file 1

# a stale folder of an earlier run with the same job id (join files, a `current` pointing at
# an attempt with old addresses) is not taken for this run's
stale=$tmp/run/.rendezvous/slurm-77.0-r0
mkdir -p "$stale/join" "$stale/a-0000000000000001"
printf 'a-0000000000000001 0000000000000001 0000000000000002' >"$stale/current"
printf 'xxxxxxxx' >"$stale/join/0"
printf 'xxxxxxxx' >"$stale/join/1"
printf 'garbage address' >"$stale/a-0000000000000001/0"
printf 'garbage address' >"$stale/a-0000000000000001/1"
job 2 file 20 ATTNRL_RUN_ID=slurm-77.0-r0 || fail "stale rendezvous folder: $(cat "$tmp"/out.*)"
[ ! -e "$stale" ] || fail "stale rendezvous folder not removed"
rm -f "$tmp"/out.*

# a rank that leaves, or stalls, after joining: the others fail with one line, no hang
for mode in quit stall; do
	port=$(free_port)
	t0=$(date +%s%N)
	"${ENVS[@]}" RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port $w run "$tmp/run" auto 1 $mode >/dev/null 2>&1 &
	peer=$!
	expect "rank 1 ${mode}s" 1 "dist: gloo allreduce failed:" \
		"${ENVS[@]}" RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port $w run "$tmp/run" auto 1 $mode
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ $ms -lt $limit ] || fail "rank 1 ${mode}s: rank 0 took $ms ms with a 1 s timeout (limit $limit ms)"
	kill "$peer" 2>/dev/null
	wait "$peer" 2>/dev/null
done

# ranks that disagree on the world size
port=$(free_port)
"${ENVS[@]}" RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port $w run "$tmp/run" auto 1 >/dev/null 2>&1 &
peer=$!
expect "world sizes differ" 1 "rank 1 says the world has 3 ranks, rank 0 says 2" \
	"${ENVS[@]}" RANK=1 WORLD_SIZE=3 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port $w run "$tmp/run" auto 2
wait "$peer"

# SLURM host lists against Slurm's own expansion
if command -v scontrol >/dev/null 2>&1; then
	printf 'ClusterName=t\nSlurmctldHost=localhost\nNodeName=localhost CPUs=1\nPartitionName=p Nodes=localhost\n' >"$tmp/slurm.conf"
	for list in 'node[01-04,07],gpu-a[1-2]' 'n[098-101]' 'n[8-11]' 'rack[1-2]-n[1-2]' \
		'a,b,c' 'x[3]' '10.0.0.[1-2]' 'gpu[1-2],cpu[01-03]' 'r[1-2]c[7-8]n[1,3]'; do
		want=$(SLURM_CONF=$tmp/slurm.conf scontrol show hostnames "$list" 2>&1)
		got=$($w hostnames "$list" 2>&1)
		# the same hosts; the same first host (the one dist uses); Slurm orders names with
		# three or more [] groups its own way, so the order is compared up to two
		[ "$(sort <<<"$got")" = "$(sort <<<"$want")" ] && [ "$(head -1 <<<"$got")" = "$(head -1 <<<"$want")" ] ||
			fail "host list '$list': got '$got', scontrol says '$want'"
		[[ "$list" == *\[*\[*\[* ]] || [ "$got" = "$want" ] || fail "host list '$list': order '$got' vs '$want'"
	done
else
	echo "test_dist_gloo: scontrol not installed (slurm-client); host lists not compared"
fi
echo "test_dist_gloo: $fails failed"
[ "$fails" -eq 0 ]
