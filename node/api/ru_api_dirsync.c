/*  ru_api_dirsync.c - the site's directory import, for administrators:
 *  POST /api/ruche/v1/admin/directory takes employees given as JSON (for
 *  a company whose directory is an export of its HR system rather than
 *  LDAP, and for corrections); POST /api/ruche/v1/admin/directory/sync
 *  asks for a sync from LDAP now (202) and GET on the same path says what
 *  the sync is doing and what its last run did (ru_dirldap.h); both 404
 *  when [ldap] is off. POST answers with the state at the moment it asked
 *  (read under the same lock): the run that answers it is number runs +
 *  1, which has ended once GET says runs is that number or more and
 *  running is false (ruche admin directory sync --wait).
 *
 *  The body: {"complete": false, "entries": [{"username", "display_name",
 *  "dir_id", "title", "department", "site", "office", "phone", "email",
 *  "manager" (the manager's dir_id), "skills": [...], "departed": false}]}.
 *  complete: the entries are all the site's employees, and those missing
 *  have left. The answer is the run's report: {"seen", "published",
 *  "unchanged", "refused", "departed", "reasons": [...]}. An entry that is
 *  not an object, or whose members have the wrong types, refuses the whole
 *  request (422) before anything is published. Administrators only
 *  (admin:write).
 */
#include <string.h>

#include "ru_api.h"
#include "ru_dirldap.h"
#include "ru_dirsync.h"

static ru_str_t
s_str(json_t *entry, const char *key)
{
    json_t *v = json_object_get(entry, key);
    return json_is_string(v) ? (ru_str_t){json_string_value(v), (uint32_t) json_string_length(v)}
                             : (ru_str_t){"", 0};
}

/*  Is every member of entry of its type? (absent ones are empty) */
static const char *
s_bad_member(json_t *entry)
{
    static const char *const strings[] = {"username", "display_name", "dir_id", "title",
                                          "department", "site", "office", "phone",
                                          "email", "manager"};
    if (!json_is_object(entry))
        return "an entry is not an object";
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++) {
        json_t *v = json_object_get(entry, strings[i]);
        if (v && !json_is_string(v))
            return strings[i];
    }
    json_t *skills = json_object_get(entry, "skills");
    if (skills && !json_is_array(skills))
        return "skills";
    for (size_t i = 0; i < json_array_size(skills); i++)
        if (!json_is_string(json_array_get(skills, i)))
            return "skills";
    if (json_array_size(skills) > RU_MAX_SKILLS)
        return "skills (at most 32)";
    json_t *departed = json_object_get(entry, "departed");
    return departed && !json_is_boolean(departed) ? "departed" : NULL;
}

static void
s_entry(json_t *j, ru_dir_entry_t *e)
{
    memset(e, 0, sizeof *e);
    e->name = s_str(j, "username");
    e->display_name = s_str(j, "display_name");
    ru_person_t *p = &e->person;
    p->dir_id = s_str(j, "dir_id");
    p->title = s_str(j, "title");
    p->department = s_str(j, "department");
    p->site = s_str(j, "site");
    p->office = s_str(j, "office");
    p->phone = s_str(j, "phone");
    p->email = s_str(j, "email");
    p->manager = s_str(j, "manager");
    json_t *skills = json_object_get(j, "skills");
    for (size_t i = 0; i < json_array_size(skills); i++) {
        json_t *s = json_array_get(skills, i);
        p->skills[p->n_skills++] =
            (ru_str_t){json_string_value(s), (uint32_t) json_string_length(s)};
    }
    p->departed = json_is_true(json_object_get(j, "departed"));
}

static json_t *
s_report(const ru_dirsync_report_t *r)
{
    json_t *reasons = json_array();
    for (int i = 0; i < r->n_reasons; i++)
        json_array_append_new(reasons, json_string(r->reasons[i]));
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "seen", (json_int_t) r->seen,
                     "published", (json_int_t) r->published, "unchanged",
                     (json_int_t) r->unchanged, "refused", (json_int_t) r->refused, "departed",
                     (json_int_t) r->departed, "photos", (json_int_t) r->photos, "bad_photos",
                     (json_int_t) r->bad_photos, "reasons", reasons);
}

int
ru_api_admin_directory(ru_req_t *req)
{
    json_t *entries = json_object_get(req->params, "entries");
    if (!json_is_array(entries))
        return ru_http_error(req, 422, "Validation failed: entries must be a list of employees");
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const char *bad = s_bad_member(json_array_get(entries, i));
        if (bad)
            return ru_http_error(req, 422, "Validation failed: entry %zu: %s", i, bad);
    }
    ru_dirsync_run_t *run;
    ru_err err = ru_dirsync_begin(req->node, json_is_true(json_object_get(req->params, "complete")),
                                  NULL, NULL, &run);
    if (err)
        return ru_http_fail(req, err);
    for (size_t i = 0; !err && i < json_array_size(entries); i++) {
        ru_dir_entry_t e;
        s_entry(json_array_get(entries, i), &e);
        err = ru_dirsync_entry(run, &e);
    }
    ru_dirsync_report_t report;
    ru_err end = ru_dirsync_end(run, err != RU_OK, &report);
    err = err ? err : end;
    return err ? ru_http_fail(req, err) : ru_http_json(req, 200, s_report(&report));
}

/*  The sync's status st as JSON. */
static json_t *
s_sync_status(const ru_dirldap_status_t *st)
{
    return json_pack("{s:b, s:I, s:o, s:o, s:s, s:s, s:I, s:I, s:o}", "running", st->running,
                     "runs", (json_int_t) st->runs, "started_at",
                     st->started_ms ? ru_view_time(st->started_ms) : json_null(), "ended_at",
                     st->ended_ms ? ru_view_time(st->ended_ms) : json_null(), "result",
                     st->runs ? ru_err_name(st->result) : "none", "reason",
                     st->runs ? ru_err_str(st->result) : "no run has ended yet", "pages",
                     (json_int_t) st->pages, "skipped", (json_int_t) st->skipped, "report",
                     s_report(&st->report));
}

int
ru_api_admin_directory_sync(ru_req_t *req)
{
    ru_dirldap_status_t st;
    if (!req->node->dirldap)
        return ru_http_error(req, 404, "no directory to sync from: [ldap] is off");
    if (strcmp(req->method, "POST") == 0) {
        ru_dirldap_kick(req->node->dirldap, &st);
        return ru_http_json(req, 202, s_sync_status(&st));
    }
    ru_dirldap_status(req->node->dirldap, &st);
    return ru_http_json(req, 200, s_sync_status(&st));
}
