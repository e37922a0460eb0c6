/*  fuzz_config.c - libFuzzer target for the config file parser.
 *
 *  Each input is written as a file and read by ru_config_load over the
 *  defaults, as ruched reads /etc/ruche/ruched.conf: through inih and the
 *  key table of ru_config.c. Whatever the bytes, the load succeeds or
 *  says RU_E_INVALID, and what it leaves in the config is well formed:
 *  every string ends within its array, the peers fit their table and
 *  their names their field. ru_config_check then runs on what loaded.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_node.h"
#include "ru_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void
s_check_strings(const ru_config_t *cfg)
{
    fuzz_require(S_TERMINATED(cfg->site) && S_TERMINATED(cfg->data_dir) &&
                     S_TERMINATED(cfg->log_level) && S_TERMINATED(cfg->listen) &&
                     S_TERMINATED(cfg->public_url) && S_TERMINATED(cfg->web_root) &&
                     S_TERMINATED(cfg->metrics) && S_TERMINATED(cfg->pub_bind) &&
                     S_TERMINATED(cfg->sync_bind),
                 "every string of the config ends within its array");
}

static void
s_check_peers(const ru_config_t *cfg)
{
    fuzz_require(cfg->n_peers >= 0 && cfg->n_peers <= RU_MAX_PEERS, "peers fit their table");
    for (int i = 0; i < cfg->n_peers; i++) {
        const ru_peer_cfg_t *p = &cfg->peers[i];
        fuzz_require(S_TERMINATED(p->site) && S_TERMINATED(p->pub) && S_TERMINATED(p->sync),
                     "a peer's strings end within their arrays");
        for (int j = 0; j < i; j++)
            fuzz_require(strcmp(cfg->peers[j].site, p->site) != 0, "one entry per peer section");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[1024];
    fuzz_quiet();
    fuzz_write_file("ruched.conf", data, size, 0600, path, sizeof path);
    ru_config_t cfg;
    ru_config_defaults(&cfg);
    ru_err err = ru_config_load(&cfg, path);
    fuzz_require(err == RU_OK || err == RU_E_INVALID, "a config loads or is invalid");
    s_check_strings(&cfg);
    s_check_peers(&cfg);
    (void) ru_config_check(&cfg);
    return 0;
}
