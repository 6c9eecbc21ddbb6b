/*
 * stop.c - the stop flag set by signal handlers (see stop.h). The handler only stores to a
 * volatile sig_atomic_t, or calls _exit on a second SIGINT: both are async-signal-safe.
 */
#include "attnrl/stop.h"

#include <signal.h>
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
