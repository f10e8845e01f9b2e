/* Unicast VRRP (RFC 5798 allows it; keepalived's unicast_src_ip / unicast_peer): an instance
 * that sends each advertisement to every peer address instead of the group, from a given source,
 * and accepts advertisements only from those peers. This module decides what is accepted
 * (node_config.c reads the settings); instance.c sends, vrrp_io.c does the I/O. */
#ifndef VIGIL_VRRP_UNICAST_H
#define VIGIL_VRRP_UNICAST_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

#define VRRP_UNICAST_MAX_PEERS 64 /* 31 other members + 32 external peers fit */

struct vrrp_unicast {
	bool on;	 /* false: multicast to the group, any source accepted */
	struct addr src; /* on: the advertisements' source (this node's address) */
	unsigned npeers; /* on: 0..VRRP_UNICAST_MAX_PEERS */
	struct addr peers[VRRP_UNICAST_MAX_PEERS]; /* destinations and the only accepted sources */
};

/* Does an instance with settings u take an advertisement from IP source src? Multicast: any;
 * unicast: only one of its peers (RFC 5798 7.1 lets a router drop what it does not expect). */
bool vrrp_unicast_accepts(const struct vrrp_unicast *u, const struct addr *src);

/* Same settings (on, source and the peers in order)? */
bool vrrp_unicast_equal(const struct vrrp_unicast *a, const struct vrrp_unicast *b);

#endif
