/*
 * runlock.h - one writer per run folder: <run>/LOCK, an fcntl() write lock held for the whole
 * run by the process that writes the folder (rank 0 of a data-parallel run; the other ranks
 * share the folder and never touch LOCK), with the holder's pid, host and start time in it.
 *
 * Why fcntl and not flock() or an O_EXCL file: the kernel drops an fcntl lock when its process
 * dies, however it dies, so a crashed run never blocks the next one and no pid has to be
 * trusted; fcntl locks also reach across hosts on NFS (lockd, NFSv4), where flock() is only
 * local on some set-ups; an O_EXCL file would outlive a SIGKILL and need a pid check that
 * means nothing on another host. fcntl's trap, the lock dropped when the process closes any
 * descriptor of the file, is avoided by one rule: only this module opens LOCK, once per run.
 * The file is kept (unlinking it would let a late opener lock a dead inode); a clean release
 * empties it, so a LOCK with a holder in it and no lock held is what a killed run leaves. On a
 * file system without locks (ENOLCK), the holder's pid is checked instead (same host only).
 */
#ifndef ATTNRL_RUNLOCK_H
#define ATTNRL_RUNLOCK_H

#include <stddef.h>

struct runlock {
	int held, fd;
	char path[1100];
};

#define RUNLOCK_TOOK_OVER 1 /* taken from a holder that is gone; err says which */
#define RUNLOCK_BUSY 2      /* another live process holds it; err names it and what to do */

/* takes <dir>/LOCK (dir exists; l needs no init) and writes this process into it: 0, RUNLOCK_TOOK_OVER,
 * RUNLOCK_BUSY, or -1 with err */
int runlock_acquire(struct runlock *l, const char *dir, char *err, size_t n);
/* empties LOCK and drops the lock (a no-op when not held) */
void runlock_release(struct runlock *l);
/* whether a run is writing dir now, for a process that watches it (never the holder: its
 * open of LOCK would drop the holder's lock): 1 when a live process holds <dir>/LOCK, 0 when
 * none does (no LOCK, released, its holder gone), -1 with errno when LOCK cannot be read.
 * Without file locks (ENOLCK) the pid in LOCK decides, as in runlock_acquire */
int runlock_held(const char *dir);

#endif
