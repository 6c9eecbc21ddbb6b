#!/usr/bin/env bash
# gpu-check.sh - the one-call GPU check (issue 7): on a lent GPU machine, no network, under 8
# minutes. Run from anywhere: bash scripts/gpu-check.sh
#   1. what the machine has (GPU, nvcc, python3's torch, compilers);
#   2. the kernel harness (make gpu-harness: kernels/*.cu + their CPU twins, no libtorch) and
#      its run: every CUDA kernel against its CPU twin on fresh random inputs, then timings
#      (decode attention at batch 64 and 256 against the measured copy bandwidth, sampling);
#      then a whole decode step of a random-weight Qwen3-0.6B-shaped model (kernels + cuBLAS)
#      timed at batch 64 and 256, with and without the statistics;
#      then the GPU decode engine (src/engine_gpu.c) against the CPU engine on a small model,
#      the GPU decode loop (src/rollout_gpu.c) teacher-forced against the CPU engine, and the
#      loop timed as attnrl runs it (bench_rollout: Qwen3-0.6B shapes, batch 64 and 256, CUDA
#      graphs and statistics on/off): decode tokens/s, HBM roofline, statistics overhead;
#   3. the full CUDA=1 build against python3's CUDA torch (Debian packages it needs are
#      unpacked under /tmp from .gpu-debs/ when carried: scripts/gpu-debs.sh fetches them),
#      then a start of the binary, a 2-step training run of the default job on the CPU and on
#      the GPU (train.device), and 5 steps of a random-weight Qwen3-0.6B-shaped model with
#      coupled credit on the GPU (the update on cuda in bf16 over fp32 master weights, the
#      rollouts on the GPU decode loop): update tokens/s, MFU, rollout tokens/s, peak memory;
#   4. a table of what was measured, and a plain list of what is not measured yet.
# GPU_CHECK_TRAIN_ONLY=1 skips part 2 (a rerun that only needs the build and the training runs).
# Logs: everything under $OUT when set (gpu-check.log, harness.log, bench.log, build-engine.log,
# check-rollout.log, bench-rollout.log, build-cuda.log, train-default-cuda.log, train-qwen3.log,
# summary.txt), else under
# build/gpu-check/. Exit status: 0 when every kernel check and the decode loop's checks passed
# (GPU_CHECK_TRAIN_ONLY: when the Qwen3-shaped training run ended well).
set -u
cd "$(dirname "$0")/.."
LOG_DIR=${OUT:-build/gpu-check}
mkdir -p "$LOG_DIR" build
# no log of an earlier run may end up in this run's summary
rm -f "$LOG_DIR"/{gpu-check,harness,bench,build-engine,check-rollout,bench-rollout,build-cuda}.log \
	"$LOG_DIR"/{train-default-cuda,train-qwen3}.log "$LOG_DIR"/train-qwen3-metrics.jsonl \
	"$LOG_DIR"/summary.txt
exec > >(tee "$LOG_DIR/gpu-check.log") 2>&1
T0=$(date +%s)
JOBS=$(nproc 2>/dev/null || echo 4)
say() { printf '\n== %s (t=%ds)\n' "$*" $(($(date +%s) - T0)); }

say "1. machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1 | head -5
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
[ -x "$CUDA_HOME/bin/nvcc" ] || CUDA_HOME=$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /nonexistent/bin/nvcc)")")
export CUDA_HOME
"$CUDA_HOME/bin/nvcc" --version 2>&1 | tail -2 || echo "nvcc: NOT FOUND (set CUDA_HOME)"
gcc --version 2>&1 | head -1 || echo "gcc: NOT FOUND"
command -v make >/dev/null || echo "make: NOT FOUND (the harness is built by hand below)"
python3 -c 'import torch, os; print("torch", torch.__version__, "cuda", torch.version.cuda, "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI, "at", os.path.dirname(torch.__file__), "gpu", torch.cuda.is_available())' 2>&1 | tail -1

say "1. the Debian packages of the CPU build (libyaml, OpenBLAS, Gloo)"
TORCH_DIR=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
extra=()
if [ -d .gpu-debs ] && ls .gpu-debs/*.deb >/dev/null 2>&1 &&
	{ [ ! -f /usr/include/yaml.h ] || [ -n "${GPU_CHECK_FORCE_DEBS:-}" ]; }; then
	root=/tmp/attnrl-debs
	mkdir -p $root
	for d in .gpu-debs/*.deb; do
		if command -v dpkg-deb >/dev/null; then
			dpkg-deb -x "$d" $root
		else
			(cd /tmp && rm -rf debx && mkdir debx && cd debx && ar x "$OLDPWD/$d" && tar xf data.tar.* -C $root)
		fi
	done
	ma=x86_64-linux-gnu
	export CPATH=$root/usr/include:$root/usr/include/$ma${CPATH:+:$CPATH}
	libs=$root/usr/lib/$ma:$root/usr/lib/$ma/openblas-openmp
	export LIBRARY_PATH=$libs${LIBRARY_PATH:+:$LIBRARY_PATH}
	export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	extra=(BLAS_INC=$root/usr/include/$ma/openblas-openmp YAML_H=$root/usr/include/yaml.h
	       GLOO_H=$root/usr/include/gloo/allreduce.h)
	echo "gpu-check: unpacked $(ls .gpu-debs/*.deb | wc -l) carried .debs under $root"
elif [ ! -f /usr/include/yaml.h ]; then
	echo "gpu-check: no libyaml/OpenBLAS/Gloo headers here and no .gpu-debs/ carried: the CUDA=1 build"
	echo "           will stop at the deps check (run scripts/gpu-debs.sh and carry .gpu-debs)"
fi

harness_ok=0
harness_rc=99
engine_ok=0
loop_ok=0
if [ -n "${GPU_CHECK_TRAIN_ONLY:-}" ]; then
	say "2. skipped (GPU_CHECK_TRAIN_ONLY is set): no kernel checks, no decode timings"
	harness_rc=0
else
say "2. kernel harness: build"
HARNESS=build/gpu/check_kernels
harness_ok=0
if command -v make >/dev/null; then
	timeout 300 make -j"$JOBS" gpu-harness CUDA_HOME="$CUDA_HOME" && harness_ok=1
else
	mkdir -p build/kernels build/gpu
	ok=1
	for cu in kernels/*.cu; do
		o=build/kernels/$(basename "${cu%.cu}").o
		"$CUDA_HOME/bin/nvcc" -std=c++17 -O3 -Iinclude -Xcompiler -Wall,-Wextra,-fPIC \
			-gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
			-c -o "$o" "$cu" || ok=0
	done
	[ $ok = 1 ] && gcc -std=c11 -O2 -g -Wall -Wextra -fopenmp -Iinclude -I"$CUDA_HOME/include" \
		-D_GNU_SOURCE -o $HARNESS tests/gpu/check_kernels.c src/kernels_cpu.c src/rng.c \
		build/kernels/*.o -L"$CUDA_HOME/lib64" -L"$CUDA_HOME/lib" -Wl,-rpath,"$CUDA_HOME/lib64" -lcudart \
		-lstdc++ -lm -fopenmp && harness_ok=1
fi
[ $harness_ok = 1 ] || echo "gpu-check: THE KERNEL HARNESS DID NOT BUILD (errors above)"

say "2. kernel harness: run (checks, then timings)"
harness_rc=99
if [ $harness_ok = 1 ]; then
	timeout 240 $HARNESS > >(tee "$LOG_DIR/harness.log") 2>&1
	harness_rc=$?
	sleep 1
	echo "harness exit status: $harness_rc (0 all checks passed, 1 a check failed, 2 CUDA error, 124 timeout)"
fi

say "2. a whole decode step (random-weight Qwen3-0.6B shapes, kernels + cuBLAS), timed"
if [ -x build/gpu/bench_decode ]; then
	timeout 180 build/gpu/bench_decode > >(tee "$LOG_DIR/bench.log") 2>&1
	echo "bench_decode exit status: $?"
	sleep 1
else
	echo "gpu-check: build/gpu/bench_decode was not built (errors above)"
fi

say "2. the GPU decode engine against the CPU engine (real kernels and cuBLAS)"
engine_ok=0
if command -v make >/dev/null && timeout 200 make -j"$JOBS" build/gpu/check_engine \
	CUDA_HOME="$CUDA_HOME" "${extra[@]}" > "$LOG_DIR/build-engine.log" 2>&1; then
	out=$(timeout 60 build/gpu/check_engine 2>&1)
	rc=$?
	echo "$out" | tail -8
	echo "check_engine exit status: $rc"
	[ $rc = 0 ] && engine_ok=1
else
	echo "gpu-check: build/gpu/check_engine did not build (it needs the CPU build's libyaml and"
	echo "           OpenBLAS: carry .gpu-debs); the first errors:"
	grep -E 'error|No such file' "$LOG_DIR/build-engine.log" | head -5
fi

say "2. the GPU decode loop: teacher-forced against the CPU engine, then timed"
if command -v make >/dev/null && timeout 200 make -j"$JOBS" build/gpu/check_rollout \
	build/gpu/bench_rollout CUDA_HOME="$CUDA_HOME" "${extra[@]}" >> "$LOG_DIR/build-engine.log" 2>&1; then
	timeout 120 build/gpu/check_rollout > >(tee "$LOG_DIR/check-rollout.log") 2>&1
	rc=$?
	sleep 1
	echo "check_rollout exit status: $rc"
	[ $rc = 0 ] && loop_ok=1
	timeout 240 build/gpu/bench_rollout > >(tee "$LOG_DIR/bench-rollout.log") 2>&1
	echo "bench_rollout exit status: $?"
	sleep 1
else
	echo "gpu-check: build/gpu/check_rollout or bench_rollout did not build; the first errors:"
	grep -E 'error|No such file' "$LOG_DIR/build-engine.log" | head -5
fi
fi

say "3. full build: make CUDA=1"
build_ok=0
if ! command -v make >/dev/null; then
	echo "gpu-check: no make: the CUDA=1 build is skipped"
elif [ -z "$TORCH_DIR" ]; then
	echo "gpu-check: python3 has no torch: the CUDA=1 build is skipped"
else
	# objects of a CPU build (Debian libtorch, no NCCL) must not be reused by this one
	rm -f bin/attnrl build/*.o build/*.d build/libattnrl.a
	timeout 240 make -j"$JOBS" CUDA=1 CUDA_HOME="$CUDA_HOME" "${extra[@]}" bin/attnrl \
		> "$LOG_DIR/build-cuda.log" 2>&1 && build_ok=1
	if [ $build_ok = 1 ]; then
		echo "make CUDA=1: bin/attnrl built"
		readelf -d bin/attnrl | grep -E 'NEEDED|RPATH|RUNPATH' | sed 's/^ */  /'
		echo "libraries as resolved at run time:"
		ldd bin/attnrl | grep -E 'torch|c10|cudart|nccl|yaml|openblas|gloo' | sed 's/^\s*/  /'
	else
		echo "make CUDA=1 FAILED; the first errors (full log: $LOG_DIR/build-cuda.log):"
		grep -E 'error|Error|undefined reference|No such file|not found' "$LOG_DIR/build-cuda.log" | head -25
		tail -5 "$LOG_DIR/build-cuda.log"
	fi
fi

run_ok=0
cuda_ok=0
qwen_ok=0
if [ $build_ok = 1 ]; then
	say "3. the CUDA=1 binary runs (the default job, 2 steps, train.device=cpu)"
	timeout 20 bin/attnrl config configs/default.yaml > /dev/null && echo "bin/attnrl config: OK"
	rm -rf runs/gpu-check
	timeout 120 bin/attnrl train configs/default.yaml run.name=gpu-check train.steps=2 \
		train.eval_every=0 train.threads=8 train.device=cpu && run_ok=1
	echo "2-step CPU training run with the CUDA=1 binary: $([ $run_ok = 1 ] && echo OK || echo FAILED)"

	say "3. the default job, 2 steps, train.device=cuda (the update on the GPU)"
	timeout 120 bin/attnrl train configs/default.yaml run.name=gpu-check-cuda train.steps=2 \
		train.eval_every=1 data.eval_size=16 train.threads=8 train.device=cuda run.resume=never \
		> >(tee "$LOG_DIR/train-default-cuda.log") 2>&1 && cuda_ok=1
	sleep 1
	echo "2-step GPU training run of the default job: $([ $cuda_ok = 1 ] && echo OK || echo FAILED)"

	say "3. 5 steps of a random-weight Qwen3-0.6B-shaped model, coupled credit, train.device=cuda"
	# Qwen3-0.6B's layer shapes (28 x dim 1024, 16 q / 8 kv heads of 128, SwiGLU 3072, q/k norm,
	# tied embeddings) over the character vocabulary (no Qwen tokenizer offline): ~0.44B
	# parameters. 32 responses of exactly 64 tokens per step, one 32-row micro-batch, 2 PPO epochs.
	rdir=/tmp/attnrl-gpu-check # /dev/shm when there: the last checkpoint is ~7 GB (weights + moments)
	[ -d /dev/shm ] && [ -w /dev/shm ] && rdir=/dev/shm/attnrl-gpu-check
	rm -rf "$rdir"
	timeout 360 bin/attnrl train configs/default.yaml model.path= model.arch=qwen3 \
		model.dim=1024 model.n_layers=28 model.n_heads=16 model.n_kv_heads=8 model.head_dim=128 \
		model.hidden_dim=3072 model.rope_theta=1000000 model.norm_eps=1e-6 \
		model.tie_embeddings=true model.max_seq_len=256 credit.strategy=coupled \
		rollout.prompts_per_step=4 rollout.group_size=8 rollout.max_new_tokens=64 \
		rollout.ignore_eos=true algo.mini_batch=32 algo.micro_batch=32 algo.ppo_epochs=2 \
		train.steps=5 train.eval_every=0 train.save_every=0 train.keep_last=1 \
		train.threads="$JOBS" train.device=cuda run.dir="$rdir" run.resume=never \
		> >(tee "$LOG_DIR/train-qwen3.log") 2>&1 && qwen_ok=1
	sleep 1
	cp "$rdir/default/metrics.jsonl" "$LOG_DIR/train-qwen3-metrics.jsonl" 2>/dev/null
	rm -rf "$rdir"
	echo "5-step Qwen3-0.6B-shaped GPU training run: $([ $qwen_ok = 1 ] && echo OK || echo FAILED)"
fi

# the update report line of train-qwen3.log -> tokens/s, MFU (H200 bf16 dense 989 TFLOP/s),
# peak memory; step and rollout times from metrics.jsonl
train_table() {
	local line
	line=$(grep '^attnrl train: update on cuda' "$LOG_DIR/train-qwen3.log" 2>/dev/null | tail -1)
	if [ -z "$line" ]; then
		echo "  not measured (the run failed or did not reach its end; see train-qwen3.log)"
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
	grep -o 'weight copies (host mirror, GPU engine) [0-9.]* s' <<<"$line" | sed 's/^/  /; s/$/ over all steps (the GPU engine'"'"'s bf16 refresh after each update, the host mirror before saves; not in the update time)/'
	grep -o 'rollouts on the [A-Z]* engine' <<<"$line" | sed 's/^/  /'
	awk -F'"time_step_s": ' 'NF > 1 { split($2, a, /[,}]/); s += a[1]; n++ }
		END { if (n) printf "  step time, mean of %d steps: %.2f s\n", n, s / n }' \
		"$LOG_DIR/train-qwen3-metrics.jsonl" 2>/dev/null
	awk -F'"time_rollout_s": ' 'NF > 1 { split($2, a, /[,}]/); s += a[1]; n++ }
		END { if (n) printf "  rollout time, mean: %.3f s per step = %.0f tokens/s (32 x 64 tokens, batch 32, prefill included)\n", s / n, 2048 * n / s }' \
		"$LOG_DIR/train-qwen3-metrics.jsonl" 2>/dev/null
}

# statistics overhead from "PERF <what> B=.. ctx=.. stats=0|1 <field>=<time>" lines on stdin
overhead() { # what field label
	awk -v what="$1" -v field="$2" -v label="$3" '$1 == "PERF" && $2 == what && $3 ~ /^B=/ {
		key = ""; st = -1; v = 0
		for (i = 3; i <= NF; i++) {
			if ($i ~ /^(B|ctx)=/) key = key " " $i
			if ($i ~ /^stats=/) st = substr($i, 7) + 0
			if (index($i, field) == 1) v = substr($i, length(field) + 1) + 0
		}
		t[key, st] = v; keys[key] = 1
	}
	END { for (k in keys) if (t[k, 0] > 0 && t[k, 1] > 0)
		printf "  statistics overhead, %s,%s: %+.2f%%\n", label, k, 100 * (t[k, 1] / t[k, 0] - 1) }' | sort
}

say "4. summary"
{
	echo "attnrl gpu-check, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
	echo
	echo "kernel checks (CUDA kernel vs CPU twin, same random inputs; ratio = max_err / tol):"
	if [ -f "$LOG_DIR/harness.log" ]; then
		grep '^CHECK' "$LOG_DIR/harness.log" | sed 's/^CHECK /  /'
		grep -E '^checks:' "$LOG_DIR/harness.log" | sed 's/^/  /'
		grep -q '^checks:' "$LOG_DIR/harness.log" || echo "  the harness stopped early (see harness.log)"
	else
		echo "  none ran (the harness did not build, or GPU_CHECK_TRAIN_ONLY was set)"
	fi
	echo
	echo "timings (decode attention: one layer, Qwen3-0.6B shapes H16 K8 E128, every row at ctx-1;"
	echo "bytes = K+V read + q/out; roofline_frac = achieved bytes/s over the measured d2d copy rate):"
	if [ -f "$LOG_DIR/harness.log" ]; then
		grep '^PERF' "$LOG_DIR/harness.log" | sed 's/^PERF /  /'
		grep -q '^PERF attn' "$LOG_DIR/harness.log" || echo "  no timings (see harness.log)"
		overhead attn us_per_layer= "attention of one sampled layer" < "$LOG_DIR/harness.log"
	fi
	echo
	echo "a whole decode step, random weights, Qwen3-0.6B shapes (28 layers, tied 151936 vocab),"
	echo "every row at ctx-1, top_p 1; bytes = bf16 weights + KV cache read per step:"
	if [ -f "$LOG_DIR/bench.log" ]; then
		grep '^PERF step' "$LOG_DIR/bench.log" | sed 's/^PERF step /  /'
		grep -q '^PERF step B=' "$LOG_DIR/bench.log" || echo "  no timings (see bench.log)"
		overhead step ms_per_step= "a whole decode step, 5 of 28 layers sampled" < "$LOG_DIR/bench.log"
	else
		echo "  not run"
	fi
	echo
	echo "GPU decode engine vs CPU engine (logits, bf16 tolerance): $([ $engine_ok = 1 ] && echo PASS || echo 'FAIL or not run (see above)')"
	echo "GPU decode loop vs CPU engine (teacher forcing, stops, schedules, graphs): $([ $loop_ok = 1 ] && echo PASS || echo 'FAIL or not run (see above)')"
	grep -E '^rollout_gpu' "$LOG_DIR/check-rollout.log" 2>/dev/null | sed 's/^/  /'
	echo
	echo "the GPU decode loop as attnrl runs it (bench_rollout: random weights, Qwen3-0.6B shapes,"
	echo "64-token prompts, 256 new tokens, temperature 1; ms_per_step from a 256-token run minus a"
	echo "1-token run; bytes = bf16 weights + KV cache at the mean context, per step):"
	if [ -f "$LOG_DIR/bench-rollout.log" ]; then
		grep '^PERF' "$LOG_DIR/bench-rollout.log" | sed 's/^PERF /  /'
		grep -q '^PERF rollout' "$LOG_DIR/bench-rollout.log" || echo "  no timings (see bench-rollout.log)"
		awk '$1 == "PERF" && $2 == "rollout" {
			for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			t[v["B"], v["graphs"], v["stats"]] = v["ms_per_step"]; bs[v["B"]] = 1
		}
		END { for (b in bs) {
			if (t[b, 1, 1] > 0 && t[b, 1, 0] > 0)
				printf "  statistics overhead in the loop, B=%s: %+.2f%%\n", b, 100 * (t[b, 1, 1] / t[b, 1, 0] - 1)
			if (t[b, 1, 1] > 0 && t[b, 0, 1] > 0)
				printf "  CUDA graphs, B=%s: step %.3f ms with, %.3f ms without (%+.1f%%)\n", b, t[b, 1, 1], t[b, 0, 1], 100 * (t[b, 1, 1] / t[b, 0, 1] - 1)
		} }' "$LOG_DIR/bench-rollout.log" | sort
	else
		echo "  not run"
	fi
	echo "full build: make CUDA=1 $([ $build_ok = 1 ] && echo OK || echo 'FAILED or skipped (see above)');" \
		"2-step run of the CUDA=1 binary: $([ $run_ok = 1 ] && echo OK || echo 'not run or FAILED')"
	echo "default job, 2 steps with train.device=cuda: $([ $cuda_ok = 1 ] && echo OK || echo 'not run or FAILED')"
	echo
	echo "training on the GPU: random-weight Qwen3-0.6B shapes (character vocabulary), coupled credit,"
	echo "5 steps x 32 responses of 64 tokens, update on cuda (bf16 over fp32 master weights),"
	echo "rollouts on the GPU decode loop (rollout.engine=auto):"
	train_table
	echo
	echo "NOT MEASURED:"
	echo "  - NCCL collectives on GPUs (dist_nccl.c is compiled and linked; one GPU here)"
	echo "  - a real checkpoint's weights or tokenizer (random weights, character vocabulary)"
} | tee "$LOG_DIR/summary.txt"
echo "gpu-check: done in $(($(date +%s) - T0)) s; logs in $LOG_DIR"
exec >&- 2>&-
sleep 1 # tee finishes gpu-check.log
if [ -n "${GPU_CHECK_TRAIN_ONLY:-}" ]; then
	[ "$qwen_ok" = 1 ]
else
	[ "$harness_rc" = 0 ] && [ "$loop_ok" = 1 ]
fi
