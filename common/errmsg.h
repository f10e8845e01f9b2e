/* The error convention of the agent's kernel modules: a negative errno returned, and a message
 * written into a buffer the caller owns (which may be NULL). */
#ifndef VIGIL_ERRMSG_H
#define VIGIL_ERRMSG_H

#include <stddef.h>

/* Writes the printf-style message into err (when given) and returns rc. */
int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
