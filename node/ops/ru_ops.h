/*  ru_ops.h - the operators' routes: /metrics and /readyz (ru_metrics.h),
 *  the operator page's status (ru_oppage.h) and the administrators'
 *  endpoints (ru_admin.h). ruched serves them with the API's
 *  (ru_api_routes), in one table.
 */
#ifndef RU_OPS_H
#define RU_OPS_H

#include "ru_http.h"

/*  Every route of the operators, ending with a NULL method. */
extern const ru_route_t ru_ops_routes[];

#endif
