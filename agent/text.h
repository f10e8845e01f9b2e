/* Untrusted text (a script's output) made fit for a status report: valid UTF-8, no control
 * characters, bounded. Shared by the check runner and notify scripts. */
#ifndef VIGIL_TEXT_H
#define VIGIL_TEXT_H

#include <stddef.h>

/* Copies len bytes of text into out (outsize bytes, at least 1): invalid UTF-8 and control
 * characters other than newline and tab become '?', NULs are dropped, trailing white space is
 * trimmed, and the result is cut at outsize - 1 bytes on a character boundary. */
void text_clean(char *out, size_t outsize, const char *text, size_t len);

#endif
