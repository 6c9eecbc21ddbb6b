# attnrl - three builds of one code base, each in its own folders:
#   make           Debian's libtorch 1.13 (CPU)           objects build/       binary bin/attnrl
#   make PIP=1     the torch of TORCH_PY (CPU, torch 2.x) objects build/pip/   binary bin/pip/attnrl
#   make CUDA=1    the CUDA torch of TORCH_PY, + NCCL     objects build/cuda/  binary bin/cuda/attnrl
# TORCH_PY is the project environment's python (.venv/, made by scripts/install-deps.sh) when
# there is one, else python3; LIBTORCH=DIR names an unpacked libtorch instead. The C++ standard
# and _GLIBCXX_USE_CXX11_ABI come from the torch built against (scripts/torch-flags.sh).
# kernels/*.cu are compiled by nvcc in every build where nvcc is found (CUDA_HOME, PATH).
# make          build bin/attnrl            make test     every test, "N passed, N failed"
# make run      the embedded default job    make asan     the sanitizer build of the pure-C tests
# make bench    rollout / step benchmark against PyTorch eager
# make fuzz     libFuzzer targets (clang-14) of every input parser, FUZZ_TIME seconds each
CC      ?= gcc
CXX     ?= g++
# the reference scripts' python: Debian's (torch 1.13) for the Debian build, else the one whose
# torch the build links
PY_REF  ?= $(if $(LIBTORCH),$(TORCH_PY),/usr/bin/python3)
OPT     ?= -O2
CFLAGS  := -std=c11 $(OPT) -g -Wall -Wextra -fopenmp -Iinclude -MMD -MP -D_GNU_SOURCE
CXXFLAGS := $(OPT) -g -Wall -Wextra -Iinclude -MMD -MP

CUDA_HOME ?= /usr/local/cuda
TORCH_PY  ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)
NOT_CLEAN := $(filter-out clean,$(or $(MAKECMDGOALS),all))
ifeq ($(CUDA),1)
B   := build/cuda
BIN := bin/cuda
TORCH_WANT := CUDA build of torch
TORCH_ASK  := torch.version.cuda
else ifeq ($(PIP),1)
B   := build/pip
BIN := bin/pip
TORCH_WANT := torch
TORCH_ASK  := True
else ifdef LIBTORCH
B   := build/libtorch
BIN := bin/libtorch
else
B   := build
BIN := bin
endif
ifneq ($(TORCH_ASK),)
ifneq ($(NOT_CLEAN),)
ifeq ($(origin LIBTORCH),undefined)
# one import of torch: its folder and its libstdc++ ABI (which its TorchConfig.cmake omits)
TORCH_SAYS := $(shell $(TORCH_PY) -c 'import os, torch; $(TORCH_ASK) and print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null)
LIBTORCH := $(word 1,$(TORCH_SAYS))
TORCH_ABI := $(word 2,$(TORCH_SAYS))
endif
ifeq ($(LIBTORCH),)
$(error make $(if $(filter 1,$(CUDA)),CUDA=1,PIP=1): '$(TORCH_PY)' has no $(TORCH_WANT) ($(TORCH_PY) -c 'import torch; print(torch.__version__, torch.version.cuda)'); run 'scripts/install-deps.sh' for .venv/, or pass TORCH_PY=a python with one or LIBTORCH=DIR)
endif
endif
endif

# libtorch: Debian's (default) or LIBTORCH=DIR (an unpacked libtorch or pip torch's torch/)
ifdef LIBTORCH
TORCH_INC := $(LIBTORCH)/include
TORCH_LIB := $(LIBTORCH)/lib
TORCH_CMAKE := $(LIBTORCH)/share/cmake/Torch/TorchConfig.cmake
TORCH_LDFLAGS := -L$(TORCH_LIB) -Wl,-rpath,$(TORCH_LIB)
else
TORCH_INC := /usr/include
TORCH_CMAKE := $(firstword $(wildcard /usr/lib/*/cmake/Torch/TorchConfig.cmake))
TORCH_LDFLAGS :=
endif
ifneq ($(NOT_CLEAN),)
TORCH_CXXFLAGS := $(shell sh scripts/torch-flags.sh '$(TORCH_CMAKE)' $(TORCH_ABI))
endif
CXXFLAGS += $(TORCH_CXXFLAGS)
TORCH_H := $(TORCH_INC)/torch/csrc/api/include/torch/torch.h
CXXFLAGS += $(if $(LIBTORCH),-isystem $(TORCH_INC)) -isystem $(TORCH_INC)/torch/csrc/api/include
BLAS_INC := $(firstword $(wildcard /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/$(shell uname -m)-linux-gnu/openblas-openmp /usr/include/openblas))
CFLAGS  += $(if $(BLAS_INC),-I$(BLAS_INC))
LDLIBS  := $(TORCH_LDFLAGS) -ltorch -ltorch_cpu -lc10 -lopenblas -lyaml -lstdc++ -lm -fopenmp
PURE_LDLIBS := -lopenblas -lyaml -lm -fopenmp
# headers the deps check looks for (scripts/gpu-check.sh points them into unpacked .debs)
YAML_H ?= /usr/include/yaml.h
GLOO_H ?= /usr/include/gloo/allreduce.h

# The tree says what links libtorch: src/torch/ holds every file that needs it at link time,
# src/ the pure C (no libtorch, no C++ but Gloo's backend), which the sanitizer build (make
# asan) and the fuzzers link (PURE_OBJ). Special cases in src/: main.c; dist.c, which dispatches
# to Gloo (dist_gloo.cpp; dist_env.c and dist_store.c are pure); dist_gloo_plugin.c, torch 2.x
# builds only (below); dist_nccl.c, engine_gpu.c, rollout_gpu.c: CUDA=1 builds only (nccl-check
# compiles the first here, `kernels` and the emulation build the other two)
GPU_SRC  := src/engine_gpu.c src/rollout_gpu.c
NOT_PURE := src/main.c src/dist.c src/dist_nccl.c src/dist_gloo_plugin.c $(GPU_SRC)
PURE_SRC := $(filter-out $(NOT_PURE),$(wildcard src/*.c))
SRC_C    := $(PURE_SRC) src/dist.c $(wildcard src/torch/*.c)
SRC_CXX  := $(wildcard src/*.cpp src/torch/*.cpp)
# Gloo: Debian's libtorch uses the system libgloo itself, so that build links it. A torch 2.x
# exports a Gloo of its own from libtorch_cpu.so: there dist_gloo.cpp and the system libgloo
# become a plugin beside the binary, loaded in a symbol scope of its own (src/dist_gloo_plugin.c)
ifdef LIBTORCH
GLOO_PLUGIN := $(BIN)/libattnrl_gloo.so
SRC_C   += src/dist_gloo_plugin.c
SRC_CXX := $(filter-out src/dist_gloo.cpp,$(SRC_CXX))
GLOO_EXPORTS := dist_store_set dist_store_get dist_store_wait dist_local_addr
LDLIBS  += $(GLOO_EXPORTS:%=-Wl,--export-dynamic-symbol=%)
else
LDLIBS  += -lgloo
endif
# objects of src/X.c in $(B)/X.o, of src/torch/X.c in $(B)/torch/X.o
OBJ      := $(SRC_C:src/%.c=$(B)/%.o) $(SRC_CXX:src/%.cpp=$(B)/%.o)
PURE_OBJ := $(PURE_SRC:src/%.c=$(B)/%.o)
# the object of dist.c's Gloo backend in this build: the plugin's loader or the backend itself
GLOO_OBJ := $(if $(GLOO_PLUGIN),$(B)/dist_gloo_plugin.o,$(B)/dist_gloo.o)
TESTS   := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/test_*.c))
# (tests/loss_oracle: attnrl's advantages and loss on a batch file, for tests/test_loss_oracle.sh;
# tests/hf_oracle_run: a Hugging Face folder's logits and decodes, for tests/test_oracle_hf.sh;
# tests/analyze_oracle: random inputs through analyze.h, for tests/test_analyze_oracle.sh)
TEST_HELPERS := $(B)/tests/dist_worker $(B)/tests/loss_oracle $(B)/tests/hf_oracle_run \
	$(B)/tests/analyze_oracle \
	$(B)/emu/check_kernels $(B)/emu/check_engine \
	$(B)/emu/check_rollout $(B)/emu/bench_rollout
# the tests that link libtorch (the others link PURE_OBJ in the sanitizer build)
TORCH_TESTS := $(patsubst %,$(B)/tests/test_%,tensor model trainer hf llama2c)
PURE_TESTS := $(filter-out $(TORCH_TESTS),$(TESTS))

# nvcc: every kernels/*.cu to an object (sm_$(CUDA_ARCH) machine code + PTX), in every build
# where nvcc is found, so that a kernel that does not compile fails the CPU build too
NVCC      ?= $(firstword $(wildcard $(CUDA_HOME)/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
CUDA_ARCH ?= 90
NVCCFLAGS := -std=c++17 -O3 -Iinclude -Xcompiler -Wall,-Wextra,-fPIC \
	-gencode arch=compute_$(CUDA_ARCH),code=sm_$(CUDA_ARCH) \
	-gencode arch=compute_$(CUDA_ARCH),code=compute_$(CUDA_ARCH)
KERNEL_OBJ := $(patsubst kernels/%.cu,$(B)/kernels/%.o,$(wildcard kernels/*.cu))
CUDA_LIB  := $(firstword $(wildcard $(CUDA_HOME)/lib64 $(CUDA_HOME)/lib) $(CUDA_HOME)/lib64)
ifeq ($(CUDA),1)
ifeq ($(NVCC),)
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(error make CUDA=1: nvcc not found in $(CUDA_HOME)/bin or on PATH (set CUDA_HOME))
endif
endif
# pip's CUDA libraries (site-packages/nvidia/*/lib) beside torch/, then the toolkit's
comma := ,
CUDA_MAJOR := $(shell $(NVCC) --version 2>/dev/null | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
CUDA_LIBDIRS := $(TORCH_LIB) $(wildcard $(LIBTORCH)/../nvidia/*/lib) $(CUDA_LIB)
NCCL_INC := $(firstword $(dir $(wildcard $(CUDA_HOME)/include/nccl.h $(LIBTORCH)/../nvidia/*/include/nccl.h)))
NCCL_LIB := $(firstword $(wildcard $(addsuffix /libnccl.so.2,$(CUDA_LIBDIRS))))
CFLAGS  += -DATTNRL_CUDA -DATTNRL_NCCL
CXXFLAGS += -DATTNRL_CUDA
# the CUDA headers only where they are included (the emulation's stand-ins must come first in
# the emulated builds of the same files)
CUDA_INC := -I$(CUDA_HOME)/include $(if $(NCCL_INC),-I$(NCCL_INC:%/=%))
$(B)/dist_nccl.o $(B)/engine_gpu.o $(B)/rollout_gpu.o: CFLAGS += $(CUDA_INC)
$(B)/torch/tensor.o: CXXFLAGS += $(CUDA_INC)
OBJ     += $(B)/dist_nccl.o $(GPU_SRC:src/%.c=$(B)/%.o) $(KERNEL_OBJ)
LDLIBS  += $(addprefix -L,$(CUDA_LIBDIRS)) $(addprefix -Wl$(comma)-rpath$(comma),$(CUDA_LIBDIRS)) \
	-Wl,--no-as-needed -ltorch_cuda -lc10_cuda -Wl,--as-needed \
	$(if $(NCCL_LIB),-l:libnccl.so.2,-lnccl) -l:libcublas.so.$(CUDA_MAJOR) -l:libcudart.so.$(CUDA_MAJOR)
endif

ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(info attnrl: $(if $(filter 1,$(CUDA)),CUDA,CPU) build; libtorch $(if $(LIBTORCH),from $(LIBTORCH),Debian ($(TORCH_INC))); BLAS $(or $(BLAS_INC),not found); nvcc $(if $(NVCC),$(NVCC) (kernels/*.cu for sm_$(CUDA_ARCH)),not found (kernels/*.cu not compiled)))
endif

.PHONY: all kernels gpu-harness emu-asan deps-check run test asan bench bench-reward bench-peers clean config-ref test-slurm nccl-check fuzz fuzz-build fuzz-deps
all: deps-check $(BIN)/attnrl $(if $(NVCC),kernels)

# the CUDA kernels as objects (CUDA=1 links them; CPU builds only prove they compile)
kernels: $(KERNEL_OBJ) $(B)/kernels/engine_gpu.o $(B)/kernels/rollout_gpu.o
# the GPU engine and decode loop against the real CUDA and cuBLAS headers (CUDA=1 links them
# as build/engine_gpu.o, build/rollout_gpu.o)
$(B)/kernels/%_gpu.o: src/%_gpu.c include/attnrl/%_gpu.h include/attnrl/engine_gpu.h include/attnrl/kernels.h
	@mkdir -p $(B)/kernels
	$(CC) $(CFLAGS) -I$(CUDA_HOME)/include -c -o $@ $<
$(B)/kernels/%.o: kernels/%.cu include/attnrl/kernels.h
	@mkdir -p $(B)/kernels
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

# the same harness over kernels/*.cu run on the CPU by tests/gpu/emu (fibers for CUDA threads):
# tests/test_kernels_emu.sh compares the kernels' logic with their CPU twins without a GPU
GPU_HARNESS_SRC := tests/gpu/check_kernels.c src/kernels_cpu.c src/rng.c
EMU_HDR := $(wildcard tests/gpu/emu/*.h) include/attnrl/kernels.h
EMU_OBJ := $(patsubst kernels/%.cu,$(B)/emu/%.o,$(wildcard kernels/*.cu)) $(B)/emu/emu.o $(B)/emu/emu_mem.o
EMU_CXXFLAGS := -std=c++17 -O1 -g -Wall -Wextra -Wno-unknown-pragmas -Itests/gpu/emu -Iinclude
$(B)/emu/%.cpp: kernels/%.cu tests/gpu/emu/prep.pl
	@mkdir -p $(B)/emu
	perl tests/gpu/emu/prep.pl $< > $@
$(B)/emu/%.o: $(B)/emu/%.cpp $(EMU_HDR)
	$(CXX) $(EMU_CXXFLAGS) -include cuda_runtime.h -c -o $@ $<
$(B)/emu/emu.o: tests/gpu/emu/emu.cpp $(EMU_HDR)
	@mkdir -p $(B)/emu
	$(CXX) $(EMU_CXXFLAGS) -c -o $@ $<
$(B)/emu/check_kernels: $(GPU_HARNESS_SRC) $(EMU_OBJ)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -fopenmp -Iinclude -Itests/gpu/emu -D_GNU_SOURCE -o $@ \
		$(GPU_HARNESS_SRC) $(EMU_OBJ) -lstdc++ -lm -fopenmp

# the GPU decode engine over the emulated kernels and cuBLAS, against the CPU engine
$(B)/emu/engine_gpu.o: src/engine_gpu.c include/attnrl/engine_gpu.h $(EMU_HDR)
	@mkdir -p $(B)/emu
	$(CC) $(CFLAGS) -Itests/gpu/emu -c -o $@ $<
$(B)/emu/check_engine: tests/gpu/check_engine.c $(B)/emu/engine_gpu.o $(EMU_OBJ) $(PURE_OBJ)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(B)/emu/engine_gpu.o $(EMU_OBJ) $(PURE_OBJ) $(PURE_LDLIBS) -lstdc++
# the GPU decode loop over the emulated engine, against the CPU engine and rollout.c's rules
$(B)/emu/rollout_gpu.o: src/rollout_gpu.c include/attnrl/rollout_gpu.h include/attnrl/engine_gpu.h $(EMU_HDR)
	@mkdir -p $(B)/emu
	$(CC) $(CFLAGS) -Itests/gpu/emu -c -o $@ $<
$(B)/emu/check_rollout: tests/gpu/check_rollout.c $(B)/emu/rollout_gpu.o $(B)/emu/engine_gpu.o $(EMU_OBJ) $(PURE_OBJ)
	$(CC) $(CFLAGS) -DATTNRL_CUDA_EMU -Itests -Itests/gpu/emu -o $@ $< $(B)/emu/rollout_gpu.o $(B)/emu/engine_gpu.o $(EMU_OBJ) $(PURE_OBJ) $(PURE_LDLIBS) -lstdc++

$(B)/emu/bench_rollout: tests/gpu/bench_rollout.c $(B)/emu/rollout_gpu.o $(B)/emu/engine_gpu.o $(EMU_OBJ) $(PURE_OBJ)
	$(CC) $(CFLAGS) -Itests -Itests/gpu/emu -o $@ $< $(B)/emu/rollout_gpu.o $(B)/emu/engine_gpu.o $(EMU_OBJ) $(PURE_OBJ) $(PURE_LDLIBS) -lstdc++
# the NCCL backend and the trainer's data parallelism, two ranks, over the emulation's
# allocation registry and stream order (emu_mem.cpp) and NCCL (nccl_emu.cpp), with the tensor
# API of tests/gpu/tensor_emu.c (tests/test_dist_emu.sh)
$(B)/emu/emu_mem.o $(B)/emu/nccl_emu.o: $(B)/emu/%.o: tests/gpu/emu/%.cpp $(EMU_HDR)
	@mkdir -p $(B)/emu
	$(CXX) $(EMU_CXXFLAGS) -c -o $@ $<
$(B)/emu-asan/emu_mem.o: tests/gpu/emu/emu_mem.cpp $(EMU_HDR)
	@mkdir -p $(B)/emu-asan
	$(CXX) $(EMU_CXXFLAGS) $(EMU_ASAN) -c -o $@ $<
DIST_EMU_OBJ := $(patsubst %,$(B)/emu/dist/%.o,dist dist_nccl torch/trainer_dist torch/trainer_zero)
$(B)/emu/dist/%.o: src/%.c $(EMU_HDR)
	@mkdir -p $(@D)
	$(CC) -Itests/gpu/emu $(CFLAGS) -DATTNRL_NCCL -c -o $@ $<
DIST_EMU_LINK := $(DIST_EMU_OBJ) $(B)/emu/emu.o $(B)/emu/emu_mem.o $(B)/emu/nccl_emu.o \
	$(GLOO_OBJ) $(PURE_OBJ)
$(B)/emu/check_dist: tests/gpu/check_dist.c tests/gpu/tensor_emu.c tests/gpu/tensor_emu.h $(DIST_EMU_LINK)
	$(CC) -Itests/gpu -Itests/gpu/emu $(CFLAGS) -o $@ tests/gpu/check_dist.c tests/gpu/tensor_emu.c \
		$(DIST_EMU_LINK) $(if $(GLOO_PLUGIN),,-lgloo) $(PURE_LDLIBS) -lstdc++
TEST_HELPERS += $(B)/emu/check_dist
-include $(wildcard $(B)/emu/dist/*.d $(B)/emu/dist/torch/*.d)

# the decode-step benchmark (gpu-harness) over the emulated kernels and cuBLAS at tiny shapes,
# so that it keeps working: tests/test_kernels_emu.sh runs it
TEST_HELPERS += $(B)/emu/bench_decode
$(B)/emu/bench_decode.cpp: tests/gpu/bench_decode.cu tests/gpu/emu/prep.pl
	@mkdir -p $(B)/emu
	perl tests/gpu/emu/prep.pl $< > $@
$(B)/emu/bench_decode: $(B)/emu/bench_decode.cpp tests/gpu/gpu_util.h $(EMU_OBJ) $(EMU_HDR)
	$(CXX) $(EMU_CXXFLAGS) -DATTNRL_CUDA_EMU -Itests/gpu -include cuda_runtime.h -o $@ $< \
		$(EMU_OBJ) -lm

# ... and on a GPU: the real kernels and cuBLAS (needs the CPU build's BLAS and YAML too)
GPU_LINK := $(KERNEL_OBJ) $(PURE_OBJ) $(PURE_LDLIBS) -L$(CUDA_LIB) -Wl,-rpath,$(CUDA_LIB) -lcublas -lcudart -lstdc++
$(B)/gpu/check_engine: tests/gpu/check_engine.c $(B)/kernels/engine_gpu.o $(KERNEL_OBJ) $(PURE_OBJ)
	@mkdir -p $(B)/gpu
	$(CC) $(CFLAGS) -Itests -o $@ $< $(B)/kernels/engine_gpu.o $(GPU_LINK)
$(B)/gpu/%_rollout: tests/gpu/%_rollout.c $(B)/kernels/rollout_gpu.o $(B)/kernels/engine_gpu.o $(KERNEL_OBJ) $(PURE_OBJ)
	@mkdir -p $(B)/gpu
	$(CC) $(CFLAGS) -Itests -I$(CUDA_HOME)/include -o $@ $< $(B)/kernels/rollout_gpu.o $(B)/kernels/engine_gpu.o $(GPU_LINK)

# the emulated kernels under ASan + UBSan (a stand-in for compute-sanitizer's memcheck: out of
# bounds global or dynamic shared memory), then the decode loop; about 40 s and 17 minutes on
# 2 cores, not part of make test
EMU_ASAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(B)/emu-asan/%.o: $(B)/emu/%.cpp $(EMU_HDR)
	@mkdir -p $(B)/emu-asan
	$(CXX) $(EMU_CXXFLAGS) $(EMU_ASAN) -include cuda_runtime.h -c -o $@ $<
$(B)/emu-asan/emu.o: tests/gpu/emu/emu.cpp $(EMU_HDR)
	@mkdir -p $(B)/emu-asan
	$(CXX) $(EMU_CXXFLAGS) $(EMU_ASAN) -c -o $@ $<
$(B)/emu-asan/check_kernels: $(GPU_HARNESS_SRC) $(EMU_OBJ:$(B)/emu/%=$(B)/emu-asan/%)
	$(CC) -std=c11 -O1 -g -Wall -Wextra -fopenmp -Iinclude -Itests/gpu/emu -D_GNU_SOURCE \
		$(EMU_ASAN) -o $@ $(GPU_HARNESS_SRC) $(EMU_OBJ:$(B)/emu/%=$(B)/emu-asan/%) -lstdc++ -lm -fopenmp
# ... and the GPU decode loop's host code and kernels together (buffer sizes, copies)
$(B)/emu-asan/check_rollout: tests/gpu/check_rollout.c src/rollout_gpu.c src/engine_gpu.c $(EMU_OBJ:$(B)/emu/%=$(B)/emu-asan/%) $(PURE_OBJ)
	$(CC) $(CFLAGS) -O1 -DATTNRL_CUDA_EMU -Itests -Itests/gpu/emu $(EMU_ASAN) -o $@ tests/gpu/check_rollout.c \
		src/rollout_gpu.c src/engine_gpu.c $(EMU_OBJ:$(B)/emu/%=$(B)/emu-asan/%) $(PURE_OBJ) $(PURE_LDLIBS) -lstdc++
emu-asan: $(B)/emu-asan/check_kernels $(B)/emu-asan/check_rollout
	ASAN_OPTIONS=detect_stack_use_after_return=0 $(B)/emu-asan/check_kernels --small
	ASAN_OPTIONS=detect_stack_use_after_return=0 $(B)/emu-asan/check_rollout

# the GPU comparison harness: each CUDA kernel against its CPU twin, plus timings; and a whole
# decode step of a random-weight model (kernels + cuBLAS) timed; needs only nvcc, a C compiler,
# the CUDA runtime and cuBLAS (no libtorch, BLAS or YAML); run by scripts/gpu-check.sh
gpu-harness: $(B)/gpu/check_kernels $(B)/gpu/bench_decode
$(B)/gpu/bench_decode: tests/gpu/bench_decode.cu $(KERNEL_OBJ) include/attnrl/kernels.h
	@test -n "$(NVCC)" || { echo "make gpu-harness: nvcc not found (set CUDA_HOME)"; exit 1; }
	@mkdir -p $(B)/gpu
	$(NVCC) $(NVCCFLAGS) -o $@ $< $(KERNEL_OBJ) -L$(CUDA_LIB) -Xlinker -rpath,$(CUDA_LIB) -lcublas
$(B)/gpu/check_kernels: $(GPU_HARNESS_SRC) $(KERNEL_OBJ) include/attnrl/kernels.h
	@test -n "$(NVCC)" || { echo "make gpu-harness: nvcc not found (set CUDA_HOME)"; exit 1; }
	@mkdir -p $(B)/gpu
	$(CC) -std=c11 -O2 -g -Wall -Wextra -fopenmp -Iinclude -I$(CUDA_HOME)/include -D_GNU_SOURCE \
		-o $@ $(GPU_HARNESS_SRC) $(KERNEL_OBJ) -L$(CUDA_LIB) -Wl,-rpath,$(CUDA_LIB) \
		-lcudart -lstdc++ -lm -fopenmp

deps-check:
	@test -f $(TORCH_H) || { echo "make: libtorch headers not found ($(TORCH_H)): run 'sudo scripts/install-deps.sh' (or set LIBTORCH=DIR)"; exit 1; }
	@test -f $(YAML_H) || { echo "make: libyaml not found ($(YAML_H)): run 'sudo scripts/install-deps.sh'"; exit 1; }
	@test -n "$(BLAS_INC)" || { echo "make: OpenBLAS (openmp) headers not found: run 'sudo scripts/install-deps.sh'"; exit 1; }
	@test -f $(GLOO_H) || { echo "make: Gloo not found ($(GLOO_H), libgloo-dev): run 'sudo scripts/install-deps.sh'"; exit 1; }

$(BIN)/attnrl: $(B)/main.o $(B)/libattnrl.a $(GLOO_PLUGIN)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $(B)/main.o $(B)/libattnrl.a $(LDLIBS)

$(B)/dist_gloo_plugin.o: CFLAGS += -DATTNRL_GLOO_PLUGIN='"$(abspath $(GLOO_PLUGIN))"'
$(GLOO_PLUGIN): src/dist_gloo.cpp src/dist_internal.h include/attnrl/dist.h
	@mkdir -p $(BIN)
	$(CXX) $(filter-out -MMD -MP,$(CXXFLAGS)) -DATTNRL_GLOO_PLUGIN -fPIC -fvisibility=hidden -shared -o $@ $< -lgloo

$(B)/libattnrl.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

# the commit a checkpoint records (trainer_state.json), when the tree is a git checkout
ATTNRL_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null)
$(B)/ckpt.o $(B)/asan/ckpt.o: CFLAGS += $(if $(ATTNRL_COMMIT),-DATTNRL_COMMIT='"$(ATTNRL_COMMIT)"')

$(B)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<
$(B)/%.o: src/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(B)/tests/%: tests/%.c $(B)/libattnrl.a
	@mkdir -p $(B)/tests
	$(CC) $(CFLAGS) -Itests -o $@ $< $(B)/libattnrl.a $(LDLIBS)

# the tests learn which build they test from ATTNRL_BUILD (its folder) and ATTNRL_BIN
test: all $(TESTS) $(TEST_HELPERS)
	@ATTNRL_BUILD=$(B) ATTNRL_BIN=$(BIN)/attnrl TEST_BIN_DIR=$(B)/tests PY_REF=$(PY_REF) bash tests/run.sh

# ASan + UBSan build of the pure C of src/ (PURE_OBJ), and of the tests that need no libtorch
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(B)/asan/%.o: src/%.c
	@mkdir -p $(B)/asan
	$(CC) $(CFLAGS) -O1 $(ASAN_FLAGS) -c -o $@ $<
$(B)/asan/libpure.a: $(PURE_OBJ:$(B)/%=$(B)/asan/%)
	@rm -f $@
	ar rcs $@ $^
$(B)/asan/tests/%: tests/%.c $(B)/asan/libpure.a
	@mkdir -p $(B)/asan/tests
	$(CC) $(CFLAGS) -O1 $(ASAN_FLAGS) -Itests -o $@ $< $(B)/asan/libpure.a $(PURE_LDLIBS)
asan: $(PURE_TESTS:$(B)/tests/%=$(B)/asan/tests/%)
	@TEST_BIN_DIR=$(B)/asan/tests TEST_ONLY="$(notdir $(PURE_TESTS))" bash tests/run.sh

# libFuzzer targets tests/fuzz/fuzz_*.c: clang + ASan/UBSan objects of the pure-C modules (no
# libtorch) in build/fuzz/, each target run FUZZ_TIME seconds (tests/fuzz/run.sh)
FUZZ_CC   ?= clang-14
FUZZ_TIME ?= 60
FUZZ_FLAGS := -std=c11 -O1 -g -Wall -Wextra -Wno-unknown-pragmas -Iinclude -D_GNU_SOURCE \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,$(B)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found: sudo apt-get install clang-14 libclang-rt-14-dev (or FUZZ_CC=clang)"; exit 1; }
	@echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n ? 0 : 0; }' | \
		$(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null || { echo "make fuzz: $(FUZZ_CC) cannot link libFuzzer: sudo apt-get install libclang-rt-14-dev"; exit 1; }
$(B)/fuzz/obj/%.o: src/%.c tests/fuzz/coverage-ignore.txt
	@mkdir -p $(B)/fuzz/obj
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
		-fsanitize-coverage-ignorelist=tests/fuzz/coverage-ignore.txt -MMD -MP -c -o $@ $<
$(B)/fuzz/libpure.a: $(PURE_OBJ:$(B)/%=$(B)/fuzz/obj/%)
	@rm -f $@
	ar rcs $@ $^
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/fuzz/libpure.a
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(B)/fuzz/libpure.a -lyaml \
		-lopenblas -lgomp -lm # BLAS/OpenMP: fuzz_jsonl reaches evaluate.o, which links the engine
fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS)
fuzz: fuzz-build
	@bash tests/fuzz/run.sh $(FUZZ_TIME) $(notdir $(FUZZ_TARGETS:$(B)/fuzz/fuzz_%=%))

run: all
	$(BIN)/attnrl train configs/default.yaml
	$(BIN)/attnrl report runs/default

# attnrl under a real one-node SLURM (root; installs slurm-wlm + munge; ~3 min): srun -n 2
# equals one process, and a preempted + requeued job resumes to the same weights
test-slurm: all
	bash tests/slurm/run.sh

bench: all $(B)/bench/stats_overhead
	@bash bench/run.sh
	@bash bench/credit.sh

# the reward-program protocol's overhead per response (bench/reward.sh; ~10 s)
bench-reward: all
	@bash bench/reward.sh

# attnrl against TRL's GRPOTrainer on the CPU (bench/peers.sh; needs .venv with trl)
bench-peers: all
	@bash bench/peers.sh

$(B)/bench/%: bench/%.c $(B)/libattnrl.a
	@mkdir -p $(B)/bench
	$(CC) $(CFLAGS) -Itests -o $@ $< $(B)/libattnrl.a $(LDLIBS)

# rewrites the config reference of docs/config.md from the option table
config-ref: $(BIN)/attnrl
	@$(BIN)/attnrl config --reference > $(B)/config-ref.md
	@awk 'BEGIN{r=0} /<!-- config-reference:begin -->/{print; while ((getline l < "$(B)/config-ref.md") > 0) print l; r=1; next} /<!-- config-reference:end -->/{r=0} !r' docs/config.md > $(B)/config.md.new && mv $(B)/config.md.new docs/config.md
	@echo "docs/config.md: config reference regenerated"

# the NCCL backend compiled and a multi-rank worker linked against the CUDA toolkit's NCCL,
# without a GPU; running it needs GPUs
NCCL_FLAGS := -DATTNRL_NCCL -I$(CUDA_HOME)/include
nccl-check: $(B)/libattnrl.a
	@test -f $(CUDA_HOME)/include/nccl.h || { echo "make: no $(CUDA_HOME)/include/nccl.h (set CUDA_HOME)"; exit 1; }
	@mkdir -p $(B)/nccl
	$(CC) $(CFLAGS) $(NCCL_FLAGS) -c -o $(B)/nccl/dist.o src/dist.c
	$(CC) $(CFLAGS) $(NCCL_FLAGS) -c -o $(B)/nccl/dist_nccl.o src/dist_nccl.c
	$(CC) $(CFLAGS) -Itests -o $(B)/nccl/dist_worker tests/dist_worker.c $(B)/nccl/dist.o \
		$(B)/nccl/dist_nccl.o $(B)/libattnrl.a $(LDLIBS) -L$(CUDA_HOME)/lib64 \
		-Wl,-rpath,$(CUDA_HOME)/lib64 -lnccl -lcudart
	@echo "nccl-check: dist_nccl.c compiles and links ($(B)/nccl/dist_worker; not run: no GPU here)"

clean:
	rm -rf build bin

-include $(OBJ:.o=.d) $(B)/main.d $(wildcard $(B)/asan/*.d $(B)/asan/tests/*.d $(B)/tests/*.d $(B)/fuzz/obj/*.d $(B)/fuzz/*.d)
