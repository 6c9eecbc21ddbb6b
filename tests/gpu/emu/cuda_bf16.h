/* cuda_bf16.h (emulation) - the bf16 conversions kernels/NAME.cu use, on the host */
#ifndef ATTNRL_EMU_CUDA_BF16_H
#define ATTNRL_EMU_CUDA_BF16_H

#include "attnrl/kernels.h"

struct __nv_bfloat16 {
	uint16_t x;
};

static inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
	return __nv_bfloat16{ kern_f2bf(f) };
}

static inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b)
{
	return b.x;
}

#endif
