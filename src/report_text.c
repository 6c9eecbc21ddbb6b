/* report_text.c - token and prompt text as one visible line (see report_text.h). */
#include "attnrl/report_text.h"

#include <stdio.h>
#include <string.h>

/* bytes of the valid UTF-8 sequence at s (>= 2), or 0 */
static int utf8_len(const unsigned char *s, size_t left)
{
	int k = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		: s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (!k || (size_t)k > left)
		return 0;
	for (int i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return k;
}

int visible_text(const char *text, size_t len, int flags, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t k = 0;
	int cols = 0;
	if (!cap)
		return 0;
	for (size_t i = 0; i < len;) {
		char buf[8];
		const char *e = buf;
		size_t el = 1, adv = 1;
		int ec = 1, u = 0;
		unsigned char b = s[i];
		if (b == '\n' || b == '\t' || b == '\r' || b == '\\' || (b == '"' && (flags & VISIBLE_QUOTE))) {
			buf[0] = '\\', buf[1] = b == '\n' ? 'n' : b == '\t' ? 't' : b == '\r' ? 'r' : (char)b;
			el = 2, ec = 2;
		} else if (b == ' ' && (flags & VISIBLE_SPACE)) {
			e = "\xe2\x90\xa3", el = 3;
		} else if (b < 0x20 || b == 0x7f || (b >= 0x80 && !(u = utf8_len(s + i, len - i)))) {
			snprintf(buf, sizeof(buf), "\\x%02x", b);
			el = 4, ec = 4;
		} else if (b >= 0x80) {
			e = text + i, el = adv = (size_t)u;
		} else {
			buf[0] = (char)b;
		}
		if (k + el + (i + adv < len ? 3 : 0) + 1 > cap) { /* keep room for "..." */
			if (k + 4 <= cap)
				memcpy(out + k, "...", 3), k += 3, cols += 3;
			break;
		}
		memcpy(out + k, e, el);
		k += el, cols += ec, i += adv;
	}
	out[k] = 0;
	return cols;
}
