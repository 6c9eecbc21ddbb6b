/*
 * gpu_util.h - what the GPU harnesses (check_kernels.c, bench_decode.cu) share: the CUDA error
 * check and the measured device-to-device copy bandwidth, the roofline's denominator.
 */
#ifndef ATTNRL_GPU_UTIL_H
#define ATTNRL_GPU_UTIL_H

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#define CU(x)                                                                                  \
	do {                                                                                   \
		cudaError_t e_ = (x);                                                          \
		if (e_ != cudaSuccess) {                                                       \
			fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_),  \
				__FILE__, __LINE__, cudaGetErrorString(e_));                   \
			exit(2);                                                               \
		}                                                                              \
	} while (0)

#define COPY_BANDWIDTH_BYTES ((size_t)2 << 30)

/* bytes read + written per second by 10 device-to-device copies of 2 GiB */
static inline double copy_bandwidth(void)
{
	size_t bytes = COPY_BANDWIDTH_BYTES;
	void *a, *b;
	CU(cudaMalloc(&a, bytes));
	CU(cudaMalloc(&b, bytes));
	CU(cudaMemset(a, 1, bytes));
	cudaEvent_t e0, e1;
	CU(cudaEventCreate(&e0));
	CU(cudaEventCreate(&e1));
	CU(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
	CU(cudaEventRecord(e0, 0));
	for (int i = 0; i < 10; i++)
		CU(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, 0));
	CU(cudaEventRecord(e1, 0));
	CU(cudaEventSynchronize(e1));
	float ms;
	CU(cudaEventElapsedTime(&ms, e0, e1));
	CU(cudaFree(a));
	CU(cudaFree(b));
	return 2.0 * bytes * 10 / (ms * 1e-3);
}

#endif
