/* Tracked interfaces of one VRRP instance (track.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "track.h"

const char *
track_link_str(enum track_link l)
{
	return l == TRACK_UP ? "up" : l == TRACK_DOWN ? "down" : "missing";
}

void
track_configure(struct track *t, const struct track_spec *specs, unsigned n)
{
	struct track old = *t;

	t->n = 0;
	for (unsigned i = 0; i < n && t->n < TRACK_MAX; i++) {
		struct track_if *ti = &t->list[t->n++];
		memset(ti, 0, sizeof(*ti));
		snprintf(ti->name, sizeof(ti->name), "%s", specs[i].name);
		ti->weight = specs[i].weight;
		ti->link = TRACK_MISSING;
		for (unsigned k = 0; k < old.n; k++)
			if (strcmp(old.list[k].name, ti->name) == 0) {
				ti->ifindex = old.list[k].ifindex;
				ti->link = old.list[k].link;
			}
	}
}

void
track_resolve(struct track *t, struct nl_ctx *nl, bool all)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct track_if *ti = &t->list[i];
		struct nl_iface ifc;
		char err[160];
		if (!all && ti->ifindex != 0)
			continue;
		if (nl_if_resolve(nl, ti->name, &ifc, err, sizeof(err)) == 0) {
			ti->ifindex = ifc.ifindex;
			ti->link = ifc.oper_up ? TRACK_UP : TRACK_DOWN;
		} else {
			ti->ifindex = 0;
			ti->link = TRACK_MISSING;
		}
	}
}

bool
track_link_event(struct track *t, const char *name, int ifindex, bool up, bool gone)
{
	bool changed = false;

	for (unsigned i = 0; i < t->n; i++) {
		struct track_if *ti = &t->list[i];
		enum track_link before = ti->link;
		bool named = name != NULL && name[0] != '\0';
		if (named ? strcmp(ti->name, name) == 0 : ti->ifindex == ifindex && ifindex != 0) {
			ti->ifindex = gone ? 0 : ifindex;
			ti->link = gone ? TRACK_MISSING : up ? TRACK_UP : TRACK_DOWN;
		} else if (ti->ifindex == ifindex && ifindex != 0) {
			ti->ifindex = 0; /* renamed away (or gone): not the tracked name any more */
			ti->link = TRACK_MISSING;
		}
		changed |= ti->link != before;
	}
	return changed;
}

void
track_eval(const struct track *t, int *adjust, bool *fault, char *why, size_t whylen)
{
	*adjust = 0;
	*fault = false;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	for (unsigned i = 0; i < t->n; i++) {
		const struct track_if *ti = &t->list[i];
		if (ti->link == TRACK_UP)
			continue;
		if (ti->weight != 0) {
			*adjust += ti->weight;
		} else if (!*fault) {
			*fault = true;
			if (why != NULL)
				snprintf(why, whylen, "tracked interface %s %s", ti->name,
					 ti->link == TRACK_MISSING ? "missing" : "down");
		}
	}
}

json_t *
track_report(const struct track *t)
{
	json_t *r = json_array();

	for (unsigned i = 0; i < t->n; i++)
		json_array_append_new(r, json_pack("{s:s, s:i, s:s}", "interface", t->list[i].name,
						   "weight", t->list[i].weight, "state",
						   track_link_str(t->list[i].link)));
	return r;
}
