/*
 * fuzz_config.c - libFuzzer target of the run configuration: the input is a YAML document,
 * then (after the first NUL byte) override lines "section.key=value" separated by '\n' or NUL.
 * Loads the YAML (config_load_text), applies each override, validates, and checks that the
 * resolved config printed as YAML loads back to the same config (config_hash).
 */
#include "attnrl/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the printed YAML of c must load back into an identical config */
static void round_trip(const struct config *c)
{
	char *text = NULL, err[1024];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	int rc = config_write_yaml(c, f);
	fclose(f);
	struct config back;
	config_init(&back);
	if (rc == 0 && config_load_text(&back, text, len, "printed", err, sizeof(err))) {
		fprintf(stderr, "round trip: the printed config does not load: %s\n%s", err, text);
		abort();
	}
	if (rc == 0 && config_hash(&back) != config_hash(c)) {
		fprintf(stderr, "round trip: the printed config loads differently:\n%s", text);
		abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t ylen = nul ? (size_t)(nul - text) : size;
	char err[1024];
	struct config c;
	config_init(&c);
	int rc = config_load_text(&c, text, ylen, "fuzz.yaml", err, sizeof(err));
	if (nul) {
		/* the override lines as C strings */
		size_t olen = size - ylen - 1;
		char *ov = malloc(olen + 1);
		memcpy(ov, nul + 1, olen);
		ov[olen] = '\0';
		for (size_t i = 0; i < olen; i++)
			if (ov[i] == '\n')
				ov[i] = '\0';
		for (size_t i = 0; i <= olen;) {
			size_t k = strlen(ov + i);
			if (k)
				rc |= config_apply_override(&c, ov + i, err, sizeof(err));
			i += k + 1;
		}
		free(ov);
	}
	/* a failed load or override leaves c as it was, so c always holds accepted values */
	(void)rc;
	config_validate(&c, err, sizeof(err));
	round_trip(&c);
	return 0;
}
