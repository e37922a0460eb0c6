/*  ru_profile_test.c - a local user's profile changed in part through the
 *  store actor (ru_profile_change), as its two writers change it: the
 *  employee (display name, note, avatar, fields, skills: the API's
 *  update_credentials) and the directory sync (the directory entry, and
 *  the display name it owns). Each keeps what the other set; a part a
 *  change does not name stays, an avatar set to none goes; a change that
 *  leaves the profile as it is makes no update (the site's seq does not
 *  move), and one the protocol refuses (a skill too long) changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ru_dbkey.h"
#include "ru_profile.h"
#include "ru_record.h"
#include "ru_schema.h"
#include "testdir.h"

#define MIB (1024u * 1024u)

static char s_dir[512];
static ru_store_t *s_store;
static ru_key_t *s_key;
static ru_writer_t *s_writer;

static int
s_setup(void **state)
{
    (void) state;
    if (testdir_make(s_dir, sizeof s_dir) || ru_key_generate(&s_key) ||
        ru_store_open(s_dir, MIB, 16 * MIB, ru_schema_upgrades, &s_store) ||
        ru_writer_new(s_store, s_key, NULL, NULL, NULL, &s_writer))
        return -1;
    return 0;
}

static int
s_teardown(void **state)
{
    (void) state;
    ru_writer_destroy(&s_writer);
    ru_store_destroy(&s_store);
    ru_key_destroy(&s_key);
    testdir_remove(s_dir);
    return 0;
}

static ru_str_t
s_str(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}

static void
s_str_equal(ru_str_t got, const char *want)
{
    assert_int_equal(got.len, strlen(want));
    assert_memory_equal(got.ptr, want, got.len);
}

/*  What alice's profile holds now: a copy of its record in buf, decoded
 *  into rec and its person into p (zero when none). */
static void
s_read(ru_buf_t *buf, ru_profile_rec_t *rec, ru_person_t *p)
{
    ru_txn_t txn;
    uint8_t key[RU_DBKEY_USER];
    size_t klen = ru_dbkey_user(key, ru_key_public(s_key), s_str("alice"));
    MDB_val val;
    assert_int_equal(ru_store_read(s_store, &txn), RU_OK);
    assert_int_equal(ru_txn_get(&txn, RU_DB_profiles, key, klen, &val), RU_OK);
    ru_buf_reset(buf);
    ru_buf_append(buf, val.mv_data, val.mv_size);
    ru_txn_abort(&txn);
    assert_int_equal(ru_profile_rec_decode(buf->data, buf->len, rec), RU_OK);
    memset(p, 0, sizeof *p);
    if (rec->person.len)
        assert_int_equal(ru_person_unpack(rec->person.ptr, rec->person.len, p), RU_OK);
}

static uint64_t
s_own_seq(void)
{
    ru_txn_t txn;
    uint64_t seq;
    assert_int_equal(ru_store_read(s_store, &txn), RU_OK);
    assert_int_equal(ru_apply_head(&txn, ru_key_public(s_key), &seq, NULL), RU_OK);
    ru_txn_abort(&txn);
    return seq;
}

/*  Applies c; *made must be want. */
static void
s_change(const ru_profile_change_t *c, int want)
{
    int made = -1;
    assert_int_equal(ru_profile_change(s_writer, c, &made), RU_OK);
    assert_int_equal(made, want);
}

/*  An image's descriptor, its bytes named by a hash of one byte value. */
static ru_media_t
s_image(uint8_t fill)
{
    ru_media_t m;
    memset(&m, 0, sizeof m);
    memset(m.hash, fill, sizeof m.hash);
    memset(m.thumb, fill + 1, sizeof m.thumb);
    m.size = 1000;
    m.type = s_str("image/jpeg");
    m.name = s_str("");
    m.description = s_str("");
    m.is_image = 1;
    m.width = m.height = 400;
    m.thumb_size = 100;
    m.thumb_width = m.thumb_height = 48;
    m.blurhash = s_str("LEHV6nWB2yk8pyo0adR*.7kCMdnj");
    m.focus_x = m.focus_y = RU_MAX_FOCUS / 2;
    return m;
}

/*  The employee's edit: display name, note, avatar, two fields and two
 *  skills. */
static void
s_employee_edit(void)
{
    ru_profile_change_t c = {.name = "alice", .set_display = 1, .set_note = 1, .set_avatar = 1,
                             .has_avatar = 1, .set_fields = 1, .set_skills = 1};
    c.display_name = s_str("Alice");
    c.note = s_str("Storage and replication");
    c.avatar = s_image(7);
    c.person.n_fields = 2;
    c.person.fields[0] = (ru_pfield_t){s_str("Team"), s_str("Platform")};
    c.person.fields[1] = (ru_pfield_t){s_str("Office"), s_str("B2")};
    c.person.n_skills = 2;
    c.person.skills[0] = s_str("LMDB");
    c.person.skills[1] = s_str("C");
    s_change(&c, 1);
}

/*  The directory sync: the entry and the display name it owns; *made
 *  must be made. */
static void
s_directory_sync(const char *title, int departed, int made)
{
    ru_profile_change_t c = {.name = "alice", .set_display = 1, .set_entry = 1};
    c.display_name = s_str("Alice Martin");
    c.person.dir_id = s_str("E1234");
    c.person.title = s_str(title);
    c.person.department = s_str("Storage");
    c.person.site = s_str("paris");
    c.person.email = s_str("alice.martin@example.com");
    c.person.departed = departed;
    s_change(&c, made);
}

static void
test_two_writers(void **state)
{
    (void) state;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_profile_rec_t rec;
    ru_person_t p;
    s_employee_edit();
    s_read(&buf, &rec, &p);
    s_str_equal(rec.display_name, "Alice");
    assert_int_equal(p.dir_id.len, 0);
    assert_int_equal(p.n_fields, 2);
    assert_true(rec.avatar.len > 0);
    uint64_t seq = s_own_seq();

    /* the directory's part keeps the employee's */
    s_directory_sync("Engineer", 0, 1);
    s_read(&buf, &rec, &p);
    s_str_equal(rec.display_name, "Alice Martin");
    s_str_equal(rec.note, "Storage and replication");
    assert_true(rec.avatar.len > 0);
    s_str_equal(p.dir_id, "E1234");
    s_str_equal(p.title, "Engineer");
    s_str_equal(p.email, "alice.martin@example.com");
    assert_int_equal(p.n_fields, 2);
    s_str_equal(p.fields[1].value, "B2");
    assert_int_equal(p.n_skills, 2);
    s_str_equal(p.skills[0], "LMDB");
    assert_int_equal(s_own_seq(), seq + 1);

    /* the employee's part keeps the directory's: fields replaced, the
       rest (display name, entry, skills, avatar) as it was */
    ru_profile_change_t c = {.name = "alice", .set_fields = 1};
    c.person.n_fields = 1;
    c.person.fields[0] = (ru_pfield_t){s_str("Wiki"), s_str("https://wiki.example/alice")};
    s_change(&c, 1);
    s_read(&buf, &rec, &p);
    s_str_equal(rec.display_name, "Alice Martin");
    s_str_equal(p.dir_id, "E1234");
    s_str_equal(p.department, "Storage");
    assert_int_equal(p.n_fields, 1);
    s_str_equal(p.fields[0].name, "Wiki");
    assert_int_equal(p.n_skills, 2);
    assert_true(rec.avatar.len > 0);

    /* the same again, or the same sync again: no update */
    seq = s_own_seq();
    s_change(&c, 0);
    s_directory_sync("Engineer", 0, 0);
    assert_int_equal(s_own_seq(), seq);

    /* a new title, then the employee leaves: the employee's part stays */
    s_directory_sync("Architect", 1, 1);
    s_read(&buf, &rec, &p);
    s_str_equal(p.title, "Architect");
    assert_int_equal(p.departed, 1);
    s_str_equal(p.fields[0].name, "Wiki");
    ru_buf_fini(&buf);
}

static void
test_images_and_refusals(void **state)
{
    (void) state;
    ru_buf_t buf;
    ru_buf_init(&buf);
    ru_profile_rec_t rec;
    ru_person_t p;
    s_employee_edit();
    s_read(&buf, &rec, &p);
    size_t avatar_len = rec.avatar.len;
    assert_true(avatar_len > 0);
    assert_int_equal(rec.header.len, 0);

    /* a header: the avatar stays */
    ru_profile_change_t c = {.name = "alice", .set_header = 1, .has_header = 1};
    c.header = s_image(9);
    s_change(&c, 1);
    s_read(&buf, &rec, &p);
    assert_int_equal(rec.avatar.len, avatar_len);
    assert_true(rec.header.len > 0);

    /* the avatar set to none goes */
    c = (ru_profile_change_t){.name = "alice", .set_avatar = 1, .has_avatar = 0};
    s_change(&c, 1);
    s_read(&buf, &rec, &p);
    assert_int_equal(rec.avatar.len, 0);
    assert_true(rec.header.len > 0);

    /* a skill over RU_MAX_SKILL_CHARS: refused by the protocol's rules,
       nothing changes */
    char longer[RU_MAX_SKILL_CHARS + 2];
    memset(longer, 's', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    uint64_t seq = s_own_seq();
    c = (ru_profile_change_t){.name = "alice", .set_skills = 1, .set_note = 1};
    c.note = s_str("not kept");
    c.person.n_skills = 1;
    c.person.skills[0] = s_str(longer);
    int made = -1;
    assert_int_not_equal(ru_profile_change(s_writer, &c, &made), RU_OK);
    assert_int_equal(made, 0);
    assert_int_equal(s_own_seq(), seq);
    s_read(&buf, &rec, &p);
    s_str_equal(rec.note, "Storage and replication");
    assert_int_equal(p.n_skills, 2);
    ru_buf_fini(&buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_writers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_images_and_refusals, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
