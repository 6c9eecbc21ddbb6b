/*
 * unicode_tables.h - the generated Unicode data (src/unicode_tables.c, written by
 * scripts/gen-unicode.py); internal to src/unicode.c, which answers the questions.
 */
#ifndef ATTNRL_UNICODE_TABLES_H
#define ATTNRL_UNICODE_TABLES_H

#include <stdint.h>

#define UNI_BLOCK 256 /* code points per second-stage block */

struct uni_decomp {
	uint32_t cp;
	uint16_t off; /* into uni_decomp_pool */
	uint8_t len;
};

struct uni_comp {
	uint32_t first, second, composite;
};

extern const char uni_version[];
extern const uint16_t uni_flags_stage1[], uni_ccc_stage1[];
extern const uint8_t uni_flags_stage2[], uni_ccc_stage2[];
extern const int uni_n_decomp, uni_n_comp;
extern const uint32_t uni_decomp_pool[];
extern const struct uni_decomp uni_decomp[];
extern const struct uni_comp uni_comp[];

#endif
