/* The kernel handles the VRRP instances use (instance.h's struct inst_io): a netlink route
 * socket, the VRRP raw sockets (IPv4 required, IPv6 when the host has it) and the packet socket
 * for gratuitous ARP and unsolicited NA. Opening them needs CAP_NET_RAW and CAP_NET_ADMIN. */
#ifndef VIGIL_KERNEL_H
#define VIGIL_KERNEL_H

#include <stddef.h>

#include "instance.h"

/* Opens them into io (io->loop is left alone). Returns 0, or -1 with the reason in err; what
 * was opened is closed by kernel_close() either way. */
int kernel_open(struct inst_io *io, char *err, size_t errlen);

/* Closes what kernel_open() opened; io's handles are -1 / NULL afterwards. */
void kernel_close(struct inst_io *io);

#endif
