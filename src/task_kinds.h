/*
 * task_kinds.h - private to the tasks module: what each task kind provides to task.c's
 * dispatch (task_arith.c, task_countdown.c, task_math.c, task_mcq.c), and the text helper they share.
 */
#ifndef ATTNRL_TASK_KINDS_H
#define ATTNRL_TASK_KINDS_H

#include "attnrl/rng.h"
#include "attnrl/task.h"

struct task_ops {
	const char *name;
	struct task_params defaults;
	int ops_max, operand_max; /* the largest valid max_ops and max_operand */
	/* one candidate problem into a zeroed ex: 0, or -1 to draw again; NULL: no generator */
	int (*draw)(const struct task_params *p, struct rng *r, struct task_example *ex);
	void (*key)(const struct task_example *ex, char *key, size_t n);
	double (*reward)(const struct task_example *ex, const char *response, int *correct);
};

extern const struct task_ops task_arith_ops, task_countdown_ops, task_math_ops, task_mcq_ops;

/* printf at buf + *len, advancing *len: 0, or -1 when it does not fit in n bytes */
int task_appendf(char *buf, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
