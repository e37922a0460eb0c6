/*  ru_mp.c - a strict, non-allocating MessagePack reader (see ru_mp.h for
 *  why it exists beside msgpack-c) and the packer glue to ru_buf.
 *
 *  Every reader follows one pattern: look at the tag byte, read the length
 *  or value in big-endian, check it against what is left and what is
 *  allowed, then move the cursor. A failed read leaves the cursor alone.
 */
#include "ruche/ru_mp.h"

#include <string.h>

void
ru_mp_init(ru_mp_t *self, const uint8_t *bytes, size_t len)
{
    self->p = bytes;
    self->end = bytes + len;
}

size_t
ru_mp_left(const ru_mp_t *self)
{
    return (size_t) (self->end - self->p);
}

ru_err
ru_mp_end(const ru_mp_t *self)
{
    return self->p == self->end ? RU_OK : RU_E_TRAILING;
}

/*  Big-endian unsigned integer of width bytes at p. */
static uint64_t
s_be(const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = (v << 8) | p[i];
    return v;
}

/*  Reads the width-byte integer following the tag at the cursor into *v;
 *  *used is the count of bytes taken (tag included). */
static ru_err
s_tail(const ru_mp_t *self, int width, uint64_t *v, size_t *used)
{
    if (ru_mp_left(self) < 1 + (size_t) width)
        return RU_E_TRUNCATED;
    *v = s_be(self->p + 1, width);
    *used = 1 + (size_t) width;
    return RU_OK;
}

/*  A container header: fix form for counts below fix_limit, then the 16-
 *  and 32-bit forms. Counts must use the shortest form. */
static ru_err
s_container(ru_mp_t *self, uint8_t fix_base, uint8_t fix_mask, uint8_t tag16, uint8_t tag32,
            uint32_t *n)
{
    if (ru_mp_left(self) < 1)
        return RU_E_TRUNCATED;
    uint8_t tag = *self->p;
    uint64_t v;
    size_t used;
    ru_err err = RU_OK;
    if ((tag & (uint8_t) ~fix_mask) == fix_base) {
        v = tag & fix_mask;
        used = 1;
    } else if (tag == tag16) {
        err = s_tail(self, 2, &v, &used);
        if (!err && v <= fix_mask)
            err = RU_E_NONCANONICAL;
    } else if (tag == tag32) {
        err = s_tail(self, 4, &v, &used);
        if (!err && v <= 0xffff)
            err = RU_E_NONCANONICAL;
    } else
        return RU_E_TYPE;
    if (err)
        return err;
    /*  Every element takes at least one byte: a count beyond the bytes left
     *  is a truncated message, whatever the elements. */
    if (v > ru_mp_left(self) - used)
        return RU_E_TRUNCATED;
    self->p += used;
    *n = (uint32_t) v;
    return RU_OK;
}

ru_err
ru_mp_array(ru_mp_t *self, uint32_t *n)
{
    return s_container(self, 0x90, 0x0f, 0xdc, 0xdd, n);
}

ru_err
ru_mp_map(ru_mp_t *self, uint32_t *n)
{
    /*  A map of n pairs holds 2n elements; s_container's bound on n is
     *  still a valid (looser) bound. */
    return s_container(self, 0x80, 0x0f, 0xde, 0xdf, n);
}

ru_err
ru_mp_array_of(ru_mp_t *self, uint32_t n)
{
    ru_mp_t saved = *self;
    uint32_t got;
    ru_err err = ru_mp_array(self, &got);
    if (!err && got != n) {
        *self = saved;
        err = RU_E_TYPE;
    }
    return err;
}

ru_err
ru_mp_uint(ru_mp_t *self, uint64_t *v)
{
    if (ru_mp_left(self) < 1)
        return RU_E_TRUNCATED;
    uint8_t tag = *self->p;
    if (tag <= 0x7f) {
        *v = tag;
        self->p++;
        return RU_OK;
    }
    /*  uint8, uint16, uint32, uint64 and the smallest value each may hold */
    static const struct {
        uint8_t tag;
        int width;
        uint64_t min;
    } forms[] = {{0xcc, 1, 0x80}, {0xcd, 2, 0x100}, {0xce, 4, 0x10000}, {0xcf, 8, 0x100000000}};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (tag != forms[i].tag)
            continue;
        uint64_t value;
        size_t used;
        ru_err err = s_tail(self, forms[i].width, &value, &used);
        if (err)
            return err;
        if (value < forms[i].min)
            return RU_E_NONCANONICAL;
        *v = value;
        self->p += used;
        return RU_OK;
    }
    return RU_E_TYPE;
}

ru_err
ru_mp_nil(ru_mp_t *self)
{
    if (ru_mp_left(self) < 1)
        return RU_E_TRUNCATED;
    if (*self->p != 0xc0)
        return RU_E_TYPE;
    self->p++;
    return RU_OK;
}

int
ru_mp_peek_nil(const ru_mp_t *self)
{
    return ru_mp_left(self) >= 1 && *self->p == 0xc0;
}

/*  A length-prefixed str (fixstr, str 8/16/32) or bin (bin 8/16/32). */
static ru_err
s_bytes(ru_mp_t *self, int is_str, const uint8_t **bytes, uint32_t *len, uint32_t max)
{
    if (ru_mp_left(self) < 1)
        return RU_E_TRUNCATED;
    uint8_t tag = *self->p;
    uint64_t v;
    size_t used;
    ru_err err;
    uint8_t tag8 = is_str ? 0xd9 : 0xc4;
    uint64_t min8 = is_str ? 32 : 0;
    if (is_str && (tag & 0xe0) == 0xa0) {
        v = tag & 0x1f;
        used = 1;
        err = RU_OK;
    } else if (tag == tag8) {
        err = s_tail(self, 1, &v, &used);
        if (!err && v < min8)
            err = RU_E_NONCANONICAL;
    } else if (tag == tag8 + 1) {
        err = s_tail(self, 2, &v, &used);
        if (!err && v <= 0xff)
            err = RU_E_NONCANONICAL;
    } else if (tag == tag8 + 2) {
        err = s_tail(self, 4, &v, &used);
        if (!err && v <= 0xffff)
            err = RU_E_NONCANONICAL;
    } else
        return RU_E_TYPE;
    if (err)
        return err;
    if (v > max)
        return RU_E_TOO_BIG;
    if (v > ru_mp_left(self) - used)
        return RU_E_TRUNCATED;
    *bytes = self->p + used;
    *len = (uint32_t) v;
    self->p += used + v;
    return RU_OK;
}

ru_err
ru_mp_bin(ru_mp_t *self, const uint8_t **bytes, uint32_t *len, uint32_t max)
{
    return s_bytes(self, 0, bytes, len, max);
}

ru_err
ru_mp_bin_exact(ru_mp_t *self, uint8_t *out, uint32_t len)
{
    ru_mp_t saved = *self;
    const uint8_t *bytes;
    uint32_t got;
    ru_err err = s_bytes(self, 0, &bytes, &got, len);
    if (err == RU_E_TOO_BIG || (!err && got != len)) {
        *self = saved;
        return RU_E_TYPE;
    }
    if (!err)
        memcpy(out, bytes, len);
    return err;
}

ru_err
ru_mp_str(ru_mp_t *self, const char **str, uint32_t *len, uint32_t max)
{
    const uint8_t *bytes;
    ru_err err = s_bytes(self, 1, &bytes, len, max);
    if (!err)
        *str = (const char *) bytes;
    return err;
}

static int
s_write(void *data, const char *bytes, size_t len)
{
    ru_buf_append(data, bytes, len);
    return 0;
}

void
ru_mp_packer_init(msgpack_packer *pk, ru_buf_t *buf)
{
    msgpack_packer_init(pk, buf, s_write);
}
