/* keepalived.conf imports (res_import.c): POST /imports?node=NAME[&dry_run=true] with the file as
 * text/plain, GET /imports/{id} (req->params[0]) for the stored report. */
#ifndef VIGIL_RES_IMPORT_H
#define VIGIL_RES_IMPORT_H

#include "http.h"

int res_imports(struct http_request *req, struct http_response *res);
int res_import(struct http_request *req, struct http_response *res);

#endif
