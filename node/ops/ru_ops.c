/*  ru_ops.c - the operators' route table (see ru_ops.h). */
#include "ru_ops.h"

#include "ru_admin.h"
#include "ru_metrics.h"
#include "ru_oppage.h"

const ru_route_t ru_ops_routes[] = {
    {"GET", "/readyz", ru_metrics_ready, 0, 0},
    {"GET", "/metrics", ru_metrics_serve, 0, 0},
    {"POST", "/api/ruche/v1/admin/users/:name/password", ru_admin_passwd, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/users/:name/disable", ru_admin_disable, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/users/:name/enable", ru_admin_enable, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/users/:name/promote", ru_admin_promote, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/users/:name/demote", ru_admin_demote, RU_ROUTE_ADMIN, 0},
    {"GET", "/api/ruche/v1/admin/key", ru_admin_key, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/peers", ru_admin_add_peer, RU_ROUTE_ADMIN, 0},
    {"DELETE", "/api/ruche/v1/admin/peers/:site", ru_admin_remove_peer, RU_ROUTE_ADMIN, 0},
    {"POST", "/api/ruche/v1/admin/forks/:origin/resolve", ru_admin_resolve_fork, RU_ROUTE_ADMIN, 0},
    {"GET", "/api/ruche/v1/admin/backup", ru_admin_backup, RU_ROUTE_ADMIN_WRITE, 0},
    {"GET", "/api/ruche/v1/admin/export", ru_admin_export, RU_ROUTE_ADMIN, 0},
    {"GET", "/api/ruche/v1/admin/ops", ru_oppage_get, RU_ROUTE_ADMIN, 0},
    {NULL, NULL, NULL, 0, 0},
};
