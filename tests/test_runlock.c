/*
 * test_runlock.c - the run folder's lock (src/runlock.c) against a second process: a child
 * that tries while the parent holds it gets RUNLOCK_BUSY and a line naming the parent's pid and
 * host; a clean release empties LOCK and lets the child take it; a LOCK naming a dead process
 * is taken over with a line naming that pid. Where the file system has no fcntl locks (ENOLCK,
 * as on NFS without a lock daemon: this program's fcntl() below fails so), the pid in LOCK
 * decides: a live holder on this host and a holder on another host are refused, a dead holder
 * on this host is taken over. runlock_held, asked from another process, says 1 while a live
 * process holds the lock and 0 without LOCK, after a release and for a dead holder, with and
 * without file locks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attnrl/fsutil.h"
#include "attnrl/runlock.h"
#include "check.h"

static int no_locks; /* 1: fcntl's record locks fail with ENOLCK (inherited by children) */

/* this program's fcntl, which runlock.c calls: the system's, or ENOLCK for the record locks
 * while no_locks is set */
int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (no_locks && (cmd == F_SETLK || cmd == F_SETLKW || cmd == F_GETLK)) {
		errno = ENOLCK;
		return -1;
	}
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

/* LOCK rewritten to name pid on host */
static void lock_names(const char *path, long pid, const char *host)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL, "rewrite LOCK");
	if (f) {
		fprintf(f, "pid=%ld host=%s started=2026-01-01T00:00:00Z\n", pid, host);
		fclose(f);
	}
}

/* runlock_acquire in a child process: its return value, its line into line */
static int child_acquire(const char *dir, char *line, size_t n)
{
	int fds[2];
	if (pipe(fds))
		return -100;
	pid_t pid = fork();
	if (pid == 0) {
		struct runlock l;
		char err[1024] = "";
		int rc = runlock_acquire(&l, dir, err, sizeof(err));
		if (write(fds[1], err, strlen(err) + 1) < 0)
			_exit(100);
		runlock_release(&l);
		_exit(rc < 0 ? 99 : rc);
	}
	close(fds[1]);
	ssize_t k = read(fds[0], line, n - 1);
	line[k > 0 ? k : 0] = 0;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? (WEXITSTATUS(st) == 99 ? -1 : WEXITSTATUS(st)) : -100;
}

/* LOCK's text, read in a child: a close() of LOCK in the holder would drop its fcntl lock
 * (the trap runlock.h avoids), so this process never opens it */
static void child_read(const char *path, char *text, size_t n)
{
	int fds[2];
	text[0] = 0;
	if (pipe(fds))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		char *data;
		size_t len;
		if (fs_read_file(path, &data, &len) || write(fds[1], data, len) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	ssize_t k = read(fds[0], text, n - 1);
	text[k > 0 ? k : 0] = 0;
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

/* runlock_held asked from a child (never from the holder: its open of LOCK would drop the
 * holder's lock): 1, 0, or -1 */
static int child_held(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		int held = runlock_held(dir);
		_exit(held < 0 ? 99 : held);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? (WEXITSTATUS(st) == 99 ? -1 : WEXITSTATUS(st)) : -100;
}

int main(void)
{
	char dir[] = "/tmp/test_runlock.XXXXXX", path[256], err[1024], line[1024], want[512];
	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/LOCK", dir);

	struct runlock l;
	CHECK(child_held(dir) == 0, "held without LOCK");
	CHECK(runlock_acquire(&l, dir, err, sizeof(err)) == 0, "first acquire: %s", err);
	CHECK(child_held(dir) == 1, "not held while held");
	child_read(path, line, sizeof(line));
	snprintf(want, sizeof(want), "pid=%ld host=", (long)getpid());
	CHECK(!strncmp(line, want, strlen(want)) && strstr(line, " started=20"), "LOCK holds '%s'",
	      line);
	CHECK(child_acquire(dir, line, sizeof(line)) == RUNLOCK_BUSY, "busy: %s", line);
	snprintf(want, sizeof(want), "in use by pid %ld on host ", (long)getpid());
	CHECK(strstr(line, want) && strstr(line, "pick another run.name"), "busy line: %s", line);
	runlock_release(&l);
	child_read(path, line, sizeof(line));
	CHECK(line[0] == 0, "LOCK not emptied by the release: '%s'", line);
	CHECK(child_held(dir) == 0, "held after the release");
	CHECK(child_acquire(dir, line, sizeof(line)) == 0, "after the release: %s", line);

	pid_t dead = fork(); /* a pid that is gone */
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	lock_names(path, (long)dead, "elsewhere");
	CHECK(child_held(dir) == 0, "held by a dead holder");
	CHECK(runlock_acquire(&l, dir, err, sizeof(err)) == RUNLOCK_TOOK_OVER, "stale: %s", err);
	snprintf(want, sizeof(want), "taking over the lock of pid %ld on host elsewhere", (long)dead);
	CHECK(strstr(err, want) != NULL, "take-over line: %s", err);
	runlock_release(&l);
	runlock_release(&l); /* a second release is a no-op */

	/* no record locks (ENOLCK): the pid decides */
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	no_locks = 1;
	CHECK(runlock_acquire(&l, dir, err, sizeof(err)) == 0, "no locks: first acquire: %s", err);
	CHECK(child_held(dir) == 1, "no locks: not held while held");
	CHECK(child_acquire(dir, line, sizeof(line)) == RUNLOCK_BUSY, "no locks: busy: %s", line);
	snprintf(want, sizeof(want), "in use by pid %ld on host %s", (long)getpid(), host);
	CHECK(strstr(line, want) != NULL, "no locks: busy line: %s", line);
	runlock_release(&l);
	CHECK(child_acquire(dir, line, sizeof(line)) == 0, "no locks: after the release: %s", line);
	CHECK(child_held(dir) == 0, "no locks: held after the release");
	lock_names(path, (long)dead, host);
	CHECK(child_held(dir) == 0, "no locks: held by a dead holder");
	CHECK(child_acquire(dir, line, sizeof(line)) == RUNLOCK_TOOK_OVER, "no locks: stale: %s", line);
	snprintf(want, sizeof(want), "taking over the lock of pid %ld on host %s", (long)dead, host);
	CHECK(strstr(line, want) != NULL, "no locks: take-over line: %s", line);
	lock_names(path, (long)dead, "elsewhere"); /* its pid cannot be checked from here */
	CHECK(child_held(dir) == 1, "no locks: a holder on another host is not held");
	CHECK(child_acquire(dir, line, sizeof(line)) == RUNLOCK_BUSY, "no locks: other host: %s", line);
	CHECK(strstr(line, "on host elsewhere") != NULL, "no locks: other host's line: %s", line);
	no_locks = 0;

	fs_rm_tree(dir);
	return check_done("test_runlock");
}
