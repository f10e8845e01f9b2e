/* The addresses of a vrrp_instance (see import_vrrp.h): virtual_ipaddress, its excluded list,
 * and the unicast source and peers, canonical as a VIP spec holds them. */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "import_vrrp.h"
#include "vip_fields.h"

/* Adds one "ADDR[/PREFIX] [dev IF] [label L] ..." entry to list (addresses or excluded), with the
 * keepalived default prefix (/32, /128). Returns the family, 0 when not an address. */
static int
add_address(struct inst *in, const struct ka_stmt *s, json_t *list)
{
	char text[80], canon[80];
	int fam;

	snprintf(text, sizeof(text), "%s%s", s->argv[0],
		 strchr(s->argv[0], '/')   ? ""
		 : strchr(s->argv[0], ':') ? "/128"
					   : "/32");
	if ((fam = vipf_parse_prefix(text, canon, sizeof(canon))) == 0) {
		imp_error(in->im, s, "%s is not an IP address (keepalived refuses it)", s->argv[0]);
		return 0;
	}
	for (size_t i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_array_get(list, i)), canon) == 0) {
			imp_note(in->im, s, "not_applied", "listed twice");
			return fam;
		}
	json_array_append_new(list, json_string(canon));
	if (s->argc > 1) {
		const char *dev = NULL;
		for (int k = 1; k + 1 < s->argc; k++)
			if (strcmp(s->argv[k], "dev") == 0)
				dev = s->argv[k + 1];
		imp_note(in->im, s, "applied",
			 "%s%s: vigil puts the addresses on the VIP's interface, with no label, "
			 "broadcast or scope",
			 dev != NULL ? "dev " : "options", dev != NULL ? dev : " dropped");
	} else {
		imp_note(in->im, s, "applied", NULL);
	}
	return fam;
}

void
vrrp_kw_addresses(struct inst *in, const struct ka_stmt *s)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *a = s->sub; a != NULL; a = a->next) {
		int fam;
		if (in->family == 0) {
			in->family = add_address(in, a, in->addresses);
			continue;
		}
		/* An advertisement carries one family: keepalived moves the others out of it. */
		fam = add_address(in, a,
				  (strchr(a->argv[0], ':') ? 6 : 4) == in->family ? in->addresses
										  : in->excluded);
		if (fam != 0 && fam != in->family)
			imp_note(in->im, a, "applied",
				 "not IPv%d like the first address: an excluded address (not "
				 "advertised), as keepalived does",
				 in->family);
	}
}

void
vrrp_kw_excluded(struct inst *in, const struct ka_stmt *s)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *a = s->sub; a != NULL; a = a->next)
		add_address(in, a, in->excluded);
}

/* An address without prefix, canonical, into out (ADDR_STRLEN); a "/N" is dropped (and *cut
 * set). Returns 4 or 6, or 0 when it is not an address. */
static int
plain_address(const char *s, char *out, bool *cut)
{
	char buf[ADDR_STRLEN];
	struct addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	*cut = strchr(buf, '/') != NULL;
	if (*cut)
		*strchr(buf, '/') = '\0';
	if (addr_parse(buf, &a) != 0)
		return 0;
	addr_format(&a, out, ADDR_STRLEN);
	return strchr(out, ':') ? 6 : 4;
}

void
vrrp_kw_unicast_src(struct inst *in, const struct ka_stmt *s)
{
	char a[ADDR_STRLEN];
	bool cut;
	int fam = arg1(s) ? plain_address(arg1(s), a, &cut) : 0;

	if (fam == 0) {
		imp_note(in->im, s, "not_applied", "not an IP address (keepalived ignores it too)");
		return;
	}
	if (in->im->node_address != NULL && strcmp(a, in->im->node_address) == 0) {
		imp_note(in->im, s, "applied", "vigil sends unicast from the node's address");
		return;
	}
	if (in->im->node_address != NULL && (strchr(in->im->node_address, ':') ? 6 : 4) == fam) {
		imp_note(in->im, s, "not_applied",
			 "vigil sends unicast from the node's address, %s", in->im->node_address);
		return;
	}
	/* Another family than the node's address: the node's unicast source of that family. */
	const char *had = imp_unicast_source(in->im, fam);
	if (had == NULL) {
		json_array_append_new(in->im->p->unicast_sources, json_string(a));
		imp_note(in->im, s, "applied", "the node's IPv%d unicast source (unicast_sources)",
			 fam);
	} else if (strcmp(had, a) == 0) {
		imp_note(in->im, s, "applied", NULL);
	} else {
		imp_note(in->im, s, "not_applied",
			 "a node has one IPv%d unicast source: %s, from an instance before", fam,
			 had);
		imp_gap(in->im, s, "instances with different unicast sources of one family");
	}
}

void
vrrp_kw_unicast_peer(struct inst *in, const struct ka_stmt *s)
{
	json_t *peers = json_object_get(in->spec, "peers");
	char a[ADDR_STRLEN];
	bool cut;

	json_object_set_new(in->spec, "unicast", json_true());
	in->unicast = s;
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *p = s->sub; p != NULL; p = p->next) {
		if (plain_address(p->argv[0], a, &cut) == 0) {
			imp_note(in->im, p, "not_applied", "not an IP address");
			continue;
		}
		if (in->im->node_address != NULL && strcmp(a, in->im->node_address) == 0) {
			imp_note(in->im, p, "not_applied", "the node's own address");
			continue;
		}
		json_array_append_new(peers, json_string(a));
		if (cut || p->argc > 1)
			imp_note(in->im, p, "applied", "only the address is kept%s",
				 cut ? ": a peer has no prefix" : " (no per-peer TTL limits)");
		else
			imp_note(in->im, p, "applied", NULL);
	}
}
