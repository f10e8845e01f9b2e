/* The server-side harnesses' store: a template database (tokens of every role, two nodes, a VIP,
 * a backend and two checks, all written through the router) made once, and a fresh copy of it for
 * every input, so that an input always meets the same state and a crash reproduces from the input
 * alone. Both live on /dev/shm when it exists: the store syncs every commit. */
#ifndef VIGIL_FUZZ_SERVER_H
#define VIGIL_FUZZ_SERVER_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cache.h"
#include "lease.h"
#include "res_node.h"
#include "router.h"
#include "store.h"
#include "write.h"

#define FZ_ADMIN "fuzz-admin-secret"

/* The secrets of the template's tokens, by role name (the agent's is bound to node lb1). */
static const char *const fz_secrets[][2] = {
    {"admin", FZ_ADMIN},
    {"operator", "fuzz-operator-secret"},
    {"viewer", "fuzz-viewer-secret"},
    {"agent", "fuzz-agent-lb1-secret"},
};

static char fz_dir[64], fz_template[128], fz_db[128];
static bool fz_open;		/* the store is open on fz_db */
static int64_t fz_template_rev; /* the template's revision: fz_db is still a copy while equal */

static inline void
fz_die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz harness set-up: %s: %s\n", what, err);
	abort();
}

static inline int
fz_add_token(struct store_tx *tx, void *arg)
{
	const char *const *t = arg;
	struct store_token tok;
	unsigned char d[32];

	memset(&tok, 0, sizeof(tok));
	snprintf(tok.id, sizeof(tok.id), "fuzz-%s", t[0]);
	snprintf(tok.role, sizeof(tok.role), "%s", t[0]);
	if (strcmp(t[0], "agent") == 0)
		snprintf(tok.node, sizeof(tok.node), "lb1");
	auth_digest(t[1], d);
	return store_token_add(tx, &tok, d);
}

/* Runs one request as the admin; aborts unless it answers with want. */
static inline void
fz_admin_request(enum http_method m, const char *name, const char *path, const char *body, int want)
{
	struct http_request req;
	struct http_response res;
	int64_t rev0 = 0;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.method = m;
	req.method_name = name;
	req.path = path;
	req.authorization = "Bearer " FZ_ADMIN;
	req.content_type = m == HTTP_PATCH ? MT_MERGE_PATCH : MT_JSON;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.wait_s = -1;
	router_dispatch(&req, &res, NULL, &rev0);
	if (res.status != want) {
		char *t = res.body ? json_dumps(res.body, 0) : NULL;
		fprintf(stderr, "%s %s: %d, not %d: %s\n", name, path, res.status, want,
			t ? t : "");
		fz_die("seeding the template", "unexpected answer");
	}
	http_response_clear(&res);
}

static inline void
fz_copy(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (in < 0 || out < 0)
		fz_die("copy", from);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			fz_die("copy", to);
	close(in);
	close(out);
}

static inline void
fz_unlink_db(const char *db)
{
	char p[160];

	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

static inline void
fz_cleanup(void)
{
	fz_unlink_db(fz_template);
	fz_unlink_db(fz_db);
	rmdir(fz_dir);
}

/* Makes the template database. */
static inline void
fz_server_init(void)
{
	char err[256] = "";

	snprintf(fz_dir, sizeof(fz_dir), "%s/vigil-fuzz-XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(fz_dir) == NULL)
		fz_die("mkdtemp", fz_dir);
	snprintf(fz_template, sizeof(fz_template), "%s/template.db", fz_dir);
	snprintf(fz_db, sizeof(fz_db), "%s/vigil.db", fz_dir);
	atexit(fz_cleanup);
	http_opts.start_ms = clock_wall_ms();
	if (store_open(fz_template, 1000, NULL, err, sizeof(err)) != STORE_OK)
		fz_die("store_open", err);
	if (write_background("fuzz-setup", fz_add_token, (void *)fz_secrets[0]) != STORE_OK)
		fz_die("token", "admin");
	fz_admin_request(HTTP_POST, "POST", "/nodes",
			 "{\"name\":\"lb1\",\"address\":\"198.18.0.1\",\"interface\":\"eth0\"}",
			 201);
	fz_admin_request(HTTP_POST, "POST", "/nodes",
			 "{\"name\":\"lb2\",\"address\":\"198.18.0.2\",\"interface\":\"eth0\","
			 "\"labels\":{\"rack\":\"a\"}}",
			 201);
	fz_admin_request(
	    HTTP_POST, "POST", "/vips",
	    "{\"name\":\"web\",\"addresses\":[\"198.18.0.100/24\"],\"interface\":\"eth0\","
	    "\"vrid\":51,\"members\":[{\"node\":\"lb1\",\"priority\":200},"
	    "{\"node\":\"lb2\",\"priority\":100}]}",
	    201);
	fz_admin_request(HTTP_POST, "POST", "/backends",
			 "{\"name\":\"web1\",\"vip\":\"web\",\"address\":\"198.18.1.1\","
			 "\"port\":8080}",
			 201);
	fz_admin_request(HTTP_POST, "POST", "/checks",
			 "{\"name\":\"web1-http\",\"type\":\"http\",\"backend\":\"web1\","
			 "\"path\":\"/health\"}",
			 201);
	fz_admin_request(HTTP_POST, "POST", "/checks",
			 "{\"name\":\"lb1-haproxy\",\"type\":\"tcp\",\"node\":\"lb1\",\"port\":80,"
			 "\"weight\":-20}",
			 201);
	for (size_t i = 1; i < sizeof(fz_secrets) / sizeof(fz_secrets[0]); i++) /* after lb1 */
		if (write_background("fuzz-setup", fz_add_token, (void *)fz_secrets[i]) != STORE_OK)
			fz_die("token", fz_secrets[i][0]);
	fz_template_rev = store_revision();
	store_close();
	cache_clear();
	auth_clear();
	lease_clear();
}

/* Opens the store on a fresh copy of the template, unless it is open on an unchanged copy. */
static inline void
fz_server_open(void)
{
	char err[256] = "";

	if (fz_open)
		return;
	fz_unlink_db(fz_db);
	fz_copy(fz_template, fz_db);
	if (store_open(fz_db, 1000, NULL, err, sizeof(err)) != STORE_OK)
		fz_die("store_open", err);
	fz_open = true;
}

/* Forgets everything kept in memory about this input's requests, and closes the store when they
 * wrote to it (the next input gets a new copy): copying and opening costs more than the requests.
 */
static inline void
fz_server_close(void)
{
	cache_clear();
	auth_clear();
	lease_clear();
	if (store_revision() != fz_template_rev) {
		store_close();
		fz_open = false;
	}
}

#endif
