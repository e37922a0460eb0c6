/*  ru_store.h - the node's LMDB environment: named databases, transactions,
 *  the state digest, and a map that grows.
 *
 *  One environment per node (DESIGN.md, "Storage"). The databases are
 *  listed once, in RU_STORE_DBS; each says whether it is replicated state
 *  (the same on every node that holds the same updates: it counts in the
 *  state digest) or local (indexes derived from state, accounts, sessions,
 *  pending updates).
 *
 *  Threads: any thread may run read transactions (ru_store_read); only the
 *  store actor runs write transactions (ru_store_write). The environment is
 *  opened with MDB_NOTLS, so a read transaction is not tied to its thread.
 *
 *  State digest: every put and delete in a replicated database adds or
 *  subtracts BLAKE2b(db, key, value) to a 256-bit sum kept in the meta
 *  database (a multiset hash), in the same transaction. The digest is
 *  BLAKE2b of that sum: two stores with equal replicated databases have
 *  equal digests, whatever order they were written in, at the cost of two
 *  hashes per write instead of a scan of the whole store.
 *
 *  The map is reserved at its maximum when the store opens (address space,
 *  not disk: the file grows as pages are used), so it does not grow while
 *  the node runs and no write waits for a long read transaction such as a
 *  backup's. A full map: a write fails with RU_E_STORE_FULL when a put
 *  would pass the map size. The writer then aborts, calls ru_store_grow()
 *  and retries (which helps only if the file system grew); once the
 *  configured maximum is reached the write fails with that error and
 *  nothing stored is touched (LMDB never overwrites committed pages). A
 *  full disk fails the write with RU_E_DISK_FULL, the same way.
 */
#ifndef RU_STORE_H
#define RU_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_buf.h"
#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

/*  X(name, replicated) - the named databases. New ones go at the end: a
 *  record's hash in the state digest starts with its database's index. */
#define RU_STORE_DBS(X)                                                                            \
    X(meta, 0)        /* schema version, digest sum, node's own counters, pending total */         \
    X(log, 0)         /* origin|seq -> signed update (envelope) */                                 \
    X(heads, 1)       /* origin -> seq|hash of its last applied update: the clock */               \
    X(pending, 0)     /* origin|seq -> envelope waiting for its dependencies */                    \
    X(waits, 0)       /* dep origin|dep seq|origin|seq -> "": who waits for what */                \
    X(posts, 1)       /* origin|seq -> post record (posts and replies) */                          \
    X(likes, 1)       /* post origin|seq|home|name -> "" */                                        \
    X(profiles, 1)    /* home|name -> profile record */                                            \
    X(follows, 1)     /* follower home|name|0|followee home|name -> "" */                          \
    X(groups, 1)      /* origin|seq -> group record */                                             \
    X(members, 1)     /* group origin|seq|home|name -> "" */                                       \
    X(timeline, 0)    /* hlc|origin|seq -> "": every status, in timeline order */                  \
    X(replies, 0)     /* parent origin|seq|hlc|origin|seq -> "" */                                 \
    X(authors, 0)     /* home|name|0|hlc|origin|seq -> "" */                                       \
    X(tags, 0)        /* tag|0|hlc|origin|seq -> "" */                                             \
    X(mentions, 0)    /* home|name|0|hlc|origin|seq -> "" */                                       \
    X(group_posts, 0) /* group origin|seq|hlc|origin|seq -> "" */                                  \
    X(followers, 0)   /* followee home|name|0|follower home|name -> "" */                          \
    X(home, 0)        /* local user|0|hlc|origin|seq -> "": home timelines */                      \
    X(ids, 0)         /* public id (8 bytes) -> kind | user key or group ref */                    \
    X(counts, 0)      /* home|name|0 -> a user's statuses, following, followers; home -> */        \
                      /* its site's statuses (ru_state.h) */                                       \
    X(users, 0)       /* local user name -> account record */                                      \
    X(sessions, 0)    /* token hash -> session record */                                           \
    X(apps, 0)        /* OAuth client_id -> app record (ru_oauth.h) */                             \
    X(oauth_codes, 0) /* authorization code hash -> grant record */                                \
    X(app_tokens, 0)  /* token hash -> the app it was issued to, its scope */                      \
    X(peers, 0)       /* peer key -> replication state */                                          \
    X(notifs, 0)      /* local user|0|id -> notification record (ru_notify.c) */                   \
    X(notif_keys, 0)  /* local user|0|subject -> notification id (ru_notify.c) */                  \
    X(words, 0)       /* folded word|0|hlc|origin[0..8] -> "": full-text search (ru_search.c) */   \
    X(people, 0)      /* folded term|0|home|name|0 -> "": account search */                        \
    X(tagnames, 0)    /* folded tag|0|tag -> "": hashtag search */                                 \
    X(pending_at, 0)  /* origin|seq -> arrival ms (8) of a pending update (ru_apply.c) */          \
    X(pending_age, 0) /* origin|arrival ms|seq -> "": each origin's pending, oldest first */       \
    X(pending_n, 0)   /* origin -> how many of its updates are pending (8) */                      \
    X(clocks, 0)      /* origin|p -> K(head)[p]: each origin's full clock (PROTOCOL.md 5.4) */     \
    X(order, 0)       /* origin|seq -> position: the order they were applied in (ru_order.h) */    \
    X(forks, 0)       /* origin -> its fork seq, the evidence (ru_fork.h): what this node learnt */ \
    X(blobs, 0)       /* blob hash -> its reference count, type and name (ru_blobref.h) */         \
    X(blob_want, 0)   /* blob hash -> "": referenced, perhaps not held yet (ru_blobref.h) */       \
    X(blob_gc, 0)     /* blob hash -> ms (8) it lost its last reference (ru_blobref.h) */          \
    X(uploads, 0)     /* upload id (8) -> upload record (ru_upload.h) */                           \
    X(uploads_by, 0)  /* owner name|0|upload id -> "": each user's uploads (ru_upload.h) */ \
    X(cards, 0)       /* BLAKE2b(address) -> made ms | card JSON, or none (ru_card.h) */      \
    X(media_usage, 0) /* local user name -> bytes (8) of their statuses' files (ru_blobref.h) */ \
    X(dirids, 0)      /* directory id|0|home|name|0 -> hlc (8) | departed (1) (ru_search.h) */ \
    X(dirphotos, 0)   /* local user name -> BLAKE2b of the directory photo made their avatar */

typedef enum {
#define RU_DB_ENUM(name, replicated) RU_DB_##name,
    RU_STORE_DBS(RU_DB_ENUM)
#undef RU_DB_ENUM
        RU_DB_COUNT
} ru_db;

/*  The schema of the databases above. A store of an older version is
 *  upgraded when it opens for writing, by the steps the caller gives (the
 *  state layer's, ru_schema_upgrades: they know what the databases hold),
 *  in one transaction that also records the new version (2: the ids database records each id's
 * kind; 3: each origin's last full clock and the pending counts, ru_apply_upgrade; 4: the order
 *  database, the apply-order index; 5: each site's statuses counted; 6: the cards
 *  database, link previews); a store of a newer version is refused (RU_E_SCHEMA) rather
 *  than misread. */
#define RU_STORE_SCHEMA 7

typedef struct ru_store ru_store_t;

typedef struct ru_txn {
    ru_store_t *store;
    struct ru_txn *parent; /* nested transactions: the enclosing one */
    MDB_txn *txn;
    int write;
    uint8_t sum[RU_HASH_BYTES]; /* write transactions: digest sum so far */
    int sum_dirty;
} ru_txn_t;

/*  One step of a schema upgrade, from version n to n + 1, in txn. */
typedef ru_err (*ru_store_upgrade_fn)(ru_txn_t *txn);

/*  Opens (creating if needed) the store in directory dir with a map of
 *  map_max bytes (0: no limit but the disk, and a map the size of the file
 *  system that holds dir), or of map_size bytes if that is larger. A store
 *  of an older schema is brought to RU_STORE_SCHEMA by upgrades[n] for each
 *  version n it passes (an array of RU_STORE_SCHEMA steps; NULL: such a
 *  store is refused with RU_E_SCHEMA). *out is owned by the caller. */
RU_MUST_CHECK ru_err ru_store_open(const char *dir, size_t map_size, size_t map_max,
                                   const ru_store_upgrade_fn *upgrades, ru_store_t **out);
/*  Opens the store that dir holds for reading only (a running node may
 *  be writing to it): no file is created or changed. RU_E_NOT_FOUND when
 *  dir holds no store, RU_E_SCHEMA when it is not one of ours or of an
 *  older schema (which only a write open upgrades; logged). Only read
 *  transactions. */
RU_MUST_CHECK ru_err ru_store_open_readonly(const char *dir, ru_store_t **out);
/*  Closes the store; no transaction may be open. NULL-safe. */
void ru_store_destroy(ru_store_t **self_p);

/*  Doubles the map (up to the maximum). Only the store actor calls it, with
 *  no write transaction open; it waits for running read transactions to
 *  end, and new ones wait for it. RU_E_STORE_FULL when the maximum is
 *  reached. The map is opened at its maximum, so this happens only when a
 *  store without one outgrows the file system it was opened on. */
RU_MUST_CHECK ru_err ru_store_grow(ru_store_t *self);
/*  Has the disk holding the store under a megabyte left? A commit that
 *  fails with EIO then is taken for RU_E_DISK_FULL. Any thread. */
int ru_store_disk_full(const ru_store_t *self);
/*  Writes a compacted copy of the whole store (free pages left out) to
 *  fd, as one read transaction sees it: writers and readers go on
 *  meanwhile, and the copy holds exactly what was committed when it began.
 *  A map growth (ru_store_grow) would wait for the copy to end. */
RU_MUST_CHECK ru_err ru_store_copy(ru_store_t *self, int fd);
/*  1 when this open created the store (there was none in the directory). */
int ru_store_fresh(const ru_store_t *self);
/*  The current map size in bytes. */
size_t ru_store_map_size(const ru_store_t *self);
/*  How full the store is, for monitoring (any thread): the map size, the
 *  bytes its pages use (up to the last page written; LMDB reuses freed
 *  pages below it) and the maximum the map may grow to (0: the disk). */
typedef struct {
    size_t map_size, used, map_max;
} ru_store_usage_t;
void ru_store_usage(ru_store_t *self, ru_store_usage_t *out);
/*  The collector (ru_prom.h) of the usage: self is an ru_store_t. */
RU_MUST_CHECK ru_err ru_store_collect(void *self, ru_buf_t *out);

/*  Begins a read or a write transaction in txn. */
RU_MUST_CHECK ru_err ru_store_read(ru_store_t *self, ru_txn_t *txn);
RU_MUST_CHECK ru_err ru_store_write(ru_store_t *self, ru_txn_t *txn);
/*  Begins a transaction nested in the write transaction parent: its
 *  changes join parent's on commit, or vanish on abort, leaving parent as
 *  it was (one failed request never spoils a group commit). */
RU_MUST_CHECK ru_err ru_txn_child(ru_txn_t *parent, ru_txn_t *child);
/*  Ends it: commit makes a write durable (fsync) before returning; on
 *  failure the transaction is aborted. Both leave txn closed. */
RU_MUST_CHECK ru_err ru_txn_commit(ru_txn_t *txn);
void ru_txn_abort(ru_txn_t *txn);

/*  *val is a view of the store's page, valid until the next put or delete
 *  of this transaction, into any database (lmdb.h: an update may move the
 *  bytes or spill the page and free its memory), or the end of the
 *  transaction: copy it before writing. RU_E_NOT_FOUND. */
RU_MUST_CHECK ru_err ru_txn_get(ru_txn_t *txn, ru_db db, const void *key, size_t key_len,
                                MDB_val *val);
/*  The number of records of db as txn sees it, in constant time (LMDB
 *  keeps it). */
RU_MUST_CHECK ru_err ru_txn_entries(ru_txn_t *txn, ru_db db, uint64_t *n);
/*  Writes, keeping the digest for replicated databases. */
RU_MUST_CHECK ru_err ru_txn_put(ru_txn_t *txn, ru_db db, const void *key, size_t key_len,
                                const void *val, size_t val_len);
/*  Deletes key; deleting a missing key is not an error. */
RU_MUST_CHECK ru_err ru_txn_del(ru_txn_t *txn, ru_db db, const void *key, size_t key_len);

/*  Empties db, keeping the digest for a replicated one (each record's hash
 *  taken out of the sum). */
RU_MUST_CHECK ru_err ru_txn_clear(ru_txn_t *txn, ru_db db);

/*  Calls fn for every record of db whose key starts with prefix, in key
 *  order (forward, or backward when reverse is set), until fn returns
 *  non-zero. fn must not write to db. */
typedef int (*ru_scan_fn)(void *ctx, const MDB_val *key, const MDB_val *val);
RU_MUST_CHECK ru_err ru_txn_scan(ru_txn_t *txn, ru_db db, const void *prefix, size_t len,
                                 int reverse, ru_scan_fn fn, void *ctx);
/*  The forward scan of prefix from the first key after `after`: a scan
 *  that stopped at the end of a page goes on from the page's last key. */
RU_MUST_CHECK ru_err ru_txn_scan_after(ru_txn_t *txn, ru_db db, const void *prefix, size_t len,
                                       const void *after, size_t after_len, ru_scan_fn fn,
                                       void *ctx);

/*  The state digest as of this transaction, from the sum kept with every
 *  write: one read. */
RU_MUST_CHECK ru_err ru_txn_digest(ru_txn_t *txn, uint8_t *digest);
/*  The state digest computed anew from every record of the replicated
 *  databases that txn sees: a read of the whole replicated state. Equal to
 *  ru_txn_digest unless the store's content or its sum was damaged. */
RU_MUST_CHECK ru_err ru_txn_digest_recompute(ru_txn_t *txn, uint8_t *digest);

/*  The raw handle of a database, for cursors. */
MDB_dbi ru_store_dbi(const ru_store_t *self, ru_db db);
/*  Translates an LMDB return code into an ru_err, logging what is not a
 *  plain "not found" once with the operation's name. */
ru_err ru_store_err(int rc, const char *what);

#endif
