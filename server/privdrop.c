/* See privdrop.h. The order matters: supplementary groups and the gid can only be changed while
 * still root, so they go before the uid; after setresuid nothing can be changed back. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "privdrop.h"

int
privdrop_lookup(const char *name, struct privdrop_user *u, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	int rc;

	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (rc == 0 && res == NULL && name[0] >= '0' && name[0] <= '9') {
		unsigned long id = strtoul(name, &end, 10);
		if (*end == '\0')
			rc = getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &res);
	}
	if (rc != 0)
		return errmsg(err, errlen, -1, "user %s: %s", name, strerror(rc));
	if (res == NULL)
		return errmsg(err, errlen, -1, "user %s: no such user", name);
	if (strlen(pw.pw_name) >= sizeof(u->name))
		return errmsg(err, errlen, -1, "user %s: name too long", name);
	strcpy(u->name, pw.pw_name);
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return 0;
}

int
privdrop_apply(const struct privdrop_user *u, char *err, size_t errlen)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0)
		return errmsg(err, errlen, -1, "getresuid: %s", strerror(errno));
	if (ruid == u->uid && euid == u->uid && suid == u->uid && rgid == u->gid &&
	    egid == u->gid && sgid == u->gid)
		return 0;
	if (euid != 0)
		return errmsg(err, errlen, -1, "--user %s needs root (running as uid %u)", u->name,
			      (unsigned)euid);
	if (initgroups(u->name, u->gid) != 0)
		return errmsg(err, errlen, -1, "initgroups %s: %s", u->name, strerror(errno));
	if (setresgid(u->gid, u->gid, u->gid) != 0)
		return errmsg(err, errlen, -1, "setresgid %u: %s", (unsigned)u->gid,
			      strerror(errno));
	if (setresuid(u->uid, u->uid, u->uid) != 0)
		return errmsg(err, errlen, -1, "setresuid %u: %s", (unsigned)u->uid,
			      strerror(errno));
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return errmsg(err, errlen, -1, "root could be regained after becoming %s", u->name);
	return 0;
}
