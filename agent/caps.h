/* Least privilege for the agent: after start-up (raw sockets open, netlink handles open, token
 * read) it keeps only the capabilities its running life needs, in its effective, permitted and
 * bounding sets, with nothing inheritable or ambient. Raw capget/capset/prctl: no libcap. */
#ifndef VIGIL_CAPS_H
#define VIGIL_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capability bits, one per capability number (CAP_NET_ADMIN is 1 << 12). */
typedef uint64_t caps_mask;

/* What the running agent needs (pure). Always CAP_NET_ADMIN (VIP add/remove over netlink) and
 * CAP_NET_RAW (the raw VRRP and ARP sockets: opened before the drop, and no call on an open one
 * checks it, but those sockets already carry its power, an AF_PACKET socket can be rebound to
 * every protocol without it, so dropping it would buy nothing). With script checks: CAP_SETGID
 * and CAP_SETUID (the forked child's setgroups/setgid/setuid to --script-user) and CAP_KILL
 * (SIGKILL to a timed-out script's process group, which runs as another uid). Nothing else:
 * /proc/sys/net files are writable by euid 0 through their own mode (no CAP_DAC_OVERRIDE or
 * CAP_SYS_ADMIN), and the agent's state files are its own. */
caps_mask caps_needed(bool script_checks);

/* Writes the names of the bits in mask into buf, lower-case and comma-separated, in capability
 * order ("cap_net_admin,cap_net_raw"); "" for none. Unknown numbers as "cap_N". Returns buf. */
char *caps_format(caps_mask mask, char *buf, size_t len);

/* The name of capability number cap ("cap_net_raw"), or NULL when it has none here. */
const char *caps_name(int cap);

/* Reads this process's effective and permitted sets (either pointer may be NULL). 0 or -errno. */
int caps_get(caps_mask *effective, caps_mask *permitted);

/* Drops every capability not in keep: from the bounding set (PR_CAPBSET_DROP, while CAP_SETPCAP
 * is still held; skipped without it), the ambient set, the inheritable set (emptied), then
 * permitted and effective (set to keep & what is permitted now). With no_new_privs,
 * PR_SET_NO_NEW_PRIVS too (inherited by children: set-user-ID and file capabilities stop working in
 * what they execute). Returns 0 or -errno with a message in err. Leaves uids alone. */
int caps_drop(caps_mask keep, bool no_new_privs, char *err, size_t errlen);

#endif
