/*  ru_view.c - Status, Account and Group JSON (see ru_view.h).
 *
 *  An account's counts (statuses, followers, following) are kept by the
 *  state machine in the counts database: showing one costs one read. So
 *  does a status's link preview (ru_card.h), which the view asks for
 *  without ever waiting for a fetch.
 *
 *  What an Account shows of the person behind it:
 *  - avatar and header (and their _static twins, the same images: a
 *    profile's images are re-encoded still pictures): the URLs of the
 *    blobs the profile names, or this site's plain default images
 *    (node/web/avatar.png, header.png), since Mastodon apps expect a URL;
 *  - fields: the profile fields the employee set, the value as HTML;
 *  - created_at: when the account was made here (a local account), else
 *    the first status, follow or profile of theirs this site applied;
 *  - "ruche": the employee's entry in the company directory as their home
 *    site published it (title, department, site, office, phone, e-mail,
 *    skills, the manager's account id, whether they left);
 *  - moved: an employee whose directory id now stands for an account of
 *    another site (they moved there: ru_search_dir_current) shows that
 *    account, as Mastodon shows an account that moved.
 */
#include "ru_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ruche/ru_text.h"

#include "ru_card.h"
#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_media_view.h"
#include "ru_pubid.h"
#include "ru_search.h"
#include "ru_sites.h"

static const char *const s_visibility[] = {"public", "unlisted", "private", "direct"};

static int
s_is_self(const ru_view_t *v, const uint8_t *origin)
{
    return memcmp(origin, ru_key_public(v->node->key), RU_KEY_BYTES) == 0;
}

void
ru_view_site(const ru_view_t *v, const uint8_t *origin, char *out)
{
    if (ru_sites_name(v->node->sites, origin, out))
        return;
    char text[RU_KEY_TEXT_SIZE];
    ru_b64_encode(text, origin, RU_KEY_BYTES);
    snprintf(out, RU_MAX_NAME + 1, "%.8s", text);
}

int
ru_view_site_key(void *node_p, const char *site, uint8_t *key)
{
    const ru_node_t *node = node_p;
    return ru_sites_key(node->sites, site, key);
}

const char *
ru_view_visibility(ru_visibility vis)
{
    return vis <= RU_VIS_MAX ? s_visibility[vis] : "direct"; /* decoded: never above */
}

json_t *
ru_view_time(uint64_t ms)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    char buf[40];
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03uZ", (unsigned) (ms % 1000));
    return json_string(buf);
}

/*  Escapes text into buf as HTML. */
static void
s_escape(ru_buf_t *buf, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const char *rep = text[i] == '&'    ? "&amp;"
                          : text[i] == '<'  ? "&lt;"
                          : text[i] == '>'  ? "&gt;"
                          : text[i] == '"'  ? "&quot;"
                          : text[i] == '\'' ? "&#39;"
                          : text[i] == '\n' ? "<br>"
                                            : NULL;
        if (rep)
            ru_buf_append(buf, rep, strlen(rep));
        else
            ru_buf_append(buf, &text[i], 1);
    }
}

/*  Appends NULL-terminated list of strings. */
static void
s_cat(ru_buf_t *buf, const char *const *parts)
{
    for (; *parts; parts++)
        ru_buf_append(buf, *parts, strlen(*parts));
}

/*  Finds the user a mention names: @name is on the author's site (origin),
 *  @name@site on that site (only this node's own site name is known to
 *  it). Returns 1 and sets *home when that user is known here. */
static int
s_resolve(const ru_view_t *v, const uint8_t *origin, const ru_entity_t *e, const uint8_t **home)
{
    static _Thread_local uint8_t site_key[RU_KEY_BYTES];
    if (e->site[0] && !ru_view_site_key(v->node, e->site, site_key))
        return 0;
    *home = e->site[0] ? site_key : origin;
    ru_account_t local;
    if (s_is_self(v, *home) && ru_account_get(v->txn, e->name, &local) == RU_OK)
        return 1;
    ru_str_t name = {e->name, (uint32_t) strlen(e->name)};
    return ru_pubid_known_user(v->txn, *home, name);
}

/*  Bytes of the first n code points of s[0..len) (UTF-8). */
static size_t
s_code_points(const char *s, size_t len, size_t n)
{
    size_t i = 0;
    while (i < len && n > 0) {
        i++;
        while (i < len && ((unsigned char) s[i] & 0xC0) == 0x80)
            i++;
        n--;
    }
    return i;
}

/*  A link to the address u (a link entity: http or https, so never a
 *  script), shown as Mastodon's apps expect: the scheme and "www." in an
 *  invisible span, the next S_URL_SHOWN characters, and the rest invisible
 *  after an ellipsis span. Taken as text (the CLI, a copy), it is the
 *  whole address again. */
#define S_URL_SHOWN 30
static void
s_link(ru_buf_t *buf, const char *u, size_t len)
{
    size_t scheme = u[4] == ':' ? 7 : 8; /* "http://" or "https://" */
    if (len - scheme > 4 && strncasecmp(u + scheme, "www.", 4) == 0)
        scheme += 4;
    size_t shown = s_code_points(u + scheme, len - scheme, S_URL_SHOWN);
    int cut = scheme + shown < len;
    ru_buf_append(buf, "<a href=\"", 9);
    s_escape(buf, u, len);
    s_cat(buf, (const char *[]){"\" rel=\"nofollow noopener noreferrer\" target=\"_blank\">"
                                "<span class=\"invisible\">",
                                NULL});
    s_escape(buf, u, scheme);
    s_cat(buf, (const char *[]){"</span><span", cut ? " class=\"ellipsis\">" : ">", NULL});
    s_escape(buf, u + scheme, shown);
    ru_buf_append(buf, "</span>", 7);
    if (cut) {
        s_cat(buf, (const char *[]){"<span class=\"invisible\">", NULL});
        s_escape(buf, u + scheme + shown, len - scheme - shown);
        ru_buf_append(buf, "</span>", 7);
    }
    ru_buf_append(buf, "</a>", 4);
}

/*  ru_view_html's work; para: in a paragraph (<p>...</p>). */
static char *
s_html(const ru_view_t *v, const uint8_t *origin, ru_str_t text, int para)
{
    ru_buf_t buf;
    ru_buf_init(&buf);
    if (para)
        ru_buf_append(&buf, "<p>", 3);
    size_t pos = 0, done = 0;
    ru_entity_t e;
    const char *url = v->node->public_url;
    while (ru_entity_next(text.ptr, text.len, &pos, &e)) {
        s_escape(&buf, text.ptr + done, e.start - done);
        done = e.start + e.len;
        if (e.kind == RU_ENTITY_URL) {
            s_link(&buf, text.ptr + e.start, e.len);
            continue;
        }
        const uint8_t *home;
        char site[RU_MAX_NAME + 1];
        if (e.kind == RU_ENTITY_MENTION && !s_resolve(v, origin, &e, &home)) {
            s_escape(&buf, text.ptr + e.start, e.len); /* nobody known: plain text */
            continue;
        }
        if (e.kind == RU_ENTITY_MENTION) {
            ru_view_site(v, home, site);
            s_cat(&buf,
                  (const char *[]){"<span class=\"h-card\"><a href=\"", url, "/@", e.name,
                                   s_is_self(v, home) ? "" : "@", s_is_self(v, home) ? "" : site,
                                   "\" class=\"u-url mention\">", NULL});
        } else
            s_cat(&buf, (const char *[]){"<a href=\"", url, "/tags/", e.name,
                                         "\" class=\"mention hashtag\" rel=\"tag\">", NULL});
        s_escape(&buf, text.ptr + e.start, e.len);
        ru_buf_append(&buf, e.kind == RU_ENTITY_TAG ? "</a>" : "</a></span>",
                      e.kind == RU_ENTITY_TAG ? 4 : 11);
    }
    s_escape(&buf, text.ptr + done, text.len - done);
    if (para)
        ru_buf_append(&buf, "</p>", 5); /* with the NUL */
    else
        ru_buf_append(&buf, "", 1);
    if (ru_buf_status(&buf)) {
        ru_buf_fini(&buf);
        return NULL;
    }
    return (char *) buf.data;
}

char *
ru_view_html(const ru_view_t *v, const uint8_t *origin, ru_str_t text)
{
    return s_html(v, origin, text, 1);
}

char *
ru_view_inline_html(const ru_view_t *v, const uint8_t *origin, ru_str_t text)
{
    return s_html(v, origin, text, 0);
}

/*  The URL of the profile image packed (len 0: none), or of this site's
 *  default one, file (under node/web). */
static json_t *
s_profile_image(const ru_view_t *v, ru_packed_t packed, const char *file)
{
    char url[RU_CONFIG_PATH_MAX + 128];
    ru_media_t m[RU_MAX_MEDIA];
    uint32_t n = 0;
    if (packed.len && ru_media_unpack(packed.ptr, packed.len, m, &n) == RU_OK && n == 1)
        ru_media_view_image_url(v->node, &m[0], 0, url, sizeof url);
    else
        snprintf(url, sizeof url, "%s/%s", v->node->public_url, file);
    return json_string(url);
}

/*  Mastodon's fields: [{name, value (HTML), verified_at}]. */
static json_t *
s_fields(const ru_view_t *v, const uint8_t *home, const ru_person_t *p)
{
    json_t *fields = json_array();
    for (uint32_t i = 0; p && i < p->n_fields; i++) {
        char *value = ru_view_inline_html(v, home, p->fields[i].value);
        json_array_append_new(fields, json_pack("{s:s%, s:s, s:n}", "name", p->fields[i].name.ptr,
                                                (size_t) p->fields[i].name.len, "value",
                                                value ? value : "", "verified_at"));
        free(value);
    }
    return fields;
}

/*  The account id of the user key (its length ulen) as text, or JSON null. */
static json_t *
s_user_id(const uint8_t *user, size_t ulen)
{
    if (!ulen)
        return json_null();
    char id[RU_PUBID_SIZE];
    ru_pubid_text(ru_pubid_user(user, (ru_str_t){(const char *) user + RU_KEY_BYTES,
                                                  (uint32_t) (ulen - RU_KEY_BYTES - 1)}),
                  id);
    return json_string(id);
}

/*  "ruche": the employee's entry in the company directory. */
static json_t *
s_person(const ru_view_t *v, const ru_person_t *p)
{
    if (!p)
        return json_pack("{s:b}", "directory", 0);
    json_t *skills = json_array();
    for (uint32_t i = 0; i < p->n_skills; i++)
        json_array_append_new(skills, json_stringn(p->skills[i].ptr, p->skills[i].len));
    uint8_t boss[RU_DBKEY_USER];
    size_t blen = ru_search_dir_current(v->txn, p->manager, boss);
    return json_pack("{s:b, s:s%, s:s%, s:s%, s:s%, s:s%, s:s%, s:o, s:o, s:b}", "directory",
                     p->dir_id.len > 0, "title", p->title.ptr, (size_t) p->title.len,
                     "department", p->department.ptr, (size_t) p->department.len, "site",
                     p->site.ptr, (size_t) p->site.len, "office", p->office.ptr,
                     (size_t) p->office.len, "phone", p->phone.ptr, (size_t) p->phone.len,
                     "email", p->email.ptr, (size_t) p->email.len, "skills", skills, "manager_id",
                     s_user_id(boss, blen), "departed", p->departed);
}

/*  The account that stands for the employee p now, if it is not
 *  home|name: into user, its length returned (0: none). */
static size_t
s_moved(const ru_view_t *v, const uint8_t *home, ru_str_t name, const ru_person_t *p,
        uint8_t *user)
{
    if (!p || !p->dir_id.len)
        return 0;
    uint8_t self[RU_DBKEY_USER];
    return ru_search_dir_elsewhere(v->txn, p->dir_id, self, ru_dbkey_user(self, home, name),
                                   user);
}

static json_t *
s_account(const ru_view_t *v, const uint8_t *home, ru_str_t name, int with_moved)
{
    char id[RU_PUBID_SIZE], site[RU_MAX_NAME + 1], acct[2 * RU_MAX_NAME + 2];
    char user[RU_MAX_NAME + 1];
    snprintf(user, sizeof user, "%.*s", (int) name.len, name.ptr);
    ru_pubid_text(ru_pubid_user(home, name), id);
    ru_view_site(v, home, site);
    if (s_is_self(v, home))
        snprintf(acct, sizeof acct, "%s", user);
    else
        snprintf(acct, sizeof acct, "%s@%s", user, site);
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, home, name);
    MDB_val val;
    ru_profile_rec_t prof = {.display_name = {user, (uint32_t) strlen(user)}, .note = {"", 0}};
    if (ru_txn_get(v->txn, RU_DB_profiles, key, klen, &val) == RU_OK &&
        ru_profile_rec_decode(val.mv_data, val.mv_size, &prof) != RU_OK)
        prof = (ru_profile_rec_t){.display_name = {user, (uint32_t) strlen(user)}, .note = {"", 0}};
    ru_person_t person;
    int has_person =
        prof.person.len && ru_person_unpack(prof.person.ptr, prof.person.len, &person) == RU_OK;
    ru_account_t local = {0};
    int is_local = s_is_self(v, home) && ru_account_get(v->txn, user, &local) == RU_OK;
    char *note = ru_view_html(v, home, prof.note);
    ru_counts_rec_t counts = {0, 0, 0, 0};
    if (ru_txn_get(v->txn, RU_DB_counts, key, klen, &val) == RU_OK)
        ru_counts_rec_decode(val.mv_data, val.mv_size, &counts);
    uint64_t created = is_local ? local.created_ms
                                : ru_hlc_ms(counts.since ? counts.since : prof.hlc);
    char url[sizeof v->node->public_url + sizeof acct + 2];
    snprintf(url, sizeof url, "%s/@%s", v->node->public_url, acct);
    json_t *avatar = s_profile_image(v, prof.avatar, "avatar.png");
    json_t *header = s_profile_image(v, prof.header, "header.png");
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s%, s:s, s:s, s:o, s:I, s:I, s:I, s:b, s:b, s:b, s:O, s:O, s:O, s:O,"
        " s:n, s:[], s:o, s:o}",
        "id", id, "username", user, "acct", acct, "display_name", prof.display_name.ptr,
        (size_t) prof.display_name.len, "note", note ? note : "", "url", url, "created_at",
        ru_view_time(created), "followers_count", (json_int_t) counts.followers,
        "following_count", (json_int_t) counts.following, "statuses_count",
        (json_int_t) counts.statuses, "locked", 0, "bot", 0, "group", 0, "avatar", avatar,
        "avatar_static", avatar, "header", header, "header_static", header, "last_status_at",
        "emojis", "fields", s_fields(v, home, has_person ? &person : NULL), "ruche",
        s_person(v, has_person ? &person : NULL));
    json_decref(avatar); /* each packed twice ("O"): the account holds them */
    json_decref(header);
    free(note);
    uint8_t moved[RU_DBKEY_USER];
    size_t mlen = with_moved ? s_moved(v, home, name, has_person ? &person : NULL, moved) : 0;
    if (j && mlen) {
        json_t *to = s_account(v, moved,
                               (ru_str_t){(const char *) moved + RU_KEY_BYTES,
                                          (uint32_t) (mlen - RU_KEY_BYTES - 1)},
                               0);
        if (to)
            json_object_set_new(j, "moved", to);
    }
    return j;
}

json_t *
ru_view_account(const ru_view_t *v, const uint8_t *home, ru_str_t name)
{
    return s_account(v, home, name, 1);
}

/*  The mentions of a status: [{id, username, acct, url}] for the users
 *  named in its text that resolve to a known home. */
static json_t *
s_mentions(const ru_view_t *v, const uint8_t *origin, ru_str_t text, json_t **tags)
{
    json_t *mentions = json_array();
    *tags = json_array();
    size_t pos = 0;
    ru_entity_t e;
    while (ru_entity_next(text.ptr, text.len, &pos, &e)) {
        if (e.kind == RU_ENTITY_URL)
            continue;
        if (e.kind == RU_ENTITY_TAG) {
            char url[RU_CONFIG_PATH_MAX + RU_MAX_TAG + 8];
            snprintf(url, sizeof url, "%s/tags/%s", v->node->public_url, e.name);
            json_array_append_new(*tags, json_pack("{s:s, s:s}", "name", e.name, "url", url));
            continue;
        }
        const uint8_t *home;
        if (!s_resolve(v, origin, &e, &home))
            continue;
        json_t *a = ru_view_account(v, home, (ru_str_t){e.name, (uint32_t) strlen(e.name)});
        json_array_append_new(
            mentions, json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(a, "id"), "username",
                                json_object_get(a, "username"), "acct", json_object_get(a, "acct"),
                                "url", json_object_get(a, "url")));
        json_decref(a);
    }
    return mentions;
}

/*  The id and account id of a status's parent, as JSON (or nulls). */
static void
s_parent(const ru_view_t *v, const ru_post_rec_t *rec, json_t **id, json_t **account)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_post_rec_t parent;
    *id = json_null();
    *account = json_null();
    if (!rec->has_parent ||
        ru_txn_get(v->txn, RU_DB_posts, key, ru_dbkey_ref(key, rec->parent.origin, rec->parent.seq),
                   &val) != RU_OK ||
        ru_post_rec_decode(val.mv_data, val.mv_size, &parent) != RU_OK)
        return;
    char text[RU_PUBID_SIZE];
    ru_pubid_status(parent.hlc, rec->parent.origin, text);
    *id = json_string(text);
    ru_pubid_text(ru_pubid_user(rec->parent.origin, parent.author), text);
    *account = json_string(text);
}

/*  Has the viewer liked ref? */
static int
s_favourited(const ru_view_t *v, const ru_ref_t *ref)
{
    if (!v->viewer)
        return 0;
    uint8_t key[RU_DBKEY_REF + RU_DBKEY_USER];
    size_t len = ru_dbkey_ref(key, ref->origin, ref->seq);
    len += ru_dbkey_user(key + len, ru_key_public(v->node->key),
                         (ru_str_t){v->viewer, (uint32_t) strlen(v->viewer)});
    MDB_val val;
    return ru_txn_get(v->txn, RU_DB_likes, key, len, &val) == RU_OK;
}

/*  The group a status was posted to, or JSON null. */
static json_t *
s_status_group(const ru_view_t *v, const ru_post_rec_t *rec)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_group_rec_t g;
    if (!rec->has_group ||
        ru_txn_get(v->txn, RU_DB_groups, key, ru_dbkey_ref(key, rec->group.origin, rec->group.seq),
                   &val) != RU_OK ||
        ru_group_rec_decode(val.mv_data, val.mv_size, &g) != RU_OK)
        return json_null();
    char id[RU_PUBID_SIZE];
    ru_pubid_text(ru_pubid_group(&rec->group), id);
    return json_pack("{s:s, s:s%}", "id", id, "name", g.name.ptr, (size_t) g.name.len);
}

json_t *
ru_view_status(const ru_view_t *v, const ru_ref_t *ref, const ru_post_rec_t *rec)
{
    char id[RU_PUBID_SIZE], site[RU_MAX_NAME + 1], origin[RU_KEY_TEXT_SIZE];
    char url[RU_CONFIG_PATH_MAX + 64];
    ru_pubid_status(rec->hlc, ref->origin, id);
    ru_view_site(v, ref->origin, site);
    ru_b64_encode(origin, ref->origin, RU_KEY_BYTES);
    snprintf(url, sizeof url, "%s/statuses/%s", v->node->public_url, id);
    json_t *parent_id, *parent_account, *tags;
    s_parent(v, rec, &parent_id, &parent_account);
    json_t *mentions = s_mentions(v, ref->origin, rec->text, &tags);
    char *html = ru_view_html(v, ref->origin, rec->text);
    json_t *j = json_pack(
        "{s:s, s:o, s:o, s:o, s:s, s:s, s:s%, s:s%, s:o, s:I, s:I, s:i, s:b, s:b, s:b, s:b, s:b,"
        " s:s, s:s, s:n, s:o, s:o, s:o, s:o, s:[], s:n, s:n, s:n, s:n,"
        " s:{s:s, s:s, s:I, s:o}}",
        "id", id, "created_at", ru_view_time(ru_hlc_ms(rec->hlc)), "in_reply_to_id", parent_id,
        "in_reply_to_account_id", parent_account, "visibility", ru_view_visibility(rec->visibility),
        "content", html ? html : "", "text", rec->text.ptr, (size_t) rec->text.len, "spoiler_text",
        rec->spoiler.ptr ? rec->spoiler.ptr : "", (size_t) rec->spoiler.len, "edited_at", rec->edit_hlc ? ru_view_time(ru_hlc_ms(rec->edit_hlc)) : json_null(),
        "favourites_count", (json_int_t) rec->likes, "replies_count", (json_int_t) rec->replies,
        "reblogs_count", 0, "favourited", s_favourited(v, ref), "reblogged", 0, "muted", 0,
        "bookmarked", 0, "sensitive", rec->sensitive, "uri", url, "url", url, "language", "account",
        ru_view_account(v, ref->origin, rec->author), "mentions", mentions, "tags", tags,
        "media_attachments", ru_media_view_list(v->node, rec->media), "emojis", "reblog", "card", "poll", "application", "ruche", "site",
        site, "origin", origin, "seq", (json_int_t) ref->seq, "group", s_status_group(v, rec));
    free(html);
    json_t *card = ru_card_for_text(v->node->cards, v->txn, rec->text.ptr, rec->text.len);
    if (j && card)
        json_object_set_new(j, "card", card);
    else
        json_decref(card);
    return j;
}

json_t *
ru_view_group(const ru_view_t *v, const ru_ref_t *ref, const ru_group_rec_t *rec)
{
    char id[RU_PUBID_SIZE];
    ru_pubid_text(ru_pubid_group(ref), id);
    int member = 0;
    if (v->viewer) {
        uint8_t key[RU_DBKEY_REF + RU_DBKEY_USER];
        size_t len = ru_dbkey_ref(key, ref->origin, ref->seq);
        len += ru_dbkey_user(key + len, ru_key_public(v->node->key),
                             (ru_str_t){v->viewer, (uint32_t) strlen(v->viewer)});
        MDB_val val;
        member = ru_txn_get(v->txn, RU_DB_members, key, len, &val) == RU_OK;
    }
    return json_pack("{s:s, s:s%, s:s%, s:I, s:b, s:o, s:o}", "id", id, "name", rec->name.ptr,
                     (size_t) rec->name.len, "description", rec->description.ptr,
                     (size_t) rec->description.len, "members_count", (json_int_t) rec->members,
                     "member", member, "created_at", ru_view_time(ru_hlc_ms(rec->hlc)), "creator",
                     ru_view_account(v, ref->origin, rec->creator));
}

/*  Is viewer (a user of this node) mentioned in the text of a status? */
static int
s_mentioned(const ru_view_t *v, const uint8_t *origin, ru_str_t text)
{
    size_t pos = 0;
    ru_entity_t e;
    while (ru_entity_next(text.ptr, text.len, &pos, &e)) {
        if (e.kind != RU_ENTITY_MENTION || strcmp(e.name, v->viewer) != 0)
            continue;
        if (e.site[0] ? strcmp(e.site, v->node->cfg.site) == 0 : s_is_self(v, origin))
            return 1;
    }
    return 0;
}

int
ru_view_visible(const ru_view_t *v, const ru_ref_t *ref, const ru_post_rec_t *rec)
{
    if (rec->deleted)
        return 0;
    if (rec->visibility == RU_VIS_PUBLIC || rec->visibility == RU_VIS_UNLISTED)
        return 1;
    if (!v->viewer)
        return 0;
    ru_str_t me = {v->viewer, (uint32_t) strlen(v->viewer)};
    if (s_is_self(v, ref->origin) && rec->author.len == me.len &&
        memcmp(rec->author.ptr, me.ptr, me.len) == 0)
        return 1;
    if (rec->visibility == RU_VIS_DIRECT)
        return s_mentioned(v, ref->origin, rec->text);
    uint8_t key[2 * RU_DBKEY_USER];
    size_t len = ru_dbkey_user(key, ru_key_public(v->node->key), me);
    len += ru_dbkey_user(key + len, ref->origin, rec->author);
    MDB_val val;
    return ru_txn_get(v->txn, RU_DB_follows, key, len, &val) == RU_OK ||
           s_mentioned(v, ref->origin, rec->text);
}
