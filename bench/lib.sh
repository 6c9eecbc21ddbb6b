# bench/lib.sh - shared by the study scripts of bench/ (sourced, not run).

# study_runs OUT JOBS "STRATEGIES" "SEEDS" OVERRIDES...: one `attnrl train configs/default.yaml`
# with OVERRIDES per credit strategy and seed, JOBS side by side with one thread each, into
# OUT/STRATEGY-SEED with its console in OUT/STRATEGY-SEED.log
study_runs() {
	local out=$1 jobs=$2 strategies=$3 seeds=$4
	shift 4
	for st in $strategies; do
		for seed in $seeds; do
			echo "bin/attnrl train configs/default.yaml $* credit.strategy=$st run.seed=$seed train.threads=1 run.dir=$out run.name=$st-$seed run.resume=never > $out/$st-$seed.log 2>&1"
		done
	done | xargs -P "$jobs" -I{} bash -c {}
}
