/*
 * check.h - the test harness: CHECK records a failure with file:line and goes on; a test's
 * main() ends with `return check_done("name");`, which prints a summary line and returns the
 * exit status (non-zero when any check failed).
 */
#ifndef ATTNRL_CHECK_H
#define ATTNRL_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		check_count++;                                               \
		if (!(cond)) {                                               \
			check_failures++;                                    \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
				__LINE__, #cond);                            \
			fprintf(stderr, __VA_ARGS__);                        \
			fprintf(stderr, "\n");                               \
		}                                                            \
	} while (0)

#define CHECK_NEAR(a, b, tol, what)                                          \
	CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: %.9g vs %.9g (tol %g)", \
	      (what), (double)(a), (double)(b), (double)(tol))

static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
