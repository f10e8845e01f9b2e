/* VIPs beyond the generic resource: the holder sub-resource (manual moves) and the derived status
 * (holder, preferred member, per-member state) recomputed from the member nodes' reports. */
#ifndef VIGIL_RES_VIP_H
#define VIGIL_RES_VIP_H

#include "http.h"
#include "store.h"

/* GET/PUT/DELETE /vips/{name}/holder (req->params[0] is the VIP name). */
int res_vip_holder(struct http_request *req, struct http_response *res);

/*
 * Recomputes the derived part of VIP name's status from its members' node status (agent liveness,
 * reported VRRP state), keeping the move request members, and stores it through tx if it changed.
 * Returns a store_rc.
 */
int vip_refresh_status(struct store_tx *tx, const char *name);

/* Is node one of the members of the VIP spec (borrowed)? */
bool vip_has_member(const json_t *spec, const char *node);

#endif
