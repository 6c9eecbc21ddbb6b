#!/usr/bin/perl
# prep.pl - turns a kernels/*.cu file into C++ for the CPU emulation (cuda_runtime.h beside
# this file): kernel<<<grid, block[, smem[, stream]]>>>(args); becomes
# emu_launch(kernel, [t = make_tuple(args)] { apply(kernel, t); }, grid, block[, smem[, stream]]), so
# that the arguments are evaluated at the launch as CUDA does (a captured graph replays them); and
# extern __shared__ T name[]; becomes T *name = (T *)emu_dyn_smem;
# Usage: perl prep.pl IN.cu > OUT.cpp
use strict;
use warnings;
local $/;
my $src = <>;
$src =~ s/([\w:]+(?:<[^<>;]*>)?)<<<(.*?)>>>\((.*?)\);/emu_launch($1, [emu_args = std::make_tuple($3)] { std::apply([](const auto &...x) { $1(x...); }, emu_args); }, $2);/gs;
$src =~ s/extern\s+__shared__\s+(\w+)\s+(\w+)\[\];/$1 *$2 = ($1 *)emu_dyn_smem;/g;
print "#line 1 \"$ARGV\"\n";
print $src;
