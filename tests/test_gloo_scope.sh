#!/usr/bin/env bash
# test_gloo_scope.sh - one Gloo in the process's eyes: a torch 2.x exports a Gloo of its own
# from libtorch_cpu.so (a newer one, with other class layouts than Debian's libgloo), so attnrl
# loads dist_gloo.cpp and the system libgloo as a plugin in a symbol scope of their own
# (src/dist_gloo_plugin.c). The dynamic linker's own trace (LD_DEBUG=bindings, every symbol
# bound at start, LD_BIND_NOW=1) of a one-step training run on the Gloo backend must show:
# the Gloo calls of attnrl bound to the system libgloo, torch's own Gloo references bound inside
# torch, and no symbol of namespace gloo bound from one copy to the other in either direction.
# With Debian's libtorch (which itself links the system libgloo) there is one copy: the trace
# must show every gloo symbol bound to the system libgloo.
set -u
source tests/lib.sh
bin=${ATTNRL_BIN:-bin/attnrl}
torch_cpu=$(ldd "$bin" | awk '/libtorch_cpu/ { print $3; exit }')
[ -f "$torch_cpu" ] || { echo "FAIL: $bin does not load libtorch_cpu (ldd)"; exit 1; }
own=$(nm -D --defined-only "$torch_cpu" | awk '$3 ~ /^_ZN4gloo/' | wc -l)

env -u SLURM_PROCID -u SLURM_NTASKS -u MASTER_ADDR RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 \
	LD_BIND_NOW=1 LD_DEBUG=bindings LD_DEBUG_OUTPUT="$tmp/ld" "$bin" train configs/default.yaml \
	dist.backend=gloo train.steps=1 rollout.prompts_per_step=2 rollout.group_size=2 \
	algo.mini_batch=4 train.eval_every=0 run.dir="$tmp/runs" run.resume=never >"$tmp/out" 2>&1 ||
	fail "the one-step run on Gloo: $(tail -n 3 "$tmp/out")"
grep -q "attnrl train: done" "$tmp/out" || fail "the run did not finish: $(tail -n 3 "$tmp/out")"
# "FROM -> TO SYMBOL" for every binding of an entity of namespace gloo (functions, variables,
# vtables, type infos; not the std templates instantiated over gloo types, weak in every user)
cat "$tmp"/ld.* | awk '$2 == "binding" { print $4, "->", $7, $NF }' | sed 's/`//g; s/'"'"'//g' |
	awk '$4 ~ /^_Z(N|NK|TVN|TIN|TSN)4gloo/' >"$tmp/gloo"
n=$(wc -l <"$tmp/gloo")
[ "$n" -gt 0 ] || fail "the trace shows no Gloo symbol bound at all ($(ls "$tmp"/ld.* | wc -l) trace files)"
is_torch='/lib(torch|c10)[^/]*\.so'
is_sys='/libgloo\.so|/libattnrl_gloo\.so'
to_sys=$(grep -Ec -- "-> [^ ]*libgloo\.so" "$tmp/gloo")
if [ "$own" -gt 0 ]; then
	crossed=$(awk -v t="$is_torch" -v s="$is_sys" '($1 ~ t && $3 ~ s) || ($1 ~ s && $3 ~ t)' "$tmp/gloo")
	[ -z "$crossed" ] || fail "Gloo symbols bound across the two copies: $(echo "$crossed" | head -n 3)"
	plugin=$(grep -c "^[^ ]*libattnrl_gloo\.so -> [^ ]*libgloo\.so" "$tmp/gloo")
	in_torch=$(awk -v t="$is_torch" '$1 ~ t && $3 ~ t' "$tmp/gloo" | wc -l)
	[ "$plugin" -gt 0 ] || fail "the plugin's Gloo calls are not bound to the system libgloo"
	echo "torch exports its own Gloo ($own symbols): $plugin plugin -> libgloo bindings," \
		"$in_torch inside torch, $to_sys into the system libgloo, $(printf %s "$crossed" | grep -c .) across ($n gloo bindings)"
else
	others=$(grep -Evc -- "-> [^ ]*libgloo\.so" "$tmp/gloo")
	[ "$others" -eq 0 ] || fail "$others gloo bindings outside the system libgloo: $(grep -Ev -- "-> [^ ]*libgloo\.so" "$tmp/gloo" | head -n 2)"
	echo "one Gloo (the system libgloo, shared with this libtorch): all $n gloo bindings go to it"
fi
[ "$fails" -eq 0 ] || exit 1
