/* Capability sets of the agent (see caps.h). The kernel interface is capget(2)/capset(2) with
 * the 64-bit layout of _LINUX_CAPABILITY_VERSION_3 (two 32-bit words per set) and prctl(2) for
 * the bounding and ambient sets and no_new_privs. */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "errmsg.h"

#define BIT(cap) ((caps_mask)1 << (cap))
#define CAPS_MAX 64 /* capability numbers this code can represent */

static const char *const cap_names[] = {
    [CAP_CHOWN] = "cap_chown",
    [CAP_DAC_OVERRIDE] = "cap_dac_override",
    [CAP_DAC_READ_SEARCH] = "cap_dac_read_search",
    [CAP_FOWNER] = "cap_fowner",
    [CAP_FSETID] = "cap_fsetid",
    [CAP_KILL] = "cap_kill",
    [CAP_SETGID] = "cap_setgid",
    [CAP_SETUID] = "cap_setuid",
    [CAP_SETPCAP] = "cap_setpcap",
    [CAP_LINUX_IMMUTABLE] = "cap_linux_immutable",
    [CAP_NET_BIND_SERVICE] = "cap_net_bind_service",
    [CAP_NET_BROADCAST] = "cap_net_broadcast",
    [CAP_NET_ADMIN] = "cap_net_admin",
    [CAP_NET_RAW] = "cap_net_raw",
    [CAP_IPC_LOCK] = "cap_ipc_lock",
    [CAP_IPC_OWNER] = "cap_ipc_owner",
    [CAP_SYS_MODULE] = "cap_sys_module",
    [CAP_SYS_RAWIO] = "cap_sys_rawio",
    [CAP_SYS_CHROOT] = "cap_sys_chroot",
    [CAP_SYS_PTRACE] = "cap_sys_ptrace",
    [CAP_SYS_PACCT] = "cap_sys_pacct",
    [CAP_SYS_ADMIN] = "cap_sys_admin",
    [CAP_SYS_BOOT] = "cap_sys_boot",
    [CAP_SYS_NICE] = "cap_sys_nice",
    [CAP_SYS_RESOURCE] = "cap_sys_resource",
    [CAP_SYS_TIME] = "cap_sys_time",
    [CAP_SYS_TTY_CONFIG] = "cap_sys_tty_config",
    [CAP_MKNOD] = "cap_mknod",
    [CAP_LEASE] = "cap_lease",
    [CAP_AUDIT_WRITE] = "cap_audit_write",
    [CAP_AUDIT_CONTROL] = "cap_audit_control",
    [CAP_SETFCAP] = "cap_setfcap",
    [CAP_MAC_OVERRIDE] = "cap_mac_override",
    [CAP_MAC_ADMIN] = "cap_mac_admin",
    [CAP_SYSLOG] = "cap_syslog",
    [CAP_WAKE_ALARM] = "cap_wake_alarm",
    [CAP_BLOCK_SUSPEND] = "cap_block_suspend",
    [CAP_AUDIT_READ] = "cap_audit_read",
};

caps_mask
caps_needed(bool script_checks)
{
	caps_mask m = BIT(CAP_NET_ADMIN) | BIT(CAP_NET_RAW);

	if (script_checks)
		m |= BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_KILL);
	return m;
}

const char *
caps_name(int cap)
{
	if (cap < 0 || (size_t)cap >= sizeof(cap_names) / sizeof(cap_names[0]))
		return NULL;
	return cap_names[cap];
}

char *
caps_format(caps_mask mask, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (int c = 0; c < CAPS_MAX; c++) {
		char num[16];
		const char *name = caps_name(c);
		int n;

		if (!(mask & BIT(c)))
			continue;
		if (name == NULL) {
			snprintf(num, sizeof(num), "cap_%d", c);
			name = num;
		}
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", name);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* whole names only */
			break;
		}
		used += (size_t)n;
	}
	return buf;
}

int
caps_get(caps_mask *effective, caps_mask *permitted)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0)
		return -errno;
	if (effective)
		*effective = (caps_mask)d[0].effective | (caps_mask)d[1].effective << 32;
	if (permitted)
		*permitted = (caps_mask)d[0].permitted | (caps_mask)d[1].permitted << 32;
	return 0;
}

/* Drops from the bounding set every capability the kernel knows that keep lacks. */
static int
drop_bounding(caps_mask keep, char *err, size_t errlen)
{
	for (int c = 0; c < CAPS_MAX; c++) {
		int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (in < 0)
			break; /* past the kernel's last capability */
		if (in == 0 || (keep & BIT(c)))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
			return errmsg(err, errlen, -errno, "drop %s from the bounding set: %s",
				      caps_name(c) ? caps_name(c) : "?", strerror(errno));
	}
	return 0;
}

int
caps_drop(caps_mask keep, bool no_new_privs, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	caps_mask permitted = 0;
	int rc;

	if ((rc = caps_get(NULL, &permitted)) != 0)
		return errmsg(err, errlen, rc, "capget: %s", strerror(-rc));
	keep &= permitted; /* a set can only shrink */
	/* Without CAP_SETPCAP (an unprivileged agent given its capabilities by a service manager)
	 * the bounding set cannot shrink; the process's own sets still do. */
	if ((permitted & BIT(CAP_SETPCAP)) && (rc = drop_bounding(keep, err, errlen)) != 0)
		return rc;
	/* Ambient capabilities would survive an execve by a non-root child; none are wanted. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
		return errmsg(err, errlen, -errno, "clear the ambient set: %s", strerror(errno));
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = (__u32)keep;
	d[1].effective = d[1].permitted = (__u32)(keep >> 32);
	if (syscall(SYS_capset, &h, d) != 0)
		return errmsg(err, errlen, -errno, "capset: %s", strerror(errno));
	if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return errmsg(err, errlen, -errno, "no_new_privs: %s", strerror(errno));
	return 0;
}
