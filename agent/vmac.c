/* The macvlan of a VRRP instance with vmac (see vmac.h), over the agent's rtnetlink socket
 * (netlink.c) and /proc/sys (sysctl.c). Create, configure while down, then up: the settings that
 * keep a backup silent must hold before the interface can send anything. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>

#include "errmsg.h"
#include "sysctl.h"
#include "vmac.h"

void
vmac_address(int family, uint8_t vrid, uint8_t mac[6])
{
	/* RFC 5798 7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6 */
	mac[0] = 0x00, mac[1] = 0x00, mac[2] = 0x5e, mac[3] = 0x00;
	mac[4] = family == AF_INET6 ? 0x02 : 0x01;
	mac[5] = vrid;
}

void
vmac_name(uint8_t vrid, unsigned n, char *buf, size_t len)
{
	if (n == 0)
		snprintf(buf, len, "vrrp.%u", vrid);
	else
		snprintf(buf, len, "vrrp.%u.%u", vrid, n);
}

/* What a name holds now. */
enum slot {
	SLOT_FREE,    /* no such interface */
	SLOT_OURS,    /* our macvlan: on parent, with the virtual MAC, private */
	SLOT_REPLACE, /* our parent and MAC, but not a private macvlan: delete and create */
	SLOT_TAKEN,   /* something else: try the next name */
};

static enum slot
probe(struct nl_sock *sk, const char *name, int parent, const uint8_t mac[6])
{
	struct rtnl_link *link = NULL;
	struct nl_addr *ll;
	enum slot s;

	if (rtnl_link_get_kernel(sk, 0, name, &link) < 0)
		return SLOT_FREE; /* absent, or unreadable: creating it will say which */
	ll = rtnl_link_get_addr(link);
	if (rtnl_link_get_link(link) != parent || ll == NULL || nl_addr_get_len(ll) != 6 ||
	    memcmp(nl_addr_get_binary_addr(ll), mac, 6) != 0)
		s = SLOT_TAKEN;
	else if (rtnl_link_is_macvlan(link) &&
		 rtnl_link_macvlan_get_mode(link) == MACVLAN_MODE_PRIVATE)
		s = SLOT_OURS;
	else
		s = SLOT_REPLACE;
	rtnl_link_put(link);
	return s;
}

static int
delete_link(struct nl_sock *sk, const char *name, char *err, size_t errlen)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int rc;

	if (link == NULL)
		return errmsg(err, errlen, -ENOMEM, "vmac: out of memory");
	rtnl_link_set_name(link, name);
	rc = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	if (rc >= 0 || nl_errno(rc) == -ENODEV || nl_errno(rc) == -ENOENT)
		return 0;
	return errmsg(err, errlen, nl_errno(rc), "vmac: delete %s: %s", name, nl_geterror(rc));
}

/* Creates name as a private macvlan on parent with mac, down. */
static int
create_link(struct nl_sock *sk, const char *name, int parent, const uint8_t mac[6], char *err,
	    size_t errlen)
{
	struct rtnl_link *link = rtnl_link_macvlan_alloc();
	struct nl_addr *ll = nl_addr_build(AF_LLC, mac, 6);
	int rc = -NLE_NOMEM;

	if (link == NULL || ll == NULL)
		goto out;
	rtnl_link_set_name(link, name);
	rtnl_link_set_link(link, parent);
	rtnl_link_set_addr(link, ll);
	if ((rc = rtnl_link_macvlan_set_mode(link, MACVLAN_MODE_PRIVATE)) < 0)
		goto out;
	rc = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (ll != NULL)
		nl_addr_put(ll);
	if (link != NULL)
		rtnl_link_put(link);
	if (rc < 0)
		return errmsg(err, errlen, nl_errno(rc), "vmac: create %s: %s", name,
			      nl_geterror(rc));
	return 0;
}

/* Sets IFF_UP on name and reads its ifindex into *ifindex. */
static int
bring_up(struct nl_sock *sk, const char *name, int *ifindex, char *err, size_t errlen)
{
	struct rtnl_link *link = NULL, *change = NULL;
	int rc;

	if ((rc = rtnl_link_get_kernel(sk, 0, name, &link)) < 0)
		goto out;
	if ((change = rtnl_link_alloc()) == NULL) {
		rc = -NLE_NOMEM;
		goto out;
	}
	rtnl_link_set_flags(change, IFF_UP);
	if ((rc = rtnl_link_change(sk, link, change, 0)) >= 0)
		*ifindex = rtnl_link_get_ifindex(link);
out:
	if (change != NULL)
		rtnl_link_put(change);
	if (link != NULL)
		rtnl_link_put(link);
	if (rc < 0)
		return errmsg(err, errlen, nl_errno(rc), "vmac: bring %s up: %s", name,
			      nl_geterror(rc));
	return 0;
}

/* Writes net.IPV.conf.IFNAME.KEY = value. */
static int
conf_set(const char *ipv, const char *ifname, const char *key, int value, char *err, size_t errlen)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", ipv, ifname, key);
	return sysctl_write_int(path, value, err, errlen);
}

/* The settings of vmac.h, made while the macvlan is down. */
static int
configure(const char *name, const struct nl_iface *parent, int family, char *err, size_t errlen)
{
	int rc;

	if ((rc = conf_set("ipv4", name, "arp_ignore", 1, err, errlen)) < 0 ||
	    (rc = conf_set("ipv4", name, "accept_local", 1, err, errlen)) < 0 ||
	    (rc = conf_set("ipv4", name, "rp_filter", 0, err, errlen)) < 0 ||
	    (rc = conf_set("ipv4", parent->name, "arp_ignore", 1, err, errlen)) < 0 ||
	    (rc = conf_set("ipv4", parent->name, "arp_filter", 1, err, errlen)) < 0 ||
	    (rc = conf_set("ipv4", parent->name, "arp_announce", 2, err, errlen)) < 0)
		return rc;
	if (family == AF_INET6) /* no address of its own: it gets the parent's link-local */
		rc = conf_set("ipv6", name, "addr_gen_mode", 1, err, errlen);
	else
		rc = conf_set("ipv6", name, "disable_ipv6", 1, err, errlen);
	return rc == -ENOENT && family == AF_INET ? 0 : rc; /* IPv6 absent: nothing to silence */
}

int
vmac_open(struct nl_ctx *nl, const struct nl_iface *parent, uint8_t vrid, int family,
	  struct vmac *out, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_ctx_sock(nl);
	enum slot s = SLOT_TAKEN;
	unsigned n;
	int rc;

	memset(out, 0, sizeof(*out));
	vmac_address(family, vrid, out->mac);
	for (n = 0; n < VMAC_NAMES && s == SLOT_TAKEN; n++) {
		vmac_name(vrid, n, out->name, sizeof(out->name));
		s = probe(sk, out->name, parent->ifindex, out->mac);
	}
	if (s == SLOT_TAKEN)
		return errmsg(err, errlen, -EEXIST, "vmac: vrrp.%u to vrrp.%u.%u are all taken",
			      vrid, vrid, VMAC_NAMES - 1);
	if (s == SLOT_REPLACE && (rc = delete_link(sk, out->name, err, errlen)) < 0)
		return rc;
	if (s != SLOT_OURS &&
	    (rc = create_link(sk, out->name, parent->ifindex, out->mac, err, errlen)) < 0)
		return rc;
	if ((rc = configure(out->name, parent, family, err, errlen)) < 0 ||
	    (rc = bring_up(sk, out->name, &out->ifindex, err, errlen)) < 0)
		goto fail;
	if (family == AF_INET6 && parent->has_ipv6_ll) {
		struct addr_prefix ll = {.addr = {.family = AF_INET6}, .prefix_len = 64};
		ll.addr.u.v6 = parent->ipv6_ll;
		if ((rc = nl_ifaddr_add(nl, out->ifindex, &ll, err, errlen)) < 0)
			goto fail;
	}
	out->on = true;
	return 0;
fail:
	delete_link(sk, out->name, NULL, 0);
	return rc;
}

int
vmac_close(struct nl_ctx *nl, struct vmac *v, char *err, size_t errlen)
{
	int rc = 0;

	if (v->on)
		rc = delete_link(nl_ctx_sock(nl), v->name, err, errlen);
	memset(v, 0, sizeof(*v));
	return rc;
}
