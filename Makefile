# attnrl - CPU build always; CUDA=1 (a later issue) adds kernels/ and NCCL.
# make          build bin/attnrl            make test     every test, "N passed, N failed"
# make run      the embedded default job    make asan     the sanitizer build of the pure-C tests
# make bench    rollout / step benchmark against PyTorch eager
# make fuzz     libFuzzer targets (clang-14) of every input parser, FUZZ_TIME seconds each
CC      ?= gcc
CXX     ?= g++
PY_REF  ?= /usr/bin/python3
OPT     ?= -O2
CFLAGS  := -std=c11 $(OPT) -g -Wall -Wextra -fopenmp -Iinclude -MMD -MP -D_GNU_SOURCE
CXXFLAGS := -std=c++17 $(OPT) -g -Wall -Wextra -Iinclude -MMD -MP -D_GLIBCXX_USE_CXX11_ABI=1

# libtorch: Debian's (default) or LIBTORCH=DIR (an unpacked libtorch or pip torch's torch/)
ifdef LIBTORCH
TORCH_INC := $(LIBTORCH)/include
TORCH_LIB := $(LIBTORCH)/lib
TORCH_LDFLAGS := -L$(TORCH_LIB) -Wl,-rpath,$(TORCH_LIB)
else
TORCH_INC := /usr/include
TORCH_LDFLAGS :=
endif
TORCH_H := $(TORCH_INC)/torch/csrc/api/include/torch/torch.h
CXXFLAGS += $(if $(LIBTORCH),-isystem $(TORCH_INC)) -isystem $(TORCH_INC)/torch/csrc/api/include
BLAS_INC := $(firstword $(wildcard /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/$(shell uname -m)-linux-gnu/openblas-openmp /usr/include/openblas))
CFLAGS  += $(if $(BLAS_INC),-I$(BLAS_INC))
LDLIBS  := $(TORCH_LDFLAGS) -ltorch -ltorch_cpu -lc10 -lgloo -lopenblas -lyaml -lstdc++ -lm -fopenmp
PURE_LDLIBS := -lopenblas -lyaml -lm -fopenmp

# dist_nccl.c: CUDA=1 builds only (nccl-check below compiles it here)
SRC_C   := $(filter-out src/main.c src/dist_nccl.c,$(wildcard src/*.c))
SRC_CXX := $(wildcard src/*.cpp)
OBJ     := $(SRC_C:src/%.c=build/%.o) $(SRC_CXX:src/%.cpp=build/%.o)
# modules that never call into libtorch: the sanitizer build links only these
TORCH_MODULES := tensor model hf hf_save cmd_export cmd_generate cmd_eval llama2c trainer_step trainer_dist trainer_zero grpo trainer trainer_ckpt sft policy inspect inspect_report inspect_svg
# ... nor into Gloo (dist.c dispatches to dist_gloo.cpp; dist_env.c and dist_store.c are pure)
PURE_OBJ := $(filter-out $(TORCH_MODULES:%=build/%.o) build/dist.o,$(SRC_C:src/%.c=build/%.o))
TESTS   := $(patsubst tests/%.c,build/tests/%,$(wildcard tests/test_*.c))
TEST_HELPERS := build/tests/dist_worker
TORCH_TESTS := $(patsubst %,build/tests/test_%,tensor model grpo trainer hf llama2c)
PURE_TESTS := $(filter-out $(TORCH_TESTS),$(TESTS))

ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(info attnrl: CPU build; libtorch $(if $(LIBTORCH),from $(LIBTORCH),Debian ($(TORCH_INC))); BLAS $(or $(BLAS_INC),not found); CUDA off (CUDA=1 comes with the GPU issue))
endif

.PHONY: all deps-check run test asan bench clean config-ref test-slurm nccl-check fuzz fuzz-build fuzz-deps
all: deps-check bin/attnrl

deps-check:
	@test -f $(TORCH_H) || { echo "make: libtorch headers not found ($(TORCH_H)): run 'sudo scripts/install-deps.sh' (or set LIBTORCH=DIR)"; exit 1; }
	@test -f /usr/include/yaml.h || { echo "make: libyaml not found: run 'sudo scripts/install-deps.sh'"; exit 1; }
	@test -n "$(BLAS_INC)" || { echo "make: OpenBLAS (openmp) headers not found: run 'sudo scripts/install-deps.sh'"; exit 1; }
	@test -f /usr/include/gloo/allreduce.h || { echo "make: Gloo not found (libgloo-dev): run 'sudo scripts/install-deps.sh'"; exit 1; }

bin/attnrl: build/main.o build/libattnrl.a
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/libattnrl.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

# the commit a checkpoint records (trainer_state.json), when the tree is a git checkout
ATTNRL_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null)
build/ckpt.o build/asan/ckpt.o: CFLAGS += $(if $(ATTNRL_COMMIT),-DATTNRL_COMMIT='"$(ATTNRL_COMMIT)"')

build/%.o: src/%.c
	@mkdir -p build
	$(CC) $(CFLAGS) -c -o $@ $<
build/%.o: src/%.cpp
	@mkdir -p build
	$(CXX) $(CXXFLAGS) -c -o $@ $<

build/tests/%: tests/%.c build/libattnrl.a
	@mkdir -p build/tests
	$(CC) $(CFLAGS) -Itests -o $@ $< build/libattnrl.a $(LDLIBS)

test: all $(TESTS) $(TEST_HELPERS)
	@bash tests/run.sh

# ASan + UBSan build of every module that does not call into libtorch, and of their tests
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
build/asan/%.o: src/%.c
	@mkdir -p build/asan
	$(CC) $(CFLAGS) -O1 $(ASAN_FLAGS) -c -o $@ $<
build/asan/libpure.a: $(PURE_OBJ:build/%=build/asan/%)
	@rm -f $@
	ar rcs $@ $^
build/asan/tests/%: tests/%.c build/asan/libpure.a
	@mkdir -p build/asan/tests
	$(CC) $(CFLAGS) -O1 $(ASAN_FLAGS) -Itests -o $@ $< build/asan/libpure.a $(PURE_LDLIBS)
asan: $(PURE_TESTS:build/tests/%=build/asan/tests/%)
	@TEST_BIN_DIR=build/asan/tests TEST_ONLY="$(notdir $(PURE_TESTS))" bash tests/run.sh

# libFuzzer targets tests/fuzz/fuzz_*.c: clang + ASan/UBSan objects of the pure-C modules (no
# libtorch) in build/fuzz/, each target run FUZZ_TIME seconds (tests/fuzz/run.sh)
FUZZ_CC   ?= clang-14
FUZZ_TIME ?= 60
FUZZ_FLAGS := -std=c11 -O1 -g -Wall -Wextra -Wno-unknown-pragmas -Iinclude -D_GNU_SOURCE \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,build/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found: sudo apt-get install clang-14 libclang-rt-14-dev (or FUZZ_CC=clang)"; exit 1; }
	@echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n ? 0 : 0; }' | \
		$(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null || { echo "make fuzz: $(FUZZ_CC) cannot link libFuzzer: sudo apt-get install libclang-rt-14-dev"; exit 1; }
build/fuzz/obj/%.o: src/%.c tests/fuzz/coverage-ignore.txt
	@mkdir -p build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
		-fsanitize-coverage-ignorelist=tests/fuzz/coverage-ignore.txt -MMD -MP -c -o $@ $<
build/fuzz/libpure.a: $(PURE_OBJ:build/%=build/fuzz/obj/%)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libpure.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< build/fuzz/libpure.a -lyaml -lm
fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
fuzz: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_TIME) $(notdir $(FUZZ_TARGETS:build/fuzz/fuzz_%=%))

run: all
	bin/attnrl train configs/default.yaml

# attnrl under a real one-node SLURM (root; installs slurm-wlm + munge; ~3 min): srun -n 2
# equals one process, and a preempted + requeued job resumes to the same weights
test-slurm: all
	bash tests/slurm/run.sh

bench: all build/bench/stats_overhead
	@bash bench/run.sh
	@bash bench/credit.sh

build/bench/%: bench/%.c build/libattnrl.a
	@mkdir -p build/bench
	$(CC) $(CFLAGS) -Itests -o $@ $< build/libattnrl.a $(LDLIBS)

# rewrites the README's config reference from the option table
config-ref: bin/attnrl
	@bin/attnrl config --reference > build/config-ref.md
	@awk 'BEGIN{r=0} /<!-- config-reference:begin -->/{print; while ((getline l < "build/config-ref.md") > 0) print l; r=1; next} /<!-- config-reference:end -->/{r=0} !r' README.md > build/README.new && mv build/README.new README.md
	@echo "README.md: config reference regenerated"

# the NCCL backend compiled and a multi-rank worker linked against the CUDA toolkit's NCCL,
# without a GPU (until CUDA=1 exists); running it needs GPUs
CUDA_HOME ?= /usr/local/cuda
NCCL_FLAGS := -DATTNRL_NCCL -I$(CUDA_HOME)/include
nccl-check: build/libattnrl.a
	@test -f $(CUDA_HOME)/include/nccl.h || { echo "make: no $(CUDA_HOME)/include/nccl.h (set CUDA_HOME)"; exit 1; }
	@mkdir -p build/nccl
	$(CC) $(CFLAGS) $(NCCL_FLAGS) -c -o build/nccl/dist.o src/dist.c
	$(CC) $(CFLAGS) $(NCCL_FLAGS) -c -o build/nccl/dist_nccl.o src/dist_nccl.c
	$(CC) $(CFLAGS) -Itests -o build/nccl/dist_worker tests/dist_worker.c build/nccl/dist.o \
		build/nccl/dist_nccl.o build/libattnrl.a $(LDLIBS) -L$(CUDA_HOME)/lib64 \
		-Wl,-rpath,$(CUDA_HOME)/lib64 -lnccl -lcudart
	@echo "nccl-check: dist_nccl.c compiles and links (build/nccl/dist_worker; not run: no GPU here)"

clean:
	rm -rf build bin

-include $(OBJ:.o=.d) build/main.d $(wildcard build/asan/*.d build/asan/tests/*.d build/tests/*.d build/fuzz/obj/*.d build/fuzz/*.d)
