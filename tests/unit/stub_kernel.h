/* What the fake kernel of tests/unit/stub_kernel.c saw, and packets for its next receive. */
#ifndef VIGIL_STUB_KERNEL_H
#define VIGIL_STUB_KERNEL_H

#include "vrrp_io.h"

struct stub_kernel {
	unsigned addr_adds;	  /* nl_ifaddr_add calls */
	unsigned adverts;	  /* vrrp_io_send_to calls */
	struct addr last_dst;	  /* of the latest one */
	unsigned announcements;	  /* arp_send_garp and arp_send_na calls */
	int advert_ifindex;	  /* out of which the latest advert left */
	int announce_ifindex;	  /* and the latest announcement */
	unsigned vmacs;		  /* macvlans open now (vmac_open less vmac_close) */
	const struct vrrp_rx *rx; /* handed to the next vrrp_io_recv_batch (rx_n of them), once */
	int rx_n;
};

extern struct stub_kernel stub_kernel;

#endif
