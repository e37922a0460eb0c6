/*  ru_restore.h - a backup put back in place of a node's store, offline
 *  (ruched --restore FILE).
 *
 *  The backup (a compacted LMDB copy from ruche admin backup) is copied
 *  into a staging directory inside the data directory, flushed, and opened
 *  as a store: it must be a store (not empty, not another kind of file)
 *  of this schema version, and readable to its end (its state digest is
 *  computed). Only then does it replace DATA_DIR/data.mdb, by a rename, so
 *  a failed restore leaves the directory as it was. When the config names
 *  peers, the restored store is put in recovery (ru_apply.h): the site's
 *  own updates made after the backup live on at its peers, and the node
 *  takes them back before it makes new ones, never reusing their seqs.
 *  ruched must not be running on the directory.
 */
#ifndef RU_RESTORE_H
#define RU_RESTORE_H

#include "ru_config.h"

/*  Restores file into cfg's data directory (which must exist). A
 *  directory holding a store is refused (RU_E_EXISTS) unless force.
 *  Errors are logged with what to do. */
RU_MUST_CHECK ru_err ru_restore(const ru_config_t *cfg, const char *file, int force);

#endif
