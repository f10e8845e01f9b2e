/* Wall-clock time as the API writes it. Shared by vigild and the agent. */
#ifndef VIGIL_CLOCK_H
#define VIGIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_RFC3339_LEN 32 /* "2026-11-26T08:23:52.123Z" and its NUL fit */

/* The wall clock in milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/* ms (since the epoch) as an RFC 3339 date-time in UTC with milliseconds into buf (at least
 * CLOCK_RFC3339_LEN bytes); returns buf. */
const char *clock_rfc3339(int64_t ms, char *buf, size_t len);

#endif
