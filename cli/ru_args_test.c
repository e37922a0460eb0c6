/*  ru_args_test.c - the command-line parser: options anywhere, values in two
 *  forms, every option listed in the order given, "--", the refusals, and
 *  stopping at the command name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "ru_args.h"

static const char *const specs[] = {"--limit=", "--json", "--help", "--server=", NULL};

static ru_err
parse(ru_args_t *args, int flags, int argc, const char **argv, char *err, size_t errlen)
{
    return ru_args_parse(args, specs, flags, argc, (char **) argv, err, errlen);
}

static void
test_positional_and_options(void **state)
{
    (void) state;
    const char *argv[] = {"post", "--json", "hello world", "--limit", "5", "--server=http://h"};
    ru_args_t args;
    char err[100] = "";
    assert_int_equal(parse(&args, 0, 6, argv, err, sizeof err), RU_OK);
    assert_int_equal(args.npos, 2);
    assert_string_equal(args.pos[0], "post");
    assert_string_equal(args.pos[1], "hello world");
    assert_string_equal(ru_args_get(&args, "--json"), "");
    assert_string_equal(ru_args_get(&args, "--limit"), "5");
    assert_string_equal(ru_args_get(&args, "--server"), "http://h");
    assert_null(ru_args_get(&args, "--help"));
    assert_null(ru_args_get(&args, "--lim"));
}

/*  Options in pairs: every one given is listed in order, repeated ones
 *  too, while ru_args_get keeps the last; past RU_ARGS_MAX of them the
 *  parse is refused. */
static void
test_sequence(void **state)
{
    (void) state;
    static const char *const pair_specs[] = {"--attach=", "--alt=", "--json", NULL};
    const char *argv[] = {"text", "--attach", "a.png", "--alt=A cat", "--json", "--attach=b.pdf"};
    ru_args_t args;
    char err[100] = "";
    assert_int_equal(ru_args_parse(&args, pair_specs, 0, 6, (char **) argv, err, sizeof err),
                     RU_OK);
    assert_int_equal(args.nseq, 4);
    static const char *const want[][2] = {
        {"--attach=", "a.png"}, {"--alt=", "A cat"}, {"--json", ""}, {"--attach=", "b.pdf"}};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(args.seq[i].name, want[i][0]);
        assert_string_equal(args.seq[i].value, want[i][1]);
    }
    assert_string_equal(ru_args_get(&args, "--attach"), "b.pdf");
    assert_int_equal(args.nopt, 3);
    const char *many[RU_ARGS_MAX + 1];
    for (size_t i = 0; i < RU_ARGS_MAX + 1; i++)
        many[i] = "--json";
    assert_int_equal(
        ru_args_parse(&args, pair_specs, 0, RU_ARGS_MAX, (char **) many, err, sizeof err), RU_OK);
    assert_int_equal(
        ru_args_parse(&args, pair_specs, 0, RU_ARGS_MAX + 1, (char **) many, err, sizeof err),
        RU_E_INVALID);
    assert_string_equal(err, "too many options");
}

static void
test_double_dash_and_dash(void **state)
{
    (void) state;
    const char *argv[] = {"-", "--", "--json", "-x", "--"};
    ru_args_t args;
    char err[100];
    assert_int_equal(parse(&args, 0, 5, argv, err, sizeof err), RU_OK);
    assert_int_equal(args.npos, 4);
    assert_string_equal(args.pos[0], "-");
    assert_string_equal(args.pos[1], "--json");
    assert_string_equal(args.pos[2], "-x");
    assert_string_equal(args.pos[3], "--");
    assert_null(ru_args_get(&args, "--json"));
}

static void
test_repeated_and_value_forms(void **state)
{
    (void) state;
    const char *argv[] = {"--limit=1", "--limit", "2", "--limit=", "-h"};
    ru_args_t args;
    char err[100];
    assert_int_equal(parse(&args, 0, 4, argv, err, sizeof err), RU_OK);
    assert_string_equal(ru_args_get(&args, "--limit"), "");
    assert_int_equal(args.nopt, 1);
    assert_int_equal(parse(&args, 0, 3, argv, err, sizeof err), RU_OK);
    assert_string_equal(ru_args_get(&args, "--limit"), "2");
    assert_int_equal(parse(&args, 0, 5, argv, err, sizeof err), RU_OK);
    assert_string_equal(ru_args_get(&args, "--help"), "");
    /* a value may start with a dash: it is taken as it is */
    const char *dash[] = {"--limit", "--json"};
    assert_int_equal(parse(&args, 0, 2, dash, err, sizeof err), RU_OK);
    assert_string_equal(ru_args_get(&args, "--limit"), "--json");
    assert_null(ru_args_get(&args, "--json"));
}

static void
check_refused(int argc, const char **argv, const char *message)
{
    ru_args_t args;
    char err[100] = "";
    assert_int_equal(parse(&args, 0, argc, argv, err, sizeof err), RU_E_INVALID);
    if (strstr(err, message) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, message);
}

static void
test_refusals(void **state)
{
    (void) state;
    const char *unknown[] = {"a", "--frob"};
    check_refused(2, unknown, "unknown option --frob");
    const char *short_opt[] = {"-x"};
    check_refused(1, short_opt, "unknown option -x (-- before an argument");
    const char *prefix[] = {"--lim", "1"};
    check_refused(2, prefix, "unknown option --lim");
    const char *missing[] = {"--limit"};
    check_refused(1, missing, "--limit needs a value");
    const char *flag_value[] = {"--json=yes"};
    check_refused(1, flag_value, "--json takes no value");
    const char *many[RU_ARGS_MAX + 1];
    for (size_t i = 0; i < RU_ARGS_MAX + 1; i++)
        many[i] = "x";
    check_refused(RU_ARGS_MAX + 1, many, "too many arguments");
}

static void
test_no_specs(void **state)
{
    (void) state;
    const char *argv[] = {"a", "--json"};
    ru_args_t args;
    char err[100];
    assert_int_equal(ru_args_parse(&args, NULL, 0, 1, (char **) argv, err, sizeof err), RU_OK);
    assert_int_equal(args.npos, 1);
    assert_int_equal(ru_args_parse(&args, NULL, 0, 2, (char **) argv, err, sizeof err),
                     RU_E_INVALID);
}

static void
test_stop_at_command(void **state)
{
    (void) state;
    const char *argv[] = {"--server", "http://h", "--json", "timeline", "--limit", "3"};
    ru_args_t args;
    char err[100];
    assert_int_equal(parse(&args, RU_ARGS_STOP, 6, argv, err, sizeof err), RU_OK);
    assert_int_equal(args.next, 3);
    assert_int_equal(args.npos, 0);
    assert_string_equal(ru_args_get(&args, "--server"), "http://h");
    assert_null(ru_args_get(&args, "--limit"));
    const char *none[] = {"--json"};
    assert_int_equal(parse(&args, RU_ARGS_STOP, 1, none, err, sizeof err), RU_OK);
    assert_int_equal(args.next, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positional_and_options),
        cmocka_unit_test(test_sequence),
        cmocka_unit_test(test_double_dash_and_dash),
        cmocka_unit_test(test_repeated_and_value_forms),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_no_specs),
        cmocka_unit_test(test_stop_at_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
