/* The kernel edge of the agent for tests (tests/unit/test_instance.c, fuzz_node_config): netlink,
 * VRRP sockets and ARP replaced by fakes that never touch the host. Interfaces eth0..eth3 exist
 * (eth3 down, eth2 without IPv6), as does lo, and a vmac macvlan gets ifindex 100 + VRID; addresses
 * are "added" and "removed" without effect. What was sent is counted, and a test can hand packets
 * to the next receive (stub_kernel.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arp.h"
#include "netlink.h"
#include "stub_kernel.h"
#include "vmac.h"
#include "vrrp_io.h"

struct stub_kernel stub_kernel;

int
nl_if_resolve(struct nl_ctx *ctx, const char *name, struct nl_iface *out, char *err, size_t errlen)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "lo") != 0 &&
	    (strncmp(name, "eth", 3) != 0 || name[3] < '0' || name[3] > '3' || name[4] != '\0')) {
		snprintf(err, errlen, "%s: no such interface", name);
		return -ENODEV;
	}
	out->ifindex = strcmp(name, "lo") == 0 ? 1 : 2 + name[3] - '0';
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->has_mac = out->ifindex != 1;
	memcpy(out->mac, "\x02\x00\x5e\x00\x01\x02", 6);
	out->oper_up = strcmp(name, "eth3") != 0;
	out->mtu = 1500;
	out->has_ipv4 = true;
	inet_pton(AF_INET, "198.18.0.1", &out->ipv4);
	out->has_ipv6_ll = strcmp(name, "eth2") != 0;
	inet_pton(AF_INET6, "fe80::1", &out->ipv6_ll);
	return 0;
}

int
nl_ifaddr_add(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *p, char *err,
	      size_t errlen)
{
	(void)ctx, (void)ifindex, (void)p, (void)err, (void)errlen;
	stub_kernel.addr_adds++;
	return 0;
}

int
nl_ifaddr_del(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *p, char *err,
	      size_t errlen)
{
	(void)ctx, (void)ifindex, (void)p, (void)err, (void)errlen;
	return 0;
}

int
nl_ifaddr_present(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *set, size_t n,
		  bool *present, char *err, size_t errlen)
{
	(void)ctx, (void)ifindex, (void)set, (void)err, (void)errlen;
	for (size_t i = 0; i < n; i++)
		present[i] = i % 2 == 0; /* pretend a crash left the first one behind */
	return 0;
}

int
vrrp_io_join(int fd, int family, int ifindex)
{
	(void)fd, (void)family, (void)ifindex;
	return 0;
}

int
vrrp_io_send(int fd, int ifindex, const struct addr *src, const uint8_t *msg, size_t len)
{
	(void)fd, (void)ifindex, (void)src, (void)msg, (void)len;
	return 0;
}

int
vrrp_io_send_to(int fd, int ifindex, const struct addr *src, const struct addr *dst,
		const uint8_t *msg, size_t len)
{
	(void)fd, (void)src, (void)msg, (void)len;
	stub_kernel.adverts++;
	stub_kernel.advert_ifindex = ifindex;
	stub_kernel.last_dst = *dst;
	return 0;
}

int
vrrp_io_recv_batch(int fd, int family, struct vrrp_io_batch *b)
{
	int n = stub_kernel.rx_n;

	(void)fd, (void)family;
	for (int i = 0; i < n && i < VRRP_IO_BATCH; i++) {
		b->rx[i] = stub_kernel.rx[i];
		b->usable[i] = true;
	}
	b->has_overflow = false;
	stub_kernel.rx_n = 0; /* given once */
	return n;
}

void
vrrp_io_group(int family, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	inet_pton(family, family == AF_INET ? VRRP_GROUP_V4 : VRRP_GROUP_V6, &out->u);
}

int
arp_send_garp(int fd, int ifindex, const uint8_t mac[6], struct in_addr ip, char *err,
	      size_t errlen)
{
	(void)fd, (void)mac, (void)ip, (void)err, (void)errlen;
	stub_kernel.announcements++;
	stub_kernel.announce_ifindex = ifindex;
	return 0;
}

int
arp_send_na(int fd, int ifindex, const uint8_t mac[6], const struct in6_addr *src,
	    const struct in6_addr *target, bool router, char *err, size_t errlen)
{
	(void)fd, (void)ifindex, (void)mac, (void)src, (void)target, (void)router, (void)err,
	    (void)errlen;
	stub_kernel.announcements++;
	return 0;
}

int
vmac_open(struct nl_ctx *nl, const struct nl_iface *parent, uint8_t vrid, int family,
	  struct vmac *out, char *err, size_t errlen)
{
	(void)nl, (void)parent, (void)err, (void)errlen;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "vrrp.%u", vrid);
	out->ifindex = 100 + vrid;
	memcpy(out->mac, family == AF_INET6 ? "\x00\x00\x5e\x00\x02" : "\x00\x00\x5e\x00\x01", 5);
	out->mac[5] = vrid;
	out->on = true;
	stub_kernel.vmacs++;
	return 0;
}

int
vmac_close(struct nl_ctx *nl, struct vmac *v, char *err, size_t errlen)
{
	(void)nl, (void)err, (void)errlen;
	if (v->on)
		stub_kernel.vmacs--;
	memset(v, 0, sizeof(*v));
	return 0;
}
