/* runlock.c - the run folder's lock file (see runlock.h for the design and its reasons). */
#include "attnrl/runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

struct holder {
	long pid;
	char host[256], started[64];
};

/* the holder LOCK names; 0 when it names none (empty: released cleanly) */
static int holder_read(int fd, struct holder *h)
{
	char buf[512];
	ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
	memset(h, 0, sizeof(*h));
	if (k <= 0)
		return 0;
	buf[k] = 0;
	if (sscanf(buf, "pid=%ld host=%255s started=%63s", &h->pid, h->host, h->started) < 1)
		snprintf(h->host, sizeof(h->host), "(unreadable LOCK)");
	return 1;
}

static int holder_write(int fd)
{
	char host[256] = "unknown", when[64], line[512];
	time_t now = time(NULL);
	struct tm tm;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	int len = snprintf(line, sizeof(line), "pid=%ld host=%s started=%s\n", (long)getpid(), host,
			   when);
	return ftruncate(fd, 0) || pwrite(fd, line, len, 0) != len || fsync(fd) ? -1 : 0;
}

static int same_host(const struct holder *h)
{
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	return !strcmp(host, h->host);
}

/* without file locks: h names a process that may be alive (on another host it cannot be told) */
static int holder_alive(const struct holder *h)
{
	return h->pid > 0 && (!same_host(h) || !kill((pid_t)h->pid, 0) || errno == EPERM);
}

static void busy_line(const struct runlock *l, const struct holder *h, char *err, size_t n)
{
	snprintf(err, n, "'%s': the run folder is in use by pid %ld on host %s, started %s; wait "
		 "for it to end, stop it (kill -TERM %ld on %s), or pick another run.name", l->path,
		 h->pid, h->host[0] ? h->host : "?", h->started[0] ? h->started : "?", h->pid,
		 h->host[0] ? h->host : "its host");
}

int runlock_acquire(struct runlock *l, const char *dir, char *err, size_t n)
{
	struct holder h;
	l->held = 0;
	snprintf(l->path, sizeof(l->path), "%s/LOCK", dir);
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->fd < 0) {
		snprintf(err, n, "cannot open '%s': %s", l->path, strerror(errno));
		return -1;
	}
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int locked = !fcntl(l->fd, F_SETLK, &fl), e = errno;
	int named = holder_read(l->fd, &h);
	if (!locked && (e == EACCES || e == EAGAIN)) {
		if (!named) /* between its lock and its write: the kernel knows the pid */
			if (!fcntl(l->fd, F_GETLK, &fl) && fl.l_type != F_UNLCK)
				h.pid = fl.l_pid;
		busy_line(l, &h, err, n);
		close(l->fd);
		l->fd = -1;
		return RUNLOCK_BUSY;
	}
	if (!locked && e != ENOLCK && e != EOPNOTSUPP && e != EINVAL) {
		snprintf(err, n, "cannot lock '%s': %s", l->path, strerror(e));
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	/* no file lock here: the pid decides, where it can be checked */
	if (!locked && named && holder_alive(&h) && h.pid != getpid()) {
		busy_line(l, &h, err, n);
		close(l->fd);
		l->fd = -1;
		return RUNLOCK_BUSY;
	}
	if (holder_write(l->fd)) {
		snprintf(err, n, "cannot write '%s': %s", l->path, strerror(errno));
		close(l->fd);
		l->fd = -1;
		return -1;
	}
	l->held = 1;
	if (!named || h.pid == getpid())
		return 0;
	snprintf(err, n, "'%s': taking over the lock of pid %ld on host %s (started %s), which is "
		 "no longer running", l->path, h.pid, h.host[0] ? h.host : "?",
		 h.started[0] ? h.started : "?");
	return RUNLOCK_TOOK_OVER;
}

void runlock_release(struct runlock *l)
{
	if (!l->held)
		return;
	if (ftruncate(l->fd, 0)) {
		/* the next run reads a holder that is gone and takes over: harmless */
	}
	close(l->fd);
	l->held = 0;
	l->fd = -1;
}

int runlock_held(const char *dir)
{
	char path[1100];
	struct holder h;
	snprintf(path, sizeof(path), "%s/LOCK", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int held = -1;
	if (!fcntl(fd, F_GETLK, &fl))
		held = fl.l_type != F_UNLCK;
	else if (errno == ENOLCK || errno == EOPNOTSUPP || errno == EINVAL)
		held = holder_read(fd, &h) && holder_alive(&h);
	int e = errno;
	close(fd);
	errno = e;
	return held;
}
