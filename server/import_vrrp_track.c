/* What a vrrp_instance tracks (see import_vrrp.h): interfaces into the VIP's track_interfaces,
 * scripts into the node checks' vips with their per-instance weights. */
#include <string.h>

#include "import_vrrp.h"
#include "vip_fields.h"

void
vrrp_kw_track_interface(struct inst *in, const struct ka_stmt *s)
{
	json_t *list = json_object_get(in->spec, "track_interfaces");
	long w = 0;

	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *t = s->sub; t != NULL; t = t->next) {
		w = 0;
		if (!vipf_valid_ifname(t->argv[0]) ||
		    (t->argc > 1 && (t->argc != 3 || strcmp(t->argv[1], "weight") != 0 ||
				     !imp_long(t->argv[2], -254, 254, &w)))) {
			imp_note(in->im, t, "not_applied", "not INTERFACE [weight N]");
			continue;
		}
		json_array_append_new(
		    list, json_pack("{s:s, s:i}", "interface", t->argv[0], "weight", (int)w));
		imp_note(in->im, t, "applied", NULL);
	}
}

/* track_script { NAME [weight N] }: tracked has {"script", "weight"?} per script, the weight
 * when this instance overrides the script's own (the check's "vips" carry it). */
void
vrrp_kw_track_script(struct inst *in, const struct ka_stmt *s, json_t *tracked)
{
	imp_note(in->im, s, "applied", NULL);
	for (const struct ka_stmt *t = s->sub; t != NULL; t = t->next) {
		json_t *def = json_object_get(in->im->script_defs, t->argv[0]);
		json_t *entry = json_pack("{s:s}", "script", t->argv[0]);
		long w;

		if (def == NULL) {
			imp_note(in->im, t, "not_applied",
				 "no vrrp_script of this name (keepalived ignores it too)");
			json_decref(entry);
			continue;
		}
		if (t->argc == 1) {
			imp_note(in->im, t, "applied", NULL);
		} else if (t->argc >= 3 && strcmp(t->argv[1], "weight") == 0 &&
			   imp_long(t->argv[2], -253, 253, &w)) {
			json_int_t own = json_integer_value(
			    json_object_get(json_object_get(def, "spec"), "weight"));
			if (w != own)
				json_object_set_new(entry, "weight", json_integer(w));
			imp_note(in->im, t, "applied",
				 w != own ? "weight %ld for this VIP (the check's vips)" : NULL, w);
		} else {
			imp_note(in->im, t, "applied",
				 "the words after the name are ignored (keepalived ignores them "
				 "too)");
		}
		json_array_append_new(tracked, entry);
	}
}

/* keepalived always tracks an instance's own interface and ignores it in track_interface (with
 * a warning): so does the import, wherever the interface statement is in the block. */
void
vrrp_drop_own_track(struct inst *in)
{
	const char *ifname = json_string_value(json_object_get(in->spec, "interface"));
	json_t *list = json_object_get(in->spec, "track_interfaces");
	size_t i = 0;

	for (const struct ka_stmt *s = in->st->sub; s != NULL; s = s->next) {
		if (strcmp(s->argv[0], "track_interface") != 0)
			continue;
		for (const struct ka_stmt *t = s->sub; t != NULL; t = t->next)
			if (strcmp(t->argv[0], ifname) == 0)
				imp_note(in->im, t, "not_applied",
					 "the instance's own interface: always tracked (keepalived "
					 "ignores it here too)");
	}
	while (i < json_array_size(list)) {
		const char *t =
		    json_string_value(json_object_get(json_array_get(list, i), "interface"));
		if (strcmp(t, ifname) == 0)
			json_array_remove(list, i);
		else
			i++;
	}
}
