#!/usr/bin/env bash
# gpu-check.sh - the GPU check: on a machine with an NVIDIA GPU and no network, one call builds
# and runs the selected parts, stops at a hard deadline and always ends with a summary.
#   scripts/gpu-check.sh [--parts LIST] [--deadline SECONDS] [--rehearse] [--plan]
# Parts, in the order they run (GPU_CHECK_PARTS or --parts, comma-separated; `all` = every part):
#   kernels    the kernel harness (nvcc, no libtorch): every CUDA kernel against its CPU twin on
#              fresh random inputs, then decode-attention (random K/V) and sampling timings
#   step       a whole decode step of a random-weight Qwen3-0.6B-shaped model (kernels + cuBLAS)
#              at batch 64 and 256, top-p 1 and 0.95, with a per-kernel time breakdown
#   engine     the GPU decode engine and the GPU decode loop against the CPU engine
#   loop       the decode loop timed as attnrl runs it (graphs, statistics, top-p on/off)
#   build      make CUDA=1, then the binary runs the default job for 2 steps on the CPU
#   train      the default job for 2 steps with train.device=cuda; one step with the chunked
#              output layer against one with the full logits (bf16: within 2e-2)
#   qwen3      5 steps of a random-weight Qwen3-0.6B-shaped model, coupled credit, on the GPU;
#              its last checkpoint is ~7 GB: written to /dev/shm or /tmp, skipped when neither
#              has room
#   sanitizer  compute-sanitizer memcheck and racecheck over the small kernel checks
# The default is kernels,step,engine,loop,build,train; `--parts qwen3,sanitizer` is the rest
# (each planned to fit one call of 600 s; the deadline cuts what does not). A part that needs
# a build runs it first.
# Deadline: GPU_CHECK_DEADLINE or --deadline seconds (default 540) from the start; each step's
# time-out is its own limit or the time left, whichever is less; a step cut off, or not
# started, is reported as such, and the summary is printed in any case.
# Needs: a GPU, nvcc (CUDA_HOME, else PATH), a CUDA torch in TORCH_PY (default .venv/bin/python
# when it exists, else python3), make and a C/C++ compiler; libyaml, OpenBLAS and Gloo
# installed or carried as .debs in .gpu-debs/ (scripts/gpu-debs.sh), which are unpacked into
# a folder, never installed. The first lines say what is missing, one line each.
# --rehearse: for a machine without a GPU: the same builds, then in place of the GPU runs the
# emulated kernel checks, decode step, engine check and decode loop at tiny sizes
# (tests/gpu/emu; tests/test_kernels_emu.sh also runs the loop's teacher-forced checks), every
# GPU-only step reported as "skipped (no GPU)"; its default part list is all.
# --plan: prints the prerequisites and the steps the parts make, runs nothing.
# Builds: make CUDA=1 into ATTNRL_BUILD (build/cuda) and ATTNRL_BIN (bin/cuda/attnrl).
# Logs: $OUT/gpu-check/ when OUT is set, else build/gpu-check/: gpu-check.log (everything),
# one NAME.log per step, summary.txt.
# Exit status: 0 when every step that was due ran and passed (a step skipped for want of a
# tool, of room or of a GPU in a rehearsal does not count), 1 otherwise, 2 for a usage error.
set -u
cd "$(dirname "$0")/.." || exit 2

BUILD=${ATTNRL_BUILD:-build/cuda}
BIN=${ATTNRL_BIN:-bin/cuda/attnrl}
PARTS_ALL="kernels step engine loop build train qwen3 sanitizer"
PARTS_DEFAULT="kernels,step,engine,loop,build,train"
RESERVE=15     # seconds kept for the summary
QWEN3_GIB=8    # free space the Qwen3-shaped run's checkpoint and model file need

usage() {
	echo "usage: scripts/gpu-check.sh [--parts LIST] [--deadline SECONDS] [--rehearse] [--plan]" \
		"(parts: ${PARTS_ALL// /,} or all)"
}
die_usage() {
	echo "gpu-check: $*"
	exit 2
}

# ---- options ----------------------------------------------------------------------------------
rehearse=0
plan=0
parts=${GPU_CHECK_PARTS:-}
deadline=${GPU_CHECK_DEADLINE:-540}
while [ $# -gt 0 ]; do
	case $1 in
	--parts) [ $# -ge 2 ] || die_usage "--parts needs a list"; parts=$2; shift 2 ;;
	--parts=*) parts=${1#--parts=}; shift ;;
	--deadline) [ $# -ge 2 ] || die_usage "--deadline needs seconds"; deadline=$2; shift 2 ;;
	--deadline=*) deadline=${1#--deadline=}; shift ;;
	--rehearse) rehearse=1; shift ;;
	--plan) plan=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die_usage "unknown option '$1' ($(usage))" ;;
	esac
done
[[ $deadline =~ ^[0-9]+$ ]] && [ "$deadline" -ge 1 ] ||
	die_usage "deadline '$deadline' is not a whole number of seconds"
[ -n "$parts" ] || parts=$([ $rehearse = 1 ] && echo all || echo "$PARTS_DEFAULT")
[ "$parts" = all ] && parts=${PARTS_ALL// /,}
declare -A WANT
for p in ${parts//,/ }; do
	[[ " $PARTS_ALL " == *" $p "* ]] || die_usage "unknown part '$p' (parts: ${PARTS_ALL// /,} or all)"
	WANT[$p]=1
done
[ ${#WANT[@]} -gt 0 ] || die_usage "no parts selected"
want() { [ -n "${WANT[$1]:-}" ]; }

T0=$(date +%s)
T_END=$((T0 + deadline))
JOBS=${GPU_CHECK_JOBS:-$(nproc 2>/dev/null || echo 4)}
if [ $plan = 0 ]; then
	LOG_DIR=${OUT:+$OUT/gpu-check}
	LOG_DIR=${LOG_DIR:-build/gpu-check}
	mkdir -p "$LOG_DIR"
	rm -f "$LOG_DIR"/*.log "$LOG_DIR"/*.jsonl "$LOG_DIR"/summary.txt # no earlier run's numbers
	exec > >(tee "$LOG_DIR/gpu-check.log") 2>&1
	TEE_PID=$!
fi
say() { printf '\n== %s (t=%ds)\n' "$*" $(($(date +%s) - T0)); }

# ---- what the machine has ---------------------------------------------------------------------
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
[ -x "$CUDA_HOME/bin/nvcc" ] || { n=$(command -v nvcc) && CUDA_HOME=$(dirname "$(dirname "$n")"); }
export CUDA_HOME
if [ -z "${TORCH_PY:-}" ]; then
	TORCH_PY=python3
	[ -x .venv/bin/python ] && TORCH_PY=.venv/bin/python
fi
export TORCH_PY
SANITIZER=
for s in "$CUDA_HOME/bin/compute-sanitizer" "$CUDA_HOME/compute-sanitizer/compute-sanitizer" \
	"$(command -v compute-sanitizer)"; do
	[ -n "$s" ] && [ -x "$s" ] && { SANITIZER=$s; break; }
done

say "what this machine has"
echo "gpu-check: parts ${parts}; deadline ${deadline} s; $JOBS jobs$([ $rehearse = 1 ] && echo '; a rehearsal (no GPU runs)')"
echo "gpu-check needs: a GPU; nvcc; a CUDA torch in $TORCH_PY; make, cc, c++; libyaml, OpenBLAS" \
	"and Gloo installed or as .debs in .gpu-debs/ (unpacked into a folder, never installed)"
have_gpu=0
gpu_name=$(timeout 30 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
[ -n "$gpu_name" ] || [ $rehearse = 1 ] || # no nvidia-smi in some containers: ask torch
	gpu_name=$(timeout 60 "$TORCH_PY" -c 'import torch; print(torch.cuda.get_device_name(0))' 2>/dev/null | tail -1)
[ -n "$gpu_name" ] && have_gpu=1 && echo "GPU: $gpu_name"
[ $rehearse = 1 ] && have_gpu=0 # a rehearsal never runs on a GPU
[ $have_gpu = 1 ] || [ $rehearse = 1 ] || echo "gpu-check: missing: a GPU (nvidia-smi lists none; --rehearse rehearses without one)"
have_nvcc=0
if [ -x "$CUDA_HOME/bin/nvcc" ]; then
	have_nvcc=1
	echo "nvcc: $CUDA_HOME/bin/nvcc, $("$CUDA_HOME/bin/nvcc" --version | sed -n 's/.*\(release [^,]*\).*/\1/p')"
else
	echo "gpu-check: missing: nvcc (not in \$CUDA_HOME/bin nor on PATH; set CUDA_HOME)"
fi
# torch/version.py read without importing torch (seconds of CPU)
torch_line=$("$TORCH_PY" -c 'import importlib.util as u, os
v = {}
exec(open(os.path.join(os.path.dirname(u.find_spec("torch").origin), "version.py")).read(), v)
print(v["__version__"], v.get("cuda") or "")' 2>/dev/null | tail -1)
have_torch=0
if [ -n "${torch_line#* }" ] && [ "${torch_line#* }" != "$torch_line" ]; then
	have_torch=1
	echo "torch: $torch_line (CUDA) from $TORCH_PY"
else
	echo "gpu-check: missing: a CUDA build of torch in $TORCH_PY${torch_line:+ (it has torch $torch_line, a CPU build)} (set TORCH_PY)"
fi
for t in make cc c++; do
	command -v $t >/dev/null || echo "gpu-check: missing: $t"
done
have_tools=1
command -v make >/dev/null && command -v cc >/dev/null && command -v c++ >/dev/null || have_tools=0
debs=(.gpu-debs/*.deb)
[ -e "${debs[0]}" ] || debs=()
have_deps=1
if [ ! -f /usr/include/yaml.h ] || [ ! -f /usr/include/gloo/allreduce.h ] || [ -n "${GPU_CHECK_FORCE_DEBS:-}" ]; then
	if [ ${#debs[@]} = 0 ]; then
		have_deps=0
		echo "gpu-check: missing: libyaml/OpenBLAS/Gloo headers, and no .gpu-debs/*.deb to unpack" \
			"(scripts/gpu-debs.sh fetches them; carry .gpu-debs)"
	elif ! command -v dpkg-deb >/dev/null && ! command -v ar >/dev/null; then
		have_deps=0
		echo "gpu-check: missing: dpkg-deb or ar, to unpack .gpu-debs/*.deb"
	else
		echo "Debian packages: ${#debs[@]} .debs in .gpu-debs ($(du -sh .gpu-debs | cut -f1)), unpacked below"
	fi
else
	echo "Debian packages: libyaml, Gloo headers installed"
fi
if want sanitizer; then
	[ -n "$SANITIZER" ] && echo "compute-sanitizer: $SANITIZER" ||
		echo "gpu-check: missing: compute-sanitizer (in the CUDA toolkit): the sanitizer part will be skipped"
fi
free_mib=$(df -Pk "${LOG_DIR:-.}" 2>/dev/null | awk 'NR == 2 { print int($4 / 1024) }')
[ "${free_mib:-0}" -ge 64 ] || echo "gpu-check: missing: room for the logs in ${LOG_DIR:-.} (${free_mib:-?} MiB free)"
df -h /dev/shm "${TMPDIR:-/tmp}" "${LOG_DIR:-.}" 2>/dev/null | awk '!seen[$1 $6]++' | sed 's/^/  /'

# ---- the steps --------------------------------------------------------------------------------
declare -A STATUS SECS
ORDER=()
failed=0
# record NAME STATUS [SECONDS]; a status other than PASS or "skipped (...)" fails the run
record() {
	[ -n "${STATUS[$1]+x}" ] || ORDER+=("$1")
	STATUS[$1]=$2
	SECS[$1]=${3:-}
	case $2 in PASS | skipped*) ;; *) failed=1 ;; esac
	echo "gpu-check: $1: $2"
}

# step [-q] NAME CAP COMMAND...: runs COMMAND, its output in NAME.log (and on the console
# unless -q), under a time-out of CAP seconds or of the time left, whichever is less
step() {
	local quiet=0
	[ "$1" = -q ] && { quiet=1; shift; }
	local name=$1 cap=$2 left t t0 rc dt
	shift 2
	left=$((T_END - $(date +%s) - RESERVE))
	if [ $left -lt 10 ]; then
		record "$name" "NOT STARTED (the deadline came)"
		return 1
	fi
	t=$((cap < left ? cap : left))
	say "$name (time-out $t s): $*"
	t0=$(date +%s)
	if [ $quiet = 1 ]; then
		timeout -k 5 "$t" "$@" >"$LOG_DIR/$name.log" 2>&1
		rc=$?
	else
		timeout -k 5 "$t" "$@" 2>&1 | tee "$LOG_DIR/$name.log"
		rc=${PIPESTATUS[0]}
	fi
	dt=$(($(date +%s) - t0))
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		[ $t -lt "$cap" ] && record "$name" "CUT OFF at the deadline after $dt s" "$dt" ||
			record "$name" "TIMED OUT after $cap s" "$dt"
	elif [ $rc = 0 ]; then
		record "$name" PASS "$dt"
	else
		record "$name" "FAIL (exit $rc)" "$dt"
	fi
	if [ $quiet = 1 ] && [ $rc != 0 ]; then
		echo "the first errors (full log: $LOG_DIR/$name.log):"
		grep -E 'error|Error|undefined reference|No such file|not found' "$LOG_DIR/$name.log" | head -20
		tail -5 "$LOG_DIR/$name.log"
	fi
	return $rc
}

# gpu_step NAME CAP COMMAND...: a step that needs a GPU
gpu_step() {
	if [ $have_gpu = 0 ]; then
		[ $rehearse = 1 ] && record "$1" "skipped (no GPU)" || record "$1" "NOT RUN (no GPU)"
		return 1
	fi
	step "$@"
}

# once NAME FUNCTION: runs a build step the first time a part needs it; its status after
once() {
	[ -n "${STATUS[$1]+x}" ] || "$2"
	[ "${STATUS[$1]}" = PASS ]
}

# needs NAME STEP WHAT...: records NAME as not run when STEP did not pass
needs() {
	local name=$1 dep=$2
	case ${STATUS[$dep]:-} in
	PASS) return 0 ;;
	"NOT STARTED"*) record "$name" "${STATUS[$dep]}" ;;
	*) record "$name" "NOT RUN ($dep did not pass)" ;;
	esac
	return 1
}

MAKE=(make -j"$JOBS" --no-print-directory CUDA=1 CUDA_HOME="$CUDA_HOME" TORCH_PY="$TORCH_PY")

unpack_debs() { # the carried .debs into a folder; the build finds them through these variables
	local root=${GPU_CHECK_DEBS_DIR:-${TMPDIR:-/tmp}/attnrl-debs} ma d x
	ma=$(uname -m)-linux-gnu
	rm -rf "$root"
	mkdir -p "$root"
	for d in "${debs[@]}"; do
		if command -v dpkg-deb >/dev/null; then
			dpkg-deb -x "$d" "$root" || return 1
		else
			x=$(mktemp -d)
			(cd "$x" && ar x "$OLDPWD/$d" && tar xf data.tar.* -C "$root") || return 1
			rm -rf "$x"
		fi
	done
	export CPATH=$root/usr/include:$root/usr/include/$ma${CPATH:+:$CPATH}
	local libs=$root/usr/lib/$ma:$root/usr/lib/$ma/openblas-openmp
	export LIBRARY_PATH=$libs${LIBRARY_PATH:+:$LIBRARY_PATH}
	export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	MAKE+=(BLAS_INC="$root/usr/include/$ma/openblas-openmp" YAML_H="$root/usr/include/yaml.h"
	       GLOO_H="$root/usr/include/gloo/allreduce.h")
	echo "gpu-check: ${#debs[@]} .debs unpacked under $root"
}

build_harness() {
	[ $have_nvcc = 1 ] && [ $have_tools = 1 ] || { record harness-build "NOT RUN (needs nvcc, make, cc)"; return; }
	step -q harness-build 300 "${MAKE[@]}" "$BUILD/gpu/check_kernels" "$BUILD/gpu/bench_decode"
}
build_engine() {
	[ $have_nvcc = 1 ] && [ $have_tools = 1 ] && [ $have_deps = 1 ] ||
		{ record engine-build "NOT RUN (needs nvcc, make, cc, libyaml/OpenBLAS)"; return; }
	step -q engine-build 300 "${MAKE[@]}" "$BUILD/gpu/check_engine" "$BUILD/gpu/check_rollout" \
		"$BUILD/gpu/bench_rollout"
}
build_emu() {
	step -q emu-build 300 "${MAKE[@]}" "$BUILD/emu/check_kernels" "$BUILD/emu/check_engine" \
		"$BUILD/emu/bench_rollout" "$BUILD/emu/bench_decode"
}
build_full() {
	[ $have_nvcc = 1 ] && [ $have_tools = 1 ] && [ $have_deps = 1 ] && [ $have_torch = 1 ] ||
		{ record build "NOT RUN (needs nvcc, make, c++, a CUDA torch, libyaml/OpenBLAS/Gloo)"; return; }
	step -q build 360 "${MAKE[@]}" || return
	[ -x "$BIN" ] || { record build "FAIL (make CUDA=1 made no $BIN)"; return; }
	readelf -d "$BIN" | grep -E 'NEEDED|RPATH|RUNPATH' | sed 's/^ */  /'
	echo "libraries as resolved at run time:"
	ldd "$BIN" | grep -E 'torch|c10|cudart|cublas|nccl|yaml|openblas|gloo' | sed 's/^\s*/  /'
}

# sanitize TOOL: compute-sanitizer TOOL over the small kernel checks
sanitize() {
	local tool=$1 extra=()
	[ "$tool" = racecheck ] && extra=(--racecheck-report hazard)
	gpu_step "$tool" 150 "$SANITIZER" --tool "$tool" "${extra[@]}" --error-exitcode 3 \
		--print-limit 20 "$BUILD/gpu/check_kernels" --small
}

# a directory for the Qwen3-shaped run: the first of /dev/shm and /tmp with QWEN3_GIB free
qwen3_dir() {
	local d free
	for d in /dev/shm "${TMPDIR:-/tmp}"; do
		[ -d "$d" ] && [ -w "$d" ] || continue
		free=$(df -Pk "$d" 2>/dev/null | awk 'NR == 2 { print int($4 / 1048576) }')
		echo "qwen3: $d has ${free:-?} GiB free (the run needs $QWEN3_GIB GiB)" >&2
		[ -n "$free" ] && [ "$free" -ge $QWEN3_GIB ] && { echo "$d/attnrl-gpu-check"; return; }
	done
}

# the Qwen3-shaped run in directory $1: Qwen3-0.6B's layer shapes (28 x dim 1024, 16 q / 8 kv
# heads of 128, SwiGLU 3072, q/k norm, tied embeddings) over the character vocabulary (~0.44B
# parameters); 32 responses of exactly 64 tokens per step, one 32-row micro-batch, 2 PPO epochs;
# the GPU engine's KV cache released for each update and made again (rollout.release_kv)
qwen3_args() {
	QWEN3=("$BIN" train configs/default.yaml model.path= model.arch=qwen3
		model.dim=1024 model.n_layers=28 model.n_heads=16 model.n_kv_heads=8 model.head_dim=128
		model.hidden_dim=3072 model.rope_theta=1000000 model.norm_eps=1e-6
		model.tie_embeddings=true model.max_seq_len=256 credit.strategy=coupled
		rollout.prompts_per_step=4 rollout.group_size=8 rollout.max_new_tokens=64
		rollout.ignore_eos=true rollout.release_kv=true algo.mini_batch=32 algo.micro_batch=32 algo.ppo_epochs=2
		train.steps=5 train.eval_every=0 train.save_every=0 train.keep_last=1
		train.threads="$JOBS" train.device=cuda run.dir="$1" run.resume=never)
}

if [ $plan = 1 ]; then
	echo "steps of ${parts}:"
	want kernels && echo "  harness-build (make CUDA=1 $BUILD/gpu/check_kernels $BUILD/gpu/bench_decode), kernels ($BUILD/gpu/check_kernels)"
	want step && echo "  harness-build, step ($BUILD/gpu/bench_decode)"
	want engine && echo "  engine-build, check-engine, check-rollout ($BUILD/gpu/check_engine, check_rollout)"
	want loop && echo "  engine-build, bench-rollout ($BUILD/gpu/bench_rollout)"
	want build && echo "  build (make CUDA=1: $BIN), run-cpu (2 steps of the default job, train.device=cpu)"
	want train && echo "  build, train-cuda (2 steps of the default job, train.device=cuda)"
	want train && echo "  build, logits-cuda (1 step with the chunked output layer and 1 with the full logits, train.device=cuda: loss and grad norm within bf16 rounding)"
	want qwen3 && echo "  build, qwen3 (5 steps, Qwen3-0.6B shapes, train.device=cuda; $QWEN3_GIB GiB of /dev/shm or /tmp)"
	want sanitizer && echo "  harness-build, memcheck, racecheck (compute-sanitizer $BUILD/gpu/check_kernels --small)"
	[ $rehearse = 1 ] && echo "  (rehearsal: emu-build; kernels, step, engine, loop emulated on the CPU; GPU-only steps skipped)"
	exit 0
fi

# ---- the run ----------------------------------------------------------------------------------
if [ ${#debs[@]} -gt 0 ] && [ $have_deps = 1 ] &&
	{ [ ! -f /usr/include/yaml.h ] || [ ! -f /usr/include/gloo/allreduce.h ] || [ -n "${GPU_CHECK_FORCE_DEBS:-}" ]; }; then
	unpack_debs || { have_deps=0; echo "gpu-check: the .debs did not unpack"; }
fi

if [ $rehearse = 1 ] && { want kernels || want step || want engine || want loop; }; then
	build_emu
	if want kernels && needs emu-kernels emu-build; then
		step emu-kernels 240 "$BUILD/emu/check_kernels" --small
	fi
	if want step && needs emu-step emu-build; then
		step emu-step 120 "$BUILD/emu/bench_decode"
	fi
	if want engine && needs emu-engine emu-build; then
		step emu-engine 240 "$BUILD/emu/check_engine"
	fi
	if want loop && needs emu-loop emu-build; then
		step emu-loop 120 "$BUILD/emu/bench_rollout" --small
	fi
fi

if want kernels || want step; then
	once harness-build build_harness
	if want kernels && needs kernels harness-build; then
		gpu_step kernels 240 "$BUILD/gpu/check_kernels"
	fi
	if want step && needs step harness-build; then
		gpu_step step 180 "$BUILD/gpu/bench_decode"
	fi
fi

if want engine || want loop; then
	once engine-build build_engine
	if want engine && needs check-engine engine-build; then
		gpu_step check-engine 90 "$BUILD/gpu/check_engine"
		gpu_step check-rollout 150 "$BUILD/gpu/check_rollout"
	fi
	if want loop && needs bench-rollout engine-build; then
		gpu_step bench-rollout 240 "$BUILD/gpu/bench_rollout"
	fi
fi

if want build || want train || want qwen3; then
	once build build_full
	if want build && needs run-cpu build; then
		rm -rf runs/gpu-check
		step run-cpu 150 "$BIN" train configs/default.yaml run.name=gpu-check train.steps=2 \
			train.eval_every=0 train.threads="$JOBS" train.device=cpu run.resume=never
		rm -rf runs/gpu-check
	fi
	if want train && needs train-cuda build; then
		rm -rf runs/gpu-check-cuda
		gpu_step train-cuda 150 "$BIN" train configs/default.yaml run.name=gpu-check-cuda \
			train.steps=2 train.eval_every=1 data.eval_size=16 train.threads="$JOBS" \
			train.device=cuda run.resume=never
		rm -rf runs/gpu-check-cuda
	fi
	if want train && needs logits-cuda build; then
		rm -rf runs/gpu-logits
		gpu_step logits-cuda 150 env BIN="$BIN" JOBS="$JOBS" bash -c '
			for c in -1 0; do
				"$BIN" train configs/default.yaml run.dir=runs/gpu-logits run.name=c$c \
					train.steps=1 train.eval_every=0 train.threads="$JOBS" train.device=cuda \
					run.resume=never credit.strategy=none model.logits_chunk=$c >/dev/null || exit 1
			done
			python3 -c "
import json
r = [[json.loads(l) for l in open(f\"runs/gpu-logits/c{c}/metrics.jsonl\") if \"loss\" in l][0] for c in (-1, 0)]
d = [abs(r[0][k] - r[1][k]) / max(abs(r[0][k]), 1e-3) for k in (\"loss\", \"grad_norm\")]
print(\"chunked output layer vs full logits on cuda (bf16): loss %.6g vs %.6g, grad norm %.6g vs %.6g\" % (r[1][\"loss\"], r[0][\"loss\"], r[1][\"grad_norm\"], r[0][\"grad_norm\"]))
raise SystemExit(0 if max(d) < 2e-2 else 1)"'
		rm -rf runs/gpu-logits
	fi
	if want qwen3 && needs qwen3 build; then
		rdir=$(qwen3_dir)
		if [ -z "$rdir" ]; then
			record qwen3 "skipped (no room: $QWEN3_GIB GiB free in neither /dev/shm nor ${TMPDIR:-/tmp})"
		else
			rm -rf "$rdir"
			qwen3_args "$rdir"
			gpu_step qwen3 360 "${QWEN3[@]}"
			cp "$rdir/default/metrics.jsonl" "$LOG_DIR/qwen3-metrics.jsonl" 2>/dev/null
			rm -rf "$rdir"
		fi
	fi
fi

if want sanitizer; then
	once harness-build build_harness
	if want sanitizer && needs memcheck harness-build && needs racecheck harness-build; then
		if [ -z "$SANITIZER" ] && [ $have_gpu = 1 ]; then
			record memcheck "skipped (no compute-sanitizer)"
			record racecheck "skipped (no compute-sanitizer)"
		else
			sanitize memcheck
			sanitize racecheck
		fi
	fi
fi

# ---- the summary ------------------------------------------------------------------------------
# the update report line of qwen3.log -> tokens/s, MFU (H200 bf16 dense 989 TFLOP/s), peak
# memory; step and rollout times from its metrics.jsonl
train_table() {
	local line
	line=$(grep '^attnrl train: update on cuda' "$LOG_DIR/qwen3.log" 2>/dev/null | tail -1)
	if [ -z "$line" ]; then
		echo "  not measured (the run did not reach its end; see qwen3.log)"
		return
	fi
	echo "  $line"
	echo "$line" | awk '{
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) == "tokens" && $(i + 2) == "forward+backward") tr = $i
			if ($(i + 1) == "forward-only,") fw = $i
			if ($(i + 1) == "s;") sec = $i
			if ($(i + 1) == "parameters;") np = $i
		}
		if (sec <= 0) exit
		printf "  update tokens/s (recompute forward + 2 PPO epochs of forward+backward, GPU, bf16): %.0f\n", tr / sec
		printf "  update MFU: %.1f%% of 989 TFLOP/s (6 x %.3gB params x %d train tokens + 2 x params x %d forward tokens, over %.2f s; attention FLOPs not counted; the first step'"'"'s warm-up included)\n",
		       100 * (6 * np * tr + 2 * np * fw) / sec / 989e12, np / 1e9, tr, fw, sec
	}'
	grep -o 'peak device memory [0-9.]* GiB' <<<"$line" | sed 's/^/  /; s/$/ (torch.cuda.max_memory_allocated)/'
	grep -o 'weight copies (host mirror, GPU engine) [0-9.]* s' <<<"$line" | sed 's/^/  /; s/$/ over all steps (not in the update time)/'
	grep -o 'rollouts on the [A-Z]* engine' <<<"$line" | sed 's/^/  /'
	awk -F'"time_step_s": ' 'NF > 1 { split($2, a, /[,}]/); s += a[1]; n++ }
		END { if (n) printf "  step time, mean of %d steps: %.2f s\n", n, s / n }' \
		"$LOG_DIR/qwen3-metrics.jsonl" 2>/dev/null
	awk -F'"time_rollout_s": ' 'NF > 1 { split($2, a, /[,}]/); s += a[1]; n++ }
		END { if (n) printf "  rollout time, mean: %.3f s per step = %.0f tokens/s (32 x 64 tokens, batch 32, prefill included)\n", s / n, 2048 * n / s }' \
		"$LOG_DIR/qwen3-metrics.jsonl" 2>/dev/null
}

# statistics overhead from "PERF <what> B=.. ctx=.. stats=0|1 <field>=<time>" lines on stdin
# (top_p=1 lines only, where a line has one)
overhead() { # what field label
	awk -v what="$1" -v field="$2" -v label="$3" '$1 == "PERF" && $2 == what && $3 ~ /^B=/ {
		key = ""; st = -1; v = 0; tp = 1
		for (i = 3; i <= NF; i++) {
			if ($i ~ /^(B|ctx)=/) key = key " " $i
			if ($i ~ /^stats=/) st = substr($i, 7) + 0
			if ($i ~ /^top_p=/) tp = substr($i, 7) + 0
			if (index($i, field) == 1) v = substr($i, length(field) + 1) + 0
		}
		if (tp == 1) { t[key, st] = v; keys[key] = 1 }
	}
	END { for (k in keys) if (t[k, 0] > 0 && t[k, 1] > 0)
		printf "  statistics overhead, %s,%s: %+.2f%%\n", label, k, 100 * (t[k, 1] / t[k, 0] - 1) }' | sort
}

# log NAME: the log of step NAME when it ran
log() { [ -s "$LOG_DIR/$1.log" ] && echo "$LOG_DIR/$1.log"; }

summary() {
	local f n
	echo "attnrl gpu-check, $(date -u '+%Y-%m-%d %H:%M UTC'), ${gpu_name:-no GPU}; parts ${parts}$([ $rehearse = 1 ] && echo ', a rehearsal')"
	echo
	echo "steps (status, seconds):"
	for n in "${ORDER[@]}"; do
		printf '  %-14s %-44s %s\n' "$n" "${STATUS[$n]}" "${SECS[$n]:+${SECS[$n]} s}"
	done
	if [ -n "${STATUS[emu-build]+x}" ]; then
		echo
		echo "emulated on the CPU (tests/gpu/emu; correctness only, the timings mean nothing):"
	fi
	if f=$(log emu-kernels); then
		echo "  kernel checks: $(grep -c '^CHECK.*PASS$' "$f") passed, $(grep -c '^CHECK.*FAIL' "$f") failed"
	fi
	if f=$(log emu-step); then
		echo "  decode step: $(grep -c '^PERF step B=' "$f") timing lines, $(grep -c '^KERNEL breakdown' "$f") kernel tables"
	fi
	if f=$(log emu-engine); then
		grep 'engine_gpu vs engine' "$f" | sed 's/^/  /'
	fi
	if f=$(log emu-loop); then
		echo "  decode loop: $(grep -c '^PERF rollout' "$f") runs"
	fi
	if f=$(log kernels); then
		echo
		echo "kernel checks (CUDA kernel vs CPU twin, same random inputs; ratio = max_err / tol):"
		grep '^CHECK' "$f" | sed 's/^CHECK /  /'
		grep -E '^checks:' "$f" | sed 's/^/  /'
		grep -q '^checks:' "$f" || echo "  the harness stopped early (see kernels.log)"
		echo
		echo "timings (decode attention: one layer, Qwen3-0.6B shapes H16 K8 E128, random q/K/V, every"
		echo "row at ctx-1; bytes = K+V read + q/out; roofline_frac = bytes/s over the measured d2d copy rate):"
		grep '^PERF' "$f" | sed 's/^PERF /  /'
		grep -q '^PERF attn' "$f" || echo "  no timings (see kernels.log)"
		overhead attn us_per_layer= "attention of one sampled layer" <"$f"
	fi
	for n in memcheck racecheck; do
		f=$(log $n) || continue
		echo "compute-sanitizer $n over check_kernels --small: ${STATUS[$n]}; $(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$f" || echo 'no summary line')"
	done
	if f=$(log step); then
		echo
		echo "a whole decode step, random weights, Qwen3-0.6B shapes (28 layers, tied 151936 vocab),"
		echo "every row at ctx-1; bytes = bf16 weights + KV cache read per step:"
		grep '^PERF step' "$f" | sed 's/^PERF step /  /'
		grep -q '^PERF step B=' "$f" || echo "  no timings (see step.log)"
		overhead step ms_per_step= "a whole decode step, 5 of 28 layers sampled" <"$f"
		grep '^KERNEL' "$f" | sed 's/^KERNEL /  /'
	fi
	if f=$(log check-engine); then
		echo
		echo "GPU decode engine vs CPU engine (logits, bf16 tolerance): ${STATUS[check-engine]}"
		grep 'engine_gpu vs engine' "$f" | sed 's/^/  /'
	fi
	if f=$(log check-rollout); then
		echo "GPU decode loop vs CPU engine (teacher forcing, stops, schedules, graphs): ${STATUS[check-rollout]}"
		grep -E '^rollout_gpu' "$f" | sed 's/^/  /'
	fi
	if f=$(log bench-rollout); then
		echo
		echo "the GPU decode loop as attnrl runs it (random weights, Qwen3-0.6B shapes, 64-token prompts,"
		echo "256 new tokens, temperature 1; ms_per_step from a 256-token run minus a 1-token run;"
		echo "bytes = bf16 weights + KV cache at the mean context, per step):"
		grep '^PERF' "$f" | sed 's/^PERF /  /'
		grep -q '^PERF rollout' "$f" || echo "  no timings (see bench-rollout.log)"
		awk '$1 == "PERF" && $2 == "rollout" {
			delete v; v["top_p"] = 1
			for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			t[v["B"], v["graphs"], v["stats"], v["top_p"] + 0] = v["ms_per_step"]; bs[v["B"]] = 1
		}
		END { for (b in bs) {
			if (t[b, 1, 1, 1] > 0 && t[b, 1, 0, 1] > 0)
				printf "  statistics overhead in the loop, B=%s: %+.2f%%\n", b, 100 * (t[b, 1, 1, 1] / t[b, 1, 0, 1] - 1)
			if (t[b, 1, 1, 1] > 0 && t[b, 0, 1, 1] > 0)
				printf "  CUDA graphs, B=%s: step %.3f ms with, %.3f ms without (%+.1f%%)\n", b, t[b, 1, 1, 1], t[b, 0, 1, 1], 100 * (t[b, 1, 1, 1] / t[b, 0, 1, 1] - 1)
			if (t[b, 1, 1, 1] > 0 && t[b, 1, 1, 0.95] > 0)
				printf "  top-p 0.95 vs 1 in the loop, B=%s: %+.2f%%\n", b, 100 * (t[b, 1, 1, 0.95] / t[b, 1, 1, 1] - 1)
		} }' "$f" | sort
	fi
	if [ -n "${STATUS[build]+x}" ]; then
		echo
		echo "full build, make CUDA=1: ${STATUS[build]}; the binary, 2 steps on the CPU: ${STATUS[run-cpu]:-not run}"
		echo "default job, 2 steps with train.device=cuda: ${STATUS[train-cuda]:-not run}"
	fi
	if [ -n "${STATUS[qwen3]+x}" ]; then
		echo
		echo "training on the GPU: random-weight Qwen3-0.6B shapes (character vocabulary), coupled credit,"
		echo "5 steps x 32 responses of 64 tokens, update on cuda (bf16 over fp32 master weights),"
		echo "rollouts on the GPU decode loop (rollout.engine=auto): ${STATUS[qwen3]}"
		[ -f "$LOG_DIR/qwen3.log" ] && train_table
	fi
	echo
	echo "NOT MEASURED:"
	for n in $PARTS_ALL; do
		want $n || echo "  - the $n part (not selected: --parts $n)"
	done
	echo "  - NCCL collectives on GPUs (dist_nccl.c is compiled and linked; one GPU here)"
	echo "  - a real checkpoint's weights or tokenizer (random weights, character vocabulary)"
}

say "summary"
summary | tee "$LOG_DIR/summary.txt"
echo "gpu-check: $([ $failed = 0 ] && echo 'every step that was due passed' || echo 'NOT every step passed'); done in $(($(date +%s) - T0)) s; logs in $LOG_DIR"
exec >&- 2>&-
wait "$TEE_PID" 2>/dev/null
exit $failed
