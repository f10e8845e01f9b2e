/* The agent's window on the kernel's interfaces and addresses, over rtnetlink (libnl-route-3):
 * resolve an interface, add / remove / look for an address, and an event socket that reports
 * link up/down and address changes to a single-threaded epoll loop. No VRRP logic lives here.
 * Every fallible call returns 0 (or a count) on success and a negative errno on failure, and then
 * writes a one-line message into the caller's buffer (err, errlen; err may be NULL). */
#ifndef VIGIL_NETLINK_H
#define VIGIL_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "addr.h"

#define NL_IFNAMSIZ 16 /* IFNAMSIZ, without pulling in <net/if.h> */

/* What the agent needs to know about one interface. */
struct nl_iface {
	int ifindex;
	char name[NL_IFNAMSIZ];
	uint8_t mac[6];
	bool has_mac;	/* the link has a 6-byte (Ethernet) address; loopback: all zeros */
	unsigned flags; /* IFF_* as the kernel reports them, incl. IFF_LOWER_UP */
	bool oper_up;	/* IFF_UP, IFF_RUNNING and IFF_LOWER_UP all set: usable for VRRP */
	unsigned mtu;
	bool has_ipv4;
	struct in_addr ipv4; /* primary: first IPv4 address without IFA_F_SECONDARY */
	bool has_ipv6_ll;
	struct in6_addr ipv6_ll; /* first fe80::/10 address that is not tentative or dadfailed */
};

struct nl_ctx;	 /* opaque: a synchronous request socket */
struct nl_watch; /* opaque: an event socket for epoll */

/* Opens a request socket. Its calls block only for the kernel's answer, which rtnetlink gives
 * before sendmsg returns, so they never wait on the network. *out is the caller's, closed with
 * nl_ctx_close(). Returns 0 or -errno. */
int nl_ctx_open(struct nl_ctx **out, char *err, size_t errlen);

/* Closes and frees ctx (NULL is fine). */
void nl_ctx_close(struct nl_ctx *ctx);

/* For a sibling module that speaks rtnetlink itself (vmac.c): ctx's libnl socket, borrowed for
 * as long as ctx lives, and a libnl error (-NLE_*) as the negative errno the kernel likely sent. */
struct nl_sock;
struct nl_sock *nl_ctx_sock(struct nl_ctx *ctx);
int nl_errno(int nlerr);

/* Fills *out for the interface called name: ifindex, MAC, flags, primary IPv4 and link-local
 * IPv6. Returns 0, -ENODEV when no such interface exists, or another -errno. */
int nl_if_resolve(struct nl_ctx *ctx, const char *name, struct nl_iface *out, char *err,
		  size_t errlen);

/* Adds p to interface ifindex (scope global; IPv6 with IFA_F_NODAD, usable at once without
 * duplicate address detection). Idempotent: an address already present is success.
 * Returns 0 or -errno (-ENODEV: no such interface; -EACCES: IPv6 disabled on it). */
int nl_ifaddr_add(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *p, char *err,
		  size_t errlen);

/* Removes p (address and prefix length must match, as for `ip addr del`) from ifindex.
 * Idempotent: an absent address is success. Returns 0 or -errno. */
int nl_ifaddr_del(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *p, char *err,
		  size_t errlen);

/* For each of the n prefixes in set, stores in present[i] whether that address with that prefix
 * length is on interface ifindex now (one address dump). Returns 0 or -errno. */
int nl_ifaddr_present(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *set, size_t n,
		      bool *present, char *err, size_t errlen);

enum nl_event_kind {
	NL_EV_LINK = 1, /* an interface appeared, went up or down, or was deleted */
	NL_EV_ADDR_NEW, /* an address was added (by anyone, ourselves included) */
	NL_EV_ADDR_DEL, /* an address was removed */
	NL_EV_RESYNC,	/* events were lost (socket overrun); links were re-read and their changes
			 * reported, but address events may be missing: re-check what matters */
};

/* One event, borrowed by the callback for the duration of the call. */
struct nl_event {
	enum nl_event_kind kind;
	int ifindex;		 /* 0 for NL_EV_RESYNC */
	char name[NL_IFNAMSIZ];	 /* NL_EV_LINK: interface name ("" when the kernel omits it) */
	bool up;		 /* NL_EV_LINK: oper_up as in struct nl_iface, after the change */
	bool gone;		 /* NL_EV_LINK: the interface was deleted (up is false) */
	unsigned flags;		 /* NL_EV_LINK: IFF_* after the change */
	struct addr_prefix addr; /* NL_EV_ADDR_*: the address */
};

typedef void (*nl_event_fn)(const struct nl_event *ev, void *arg);

/* Opens an event socket subscribed to RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR,
 * non-blocking, and reads the current link states (no callback for those). Open the watch before
 * nl_if_resolve() so no change falls between the two. fn(ev, arg) is called from
 * nl_watch_process() only. *out is the caller's, closed with nl_watch_close(). 0 or -errno. */
int nl_watch_open(struct nl_watch **out, nl_event_fn fn, void *arg, char *err, size_t errlen);

/* The fd to register for EPOLLIN (level-triggered). Owned by the watch. */
int nl_watch_fd(const struct nl_watch *w);

/* Reads what is pending without blocking and calls fn (which must not close the watch) for: each
 * interface first seen, each change of its up state, each deletion (NL_EV_LINK; a flag change that
 * leaves up as it was is not reported), each address added or removed, and NL_EV_RESYNC after an
 * overrun. Returns the number of events delivered (>= 0) or -errno. Reads a bounded batch: data may
 * remain, and a level-triggered epoll reports the fd again. */
int nl_watch_process(struct nl_watch *w, char *err, size_t errlen);

/* Closes and frees w (NULL is fine). */
void nl_watch_close(struct nl_watch *w);

#endif
