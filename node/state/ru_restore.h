/*  ru_restore.h - a backup put back in place of a node's store, offline
 *  (ruched --restore FILE).
 *
 *  The backup (a compacted LMDB copy from ruche admin backup) is copied
 *  into a staging directory inside the data directory, flushed, and opened
 *  as a store: it must be a store (not empty, not another kind of file)
 *  of this schema version or an older one (upgraded as it opens), and its
 *  content must be whole: every record of the replicated databases is read
 *  and their digest computed anew, which must equal the state digest the
 *  store kept as it was written (ru_restore_verify). Only then does it
 *  replace DATA_DIR/data.mdb, by a rename, so a failed restore leaves the
 *  directory as it was. When the config names
 *  peers, the restored store is put in recovery (ru_apply.h): the site's
 *  own updates made after the backup live on at its peers, and the node
 *  takes them back before it makes new ones, never reusing their seqs.
 *  ruched must not be running on the directory.
 */
#ifndef RU_RESTORE_H
#define RU_RESTORE_H

#include "ru_config.h"
#include "ru_store.h"

/*  Restores file into cfg's data directory (which must exist). A
 *  directory holding a store is refused (RU_E_EXISTS) unless force.
 *  Errors are logged with what to do. */
RU_MUST_CHECK ru_err ru_restore(const ru_config_t *cfg, const char *file, int force);

/*  Reads the whole replicated state of store, computes its digest anew
 *  and compares it with the digest kept in the store: *match is 1 when
 *  they are equal. The digests are copied to recomputed and stored (each
 *  RU_HASH_BYTES, or NULL). A live store is read as of one transaction
 *  (ruched --verify). */
RU_MUST_CHECK ru_err ru_restore_verify(ru_store_t *store, uint8_t *recomputed, uint8_t *stored,
                                       int *match);

#endif
