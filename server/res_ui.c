/* /ui/: the dashboard's static files, compiled into vigild (placeholder until the dashboard lands). */
#include <stdlib.h>
#include <string.h>

#include "router.h"

int
res_ui(struct http_request *req, struct http_response *res)
{
	return http_problem(res, req, 404, "not-found", "the dashboard is not built into this vigild");
}
