/*  ru_people_test.c - the people search's query, and the directory
 *  import's pure parts: the two shapes of a file, the checks of an entry
 *  (as the node makes them), chunks whose measured size is the size of
 *  the body the client sends, an entry too large for any request, the sum
 *  of the reports, and the tags of a "who can help" subject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ru_people.h"

static json_t *
parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    if (j == NULL)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

static void
check_path(const ru_people_query_t *q, const char *want)
{
    char *path = NULL;
    assert_int_equal(ru_people_path(q, &path), RU_OK);
    assert_string_equal(path, want);
    free(path);
}

static void
test_path(void **state)
{
    (void) state;
    ru_people_query_t q = {0};
    check_path(&q, "/api/ruche/v1/people");
    q.q = "";
    q.skill = "";
    check_path(&q, "/api/ruche/v1/people");
    q.q = "Chloé Dupont";
    check_path(&q, "/api/ruche/v1/people?q=Chlo%C3%A9%20Dupont");
    q = (ru_people_query_t){.skill = "C++",
                            .department = "R&D",
                            .site = "nozay",
                            .title = "a=b",
                            .office = "B2/101",
                            .local = 1,
                            .limit = 80,
                            .offset = 40};
    check_path(&q, "/api/ruche/v1/people?skill=C%2B%2B&department=R%26D&site=nozay&title=a%3Db"
                   "&office=B2%2F101&local=true&limit=80&offset=40");
    q = (ru_people_query_t){.help = "#kubernetes, helm"};
    check_path(&q, "/api/ruche/v1/people?help=%23kubernetes%2C%20helm");
}

static void
test_entries(void **state)
{
    (void) state;
    const json_t *entries;
    int complete;
    char why[160];
    json_t *list = parse("[{\"username\": \"a\"}]");
    assert_int_equal(ru_people_entries(list, &entries, &complete, why, sizeof why), RU_OK);
    assert_ptr_equal(entries, list);
    assert_int_equal(complete, 0);
    json_t *obj = parse("{\"complete\": true, \"entries\": [{}, {}]}");
    assert_int_equal(ru_people_entries(obj, &entries, &complete, why, sizeof why), RU_OK);
    assert_int_equal(json_array_size(entries), 2);
    assert_int_equal(complete, 1);
    const char *bad[] = {"{\"entries\": {}}", "{}", "\"x\"", "{\"entries\": [], \"complete\": 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *j = parse(bad[i]);
        assert_int_equal(ru_people_entries(j, &entries, &complete, why, sizeof why), RU_E_TYPE);
        assert_null(entries);
        json_decref(j);
    }
    json_decref(list);
    json_decref(obj);
}

static void
check_entry(const char *text, const char *want)
{
    char why[160] = "";
    json_t *j = parse(text);
    ru_err e = ru_people_check_entry(j, why, sizeof why);
    json_decref(j);
    if (want == NULL) {
        assert_int_equal(e, RU_OK);
        return;
    }
    assert_int_equal(e, RU_E_TYPE);
    assert_string_equal(why, want);
}

static void
test_check_entry(void **state)
{
    (void) state;
    check_entry("{}", NULL);
    check_entry("{\"username\": \"lea\", \"display_name\": \"Léa\", \"dir_id\": \"u1\", "
                "\"skills\": [\"BGP\"], \"departed\": false, \"extra\": 7}",
                NULL);
    check_entry("7", "not an object");
    check_entry("{\"username\": 7}", "username is not a string");
    check_entry("{\"manager\": null}", "manager is not a string");
    check_entry("{\"skills\": \"BGP\"}", "skills is not a list of strings");
    check_entry("{\"skills\": [\"BGP\", 1]}", "skills is not a list of strings");
    check_entry("{\"departed\": \"no\"}", "departed is not true or false");
    char many[1024] = "{\"skills\": [";
    for (int i = 0; i < 33; i++)
        strcat(many, i ? ",\"s\"" : "\"s\"");
    strcat(many, "]}");
    check_entry(many, "skills has more than 32");
}

/*  The size of the body as the client writes it. */
static size_t
sent_size(const json_t *entries, size_t from, size_t count, int complete)
{
    json_t *slice = json_array();
    for (size_t i = from; i < from + count; i++)
        json_array_append(slice, json_array_get(entries, i));
    json_t *body = json_pack("{s:b, s:o}", "complete", complete, "entries", slice);
    char *text = json_dumps(body, JSON_COMPACT);
    size_t n = strlen(text);
    free(text);
    json_decref(body);
    return n;
}

static json_t *
employees(size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "émployé%zu", i * 37);
        json_array_append_new(list, json_pack("{s:s, s:s, s:[s, s]}", "username", name, "title",
                                              i % 3 ? "Ingénieure \"réseaux\"" : "", "skills",
                                              "BGP", "IPv6"));
    }
    return list;
}

static void
test_body_size(void **state)
{
    (void) state;
    json_t *list = employees(10);
    size_t bytes;
    for (int complete = 0; complete <= 1; complete++) {
        assert_int_equal(ru_people_body_size(list, complete, &bytes), RU_OK);
        assert_int_equal(bytes, sent_size(list, 0, 10, complete));
    }
    json_t *none = json_array();
    assert_int_equal(ru_people_body_size(none, 0, &bytes), RU_OK);
    assert_int_equal(bytes, strlen("{\"complete\":false,\"entries\":[]}"));
    json_decref(none);
    json_decref(list);
}

/*  Chunks cover every entry once, in order, each within both limits and
 *  measured as sent; a limit exactly a chunk's size still takes it. */
static void
test_chunks(void **state)
{
    (void) state;
    json_t *list = employees(200);
    const size_t limits[] = {200, 1000, 4096, 1 << 20};
    for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
        size_t from = 0, count, bytes, chunks = 0;
        while (from < 200) {
            assert_int_equal(ru_people_chunk(list, from, limits[k], 64, &count, &bytes), RU_OK);
            assert_true(count >= 1 && count <= 64);
            assert_true(bytes <= limits[k]);
            assert_int_equal(bytes, sent_size(list, from, count, 0));
            if (from + count < 200) { /* full: one more entry would not fit */
                size_t more = sent_size(list, from, count + 1, 0);
                assert_true(count == 64 || more > limits[k]);
            }
            from += count;
            chunks++;
        }
        assert_int_equal(from, 200);
        assert_true(chunks >= 200 / 64);
    }
    size_t count, bytes, exact = sent_size(list, 5, 3, 0);
    assert_int_equal(ru_people_chunk(list, 5, exact, 100, &count, &bytes), RU_OK);
    assert_int_equal(count, 3);
    assert_int_equal(bytes, exact);
    assert_int_equal(ru_people_chunk(list, 200, 4096, 100, &count, &bytes), RU_OK);
    assert_int_equal(count, 0);
    json_decref(list);
}

static void
test_too_big(void **state)
{
    (void) state;
    json_t *list = employees(3);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_object_set_new(json_array_get(list, 1), "title", json_string(big));
    size_t count, bytes;
    assert_int_equal(ru_people_chunk(list, 0, 2048, 100, &count, &bytes), RU_OK);
    assert_int_equal(count, 1); /* the next chunk starts with the large one */
    assert_int_equal(ru_people_chunk(list, 1, 2048, 100, &count, &bytes), RU_E_TOO_BIG);
    assert_int_equal(bytes, sent_size(list, 1, 1, 0));
    assert_true(bytes > 3000);
    json_decref(list);
}

static void
test_tally(void **state)
{
    (void) state;
    json_t *total = json_object();
    json_t *a = parse("{\"seen\": 3, \"published\": 2, \"unchanged\": 0, \"refused\": 1, "
                      "\"departed\": 0, \"reasons\": [\"x: twice\"]}");
    json_t *b = parse("{\"seen\": 4, \"published\": 1, \"unchanged\": 3, \"refused\": 0, "
                      "\"departed\": 2, \"reasons\": []}");
    assert_int_equal(ru_people_tally(total, a), RU_OK);
    assert_int_equal(ru_people_tally(total, b), RU_OK);
    json_t *odd = parse("{\"seen\": \"many\", \"reasons\": [7, \"y: bad name\"]}");
    assert_int_equal(ru_people_tally(total, odd), RU_OK);
    char *text = json_dumps(total, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"departed\":2,\"published\":3,\"reasons\":[\"x: twice\",\"y: bad "
                              "name\"],\"refused\":1,\"seen\":7,\"unchanged\":3}");
    free(text);
    json_decref(odd);
    json_decref(a);
    json_decref(b);
    json_decref(total);
}

static void
check_tags(const char *help, const char *want)
{
    char *tags = NULL;
    assert_int_equal(ru_people_help_tags(help, &tags), RU_OK);
    assert_string_equal(tags, want);
    free(tags);
}

static void
test_help_tags(void **state)
{
    (void) state;
    check_tags("kubernetes", "#kubernetes");
    check_tags("#Kubernetes", "#Kubernetes");
    check_tags(" helm, #k8s  ops ", "#helm or #k8s or #ops");
    check_tags("", "");
    check_tags(" ,# ", "");
    check_tags(NULL, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_check_entry), cmocka_unit_test(test_body_size),
        cmocka_unit_test(test_chunks),      cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_tally),       cmocka_unit_test(test_help_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
