/* The shape rules of a VIP's VRRP-instance fields (addresses, excluded addresses, unicast peers,
 * sync group, tracked interfaces, notify, GARP timers): pure checks on the JSON, no store reads,
 * so that they are unit-tested without SQLite. Cross-object rules (member nodes' families, a sync
 * group's members) are res_vip.c's. */
#ifndef VIGIL_VIP_FIELDS_H
#define VIGIL_VIP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "validate.h"

/*
 * How many addresses one instance carries: all of them go in every advertisement, whose Count
 * IPvX Addrs is 8 bits (RFC 5798 5.2.5). IPv4: 255 (8 + 255 * 4 + 8 auth bytes + 20-byte IP
 * header = 1056 bytes). IPv6: an advertisement must fit a 1500-byte MTU unfragmented, so
 * 40 + 8 + N * 16 <= 1500: 90.
 */
#define VIPF_MAX_ADDRS_V4 255
#define VIPF_MAX_ADDRS_V6 90
#define VIPF_MAX_EXCLUDED 255	/* not advertised: keepalived's own limit on a list */
#define VIPF_MAX_PEERS 32	/* external unicast peers, beside the members */
#define VIPF_MAX_TRACK 16	/* tracked interfaces */
#define VIPF_MAX_NOTIFY_ARGS 16 /* notify argv */

/* Parses "ADDRESS/PREFIX" and writes its canonical text into canon (ADDR_STRLEN). Returns the
 * family (4 or 6), or 0 when s is not a unicast host address with a prefix (prefix 0, the
 * unspecified and multicast addresses are refused). */
int vipf_parse_prefix(const char *s, char *canon, size_t len);

/* Linux interface names (dev_valid_name), printable ASCII only. */
bool vipf_valid_ifname(const char *s);

/* addresses (required, 1..VIPF_MAX_ADDRS_V4/V6, one family, canonical, no duplicates), in place.
 * Returns the family (4 or 6), or 0 when it cannot be told. */
int vipf_addresses(json_t *spec, struct verr *e);

/* excluded_addresses (default []): canonical prefixes of either family, no duplicates, none of
 * them in addresses. */
void vipf_excluded(json_t *spec, struct verr *e);

/* unicast (default false) and peers (default []): IP addresses without prefix of family (4 or 6;
 * 0: not checked), canonical, no duplicates; peers only with unicast. */
void vipf_unicast(json_t *spec, int family, struct verr *e);

/* The address a member node (node_spec) sends unicast advertisements of family (4 or 6) from,
 * and other members send to: its unicast_sources entry of that family, else its address when of
 * that family, else NULL. Borrowed from node_spec. */
const char *vipf_unicast_source(const json_t *node_spec, int family);

/* group: a name ([a-z0-9][a-z0-9-]{0,62}) or null (the default). Returns it (borrowed) or NULL. */
const char *vipf_group(json_t *spec, struct verr *e);

/* track_interfaces (default []): [{interface, weight -254..254, default 0}], interfaces unique. */
void vipf_track_interfaces(json_t *spec, struct verr *e);

/* notify: null (the default) or a script argv as script checks take it (v_script_argv). */
void vipf_notify(json_t *spec, struct verr *e);

/* garp_repeat 1..100 (default 5), garp_delay_s 0..3600 (default 5), garp_refresh_s 0..86400
 * (default 0: off), vmac (default false). */
void vipf_garp_vmac(json_t *spec, struct verr *e);

#endif
