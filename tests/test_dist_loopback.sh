#!/usr/bin/env bash
# test_dist_loopback.sh - ranks on one host talk over loopback only. Two ranks of
# build/tests/dist_worker start the way the other tests and the benchmarks start them (RANK,
# WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, no LOCAL_WORLD_SIZE), with MASTER_ADDR 127.0.0.1, ::1 and
# localhost, and as one SLURM node's two tasks (file rendezvous). Rank 1 arrives a second after
# rank 0 (rank 0 serves the rendezvous meanwhile), then stalls past the timeout: the Gloo pairs
# stay connected until rank 0's all-reduce fails, which also shows that both joined. Every TCP
# socket either rank holds over that time, read from /proc/PID/net/tcp{,6} by the inodes in
# /proc/PID/fd, must have a loopback local address, and a loopback remote one unless it is
# listening. Connections must have been seen, and with the tcp rendezvous its listener (alive
# for the whole second; a pair's listener may live too briefly to be seen, but the socket it
# accepts has the same local address).
set -u
source tests/lib.sh
w=$(dist_worker test_dist_loopback) || exit 1
ENVS=(env -u SLURM_PROCID -u SLURM_NTASKS -u MASTER_ADDR -u MASTER_PORT -u GLOO_SOCKET_IFNAME
	-u LOCAL_WORLD_SIZE -u RANK -u WORLD_SIZE -u LOCAL_RANK DIST_BACKEND=gloo)

# the TCP sockets of the given processes until they all exit, one "state local remote" line
# per socket (addresses in dotted or colon form); a socket is printed once
watch_sockets() {
	/usr/bin/python3 - "$@" <<'PY'
import ipaddress, os, sys, time
pids, seen = sys.argv[1:], set()
def addr(h):
    ip, port = h.split(":")
    raw = bytes.fromhex(ip)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # 32-bit words, host order
    return f"{ipaddress.ip_address(raw)}:{int(port, 16)}"
def sample(pid):
    try:
        inodes = {os.readlink(f"/proc/{pid}/fd/{f}")[8:-1] for f in os.listdir(f"/proc/{pid}/fd")
                  if os.readlink(f"/proc/{pid}/fd/{f}").startswith("socket:[")}
        for t in ("tcp", "tcp6"):
            for line in open(f"/proc/{pid}/net/{t}").readlines()[1:]:
                f = line.split()
                if f[9] in inodes:
                    state = "LISTEN" if f[3] == "0A" else "EST" if f[3] == "01" else "other"
                    seen.add(f"{state} {addr(f[1])} {addr(f[2])}")
    except OSError:
        pass  # the process exited, or a descriptor closed while it was read
while any(os.path.exists(f"/proc/{p}") and open(f"/proc/{p}/stat").read().split()[2] != "Z"
          for p in pids):
    for p in pids:
        sample(p)
    time.sleep(0.02)
print("\n".join(sorted(seen)))
PY
}

# one case: $1 = name, $2 = rendezvous (tcp|file), the rest: environment of both ranks (@ is
# replaced by the rank); writes $tmp/$1.sockets and the ranks' output to $tmp/$1.{0,1}
pair() {
	local name=$1 rdzv=$2 r pids=()
	shift 2
	for r in 0 1; do
		"${ENVS[@]}" "${@//@/$r}" /bin/sh -c 'sleep $0; exec "$@"' $r \
			$w run "$tmp/$name" "$rdzv" 3 stall >"$tmp/$name.$r" 2>&1 &
		pids+=($!)
	done
	watch_sockets "${pids[@]}" >"$tmp/$name.sockets"
	wait "${pids[@]}"
}

# the sockets of case $1 are all on loopback; connections were seen, and with $2 = tcp a listener
check() {
	local name=$1 rdzv=$2 bad
	bad=$(/usr/bin/python3 - "$tmp/$name.sockets" <<'PY'
import ipaddress, sys
def loopback(e):
    a = ipaddress.ip_address(e.rsplit(":", 1)[0])
    return a.is_loopback or bool(getattr(a, "ipv4_mapped", None) and a.ipv4_mapped.is_loopback)
for line in open(sys.argv[1]).read().split("\n"):
    if not line:
        continue
    state, *ends = line.split()
    ends = ends[:1] if state == "LISTEN" else ends
    if not all(loopback(e) for e in ends):
        print(line)
PY
)
	if ! grep -q "dist: gloo allreduce failed" "$tmp/$name.0"; then
		fail "$name: the ranks did not join, then stall: $(cat "$tmp/$name".[01])"
	elif [ -n "$bad" ]; then
		fail "$name: sockets not on loopback: $(tr '\n' ';' <<<"$bad")"
	elif ! grep -q "^EST" "$tmp/$name.sockets" ||
		{ [ $rdzv = tcp ] && ! grep -q "^LISTEN" "$tmp/$name.sockets"; }; then
		fail "$name: too few sockets seen: $(cat "$tmp/$name.sockets" "$tmp/$name".[01])"
	else
		echo "test_dist_loopback: $name: $(grep -c "^EST" "$tmp/$name.sockets") connected, $(grep -c "^LISTEN" "$tmp/$name.sockets") listening, all on loopback"
	fi
}

cases=("v4 tcp" "localhost tcp" "slurm file")
pair v4 tcp RANK=@ WORLD_SIZE=2 LOCAL_RANK=@ MASTER_ADDR=127.0.0.1 MASTER_PORT=$(free_port) &
pair localhost tcp RANK=@ WORLD_SIZE=2 LOCAL_RANK=@ MASTER_ADDR=localhost MASTER_PORT=$(free_port) &
pair slurm file SLURM_PROCID=@ SLURM_NTASKS=2 SLURM_LOCALID=@ SLURM_NODEID=0 \
	SLURM_STEP_TASKS_PER_NODE=2 SLURM_STEP_NODELIST=$(hostname) SLURM_JOB_ID=1 SLURM_STEP_ID=0 &
if /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	pair v6 tcp RANK=@ WORLD_SIZE=2 LOCAL_RANK=@ MASTER_ADDR=::1 MASTER_PORT=$(free_port) &
	cases+=("v6 tcp")
else
	echo "test_dist_loopback: no IPv6 loopback here; MASTER_ADDR=::1 not checked"
fi
wait
for c in "${cases[@]}"; do check $c; done
echo "test_dist_loopback: $fails failed"
[ "$fails" -eq 0 ]
