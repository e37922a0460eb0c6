/*  ru_render.c - statuses, accounts, people and groups as text (see
 *  ru_render.h).
 *
 *  Writers carry a sticky failure flag (s_w_t) so the rendering code reads
 *  as a sequence of writes; the flag is turned into an ru_err at the end.
 */
#include "ru_render.h"

#include <stdlib.h>
#include <string.h>

#include "ru_html.h"

typedef struct {
    FILE *out;
    int failed; /* memory ran out */
} s_w_t;

/*  Reads exactly n decimal digits at *p into *v and moves *p past them. */
static int
s_digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return 0;
        *v = *v * 10 + (c - '0');
    }
    *p += n;
    return 1;
}

/*  Days from 1970-01-01 to the given date of the proleptic Gregorian
 *  calendar (month 1-12). */
static long long
s_days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
s_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/*  Reads the zone at the end of a time: "Z" or "+hh:mm" / "-hhmm";
 *  *offset is in seconds east of UTC. */
static int
s_zone(const char *p, long *offset)
{
    int hh, mm;
    *offset = 0;
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
        return 1;
    if (p[0] != '+' && p[0] != '-')
        return 0;
    int sign = p[0] == '-' ? -1 : 1;
    p++;
    if (!s_digits(&p, 2, &hh))
        return 0;
    if (*p == ':')
        p++;
    if (!s_digits(&p, 2, &mm) || *p != '\0' || hh > 23 || mm > 59)
        return 0;
    *offset = sign * (hh * 3600L + mm * 60L);
    return 1;
}

ru_err
ru_render_parse_time(const char *iso, time_t *out)
{
    int y, mo, d, h, mi, s = 0;
    const char *p = iso;
    long offset;
    if (!s_digits(&p, 4, &y) || *p++ != '-' || !s_digits(&p, 2, &mo) || *p++ != '-' ||
        !s_digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return RU_E_TEXT_FORM;
    p++;
    if (!s_digits(&p, 2, &h) || *p++ != ':' || !s_digits(&p, 2, &mi))
        return RU_E_TEXT_FORM;
    if (*p == ':' && (p++, !s_digits(&p, 2, &s)))
        return RU_E_TEXT_FORM;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        if (frac == 0)
            return RU_E_TEXT_FORM;
        p += 1 + frac;
    }
    if (!s_zone(p, &offset) || mo < 1 || mo > 12 || d < 1 || d > s_month_days(y, mo) || h > 23 ||
        mi > 59 || s > 60)
        return RU_E_TEXT_FORM;
    long long t = s_days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + s - offset;
    *out = (time_t) t;
    return RU_OK;
}

void
ru_render_time(const char *iso, char *out, size_t size)
{
    time_t t;
    struct tm tm;
    if (iso == NULL || ru_render_parse_time(iso, &t) != RU_OK || localtime_r(&t, &tm) == NULL ||
        strftime(out, size, "%Y-%m-%d %H:%M", &tm) == 0)
        (void) snprintf(out, size, "?");
}

/*  Writes s without control characters, or "?" for NULL. */
static void
s_clean(s_w_t *w, const char *s)
{
    char *c;
    if (ru_html_clean(s ? s : "?", 0, &c) != RU_OK) {
        w->failed = 1;
        return;
    }
    (void) fputs(c, w->out);
    free(c);
}

static const char *
s_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static long long
s_int(const json_t *obj, const char *key)
{
    return (long long) json_integer_value(json_object_get(obj, key));
}

/*  Writes text wrapped at width, each line after indent spaces. */
static void
s_wrapped(s_w_t *w, const char *text, int indent, size_t width)
{
    char *wrapped;
    if (ru_html_wrap(text, width, &wrapped) != RU_OK) {
        w->failed = 1;
        return;
    }
    for (const char *line = wrapped; *line != '\0';) {
        size_t len = strcspn(line, "\n");
        (void) fprintf(w->out, "%*s%.*s\n", len ? indent : 0, "", (int) len, line);
        line += len + (line[len] == '\n');
    }
    free(wrapped);
}

/*  Writes HTML as wrapped text; nothing when it is empty. */
static void
s_html(s_w_t *w, const char *html, int indent)
{
    char *text;
    if (html == NULL)
        return;
    if (ru_html_to_text(html, &text) != RU_OK) {
        w->failed = 1;
        return;
    }
    size_t width = RU_RENDER_WIDTH - (size_t) indent;
    if (text[0] != '\0')
        s_wrapped(w, text, indent, width < RU_RENDER_MIN_WIDTH ? RU_RENDER_MIN_WIDTH : width);
    free(text);
}

static void
s_status_header(s_w_t *w, const json_t *status)
{
    const json_t *ruche = json_object_get(status, "ruche");
    const char *site = s_str(ruche, "site");
    const char *group = s_str(json_object_get(ruche, "group"), "name");
    const char *vis = s_str(status, "visibility");
    char when[RU_RENDER_TIME_SIZE];
    ru_render_time(s_str(status, "created_at"), when, sizeof when);
    (void) fputs("@", w->out);
    s_clean(w, s_str(json_object_get(status, "account"), "acct"));
    if (site != NULL) {
        (void) fputs(" (", w->out);
        s_clean(w, site);
        (void) fputs(")", w->out);
    }
    (void) fprintf(w->out, " · %s · id ", when);
    s_clean(w, s_str(status, "id"));
    (void) fprintf(w->out, " · ♥ %lld · ↩ %lld", s_int(status, "favourites_count"),
                   s_int(status, "replies_count"));
    if (group != NULL) {
        (void) fputs(" · group ", w->out);
        s_clean(w, group);
    }
    if (vis != NULL && strcmp(vis, "public") != 0) {
        (void) fputs(" · ", w->out);
        s_clean(w, vis);
    }
    if (json_string_value(json_object_get(status, "edited_at")) != NULL)
        (void) fputs(" [edited]", w->out);
    (void) fputs("\n", w->out);
}

ru_err
ru_render_status_header(FILE *out, const json_t *status)
{
    s_w_t w = {out, 0};
    s_status_header(&w, status);
    return w.failed ? RU_E_NOMEM : RU_OK;
}

/*  Writes s cleaned, on one line, cut after max code points with "…". */
static void
s_clean_cut(s_w_t *w, const char *s, size_t max)
{
    char *c;
    if (ru_html_clean(s, 0, &c) != RU_OK) {
        w->failed = 1;
        return;
    }
    size_t len = strlen(c), i = 0;
    for (size_t cols = 0; i < len && cols < max; cols++)
        for (i++; i < len && ((unsigned char) c[i] & 0xC0) == 0x80;)
            i++;
    (void) fprintf(w->out, "%.*s%s", (int) i, c, i < len ? "…" : "");
    free(c);
}

/*  Writes a size in bytes for people: "812 B", "80 KB", "1.2 MB". */
static void
s_bytes(s_w_t *w, long long n)
{
    if (n < 1024)
        (void) fprintf(w->out, "%lld B", n);
    else if (n < 1024LL * 1024)
        (void) fprintf(w->out, "%lld KB", (n + 512) / 1024);
    else if (n < 1024LL * 1024 * 1024)
        (void) fprintf(w->out, "%.1f MB", (double) n / (1024.0 * 1024));
    else
        (void) fprintf(w->out, "%.1f GB", (double) n / (1024.0 * 1024 * 1024));
}

/*  Writes the line of one attachment (see ru_render.h). */
static void
s_attachment(s_w_t *w, const json_t *a, int indent, int sensitive)
{
    const json_t *ruche = json_object_get(a, "ruche");
    const json_t *orig = json_object_get(json_object_get(a, "meta"), "original");
    const char *desc = s_str(a, "description"), *name = s_str(ruche, "name");
    const char *url = s_str(a, "url");
    (void) fprintf(w->out, "%*s[", indent + 2, "");
    s_clean(w, s_str(a, "type"));
    (void) fprintf(w->out, "%s] ", sensitive ? ", sensitive" : "");
    s_clean_cut(w,
                desc && desc[0]   ? desc
                : name && name[0] ? name
                                  : "(no description)",
                RU_RENDER_ALT_CHARS);
    if (json_is_integer(json_object_get(orig, "width")))
        (void) fprintf(w->out, " · %lld×%lld", s_int(orig, "width"), s_int(orig, "height"));
    if (json_is_integer(json_object_get(ruche, "size"))) {
        (void) fputs(" · ", w->out);
        s_bytes(w, s_int(ruche, "size"));
    }
    (void) fputs(" · ", w->out);
    s_clean(w, url ? url : "(processing)");
    if (json_is_true(json_object_get(ruche, "pending")))
        (void) fputs(" (on its way from its site)", w->out);
    (void) fputs("\n", w->out);
}

/*  Writes a status (see ru_render.h); with collapse, its content warning
 *  stands for its text and attachments. */
static ru_err
s_status(FILE *out, const json_t *status, int depth, int collapse)
{
    s_w_t w = {out, 0};
    const char *cw = s_str(status, "spoiler_text");
    const json_t *media = json_object_get(status, "media_attachments"), *a;
    int sensitive = json_is_true(json_object_get(status, "sensitive"));
    size_t i, n = json_array_size(media);
    if (depth < 0)
        depth = 0;
    int indent = 2 * (depth > RU_RENDER_MAX_DEPTH ? RU_RENDER_MAX_DEPTH : depth);
    (void) fprintf(out, "%*s", indent, "");
    s_status_header(&w, status);
    if (cw != NULL && cw[0] != '\0') {
        (void) fprintf(out, "%*sCW: ", indent, "");
        s_clean(&w, cw);
        if (collapse) {
            (void) fputs(" (ruche thread ", out);
            s_clean(&w, s_str(status, "id"));
            (void) fputs(" to read", out);
            if (n > 0)
                (void) fprintf(out, "; %zu attachment%s", n, n == 1 ? "" : "s");
            (void) fputs(")\n\n", out);
            return w.failed ? RU_E_NOMEM : RU_OK;
        }
        (void) fputs("\n", out);
    }
    s_html(&w, s_str(status, "content"), indent);
    json_array_foreach(media, i, a) s_attachment(&w, a, indent, sensitive);
    (void) fputs("\n", out);
    return w.failed ? RU_E_NOMEM : RU_OK;
}

ru_err
ru_render_status(FILE *out, const json_t *status, int depth)
{
    return s_status(out, status, depth, 0);
}

ru_err
ru_render_statuses(FILE *out, const json_t *statuses)
{
    size_t i;
    const json_t *status;
    json_array_foreach(statuses, i, status)
    {
        ru_err e = s_status(out, status, 0, 1);
        if (e != RU_OK)
            return e;
    }
    return RU_OK;
}

void
ru_render_depths(const json_t *const *statuses, size_t n, int *depths)
{
    for (size_t i = 0; i < n; i++) {
        const char *parent = s_str(statuses[i], "in_reply_to_id");
        depths[i] = 0;
        /* replies usually follow their parent closely: look back from i */
        for (size_t j = i; parent != NULL && j-- > 0;) {
            const char *id = s_str(statuses[j], "id");
            if (id != NULL && strcmp(id, parent) == 0) {
                depths[i] = depths[j] + 1;
                break;
            }
        }
    }
}

ru_err
ru_render_account(FILE *out, const json_t *account)
{
    s_w_t w = {out, 0};
    const char *name = s_str(account, "display_name");
    char since[RU_RENDER_TIME_SIZE];
    ru_render_time(s_str(account, "created_at"), since, sizeof since);
    (void) fputs("@", out);
    s_clean(&w, s_str(account, "acct"));
    const char *username = s_str(account, "username");
    if (name != NULL && name[0] != '\0' && (username == NULL || strcmp(name, username) != 0)) {
        (void) fputs(" (", out);
        s_clean(&w, name);
        (void) fputs(")", out);
    }
    (void) fputs("\nid ", out);
    s_clean(&w, s_str(account, "id"));
    (void) fprintf(out, " · %lld statuses · %lld followers · %lld following · since %.10s\n",
                   s_int(account, "statuses_count"), s_int(account, "followers_count"),
                   s_int(account, "following_count"), since);
    s_html(&w, s_str(account, "note"), 0);
    (void) fputs("\n", out);
    return w.failed ? RU_E_NOMEM : RU_OK;
}

/*  Writes " · " and s, cleaned, when s is set. */
static void
s_part(s_w_t *w, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    (void) fputs(" · ", w->out);
    s_clean(w, s);
}

/*  The second line of a "who can help" result: what made the score. */
static void
s_help_reasons(s_w_t *w, const json_t *match, const char *tags)
{
    long long posts = s_int(match, "posts");
    const char *sep = ": ";
    (void) fprintf(w->out, "  score %lld", s_int(match, "score"));
    if (s_int(match, "skill") > 0) {
        (void) fprintf(w->out, "%sskill", sep);
        sep = ", ";
    }
    if (s_int(match, "work") > 0) {
        (void) fprintf(w->out, "%stitle or department", sep);
        sep = ", ";
    }
    if (posts > 0) {
        (void) fprintf(w->out, "%s%lld post%s tagged ", sep, posts, posts == 1 ? "" : "s");
        s_clean(w, tags);
    }
    (void) fputs("\n", w->out);
}

ru_err
ru_render_person(FILE *out, const json_t *account, const char *tags)
{
    s_w_t w = {out, 0};
    const json_t *ruche = json_object_get(account, "ruche");
    const char *name = s_str(account, "display_name");
    const char *username = s_str(account, "username");
    (void) fputs("@", out);
    s_clean(&w, s_str(account, "acct"));
    if (name != NULL && (username == NULL || strcmp(name, username) != 0))
        s_part(&w, name);
    s_part(&w, s_str(ruche, "title"));
    s_part(&w, s_str(ruche, "department"));
    s_part(&w, s_str(ruche, "site"));
    (void) fputs("\n", out);
    if (tags != NULL)
        s_help_reasons(&w, json_object_get(ruche, "match"), tags);
    return w.failed ? RU_E_NOMEM : RU_OK;
}

/*  Writes plain text (a description), cleaned, wrapped and indented. */
static void
s_plain(s_w_t *w, const char *text, int indent)
{
    char *clean;
    if (text == NULL || text[0] == '\0')
        return;
    if (ru_html_clean(text, 1, &clean) != RU_OK) {
        w->failed = 1;
        return;
    }
    s_wrapped(w, clean, indent, RU_RENDER_WIDTH - (size_t) indent);
    free(clean);
}

ru_err
ru_render_group(FILE *out, const json_t *group, int detailed)
{
    s_w_t w = {out, 0};
    s_clean(&w, s_str(group, "id"));
    (void) fputs("  ", out);
    s_clean(&w, s_str(group, "name"));
    long long members = s_int(group, "members_count");
    (void) fprintf(out, " · %lld member%s", members, members == 1 ? "" : "s");
    if (json_is_true(json_object_get(group, "member")))
        (void) fputs(" · member", out);
    (void) fputs("\n", out);
    if (detailed) {
        char when[RU_RENDER_TIME_SIZE];
        ru_render_time(s_str(group, "created_at"), when, sizeof when);
        (void) fprintf(out, "    created %s by @", when);
        s_clean(&w, s_str(json_object_get(group, "creator"), "acct"));
        (void) fputs("\n", out);
    }
    s_plain(&w, s_str(group, "description"), 4);
    return w.failed ? RU_E_NOMEM : RU_OK;
}
