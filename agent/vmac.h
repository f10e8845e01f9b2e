/* The RFC 5798 virtual MAC of a VRRP instance (keepalived's use_vmac): a macvlan in private mode
 * on the VIP's interface whose address is 00:00:5E:00:01:VRID (IPv6 00:00:5E:00:02:VRID), which
 * holds the VIP while Master and sends its advertisements and announcements. This module owns the
 * macvlan's life (create or reuse, settings, delete); the instance only picks which interface it
 * uses. Calls return 0 or a negative errno and then write a message into err (may be NULL). */
#ifndef VIGIL_VMAC_H
#define VIGIL_VMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink.h"

/* Names tried in order: "vrrp.VRID" (keepalived's), then "vrrp.VRID.1" .. "vrrp.VRID.9", for the
 * same VRID on another interface or in the other family (a macvlan is one interface per host). */
#define VMAC_NAMES 10

/* One instance's macvlan. */
struct vmac {
	bool on;		/* the macvlan exists and the instance uses it */
	char name[NL_IFNAMSIZ]; /* e.g. "vrrp.51" */
	int ifindex;
	uint8_t mac[6];
};

/* RFC 5798 7.3: the virtual router MAC of vrid for family (AF_INET or AF_INET6) into mac. */
void vmac_address(int family, uint8_t vrid, uint8_t mac[6]);

/* The n-th candidate name (0 .. VMAC_NAMES - 1) of vrid into buf (NL_IFNAMSIZ bytes). */
void vmac_name(uint8_t vrid, unsigned n, char *buf, size_t len);

/* Makes sure the macvlan of (parent, vrid, family) exists and is up, and fills *out. The first
 * candidate name that is free or already names a macvlan on parent with this virtual MAC is used:
 * a leftover of a crash is reused (replaced when its mode is not private). Sets the macvlan's
 * arp_ignore 1, accept_local 1, rp_filter 0 (it answers ARP only for what it holds, and receives
 * though the route to a sender is the parent) and the parent's arp_ignore 1, arp_filter 1 (the
 * parent never answers for the VIP with its own MAC) and arp_announce 2 (beyond keepalived: the
 * parent's own ARP requests, e.g. for a client the VIP answers through it, carry the parent's
 * address, not the VIP, which would repoint the client's entry for the VIP at the parent's MAC);
 * IPv4 turns IPv6 off on the macvlan (a backup must send nothing from the virtual MAC); IPv6 gives
 * it the parent's link-local address (the advertisements' source) instead of one of its own.
 * Returns 0 or -errno. */
int vmac_open(struct nl_ctx *nl, const struct nl_iface *parent, uint8_t vrid, int family,
	      struct vmac *out, char *err, size_t errlen);

/* Deletes v's macvlan (its addresses go with it) and clears v. An absent one is success. The
 * parent's ARP settings stay: another instance's macvlan may share the parent. Returns 0 or
 * -errno. */
int vmac_close(struct nl_ctx *nl, struct vmac *v, char *err, size_t errlen);

#endif
