/* See listener.h. Mirrors what libmicrohttpd does with its own socket: SO_REUSEADDR so a
 * restart does not wait out TIME_WAIT, IPV6_V6ONLY so [::]:PORT does not also take IPv4. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "errmsg.h"
#include "listener.h"

#define LISTEN_BACKLOG 1024

int
listener_open(const struct sockaddr_storage *addr, char *err, size_t errlen)
{
	int family = addr->ss_family, one = 1, fd, e;
	socklen_t len =
	    family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg(err, errlen, -1, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)addr, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		e = errno;
		close(fd);
		return errmsg(err, errlen, -1, "%s", strerror(e));
	}
	return fd;
}
