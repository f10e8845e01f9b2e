/* API tokens: secrets are 256 random bits shown once; only their SHA-256 is stored and compared in
 * constant time. Maps an Authorization header to a principal. */
#ifndef VIGIL_AUTH_H
#define VIGIL_AUTH_H

#include <stddef.h>

#include "http.h"
#include "store.h"

#define AUTH_SECRET_LEN 64 /* hex characters */

/* Resolves "Bearer <secret>" into who. Returns 0, -1 when the header is missing or unknown
 * (who->role stays ROLE_NONE), or -2 when the store could not be read (etcd without quorum). Tokens already resolved are remembered in memory until any token
 * is added or deleted. */
int auth_resolve(const char *authorization, struct principal *who);
/* Forgets the remembered tokens (at shutdown). */
void auth_clear(void);

/* SHA-256 of a secret. */
int auth_digest(const char *secret, unsigned char out[32]);
/* Fills out (AUTH_SECRET_LEN + 1) with a fresh random secret, and id (len >= 17) with a random id.
 */
int auth_new_secret(char *out, size_t len);
int auth_new_id(char *out, size_t len);

const char *auth_role_name(enum auth_role r);
/* The actor that the changes of who's requests record: its token, role, description and, for an
 * agent, its node (never the secret). */
void auth_actor(const struct principal *who, struct store_actor *out);
enum auth_role auth_role_parse(const char *s);

/*
 * At start: with secret (VIGIL_ADMIN_TOKEN) non-NULL, makes sure an admin token "bootstrap" with
 * that secret exists; otherwise, when no token exists at all, creates an admin token and writes its
 * secret to token_path (mode 0600), saying so on stderr. Returns 0 or -1 (message in err).
 */
int auth_bootstrap(const char *secret, const char *token_path, char *err, size_t errlen);

#endif
