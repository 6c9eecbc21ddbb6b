/*
 * tensor_emu.h - a stand-in for the tensor API (include/attnrl/tensor.h) over the CUDA
 * emulation's device memory, for running the trainer's data-parallel code without libtorch's
 * CUDA build (tensor_emu.c). Float32 only, one device. Like torch on a GPU, every operation is
 * queued on one "current stream" of its own (not NCCL's) and checked against the emulation's
 * stream order (tests/gpu/emu/emu_mem.h): reading memory that another stream wrote without an
 * event wait fails with that reason in tensor_last_error().
 */
#ifndef ATTNRL_TENSOR_EMU_H
#define ATTNRL_TENSOR_EMU_H

#include "attnrl/tensor.h"

#include <cuda_runtime_api.h>

cudaStream_t tensor_emu_stream(void); /* the current stream, created on first use */
/* a 1-D parameter of numel elements holding w, its gradient g, both written on the stream */
tensor *tensor_emu_param(int64_t numel, const float *w, const float *g);
/* t's elements to dst, read on the stream and waited for; 0 or -1 */
int tensor_emu_read(const tensor *t, float *dst);

#endif
