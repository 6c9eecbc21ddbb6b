/*
 * report_text.h - text as one visible line, for the console tables of `attnrl inspect` and the
 * pictures of inspect and report: \n \t \r \\ and other control bytes as escapes (\x1b), invalid
 * UTF-8 as \xNN, valid UTF-8 kept. Pure C.
 */
#ifndef ATTNRL_REPORT_TEXT_H
#define ATTNRL_REPORT_TEXT_H

#include <stddef.h>

#define VISIBLE_QUOTE 1 /* '"' as \" (for text shown between quotes) */
#define VISIBLE_SPACE 2 /* ' ' as U+2423 (a lone space token stays visible) */

/* s[0..len) into out (cap bytes, always NUL-terminated; cut with "..." when it does not fit);
 * returns the columns it takes */
int visible_text(const char *s, size_t len, int flags, char *out, size_t cap);

#endif
