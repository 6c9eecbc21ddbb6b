/*
 * errmsg.h - the one error line of the project's convention (docs/architecture.md, "Errors"):
 * a function that fails writes one line into its caller's char *err, size_t n and returns -1.
 */
#ifndef ATTNRL_ERRMSG_H
#define ATTNRL_ERRMSG_H

#include <stddef.h>

/* the formatted message into err (may be NULL or n 0) as one line: control characters become
 * spaces, so a file name or a value quoted in it cannot break the line; returns -1 */
__attribute__((format(printf, 3, 4)))
int err_set(char *err, size_t n, const char *fmt, ...);

#endif
