/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram to the AF_UNIX
 * socket named by $NOTIFY_SOCKET. Used by vigild and vigil-agent for Type=notify units. */
#ifndef VIGIL_SDNOTIFY_H
#define VIGIL_SDNOTIFY_H

#include <stddef.h>

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated) to $NOTIFY_SOCKET: a
 * path, or an abstract socket when it starts with '@'. Returns 1 when sent, 0 when
 * $NOTIFY_SOCKET is unset (not run by a service manager), or a negative errno with a message in
 * err (caller-owned, may be NULL). Safe from any thread; opens and closes its own socket. */
int sdnotify(const char *state, char *err, size_t errlen);

#endif
