/*  ru_config.h - the node's configuration: one INI file (deploy/ruched.conf
 *  documents every key and its default) and command-line overrides.
 *
 *  Every key is a row of one table (ru_config.c), which gives its section,
 *  name, type, default and where it goes in ru_config_t; the file parser and
 *  the command-line flags both set keys through that table, so they accept
 *  exactly the same keys and values. Errors name the file and line, or the
 *  flag, and say what was expected. A list key ([cards] allowed_hosts) may
 *  be given on several lines (or flags): each adds its words to the list.
 *  A yes/no key ([ldap] starttls) takes yes, no, true, false, on, off, 1
 *  or 0.
 */
#ifndef RU_CONFIG_H
#define RU_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ruche/ru_error.h"
#include "ruche/ru_limits.h"

#define RU_CONFIG_PATH_MAX 1024
#define RU_CONFIG_ENDPOINT_MAX 256
#define RU_MAX_PEERS 64
#define RU_CONFIG_HOSTS_MAX 4096 /* [cards] allowed_hosts, every line of it */
#define RU_CONFIG_OWNED_MAX 128  /* [directory] owned */
#define RU_CONFIG_LDAP_MAX 512   /* [ldap] DNs and filters */
#define RU_CONFIG_ATTR_MAX 64    /* [ldap] attribute names */

/*  A [peer NAME] section: a site whose updates this node trusts. With pub
 *  and sync, a site it connects to; with the key alone, a site whose
 *  updates reach it through the sites in between. */
typedef struct {
    char site[RU_MAX_NAME + 1];
    uint8_t key[RU_KEY_BYTES]; /* its node key: trusted origin and CURVE identity */
    int has_key;
    char pub[RU_CONFIG_ENDPOINT_MAX];  /* its PUB socket, e.g. tcp://paris.example:7101 */
    char sync[RU_CONFIG_ENDPOINT_MAX]; /* its ROUTER sync socket */
} ru_peer_cfg_t;

typedef struct {
    /* [node] */
    char site[RU_MAX_NAME + 1];        /* this site's short name */
    char data_dir[RU_CONFIG_PATH_MAX]; /* store and key */
    char log_level[16];
    /* [http] */
    char listen[256];                    /* host:port, [v6]:port or port, comma-separated */
    char public_url[RU_CONFIG_PATH_MAX]; /* how clients reach us; "" = from listen */
    char web_root[RU_CONFIG_PATH_MAX];   /* the front end's files; "" = the default */
    long http_threads;
    long max_body;       /* bytes */
    long keep_alive_ms;  /* an idle kept-alive connection is closed after it */
    long http_queue;         /* requests waiting for a worker; one more gets 503 */
    long request_timeout_ms; /* to receive a request's headers and body */
    long max_headers;        /* header lines of a request */
    long max_header_bytes;   /* ... and their bytes in all */
    long max_json_depth;     /* nesting of a JSON body or WebSocket message */
    long multipart_max_parts;        /* parts of a multipart/form-data body ... */
    long multipart_max_header_bytes; /* ... bytes of one part's header lines ... */
    long multipart_max_header_lines; /* ... and their number (ru_multipart.h) */
    long max_connections;    /* open at once, in all ... */
    long max_connections_per_address; /* ... and from one client address */
    long http_cache_kb;      /* anonymous answers kept until the store changes (ru_cache.h) */
    char metrics[16];    /* who may read /metrics: public, loopback, admin */
    long login_failures; /* failed sign-ins allowed per address or user ... */
    long login_window_s; /* ... in this many seconds */
    long app_registrations; /* apps registered per address ... */
    long app_window_s;      /* ... in this many seconds */
    long walk_budget;       /* index entries a timeline page or a search looks at */
    long max_search_offset; /* the largest offset of a search */
    /* [streaming] */
    long max_streams;         /* open WebSocket and event-stream connections ... */
    long max_streams_per_user; /* ... and of one signed-in user */
    long stream_max_message;  /* bytes of a client's WebSocket message */
    long stream_heartbeat_ms; /* pings and ":thump" comments */
    long stream_queue_kb;     /* a client's unsent events, before it is dropped */
    /* [media] */
    long media_max_upload;    /* bytes of one upload's body */
    long media_max_pixels;    /* width x height x frames of an image */
    long media_max_side;      /* pixels of an image's width or height */
    long media_display_px;    /* the display image fits this square */
    long media_thumb_px;      /* the thumbnail fits this square */
    long media_heic;          /* 1: HEIC/HEIF photos are decoded */
    long media_workers;       /* threads processing uploads */
    long media_queue_mb;      /* uploads waiting or in work, in MiB */
    long media_per_user;      /* uploads of one user waiting or in work */
    long media_quota_mb;      /* the site's media files, 0: up to the disk */
    long media_user_quota_mb; /* one user's files (statuses' and recent uploads), 0: none */
    long media_upload_s;      /* an upload record's life */
    long media_grace_s;       /* a blob no one references is removed after it */
    long media_gc_interval_s; /* between the collector's rounds */
    long media_attachments;   /* attachments of one status */
    long media_fetch_now_mb;  /* peers' blobs up to it are fetched at once, larger on first read */
    long media_profile_wait_ms; /* a profile's new avatar or header is waited for this long */
    /* [store] */
    long map_size_mb; /* initial map */
    long max_size_mb; /* 0: up to the disk */
    /* [replication] */
    char pub_bind[RU_CONFIG_ENDPOINT_MAX]; /* "": this node does not replicate */
    char sync_bind[RU_CONFIG_ENDPOINT_MAX];
    long heartbeat_ms;
    long anti_entropy_s;
    long verify_threads;
    long max_skew_ms;
    long pending_per_origin; /* updates of one origin waiting for dependencies */
    long pending_max;        /* ... of all origins */
    long pending_alarm_s;    /* an origin's oldest waiting update is an alarm after it */
    long pending_walk;       /* pending entries a catch-up batch looks at, at most */
    long queue_mb;        /* bytes one peer's messages may take in one socket queue, in MiB */
    long sync_timeout_ms; /* a catch-up silent this long while owed batches is asked again */
    /* [directory] the company directory: finding people (ru_directory.h), what it owns */
    char dir_owned[RU_CONFIG_OWNED_MAX]; /* the profile parts the directory sets (ru_config_dir_owns) */
    long dir_max_candidates; /* index entries one people search reads at most */
    long dir_help_posts;     /* tagged statuses a "who can help" reads per tag */
    long dir_sync_interval_s; /* between two syncs from LDAP; 0: on demand only */
    /* [cards] link previews (ru_card.h) */
    char card_hosts[RU_CONFIG_HOSTS_MAX]; /* host names and *.suffix patterns; "": no cards */
    char card_proxy[RU_CONFIG_PATH_MAX];  /* the proxy to fetch through; "": none */
    long card_workers;            /* fetching threads */
    long card_queue;              /* addresses waiting for them */
    long card_connect_timeout_ms; /* to connect to a page's host */
    long card_timeout_ms;         /* for a whole fetch, redirects included */
    long card_max_kb;             /* bytes of a page read, at most */
    long card_max_redirects;      /* redirects followed, each to an allowed host */
    long card_retry_s;            /* a page that gave no card is asked again after it */
    /* [oidc] sign-in through an OpenID provider (ru_oidc.h); "" issuer: off */
    char oidc_issuer[RU_CONFIG_PATH_MAX];
    char oidc_client_id[256];
    char oidc_client_secret_file[RU_CONFIG_PATH_MAX];
    char oidc_redirect_base[RU_CONFIG_PATH_MAX]; /* "": [http] public_url */
    char oidc_label[128];                        /* "Sign in with <label>" */
    char oidc_scopes[256];
    char oidc_claim_username[64], oidc_claim_display_name[64], oidc_claim_email[64];
    char oidc_claim_department[64], oidc_claim_site[64], oidc_claim_groups[64];
    char oidc_id_claim[64];     /* the employee's directory id, as it is; "": none */
    char oidc_allow_group[256]; /* "": everyone the provider signs in */
    char oidc_admin_group[256]; /* "": nobody becomes an administrator this way */
    long oidc_clock_skew_s;     /* tolerated on exp, iat and nbf */
    long oidc_timeout_ms;       /* for each call to the provider */
    long oidc_jwks_cache_s;     /* the discovery document and key set are fetched again after it */
    long oidc_jwks_refetch_s;   /* an unknown kid fetches the key set at most this often */
    long oidc_max_response_kb;  /* bytes of a provider's answer */
    long oidc_pending;          /* sign-ins under way at once */
    long oidc_pending_s;        /* a sign-in must come back from the provider within it */
    long oidc_retry_s;          /* after the provider did not answer, sign-ins fail at once
                                   for this long (0: every one tries it) */
    char oidc_ca_file[RU_CONFIG_PATH_MAX]; /* "": the system's CAs */
    /* [ldap] the company directory (node/ident/ru_ldap.h); uri "": off */
    char ldap_uri[RU_CONFIG_PATH_MAX];      /* ldap://host[:port] or ldaps://host[:port] */
    long ldap_starttls;                     /* 1: StartTLS on an ldap:// connection */
    char ldap_ca_file[RU_CONFIG_PATH_MAX];  /* the CA of the directory's certificate */
    char ldap_bind_dn[RU_CONFIG_LDAP_MAX];  /* the service account; "": anonymous search */
    char ldap_bind_password_file[RU_CONFIG_PATH_MAX]; /* its password, alone in a file */
    char ldap_base_dn[RU_CONFIG_LDAP_MAX];  /* where people are searched */
    char ldap_user_filter[RU_CONFIG_LDAP_MAX]; /* %s: the escaped login name */
    char ldap_sync_filter[RU_CONFIG_LDAP_MAX]; /* every person, for the directory sync */
    char ldap_attr_login[RU_CONFIG_ATTR_MAX];  /* attribute names: the login name ... */
    char ldap_attr_name[RU_CONFIG_ATTR_MAX];   /* ... display name */
    char ldap_attr_mail[RU_CONFIG_ATTR_MAX];
    char ldap_attr_title[RU_CONFIG_ATTR_MAX];
    char ldap_attr_department[RU_CONFIG_ATTR_MAX];
    char ldap_attr_site[RU_CONFIG_ATTR_MAX];
    char ldap_attr_office[RU_CONFIG_ATTR_MAX];
    char ldap_attr_phone[RU_CONFIG_ATTR_MAX];
    char ldap_attr_manager[RU_CONFIG_ATTR_MAX];
    char ldap_attr_photo[RU_CONFIG_ATTR_MAX];
    char ldap_attr_id[RU_CONFIG_ATTR_MAX];     /* a stable id of the person */
    char ldap_attr_skills[RU_CONFIG_ATTR_MAX]; /* "": none */
    char ldap_attr_member_of[RU_CONFIG_ATTR_MAX]; /* the DNs of the person's groups */
    char ldap_allow_group[RU_CONFIG_LDAP_MAX]; /* "": everyone found may sign in */
    char ldap_admin_group[RU_CONFIG_LDAP_MAX]; /* "": nobody is made an administrator */
    long ldap_timeout_ms;      /* to connect, and for each operation */
    long ldap_page_size;       /* entries of one page of the sync's search */
    long ldap_max_photo_bytes; /* a larger photo is left out */
    /* [peer NAME] sections */
    ru_peer_cfg_t peers[RU_MAX_PEERS];
    int n_peers;
} ru_config_t;

/*  Sets every key to its default. */
void ru_config_defaults(ru_config_t *cfg);
/*  Reads an INI file over cfg. RU_E_NOT_FOUND if it cannot be opened,
 *  RU_E_INVALID on a bad line (logged with file and line number). */
RU_MUST_CHECK ru_err ru_config_load(ru_config_t *cfg, const char *path);
/*  Sets "section.key" to value (a command-line override); origin names the
 *  flag in error messages. */
RU_MUST_CHECK ru_err ru_config_set(ru_config_t *cfg, const char *dotted, const char *value,
                                   const char *origin);
/*  Checks the values together (a site name, sizes in range ...). */
RU_MUST_CHECK ru_err ru_config_check(const ru_config_t *cfg);

/*  The parts of a profile an employee may edit, by the names the API
 *  gives them: display_name, note, avatar, header, fields, skills. */
#define RU_CONFIG_PROFILE_PARTS "display_name note avatar header fields skills"
/*  Does [directory] owned name part (one of RU_CONFIG_PROFILE_PARTS)?
 *  Those parts of a profile that carries a directory entry are the
 *  directory's: its employee cannot change them. */
int ru_config_dir_owns(const ru_config_t *cfg, const char *part);

#endif
