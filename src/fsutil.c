/* fsutil.c - file-system helpers (see fsutil.h). */
#include "attnrl/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FS_PATH_MAX 4096

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

int fs_read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	*data = NULL;
	*len = 0;
	if (!f)
		return -1;
	if (fstat(fileno(f), &st) || !(buf = malloc((size_t)st.st_size + 1)) ||
	    fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		if (buf && !ferror(f))
			errno = 0;
		int e = errno;
		free(buf);
		fclose(f);
		errno = e;
		return -2;
	}
	fclose(f);
	buf[st.st_size] = '\0';
	*data = buf;
	*len = (size_t)st.st_size;
	return 0;
}

int fs_write_atomic(const char *path, const char *tmp, const void *data, size_t len)
{
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return -1;
	errno = 0;
	int ok = fwrite(data, 1, len, f) == len && !fflush(f) && !fsync(fileno(f));
	int e = errno;
	if (fclose(f) && ok)
		ok = 0, e = errno;
	if (ok && rename(tmp, path))
		ok = 0, e = errno;
	if (ok)
		return 0;
	unlink(tmp);
	errno = e ? e : EIO;
	return -1;
}

int fs_mkdir_p(const char *path, int parents_only, char *err, size_t n)
{
	char buf[FS_PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		snprintf(err, n, "path too long: '%.200s...'", path);
		errno = ENAMETOOLONG;
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
			int e = errno;
			snprintf(err, n, "cannot create directory '%s': %s", buf, strerror(e));
			errno = e;
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

void fs_rm_tree(const char *path)
{
	DIR *d = opendir(path);
	for (struct dirent *de; d && (de = readdir(d));) {
		char p[FS_PATH_MAX];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", path, de->d_name) >= (int)sizeof(p))
			continue;
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			fs_rm_tree(p);
		else
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

double fs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double fs_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
