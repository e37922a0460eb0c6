/*  direntry.c - gives a local user of a stopped node an entry of the
 *  company directory, the way the directory sync will: a change of the
 *  profile's directory part (ru_profile_change with set_entry) through
 *  the node's own store actor, signed with its key, on its data
 *  directory. Until the sync exists, this is how api_profile gets a
 *  profile whose parts the directory owns, to check update_credentials'
 *  refusals against a real node.
 *
 *  Usage: direntry DATA_DIR USER DIR_ID TITLE. Exits 0 once the change is
 *  durable (or there was nothing to change), 1 with a message otherwise.
 *  The node must not be running: the store has one writer.
 */
#include <stdio.h>
#include <string.h>

#include "ru_keyfile.h"
#include "ru_profile.h"
#include "ru_schema.h"

#define MIB (1024u * 1024u)

static ru_str_t
s_str(const char *s)
{
    return (ru_str_t){s, (uint32_t) strlen(s)};
}

int
main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s DATA_DIR USER DIR_ID TITLE\n", argv[0]);
        return 2;
    }
    ru_key_t *key = NULL;
    ru_store_t *store = NULL;
    ru_writer_t *writer = NULL;
    ru_err err = ru_keyfile_load(argv[1], &key);
    if (!err)
        err = ru_store_open(argv[1], 256 * MIB, 0, ru_schema_upgrades, &store);
    if (!err)
        err = ru_writer_new(store, key, NULL, NULL, NULL, &writer);
    if (!err) {
        ru_profile_change_t c = {.name = argv[2], .set_entry = 1};
        c.person.dir_id = s_str(argv[3]);
        c.person.title = s_str(argv[4]);
        err = ru_profile_change(writer, &c, NULL);
    }
    ru_writer_destroy(&writer);
    ru_store_destroy(&store);
    ru_key_destroy(&key);
    if (err)
        fprintf(stderr, "%s: %s\n", argv[0], ru_err_str(err));
    return err ? 1 : 0;
}
