/* Unicast settings of a VRRP instance and its source filter (see vrrp_unicast.h). */
#include <stdio.h>
#include <string.h>

#include "vrrp_unicast.h"

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
