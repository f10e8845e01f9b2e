/* rtnetlink for the agent through libnl-route-3 (see netlink.h): a blocking request socket for
 * resolve / add / remove / list, and a non-blocking subscriber that remembers the last up state
 * of every interface, so that it reports changes rather than messages, and that re-reads the links
 * when the kernel had to drop events (ENOBUFS). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "errmsg.h"
#include "netlink.h"

#define WATCH_RCVBUF (1 << 20) /* asked for; the kernel caps it at net.core.rmem_max */
#define WATCH_BATCH 64	       /* datagrams read per nl_watch_process() call */

struct nl_ctx {
	struct nl_sock *sk;
};

struct link_state {
	int ifindex;
	bool up;
	bool seen; /* marked during a resync dump */
};

struct nl_watch {
	struct nl_sock *sk;   /* subscriber, non-blocking */
	struct nl_sock *sync; /* request socket for the initial and resync link dumps */
	struct nl_cb *cb;     /* borrowed from sk */
	nl_event_fn fn;
	void *arg;
	struct link_state *links;
	size_t n_links, cap_links;
	int msg_type;  /* nlmsg_type of the message being parsed */
	bool quiet;    /* initial dump: record states, report nothing */
	int delivered; /* events reported by the current nl_watch_process() */
	int oom;       /* set when the link table could not grow */
};

/* Maps a libnl error (-NLE_*) back to the negative errno the kernel most likely sent. libnl folds
 * several errno values into one code (ENOBUFS and ENOMEM are both NLE_NOMEM). */
int
nl_errno(int nlerr)
{
	static const int map[][2] = {
	    {NLE_INTR, EINTR},		 {NLE_BAD_SOCK, EBADF},
	    {NLE_AGAIN, EAGAIN},	 {NLE_NOMEM, ENOMEM},
	    {NLE_EXIST, EEXIST},	 {NLE_INVAL, EINVAL},
	    {NLE_RANGE, ERANGE},	 {NLE_MSGSIZE, EMSGSIZE},
	    {NLE_OPNOTSUPP, EOPNOTSUPP}, {NLE_AF_NOSUPPORT, EAFNOSUPPORT},
	    {NLE_OBJ_NOTFOUND, ENOENT},	 {NLE_NOADDR, EADDRNOTAVAIL},
	    {NLE_BUSY, EBUSY},		 {NLE_PROTO_MISMATCH, EPROTONOSUPPORT},
	    {NLE_NOACCESS, EACCES},	 {NLE_PERM, EPERM},
	    {NLE_NODEV, ENODEV},
	};
	int code = nlerr < 0 ? -nlerr : nlerr;
	size_t i;

	if (code == 0)
		return 0;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i][0] == code)
			return -map[i][1];
	return -EIO;
}

static size_t
family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Copies an rtnl_addr's local address and prefix length into *out. false when it has none. */
static bool
prefix_from_rtnl(struct rtnl_addr *ra, struct addr_prefix *out)
{
	struct nl_addr *local = rtnl_addr_get_local(ra);
	int family = rtnl_addr_get_family(ra);

	memset(out, 0, sizeof(*out));
	if (local == NULL || family_len(family) == 0 ||
	    nl_addr_get_len(local) != family_len(family))
		return false;
	out->addr.family = family;
	memcpy(&out->addr.u, nl_addr_get_binary_addr(local), family_len(family));
	out->prefix_len = rtnl_addr_get_prefixlen(ra);
	return true;
}

static bool
flags_oper_up(unsigned flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING) && (flags & IFF_LOWER_UP);
}

/* Allocates and connects a NETLINK_ROUTE socket. */
static int
route_socket(struct nl_sock **out, char *err, size_t errlen)
{
	struct nl_sock *sk;
	int rc;

	*out = NULL;
	sk = nl_socket_alloc();
	if (sk == NULL)
		return errmsg(err, errlen, -ENOMEM, "netlink: out of memory");
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(sk);
		return errmsg(err, errlen, nl_errno(rc), "netlink: connect: %s", nl_geterror(rc));
	}
	*out = sk;
	return 0;
}

int
nl_ctx_open(struct nl_ctx **out, char *err, size_t errlen)
{
	struct nl_ctx *ctx;
	int rc;

	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return errmsg(err, errlen, -ENOMEM, "netlink: out of memory");
	rc = route_socket(&ctx->sk, err, errlen);
	if (rc < 0) {
		free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

struct nl_sock *
nl_ctx_sock(struct nl_ctx *ctx)
{
	return ctx->sk;
}

void
nl_ctx_close(struct nl_ctx *ctx)
{
	if (ctx == NULL)
		return;
	nl_socket_free(ctx->sk); /* closes the fd */
	free(ctx);
}

/* Picks the primary IPv4 and the usable link-local IPv6 address of ifindex from an address dump. */
static void
resolve_addrs(struct nl_cache *cache, struct nl_iface *out)
{
	struct nl_object *obj;
	struct addr_prefix p;

	for (obj = nl_cache_get_first(cache); obj != NULL; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)obj;
		unsigned flags = rtnl_addr_get_flags(ra);

		if (rtnl_addr_get_ifindex(ra) != out->ifindex || !prefix_from_rtnl(ra, &p))
			continue;
		if (p.addr.family == AF_INET && !out->has_ipv4 && !(flags & IFA_F_SECONDARY)) {
			out->ipv4 = p.addr.u.v4;
			out->has_ipv4 = true;
		} else if (p.addr.family == AF_INET6 && !out->has_ipv6_ll &&
			   IN6_IS_ADDR_LINKLOCAL(&p.addr.u.v6) &&
			   !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED))) {
			out->ipv6_ll = p.addr.u.v6;
			out->has_ipv6_ll = true;
		}
	}
}

int
nl_if_resolve(struct nl_ctx *ctx, const char *name, struct nl_iface *out, char *err, size_t errlen)
{
	struct rtnl_link *link = NULL;
	struct nl_cache *cache = NULL;
	struct nl_addr *lladdr;
	int rc;

	memset(out, 0, sizeof(*out));
	if (name == NULL || name[0] == '\0' || strlen(name) >= NL_IFNAMSIZ)
		return errmsg(err, errlen, -EINVAL, "netlink: bad interface name");
	rc = rtnl_link_get_kernel(ctx->sk, 0, name, &link);
	if (rc < 0) {
		rc = nl_errno(rc);
		if (rc == -ENOENT)
			rc = -ENODEV;
		errmsg(err, errlen, rc, "netlink: interface %s: %s", name, strerror(-rc));
		goto out;
	}
	out->ifindex = rtnl_link_get_ifindex(link);
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->flags = rtnl_link_get_flags(link);
	out->oper_up = flags_oper_up(out->flags);
	out->mtu = rtnl_link_get_mtu(link);
	lladdr = rtnl_link_get_addr(link);
	if (lladdr != NULL && nl_addr_get_len(lladdr) == 6) {
		memcpy(out->mac, nl_addr_get_binary_addr(lladdr), 6);
		out->has_mac = true;
	}
	rc = rtnl_addr_alloc_cache(ctx->sk, &cache);
	if (rc < 0) {
		rc =
		    errmsg(err, errlen, nl_errno(rc), "netlink: address dump: %s", nl_geterror(rc));
		goto out;
	}
	resolve_addrs(cache, out);
	rc = 0;
out:
	if (cache != NULL)
		nl_cache_free(cache);
	if (link != NULL)
		rtnl_link_put(link);
	return rc;
}

/* Builds the rtnl_addr for p on ifindex. Returns NULL on bad input or lack of memory. */
static struct rtnl_addr *
build_addr(int ifindex, const struct addr_prefix *p)
{
	struct rtnl_addr *ra;
	struct nl_addr *local;
	size_t len = family_len(p->addr.family);

	if (len == 0 || p->prefix_len < 0 || (size_t)p->prefix_len > len * 8 || ifindex <= 0)
		return NULL;
	ra = rtnl_addr_alloc();
	local = nl_addr_build(p->addr.family, &p->addr.u, len);
	if (ra == NULL || local == NULL)
		goto bad;
	nl_addr_set_prefixlen(local, p->prefix_len);
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, p->addr.family);
	if (rtnl_addr_set_local(ra, local) < 0)
		goto bad;
	rtnl_addr_set_prefixlen(ra, p->prefix_len);
	nl_addr_put(local); /* ra holds its own reference */
	return ra;
bad:
	if (local != NULL)
		nl_addr_put(local);
	if (ra != NULL)
		rtnl_addr_put(ra);
	return NULL;
}

int
nl_ifaddr_add(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *p, char *err,
	      size_t errlen)
{
	char s[ADDR_STRLEN];
	struct rtnl_addr *ra;
	int rc;

	addr_format_prefix(p, s, sizeof(s));
	ra = build_addr(ifindex, p);
	if (ra == NULL)
		return errmsg(err, errlen, -EINVAL, "netlink: add %s: bad address or ifindex", s);
	if (p->addr.family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	rc = rtnl_addr_add(ctx->sk, ra, 0);
	rtnl_addr_put(ra);
	if (rc == -NLE_EXIST || rc >= 0)
		return 0;
	rc = nl_errno(rc);
	return errmsg(err, errlen, rc, "netlink: add %s to ifindex %d: %s", s, ifindex,
		      strerror(-rc));
}

int
nl_ifaddr_del(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *p, char *err,
	      size_t errlen)
{
	char s[ADDR_STRLEN];
	struct rtnl_addr *ra;
	int rc;

	addr_format_prefix(p, s, sizeof(s));
	ra = build_addr(ifindex, p);
	if (ra == NULL)
		return errmsg(err, errlen, -EINVAL, "netlink: del %s: bad address or ifindex", s);
	rc = rtnl_addr_delete(ctx->sk, ra, 0);
	rtnl_addr_put(ra);
	if (rc == -NLE_NOADDR || rc >= 0)
		return 0;
	rc = nl_errno(rc);
	return errmsg(err, errlen, rc, "netlink: del %s from ifindex %d: %s", s, ifindex,
		      strerror(-rc));
}

int
nl_ifaddr_present(struct nl_ctx *ctx, int ifindex, const struct addr_prefix *set, size_t n,
		  bool *present, char *err, size_t errlen)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	struct addr_prefix p;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		present[i] = false;
	rc = rtnl_addr_alloc_cache(ctx->sk, &cache);
	if (rc < 0)
		return errmsg(err, errlen, nl_errno(rc), "netlink: address dump: %s",
			      nl_geterror(rc));
	for (obj = nl_cache_get_first(cache); obj != NULL; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *ra = (struct rtnl_addr *)obj;

		if (rtnl_addr_get_ifindex(ra) != ifindex || !prefix_from_rtnl(ra, &p))
			continue;
		for (i = 0; i < n; i++)
			if (p.prefix_len == set[i].prefix_len && addr_equal(&p.addr, &set[i].addr))
				present[i] = true;
	}
	nl_cache_free(cache);
	return 0;
}

/* ---- event socket ---- */

static struct link_state *
watch_find(struct nl_watch *w, int ifindex)
{
	size_t i;

	for (i = 0; i < w->n_links; i++)
		if (w->links[i].ifindex == ifindex)
			return &w->links[i];
	return NULL;
}

static void
watch_emit_link(struct nl_watch *w, int ifindex, const char *name, unsigned flags, bool gone)
{
	struct nl_event ev;

	if (w->quiet)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = NL_EV_LINK;
	ev.ifindex = ifindex;
	if (name != NULL)
		snprintf(ev.name, sizeof(ev.name), "%s", name);
	ev.flags = flags;
	ev.up = !gone && flags_oper_up(flags);
	ev.gone = gone;
	w->delivered++;
	w->fn(&ev, w->arg);
}

/* Records the state of a link from RTM_NEWLINK (or a dump) and reports it if new or changed. */
static void
watch_link_new(struct nl_watch *w, struct rtnl_link *link)
{
	int ifindex = rtnl_link_get_ifindex(link);
	unsigned flags = rtnl_link_get_flags(link);
	bool up = flags_oper_up(flags);
	struct link_state *ls = watch_find(w, ifindex);

	if (ls == NULL) {
		if (w->n_links == w->cap_links) {
			size_t cap = w->cap_links ? w->cap_links * 2 : 16;
			struct link_state *grown = realloc(w->links, cap * sizeof(*grown));

			if (grown == NULL) {
				w->oom = 1;
				return;
			}
			w->links = grown;
			w->cap_links = cap;
		}
		ls = &w->links[w->n_links++];
		ls->ifindex = ifindex;
		ls->up = up;
		ls->seen = true;
		watch_emit_link(w, ifindex, rtnl_link_get_name(link), flags, false);
		return;
	}
	ls->seen = true;
	if (ls->up == up)
		return;
	ls->up = up;
	watch_emit_link(w, ifindex, rtnl_link_get_name(link), flags, false);
}

/* Forgets a deleted link and reports it gone. */
static void
watch_link_gone(struct nl_watch *w, int ifindex, const char *name)
{
	struct link_state *ls = watch_find(w, ifindex);

	if (ls != NULL)
		*ls = w->links[--w->n_links];
	watch_emit_link(w, ifindex, name, 0, true);
}

static void
watch_addr(struct nl_watch *w, struct rtnl_addr *ra, bool added)
{
	struct nl_event ev;

	memset(&ev, 0, sizeof(ev));
	if (!prefix_from_rtnl(ra, &ev.addr))
		return;
	ev.kind = added ? NL_EV_ADDR_NEW : NL_EV_ADDR_DEL;
	ev.ifindex = rtnl_addr_get_ifindex(ra);
	w->delivered++;
	w->fn(&ev, w->arg);
}

/* nl_msg_parse() callback: one parsed link or address object. */
static void
watch_obj_cb(struct nl_object *obj, void *arg)
{
	struct nl_watch *w = arg;

	switch (w->msg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK: {
		struct rtnl_link *link = (struct rtnl_link *)obj;

		/* Bridge port messages (AF_BRIDGE) share the group; a port leaving its bridge is an
		 * AF_BRIDGE RTM_DELLINK and must not read as the interface being deleted. */
		if (rtnl_link_get_family(link) != AF_UNSPEC)
			return;
		if (w->msg_type == RTM_NEWLINK)
			watch_link_new(w, link);
		else
			watch_link_gone(w, rtnl_link_get_ifindex(link), rtnl_link_get_name(link));
		break;
	}
	case RTM_NEWADDR:
	case RTM_DELADDR:
		watch_addr(w, (struct rtnl_addr *)obj, w->msg_type == RTM_NEWADDR);
		break;
	default:
		break;
	}
}

static int
watch_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nl_watch *w = arg;

	w->msg_type = nlmsg_hdr(msg)->nlmsg_type;
	nl_msg_parse(msg, watch_obj_cb, w); /* messages libnl cannot parse are skipped */
	return NL_OK;
}

/* Dumps all links through the sync socket: records them (reporting changes unless quiet), then
 * reports as gone the known links the dump no longer has. */
static int
watch_dump_links(struct nl_watch *w, char *err, size_t errlen)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	size_t i;
	int rc;

	rc = rtnl_link_alloc_cache(w->sync, AF_UNSPEC, &cache);
	if (rc < 0)
		return errmsg(err, errlen, nl_errno(rc), "netlink: link dump: %s", nl_geterror(rc));
	for (i = 0; i < w->n_links; i++)
		w->links[i].seen = false;
	w->msg_type = RTM_NEWLINK;
	for (obj = nl_cache_get_first(cache); obj != NULL; obj = nl_cache_get_next(obj))
		watch_obj_cb(obj, w);
	for (i = 0; i < w->n_links;) {
		if (!w->links[i].seen)
			watch_link_gone(w, w->links[i].ifindex, NULL); /* moves the last into i */
		else
			i++;
	}
	nl_cache_free(cache);
	if (w->oom) {
		w->oom = 0;
		return errmsg(err, errlen, -ENOMEM, "netlink: out of memory");
	}
	return 0;
}

/* After ENOBUFS (the kernel dropped notifications): discards what is queued, which is older than
 * what was lost, then re-reads the links and reports their changes, then NL_EV_RESYNC so that the
 * caller re-checks addresses. Messages queued after the dump only move states forward from it. */
static int
watch_resync(struct nl_watch *w, char *err, size_t errlen)
{
	struct nl_event ev;
	char sink[64];
	int fd = nl_socket_get_fd(w->sk), i, rc;

	for (i = 0; i < 100000; i++)
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC) < 0 &&
		    errno != ENOBUFS && errno != EINTR)
			break;
	rc = watch_dump_links(w, err, errlen);
	if (rc < 0)
		return rc;
	memset(&ev, 0, sizeof(ev));
	ev.kind = NL_EV_RESYNC;
	w->delivered++;
	w->fn(&ev, w->arg);
	return 0;
}

int
nl_watch_open(struct nl_watch **out, nl_event_fn fn, void *arg, char *err, size_t errlen)
{
	struct nl_watch *w;
	int rc;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return errmsg(err, errlen, -ENOMEM, "netlink: out of memory");
	w->fn = fn;
	w->arg = arg;
	rc = route_socket(&w->sync, err, errlen);
	if (rc < 0)
		goto bad;
	w->sk = nl_socket_alloc();
	if (w->sk == NULL) {
		rc = errmsg(err, errlen, -ENOMEM, "netlink: out of memory");
		goto bad;
	}
	/* Notifications carry no sequence number of ours. */
	nl_socket_disable_seq_check(w->sk);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, watch_valid_cb, w);
	w->cb = nl_socket_get_cb(w->sk); /* takes a reference ... */
	nl_cb_put(w->cb);		 /* ... which the socket's own keeps alive */
	rc = nl_connect(w->sk, NETLINK_ROUTE);
	if (rc >= 0)
		rc = nl_socket_add_memberships(w->sk, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
					       RTNLGRP_IPV6_IFADDR, 0);
	if (rc >= 0)
		rc = nl_socket_set_nonblocking(w->sk);
	if (rc < 0) {
		rc =
		    errmsg(err, errlen, nl_errno(rc), "netlink: event socket: %s", nl_geterror(rc));
		goto bad;
	}
	nl_socket_set_buffer_size(w->sk, WATCH_RCVBUF, 0); /* best effort */
	/* Subscribed first, dumped second: a change between the two is queued, not lost. */
	w->quiet = true;
	rc = watch_dump_links(w, err, errlen);
	w->quiet = false;
	if (rc < 0)
		goto bad;
	*out = w;
	return 0;
bad:
	nl_watch_close(w);
	return rc;
}

int
nl_watch_fd(const struct nl_watch *w)
{
	return nl_socket_get_fd(w->sk);
}

int
nl_watch_process(struct nl_watch *w, char *err, size_t errlen)
{
	int i, rc;

	w->delivered = 0;
	for (i = 0; i < WATCH_BATCH; i++) {
		/* Older libnl returns 0 on EAGAIN, newer -NLE_AGAIN; the count of messages
		 * otherwise. */
		rc = nl_recvmsgs_report(w->sk, w->cb);
		if (rc > 0)
			continue;
		if (rc == 0 || rc == -NLE_AGAIN)
			break;
		if (rc == -NLE_NOMEM) {
			rc = watch_resync(w, err, errlen);
			if (rc < 0)
				return rc;
			continue;
		}
		return errmsg(err, errlen, nl_errno(rc), "netlink: events: %s", nl_geterror(rc));
	}
	if (w->oom) {
		w->oom = 0;
		return errmsg(err, errlen, -ENOMEM, "netlink: out of memory");
	}
	return w->delivered;
}

void
nl_watch_close(struct nl_watch *w)
{
	if (w == NULL)
		return;
	if (w->sk != NULL)
		nl_socket_free(w->sk);
	if (w->sync != NULL)
		nl_socket_free(w->sync);
	free(w->links);
	free(w);
}
