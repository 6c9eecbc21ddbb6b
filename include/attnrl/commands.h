/*
 * commands.h - attnrl commands that live in their own file (src/cmd_*.c); main.c dispatches to
 * them. Each takes the arguments after its name and returns the exit status (0 ok, 1 run-time
 * failure, 2 usage or config error), having printed one line on failure.
 */
#ifndef ATTNRL_COMMANDS_H
#define ATTNRL_COMMANDS_H

/* generate --model PATH [--tokenizer PATH] [--prompt TEXT] [--max-new-tokens N] ... */
int cmd_generate(int argc, char **argv);

/* eval --model PATH|RUN_DIR [--data FILE.jsonl] [--k N] [--preset aime] [--by FIELD] ...:
 * avg@k and pass@k overall and per subset (src/cmd_eval.c) */
int cmd_eval(int argc, char **argv);

/* export RUN_DIR [--step N] --out DIR [--dtype float32|bfloat16|float16] */
int cmd_export(int argc, char **argv);

/* countdown-data --out DIR [--seed S] [--train N] [--test N]: TinyZero-style Countdown JSONL
 * (src/cmd_countdown.c) */
int cmd_countdown_data(int argc, char **argv);

/* attnrl tokenize --tokenizer PATH [--json] [--decode] [--time] (src/cmd_tokenize.c) */
int cmd_tokenize(int argc, char **argv);

/* report RUN_DIR [--out FILE] [--samples N]: the run as one HTML page (src/cmd_report.c) */
int cmd_report(int argc, char **argv);

#endif
