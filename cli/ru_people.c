/*  ru_people.c - the query of a people search, and the entries, chunks
 *  and reports of a directory import (see ru_people.h).
 *
 *  A body's size is that of its empty form, {"complete":false,
 *  "entries":[]} dumped as the client dumps it, plus each entry's own
 *  dump and the commas between them: jansson writes an array as its
 *  members' dumps joined by commas, so the sum is the body's exact size.
 */
#include "ru_people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_url.h"
#include "ruche/ru_buf.h"
#include "ruche/ru_limits.h"

/*  Appends "&name=VALUE" (the first one with '?'), value percent-encoded;
 *  nothing for a NULL or empty value. */
static void
s_param(ru_buf_t *b, const char *name, const char *value)
{
    char *enc = NULL;
    if (value == NULL || value[0] == '\0')
        return;
    if (ru_url_escape(value, &enc) != RU_OK) {
        b->failed = 1;
        return;
    }
    ru_buf_append(b, b->len > 0 && memchr(b->data, '?', b->len) ? "&" : "?", 1);
    ru_buf_append(b, name, strlen(name));
    ru_buf_append(b, "=", 1);
    ru_buf_append(b, enc, strlen(enc));
    free(enc);
}

static void
s_number(ru_buf_t *b, const char *name, long n)
{
    char text[32];
    if (n <= 0)
        return;
    (void) snprintf(text, sizeof text, "%ld", n);
    s_param(b, name, text);
}

ru_err
ru_people_path(const ru_people_query_t *q, char **out)
{
    ru_buf_t b;
    *out = NULL;
    ru_buf_init(&b);
    ru_buf_append(&b, RU_PEOPLE_PATH, strlen(RU_PEOPLE_PATH));
    s_param(&b, "q", q->q);
    s_param(&b, "help", q->help);
    s_param(&b, "skill", q->skill);
    s_param(&b, "department", q->department);
    s_param(&b, "site", q->site);
    s_param(&b, "title", q->title);
    s_param(&b, "office", q->office);
    s_param(&b, "local", q->local ? "true" : NULL);
    s_number(&b, "limit", q->limit);
    s_number(&b, "offset", q->offset);
    ru_buf_append(&b, "", 1);
    if (ru_buf_status(&b) != RU_OK) {
        ru_buf_fini(&b);
        return RU_E_NOMEM;
    }
    *out = (char *) b.data;
    return RU_OK;
}

ru_err
ru_people_entries(const json_t *file, const json_t **entries, int *complete, char *why, size_t size)
{
    *entries = NULL;
    *complete = 0;
    if (json_is_array(file)) {
        *entries = file;
        return RU_OK;
    }
    const json_t *list = json_object_get(file, "entries");
    const json_t *flag = json_object_get(file, "complete");
    if (!json_is_array(list)) {
        (void) snprintf(why, size,
                        "it is neither a list of entries nor an object whose "
                        "\"entries\" is one");
        return RU_E_TYPE;
    }
    if (flag != NULL && !json_is_boolean(flag)) {
        (void) snprintf(why, size, "its \"complete\" is not true or false");
        return RU_E_TYPE;
    }
    *entries = list;
    *complete = json_is_true(flag);
    return RU_OK;
}

/*  Is list a list of strings? */
static int
s_strings(const json_t *list)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(list))
        return 0;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return 0;
    }
    return 1;
}

ru_err
ru_people_check_entry(const json_t *entry, char *why, size_t size)
{
    static const char *const strings[] = {"username",   "display_name", "dir_id", "title",
                                          "department", "site",         "office", "phone",
                                          "email",      "manager"};
    const json_t *skills = json_object_get(entry, "skills");
    const json_t *departed = json_object_get(entry, "departed");
    const char *bad = NULL;
    for (size_t i = 0; json_is_object(entry) && i < sizeof strings / sizeof *strings; i++) {
        const json_t *v = json_object_get(entry, strings[i]);
        if (v != NULL && !json_is_string(v)) {
            (void) snprintf(why, size, "%s is not a string", strings[i]);
            return RU_E_TYPE;
        }
    }
    if (!json_is_object(entry))
        bad = "not an object";
    else if (skills != NULL && !s_strings(skills))
        bad = "skills is not a list of strings";
    else if (json_array_size(skills) > RU_MAX_SKILLS)
        bad = "skills has more than 32";
    else if (departed != NULL && !json_is_boolean(departed))
        bad = "departed is not true or false";
    if (bad == NULL)
        return RU_OK;
    (void) snprintf(why, size, "%s", bad);
    return RU_E_TYPE;
}

/*  Bytes of v written as the client writes it. */
static size_t
s_dumped(const json_t *v)
{
    return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

/*  Bytes of the body with no entry. */
static ru_err
s_empty_size(int complete, size_t *bytes)
{
    json_t *empty = json_pack("{s:b, s:[]}", "complete", complete, "entries");
    *bytes = empty ? s_dumped(empty) : 0;
    json_decref(empty);
    return *bytes ? RU_OK : RU_E_NOMEM;
}

ru_err
ru_people_body_size(const json_t *entries, int complete, size_t *bytes)
{
    size_t n = json_array_size(entries);
    ru_err e = s_empty_size(complete, bytes);
    for (size_t i = 0; e == RU_OK && i < n; i++) {
        size_t one = s_dumped(json_array_get(entries, i));
        if (one == 0)
            return RU_E_NOMEM;
        *bytes += one + (i > 0);
    }
    return e;
}

ru_err
ru_people_chunk(const json_t *entries, size_t from, size_t max_body, size_t max_entries,
                size_t *count, size_t *bytes)
{
    size_t n = json_array_size(entries), body;
    *count = 0;
    ru_err e = s_empty_size(0, &body);
    for (size_t i = from; e == RU_OK && i < n && *count < max_entries; i++) {
        size_t one = s_dumped(json_array_get(entries, i));
        if (one == 0)
            return RU_E_NOMEM;
        size_t with = body + one + (*count > 0);
        if (with > max_body) {
            if (*count == 0) {
                *bytes = with;
                return RU_E_TOO_BIG;
            }
            break; /* the next chunk starts with this entry */
        }
        body = with;
        ++*count;
    }
    *bytes = body;
    return e;
}

ru_err
ru_people_tally(json_t *total, const json_t *report)
{
    static const char *const counts[] = {"seen", "published", "unchanged", "refused", "departed"};
    int bad = 0;
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        json_int_t sum = json_integer_value(json_object_get(total, counts[i])) +
                         json_integer_value(json_object_get(report, counts[i]));
        bad |= json_object_set_new(total, counts[i], json_integer(sum));
    }
    json_t *reasons = json_object_get(total, "reasons");
    if (!json_is_array(reasons)) {
        reasons = json_array();
        bad |= json_object_set_new(total, "reasons", reasons);
    }
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(report, "reasons"), i, r)
    {
        if (json_is_string(r))
            bad |= json_array_append(reasons, (json_t *) r);
    }
    return bad ? RU_E_NOMEM : RU_OK;
}

ru_err
ru_people_help_tags(const char *help, char **out)
{
    ru_buf_t b;
    *out = NULL;
    ru_buf_init(&b);
    for (const char *p = help ? help : ""; *p;) {
        p += strspn(p, " ,#");
        size_t n = strcspn(p, " ,");
        if (n == 0)
            continue;
        if (b.len > 0)
            ru_buf_append(&b, " or ", 4);
        ru_buf_append(&b, "#", 1);
        ru_buf_append(&b, p, n);
        p += n;
    }
    ru_buf_append(&b, "", 1);
    if (ru_buf_status(&b) != RU_OK) {
        ru_buf_fini(&b);
        return RU_E_NOMEM;
    }
    *out = (char *) b.data;
    return RU_OK;
}
