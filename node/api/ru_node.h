/*  ru_node.h - what the parts of a running node share: its configuration,
 *  key, store, store actor and replication actor, and the clients of the
 *  company's identity providers. Made by ruched's main, read by the HTTP
 *  handlers; every field is set before the first request and constant
 *  afterwards (the objects behind the pointers have their own thread rules).
 */
#ifndef RU_NODE_H
#define RU_NODE_H

#include "ruche/ru_key.h"

#include "ru_config.h"
#include "ru_sites.h"
#include "ru_store.h"
#include "ru_writer.h"

typedef struct ru_repl ru_repl_t;
typedef struct ru_ratelimit ru_ratelimit_t;
typedef struct ru_web ru_web_t;
typedef struct ru_stream ru_stream_t;
typedef struct ru_reqstats ru_reqstats_t;
typedef struct ru_prom ru_prom_t;
typedef struct ru_cache ru_cache_t;
typedef struct ru_blob ru_blob_t;
typedef struct ru_mediaq ru_mediaq_t;
typedef struct ru_card ru_card_t;
typedef struct ru_oidc ru_oidc_t;
typedef struct ru_ldap ru_ldap_t;
typedef struct ru_dirldap ru_dirldap_t;

typedef struct {
    ru_config_t cfg;
    ru_key_t *key;
    ru_store_t *store;
    ru_writer_t *writer;
    ru_sites_t *sites;                    /* site names and keys, ours and the peers' */
    ru_repl_t *repl;                      /* NULL when the node does not replicate */
    ru_ratelimit_t *logins;               /* failed sign-ins, by address and user */
    ru_ratelimit_t *apps;                 /* app registrations, by address */
    ru_web_t *web;                        /* the web front end's files; NULL: none */
    ru_stream_t *stream;                  /* live events for clients (ru_stream.h) */
    ru_reqstats_t *reqstats;              /* request counters (ru_reqstats.h); NULL: none */
    ru_prom_t *prom;                      /* what /metrics shows (ru_prom.h); NULL: nothing */
    ru_cache_t *cache;                    /* anonymous answers kept (ru_cache.h); NULL: none */
    ru_blob_t *blobs;                     /* the media files (ru_blob.h) */
    ru_mediaq_t *mediaq;                  /* uploads being processed (ru_mediaq.h) */
    ru_card_t *cards;                     /* link previews (ru_card.h); NULL: none */
    ru_oidc_t *oidc;                      /* sign-in through an OpenID provider; NULL: none */
    ru_ldap_t *ldap;                      /* the company directory (ru_ldap.h); NULL: off */
    ru_dirldap_t *dirldap;                /* the directory sync from LDAP; NULL: none */
    char public_url[RU_CONFIG_PATH_MAX];  /* no trailing slash */
    char config_path[RU_CONFIG_PATH_MAX]; /* --config; "" when none */
} ru_node_t;

#endif
