/* vigild --user: becoming an unprivileged user after the privileged start-up steps (binding the
 * port, reading the TLS key), on hosts without a service manager that does it for us. */
#ifndef VIGIL_PRIVDROP_H
#define VIGIL_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

struct privdrop_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/* Looks name up in the user database (a name, or a numeric uid that has an entry). Returns 0,
 * or -1 with "no such user" or the lookup error in err. Call it early: an unknown user is a
 * configuration error to report before anything is opened. */
int privdrop_lookup(const char *name, struct privdrop_user *u, char *err, size_t errlen);

/* Becomes u for good: supplementary groups (initgroups), then the gid, then the uid, real,
 * effective and saved alike, and checks that setuid(0) now fails. A no-op when already running
 * as u. Returns 0, or -1 with a message in err; the caller must exit on -1. glibc applies the
 * ids to every thread, but call it before starting any. */
int privdrop_apply(const struct privdrop_user *u, char *err, size_t errlen);

#endif
