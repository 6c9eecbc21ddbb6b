/*
 * cmd_train.c - `attnrl train`: GRPO from a YAML config and its overrides, the loop of
 * src/torch/trainer.c. Exit status 75 (STOP_EXIT_PREEMPTED) when it stopped on a signal or its
 * time limit with a checkpoint saved: rerun the same command to resume.
 */
#include <stdio.h>

#include "attnrl/commands.h"
#include "attnrl/config.h"
#include "attnrl/stop.h"
#include "attnrl/trainer.h"

#define EXIT_USAGE 2

int cmd_train(int argc, char **argv)
{
	static struct config c;
	char err[1024];
	if (cmd_config_load(&c, argc, argv))
		return EXIT_USAGE;
	stop_install();
	struct trainer *t = trainer_create(&c, err, sizeof(err));
	int rc = !t ? -1 : trainer_run(t, err, sizeof(err));
	if (rc < 0 || rc == TRAINER_BUSY)
		fprintf(stderr, "attnrl train: %s\n", err);
	trainer_destroy(t);
	return rc < 0 ? 1 : rc == TRAINER_BUSY ? EXIT_USAGE : rc == TRAINER_STOPPED ?
	       STOP_EXIT_PREEMPTED : 0;
}
