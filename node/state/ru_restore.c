/*  ru_restore.c - a backup put in place of the store (see ru_restore.h). */
#include "ru_restore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ru_apply.h"
#include "ru_log.h"
#include "ru_schema.h"
#include "ru_store.h"

#define S_LOG "restore"
#define S_STAGING "restore.tmp"

/*  Copies file to path, flushed to disk. */
static ru_err
s_copy(const char *file, const char *path)
{
    int in = open(file, O_RDONLY);
    int out = in < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[65536];
    ssize_t n = 0;
    int ok = out >= 0;
    while (ok && (n = read(in, buf, sizeof buf)) > 0)
        ok = write(out, buf, (size_t) n) == n;
    ok = ok && n == 0 && fsync(out) == 0;
    if (!ok)
        ru_log_err(S_LOG, "cannot copy %s to %s: %s", file, path, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        ok = 0;
    return ok ? RU_OK : RU_E_IO;
}

static ru_err
s_begin_recovery(ru_store_t *store)
{
    ru_txn_t txn;
    ru_err err = ru_store_write(store, &txn);
    if (err)
        return err;
    err = ru_apply_begin_recovery(&txn);
    if (err) {
        ru_txn_abort(&txn);
        return err;
    }
    return ru_txn_commit(&txn);
}

/*  Opens the staged copy as a store and reads it through. */
static ru_err
s_check(const ru_config_t *cfg, const char *dir, const char *file)
{
    ru_store_t *store = NULL;
    size_t mib = 1024 * 1024;
    ru_err err = ru_store_open(dir, (size_t) cfg->map_size_mb * mib,
                               (size_t) cfg->max_size_mb * mib, ru_schema_upgrades, &store);
    if (!err && ru_store_fresh(store))
        err = RU_E_SCHEMA; /* it held no store: an empty file */
    int match = 0;
    if (!err)
        err = ru_restore_verify(store, NULL, NULL, &match);
    if (!err && !match) {
        ru_log_err(S_LOG, "%s is damaged: its records do not add up to its state digest", file);
        err = RU_E_STORE;
    }
    if (!err && cfg->n_peers > 0)
        err = s_begin_recovery(store);
    ru_store_destroy(&store);
    if (err)
        ru_log_err(S_LOG, "%s is not a ruche store this version can use: %s", file,
                   ru_err_str(err));
    else if (cfg->n_peers > 0)
        ru_log_info(S_LOG,
                    "the node will take its own updates back from its %d peers "
                    "before it accepts new posts",
                    cfg->n_peers);
    return err;
}

ru_err
ru_restore_verify(ru_store_t *store, uint8_t *recomputed, uint8_t *stored, int *match)
{
    uint8_t a[RU_HASH_BYTES], b[RU_HASH_BYTES];
    ru_txn_t txn;
    ru_err err = ru_store_read(store, &txn);
    if (err)
        return err;
    err = ru_txn_digest_recompute(&txn, a);
    if (!err)
        err = ru_txn_digest(&txn, b);
    ru_txn_abort(&txn);
    if (err)
        return err;
    *match = memcmp(a, b, RU_HASH_BYTES) == 0;
    if (recomputed)
        memcpy(recomputed, a, RU_HASH_BYTES);
    if (stored)
        memcpy(stored, b, RU_HASH_BYTES);
    return RU_OK;
}

/*  Removes the staging directory and what it holds. */
static void
s_clean(const char *staging)
{
    char path[RU_CONFIG_PATH_MAX + 32];
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", staging, files[i]);
        unlink(path);
    }
    rmdir(staging);
}

ru_err
ru_restore(const ru_config_t *cfg, const char *file, int force)
{
    char staging[RU_CONFIG_PATH_MAX + 16], from[RU_CONFIG_PATH_MAX + 32],
        to[RU_CONFIG_PATH_MAX + 16];
    struct stat st;
    snprintf(to, sizeof to, "%s/data.mdb", cfg->data_dir);
    if (!force && stat(to, &st) == 0 && st.st_size > 0) {
        ru_log_err(S_LOG, "%s holds a store already: stop ruched and give --force to replace it",
                   cfg->data_dir);
        return RU_E_EXISTS;
    }
    snprintf(staging, sizeof staging, "%s/" S_STAGING, cfg->data_dir);
    snprintf(from, sizeof from, "%s/data.mdb", staging);
    s_clean(staging); /* what a failed restore left */
    if (mkdir(staging, 0700) != 0) {
        ru_log_err(S_LOG, "cannot create %s: %s", staging, strerror(errno));
        return RU_E_IO;
    }
    ru_err err = s_copy(file, from);
    if (!err)
        err = s_check(cfg, staging, file);
    if (!err && rename(from, to) != 0) {
        ru_log_err(S_LOG, "cannot move the restored store to %s: %s", to, strerror(errno));
        err = RU_E_IO;
    }
    s_clean(staging);
    if (!err)
        ru_log_info(S_LOG, "restored %s into %s", file, cfg->data_dir);
    return err;
}
