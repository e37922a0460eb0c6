/*  ru_dbkey.h - how the store's keys are laid out (see RU_STORE_DBS).
 *
 *  Keys sort the way they are scanned: integers are big-endian, so LMDB's
 *  byte order is numeric order; a user is home key | name | 0, and names
 *  never hold a 0 byte, so a user's entries are one contiguous range.
 *  Every builder writes into the caller's buffer and returns the length.
 */
#ifndef RU_DBKEY_H
#define RU_DBKEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ruche/ru_limits.h"
#include "ruche/ru_update.h"

/*  An update: origin | seq. */
#define RU_DBKEY_REF (RU_KEY_BYTES + 8)
/*  A timeline position: hlc | origin | seq. */
#define RU_DBKEY_POS (8 + RU_DBKEY_REF)
/*  A user: home | name | 0. */
#define RU_DBKEY_USER (RU_KEY_BYTES + RU_MAX_NAME + 1)
/*  The longest key of any database. */
#define RU_DBKEY_MAX (2 * RU_DBKEY_USER + RU_DBKEY_POS)

static inline void
ru_dbkey_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static inline uint64_t
ru_dbkey_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline size_t
ru_dbkey_ref(uint8_t *out, const uint8_t *origin, uint64_t seq)
{
    memcpy(out, origin, RU_KEY_BYTES);
    ru_dbkey_be64(out + RU_KEY_BYTES, seq);
    return RU_DBKEY_REF;
}

static inline size_t
ru_dbkey_pos(uint8_t *out, uint64_t hlc, const uint8_t *origin, uint64_t seq)
{
    ru_dbkey_be64(out, hlc);
    return 8 + ru_dbkey_ref(out + 8, origin, seq);
}

static inline size_t
ru_dbkey_user(uint8_t *out, const uint8_t *home, ru_str_t name)
{
    memcpy(out, home, RU_KEY_BYTES);
    memcpy(out + RU_KEY_BYTES, name.ptr, name.len);
    out[RU_KEY_BYTES + name.len] = 0;
    return RU_KEY_BYTES + name.len + 1;
}

#endif
