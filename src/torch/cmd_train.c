/*
 * cmd_train.c - `attnrl train`: GRPO from a YAML config and its overrides, the loop of
 * src/torch/trainer.c. Exit status 75 (STOP_EXIT_PREEMPTED) when it stopped on a signal or its
 * time limit with a checkpoint saved: rerun the same command to resume.
 */
#include <stddef.h>
#include <stdio.h>

#include "attnrl/commands.h"
#include "attnrl/config.h"
#include "attnrl/stop.h"
#include "attnrl/trainer.h"

static const struct args_opt train_opts[] = {
	{ "CONFIG", ARGS_LIST, 0, "CONFIG [section.key=value ...]", 0, 0, NULL, ARGS_REQUIRED,
	  "a YAML file, then overrides of its options" },
	{ NULL },
};
const struct args_spec cmd_train_args = { "train", "GRPO training from a YAML config",
					  train_opts };

int cmd_train(int argc, char **argv)
{
	static struct config c;
	struct args_list cfg;
	char err[1024];
	int rc = args_parse(&cmd_train_args, &cfg, argc, argv, err, sizeof(err));
	if (rc)
		return args_exit(&cmd_train_args, rc, err);
	if (cmd_config_load(&c, &cfg))
		return ATTNRL_EXIT_USAGE;
	stop_install();
	struct trainer *t = trainer_create(&c, err, sizeof(err));
	rc = !t ? -1 : trainer_run(t, err, sizeof(err));
	if (rc < 0 || rc == TRAINER_BUSY)
		fprintf(stderr, "attnrl train: %s\n", err);
	trainer_destroy(t);
	return rc < 0 ? 1 : rc == TRAINER_BUSY ? ATTNRL_EXIT_USAGE : rc == TRAINER_STOPPED ?
	       STOP_EXIT_PREEMPTED : 0;
}
