/*  ru_store.c - LMDB environment, transactions and the state digest.
 *
 *  The map is opened at its maximum: [store] max_size_mb, or with no
 *  maximum the size of the file system that holds the store (or the size
 *  asked, if larger). The map is a reservation of address space only:
 *  without MDB_WRITEMAP, LMDB writes pages with pwrite and the file grows
 *  as they are used. So the map never needs to grow while the node runs,
 *  and no write waits for the readers a growth would have to wait for (a
 *  backup holds one read transaction for its whole copy).
 *
 *  Growing the map stays as the rare way out (a file system enlarged
 *  while the node runs): LMDB lets mdb_env_set_mapsize() run only while
 *  no transaction is open in the process. Every transaction therefore
 *  holds a shared lock (resize_lock) from begin to end, and
 *  ru_store_grow() takes it exclusively; the lock prefers writers, so a
 *  grow is not starved by a stream of readers, but it waits for every
 *  reader, a backup's copy included.
 *
 *  The digest sum is a 256-bit little-endian number: adding and
 *  subtracting record hashes modulo 2^256 makes it independent of the order
 *  of writes. ru_txn_digest_recompute() adds up every replicated record
 *  again, to check a store's content against the sum it kept.
 *
 *  Schema upgrades: upgrades[n] moves a store from version n to n + 1;
 *  an older store is brought to RU_STORE_SCHEMA when it opens for writing,
 *  all steps and the new version in one transaction. The steps are the
 *  state layer's (ru_schema_upgrades): this layer does not know what the
 *  databases mean, only how to run them all or none. A read-only open
 *  reads any version up to this one as it is.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "ru_store.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "ru_log.h"
#include "ru_prom.h"

#define S_MAX_READERS 512
#define S_META_SCHEMA "schema"
#define S_META_SUM "digest_sum"

static const struct {
    const char *name;
    int replicated;
} s_dbs[RU_DB_COUNT] = {
#define RU_DB_ROW(n, r) [RU_DB_##n] = {#n, r},
    RU_STORE_DBS(RU_DB_ROW)
#undef RU_DB_ROW
};

struct ru_store {
    MDB_env *env;
    char *dir;
    MDB_dbi dbi[RU_DB_COUNT];
    size_t map_size;
    size_t map_max;
    int fresh;
    int readonly;
    uint32_t schema; /* as found on opening */
    pthread_rwlock_t resize_lock;
};

ru_err
ru_store_err(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS:
        return RU_OK;
    case MDB_NOTFOUND:
        return RU_E_NOT_FOUND;
    case MDB_MAP_FULL:
        return RU_E_STORE_FULL;
    case ENOSPC:
        ru_log_err("store", "%s: no space left on the disk", what);
        return RU_E_DISK_FULL;
    case ENOMEM:
        return RU_E_NOMEM;
    default:
        ru_log_err("store", "%s: %s", what, mdb_strerror(rc));
        return RU_E_STORE;
    }
}

MDB_dbi
ru_store_dbi(const ru_store_t *self, ru_db db)
{
    return self->dbi[db];
}

int
ru_store_fresh(const ru_store_t *self)
{
    return self->fresh;
}

size_t
ru_store_map_size(const ru_store_t *self)
{
    return self->map_size;
}

void
ru_store_usage(ru_store_t *self, ru_store_usage_t *out)
{
    MDB_envinfo info;
    MDB_stat st;
    pthread_rwlock_rdlock(&self->resize_lock);
    mdb_env_info(self->env, &info);
    mdb_env_stat(self->env, &st);
    pthread_rwlock_unlock(&self->resize_lock);
    out->map_size = info.me_mapsize;
    out->used = (info.me_last_pgno + 1) * (size_t) st.ms_psize;
    out->map_max = self->map_max;
}

/*  Reads or writes the schema version in meta, open in txn. */
static ru_err
s_schema(ru_store_t *self, MDB_txn *txn)
{
    MDB_val key = {strlen(S_META_SCHEMA), S_META_SCHEMA}, val;
    uint32_t schema = RU_STORE_SCHEMA;
    int rc = mdb_get(txn, self->dbi[RU_DB_meta], &key, &val);
    if (rc == MDB_NOTFOUND && self->readonly)
        return RU_E_SCHEMA; /* not a store of ours */
    if (rc == MDB_NOTFOUND) {
        self->fresh = 1;
        self->schema = RU_STORE_SCHEMA;
        val = (MDB_val){sizeof schema, &schema};
        return ru_store_err(mdb_put(txn, self->dbi[RU_DB_meta], &key, &val, 0), "schema");
    }
    if (rc != MDB_SUCCESS)
        return ru_store_err(rc, "schema");
    if (val.mv_size == sizeof schema)
        memcpy(&self->schema, val.mv_data, sizeof schema);
    if (self->schema < 1 || self->schema > RU_STORE_SCHEMA)
        return RU_E_SCHEMA;
    /*  A read-only open cannot upgrade, nor make the databases an older
     *  schema lacks. */
    if (self->readonly && self->schema < RU_STORE_SCHEMA) {
        ru_log_err("store",
                   "the store is of schema %u, older than this version's %u: start ruched on it "
                   "once (it upgrades the store), then read it",
                   (unsigned) self->schema, (unsigned) RU_STORE_SCHEMA);
        return RU_E_SCHEMA;
    }
    return RU_OK;
}

/*  Opens the meta database, checks or writes the schema version, then
 *  opens every other database. */
static ru_err
s_open_dbs(ru_store_t *self)
{
    MDB_txn *txn;
    unsigned flags = self->readonly ? MDB_RDONLY : 0;
    ru_err err = ru_store_err(mdb_txn_begin(self->env, NULL, flags, &txn), "begin");
    for (int i = 0; !err && i < RU_DB_COUNT; i++) {
        err = ru_store_err(
            mdb_dbi_open(txn, s_dbs[i].name, self->readonly ? 0 : MDB_CREATE, &self->dbi[i]),
            "open db");
        if (!err && i == RU_DB_meta)
            err = s_schema(self, txn);
    }
    if (err) {
        mdb_txn_abort(txn);
        return err;
    }
    return ru_store_err(mdb_txn_commit(txn), "commit");
}

/*  The map to reserve: the maximum, or without one the size of the file
 *  system that holds dir; never less than the size asked. */
static size_t
s_reservation(const ru_store_t *self, const char *dir)
{
    struct statvfs vfs;
    size_t want = self->map_max;
    if (!want && statvfs(dir, &vfs) == 0)
        want = (size_t) vfs.f_blocks * vfs.f_frsize;
    return want > self->map_size ? want : self->map_size;
}

static ru_err
s_env_open(ru_store_t *self, const char *dir)
{
    ru_err err = ru_store_err(mdb_env_create(&self->env), "create");
    if (err)
        return err;
    err = ru_store_err(mdb_env_set_maxdbs(self->env, RU_DB_COUNT), "maxdbs");
    if (!err)
        err = ru_store_err(mdb_env_set_maxreaders(self->env, S_MAX_READERS), "maxreaders");
    if (!err && !self->readonly) /* read-only: the map the store was written with */
        err = ru_store_err(mdb_env_set_mapsize(self->env, self->map_size), "mapsize");
    if (!err)
        err = ru_store_err(
            mdb_env_open(self->env, dir, MDB_NOTLS | (self->readonly ? MDB_RDONLY : 0), 0600), dir);
    if (!err) { /* an existing store may be bigger than asked */
        MDB_envinfo info;
        mdb_env_info(self->env, &info);
        self->map_size = info.me_mapsize;
    }
    return err ? err : s_open_dbs(self);
}

/*  Brings a store of an older schema to RU_STORE_SCHEMA, each step with
 *  the version it reaches, in one transaction: all of it, or nothing. */
static ru_err
s_upgrade(ru_store_t *self, const ru_store_upgrade_fn *upgrades)
{
    if (self->schema == RU_STORE_SCHEMA)
        return RU_OK;
    if (!upgrades) {
        ru_log_err("store",
                   "the store is of schema %u, older than %u, and nothing here upgrades it",
                   (unsigned) self->schema, (unsigned) RU_STORE_SCHEMA);
        return RU_E_SCHEMA;
    }
    ru_txn_t txn;
    ru_err err = ru_store_write(self, &txn);
    uint32_t schema = self->schema;
    for (; !err && schema < RU_STORE_SCHEMA; schema++)
        err = upgrades[schema](&txn);
    if (!err)
        err = ru_txn_put(&txn, RU_DB_meta, S_META_SCHEMA, strlen(S_META_SCHEMA), &schema,
                         sizeof schema);
    if (!err)
        err = ru_txn_commit(&txn);
    else if (txn.txn)
        ru_txn_abort(&txn);
    if (!err)
        ru_log_info("store", "upgraded the store from schema %u to %u", (unsigned) self->schema,
                    (unsigned) schema);
    else
        ru_log_err("store", "cannot upgrade the store from schema %u: %s", (unsigned) self->schema,
                   ru_err_str(err));
    return err;
}

ru_err
ru_store_open(const char *dir, size_t map_size, size_t map_max, const ru_store_upgrade_fn *upgrades,
              ru_store_t **out)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        ru_log_err("store", "cannot create %s: %s", dir, strerror(errno));
        return RU_E_IO;
    }
    ru_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->map_size = map_size;
    self->map_max = map_max;
    self->map_size = s_reservation(self, dir);
    self->dir = strdup(dir);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&self->resize_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    ru_err err = s_env_open(self, dir);
    if (!err)
        err = s_upgrade(self, upgrades);
    if (err) {
        ru_store_destroy(&self);
        return err;
    }
    *out = self;
    return RU_OK;
}

ru_err
ru_store_open_readonly(const char *dir, ru_store_t **out)
{
    char path[4096];
    struct stat st;
    *out = NULL;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) != 0 || st.st_size == 0) {
        ru_log_err("store", "%s holds no store", dir);
        return RU_E_NOT_FOUND;
    }
    ru_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return RU_E_NOMEM;
    self->readonly = 1;
    self->dir = strdup(dir);
    pthread_rwlock_init(&self->resize_lock, NULL);
    ru_err err = s_env_open(self, dir);
    if (err) {
        ru_store_destroy(&self);
        return err;
    }
    *out = self;
    return RU_OK;
}

void
ru_store_destroy(ru_store_t **self_p)
{
    ru_store_t *self = *self_p;
    if (!self)
        return;
    if (self->env)
        mdb_env_close(self->env);
    free(self->dir);
    pthread_rwlock_destroy(&self->resize_lock);
    free(self);
    *self_p = NULL;
}

ru_err
ru_store_copy(ru_store_t *self, int fd)
{
    pthread_rwlock_rdlock(&self->resize_lock); /* the copy runs a read transaction */
    int rc = mdb_env_copyfd2(self->env, fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&self->resize_lock);
    return ru_store_err(rc, "copy");
}

ru_err
ru_store_grow(ru_store_t *self)
{
    if (self->map_max && self->map_size >= self->map_max) {
        ru_log_err("store", "the store is full: it has reached store_max_size (%zu MiB)",
                   self->map_max >> 20);
        return RU_E_STORE_FULL;
    }
    size_t size = self->map_size * 2;
    if (self->map_max && size > self->map_max)
        size = self->map_max;
    pthread_rwlock_wrlock(&self->resize_lock);
    ru_err err = ru_store_err(mdb_env_set_mapsize(self->env, size), "grow");
    pthread_rwlock_unlock(&self->resize_lock);
    if (!err) {
        ru_log_info("store", "map grown from %zu to %zu MiB", self->map_size >> 20, size >> 20);
        self->map_size = size;
    }
    return err;
}

/*  Reads the digest sum of txn's snapshot into sum (zero when absent). */
static ru_err
s_load_sum(ru_txn_t *txn, uint8_t *sum)
{
    MDB_val val;
    ru_err err = ru_txn_get(txn, RU_DB_meta, S_META_SUM, strlen(S_META_SUM), &val);
    memset(sum, 0, RU_HASH_BYTES);
    if (err == RU_E_NOT_FOUND)
        return RU_OK;
    if (!err && val.mv_size == RU_HASH_BYTES)
        memcpy(sum, val.mv_data, RU_HASH_BYTES);
    return err;
}

static ru_err
s_begin(ru_store_t *self, ru_txn_t *txn, int write)
{
    memset(txn, 0, sizeof *txn);
    txn->store = self;
    txn->write = write;
    pthread_rwlock_rdlock(&self->resize_lock);
    ru_err err =
        ru_store_err(mdb_txn_begin(self->env, NULL, write ? 0 : MDB_RDONLY, &txn->txn), "begin");
    if (!err && write)
        err = s_load_sum(txn, txn->sum);
    if (err) {
        if (txn->txn)
            mdb_txn_abort(txn->txn);
        txn->txn = NULL;
        pthread_rwlock_unlock(&self->resize_lock);
    }
    return err;
}

ru_err
ru_store_read(ru_store_t *self, ru_txn_t *txn)
{
    return s_begin(self, txn, 0);
}

ru_err
ru_store_write(ru_store_t *self, ru_txn_t *txn)
{
    return s_begin(self, txn, 1);
}

ru_err
ru_txn_child(ru_txn_t *parent, ru_txn_t *child)
{
    memset(child, 0, sizeof *child);
    child->store = parent->store;
    child->parent = parent;
    child->write = 1;
    memcpy(child->sum, parent->sum, RU_HASH_BYTES);
    return ru_store_err(mdb_txn_begin(parent->store->env, parent->txn, 0, &child->txn), "begin");
}

/*  Forgets txn's handle; a top-level transaction also lets a grow run. */
static void
s_end(ru_txn_t *txn)
{
    txn->txn = NULL;
    if (!txn->parent)
        pthread_rwlock_unlock(&txn->store->resize_lock);
}

void
ru_txn_abort(ru_txn_t *txn)
{
    if (!txn->txn)
        return;
    mdb_txn_abort(txn->txn);
    s_end(txn);
}

/*  LMDB reports a commit whose page writes came up short as EIO, which is
 *  what a full disk does to a write: when the disk has under a megabyte
 *  left, EIO is taken for a full disk. */
int
ru_store_disk_full(const ru_store_t *self)
{
    struct statvfs vfs;
    return self->dir && statvfs(self->dir, &vfs) == 0 &&
           (uint64_t) vfs.f_bavail * vfs.f_frsize < 1024 * 1024;
}

ru_err
ru_txn_commit(ru_txn_t *txn)
{
    ru_err err = RU_OK;
    if (txn->parent) {
        err = ru_store_err(mdb_txn_commit(txn->txn), "commit");
        if (!err && txn->sum_dirty) {
            memcpy(txn->parent->sum, txn->sum, RU_HASH_BYTES);
            txn->parent->sum_dirty = 1;
        }
        s_end(txn);
        return err;
    }
    if (txn->sum_dirty) {
        MDB_val key = {strlen(S_META_SUM), S_META_SUM}, val = {RU_HASH_BYTES, txn->sum};
        err = ru_store_err(mdb_put(txn->txn, txn->store->dbi[RU_DB_meta], &key, &val, 0), "digest");
    }
    if (err) {
        ru_txn_abort(txn);
        return err;
    }
    int rc = mdb_txn_commit(txn->txn);
    err = rc == EIO && ru_store_disk_full(txn->store) ? RU_E_DISK_FULL : ru_store_err(rc, "commit");
    if (err == RU_E_DISK_FULL && rc == EIO)
        ru_log_err("store", "commit: the disk holding %s is full", txn->store->dir);
    s_end(txn);
    return err;
}

ru_err
ru_txn_get(ru_txn_t *txn, ru_db db, const void *key, size_t key_len, MDB_val *val)
{
    MDB_val k = {key_len, (void *) key};
    return ru_store_err(mdb_get(txn->txn, txn->store->dbi[db], &k, val), "get");
}

ru_err
ru_txn_entries(ru_txn_t *txn, ru_db db, uint64_t *n)
{
    MDB_stat st;
    ru_err err = ru_store_err(mdb_stat(txn->txn, txn->store->dbi[db], &st), "stat");
    *n = err ? 0 : (uint64_t) st.ms_entries;
    return err;
}

/*  BLAKE2b-256 of one record: db number, key length, key, value. */
static void
s_record_hash(ru_db db, const MDB_val *key, const MDB_val *val, uint8_t *out)
{
    crypto_generichash_state st;
    uint8_t head[5] = {(uint8_t) db, (uint8_t) (key->mv_size >> 24), (uint8_t) (key->mv_size >> 16),
                       (uint8_t) (key->mv_size >> 8), (uint8_t) key->mv_size};
    crypto_generichash_init(&st, NULL, 0, RU_HASH_BYTES);
    crypto_generichash_update(&st, head, sizeof head);
    crypto_generichash_update(&st, key->mv_data, key->mv_size);
    crypto_generichash_update(&st, val->mv_data, val->mv_size);
    crypto_generichash_final(&st, out, RU_HASH_BYTES);
}

/*  sum += h (sign 1) or sum -= h (sign -1), modulo 2^256, little-endian. */
static void
s_sum_add(uint8_t *sum, const uint8_t *h, int sign)
{
    int carry = 0;
    for (int i = 0; i < RU_HASH_BYTES; i++) {
        int v = sum[i] + sign * h[i] + carry;
        carry = v < 0 ? -1 : v >> 8;
        sum[i] = (uint8_t) (v & 0xff);
    }
}

/*  Takes the record at key (if any) out of the digest sum. */
static ru_err
s_unsum(ru_txn_t *txn, ru_db db, MDB_val *k)
{
    MDB_val old;
    int rc = mdb_get(txn->txn, txn->store->dbi[db], k, &old);
    if (rc == MDB_NOTFOUND)
        return RU_OK;
    if (rc)
        return ru_store_err(rc, "get");
    uint8_t h[RU_HASH_BYTES];
    s_record_hash(db, k, &old, h);
    s_sum_add(txn->sum, h, -1);
    txn->sum_dirty = 1;
    return RU_OK;
}

ru_err
ru_txn_put(ru_txn_t *txn, ru_db db, const void *key, size_t key_len, const void *val,
           size_t val_len)
{
    MDB_val k = {key_len, (void *) key}, v = {val_len, (void *) val};
    if (s_dbs[db].replicated) {
        ru_err err = s_unsum(txn, db, &k);
        if (err)
            return err;
        uint8_t h[RU_HASH_BYTES];
        s_record_hash(db, &k, &v, h);
        s_sum_add(txn->sum, h, 1);
        txn->sum_dirty = 1;
    }
    return ru_store_err(mdb_put(txn->txn, txn->store->dbi[db], &k, &v, 0), "put");
}

ru_err
ru_txn_del(ru_txn_t *txn, ru_db db, const void *key, size_t key_len)
{
    MDB_val k = {key_len, (void *) key};
    if (s_dbs[db].replicated) {
        ru_err err = s_unsum(txn, db, &k);
        if (err)
            return err;
    }
    ru_err err = ru_store_err(mdb_del(txn->txn, txn->store->dbi[db], &k, NULL), "del");
    return err == RU_E_NOT_FOUND ? RU_OK : err;
}

/*  The hashes of a scanned database's records, summed. */
typedef struct {
    ru_db db;
    uint8_t sum[RU_HASH_BYTES];
} s_resum;

static int
s_resum_record(void *ctx, const MDB_val *key, const MDB_val *val)
{
    s_resum *r = ctx;
    uint8_t h[RU_HASH_BYTES];
    s_record_hash(r->db, key, val, h);
    s_sum_add(r->sum, h, 1);
    return 0;
}

ru_err
ru_txn_clear(ru_txn_t *txn, ru_db db)
{
    s_resum r = {db, {0}};
    ru_err err =
        s_dbs[db].replicated ? ru_txn_scan(txn, db, NULL, 0, 0, s_resum_record, &r) : RU_OK;
    if (!err)
        err = ru_store_err(mdb_drop(txn->txn, txn->store->dbi[db], 0), "clear");
    if (!err && s_dbs[db].replicated) {
        s_sum_add(txn->sum, r.sum, -1);
        txn->sum_dirty = 1;
    }
    return err;
}

/*  Positions cur on the last key starting with prefix (reverse scans):
 *  the first key past the prefix range, then one step back. */
static int
s_seek_last(MDB_cursor *cur, const uint8_t *prefix, size_t len, MDB_val *k, MDB_val *v)
{
    uint8_t past[512];
    size_t n = len < sizeof past ? len : sizeof past;
    memcpy(past, prefix, n);
    while (n > 0 && past[n - 1] == 0xff)
        n--; /* the prefix's successor: drop trailing 0xff, add one to the last byte */
    if (n == 0)
        return mdb_cursor_get(cur, k, v, MDB_LAST);
    past[n - 1]++;
    *k = (MDB_val){n, past};
    int rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    return rc == MDB_NOTFOUND ? mdb_cursor_get(cur, k, v, MDB_LAST)
           : rc               ? rc
                              : mdb_cursor_get(cur, k, v, MDB_PREV);
}

/*  Calls fn for the records from where rc and k, v left the cursor on,
 *  while their keys start with prefix. */
static ru_err
s_scan_on(MDB_cursor *cur, int rc, MDB_val *k, MDB_val *v, const void *prefix, size_t len,
          int reverse, ru_scan_fn fn, void *ctx)
{
    while (rc == MDB_SUCCESS && k->mv_size >= len &&
           (len == 0 || memcmp(k->mv_data, prefix, len) == 0)) {
        if (fn(ctx, k, v))
            break;
        rc = mdb_cursor_get(cur, k, v, reverse ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? RU_OK : ru_store_err(rc, "scan");
}

ru_err
ru_txn_scan(ru_txn_t *txn, ru_db db, const void *prefix, size_t len, int reverse, ru_scan_fn fn,
            void *ctx)
{
    MDB_cursor *cur;
    ru_err err = ru_store_err(mdb_cursor_open(txn->txn, txn->store->dbi[db], &cur), "cursor");
    if (err)
        return err;
    MDB_val k = {len, (void *) prefix}, v;
    int rc = reverse ? s_seek_last(cur, prefix, len, &k, &v)
                     : mdb_cursor_get(cur, &k, &v, len ? MDB_SET_RANGE : MDB_FIRST);
    return s_scan_on(cur, rc, &k, &v, prefix, len, reverse, fn, ctx);
}

ru_err
ru_txn_scan_after(ru_txn_t *txn, ru_db db, const void *prefix, size_t len, const void *after,
                  size_t after_len, ru_scan_fn fn, void *ctx)
{
    MDB_cursor *cur;
    ru_err err = ru_store_err(mdb_cursor_open(txn->txn, txn->store->dbi[db], &cur), "cursor");
    if (err)
        return err;
    MDB_val k = {after_len, (void *) after}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS && k.mv_size == after_len && memcmp(k.mv_data, after, after_len) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    return s_scan_on(cur, rc, &k, &v, prefix, len, 0, fn, ctx);
}

ru_err
ru_txn_digest_recompute(ru_txn_t *txn, uint8_t *digest)
{
    s_resum r;
    memset(&r, 0, sizeof r);
    ru_err err = RU_OK;
    for (int db = 0; !err && db < RU_DB_COUNT; db++) {
        r.db = (ru_db) db;
        if (s_dbs[db].replicated)
            err = ru_txn_scan(txn, r.db, NULL, 0, 0, s_resum_record, &r);
    }
    if (!err)
        crypto_generichash(digest, RU_HASH_BYTES, r.sum, RU_HASH_BYTES, NULL, 0);
    return err;
}

ru_err
ru_txn_digest(ru_txn_t *txn, uint8_t *digest)
{
    uint8_t sum[RU_HASH_BYTES];
    if (txn->write)
        memcpy(sum, txn->sum, RU_HASH_BYTES);
    else {
        ru_err err = s_load_sum(txn, sum);
        if (err)
            return err;
    }
    crypto_generichash(digest, RU_HASH_BYTES, sum, RU_HASH_BYTES, NULL, 0);
    return RU_OK;
}

ru_err
ru_store_collect(void *self, ru_buf_t *out)
{
    ru_store_usage_t use;
    ru_store_usage(self, &use);
    ru_prom_single(out, "ruche_store_map_size_bytes", "gauge", "Size of the LMDB map.",
                   (double) use.map_size);
    ru_prom_single(out, "ruche_store_used_bytes", "gauge", "Bytes of the LMDB map in use (pages).",
                   (double) use.used);
    ru_prom_single(out, "ruche_store_max_size_bytes", "gauge",
                   "Largest size the map may grow to ([store] max_size_mb; 0: up to the disk).",
                   (double) use.map_max);
    return RU_OK;
}
