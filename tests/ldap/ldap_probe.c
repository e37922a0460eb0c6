/*  ldap_probe.c - ru_ldap driven from the command line, for the tests
 *  against a real slapd (test_ldap.py) and for timing a directory's walk.
 *
 *  ldap_probe CONFIG each
 *      walks every person (ru_ldap_each) and prints one line for each:
 *      login, stable id, allowed, admin, disabled, skills, photo bytes and
 *      display name, tab-separated; then "persons N skipped N pages N
 *      seconds S".
 *  ldap_probe CONFIG auth LOGIN
 *      signs LOGIN in with the password on standard input (one line) and
 *      prints the error's name and, when there is a person, their line.
 *
 *  CONFIG is a ruched configuration file; its [ldap] section is used.
 *  Exit status: 0 when the call returned RU_OK, 1 otherwise, 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ru_config.h"
#include "ru_ldap.h"
#include "ru_log.h"

static void
s_print(const ru_ldap_person_t *p)
{
    printf("%s\t%s\t%d\t%d\t%d\t", p->login, p->id, p->allowed, p->admin, p->disabled);
    for (int i = 0; i < p->n_skills; i++)
        printf("%s%s", i ? "," : "", p->skills[i]);
    printf("\t%zu\t%s\n", p->photo_len, p->name);
}

static int
s_each_one(void *ctx, const ru_ldap_person_t *p)
{
    (void) ctx;
    s_print(p);
    return 0;
}

static int
s_each(ru_ldap_t *ld)
{
    ru_ldap_stats_t st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ru_err err = ru_ldap_each(ld, s_each_one, NULL, &st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%s persons %llu skipped %llu pages %llu seconds %.3f\n", ru_err_name(err),
           (unsigned long long) st.persons, (unsigned long long) st.skipped,
           (unsigned long long) st.pages,
           (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return err ? 1 : 0;
}

static int
s_auth(ru_ldap_t *ld, const char *login)
{
    char password[1024] = "";
    if (!fgets(password, sizeof password, stdin))
        password[0] = '\0';
    password[strcspn(password, "\n")] = '\0';
    ru_ldap_person_t p;
    ru_err err = ru_ldap_authenticate(ld, login, password, &p);
    printf("%s\n", ru_err_name(err));
    if (p.login[0])
        s_print(&p);
    ru_ldap_person_fini(&p);
    return err ? 1 : 0;
}

int
main(int argc, char **argv)
{
    static ru_config_t cfg;
    ru_ldap_t *ld = NULL;
    int each = argc == 3 && strcmp(argv[2], "each") == 0;
    int auth = argc == 4 && strcmp(argv[2], "auth") == 0;
    if (!each && !auth) {
        fprintf(stderr, "usage: ldap_probe CONFIG each | ldap_probe CONFIG auth LOGIN\n");
        return 2;
    }
    ru_config_defaults(&cfg);
    if (ru_config_load(&cfg, argv[1]) != RU_OK || ru_config_check(&cfg) != RU_OK ||
        ru_ldap_new(&cfg, &ld) != RU_OK || !ld) {
        fprintf(stderr, "ldap_probe: %s has no usable [ldap] section\n", argv[1]);
        return 1;
    }
    int status = each ? s_each(ld) : s_auth(ld, argv[3]);
    ru_ldap_destroy(&ld);
    return status;
}
