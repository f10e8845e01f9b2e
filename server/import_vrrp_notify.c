/* A vrrp_instance's notify lines (see import_vrrp.h) into the VIP's one notify argv. vigil-agent
 * runs it on every transition with keepalived's generic arguments appended (INSTANCE <name>
 * <state> <priority>); keepalived's per-state notify_master/backup/fault/stop become a wrapper
 * that dispatches on the state, so nothing they did is lost. */
#include <stdio.h>
#include <string.h>

#include "import_vrrp.h"

static const char *const notify_kw[VRRP_NOTIFY_KINDS] = {
    "notify", "notify_master", "notify_backup", "notify_fault", "notify_stop",
};
static const char *const notify_state[VRRP_NOTIFY_KINDS] = {NULL, "MASTER", "BACKUP", "FAULT",
							    "STOP"};

bool
vrrp_kw_notify(struct inst *in, const struct ka_stmt *s)
{
	for (int k = 0; k < VRRP_NOTIFY_KINDS; k++)
		if (strcmp(s->argv[0], notify_kw[k]) == 0) {
			if (s->argc < 2) {
				imp_note(in->im, s, "not_applied",
					 "no script (keepalived ignores it too)");
			} else {
				if (in->notify[k] != NULL)
					imp_note(in->im, in->notify[k], "not_applied",
						 "a later %s replaces it, as in keepalived",
						 notify_kw[k]);
				in->notify[k] = s;
			}
			return true;
		}
	return false;
}

/* Appends text to buf (len) at *o; what does not fit is dropped. */
static void
add_text(char *buf, size_t len, size_t *o, const char *text)
{
	int n = snprintf(buf + *o, len - *o, "%s", text);

	*o += n > 0 && (size_t)n < len - *o ? (size_t)n : 0;
}

/* Appends head, the words of s after its keyword joined by blanks, and tail. */
static void
add_line(char *buf, size_t len, size_t *o, const char *head, const struct ka_stmt *s,
	 const char *tail)
{
	add_text(buf, len, o, head);
	for (int k = 1; k < s->argc; k++) {
		if (k > 1)
			add_text(buf, len, o, " ");
		add_text(buf, len, o, s->argv[k]);
	}
	add_text(buf, len, o, tail);
}

void
vrrp_notify_finish(struct inst *in, const char *vname)
{
	char what[64], name[80], head[16], wrapper[8192];
	const struct ka_stmt *first = NULL;
	bool per_state = false;
	size_t o = 0;

	snprintf(what, sizeof(what), "%.40s-notify", vname);
	for (int k = 1; k < VRRP_NOTIFY_KINDS; k++)
		per_state = per_state || in->notify[k] != NULL;
	if (!per_state) {
		if (in->notify[0] == NULL)
			return;
		json_object_set_new(in->spec, "notify",
				    imp_script_argv(in->im, in->notify[0], 1, what));
		imp_note(in->im, in->notify[0], "applied", NULL);
		return;
	}
	snprintf(name, sizeof(name), "%s.sh", what);
	o = (size_t)snprintf(wrapper, sizeof(wrapper),
			     "#!/bin/sh\n# vigil-agent runs this on every transition of VIP %s "
			     "with INSTANCE <vip> <state> <priority>\n",
			     vname);
	if (in->notify[0] != NULL)
		add_line(wrapper, sizeof(wrapper), &o, "", in->notify[0], " \"$@\"\n");
	add_text(wrapper, sizeof(wrapper), &o, "case \"$3\" in\n");
	for (int k = 0; k < VRRP_NOTIFY_KINDS; k++) {
		if (in->notify[k] == NULL)
			continue;
		if (k > 0) {
			snprintf(head, sizeof(head), "%s) ", notify_state[k]);
			add_line(wrapper, sizeof(wrapper), &o, head, in->notify[k], " ;;\n");
		}
		first = first == NULL || in->notify[k]->line < first->line ? in->notify[k] : first;
		imp_note(in->im, in->notify[k], "applied",
			 "in the wrapper %s (the report's scripts), run %s", name,
			 k == 0 ? "on every transition" : notify_state[k]);
	}
	add_text(wrapper, sizeof(wrapper), &o, "esac\n");
	json_array_append_new(in->im->p->scripts, json_pack("{s:i, s:s, s:s}", "line", first->line,
							    "name", name, "content", wrapper));
	json_object_set_new(in->spec, "notify", json_pack("[s]", name));
}
