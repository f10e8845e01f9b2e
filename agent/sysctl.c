/* /proc/sys reads and writes for the agent (see sysctl.h). Small synchronous file operations on
 * procfs: they never wait on anything but the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "errmsg.h"
#include "sysctl.h"

#define PATH_NONLOCAL_V4 "/proc/sys/net/ipv4/ip_nonlocal_bind"
#define PATH_NONLOCAL_V6 "/proc/sys/net/ipv6/ip_nonlocal_bind"

int
sysctl_read_int(const char *path, int *value, char *err, size_t errlen)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "sysctl: %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return errmsg(err, errlen, -e, "sysctl: read %s: %s", path, strerror(e));
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (end == buf || errno != 0 || v < -2147483647L - 1 || v > 2147483647L ||
	    (*end != '\0' && *end != '\n'))
		return errmsg(err, errlen, -EINVAL, "sysctl: %s: not an integer", path);
	*value = (int)v;
	return 0;
}

int
sysctl_write_int(const char *path, int value, char *err, size_t errlen)
{
	char buf[16];
	ssize_t n;
	int fd, len, e;

	len = snprintf(buf, sizeof(buf), "%d\n", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "sysctl: %s: %s", path, strerror(errno));
	n = write(fd, buf, (size_t)len);
	e = errno;
	close(fd);
	if (n < 0)
		return errmsg(err, errlen, -e, "sysctl: write %s: %s", path, strerror(e));
	if (n != len)
		return errmsg(err, errlen, -EIO, "sysctl: write %s: short write", path);
	return 0;
}

static const char *
nonlocal_path(int family)
{
	return family == AF_INET ? PATH_NONLOCAL_V4 : family == AF_INET6 ? PATH_NONLOCAL_V6 : NULL;
}

int
sysctl_nonlocal_bind_get(int family, bool *on, char *err, size_t errlen)
{
	const char *path = nonlocal_path(family);
	int v = 0, rc;

	if (path == NULL)
		return errmsg(err, errlen, -EAFNOSUPPORT, "sysctl: ip_nonlocal_bind: bad family");
	rc = sysctl_read_int(path, &v, err, errlen);
	if (rc < 0)
		return rc;
	*on = v != 0;
	return 0;
}

int
sysctl_nonlocal_bind_set(int family, bool on, char *err, size_t errlen)
{
	bool cur = false;
	int rc;

	rc = sysctl_nonlocal_bind_get(family, &cur, err, errlen);
	if (rc < 0)
		return rc;
	if (cur == on)
		return 0;
	return sysctl_write_int(nonlocal_path(family), on ? 1 : 0, err, errlen);
}

/* Builds /proc/sys/net/ipv6/conf/IFNAME/KEY into buf after checking the name, which becomes a
 * path component ("eth0.100" is fine here: /proc/sys keeps dots in interface names). */
static int
ipv6_conf_path(char *buf, size_t len, const char *ifname, const char *key, char *err, size_t errlen)
{
	size_t n = ifname != NULL ? strlen(ifname) : 0;

	if (n == 0 || n >= 16 || strchr(ifname, '/') != NULL || strcmp(ifname, ".") == 0 ||
	    strcmp(ifname, "..") == 0)
		return errmsg(err, errlen, -EINVAL, "sysctl: bad interface name");
	snprintf(buf, len, "/proc/sys/net/ipv6/conf/%s/%s", ifname, key);
	return 0;
}

/* Reads a boolean net.ipv6.conf.IFNAME.KEY; when IPv6 is absent altogether, *value = absent. */
static int
ipv6_conf_bool(const char *ifname, const char *key, bool absent, bool *value, char *err,
	       size_t errlen)
{
	char path[96];
	int v = 0, rc;

	rc = ipv6_conf_path(path, sizeof(path), ifname, key, err, errlen);
	if (rc < 0)
		return rc;
	if (access("/proc/sys/net/ipv6", F_OK) != 0) {
		*value = absent;
		return 0;
	}
	rc = sysctl_read_int(path, &v, err, errlen);
	if (rc < 0)
		return rc;
	*value = v != 0;
	return 0;
}

int
sysctl_ipv6_disabled(const char *ifname, bool *disabled, char *err, size_t errlen)
{
	return ipv6_conf_bool(ifname, "disable_ipv6", true, disabled, err, errlen);
}

int
sysctl_ipv6_forwarding(const char *ifname, bool *forwarding, char *err, size_t errlen)
{
	return ipv6_conf_bool(ifname, "forwarding", false, forwarding, err, errlen);
}
