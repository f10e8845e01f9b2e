/* Test driver for agent/netlink.c, agent/arp.c, agent/sysctl.c (and common/addr.c): one operation
 * per invocation, run inside a network namespace by tests/cluster/test_kernel.py, which builds it
 * with cc. Exit status 0 on success, 1 on failure (message on stderr), 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "addr.h"
#include "arp.h"
#include "netlink.h"
#include "sysctl.h"

static char err[256];

static int
usage(void)
{
	fprintf(stderr, "usage: nltool info IF\n"
			"       nltool addr-add|addr-del IF PREFIX\n"
			"       nltool addr-has IF PREFIX...\n"
			"       nltool garp|na IF ADDR\n"
			"       nltool watch IF SECONDS [RCVBUF PAUSE_S]\n"
			"       nltool nonlocal-bind get [4|6] | set 0|1 [4|6]\n"
			"       nltool ipv6-disabled IF\n");
	return 2;
}

static int
die(int rc)
{
	fprintf(stderr, "nltool: %s (rc %d)\n", err, rc);
	return 1;
}

static int
open_resolve(const char *name, struct nl_ctx **ctx, struct nl_iface *ifc)
{
	int rc = nl_ctx_open(ctx, err, sizeof(err));

	if (rc == 0)
		rc = nl_if_resolve(*ctx, name, ifc, err, sizeof(err));
	return rc;
}

static int
cmd_info(const char *name)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";
	struct nl_ctx *ctx = NULL;
	struct nl_iface ifc;
	int rc = open_resolve(name, &ctx, &ifc);

	nl_ctx_close(ctx);
	if (rc < 0)
		return die(rc);
	if (ifc.has_ipv4)
		inet_ntop(AF_INET, &ifc.ipv4, a4, sizeof(a4));
	if (ifc.has_ipv6_ll)
		inet_ntop(AF_INET6, &ifc.ipv6_ll, a6, sizeof(a6));
	printf("ifindex=%d name=%s mac=%02x:%02x:%02x:%02x:%02x:%02x up=%d mtu=%u ipv4=%s "
	       "ipv6ll=%s\n",
	       ifc.ifindex, ifc.name, ifc.mac[0], ifc.mac[1], ifc.mac[2], ifc.mac[3], ifc.mac[4],
	       ifc.mac[5], ifc.oper_up, ifc.mtu, a4, a6);
	return 0;
}

static int
cmd_addr(const char *op, const char *name, char **prefixes, int n)
{
	struct addr_prefix set[16];
	bool present[16];
	struct nl_ctx *ctx = NULL;
	struct nl_iface ifc;
	int i, rc;

	if (n < 1 || n > 16 || (strcmp(op, "addr-has") != 0 && n != 1))
		return usage();
	if (strcmp(op, "addr-add") != 0 && strcmp(op, "addr-del") != 0 &&
	    strcmp(op, "addr-has") != 0)
		return usage();
	for (i = 0; i < n; i++)
		if (addr_parse_prefix(prefixes[i], &set[i]) < 0) {
			fprintf(stderr, "nltool: bad prefix %s\n", prefixes[i]);
			return 2;
		}
	rc = open_resolve(name, &ctx, &ifc);
	if (rc == 0 && strcmp(op, "addr-add") == 0)
		rc = nl_ifaddr_add(ctx, ifc.ifindex, &set[0], err, sizeof(err));
	else if (rc == 0 && strcmp(op, "addr-del") == 0)
		rc = nl_ifaddr_del(ctx, ifc.ifindex, &set[0], err, sizeof(err));
	else if (rc == 0)
		rc = nl_ifaddr_present(ctx, ifc.ifindex, set, (size_t)n, present, err, sizeof(err));
	nl_ctx_close(ctx);
	if (rc < 0)
		return die(rc);
	if (strcmp(op, "addr-has") == 0)
		for (i = 0; i < n; i++)
			printf("%s %s\n", prefixes[i], present[i] ? "yes" : "no");
	return 0;
}

static int
cmd_announce(const char *op, const char *name, const char *addr)
{
	struct nl_ctx *ctx = NULL;
	struct nl_iface ifc;
	struct addr p;
	int fd = -1, rc;

	if (addr_parse(addr, &p) < 0)
		return usage();
	rc = open_resolve(name, &ctx, &ifc);
	nl_ctx_close(ctx);
	if (rc == 0)
		rc = fd = arp_open(err, sizeof(err));
	if (rc >= 0 && strcmp(op, "garp") == 0 && p.family == AF_INET)
		rc = arp_send_garp(fd, ifc.ifindex, ifc.mac, p.u.v4, err, sizeof(err));
	else if (rc >= 0 && strcmp(op, "na") == 0 && p.family == AF_INET6)
		rc = arp_send_na(fd, ifc.ifindex, ifc.mac, ifc.has_ipv6_ll ? &ifc.ipv6_ll : &p.u.v6,
				 &p.u.v6, false, err, sizeof(err));
	else if (rc >= 0) {
		snprintf(err, sizeof(err), "%s needs an IPv%d address", op,
			 strcmp(op, "garp") == 0 ? 4 : 6);
		rc = -EAFNOSUPPORT;
	}
	if (fd >= 0)
		close(fd);
	return rc < 0 ? die(rc) : 0;
}

static void
print_event(const struct nl_event *ev, void *arg)
{
	char s[ADDR_STRLEN];

	(void)arg;
	switch (ev->kind) {
	case NL_EV_LINK:
		printf("link ifindex=%d name=%s up=%d gone=%d\n", ev->ifindex, ev->name, ev->up,
		       ev->gone);
		break;
	case NL_EV_ADDR_NEW:
	case NL_EV_ADDR_DEL:
		addr_format_prefix(&ev->addr, s, sizeof(s));
		printf("%s ifindex=%d %s\n", ev->kind == NL_EV_ADDR_NEW ? "addr-new" : "addr-del",
		       ev->ifindex, s);
		break;
	case NL_EV_RESYNC:
		printf("resync\n");
		break;
	}
	fflush(stdout);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints the interface's state, "ready", then every event until SECONDS pass. RCVBUF shrinks the
 * event socket's buffer and PAUSE_S delays reading, so that a test can force an overrun. */
static int
cmd_watch(const char *name, int seconds, int rcvbuf, int pause_s)
{
	struct nl_watch *w = NULL;
	struct nl_ctx *ctx = NULL;
	struct nl_iface ifc;
	struct epoll_event ev = {.events = EPOLLIN};
	long deadline;
	int ep = -1, rc, n;

	rc = nl_watch_open(&w, print_event, NULL, err, sizeof(err));
	if (rc == 0)
		rc = open_resolve(name, &ctx, &ifc);
	nl_ctx_close(ctx);
	if (rc < 0)
		goto out;
	if (rcvbuf > 0)
		setsockopt(nl_watch_fd(w), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, nl_watch_fd(w), &ev) < 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "epoll");
		goto out;
	}
	printf("ready ifindex=%d up=%d\n", ifc.ifindex, ifc.oper_up);
	fflush(stdout);
	if (pause_s > 0)
		sleep((unsigned)pause_s);
	deadline = now_ms() + seconds * 1000L;
	while ((n = (int)(deadline - now_ms())) > 0) {
		if (epoll_wait(ep, &ev, 1, n) <= 0)
			continue;
		rc = nl_watch_process(w, err, sizeof(err));
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	if (ep >= 0)
		close(ep);
	nl_watch_close(w);
	return rc < 0 ? die(rc) : 0;
}

static int
cmd_nonlocal(int argc, char **argv)
{
	int family = AF_INET, rc;
	bool on;

	if (argc >= 1 && strcmp(argv[0], "get") == 0) {
		if (argc >= 2 && strcmp(argv[1], "6") == 0)
			family = AF_INET6;
		rc = sysctl_nonlocal_bind_get(family, &on, err, sizeof(err));
		if (rc < 0)
			return die(rc);
		printf("%d\n", on);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[0], "set") == 0) {
		if (argc >= 3 && strcmp(argv[2], "6") == 0)
			family = AF_INET6;
		rc = sysctl_nonlocal_bind_set(family, strcmp(argv[1], "1") == 0, err, sizeof(err));
		return rc < 0 ? die(rc) : 0;
	}
	return usage();
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	bool disabled;
	int rc;

	if (strcmp(cmd, "info") == 0 && argc == 3)
		return cmd_info(argv[2]);
	if (strncmp(cmd, "addr-", 5) == 0 && argc >= 4)
		return cmd_addr(cmd, argv[2], argv + 3, argc - 3);
	if ((strcmp(cmd, "garp") == 0 || strcmp(cmd, "na") == 0) && argc == 4)
		return cmd_announce(cmd, argv[2], argv[3]);
	if (strcmp(cmd, "watch") == 0 && (argc == 4 || argc == 6))
		return cmd_watch(argv[2], atoi(argv[3]), argc == 6 ? atoi(argv[4]) : 0,
				 argc == 6 ? atoi(argv[5]) : 0);
	if (strcmp(cmd, "nonlocal-bind") == 0)
		return cmd_nonlocal(argc - 2, argv + 2);
	if (strcmp(cmd, "ipv6-disabled") == 0 && argc == 3) {
		rc = sysctl_ipv6_disabled(argv[2], &disabled, err, sizeof(err));
		if (rc < 0)
			return die(rc);
		printf("%d\n", disabled);
		return 0;
	}
	return usage();
}
