/*
 * fsutil.h - small file-system helpers shared by the modules that write folders: the tests of
 * a path, mkdir -p, and fsync of a file or folder.
 */
#ifndef ATTNRL_FSUTIL_H
#define ATTNRL_FSUTIL_H

#include <stddef.h>

int fs_is_dir(const char *path);                      /* 1 for an existing folder */
int fs_has_suffix(const char *s, const char *suffix); /* 1 when s ends with suffix */
/* mkdir -p of path (parents_only: every parent, not path itself); -1 with err naming the
 * folder that could not be made */
int fs_mkdir_p(const char *path, int parents_only, char *err, size_t n);
/* fsync of a file or folder (EINVAL, a file system without fsync, counts as done); 0 or -1
 * with errno */
int fs_sync(const char *path);

#endif
