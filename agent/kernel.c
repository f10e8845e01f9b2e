/* The kernel handles of the VRRP instances (kernel.h). */
#include <stdio.h>
#include <unistd.h>

#include "arp.h"
#include "kernel.h"

int
kernel_open(struct inst_io *io, char *err, size_t errlen)
{
	char why[160];

	io->nl = NULL;
	io->sock4 = io->sock6 = io->arp_fd = -1;
	if (nl_ctx_open(&io->nl, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "netlink: %s", why);
		return -1;
	}
	if ((io->sock4 = vrrp_io_open(AF_INET, why, sizeof(why))) < 0 ||
	    (io->arp_fd = arp_open(why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s (the agent needs CAP_NET_RAW)", why);
		return -1;
	}
	io->sock6 = vrrp_io_open(AF_INET6, why, sizeof(why)); /* -1: no IPv6 VIPs on this host */
	return 0;
}

void
kernel_close(struct inst_io *io)
{
	if (io->nl)
		nl_ctx_close(io->nl);
	if (io->sock4 >= 0)
		close(io->sock4);
	if (io->sock6 >= 0)
		close(io->sock6);
	if (io->arp_fd >= 0)
		close(io->arp_fd);
	io->nl = NULL;
	io->sock4 = io->sock6 = io->arp_fd = -1;
}
