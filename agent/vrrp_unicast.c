/* Unicast settings of a VRRP instance and its source filter (see vrrp_unicast.h). */
#include <stdio.h>
#include <string.h>

#include "vrrp_unicast.h"

/* Parses the string j as an address of family into out. Returns 0 or -1. */
static int
parse_one(json_t *j, int family, struct addr *out)
{
	const char *s = json_string_value(j);

	if (s == NULL || addr_parse(s, out) != 0 || out->family != family)
		return -1;
	return 0;
}

int
vrrp_unicast_parse(json_t *v, int family, struct vrrp_unicast *out, char *err, size_t errlen)
{
	json_t *peers = json_object_get(v, "unicast_peers"), *p;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_true(json_object_get(v, "unicast")))
		return 0;
	out->on = true;
	if (parse_one(json_object_get(v, "unicast_src"), family, &out->src) != 0) {
		snprintf(err, errlen, "unicast: no usable unicast_src of the VIP's family");
		return -1;
	}
	/* No peer is a member alone: it is Master, and sends to nobody. */
	if (json_array_size(peers) > VRRP_UNICAST_MAX_PEERS) {
		snprintf(err, errlen, "unicast: more than %d unicast_peers",
			 VRRP_UNICAST_MAX_PEERS);
		return -1;
	}
	json_array_foreach(peers, i, p)
	{
		if (parse_one(p, family, &out->peers[i]) != 0) {
			snprintf(err, errlen, "unicast: bad peer %s",
				 json_string_value(p) ? json_string_value(p) : "(not a string)");
			return -1;
		}
	}
	out->npeers = (unsigned)i;
	return 0;
}

bool
vrrp_unicast_accepts(const struct vrrp_unicast *u, const struct addr *src)
{
	if (!u->on)
		return true;
	for (unsigned i = 0; i < u->npeers; i++)
		if (addr_equal(&u->peers[i], src))
			return true;
	return false;
}

bool
vrrp_unicast_equal(const struct vrrp_unicast *a, const struct vrrp_unicast *b)
{
	if (a->on != b->on)
		return false;
	if (!a->on)
		return true;
	if (!addr_equal(&a->src, &b->src) || a->npeers != b->npeers)
		return false;
	for (unsigned i = 0; i < a->npeers; i++)
		if (!addr_equal(&a->peers[i], &b->peers[i]))
			return false;
	return true;
}
