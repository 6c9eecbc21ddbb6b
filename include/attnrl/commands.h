/*
 * commands.h - attnrl commands that live in their own files (src/cmd_*.c); main.c dispatches.
 * Each takes the arguments after the command name and returns the exit status (0 ok, 1 a
 * run-time failure, 2 a usage error).
 */
#ifndef ATTNRL_COMMANDS_H
#define ATTNRL_COMMANDS_H

/* attnrl tokenize --tokenizer PATH [--json] [--decode] [--time] (src/cmd_tokenize.c) */
int cmd_tokenize(int argc, char **argv);

#endif
