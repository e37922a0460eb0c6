/*  fuzz_keyfile.c - libFuzzer target for the node key file reader.
 *
 *  Each input is written as DIR/node.key (mode 0600) and loaded with
 *  ru_keyfile_load, as ruched loads its key at start. The loader takes
 *  exactly one form (ru_keyfile.c): "ruche-node-key-v1 ", 43 characters
 *  of canonical base64url and a newline. Anything else must be refused
 *  with RU_E_KEY_FILE; what is taken must be that form, and the key it
 *  gives must be the one its seed makes.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_node.h"
#include "ru_keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAGIC "ruche-node-key-v1 "
#define S_MAGIC_LEN (sizeof S_MAGIC - 1)

/*  The key text data holds is canonical: decoding it and encoding the
 *  seed again gives the same characters. */
static void
s_check_taken(const uint8_t *data, size_t size, const ru_key_t *key)
{
    fuzz_require(size == S_MAGIC_LEN + RU_KEY_TEXT_LEN + 1 && !memcmp(data, S_MAGIC, S_MAGIC_LEN) &&
                     data[size - 1] == '\n',
                 "a key file taken has the one form");
    uint8_t seed[RU_SEED_BYTES];
    char text[RU_KEY_TEXT_SIZE];
    fuzz_require(ru_b64_decode(seed, sizeof seed, (const char *) data + S_MAGIC_LEN,
                               RU_KEY_TEXT_LEN) == RU_OK,
                 "the seed of a key file taken decodes");
    ru_b64_encode(text, seed, sizeof seed);
    fuzz_require(memcmp(text, data + S_MAGIC_LEN, RU_KEY_TEXT_LEN) == 0,
                 "the seed of a key file taken is canonical base64url");
    ru_key_t *again = NULL;
    fuzz_require(ru_key_from_seed(seed, &again) == RU_OK, "the seed makes a key");
    fuzz_require(memcmp(ru_key_public(again), ru_key_public(key), RU_KEY_BYTES) == 0,
                 "the key loaded is the seed's");
    ru_key_destroy(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[1024];
    fuzz_quiet();
    fuzz_write_file(RU_KEYFILE_NAME, data, size, 0600, path, sizeof path);
    ru_key_t *key = NULL;
    ru_err err = ru_keyfile_load(fuzz_dir(), &key);
    fuzz_require(err == RU_OK || err == RU_E_KEY_FILE, "a key file loads or is refused");
    fuzz_require((err == RU_OK) == (key != NULL), "a key exactly when it loads");
    if (key)
        s_check_taken(data, size, key);
    ru_key_destroy(&key);
    return 0;
}
