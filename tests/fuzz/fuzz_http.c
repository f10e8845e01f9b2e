// links: server/router.c server/auth.c server/cache.c server/hmap.c server/http.c server/lease.c server/metrics.c server/res_backend.c server/res_check.c server/res_config.c server/res_event.c server/res_health.c server/res_holder.c server/res_import.c server/import.c server/import_vrrp.c server/import_vrrp_addr.c server/import_vrrp_track.c server/import_vrrp_notify.c server/import_lvs.c server/kaconf.c server/store_import.c server/res_misc.c server/res_node.c server/res_token.c server/res_ui.c server/res_vip.c server/vip_fields.c server/resource.c server/store.c server/store_conn.c server/store_keys.c server/store_token.c server/validate.c server/write.c server/embedded.c build/gen/embedded.c common/addr.c common/errmsg.c common/clock.c
/* Fuzzes vigild's request path in-process: request -> router -> handlers -> store, on a fresh copy
 * of a small database for every input (tests/fuzz/fuzz_server.h). An input is up to eight requests
 * separated by "\n###\n", each written like HTTP/1.1 without the version:
 *     METHOD TARGET
 *     Header: value
 *     (empty line)
 *     body
 * TARGET's path and query are decoded by the server's own http_target_parse (a target it refuses
 * is a 400 before the router, so the input goes no further). Authorization defaults to
 * the admin token; "Authorization: operator" (viewer, agent, admin) uses that role's token, "-"
 * sends none, anything else is sent as it is. Oracles besides the sanitizers: never a 500 (the
 * store is healthy, so a 500 is a bug on bad input), statuses in range, and a problem's "status"
 * member equal to the response status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_server.h"

#define MAX_REQUESTS 8
#define MAX_WAIT_S 300

#define CHECK(c, res)                                                                              \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			char *t_ = (res)->body ? json_dumps((res)->body, 0) : NULL;                \
			fprintf(stderr, "check failed: %s: status %d %s\n", #c, (res)->status,     \
				t_ ? t_ : "");                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* One decoded request: every string points into buf (owned). */
struct fz_req {
	char *buf;
	struct http_target target; /* the path and query, decoded as the server decodes them */
	struct http_request req;
};

static const char *
token_of(const char *v)
{
	static char bearer[4][64];

	if (strcmp(v, "-") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(fz_secrets) / sizeof(fz_secrets[0]); i++)
		if (strcmp(v, fz_secrets[i][0]) == 0) {
			snprintf(bearer[i], sizeof(bearer[i]), "Bearer %s", fz_secrets[i][1]);
			return bearer[i];
		}
	return v;
}

/* Decodes one request from data[0..len). Returns 0, or -1 when it has no request line. */
static int
decode(const uint8_t *data, size_t len, struct fz_req *r)
{
	struct http_request *req = &r->req;
	char *line, *end, *target, *v, why[128];

	memset(r, 0, sizeof(*r));
	r->buf = malloc(len + 1);
	if (r->buf == NULL)
		return -1;
	memcpy(r->buf, data, len);
	r->buf[len] = '\0';
	line = r->buf;
	end = memchr(line, '\n', len);
	if (end == NULL)
		return -1;
	*end = '\0';
	target = strchr(line, ' ');
	if (target == NULL)
		return -1;
	*target++ = '\0';
	req->method_name = line;
	req->method = http_method_of(line);
	if (http_target_parse(target, &r->target, why, sizeof(why)) != 0)
		return -1; /* the server answers 400 before the router: see fuzz_target */
	req->path = r->target.path;
	for (int i = 0; i < r->target.n; i++) {
		req->query_keys[i] = r->target.keys[i];
		req->query_vals[i] = r->target.vals[i];
	}
	req->n_query = r->target.n;
	req->authorization = token_of("admin");
	/* headers up to an empty line */
	for (line = end + 1; line < r->buf + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(r->buf + len - line));
		if (end == NULL)
			end = r->buf + len;
		*end = '\0';
		if (*line == '\0') {
			line = end + 1;
			break;
		}
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ')
			v++;
		if (strcasecmp(line, "Accept") == 0)
			req->accept = v;
		else if (strcasecmp(line, "Content-Type") == 0)
			req->content_type = v;
		else if (strcasecmp(line, "If-Match") == 0)
			req->if_match = v;
		else if (strcasecmp(line, "If-None-Match") == 0)
			req->if_none_match = v;
		else if (strcasecmp(line, "If-Modified-Since") == 0)
			req->if_modified_since = v;
		else if (strcasecmp(line, "Authorization") == 0)
			req->authorization = token_of(v);
		else if (strcasecmp(line, "Origin") == 0)
			req->origin = v;
	}
	if (line < r->buf + len) {
		/* the body: its own allocation of exactly its length plus the NUL the server adds
		 */
		size_t n = (size_t)(r->buf + len - line);
		char *body = malloc(n + 1);
		if (body != NULL) {
			memcpy(body, line, n);
			body[n] = '\0';
			req->body = body;
			req->body_len = n;
		}
	}
	return 0;
}

/* What server.c's build_request does after the headers: ?pretty and ?wait. Returns 0, or -1
 * with a 400 in res. */
static int
request_options(struct http_request *req, struct http_response *res)
{
	const char *v = http_query(req, "pretty");

	req->pretty = v != NULL && strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
	req->wait_s = -1;
	if ((v = http_query(req, "wait")) != NULL) {
		char *end;
		long w = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || w < 0 || w > MAX_WAIT_S)
			return http_problem(res, req, 400, "bad-request", "bad wait");
		req->wait_s = (int)w;
	}
	return 0;
}

static void
run_one(const uint8_t *data, size_t len)
{
	struct fz_req r;
	struct http_response res;
	struct store_keys deps = {0};
	int64_t rev0 = 0;

	memset(&res, 0, sizeof(res));
	if (decode(data, len, &r) == 0 && request_options(&r.req, &res) == 0) {
		rev0 = store_revision();
		router_dispatch(&r.req, &res, r.req.wait_s > 0 ? &deps : NULL, &rev0);
		CHECK(res.status >= 100 && res.status <= 599, &res);
		CHECK(res.status != 500, &res);
		if (res.is_problem && res.body != NULL)
			CHECK(json_integer_value(json_object_get(res.body, "status")) == res.status,
			      &res);
		http_serialize(&res);
		if (getenv("FUZZ_TRACE") != NULL) /* to check what the seeds reach */
			fprintf(stderr, "%s %s -> %d %.200s\n", r.req.method_name, r.req.path,
				res.status, res.text && res.status >= 300 ? res.text : "");
	}
	http_response_clear(&res);
	store_keys_clear(&deps);
	free((void *)r.req.body);
	http_target_free(&r.target);
	free(r.buf);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_server_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n###\n";
	const uint8_t *p = data, *end = data + size;

	if (size > 64 * 1024)
		return 0;
	fz_server_open();
	for (int i = 0; i < MAX_REQUESTS && p < end; i++) {
		const uint8_t *next = memmem(p, (size_t)(end - p), sep, sizeof(sep) - 1);
		size_t n = next ? (size_t)(next - p) : (size_t)(end - p);
		run_one(p, n);
		p = next ? next + sizeof(sep) - 1 : end;
	}
	fz_server_close();
	return 0;
}
