/*  ru_admin.h - the administrators' endpoints under /api/ruche/v1/admin/
 *  (users, key, peers, forks, backup, export: ru_admin.c says what each
 *  does). Their routes are in ru_ops_routes (ru_ops.h), which let in
 *  administrators only; the handlers do not check again.
 */
#ifndef RU_ADMIN_H
#define RU_ADMIN_H

#include "ru_http.h"

int ru_admin_passwd(ru_req_t *req);
int ru_admin_disable(ru_req_t *req);
int ru_admin_enable(ru_req_t *req);
int ru_admin_promote(ru_req_t *req);
int ru_admin_demote(ru_req_t *req);
int ru_admin_key(ru_req_t *req);
int ru_admin_add_peer(ru_req_t *req);
int ru_admin_remove_peer(ru_req_t *req);
int ru_admin_resolve_fork(ru_req_t *req);
int ru_admin_backup(ru_req_t *req);
int ru_admin_export(ru_req_t *req);

#endif
