/*  ru_render_test.c - statuses, accounts, people and groups as text: times, the
 *  status header, wrapping and indentation, attachments and content
 *  warnings (collapsed in a timeline), thread depths, and JSON with
 *  missing, mistyped or hostile fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ru_render.h"

/*  Captures what a renderer writes. */
typedef struct {
    FILE *f;
    char *text;
    size_t len;
} capture_t;

static void
capture_open(capture_t *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    assert_non_null(c->f);
}

/*  Closes the stream; the caller frees c->text. */
static const char *
capture_close(capture_t *c)
{
    assert_int_equal(fclose(c->f), 0);
    return c->text;
}

static json_t *
parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (j == NULL)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

static int
setup_utc(void **state)
{
    (void) state;
    setenv("TZ", "UTC0", 1);
    tzset();
    return 0;
}

static void
test_parse_time(void **state)
{
    (void) state;
    static const struct {
        const char *iso;
        long long t;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-11-27T14:03:22.123Z", 1795788202},
        {"2026-11-27T14:03:22Z", 1795788202},
        {"2026-11-27T14:03Z", 1795788180},
        {"2026-11-27T15:03:22+01:00", 1795788202},
        {"2026-11-27T13:33:22-0030", 1795788202},
        {"2024-02-29T00:00:00z", 1709164800},
        {"2000-03-01 00:00:00Z", 951868800},
        {"1969-12-31T23:59:59Z", -1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        time_t t = 0;
        assert_int_equal(ru_render_parse_time(ok[i].iso, &t), RU_OK);
        assert_int_equal((long long) t, ok[i].t);
    }
    static const char *const bad[] = {
        "",
        "2026-11-27",
        "2026-11-27T14:03:22",
        "2026-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2026-11-27T24:00:00Z",
        "2026-11-27T14:60:00Z",
        "2026-11-27T14:03:22.Z",
        "2026-11-27T14:03:22Zjunk",
        "2026-11-27T14:03:22+1:00",
        "26-11-27T14:03:22Z",
        "2026-11-27x14:03:22Z",
        "2026-1a-27T14:03:22Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        time_t t;
        if (ru_render_parse_time(bad[i], &t) != RU_E_TEXT_FORM)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
}

static void
test_format_time(void **state)
{
    (void) state;
    char out[RU_RENDER_TIME_SIZE];
    ru_render_time("2026-11-27T14:03:22.123Z", out, sizeof out);
    assert_string_equal(out, "2026-11-27 14:03");
    setenv("TZ", "CET-1", 1); /* a fixed offset needs no zone database */
    tzset();
    ru_render_time("2026-11-27T23:59:00Z", out, sizeof out);
    assert_string_equal(out, "2026-11-28 00:59");
    setup_utc(NULL);
    ru_render_time("yesterday", out, sizeof out);
    assert_string_equal(out, "?");
    ru_render_time(NULL, out, sizeof out);
    assert_string_equal(out, "?");
}

static const char *status_json =
    "{\"id\": \"109\", \"created_at\": \"2026-11-27T14:03:22.000Z\", \"in_reply_to_id\": null,"
    " \"visibility\": \"public\", \"content\": \"<p>Hello <a href=\\\"x\\\">#ruche</a> &amp; "
    "all</p><p>second</p>\", \"edited_at\": null, \"favourites_count\": 2,"
    " \"replies_count\": 1, \"favourited\": false,"
    " \"account\": {\"id\": \"1\", \"username\": \"alice\", \"acct\": \"alice\"},"
    " \"ruche\": {\"site\": \"paris\", \"group\": null}}";

static void
test_status_header(void **state)
{
    (void) state;
    json_t *s = parse(status_json);
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_status_header(c.f, s), RU_OK);
    assert_string_equal(capture_close(&c),
                        "@alice (paris) · 2026-11-27 14:03 · id 109 · ♥ 2 · ↩ 1\n");
    free(c.text);
    json_object_set_new(s, "edited_at", json_string("2026-11-27T15:00:00Z"));
    json_object_set_new(s, "visibility", json_string("private"));
    json_object_set_new(json_object_get(s, "ruche"), "group",
                        parse("{\"id\": \"4\", \"name\": \"eng\"}"));
    capture_open(&c);
    assert_int_equal(ru_render_status_header(c.f, s), RU_OK);
    assert_string_equal(capture_close(&c), "@alice (paris) · 2026-11-27 14:03 · id 109 · ♥ 2 · ↩ 1"
                                           " · group eng · private [edited]\n");
    free(c.text);
    json_decref(s);
}

/*  Renders status at depth and compares with want. */
static void
check_status(const json_t *status, int depth, const char *want)
{
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_status(c.f, status, depth), RU_OK);
    assert_string_equal(capture_close(&c), want);
    free(c.text);
}

static void
test_status_body(void **state)
{
    (void) state;
    json_t *s = parse(status_json);
    check_status(s, 0,
                 "@alice (paris) · 2026-11-27 14:03 · id 109 · ♥ 2 · ↩ 1\n"
                 "Hello #ruche & all\n\nsecond\n\n");
    check_status(s, 2,
                 "    @alice (paris) · 2026-11-27 14:03 · id 109 · ♥ 2 · ↩ 1\n"
                 "    Hello #ruche & all\n\n    second\n\n");
    json_decref(s);
}

/*  Every line of text is at most width columns (code points). */
static void
assert_lines_within(const char *text, size_t width)
{
    for (const char *line = text; *line != '\0';) {
        size_t len = strcspn(line, "\n"), cols = 0;
        for (size_t i = 0; i < len; i++)
            cols += ((unsigned char) line[i] & 0xC0) != 0x80;
        if (cols > width)
            fail_msg("line of %zu columns: %.*s", cols, (int) len, line);
        line += len + (line[len] == '\n');
    }
}

static void
test_wrap_and_deep_indent(void **state)
{
    (void) state;
    json_t *s = parse(status_json);
    char content[2048] = "<p>";
    for (int i = 0; i < 60; i++)
        strcat(content, "wörd ");
    strcat(content, "</p>");
    json_object_set_new(s, "content", json_string(content));
    json_object_set_new(json_object_get(s, "account"), "acct", json_string("a"));
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_status(c.f, s, 0), RU_OK);
    assert_lines_within(capture_close(&c), RU_RENDER_WIDTH);
    free(c.text);
    capture_open(&c);
    assert_int_equal(ru_render_status(c.f, s, 50), RU_OK);
    const char *deep = capture_close(&c);
    /* indentation stops at RU_RENDER_MAX_DEPTH levels */
    assert_int_equal(strspn(deep, " "), 2 * RU_RENDER_MAX_DEPTH);
    assert_lines_within(deep, RU_RENDER_WIDTH);
    free(c.text);
    json_decref(s);
}

static void
test_hostile_and_missing_fields(void **state)
{
    (void) state;
    json_t *s =
        parse("{\"id\": \"1\\u001b[2J\", \"account\": {\"acct\": \"ev\\u001b]0;x\\u0007il\"},"
              " \"content\": \"<p>\\u001b[31mred\\u009b</p>\","
              " \"ruche\": {\"site\": \"p\\nq\"}}");
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_status(c.f, s, 0), RU_OK);
    const char *out = capture_close(&c);
    assert_null(strchr(out, 0x1b));
    assert_null(strchr(out, 0x07));
    assert_null(strstr(out, "\xC2\x9B"));
    assert_string_equal(out, "@ev]0;xil (p q) · ? · id 1[2J · ♥ 0 · ↩ 0\n[31mred\n\n");
    free(c.text);
    json_decref(s);

    static const char *const odd[] = {"{}", "{\"account\": 5, \"content\": 7, \"ruche\": []}",
                                      "{\"id\": 12, \"favourites_count\": \"x\"}"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        s = parse(odd[i]);
        capture_open(&c);
        assert_int_equal(ru_render_status(c.f, s, 0), RU_OK);
        assert_string_equal(capture_close(&c), "@? · ? · id ? · ♥ 0 · ↩ 0\n\n");
        free(c.text);
        json_decref(s);
    }
}

static const char media_json[] =
    "{\"id\": \"109\", \"created_at\": \"2026-11-27T14:03:22Z\", \"account\": {\"acct\": "
    "\"alice\"}, \"content\": \"<p>Look</p>\", \"spoiler_text\": \"office stuff\", "
    "\"sensitive\": true, \"media_attachments\": ["
    "{\"id\": \"1\", \"type\": \"image\", \"url\": \"http://n/media/ab.png\", "
    "\"description\": \"A cat,\\nasleep\", \"meta\": {\"original\": {\"width\": 1280, "
    "\"height\": 960, \"size\": \"1280x960\"}}, \"ruche\": {\"name\": \"cat.png\", "
    "\"size\": 831488, \"pending\": false}},"
    "{\"id\": \"2\", \"type\": \"unknown\", \"url\": null, \"description\": \"\", "
    "\"ruche\": {\"name\": \"report.pdf\", \"size\": 81920, \"pending\": true}}]}";

/*  A thread shows a status with a content warning whole: the warning, the
 *  text, a line per attachment; a timeline collapses it to the warning,
 *  with the command that shows it. */
static void
test_attachments_and_cw(void **state)
{
    (void) state;
    json_t *s = parse(media_json);
    check_status(s, 0,
                 "@alice · 2026-11-27 14:03 · id 109 · ♥ 0 · ↩ 0\n"
                 "CW: office stuff\n"
                 "Look\n"
                 "  [image, sensitive] A cat, asleep · 1280×960 · 812 KB · http://n/media/ab.png\n"
                 "  [unknown, sensitive] report.pdf · 80 KB · (processing) (on its way from its "
                 "site)\n\n");
    json_t *list = json_array();
    json_array_append(list, s);
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_statuses(c.f, list), RU_OK);
    assert_string_equal(capture_close(&c),
                        "@alice · 2026-11-27 14:03 · id 109 · ♥ 0 · ↩ 0\n"
                        "CW: office stuff (ruche thread 109 to read; 2 attachments)\n\n");
    free(c.text);
    /* without a warning: the whole status in a timeline too */
    json_object_del(s, "spoiler_text");
    json_object_set_new(s, "sensitive", json_false());
    json_t *media = json_object_get(s, "media_attachments");
    json_object_set_new(json_object_get(json_array_get(media, 1), "ruche"), "size",
                        json_integer(1258291));
    capture_open(&c);
    assert_int_equal(ru_render_statuses(c.f, list), RU_OK);
    assert_string_equal(capture_close(&c),
                        "@alice · 2026-11-27 14:03 · id 109 · ♥ 0 · ↩ 0\n"
                        "Look\n"
                        "  [image] A cat, asleep · 1280×960 · 812 KB · http://n/media/ab.png\n"
                        "  [unknown] report.pdf · 1.2 MB · (processing) (on its way from its "
                        "site)\n\n");
    free(c.text);
    json_decref(list);
    json_decref(s);
}

/*  An attachment with fields missing, mistyped or hostile still has its
 *  one clean line; a long description is cut. */
static void
test_odd_attachments(void **state)
{
    (void) state;
    char desc[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(desc, "é");
    json_t *s = parse("{\"id\": \"5\", \"media_attachments\": [{}, "
                      "{\"type\": \"im\\u001b[2Jage\", \"url\": \"http://x/\\u0007a\", "
                      "\"description\": 5, \"ruche\": {\"name\": \"n\\u001bame\", \"size\": 10}},"
                      " {\"type\": \"image\", \"url\": \"u\"}]}");
    json_object_set_new(json_array_get(json_object_get(s, "media_attachments"), 2), "description",
                        json_string(desc));
    char want[1024], cut[200] = "";
    for (int i = 0; i < RU_RENDER_ALT_CHARS; i++)
        strcat(cut, "é");
    snprintf(want, sizeof want,
             "@? · ? · id 5 · ♥ 0 · ↩ 0\n"
             "  [?] (no description) · (processing)\n"
             "  [im[2Jage] name · 10 B · http://x/a\n"
             "  [image] %s… · u\n\n",
             cut);
    check_status(s, 0, want);
    json_decref(s);
}

static void
check_depths(const char *array, const int *want)
{
    json_t *a = parse(array);
    size_t n = json_array_size(a);
    const json_t *items[16];
    int depths[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        items[i] = json_array_get(a, i);
    ru_render_depths(items, n, depths);
    for (size_t i = 0; i < n; i++)
        if (depths[i] != want[i])
            fail_msg("%s: status %zu has depth %d, not %d", array, i, depths[i], want[i]);
    json_decref(a);
}

static void
test_depths(void **state)
{
    (void) state;
    /* a chain: each replies to the one before */
    static const int chain[] = {0, 1, 2, 3};
    check_depths(
        "[{\"id\":\"1\"}, {\"id\":\"2\",\"in_reply_to_id\":\"1\"},"
        " {\"id\":\"3\",\"in_reply_to_id\":\"2\"}, {\"id\":\"4\",\"in_reply_to_id\":\"3\"}]",
        chain);
    /* a tree in depth-first order: 1 <- 2 <- 3, 1 <- 4 */
    static const int tree[] = {0, 1, 2, 1};
    check_depths(
        "[{\"id\":\"1\"}, {\"id\":\"2\",\"in_reply_to_id\":\"1\"},"
        " {\"id\":\"3\",\"in_reply_to_id\":\"2\"}, {\"id\":\"4\",\"in_reply_to_id\":\"1\"}]",
        tree);
    /* a parent that is not in the list (deleted, not visible), or later */
    static const int orphans[] = {0, 0, 0};
    check_depths(
        "[{\"id\":\"5\",\"in_reply_to_id\":\"99\"}, {\"id\":\"6\",\"in_reply_to_id\":\"7\"},"
        " {\"id\":\"7\",\"in_reply_to_id\":null}]",
        orphans);
    /* no ids at all, or ids of the wrong type */
    static const int junk[] = {0, 0};
    check_depths("[{\"in_reply_to_id\": 3}, {\"id\": 3, \"in_reply_to_id\": \"3\"}]", junk);
    check_depths("[]", NULL);
}

static void
test_account(void **state)
{
    (void) state;
    json_t *a = parse("{\"id\": \"7\", \"username\": \"bob\", \"acct\": \"bob@nozay\","
                      " \"display_name\": \"Bob B.\", \"note\": \"<p>Ops &amp; on-call</p>\","
                      " \"followers_count\": 3, \"following_count\": 4, \"statuses_count\": 5,"
                      " \"created_at\": \"2026-01-02T03:04:05Z\"}");
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_account(c.f, a), RU_OK);
    assert_string_equal(capture_close(&c),
                        "@bob@nozay (Bob B.)\n"
                        "id 7 · 5 statuses · 3 followers · 4 following · since 2026-01-02\n"
                        "Ops & on-call\n\n");
    free(c.text);
    json_decref(a);
    /* a display name that only repeats the user name is not shown */
    a = parse("{\"acct\": \"x\", \"username\": \"x\", \"display_name\": \"x\"}");
    capture_open(&c);
    assert_int_equal(ru_render_account(c.f, a), RU_OK);
    assert_string_equal(capture_close(&c),
                        "@x\nid ? · 0 statuses · 0 followers · 0 following · since ?\n\n");
    free(c.text);
    json_decref(a);
}

/*  Renders the person JSON text (with tags: a "who can help" result)
 *  and compares with want. */
static void
check_person(const char *text, const char *tags, const char *want)
{
    json_t *a = parse(text);
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_person(c.f, a, tags), RU_OK);
    assert_string_equal(capture_close(&c), want);
    free(c.text);
    json_decref(a);
}

static void
test_person(void **state)
{
    (void) state;
    const char *lea = "{\"acct\": \"lea@nozay\", \"username\": \"lea\", \"display_name\": "
                      "\"Léa Dubois\", \"ruche\": {\"directory\": true, \"title\": "
                      "\"Ingénieure réseaux\", \"department\": \"Réseaux\", \"site\": "
                      "\"Nozay\", \"phone\": \"+33 1\", \"match\": {\"score\": 15, "
                      "\"posts\": 2, \"skill\": 1, \"work\": 1}}}";
    check_person(lea, NULL, "@lea@nozay · Léa Dubois · Ingénieure réseaux · Réseaux · Nozay\n");
    check_person(lea, "#bgp",
                 "@lea@nozay · Léa Dubois · Ingénieure réseaux · Réseaux · Nozay\n"
                 "  score 15: skill, title or department, 2 posts tagged #bgp\n");
    /* no directory entry, a name that repeats the user name, one post */
    check_person("{\"acct\": \"pixel\", \"username\": \"pixel\", \"display_name\": "
                 "\"pixel\", \"ruche\": {\"directory\": false, \"match\": {\"score\": 1, "
                 "\"posts\": 1, \"skill\": 0, \"work\": 0}}}",
                 "#a or #b", "@pixel\n  score 1: 1 post tagged #a or #b\n");
    /* hostile and missing fields */
    check_person("{\"acct\": \"x\\u001b[2J\", \"display_name\": \"\", \"ruche\": "
                 "{\"title\": 7, \"site\": \"Par\\nis\"}}",
                 "#t", "@x[2J · Par is\n  score 0\n");
    check_person("{}", NULL, "@?\n");
}

/*  Renders the group JSON text and compares with want. */
static void
check_group(const char *text, int detailed, const char *want)
{
    json_t *g = parse(text);
    capture_t c;
    capture_open(&c);
    assert_int_equal(ru_render_group(c.f, g, detailed), RU_OK);
    assert_string_equal(capture_close(&c), want);
    free(c.text);
    json_decref(g);
}

static void
test_group(void **state)
{
    (void) state;
    static const char eng[] =
        "{\"id\": \"4\", \"name\": \"eng\", \"description\": \"Engineering\\nall sites\","
        " \"members_count\": 12, \"member\": true,"
        " \"created_at\": \"2026-11-27T14:03:00Z\", \"creator\": {\"acct\": \"alice\"}}";
    check_group(eng, 0, "4  eng · 12 members · member\n    Engineering\n    all sites\n");
    check_group(eng, 1,
                "4  eng · 12 members · member\n    created 2026-11-27 14:03 by @alice\n"
                "    Engineering\n    all sites\n");
    check_group("{\"id\": \"5\", \"name\": \"x\", \"member\": false, \"description\": \"\"}", 0,
                "5  x · 0 members\n");
    check_group("{\"id\": \"6\", \"name\": \"solo\", \"members_count\": 1}", 0,
                "6  solo · 1 member\n");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_format_time),
        cmocka_unit_test(test_status_header),
        cmocka_unit_test(test_status_body),
        cmocka_unit_test(test_wrap_and_deep_indent),
        cmocka_unit_test(test_hostile_and_missing_fields),
        cmocka_unit_test(test_attachments_and_cw),
        cmocka_unit_test(test_odd_attachments),
        cmocka_unit_test(test_depths),
        cmocka_unit_test(test_account),
        cmocka_unit_test(test_person),
        cmocka_unit_test(test_group),
    };
    return cmocka_run_group_tests(tests, setup_utc, NULL);
}
