/*
 * stop.c - the stop flag set by signal handlers (see stop.h), and the test hooks. The handler
 * only stores to a volatile sig_atomic_t, or calls _exit on a second SIGINT: both are
 * async-signal-safe.
 */
#include "attnrl/stop.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_why;

static void on_signal(int sig)
{
	if (sig == SIGINT && stop_why == SIGINT)
		_exit(130);
	if (!stop_why)
		stop_why = sig;
	else if (sig == SIGINT)
		stop_why = SIGINT; /* so that the next SIGINT exits */
}

void stop_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGXFSZ, SIG_IGN);
}

int stop_requested(void)
{
	return stop_why;
}

void stop_request(int why)
{
	if (!stop_why)
		stop_why = why;
}

const char *stop_reason(int why)
{
	switch (why) {
	case SIGTERM:
		return "SIGTERM";
	case SIGUSR1:
		return "SIGUSR1";
	case SIGINT:
		return "SIGINT";
	case STOP_DEADLINE:
		return "the time limit";
	}
	return "a signal";
}

void stop_test_point(const char *phase, long step)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "", SIGKILL }, { ":TERM", SIGTERM }, { ":USR1", SIGUSR1 }, { ":INT", SIGINT },
		{ ":INT2", SIGINT } };
	const char *at = getenv("ATTNRL_TEST_KILL_AT");
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

int stop_test_nan(long step)
{
	const char *s = getenv("ATTNRL_TEST_NAN_AT");
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
