/* Tokens with GnuTLS for hashing and the kernel's getrandom for secrets. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "auth.h"
#include "hmap.h"
#include "write.h"
#include "store.h"

static const char *const role_names[] = {
    [ROLE_NONE] = "none",	  [ROLE_AGENT] = "agent", [ROLE_VIEWER] = "viewer",
    [ROLE_OPERATOR] = "operator", [ROLE_ADMIN] = "admin",
};

const char *
auth_role_name(enum auth_role r)
{
	return role_names[r];
}

enum auth_role
auth_role_parse(const char *s)
{
	for (int r = ROLE_AGENT; r <= ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum auth_role)r;
	return ROLE_NONE;
}

int
auth_digest(const char *secret, unsigned char out[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, strlen(secret), out) == 0 ? 0 : -1;
}

/* Fills buf with n random bytes from the kernel. */
static int
random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int
random_hex(char *out, size_t len, size_t nbytes)
{
	unsigned char raw[32];
	static const char hex[] = "0123456789abcdef";

	if (nbytes > sizeof(raw) || len < nbytes * 2 + 1 || random_bytes(raw, nbytes) != 0)
		return -1;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[nbytes * 2] = '\0';
	return 0;
}

int
auth_new_secret(char *out, size_t len)
{
	return random_hex(out, len, 32);
}

int
auth_new_id(char *out, size_t len)
{
	return random_hex(out, len, 8);
}

/*
 * Tokens resolved since start: hex digest -> struct known (owned), each good while no token has
 * been added or deleted since the revision read before its lookup (the "token/" key, which every
 * token write touches), so a revoked token is refused from the next request on, as with a store
 * lookup. It spares every request a SQLite read. Only successes are kept, so unknown secrets cannot
 * fill it; it is emptied when it reaches KNOWN_MAX.
 */
#define KNOWN_MAX 65536
struct known {
	struct principal who;
	int64_t rev0;
};
static struct {
	pthread_rwlock_t lock;
	struct hmap map;
} known = {
    .lock = PTHREAD_RWLOCK_INITIALIZER,
};

/* The revision at which a token was last added or deleted (0: not since start). */
static int64_t
tokens_rev(void)
{
	static char key[1][STORE_KEY_MAX] = {"token/"};
	static const struct store_keys tokens = {.key = key, .n = 1, .cap = 1};

	return store_keys_rev(&tokens);
}

/* The digest in hex, from a table (snprintf per byte cost more than the lookup it spares). */
static void
hex(const unsigned char d[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[64] = '\0';
}

static void
known_free(union hmap_val *v)
{
	free(v->p);
}

/* Fills who from the memo of digest (hex). Returns true on a current entry. */
static bool
known_get(const char *key, struct principal *who)
{
	const union hmap_val *v;
	bool hit = false;

	pthread_rwlock_rdlock(&known.lock);
	if ((v = hmap_get(&known.map, key)) != NULL) {
		const struct known *k = v->p;
		if ((hit = tokens_rev() <= k->rev0))
			*who = k->who;
	}
	pthread_rwlock_unlock(&known.lock);
	return hit;
}

/* Remembers who for digest (hex), looked up from data read at rev0 or later. */
static void
known_put(const char *key, const struct principal *who, int64_t rev0)
{
	union hmap_val *v;

	pthread_rwlock_wrlock(&known.lock);
	if (known.map.n >= KNOWN_MAX)
		hmap_free(&known.map, known_free);
	if ((v = hmap_put(&known.map, key)) != NULL &&
	    (v->p != NULL || (v->p = malloc(sizeof(struct known))) != NULL)) {
		struct known *k = v->p;
		k->who = *who;
		k->rev0 = rev0;
	}
	pthread_rwlock_unlock(&known.lock);
}

void
auth_clear(void)
{
	pthread_rwlock_wrlock(&known.lock);
	hmap_free(&known.map, known_free);
	pthread_rwlock_unlock(&known.lock);
}

int
auth_resolve(const char *authorization, struct principal *who)
{
	unsigned char d[32];
	char key[65];
	struct store_token t;
	const char *p = authorization;
	int64_t rev0;

	memset(who, 0, sizeof(*who));
	if (p == NULL || strncasecmp(p, "Bearer ", 7) != 0)
		return -1;
	p += 7;
	while (*p == ' ')
		p++;
	if (*p == '\0' || strlen(p) > 512 || auth_digest(p, d) != 0)
		return -1;
	hex(d, key);
	if (known_get(key, who))
		return 0;
	rev0 = store_revision(); /* before reading: what it reads is at least this new */
	if (store_token_find(d, &t) != STORE_OK)
		return -1;
	who->role = auth_role_parse(t.role);
	snprintf(who->token_id, sizeof(who->token_id), "%s", t.id);
	snprintf(who->node, sizeof(who->node), "%s", t.node);
	snprintf(who->description, sizeof(who->description), "%s", t.description);
	if (who->role == ROLE_NONE)
		return -1;
	known_put(key, who, rev0);
	return 0;
}

/* A bootstrap write: replace_id (when non-NULL) revoked, then t added with digest. */
struct admin_write {
	const char *replace_id;
	struct store_token t;
	unsigned char digest[32];
};

static int
admin_apply(struct store_tx *tx, void *arg)
{
	struct admin_write *aw = arg;
	int rc;

	if (aw->replace_id != NULL && (rc = store_token_delete(tx, aw->replace_id)) != STORE_OK &&
	    rc != STORE_NOTFOUND)
		return rc;
	return store_token_add(tx, &aw->t, aw->digest);
}

/* Adds an admin token (id, secret), replacing the token replace_id when non-NULL, in its own
 * transaction. Returns a store_rc, or -1 when the secret cannot be hashed. */
static int
add_admin(const char *id, const char *secret, const char *description, const char *replace_id)
{
	struct admin_write aw = {.replace_id = replace_id};

	snprintf(aw.t.id, sizeof(aw.t.id), "%s", id);
	snprintf(aw.t.role, sizeof(aw.t.role), "admin");
	snprintf(aw.t.description, sizeof(aw.t.description), "%s", description);
	aw.t.created_ms = clock_wall_ms();
	if (auth_digest(secret, aw.digest) != 0)
		return -1;
	return write_background("bootstrap", admin_apply, &aw);
}

void
auth_actor(const struct principal *who, struct store_actor *out)
{
	memset(out, 0, sizeof(*out));
	out->type = STORE_ACTOR_TOKEN;
	snprintf(out->id, sizeof(out->id), "%s", who->token_id);
	snprintf(out->role, sizeof(out->role), "%s", auth_role_name(who->role));
	snprintf(out->node, sizeof(out->node), "%s", who->role == ROLE_AGENT ? who->node : "");
	snprintf(out->description, sizeof(out->description), "%s", who->description);
}

int
auth_bootstrap(const char *secret, const char *token_path, char *err, size_t errlen)
{
	struct store_token t;
	struct principal who;
	char fresh[AUTH_SECRET_LEN + 1], id[24];
	int fd;

	if (secret != NULL && *secret != '\0') {
		char bearer[600];
		snprintf(bearer, sizeof(bearer), "Bearer %s", secret);
		if (auth_resolve(bearer, &who) == 0 && who.role == ROLE_ADMIN)
			return 0;
		/* a different secret replaces the bootstrap token, in one transaction */
		bool changed = store_token_get("bootstrap", &t) == STORE_OK;
		if (add_admin("bootstrap", secret, "from VIGIL_ADMIN_TOKEN",
			      changed ? "bootstrap" : NULL) != 0)
			goto fail;
		return 0;
	}
	if (store_token_count() != 0)
		return 0;
	if (auth_new_secret(fresh, sizeof(fresh)) != 0 || auth_new_id(id, sizeof(id)) != 0)
		goto fail;
	fd = open(token_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", fresh) < 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s", token_path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (add_admin(id, fresh, "created at first start", NULL) != 0)
		goto fail;
	fprintf(stderr, "vigild: created an admin token; its secret is in %s\n", token_path);
	return 0;
fail:
	snprintf(err, errlen, "cannot create the bootstrap admin token");
	return -1;
}
