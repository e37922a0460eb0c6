/*  ru_confedit.h - changes to the node's config file made by the node
 *  itself: adding and removing [peer NAME] sections (ruche admin add-peer,
 *  remove-peer).
 *
 *  The file is edited as text, so every comment and every other line stays
 *  as the administrator wrote it: a new section is appended at the end, a
 *  removed one is cut from its header to the next section's header (the
 *  comment lines just before that header stay: they belong to it). The new
 *  text goes to a temporary file in the same directory, is checked by
 *  check(), flushed to disk, given the old file's mode and renamed over
 *  the old one, so a crash leaves either the old file or the new one.
 */
#ifndef RU_CONFEDIT_H
#define RU_CONFEDIT_H

#include "ru_config.h"

/*  Called with the path of the new text before it replaces the old one;
 *  anything but RU_OK leaves the old file in place. */
typedef ru_err (*ru_confedit_check)(const char *path, void *ctx);

/*  Appends a [peer p->site] section (key, and pub and sync when set).
 *  RU_E_EXISTS when the file has a section of that site already;
 *  RU_E_IO when the file cannot be read or written. */
RU_MUST_CHECK ru_err ru_confedit_add_peer(const char *path, const ru_peer_cfg_t *p,
                                          ru_confedit_check check, void *ctx);
/*  Removes the [peer site] section; RU_E_NOT_FOUND when there is none. */
RU_MUST_CHECK ru_err ru_confedit_remove_peer(const char *path, const char *site,
                                             ru_confedit_check check, void *ctx);

#endif
