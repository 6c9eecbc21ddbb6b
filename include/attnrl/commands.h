/*
 * commands.h - subcommands of bin/attnrl that live in their own src/cmd_*.c. Each takes the
 * arguments after its name and returns the exit status: 0 success, 1 a run-time failure, 2 a
 * usage or config error (one line on stderr).
 */
#ifndef ATTNRL_COMMANDS_H
#define ATTNRL_COMMANDS_H

/* export RUN_DIR [--step N] --out DIR [--dtype float32|bfloat16|float16] */
int cmd_export(int argc, char **argv);

#endif
