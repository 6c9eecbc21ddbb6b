/*
 * fsutil.h - the file-system helpers every module shares: the tests of a path, reading a
 * whole file, atomic write, mkdir -p, recursive remove, fsync of a file or folder, and the monotonic clock.
 */
#ifndef ATTNRL_FSUTIL_H
#define ATTNRL_FSUTIL_H

#include <stddef.h>

int fs_is_dir(const char *path);                      /* 1 for an existing folder */
int fs_has_suffix(const char *s, const char *suffix); /* 1 when s ends with suffix */
/* the whole file, malloc'ed into *data with a NUL after its *len bytes; 0, or -1 when it
 * cannot be opened and -2 when it cannot be read, with errno (0: its size changed while read) */
int fs_read_file(const char *path, char **data, size_t *len);
/* data written to tmp (a name beside path), fsynced and renamed onto path: readers see the
 * old file or the new one, never a part; 0, or -1 with errno and tmp removed */
int fs_write_atomic(const char *path, const char *tmp, const void *data, size_t len);
/* mkdir -p of path (parents_only: every parent, not path itself); -1 with errno and err (may
 * be NULL) naming the folder that could not be made */
int fs_mkdir_p(const char *path, int parents_only, char *err, size_t n);
/* fsync of a file or folder (EINVAL, a file system without fsync, counts as done); 0 or -1
 * with errno */
int fs_sync(const char *path);
/* removes path and everything under it (symbolic links are removed, not followed); errors
 * ignored: what cannot be removed stays */
void fs_rm_tree(const char *path);
double fs_now(void); /* seconds on the monotonic clock */
double fs_wall(void); /* seconds since 1970 on the calendar clock (event files' wall time) */

#endif
