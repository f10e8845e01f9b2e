/* track_interfaces (issue 10; keepalived's track_interface): the links an instance follows. While
 * a tracked link is down (or missing), a weight of 0 makes the instance FAULT and any other
 * weight is added to its priority, as node checks' weights are (checks.h). Pure but for
 * track_resolve(), which reads the links' current states. */
#ifndef VIGIL_TRACK_H
#define VIGIL_TRACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "netlink.h"

#define TRACK_MAX 16

enum track_link {
	TRACK_UP,
	TRACK_DOWN,
	TRACK_MISSING, /* no such interface: counts as down */
};

/* One tracked interface as configured (node_config.h reads it from the VIP entry). */
struct track_spec {
	char name[NL_IFNAMSIZ];
	int weight; /* -254..254; 0: FAULT while down */
};

struct track_if {
	char name[NL_IFNAMSIZ];
	int weight;  /* -254..254; 0: FAULT while down */
	int ifindex; /* 0 while missing */
	enum track_link link;
};

struct track {
	unsigned n;
	struct track_if list[TRACK_MAX];
};

/* Replaces t's list with specs[0..n) (at most TRACK_MAX are taken). An interface tracked before
 * keeps its known link state; a new one starts MISSING until track_resolve() or an event. */
void track_configure(struct track *t, const struct track_spec *specs, unsigned n);

/* Reads the current state of every tracked link that is not known yet (all with all = true). */
void track_resolve(struct track *t, struct nl_ctx *nl, bool all);

/* A link event: interface name (may be "") with ifindex is up or down, or gone. Returns true
 * when a tracked link's state changed. */
bool track_link_event(struct track *t, const char *name, int ifindex, bool up, bool gone);

/* The sum of the weights of the links that are down (or missing) with weight != 0 into *adjust;
 * *fault when one with weight 0 is. why (may be NULL) gets "tracked interface eth1 down" for the
 * first such weight-0 link. */
void track_eval(const struct track *t, int *adjust, bool *fault, char *why, size_t whylen);

/* [{"interface", "weight", "state": "up"|"down"|"missing"}], caller owns. */
json_t *track_report(const struct track *t);

/* "up", "down", "missing". */
const char *track_link_str(enum track_link l);

#endif
