/* See sdnotify.h. The protocol is one datagram of newline-separated KEY=VALUE assignments; the
 * manager reads the sender's credentials itself, so nothing else is needed. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "errmsg.h"
#include "sdnotify.h"

int
sdnotify(const char *state, char *err, size_t errlen)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len;
	socklen_t salen;
	ssize_t n;
	int fd, e;

	if (name == NULL || name[0] == '\0')
		return 0;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len < 2 || len > sizeof(sun.sun_path) - 1)
		return errmsg(err, errlen, -EINVAL, "NOTIFY_SOCKET: not a socket path: %s", name);
	memcpy(sun.sun_path, name, len);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (name[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: the name is the bytes after the NUL, unended */
	else
		salen++; /* a path is sent with its terminating NUL */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "NOTIFY_SOCKET: socket: %s", strerror(errno));
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, salen);
	e = errno;
	close(fd);
	if (n < 0)
		return errmsg(err, errlen, -e, "NOTIFY_SOCKET %s: %s", name, strerror(e));
	return 1;
}
