/* The entry point, health, metrics, the embedded OpenAPI document, and the pages that document our
 * link relations (/rels/{rel}, the HAL curie "vg") and problem types (/problems/{slug}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "embedded.h"
#include "metrics.h"
#include "resource.h"
#include "router.h"

#define VIGIL_VERSION "0.1.0"

int
res_root(struct http_request *req, struct http_response *res)
{
	json_t *r = json_pack("{s:s, s:I, s:s}", "version", VIGIL_VERSION, "revision",
			      (json_int_t)store_revision(), "role", auth_role_name(req->who.role));

	store_track_any(); /* it shows the revision */
	json_object_set_new(r, "node", req->who.node[0] ? json_string(req->who.node) : json_null());
	hal_link(r, "self", "/");
	hal_add_curies(r);
	hal_link(r, "vg:nodes", "/nodes");
	hal_link(r, "vg:vips", "/vips");
	hal_link(r, "vg:backends", "/backends");
	hal_link(r, "vg:checks", "/checks");
	hal_link(r, "vg:tokens", "/tokens");
	hal_link_templated(r, "vg:events", "/events{?since,wait,actor}");
	hal_link(r, "vg:metrics", "/metrics");
	hal_link(r, "vg:healthz", "/healthz");
	hal_link(r, "describedby", "/openapi.yaml");
	hal_link_templated(r, "vg:node", "/nodes/{name}");
	hal_link_templated(r, "vg:vip", "/vips/{name}");
	hal_link_templated(r, "vg:backend", "/backends/{name}");
	hal_link_templated(r, "vg:check", "/checks/{name}");
	res->body = r;
	res->status = 200;
	res->last_modified_ms = store_kind_modified_ms(NULL);
	if (res->last_modified_ms < http_opts.start_ms)
		res->last_modified_ms = http_opts.start_ms;
	return 0;
}

int
res_healthz(struct http_request *req, struct http_response *res)
{
	if (store_count("node") < 0)
		return http_problem(res, req, 503, "unavailable", "the store cannot be read");
	store_track_any(); /* it shows the revision */
	res->body =
	    json_pack("{s:s, s:I}", "status", "ok", "revision", (json_int_t)store_revision());
	res->status = 200;
	return 0;
}

int
res_metrics(struct http_request *req, struct http_response *res)
{
	if ((res->text = metrics_render()) == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	res->text_len = strlen(res->text);
	res->content_type = MT_PROMETHEUS;
	res->status = 200;
	return 0;
}

int
res_openapi(struct http_request *req, struct http_response *res)
{
	const struct embedded_file *f = embedded_find("api-spec/openapi.yaml");

	if (f == NULL)
		return http_problem(res, req, 404, "not-found",
				    "this build has no OpenAPI document");
	if ((res->text = malloc(f->len + 1)) == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	memcpy(res->text, f->data, f->len + 1);
	res->text_len = f->len;
	res->content_type =
	    strcmp(req->media_type, "text/plain") == 0 ? MT_TEXT : "application/yaml";
	res->status = 200;
	return 0;
}

static const char *const rels[][2] = {
    {"nodes", "The collection of load-balancer nodes. POST creates one."},
    {"vips", "The collection of virtual IPs (VRRP instances). POST creates one."},
    {"backends", "The collection of real servers behind the VIPs. POST creates one."},
    {"checks", "The collection of health checks. POST creates one."},
    {"tokens", "The API tokens (admin only). POST creates one and shows its secret once."},
    {"events",
     "The change feed, ordered by revision, with who caused each change. Templated: since, "
     "wait (long-poll), actor (a token id, node:NAME, system or system:NAME)."},
    {"metrics", "Prometheus text exposition of the server's counters."},
    {"healthz", "Liveness and readiness of vigild itself; needs no token."},
    {"node", "One node, by name (templated)."},
    {"vip", "One VIP, by name (templated), or the VIP this resource belongs to."},
    {"backend", "One backend, by name (templated), or the backend a check targets."},
    {"check", "One check, by name (templated)."},
    {"config", "The node's rendered desired state, long-polled by its agent; text/plain gives "
	       "keepalived.conf."},
    {"status", "What the node's agent reports; PUT by that agent."},
    {"holder", "Who holds the VIP and who was asked to. PUT {\"node\": name} moves it (202)."},
    {"failback", "Present only while the VIP is held by a node other than its preferred one and "
		 "the preferred node's agent is up: PUT {\"node\": name} (the link's name) to "
		 "the href to move the VIP back."},
    {"member", "The nodes that are members of this VIP."},
    {"find", "A templated search of the collection by the named filters."},
    {"vips-of", "The VIPs a node is a member of."},
};

static const char *const problems[][2] = {
    {"malformed-json", "The body is not one well-formed JSON object (syntax, duplicate keys, "
		       "NUL characters, invalid UTF-8, trailing bytes or deep nesting)."},
    {"validation", "The JSON is well formed but breaks a rule; errors names each field as a "
		   "JSON Pointer."},
    {"conflict", "The request conflicts with the current state (a name or vrid taken, a "
		 "resource still in use, a move to a node whose agent is down)."},
    {"not-found", "No resource at this URI."},
    {"method-not-allowed", "The method is not allowed here; see the Allow header."},
    {"not-acceptable", "No representation matches the Accept header."},
    {"unsupported-media-type", "Send JSON (application/json), or for PATCH "
			       "application/merge-patch+json."},
    {"payload-too-large", "Bodies are limited to 1 MiB."},
    {"uri-too-long", "The request target is over 4096 bytes."},
    {"precondition-failed", "If-Match or If-None-Match did not hold: someone changed it first."},
    {"precondition-required", "This server requires If-Match on writes."},
    {"unauthorized", "Send Authorization: Bearer <token>."},
    {"forbidden", "The token's role may not do this."},
    {"gone", "The change feed no longer holds events that old."},
    {"bad-request", "A query parameter is not valid."},
    {"not-implemented", "The method is not one this server knows."},
    {"unavailable", "The server cannot answer now; retry later."},
    {"too-many-requests", "Slow down."},
    {"internal", "A fault in the server."},
};

int
res_doc(struct http_request *req, struct http_response *res)
{
	bool is_rel = strncmp(req->path, "/rels/", 6) == 0;
	const char *(*table)[2] = is_rel ? (const char *(*)[2])rels : (const char *(*)[2])problems;
	size_t n = is_rel ? sizeof(rels) / sizeof(rels[0]) : sizeof(problems) / sizeof(problems[0]);
	const char *name = req->params[0];

	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i][0], name) != 0)
			continue;
		size_t len = 0;
		FILE *f = open_memstream(&res->text, &len);
		if (f == NULL)
			return http_problem(res, req, 503, "unavailable", "out of memory");
		fprintf(f,
			"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<title>%s%s</title></head>\n<body><h1>%s%s</h1>\n<p>%s</p>\n"
			"<p>See <a href=\"/openapi.yaml\">the OpenAPI document</a>.</p>"
			"</body></html>\n",
			is_rel ? "vg:" : "problem: ", name, is_rel ? "vg:" : "problem: ", name,
			table[i][1]);
		fclose(f);
		res->text_len = len;
		res->content_type = MT_HTML;
		res->status = 200;
		return 0;
	}
	return http_problem(res, req, 404, "not-found", "nothing is documented as %s", name);
}
