/* errmsg.c - see errmsg.h */
#include "attnrl/errmsg.h"

#include <stdarg.h>
#include <stdio.h>

int err_set(char *err, size_t n, const char *fmt, ...)
{
	if (!err || !n)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return -1;
}
