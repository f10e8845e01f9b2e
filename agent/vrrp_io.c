/* Raw sockets for VRRP. IPv4 raw sockets deliver the IP header (we read TTL, source and
 * destination from it); IPv6 ones do not, so hop limit and destination come from ancillary data.
 * Sending sets the interface and source per packet with IP_PKTINFO / IPV6_PKTINFO, so that the
 * source is the interface's primary address (RFC 5798 5.1.1.1), or a unicast instance's source,
 * and matches the checksum. The TTL / hop limit of 255 holds for unicast too (socket options).
 * Receiving takes a bounded batch per call (recvmmsg), so a flood cannot hold the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vrrp_io.h"

#define VRRP_IO_RCVBUF (1 << 20) /* bytes: a few thousand small packets */

void
vrrp_io_group(int family, struct addr *out)
{
	addr_parse(family == AF_INET ? VRRP_GROUP_V4 : VRRP_GROUP_V6, out);
}

int
vrrp_io_open(int family, char *err, size_t errlen)
{
	int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, VRRP_PROTO);
	int ttl = VRRP_TTL, off = 0, on = 1;

	if (fd < 0) {
		snprintf(err, errlen, "raw socket: %s", strerror(errno));
		return -errno;
	}
	int rc, rcvbuf = VRRP_IO_RCVBUF;
	/* Room for a burst while the loop is busy (bad packets from the LAN, a slow wake-up): a
	 * queue that overflows drops good adverts too. FORCE needs CAP_NET_ADMIN, held at start. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* The kernel's count of packets dropped on a full queue, with every datagram. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)) != 0)
		rc = -1;
	else if (family == AF_INET)
		rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
		     setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) ||
		     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof(off)) ||
		     setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	else
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof(ttl)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof(off)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
	if (rc != 0) {
		int e = errno;
		snprintf(err, errlen, "socket options: %s", strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int
membership(int fd, int family, int ifindex, bool join)
{
	struct addr g;

	vrrp_io_group(family, &g);
	if (family == AF_INET) {
		struct ip_mreqn m = {.imr_multiaddr = g.u.v4, .imr_ifindex = ifindex};
		if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m,
			       sizeof(m)) == 0)
			return 0;
	} else {
		struct ipv6_mreq m = {.ipv6mr_multiaddr = g.u.v6,
				      .ipv6mr_interface = (unsigned)ifindex};
		if (setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP,
			       &m, sizeof(m)) == 0)
			return 0;
	}
	if ((join && errno == EADDRINUSE) || (!join && errno == EADDRNOTAVAIL))
		return 0;
	return -errno;
}

int
vrrp_io_join(int fd, int family, int ifindex)
{
	return membership(fd, family, ifindex, true);
}

int
vrrp_io_leave(int fd, int family, int ifindex)
{
	return membership(fd, family, ifindex, false);
}

int
vrrp_io_send(int fd, int ifindex, const struct addr *src, const uint8_t *msg, size_t len)
{
	struct addr g;

	vrrp_io_group(src->family, &g);
	return vrrp_io_send_to(fd, ifindex, src, &g, msg, len);
}

int
vrrp_io_send_to(int fd, int ifindex, const struct addr *src, const struct addr *dst,
		const uint8_t *msg, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} ctl;
	struct sockaddr_storage to = {0};
	struct iovec iov = {(void *)msg, len};
	struct msghdr mh = {
	    .msg_name = &to, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf};
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = (struct cmsghdr *)ctl.buf;
	if (src->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;
		struct in_pktinfo pi = {.ipi_ifindex = ifindex, .ipi_spec_dst = src->u.v4};
		sin->sin_family = AF_INET;
		sin->sin_addr = dst->u.v4;
		mh.msg_namelen = sizeof(*sin);
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
		struct in6_pktinfo pi = {.ipi6_addr = src->u.v6, .ipi6_ifindex = (unsigned)ifindex};
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = dst->u.v6;
		sin6->sin6_scope_id = (uint32_t)ifindex;
		mh.msg_namelen = sizeof(*sin6);
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT) == (ssize_t)len ? 0 : -errno;
}

/* Fills rx from one received message mh of n bytes in buf. Returns false when it is not a
 * usable datagram (too short for its IPv4 header). Notes the kernel's drop counter in b. */
static bool
parse_one(int family, struct msghdr *mh, size_t n, uint8_t *buf, struct vrrp_rx *rx,
	  struct vrrp_io_batch *b)
{
	memset(rx, 0, sizeof(*rx));
	rx->meta.family = family;
	rx->meta.ttl = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			rx->ifindex = pi.ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			rx->ifindex = (int)pi.ipi6_ifindex;
			rx->meta.dst.family = AF_INET6;
			rx->meta.dst.u.v6 = pi.ipi6_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT) {
			int hl;
			memcpy(&hl, CMSG_DATA(cm), sizeof(hl));
			rx->meta.ttl = hl;
		} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&b->overflow, CMSG_DATA(cm), sizeof(b->overflow));
			b->has_overflow = true;
		}
	}
	if (family == AF_INET) {
		struct iphdr ip;
		size_t hl;
		if (n < sizeof(ip))
			return false;
		memcpy(&ip, buf, sizeof(ip));
		hl = (size_t)ip.ihl * 4;
		if (hl < sizeof(ip) || hl > n)
			return false;
		rx->meta.ttl = ip.ttl;
		rx->meta.src.family = rx->meta.dst.family = AF_INET;
		rx->meta.src.u.v4.s_addr = ip.saddr;
		rx->meta.dst.u.v4.s_addr = ip.daddr;
		rx->payload = buf + hl;
		rx->len = n - hl;
	} else {
		struct sockaddr_in6 *sin6 = mh->msg_name;
		rx->meta.src.family = AF_INET6;
		rx->meta.src.u.v6 = sin6->sin6_addr;
		rx->payload = buf;
		rx->len = n;
	}
	return true;
}

int
vrrp_io_recv_batch(int fd, int family, struct vrrp_io_batch *b)
{
	int n;

	for (int i = 0; i < VRRP_IO_BATCH; i++) {
		struct msghdr *mh = &b->msgs[i].msg_hdr;
		b->iov[i] = (struct iovec){b->data[i], sizeof(b->data[i])};
		*mh = (struct msghdr){.msg_name = &b->from[i],
				      .msg_namelen = sizeof(b->from[i]),
				      .msg_iov = &b->iov[i],
				      .msg_iovlen = 1,
				      .msg_control = b->ctl[i].buf,
				      .msg_controllen = sizeof(b->ctl[i].buf)};
		b->msgs[i].msg_len = 0;
	}
	b->has_overflow = false;
	n = recvmmsg(fd, b->msgs, VRRP_IO_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (int i = 0; i < n; i++)
		b->usable[i] = parse_one(family, &b->msgs[i].msg_hdr, b->msgs[i].msg_len,
					 b->data[i], &b->rx[i], b);
	return n;
}
