/*
 * cmd_config.c - `attnrl config`: the resolved config as YAML (which reloads to itself), or the
 * option table as Markdown (--reference); and cmd_config_load, how every command that takes
 * CONFIG [section.key=value ...] reads it.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attnrl/commands.h"
#include "attnrl/config.h"

struct config_args {
	struct args_list cfg;
	int reference;
};

#define OPT(f) offsetof(struct config_args, f)
static const struct args_opt config_opts[] = {
	{ "CONFIG", ARGS_LIST, OPT(cfg), "CONFIG [section.key=value ...]", 0, 0, NULL,
	  ARGS_OPTIONAL, "a YAML file, then overrides of its options (required unless "
	  "--reference)" },
	{ "--reference", ARGS_SWITCH, OPT(reference), NULL, 0, 0, NULL, ARGS_OPTIONAL,
	  "the option table instead, as Markdown (docs/config.md)" },
	{ NULL },
};
const struct args_spec cmd_config_args = {
	"config", "print the resolved config as YAML, or the option table (Markdown)", config_opts
};

int cmd_config_load(struct config *c, const struct args_list *cfg)
{
	char err[1024];
	config_init(c);
	if (cfg->n < 1) {
		fprintf(stderr, "attnrl: missing CONFIG (a YAML file); see 'attnrl help'\n");
		return -1;
	}
	if (config_load_file(c, cfg->v[0], err, sizeof(err)))
		goto fail;
	for (int i = 1; i < cfg->n; i++)
		if (config_apply_override(c, cfg->v[i], err, sizeof(err)))
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
	struct config_args a = { 0 };
	struct config c;
	char err[1024];
	int rc = args_parse(&cmd_config_args, &a, argc, argv, err, sizeof(err));
	if (!rc && !a.reference && !a.cfg.n)
		rc = -1, snprintf(err, sizeof(err), "missing CONFIG");
	if (rc)
		return args_exit(&cmd_config_args, rc, err);
	if (a.reference)
		return config_write_reference(stdout) ? 1 : 0;
	if (cmd_config_load(&c, &a.cfg))
		return ATTNRL_EXIT_USAGE;
	return config_write_yaml(&c, stdout) ? 1 : 0;
}
