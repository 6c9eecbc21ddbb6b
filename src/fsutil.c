/* fsutil.c - file-system helpers (see fsutil.h). */
#include "attnrl/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

int fs_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

int fs_mkdir_p(const char *path, int parents_only, char *err, size_t n)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		snprintf(err, n, "path too long: '%.200s...'", path);
		return -1;
	}
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		if (!c && parents_only)
			return 0;
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST) {
			snprintf(err, n, "cannot create directory '%s': %s", buf, strerror(errno));
			return -1;
		}
		if (!c)
			return 0;
		*p = c;
	}
}

int fs_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return -1;
	if (fsync(fd) && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}
