/*  ru_oppage.h - GET /api/ruche/v1/admin/ops: what the web front end's
 *  operator page shows (ru_oppage.c says what is in it).
 */
#ifndef RU_OPPAGE_H
#define RU_OPPAGE_H

#include "ru_http.h"

int ru_oppage_get(ru_req_t *req);

#endif
