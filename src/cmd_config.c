/*
 * cmd_config.c - `attnrl config`: the resolved config as YAML (which reloads to itself), or the
 * option table as Markdown (--reference); and cmd_config_load, how every command that takes
 * CONFIG [section.key=value ...] reads it.
 */
#include <stdio.h>
#include <string.h>

#include "attnrl/commands.h"
#include "attnrl/config.h"

#define EXIT_USAGE 2

int cmd_config_load(struct config *c, int argc, char **argv)
{
	char err[1024];
	config_init(c);
	if (argc < 1) {
		fprintf(stderr, "attnrl: missing CONFIG (a YAML file); see 'attnrl help'\n");
		return -1;
	}
	if (config_load_file(c, argv[0], err, sizeof(err)))
		goto fail;
	for (int i = 1; i < argc; i++)
		if (config_apply_override(c, argv[i], err, sizeof(err)))
			goto fail;
	if (config_validate(c, err, sizeof(err)))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "%s\n", err);
	return -1;
}

int cmd_config(int argc, char **argv)
{
	struct config c;
	if (argc >= 1 && !strcmp(argv[0], "--reference"))
		return config_write_reference(stdout) ? 1 : 0;
	if (cmd_config_load(&c, argc, argv))
		return EXIT_USAGE;
	return config_write_yaml(&c, stdout) ? 1 : 0;
}
