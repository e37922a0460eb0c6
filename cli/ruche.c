/*  ruche.c - the ruche command-line client: every command in one table.
 *
 *      ruche [--server URL] [--json] COMMAND [ARGS]
 *
 *  The tables below are the whole command line: each row names a command,
 *  its arguments, its one-line help and its handler (in ru_cmd_status,
 *  ru_cmd_account, ru_cmd_group, ru_cmd_people, ru_cmd_admin); rows with
 *  a sub-table hold subcommands (groups, timeline, admin, admin
 *  directory). ru_cmd_run dispatches through them and
 *  "ruche help" prints them, so a new command is one row and one function.
 *
 *  Results go to standard output: text for people, or with --json the
 *  server's JSON as it came (indented) for scripts. Messages go to
 *  standard error. Exit status: see s_epilogue.
 */
#include <stdio.h>
#include <string.h>

#include "ru_cmd.h"
#include "ru_cmd_account.h"
#include "ru_cmd_admin.h"
#include "ru_cmd_group.h"
#include "ru_cmd_people.h"
#include "ru_cmd_repl.h"
#include "ru_cmd_status.h"

#ifndef RUCHE_VERSION
#define RUCHE_VERSION "unknown"
#endif

static int s_help(ru_ctx_t *ctx, const ru_args_t *args);

static const char *const s_login_opts[] = {"--password-stdin", NULL};
static const char *const s_post_opts[] = {"--visibility=", RU_CMD_NEW_OPTS, NULL};
static const char *const s_group_post_opts[] = {RU_CMD_NEW_OPTS, NULL};
static const char *const s_page_opts[] = {RU_CMD_PAGE_OPTS, NULL};
static const char *const s_account_opts[] = {"--statuses", RU_CMD_PAGE_OPTS, NULL};
static const char *const s_group_opts[] = {"--description=", NULL};
static const char *const s_adduser_opts[] = {"--admin", NULL};
static const char *const s_status_opts[] = {"--watch", NULL};
static const char *const s_export_opts[] = {"--since=", "--until=", "--output=", NULL};
static const char *const s_restore_opts[] = {"--data-dir=", "--config=", "--force", NULL};
static const char *const s_people_opts[] = {RU_CMD_PEOPLE_OPTS, NULL};
static const char *const s_import_opts[] = {"--complete", NULL};
static const char *const s_sync_opts[] = {"--wait", NULL};

#define S_PAGING "[--limit N] [--max-id ID] [--since-id ID]"
#define S_NEW "[--attach FILE [--alt TEXT]]... [--cw TEXT] [--sensitive] [--wait S]"

static const ru_cmd_t s_timeline[] = {
    {"home", S_PAGING, "statuses of you and whom you follow", 0, 0, s_page_opts, ru_cmd_tl_home,
     NULL, 1},
    {"public", S_PAGING, "every public status", 0, 0, s_page_opts, ru_cmd_tl_public, NULL, 0},
    {"tag", "TAG " S_PAGING, "statuses with #TAG", 1, 1, s_page_opts, ru_cmd_tl_tag, NULL, 0},
    {"group", "ID " S_PAGING, "statuses of a group", 1, 1, s_page_opts, ru_cmd_tl_group, NULL, 0},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const ru_cmd_t s_groups[] = {
    {"list", "", "list the groups", 0, 0, NULL, ru_cmd_groups_list, NULL, 1},
    {"create", "NAME [--description D]", "create a group", 1, 1, s_group_opts, ru_cmd_groups_create,
     NULL, 0},
    {"show", "ID", "show a group", 1, 1, NULL, ru_cmd_groups_show, NULL, 0},
    {"join", "ID", "join a group", 1, 1, NULL, ru_cmd_groups_join, NULL, 0},
    {"leave", "ID", "leave a group", 1, 1, NULL, ru_cmd_groups_leave, NULL, 0},
    {"post", "ID [TEXT] " S_NEW, "post TEXT and up to 4 files in a group; prints its id", 1, 2,
     s_group_post_opts, ru_cmd_groups_post, NULL, 0},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const ru_cmd_t s_directory[] = {
    {"import", "FILE [--complete]",
     "publish a JSON file's employees (- reads stdin)", 1, 1,
     s_import_opts, ru_cmd_dir_import, NULL, 0},
    {"sync", "[--wait]", "sync from LDAP now; --wait prints the run's report", 0, 0, s_sync_opts,
     ru_cmd_dir_sync, NULL, 0},
    {"status", "", "what the LDAP sync is doing, what its last run did", 0, 0, NULL,
     ru_cmd_dir_status, NULL, 0},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const ru_cmd_t s_admin[] = {
    {"adduser", "NAME [--admin]", "create a user; prints the password once", 1, 1, s_adduser_opts,
     ru_cmd_adduser, NULL, 0},
    {"passwd", "NAME", "new password, printed once; sessions end", 1, 1, NULL, ru_cmd_passwd, NULL,
     0},
    {"disable", "NAME", "stop a user signing in; ends their sessions", 1, 1, NULL, ru_cmd_disable,
     NULL, 0},
    {"enable", "NAME", "let a disabled user sign in again", 1, 1, NULL, ru_cmd_enable, NULL, 0},
    {"promote", "NAME", "make a user an administrator", 1, 1, NULL, ru_cmd_promote, NULL, 0},
    {"demote", "NAME", "take a user's administrator rights", 1, 1, NULL, ru_cmd_demote, NULL, 0},
    {"key", "", "what another site needs to peer with this one", 0, 0, NULL, ru_cmd_key, NULL, 0},
    {"add-peer", "SITE KEY [PUB SYNC]", "add a peer to the node's config, reload", 2, 4, NULL,
     ru_cmd_add_peer, NULL, 0},
    {"remove-peer", "SITE", "remove a peer from the node's config, reload", 1, 1, NULL,
     ru_cmd_remove_peer, NULL, 0},
    {"resolve-fork", "ORIGIN", "end a forked site's quarantine, keeping this site's variant", 1,
     1, NULL, ru_cmd_resolve_fork, NULL, 0},
    {"backup", "FILE", "a hot, consistent copy of the store", 1, 1, NULL, ru_cmd_backup, NULL, 0},
    {"restore", "FILE [--data-dir D] [--config F] [--force]",
     "ruched --restore FILE (node's host, node stopped)", 1, 1, s_restore_opts, ru_cmd_restore,
     NULL, 0},
    {"export", "[--since D] [--until D] [--output FILE]",
     "posts, replies, edits, deletes as verified JSON lines", 0, 0, s_export_opts, ru_cmd_export,
     NULL, 0},
    {"directory", NULL, NULL, 0, 0, NULL, NULL, s_directory, 0},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const ru_cmd_t s_commands[] = {
    {"login", "NAME [--password-stdin]", "log in and save the token", 1, 1, s_login_opts,
     ru_cmd_login, NULL, 0},
    {"logout", "", "revoke the token and forget the login", 0, 0, NULL, ru_cmd_logout, NULL, 0},
    {"whoami", "", "show the account you are logged in as", 0, 0, NULL, ru_cmd_whoami, NULL, 0},
    {"post", "[TEXT] [--visibility V] " S_NEW,
     "post TEXT (- reads stdin) and up to 4 files; prints its id", 0, 1, s_post_opts, ru_cmd_post,
     NULL, 0},
    {"reply", "ID [TEXT] [--visibility V] " S_NEW, "reply to status ID; prints the id", 1, 2,
     s_post_opts, ru_cmd_reply, NULL, 0},
    {"edit", "ID TEXT", "replace the text of your status ID", 2, 2, NULL, ru_cmd_edit, NULL, 0},
    {"delete", "ID", "delete your status ID", 1, 1, NULL, ru_cmd_delete, NULL, 0},
    {"like", "ID", "like status ID", 1, 1, NULL, ru_cmd_like, NULL, 0},
    {"unlike", "ID", "take your like back", 1, 1, NULL, ru_cmd_unlike, NULL, 0},
    {"timeline", NULL, NULL, 0, 0, NULL, NULL, s_timeline, 0},
    {"thread", "ID", "show status ID with its ancestors and replies", 1, 1, NULL, ru_cmd_thread,
     NULL, 0},
    {"follow", "ACCT", "follow an account (id, name or name@site)", 1, 1, NULL, ru_cmd_follow, NULL,
     0},
    {"unfollow", "ACCT", "stop following an account", 1, 1, NULL, ru_cmd_unfollow, NULL, 0},
    {"account", "ACCT [--statuses] " S_PAGING, "show an account, and its statuses", 1, 1,
     s_account_opts, ru_cmd_account, NULL, 0},
    {"people",
     "[WORDS] [--skill S] [--department D] [--site S] [--title T] [--office O] "
     "[--help-with X] [--local] [--limit N] [--offset N]",
     "find colleagues of every site (--help-with X: who can help)", 0, 8, s_people_opts,
     ru_cmd_people, NULL, 0},
    {"groups", NULL, NULL, 0, 0, NULL, NULL, s_groups, 0},
    {"admin", NULL, NULL, 0, 0, NULL, NULL, s_admin, 0},
    {"status", "[--watch [SECONDS]]", "replication: one row per site, how far behind, refusals", 0,
     1, s_status_opts, ru_cmd_repl_status, NULL, 0},
    {"help", "[COMMAND]", "list the commands, or the forms of one", 0, 1, NULL, s_help, NULL, 0},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, 0},
};

static const char s_epilogue[] =
    "\n"
    "Options, before or after the command:\n"
    "  --server URL  the ruche node; default: $RUCHE_SERVER, else the server of\n"
    "                the saved login, else " RU_CMD_DEFAULT_SERVER "\n"
    "  --json        print the server's JSON reply (indented) instead of text;\n"
    "                thread adds the status itself to its context as \"status\",\n"
    "                login leaves the access token out\n"
    "  --help, -h    show how to use a command\n"
    "  --version     print the version (before the command only)\n"
    "\n"
    "TEXT is one argument: quote it. \"-\" as TEXT reads it from standard input.\n"
    "post, reply and groups post take up to 4 --attach FILE, each described by\n"
    "the --alt TEXT after it; with files, TEXT may be empty or left out.\n"
    "login reads the password from standard input with --password-stdin, else\n"
    "from $RUCHE_PASSWORD, else asks for it. The login is saved in\n"
    "$XDG_CONFIG_HOME/ruche/credentials.json (default ~/.config/ruche/).\n"
    "\n"
    "Exit status:\n"
    "  0  success\n"
    "  1  the request failed; the server's message and HTTP status are on stderr\n"
    "  2  usage error: unknown command or option, missing or extra argument\n"
    "  3  not logged in, or the server refused the saved login\n";

static void
s_usage(FILE *out)
{
    (void) fputs("Usage: ruche [--server URL] [--json] COMMAND [ARGS]\n\n"
                 "The ruche client: read and write the company timeline on a ruche node.\n\n"
                 "Commands:\n",
                 out);
    (void) ru_cmd_help(s_commands, NULL, out);
    (void) fputs(s_epilogue, out);
}

static int
s_help(ru_ctx_t *ctx, const ru_args_t *args)
{
    if (args->npos == 0) {
        s_usage(ctx->out);
        return RU_EXIT_OK;
    }
    if (ru_cmd_help(s_commands, args->pos[0], ctx->out) == 0)
        return ru_ctx_say(RU_EXIT_USAGE, "no command \"%s\"; see: ruche help", args->pos[0]);
    return RU_EXIT_OK;
}

/*  Reads the options before the command; sets *done when one of them
 *  (--help, --version) was the whole job. */
static int
s_global_options(ru_ctx_t *ctx, int argc, char **argv, int *next, int *done)
{
    static const char *const specs[] = {RU_CMD_GLOBAL_OPTS, "--version", NULL};
    ru_args_t args;
    char err[160];
    *done = 0;
    if (ru_args_parse(&args, specs, RU_ARGS_STOP, argc, argv, err, sizeof err) != RU_OK) {
        (void) ru_ctx_say(0, "%s", err);
        s_usage(stderr);
        return RU_EXIT_USAGE;
    }
    *next = args.next;
    ctx->json = ru_args_get(&args, "--json") != NULL;
    ctx->server_opt = ru_args_get(&args, "--server");
    if (ru_args_get(&args, "--version") != NULL || ru_args_get(&args, "--help") != NULL) {
        *done = 1;
        if (ru_args_get(&args, "--help") != NULL)
            s_usage(ctx->out);
        else
            (void) fprintf(ctx->out, "ruche %s\n", RUCHE_VERSION);
        return RU_EXIT_OK;
    }
    if (*next == argc) {
        (void) ru_ctx_say(0, "which command?");
        s_usage(stderr);
        return RU_EXIT_USAGE;
    }
    return RU_EXIT_OK;
}

int
main(int argc, char **argv)
{
    ru_ctx_t ctx;
    int next = 0, done = 0;
    if (ru_client_global_init() != RU_OK)
        return ru_ctx_say(RU_EXIT_FAIL, "cannot initialize libcurl or libsodium");
    ru_ctx_init(&ctx, stdout);
    int rc = s_global_options(&ctx, argc - 1, argv + 1, &next, &done);
    if (rc == RU_EXIT_OK && !done)
        rc = ru_cmd_run(s_commands, &ctx, "ruche", argc - 1 - next, argv + 1 + next);
    ru_ctx_fini(&ctx);
    ru_client_global_fini();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        (void) ru_ctx_say(0, "cannot write to standard output");
        return rc == RU_EXIT_OK ? RU_EXIT_FAIL : rc;
    }
    return rc;
}
