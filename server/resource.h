/* Generic collection/item behaviour shared by nodes, VIPs, backends and checks: list with paging,
 * POST, GET, PUT (create or replace), PATCH (merge patch), DELETE, each with conditionals. A kind
 * supplies only its own rules through struct resource_kind; resource.c does the HTTP and the store.
 */
#ifndef VIGIL_RESOURCE_H
#define VIGIL_RESOURCE_H

#include <jansson.h>

#include "http.h"
#include "store.h"
#include "validate.h"

struct resource_kind {
	const char *kind;   /* store kind and event kind: "node" */
	const char *plural; /* collection path segment and _embedded key: "nodes" */

	/*
	 * Validates and normalises an input spec in place: server-owned members removed, defaults
	 * filled, values canonicalised. name is the object's name (from the URL or body); the
	 * "name" member itself has been checked and removed. old is the stored spec when a PUT
	 * replaces (NULL on create and on PATCH, whose merged input already holds the stored
	 * members). Errors go to e. Runs inside the write transaction, so it may read the store
	 * (e.g. to check that referenced objects exist).
	 */
	void (*validate)(json_t *spec, const char *name, const json_t *old, struct verr *e);

	/* Declares the refs and unique keys of a valid spec. Strings must stay valid while spec
	 * does, or live in scratch (a buffer of scratch_len bytes owned by the caller). */
	void (*links)(const json_t *spec, struct store_links *out, char *scratch,
		      size_t scratch_len);

	/*
	 * Completes a representation: repr already holds the spec members and "status" (may be
	 * NULL); add _links (self and collection are already there) and computed fields. The
	 * principal lets a kind hide what the role may not do. May read the store.
	 */
	void (*decorate)(json_t *repr, const struct store_obj *obj, const struct principal *who);

	/* Adds to an item's own representation (not to collections) what is kept in memory rather
	 * than stored, e.g. a node's latest heartbeat; such answers are not cached. May be NULL. */
	void (*live)(json_t *repr, const struct store_obj *obj);

	/* Removes write-only members before a spec is shown (e.g. auth_pass). May be NULL. */
	void (*redact)(json_t *repr);

	/* Status to store when an object is created (owned by the caller after return), or NULL. */
	json_t *(*initial_status)(const json_t *spec);

	/* Collection filters: query key -> referenced kind (e.g. "vip" -> "vip"), NULL-terminated.
	 */
	const char *const *filters;
	/* Collection filters by tag (struct store_links.tags): query key = tag kind (e.g. "group"
	 * for /vips?group=web), NULL-terminated, or NULL. */
	const char *const *tag_filters;

	/* Called inside the write transaction after a successful put or delete of name (spec NULL
	 * on delete), to update dependent state (e.g. derived status). Returns a store_rc. May be
	 * NULL. */
	int (*after_write)(struct store_tx *tx, const char *name, const json_t *spec);
};

/* The kinds, defined in res_*.c. */
extern const struct resource_kind res_node_kind, res_vip_kind, res_backend_kind, res_check_kind;

/*
 * One write of (k, name) inside an open transaction, as PUT does it: spec (the caller's, changed
 * in place) is validated against old (the stored spec when replacing, else NULL), then stored
 * with its links, initial status and after_write. With keep_same, a valid spec equal to old is
 * not written (*did RESOURCE_UNCHANGED). Returns STORE_OK, a store_rc (detail filled) or
 * RESOURCE_INVALID (the errors in e, nothing written).
 */
#define RESOURCE_INVALID (-101)
enum resource_did { RESOURCE_UNCHANGED, RESOURCE_CREATED, RESOURCE_UPDATED };
int resource_apply(const struct resource_kind *k, struct store_tx *tx, const char *name,
		   json_t *spec, const json_t *old, bool must_create, bool keep_same,
		   struct verr *e, char *detail, size_t detail_len, enum resource_did *did);

/* Handlers for /{plural} and /{plural}/{name} (req->params[0] is the name). */
int resource_collection(const struct resource_kind *k, struct http_request *req,
			struct http_response *res);
int resource_item(const struct resource_kind *k, struct http_request *req,
		  struct http_response *res);

/*
 * Builds the full representation of obj as GET shows it (caller owns the result). Used by
 * resource.c and by other handlers that embed or compare representations.
 */
json_t *resource_represent(const struct resource_kind *k, const struct store_obj *obj,
			   const struct principal *who);

/*
 * RFC 7396 merge patch: applies patch (borrowed) to target (stolen, may be NULL) and returns the
 * result (new reference). null members remove; objects merge recursively; anything else replaces.
 */
json_t *resource_merge_patch(json_t *target, json_t *patch);

/* Paging: parses ?limit and ?cursor. Returns 0, or fills res with 400 and returns -1. */
struct page {
	int limit;
	char after[STORE_NAME_MAX];
	char before[STORE_NAME_MAX];
};
int page_parse(const struct http_request *req, struct http_response *res, struct page *p);
/* Adds self/first/next/prev links to repr and an RFC 8288 Link header to res. base is the
 * collection path with filter query already applied (e.g. "/vips?node=lb1"). */
void page_links(json_t *repr, struct http_response *res, const char *base, const struct page *p,
		const char *first_name, const char *last_name, bool has_prev, bool has_next);
/* Encodes/decodes opaque cursors ("a:NAME" / "b:NAME" in base64url). */
void page_cursor_encode(char dir, const char *name, char *out, size_t len);
int page_cursor_decode(const char *cursor, char *dir, char *name, size_t len);

#endif
