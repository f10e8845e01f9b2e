/* The listening socket, opened by vigild itself (not by libmicrohttpd) so that it can be bound
 * while the process still has the privileges to bind, and the privileges dropped before the
 * server starts. */
#ifndef VIGIL_LISTENER_H
#define VIGIL_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

/* Binds a non-blocking, close-on-exec TCP socket to addr (IPv6: v6 only) and listens on it.
 * Returns the descriptor (the caller owns it; libmicrohttpd closes it at MHD_stop_daemon) or -1
 * with strerror text in err, e.g. "Address already in use". */
int listener_open(const struct sockaddr_storage *addr, char *err, size_t errlen);

#endif
