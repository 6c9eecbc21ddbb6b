/*
 * testhook.c - the test hooks (see testhook.h): one table of environment variables, read once
 * into fixed buffers the first time any hook is asked, so a hook point costs a string compare.
 * Pure C; the signals a kill point raises are those of stop.c's handlers.
 */
#include "attnrl/testhook.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HOOK_KILL_AT, HOOK_NAN_AT, HOOK_TRAIN_COPY, HOOK_N };

static struct {
	const char *name; /* the environment variable */
	int set;
	char value[256];
} hooks[HOOK_N] = {
	[HOOK_KILL_AT] = { "ATTNRL_TEST_KILL_AT" },
	[HOOK_NAN_AT] = { "ATTNRL_TEST_NAN_AT" },
	[HOOK_TRAIN_COPY] = { "ATTNRL_TEST_TRAIN_COPY" },
};

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_read(void)
{
	for (int i = 0; i < HOOK_N; i++) {
		const char *v = getenv(hooks[i].name);
		hooks[i].set = v != NULL;
		snprintf(hooks[i].value, sizeof(hooks[i].value), "%s", v ? v : "");
	}
}

/* the value of hook i, NULL when its variable is unset */
static const char *hook(int i)
{
	pthread_once(&hooks_once, hooks_read);
	return hooks[i].set ? hooks[i].value : NULL;
}

void testhook_point(const char *phase, long step)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "", SIGKILL }, { ":TERM", SIGTERM }, { ":USR1", SIGUSR1 }, { ":INT", SIGINT },
		{ ":INT2", SIGINT } };
	const char *at = hook(HOOK_KILL_AT);
	size_t n = strlen(phase);
	char *end;
	if (!at || strncmp(at, phase, n) || at[n] != ':' || strtol(at + n + 1, &end, 10) != step)
		return;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(end, sigs[i].name))
			raise(sigs[i].sig);
	if (!strcmp(end, ":INT2")) /* a second Ctrl-C */
		raise(SIGINT);
}

int testhook_nan(long step)
{
	const char *s = hook(HOOK_NAN_AT);
	while (s && *s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s)
			return 0;
		if (v == step)
			return 1;
		s = *end == ',' ? end + 1 : end;
	}
	return 0;
}

enum testhook_copy testhook_train_copy(void)
{
	const char *s = hook(HOOK_TRAIN_COPY);
	return !s ? TESTHOOK_COPY_NONE : !strcmp(s, "bf16") ? TESTHOOK_COPY_BF16 :
	       !strcmp(s, "f32") ? TESTHOOK_COPY_F32 : TESTHOOK_COPY_NONE;
}
