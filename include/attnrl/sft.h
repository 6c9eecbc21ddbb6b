/*
 * sft.h - supervised warm-up on the task's worked solutions (teacher forcing, cross-entropy on
 * the response tokens), the project's own way to make the embedded default's starting model.
 */
#ifndef ATTNRL_SFT_H
#define ATTNRL_SFT_H

#include <stddef.h>

#include "attnrl/config.h"

int sft_run(const struct config *c, char *err, size_t n);

#endif
