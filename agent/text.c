/* Cleaning untrusted text for status reports (text.h). */
#include <string.h>

#include "text.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid (RFC 3629 4). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void
text_clean(char *out, size_t outsize, const char *text, size_t len)
{
	size_t max = outsize - 1;
	const unsigned char *s = (const unsigned char *)text;
	size_t o = 0, i = 0;

	while (i < len) {
		size_t n = s[i] == 0 ? 1 : utf8_len(s + i, len - i);
		if (s[i] == 0) {
			i++;
			continue;
		}
		if (n == 0 || (n == 1 && s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') ||
		    s[i] == 0x7f) {
			if (o + 1 > max)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + n > max)
			break;
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\t'))
		o--;
	out[o] = '\0';
}
