/*  fuzz_store.c - libFuzzer target for the decoders of stored records.
 *
 *  The store is ours, but a record damaged on disk (or by a bug) must give
 *  an error, never a crash or a value outside its rules (ru_record.c). Each
 *  input names a kind of record and gives a key and a value:
 *
 *      case (1) | key length k (1) | key (k) | value (the rest)
 *
 *  Records decoded from bytes alone (posts, groups, profiles, counts,
 *  notifications) are decoded from the input itself, so the sanitizers see
 *  any read past the value. The others are put into a scratch store in a
 *  write transaction, read back through the node's own functions, and the
 *  transaction is aborted. Most are read under the key their reader looks
 *  up, which the target picks; readers that scan a database (the clock,
 *  the pending counts, forks, account ids) take the input's key as it is.
 *  A decoded record is checked against its rules, and records with an
 *  encoder must give the same record when encoded and decoded again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_node.h"
#include "ru_account.h"
#include "ru_apply.h"
#include "ru_dbkey.h"
#include "ru_fork.h"
#include "ru_notify.h"
#include "ru_oauth.h"
#include "ru_order.h"
#include "ru_pubid.h"
#include "ru_record.h"
#include "ru_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *key, *val;
    size_t key_len, val_len;
} s_input;

static const uint8_t s_origin[RU_KEY_BYTES] = {'o', 'r', 'i', 'g', 'i', 'n'};
#define S_SEQ 7
#define S_USER "alice"
#define S_TOKEN "0123456789012345678901234567890123456789abc" /* 43 characters */
#define S_APP "fuzz-app"

/*  The scratch store, opened once, with one account whose sessions the
 *  session records may name. */
static ru_store_t *
s_store(void)
{
    static ru_store_t *store;
    if (store)
        return store;
    fuzz_require(ru_store_open(fuzz_dir(), 64u << 20, 64u << 20, ru_schema_upgrades, &store) ==
                     RU_OK,
                 "open store");
    ru_txn_t txn;
    fuzz_require(ru_store_write(store, &txn) == RU_OK, "begin the set-up");
    fuzz_require(ru_account_create(&txn, S_USER, "$argon2id$fuzz", 0, 1) == RU_OK, "an account");
    fuzz_require(ru_txn_commit(&txn) == RU_OK, "commit the set-up");
    return store;
}

static int
s_ok_or(ru_err err, ru_err also)
{
    return err == RU_OK || err == RU_E_STORE || err == also;
}

static int
s_str_equal(ru_str_t a, ru_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int
s_ref_equal(const ru_ref_t *a, const ru_ref_t *b)
{
    return a->seq == b->seq && memcmp(a->origin, b->origin, RU_KEY_BYTES) == 0;
}

/*  ---------------------------------------------------------------------
 *  Records decoded from bytes
 */

static void
s_check_post_rules(const ru_post_rec_t *r)
{
    fuzz_require(r->kind == RU_KIND_POST || r->kind == RU_KIND_REPLY, "a post or a reply");
    fuzz_require((unsigned) r->visibility <= RU_VIS_MAX, "a known visibility");
    fuzz_require(r->has_parent == (r->kind == RU_KIND_REPLY), "a reply, and only a reply, has a "
                                                              "parent");
}

static void
s_post(const s_input *in)
{
    ru_post_rec_t rec, again;
    if (ru_post_rec_decode(in->val, in->val_len, &rec) != RU_OK)
        return;
    s_check_post_rules(&rec);
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_post_rec_encode(&rec, &buf);
    fuzz_require(ru_buf_status(&buf) == RU_OK, "encode a post record");
    fuzz_require(ru_post_rec_decode(buf.data, buf.len, &again) == RU_OK, "decode it again");
    fuzz_require(again.kind == rec.kind && s_str_equal(again.author, rec.author) &&
                     again.hlc == rec.hlc && again.visibility == rec.visibility &&
                     again.has_group == rec.has_group && s_ref_equal(&again.group, &rec.group) &&
                     again.has_parent == rec.has_parent &&
                     s_ref_equal(&again.parent, &rec.parent) &&
                     s_ref_equal(&again.root, &rec.root) && again.deleted == rec.deleted &&
                     s_str_equal(again.text, rec.text) && again.edit_hlc == rec.edit_hlc &&
                     again.likes == rec.likes && again.replies == rec.replies,
                 "a post record encodes to itself");
    ru_buf_fini(&buf);
}

static void
s_group(const s_input *in)
{
    ru_group_rec_t rec, again;
    if (ru_group_rec_decode(in->val, in->val_len, &rec) != RU_OK)
        return;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_group_rec_encode(&rec, &buf);
    fuzz_require(ru_buf_status(&buf) == RU_OK, "encode a group record");
    fuzz_require(ru_group_rec_decode(buf.data, buf.len, &again) == RU_OK &&
                     s_str_equal(again.name, rec.name) &&
                     s_str_equal(again.description, rec.description) &&
                     s_str_equal(again.creator, rec.creator) && again.hlc == rec.hlc &&
                     again.members == rec.members,
                 "a group record encodes to itself");
    ru_buf_fini(&buf);
}

static void
s_profile(const s_input *in)
{
    ru_profile_rec_t rec, again;
    if (ru_profile_rec_decode(in->val, in->val_len, &rec) != RU_OK)
        return;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_profile_rec_encode(&rec, &buf);
    fuzz_require(ru_buf_status(&buf) == RU_OK, "encode a profile record");
    fuzz_require(ru_profile_rec_decode(buf.data, buf.len, &again) == RU_OK &&
                     s_str_equal(again.display_name, rec.display_name) &&
                     s_str_equal(again.note, rec.note) && again.hlc == rec.hlc,
                 "a profile record encodes to itself");
    ru_buf_fini(&buf);
}

static void
s_counts(const s_input *in)
{
    ru_counts_rec_t rec;
    uint8_t bytes[RU_COUNTS_REC_BYTES];
    ru_counts_rec_decode(in->val, in->val_len, &rec);
    ru_counts_rec_encode(&rec, bytes);
    if (in->val_len == RU_COUNTS_REC_BYTES)
        fuzz_require(memcmp(bytes, in->val, sizeof bytes) == 0, "counts encode to themselves");
    else if (in->val_len == RU_COUNTS_REC_BYTES_OLD)
        fuzz_require(memcmp(bytes, in->val, RU_COUNTS_REC_BYTES_OLD) == 0 && !rec.since,
                     "counts of an older store read as they were, with no since");
    else
        fuzz_require(!rec.statuses && !rec.following && !rec.followers && !rec.since,
                     "counts of another size read as zeros");
}

static void
s_notify(const s_input *in)
{
    ru_notify_rec_t rec;
    if (ru_notify_rec_decode(in->val, in->val_len, &rec) != RU_OK)
        return;
    fuzz_require(rec.type >= 1 && rec.type <= RU_NOTIFY_MAX, "a known notification type");
    fuzz_require(rec.actor_name.len >= 1 && rec.actor_name.len <= RU_MAX_NAME,
                 "an actor's name of 1..RU_MAX_NAME bytes");
    fuzz_check_inside(rec.actor_name.ptr, rec.actor_name.len, in->val, in->val_len,
                      "the actor's name inside the record");
}

/*  ---------------------------------------------------------------------
 *  Records read from the store
 */

static void
s_put(ru_txn_t *txn, ru_db db, const void *key, size_t key_len, const s_input *in)
{
    fuzz_require(ru_txn_put(txn, db, key, key_len, in->val, in->val_len) == RU_OK, "put");
}

/*  The input's key, or key when it has none LMDB would take. */
static void
s_put_at_input_key(ru_txn_t *txn, ru_db db, const void *key, size_t key_len, const s_input *in)
{
    if (in->key_len >= 1)
        s_put(txn, db, in->key, in->key_len, in);
    else
        s_put(txn, db, key, key_len, in);
}

static void
s_users(ru_txn_t *txn, const s_input *in)
{
    ru_account_t acct;
    char hash[RU_PWHASH_SIZE];
    s_put(txn, RU_DB_users, S_USER, strlen(S_USER), in);
    ru_err err = ru_account_get(txn, S_USER, &acct);
    fuzz_require(s_ok_or(err, RU_E_STORE), "an account reads or is damaged");
    if (!err)
        fuzz_require(strcmp(acct.name, S_USER) == 0, "the account's name is its key");
    err = ru_account_get_hash(txn, S_USER, hash);
    fuzz_require(s_ok_or(err, RU_E_STORE), "an account's hash reads or is damaged");
    if (!err)
        fuzz_require(memchr(hash, '\0', sizeof hash) != NULL, "a hash fits RU_PWHASH_SIZE");
}

static void
s_sessions(ru_txn_t *txn, const s_input *in)
{
    uint8_t key[RU_HASH_BYTES];
    ru_account_t acct;
    crypto_generichash(key, sizeof key, (const uint8_t *) S_TOKEN, strlen(S_TOKEN), NULL, 0);
    s_put(txn, RU_DB_sessions, key, sizeof key, in);
    ru_err err = ru_account_session_get(txn, S_TOKEN, &acct);
    fuzz_require(s_ok_or(err, RU_E_NOT_FOUND), "a session reads, is unknown or damaged");
    if (!err)
        fuzz_require(strcmp(acct.name, S_USER) == 0, "a session's account exists");
    fuzz_require(ru_account_end_sessions(txn, S_USER) == RU_OK, "end the sessions");
}

static int
s_user_key(void *ctx, const uint8_t *key, size_t len)
{
    (void) ctx;
    fuzz_require(len >= RU_KEY_BYTES + 2 && len <= RU_DBKEY_USER && key[len - 1] == 0,
                 "a user key: home, a name, a 0");
    return 0;
}

static void
s_ids(ru_txn_t *txn, const s_input *in)
{
    uint8_t id8[8], key[RU_DBKEY_USER];
    size_t len;
    ru_ref_t ref;
    uint64_t id = 42;
    ru_dbkey_be64(id8, id);
    s_put_at_input_key(txn, RU_DB_ids, id8, sizeof id8, in);
    ru_err err = ru_pubid_lookup_user(txn, id, key, &len);
    fuzz_require(err == RU_OK || err == RU_E_NOT_FOUND, "a user id is found or not");
    if (!err)
        s_user_key(NULL, key, len);
    err = ru_pubid_lookup_group(txn, id, &ref);
    fuzz_require(err == RU_OK || err == RU_E_NOT_FOUND, "a group id is found or not");
    fuzz_require(ru_pubid_each_user(txn, s_user_key, NULL) == RU_OK, "scan the user ids");
}

static int
s_fork_seen(void *ctx, const ru_fork_t *fork)
{
    const s_input *in = ctx;
    fuzz_require(fork->evidence[0].len + fork->evidence[1].len <= in->val_len,
                 "a listed fork's evidence inside its record");
    return 0;
}

static void
s_forks(ru_txn_t *txn, const s_input *in)
{
    ru_fork_t fork;
    uint64_t seq;
    int settled;
    s_put_at_input_key(txn, RU_DB_forks, s_origin, RU_KEY_BYTES, in);
    ru_err err = ru_fork_get(txn, s_origin, &fork);
    fuzz_require(s_ok_or(err, RU_E_NOT_FOUND), "a fork reads, is unknown or damaged");
    if (!err) {
        fuzz_require(in->val_len >= fork.evidence[0].len &&
                         in->val_len - fork.evidence[0].len >= fork.evidence[1].len,
                     "the evidence inside the record");
        fuzz_require(memcmp(fork.origin, s_origin, RU_KEY_BYTES) == 0, "the fork's origin");
    }
    fuzz_require(s_ok_or(ru_fork_seq(txn, s_origin, &seq), RU_OK), "a fork's seq");
    fuzz_require(s_ok_or(ru_fork_quarantine(txn, s_origin, &seq), RU_OK), "a quarantine");
    fuzz_require(ru_fork_settled(txn, s_origin, UINT64_MAX, &settled) == RU_OK, "settled");
    fuzz_require(s_ok_or(ru_fork_list(txn, s_fork_seen, (void *) in), RU_OK), "the forks listed");
}

static void
s_resolutions(ru_txn_t *txn, const s_input *in)
{
    uint8_t key[RU_DBKEY_REF];
    ru_fork_resolution_t r;
    ru_dbkey_ref(key, s_origin, S_SEQ);
    s_put(txn, RU_DB_forks, key, sizeof key, in);
    ru_err err = ru_fork_resolution(txn, s_origin, S_SEQ, &r);
    fuzz_require(s_ok_or(err, RU_E_NOT_FOUND), "a resolution reads or is damaged");
    int settled;
    fuzz_require(ru_fork_settled(txn, s_origin, S_SEQ, &settled) == RU_OK && settled,
                 "a resolution at the seq settles it");
}

static void
s_order(ru_txn_t *txn, const s_input *in)
{
    uint8_t key[RU_DBKEY_REF];
    uint64_t pos;
    ru_dbkey_ref(key, s_origin, S_SEQ);
    s_put(txn, RU_DB_order, key, sizeof key, in);
    ru_err err = ru_order_pos(txn, s_origin, S_SEQ, &pos);
    fuzz_require(err == (in->val_len == 8 ? RU_OK : RU_E_STORE), "a position is 8 bytes");
    s_put(txn, RU_DB_meta, "order_next", strlen("order_next"), in);
    err = ru_order_note(txn, s_origin, S_SEQ + 1);
    fuzz_require(err == (in->val_len == 8 ? RU_OK : RU_E_STORE), "the next position is 8 bytes");
}

static void
s_heads(ru_txn_t *txn, const s_input *in)
{
    ru_clock_t clock;
    uint64_t seq;
    uint8_t hash[RU_HASH_BYTES];
    s_put_at_input_key(txn, RU_DB_heads, s_origin, RU_KEY_BYTES, in);
    fuzz_require(s_ok_or(ru_apply_head(txn, s_origin, &seq, hash), RU_OK), "a head");
    ru_clock_init(&clock);
    ru_err err = ru_apply_clock(txn, &clock);
    fuzz_require(s_ok_or(err, RU_OK), "the clock reads or is damaged");
    if (!err)
        fuzz_check_clock(&clock);
    ru_clock_fini(&clock);
}

static void
s_pending(ru_txn_t *txn, const s_input *in)
{
    ru_apply_pending_t *v;
    size_t n;
    uint64_t total;
    s_put_at_input_key(txn, RU_DB_pending_n, s_origin, RU_KEY_BYTES, in);
    s_put_at_input_key(txn, RU_DB_pending_age, s_origin, RU_KEY_BYTES, in);
    ru_err err = ru_apply_pending(txn, &v, &n, &total);
    fuzz_require(s_ok_or(err, RU_OK), "the pending counts read or are damaged");
    fuzz_require(err || n <= 1, "one origin pending at most");
    free(v);
}

static void
s_apps(ru_txn_t *txn, const s_input *in)
{
    json_t *rec = NULL;
    uint8_t key[RU_HASH_BYTES];
    s_put(txn, RU_DB_apps, S_APP, strlen(S_APP), in);
    ru_err err = ru_oauth_app_get(txn, S_APP, &rec);
    fuzz_require(s_ok_or(err, RU_E_STORE) && (err != RU_OK) == (rec == NULL), "an app record");
    if (rec)
        (void) ru_oauth_redirect_ok(rec, "urn:ietf:wg:oauth:2.0:oob");
    json_decref(rec);
    crypto_generichash(key, sizeof key, (const uint8_t *) S_TOKEN, strlen(S_TOKEN), NULL, 0);
    s_put(txn, RU_DB_app_tokens, key, sizeof key, in);
    err = ru_oauth_token_get(txn, S_TOKEN, &rec);
    fuzz_require(s_ok_or(err, RU_E_STORE) && (err != RU_OK) == (rec == NULL), "a token record");
    json_decref(rec);
}

/*  ---------------------------------------------------------------------
 *  Dispatch
 */

typedef struct {
    void (*bytes)(const s_input *in);
    void (*stored)(ru_txn_t *txn, const s_input *in);
} s_case;

static const s_case s_cases[] = {
    {s_post, NULL},  {s_group, NULL},    {s_profile, NULL}, {s_counts, NULL}, {s_notify, NULL},
    {NULL, s_users}, {NULL, s_sessions}, {NULL, s_ids},     {NULL, s_forks},  {NULL, s_resolutions},
    {NULL, s_order}, {NULL, s_heads},    {NULL, s_pending}, {NULL, s_apps},
};

#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

/*  The largest key LMDB takes (mdb_env_get_maxkeysize, by default). */
#define S_MAX_KEY 511

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_quiet();
    const s_case *c = &s_cases[data[0] % S_NCASES];
    size_t key_len = data[1] <= size - 2 ? data[1] : size - 2;
    s_input in = {data + 2, data + 2 + key_len, key_len, size - 2 - key_len};
    if (c->bytes) {
        c->bytes(&in);
        return 0;
    }
    if (in.key_len > S_MAX_KEY)
        return 0;
    ru_txn_t txn;
    fuzz_require(ru_store_write(s_store(), &txn) == RU_OK, "begin a write");
    c->stored(&txn, &in);
    ru_txn_abort(&txn);
    return 0;
}
