#!/usr/bin/env bash
# asan.sh - the Hugging Face comparison (tests/test_tokenizer_hf.sh) through an ASan + UBSan
# build of `attnrl tokenize`: the pure-C library of `make asan` (build/asan/libpure.a) and a
# two-line main, so no libtorch is linked. Usage: bash tests/tokenizer/asan.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
make -s build/asan/libpure.a
flags="-std=c11 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
printf '#include "attnrl/commands.h"\nint main(int argc, char **argv) { return argc < 2 ? 2 : cmd_tokenize(argc - 2, argv + 2); }\n' >build/asan/tokenize_main.c
gcc $flags -D_GNU_SOURCE -Iinclude -fopenmp -o build/asan/attnrl-tokenize build/asan/tokenize_main.c \
	build/asan/libpure.a -lopenblas -lyaml -lm -fopenmp
ATTNRL_BIN=build/asan/attnrl-tokenize bash tests/test_tokenizer_hf.sh
