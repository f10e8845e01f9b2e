/* Kernel settings the agent reads or ensures, through /proc/sys. Every value here is per network
 * namespace: the agent sees and changes the ones of the namespace it runs in. Calls return 0 or a
 * negative errno and then write a message into the caller's buffer (err may be NULL). */
#ifndef VIGIL_SYSCTL_H
#define VIGIL_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

/* Reads the integer in /proc/sys file path (e.g. "/proc/sys/net/ipv4/ip_nonlocal_bind") into
 * *value. Returns 0, -ENOENT when the setting does not exist, -EINVAL when not an integer. */
int sysctl_read_int(const char *path, int *value, char *err, size_t errlen);

/* Writes value to /proc/sys file path. Returns 0 or -errno (-EACCES/-EPERM without privilege). */
int sysctl_write_int(const char *path, int value, char *err, size_t errlen);

/* net.ipv4.ip_nonlocal_bind (family AF_INET) or net.ipv6.ip_nonlocal_bind (AF_INET6): whether a
 * process may bind an address the host does not hold (HAProxy on a backup binding the VIP). */
int sysctl_nonlocal_bind_get(int family, bool *on, char *err, size_t errlen);

/* Sets it to on (1) or off (0); writes only when it differs. Returns 0 or -errno. */
int sysctl_nonlocal_bind_set(int family, bool on, char *err, size_t errlen);

/* net.ipv6.conf.IFNAME.disable_ipv6: *disabled true when IPv6 is off on the interface, or off
 * altogether (no /proc/sys/net/ipv6: the ipv6 module absent or disabled). Returns 0 or -errno
 * (-EINVAL: bad interface name; -ENOENT: no such interface). */
int sysctl_ipv6_disabled(const char *ifname, bool *disabled, char *err, size_t errlen);

/* net.ipv6.conf.IFNAME.forwarding: whether the interface forwards IPv6, i.e. is a router (the
 * Router flag of neighbour advertisements, RFC 4861 7.2.6). Returns 0 or -errno. */
int sysctl_ipv6_forwarding(const char *ifname, bool *forwarding, char *err, size_t errlen);

#endif
