/* /ui/: the dashboard's static files (ui/...), compiled into vigild by scripts/embed.sh and served
 * without authentication (the page asks for a token itself), with a strong ETag, Last-Modified =
 * server start, and a Content-Security-Policy that allows only this origin and no inline script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "router.h"

#define UI_CSP                                                                                     \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static const char *const ui_types[][2] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"}, /* module scripts need a JavaScript MIME type */
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

/* Returns the Content-Type for a file name by its extension (static string). */
static const char *
ui_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(ui_types) / sizeof(ui_types[0]); i++)
		if (strcmp(dot, ui_types[i][0]) == 0)
			return ui_types[i][1];
	return "application/octet-stream";
}

/*
 * GET/HEAD /ui/ (index.html) and /ui/{file}. Only names present in the embedded table under ui/
 * are served: the router's '*' matches one segment, and a name with '/' or a leading '.' is
 * refused before the lookup, so no path can reach another embedded file. Unknown: 404 problem.
 */
int
res_ui(struct http_request *req, struct http_response *res)
{
	const char *file = req->n_params > 0 ? req->params[0] : "index.html";

	if (strcmp(req->path, "/ui") == 0) { /* the page's relative links need the slash */
		res->status = 308;
		res->location = strdup("/ui/");
		res->text = strdup("see /ui/\n");
		res->text_len = res->text ? strlen(res->text) : 0;
		res->content_type = MT_TEXT;
		res->no_cache_headers = true;
		return 0;
	}
	const struct embedded_file *f = NULL;
	char name[300];
	int n;

	if (file[0] != '.' && strchr(file, '/') == NULL) {
		n = snprintf(name, sizeof(name), "ui/%s", file);
		if (n > 0 && (size_t)n < sizeof(name))
			f = embedded_find(name);
	}
	if (f == NULL)
		return http_problem(res, req, 404, "not-found", "no resource at %s", req->path);
	if ((res->text = malloc(f->len + 1)) == NULL)
		return http_problem(res, req, 503, "unavailable", "out of memory");
	memcpy(res->text, f->data, f->len + 1);
	res->text_len = f->len;
	res->content_type = ui_content_type(name);
	res->last_modified_ms = http_opts.start_ms;
	res->csp = UI_CSP;
	res->status = 200;
	return 0;
}
