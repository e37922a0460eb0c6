/*  ru_event.c - the status event of an applied update (see ru_event.h).
 *
 *  The status's record is read once, with what the rules look at (its
 *  tags, whether it was made here, its id); the rules then cost at most
 *  one lookup (a follow, for the user stream), and the Status JSON is
 *  rendered once per viewer, however many streams carry it: the payloads
 *  are kept in a hash table by viewer (open addressing, grown at half
 *  full), so that ten thousand signed-in viewers cost ten thousand
 *  renderings and lookups, not a walk of a list for each.
 */
#include "ru_event.h"

#include <stdlib.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_entity.h"
#include "ru_hash.h"
#include "ru_pubid.h"
#include "ru_view.h"

#define S_MAX_TAGS 32 /* tags of a status that streams are matched on */

/*  A payload rendered for one viewer ("" for nobody signed in). */
typedef struct s_rendered {
    char viewer[RU_MAX_NAME + 1];
    char *json;
} s_rendered;

struct ru_event {
    ru_node_t *node;
    ru_txn_t *txn;
    const char *name;
    ru_ref_t ref;
    ru_post_rec_t rec; /* deleted: cleared, with the text it was posted with */
    int deleted;
    int local; /* made at this site */
    char tags[S_MAX_TAGS][RU_MAX_TAG + 1];
    int ntags;
    char id[RU_PUBID_SIZE];
    ru_update_t first;     /* a deleted status's post or reply */
    s_rendered **rendered; /* a table of cap slots (a power of two), n used */
    size_t cap, n;
};

ru_err
ru_event_read_update(ru_txn_t *txn, const ru_ref_t *ref, ru_update_t *u)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_envelope_t env;
    ru_err err = ru_txn_get(txn, RU_DB_log, key, ru_dbkey_ref(key, ref->origin, ref->seq), &val);
    if (!err)
        err = ru_envelope_parse(val.mv_data, val.mv_size, &env);
    return err ? err : ru_update_decode(&env, u);
}

/*  Loads the status of self->ref and what the rules need of it. */
static ru_err
s_load(ru_event_t *self)
{
    uint8_t key[RU_DBKEY_REF];
    MDB_val val;
    ru_err err = ru_txn_get(self->txn, RU_DB_posts, key,
                            ru_dbkey_ref(key, self->ref.origin, self->ref.seq), &val);
    if (!err)
        err = ru_post_rec_decode(val.mv_data, val.mv_size, &self->rec);
    if (!err && self->rec.deleted)
        err = ru_event_read_update(self->txn, &self->ref, &self->first);
    if (err)
        return err;
    self->deleted = self->rec.deleted;
    self->rec.deleted = 0;
    if (self->deleted)
        self->rec.text = self->first.text;
    self->local = memcmp(self->ref.origin, ru_key_public(self->node->key), RU_KEY_BYTES) == 0;
    ru_pubid_status(self->rec.hlc, self->ref.origin, self->id);
    size_t pos = 0;
    ru_entity_t e;
    while (self->ntags < S_MAX_TAGS &&
           ru_entity_next(self->rec.text.ptr, self->rec.text.len, &pos, &e))
        if (e.kind == RU_ENTITY_TAG)
            memcpy(self->tags[self->ntags++], e.name, strlen(e.name) + 1);
    return RU_OK;
}

static int
s_same_name(ru_str_t a, ru_str_t b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/*  Finds the status u is about; *made says whether u makes an event about
 *  it (not when the status is gone). */
static ru_err
s_about(ru_event_t *self, const ru_update_t *u, int *made)
{
    static const char *const names[RU_KIND_MAX + 1] = {
        [RU_KIND_POST] = "update",
        [RU_KIND_REPLY] = "update",
        [RU_KIND_EDIT] = "status.update",
        [RU_KIND_DELETE] = "delete",
    };
    *made = 0;
    self->name = u->kind >= 1 && u->kind <= RU_KIND_MAX ? names[u->kind] : NULL;
    if (!self->name)
        return RU_OK;
    if (u->kind == RU_KIND_POST || u->kind == RU_KIND_REPLY) {
        memcpy(self->ref.origin, u->origin, RU_KEY_BYTES);
        self->ref.seq = u->seq;
    } else
        self->ref = u->target;
    ru_err err = s_load(self);
    if (err)
        return err == RU_E_NOT_FOUND ? RU_OK : err;
    if (u->kind == RU_KIND_DELETE)
        *made = self->deleted && memcmp(u->origin, self->ref.origin, RU_KEY_BYTES) == 0 &&
                s_same_name(u->author, self->rec.author);
    else
        *made = !self->deleted && (u->kind != RU_KIND_EDIT || self->rec.edit_hlc == u->hlc);
    return RU_OK;
}

ru_err
ru_event_new(ru_node_t *node, ru_txn_t *txn, const ru_update_t *u, ru_event_t **out)
{
    *out = NULL;
    ru_event_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->node = node;
    self->txn = txn;
    ru_update_init(&self->first);
    int made;
    ru_err err = s_about(self, u, &made);
    if (made)
        *out = self;
    else
        ru_event_destroy(&self);
    return err;
}

void
ru_event_destroy(ru_event_t **self_p)
{
    ru_event_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->cap; i++)
        if (self->rendered[i]) {
            free(self->rendered[i]->json);
            free(self->rendered[i]);
        }
    free(self->rendered);
    ru_update_fini(&self->first);
    free(self);
    *self_p = NULL;
}

const char *
ru_event_name(const ru_event_t *self)
{
    return self->name;
}

static int
s_tagged(const ru_event_t *self, const char *tag)
{
    for (int i = 0; i < self->ntags; i++)
        if (strcmp(self->tags[i], tag) == 0)
            return 1;
    return 0;
}

/*  Is the status in viewer's home timeline? Theirs, or of whom they
 *  follow (the rule of the home index, which a delete has emptied). */
static int
s_in_home(const ru_event_t *self, const char *viewer)
{
    ru_str_t me = {viewer, (uint32_t) strlen(viewer)};
    if (self->local && s_same_name(self->rec.author, me))
        return 1;
    uint8_t key[2 * RU_DBKEY_USER];
    size_t len = ru_dbkey_user(key, ru_key_public(self->node->key), me);
    len += ru_dbkey_user(key + len, self->ref.origin, self->rec.author);
    MDB_val val;
    return ru_txn_get(self->txn, RU_DB_follows, key, len, &val) == RU_OK;
}

int
ru_event_wants(const ru_event_t *self, ru_stream_kind kind, const char *tag, const char *viewer)
{
    int pub = self->rec.visibility == RU_VIS_PUBLIC;
    ru_view_t v = {self->node, self->txn, viewer};
    switch (kind) {
    case RU_STREAM_PUBLIC:
        return pub;
    case RU_STREAM_PUBLIC_LOCAL:
        return pub && self->local;
    case RU_STREAM_PUBLIC_REMOTE:
        return pub && !self->local;
    case RU_STREAM_HASHTAG:
        return pub && s_tagged(self, tag);
    case RU_STREAM_HASHTAG_LOCAL:
        return pub && self->local && s_tagged(self, tag);
    case RU_STREAM_USER:
        return viewer && strlen(viewer) <= RU_MAX_NAME && s_in_home(self, viewer) &&
               ru_view_visible(&v, &self->ref, &self->rec);
    default:
        return 0;
    }
}

/*  The slot of viewer in the table: its payload's, or the empty one where
 *  it would go. The table is never full (grown at half). */
static s_rendered **
s_slot(s_rendered **table, size_t cap, const char *viewer)
{
    size_t i = (size_t) ru_hash_str(viewer) & (cap - 1);
    while (table[i] && strcmp(table[i]->viewer, viewer) != 0)
        i = (i + 1) & (cap - 1);
    return &table[i];
}

/*  Room for one more payload: the table doubled when half full. */
static int
s_room(ru_event_t *self)
{
    if (2 * (self->n + 1) <= self->cap)
        return 0;
    size_t cap = self->cap ? 2 * self->cap : 16;
    s_rendered **table = calloc(cap, sizeof(s_rendered *));
    if (!table)
        return -1;
    for (size_t i = 0; i < self->cap; i++)
        if (self->rendered[i])
            *s_slot(table, cap, self->rendered[i]->viewer) = self->rendered[i];
    free(self->rendered);
    self->rendered = table;
    self->cap = cap;
    return 0;
}

const char *
ru_event_payload(ru_event_t *self, const char *viewer)
{
    const char *key = viewer ? viewer : "";
    if (self->deleted)
        return self->id;
    if (strlen(key) > RU_MAX_NAME || s_room(self) != 0)
        return NULL;
    s_rendered **slot = s_slot(self->rendered, self->cap, key);
    if (*slot)
        return (*slot)->json;
    ru_view_t v = {self->node, self->txn, viewer};
    json_t *status = ru_view_status(&v, &self->ref, &self->rec);
    s_rendered *r = status ? malloc(sizeof *r) : NULL;
    if (r && !(r->json = json_dumps(status, JSON_COMPACT))) {
        free(r);
        r = NULL;
    }
    json_decref(status);
    if (!r)
        return NULL;
    memcpy(r->viewer, key, strlen(key) + 1);
    *slot = r;
    self->n++;
    return r->json;
}
