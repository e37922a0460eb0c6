/*  ru_record_test.c - the stored post, group and profile records: what the
 *  encoders write decodes to the same record, and a post record whose
 *  fields break its rules (a kind that is not a post's, a visibility
 *  past the last, a parent on a post, none on a reply) is damage, not a
 *  record. Content warnings, attachments, avatars and headers round-trip,
 *  and a record without them keeps the shape it had before they existed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ru_record.h"
#include "ruche/ru_mp.h"

static const char s_author[] = "alice";
static const char s_text[] = "hello #ruche";

static ru_post_rec_t
s_reply(void)
{
    ru_post_rec_t rec = {.kind = RU_KIND_REPLY,
                         .author = {s_author, sizeof s_author - 1},
                         .hlc = 1000,
                         .visibility = RU_VIS_UNLISTED,
                         .has_parent = 1,
                         .parent = {.origin = {1}, .seq = 3},
                         .root = {.origin = {2}, .seq = 1},
                         .text = {s_text, sizeof s_text - 1},
                         .likes = 2};
    return rec;
}

static void
test_post_round_trip(void **state)
{
    (void) state;
    ru_post_rec_t rec = s_reply(), out;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_post_rec_encode(&rec, &buf);
    assert_int_equal(ru_post_rec_decode(buf.data, buf.len, &out), RU_OK);
    assert_int_equal(out.kind, RU_KIND_REPLY);
    assert_int_equal(out.visibility, RU_VIS_UNLISTED);
    assert_true(out.has_parent && out.parent.seq == 3 && out.root.seq == 1);
    assert_int_equal(out.text.len, sizeof s_text - 1);
    assert_memory_equal(out.text.ptr, s_text, out.text.len);
    assert_int_equal(out.likes, 2);
    ru_buf_fini(&buf);
}

static void
test_post_with_media_round_trip(void **state)
{
    (void) state;
    static const uint8_t packed[] = {0x91, 0x01}; /* opaque to the record */
    ru_post_rec_t rec = s_reply(), out;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_post_rec_encode(&rec, &buf);
    assert_int_equal(buf.data[0], 0x9c); /* 12 fields, as before version 2 */
    ru_buf_reset(&buf);
    rec.spoiler = (ru_str_t){"cw", 2};
    rec.sensitive = 1;
    rec.media = (ru_packed_t){packed, sizeof packed};
    ru_post_rec_encode(&rec, &buf);
    assert_int_equal(buf.data[0], 0x9f); /* 15 */
    assert_int_equal(ru_post_rec_decode(buf.data, buf.len, &out), RU_OK);
    assert_int_equal(out.spoiler.len, 2);
    assert_memory_equal(out.spoiler.ptr, "cw", 2);
    assert_int_equal(out.sensitive, 1);
    assert_int_equal(out.media.len, sizeof packed);
    assert_memory_equal(out.media.ptr, packed, sizeof packed);
    assert_int_equal(out.likes, 2);
    ru_buf_reset(&buf);
    ru_profile_rec_t p = {.display_name = {"Bob", 3}, .hlc = 9, .header = {packed, 2}}, p2;
    ru_profile_rec_encode(&p, &buf);
    assert_int_equal(ru_profile_rec_decode(buf.data, buf.len, &p2), RU_OK);
    assert_int_equal(p2.avatar.len, 0);
    assert_int_equal(p2.header.len, 2);
    assert_int_equal(p2.person.len, 0);
    assert_int_equal(p2.hlc, 9);
    ru_buf_reset(&buf);
    p.person = (ru_packed_t){packed, 2}; /* a person alone makes a record of six */
    p.header = (ru_packed_t){NULL, 0};
    ru_profile_rec_encode(&p, &buf);
    assert_int_equal(buf.data[0], 0x96);
    assert_int_equal(ru_profile_rec_decode(buf.data, buf.len, &p2), RU_OK);
    assert_int_equal(p2.header.len, 0);
    assert_int_equal(p2.person.len, 2);
    assert_memory_equal(p2.person.ptr, packed, 2);
    ru_buf_fini(&buf);
}

/*  A post record as the encoder lays it out, with the fields that have
 *  rules given as numbers, and a parent and a root or nil for each. */
typedef struct {
    uint64_t kind, visibility, deleted;
    int parent, root;
} s_fields;

static void
s_pack_ref(msgpack_packer *pk, int has)
{
    static const uint8_t origin[RU_KEY_BYTES] = {1};
    if (!has) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_array(pk, 2);
    msgpack_pack_bin(pk, sizeof origin);
    msgpack_pack_bin_body(pk, origin, sizeof origin);
    msgpack_pack_uint64(pk, 1);
}

static ru_err
s_decode_fields(const s_fields *f)
{
    ru_buf_t buf;
    msgpack_packer pk;
    ru_post_rec_t out;
    ru_buf_init(&buf);
    ru_mp_packer_init(&pk, &buf);
    msgpack_pack_array(&pk, 12);
    msgpack_pack_uint64(&pk, f->kind);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "alice", 5);
    msgpack_pack_uint64(&pk, 1000);
    msgpack_pack_uint64(&pk, f->visibility);
    msgpack_pack_nil(&pk); /* group */
    s_pack_ref(&pk, f->parent);
    s_pack_ref(&pk, f->root);
    msgpack_pack_uint64(&pk, f->deleted);
    msgpack_pack_str(&pk, 2);
    msgpack_pack_str_body(&pk, "hi", 2);
    for (int i = 0; i < 3; i++)
        msgpack_pack_uint64(&pk, 0);
    assert_int_equal(ru_buf_status(&buf), RU_OK);
    ru_err err = ru_post_rec_decode(buf.data, buf.len, &out);
    ru_buf_fini(&buf);
    return err;
}

static void
test_post_rules(void **state)
{
    (void) state;
    static const s_fields good[] = {
        {RU_KIND_POST, RU_VIS_PUBLIC, 0, 0, 0},
        {RU_KIND_POST, RU_VIS_DIRECT, 1, 0, 0},
        {RU_KIND_REPLY, RU_VIS_PRIVATE, 0, 1, 1},
    };
    static const s_fields bad[] = {
        {RU_KIND_EDIT, RU_VIS_PUBLIC, 0, 0, 0},            /* not a post's kind */
        {((uint64_t) 1 << 32) | RU_KIND_POST, 0, 0, 0, 0}, /* a post's, cut to 32 bits */
        {RU_KIND_POST, RU_VIS_MAX + 1, 0, 0, 0},           /* no such visibility */
        {RU_KIND_POST, ((uint64_t) 1 << 32), 0, 0, 0},     /* public, cut to 32 bits */
        {RU_KIND_POST, RU_VIS_PUBLIC, 2, 0, 0},            /* deleted is 0 or 1 */
        {RU_KIND_POST, RU_VIS_PUBLIC, 0, 1, 1},            /* a post with a parent */
        {RU_KIND_REPLY, RU_VIS_PUBLIC, 0, 0, 0},           /* a reply without one */
        {RU_KIND_REPLY, RU_VIS_PUBLIC, 0, 1, 0},           /* a parent but no root */
        {RU_KIND_POST, RU_VIS_PUBLIC, 0, 0, 1},            /* a root but no parent */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(s_decode_fields(&good[i]), RU_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(s_decode_fields(&bad[i]), RU_E_STORE);
}

static void
test_group_and_profile_round_trip(void **state)
{
    (void) state;
    ru_group_rec_t g = {.name = {"team", 4},
                        .description = {"", 0},
                        .creator = {"bob", 3},
                        .hlc = 5,
                        .members = 9},
                   g2;
    ru_profile_rec_t p = {.display_name = {"Bob", 3}, .note = {"hi", 2}, .hlc = 7}, p2;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_group_rec_encode(&g, &buf);
    assert_int_equal(ru_group_rec_decode(buf.data, buf.len, &g2), RU_OK);
    assert_true(g2.name.len == 4 && g2.creator.len == 3 && g2.members == 9);
    assert_int_equal(ru_group_rec_decode(buf.data, buf.len - 1, &g2), RU_E_STORE);
    ru_buf_reset(&buf);
    ru_profile_rec_encode(&p, &buf);
    assert_int_equal(ru_profile_rec_decode(buf.data, buf.len, &p2), RU_OK);
    assert_true(p2.display_name.len == 3 && p2.note.len == 2 && p2.hlc == 7);
    ru_buf_fini(&buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_round_trip),
        cmocka_unit_test(test_post_with_media_round_trip),
        cmocka_unit_test(test_post_rules),
        cmocka_unit_test(test_group_and_profile_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
