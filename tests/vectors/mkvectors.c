/*  mkvectors.c - writes proto/vectors.json, the frozen test vectors of the
 *  wire format (proto/PROTOCOL.md, section "Test vectors").
 *
 *  Regenerate, from the top of the tree after a build:
 *
 *      build/tests/vectors/mkvectors > proto/vectors.json
 *
 *  (with your own build directory in place of build/). The output is
 *  deterministic: fixed key seeds, fixed HLC values, and Ed25519 signatures
 *  are deterministic. The vectors pin the protocol, so a change in the
 *  output is a change of the wire format: it needs a new protocol version
 *  (ru_limits.h), not just a new file.
 *
 *  Valid updates are made by ru_update_encode from the rows of s_updates: one
 *  chain per origin, with prev hashes and clock deltas as a node would make
 *  them. The encoder chooses each payload's version (the least that holds
 *  the row); the rows of version 2, which set a content warning,
 *  attachments, an avatar or a header, come after all those of version 1,
 *  so that adding them changed no vector of version 1, and the rows of
 *  version 3, profiles with a person, come after all those of version 2
 *  for the same reason. (The two whole-log sequences take every row, so
 *  they grow with them.) Invalid updates are made by hand, because the
 *  encoder refuses to make them: payload bytes are spelled as hex
 *  templates, one part of a valid payload of version 1, 2 or 3 replaced at
 *  a time, and signed with ru_key_sign under the domain of that version so
 *  they get past the signature check and fail where they are meant to
 *  fail.
 *
 *  Valid messages are made by the encoders of ru_msg; the blob messages
 *  (want, chunk, lack) name blobs of the updates' descriptors, and one
 *  chunk carries a real blob with its real hash. A chunk is at most 1 MiB,
 *  which the file does without: its largest chunk carries 64 KiB, enough
 *  for the bin 32 form of every full chunk, and the chunk over the limit
 *  is cut short (its length is refused before its data is missing).
 *
 *  Every vector is run through the C decoders before it is written: valid
 *  ones must decode, invalid ones must fail with the very error named in
 *  their row; otherwise the program says which and exits with status 1.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruche/ru_msg.h"
#include "ruche/ru_text.h"
#include "ruche/ru_update.h"
#include "vec_json.h"
#include "vec_node.h"

/*  ---------------------------------------------------------------------
 *  Keys, times, context
 */

enum { K_PARIS, K_NOZAY, K_MURRAY, S_KEYS };

/*  Seeds are 32 consecutive byte values starting at first. */
static const struct {
    const char *name;
    uint8_t first;
} s_key_defs[S_KEYS] = {{"paris", 0x01}, {"nozay", 0x21}, {"murray-hill", 0x41}};

/*  HLC of 2026-01-01T00:00:00Z plus ms milliseconds, counter c. */
#define S_T0 1767225600000ull
#define S_HLC(ms, c) (((S_T0 + (ms)) << 16) | (c))

/*  The largest text a post may have: 5000 code points of four bytes. */
#define S_BEE "\xf0\x9f\x90\x9d" /* U+1F41D HONEYBEE */
#define S_BEES RU_MAX_TEXT_CHARS

enum { S_MAX_UPDATES = 32 };

typedef struct {
    ru_key_t *keys[S_KEYS];
    uint64_t last_seq[S_KEYS];
    uint8_t last_hash[S_KEYS][RU_HASH_BYTES];
    ru_buf_t envelopes[S_MAX_UPDATES]; /* of s_updates, by row */
    ru_buf_t variants[S_MAX_UPDATES];  /* of s_variants, by row */
    char bees[S_BEES * 4 + 1];
    char hex[RU_MAX_EMAIL + 1]; /* "0123456789abcdef0123...": the longest ASCII strings */
    int failed;
} s_ctx_t;

static void
s_die(const char *what)
{
    (void) fprintf(stderr, "mkvectors: %s\n", what);
    exit(1);
}

static const uint8_t *
s_pub(const s_ctx_t *ctx, int key)
{
    return ru_key_public(ctx->keys[key]);
}

static ru_bytes_t
s_envelope(const s_ctx_t *ctx, int row)
{
    return (ru_bytes_t){ctx->envelopes[row].data, ctx->envelopes[row].len};
}

/*  A clock (or delta) as written in the tables: up to three entries,
 *  ending at the first seq 0. */
typedef struct {
    int key;
    uint64_t seq;
} s_entry_t;

static ru_err
s_clock(const s_ctx_t *ctx, const s_entry_t *entries, size_t max, ru_clock_t *clock)
{
    for (size_t i = 0; i < max && entries[i].seq; i++) {
        ru_err err = ru_clock_set(clock, s_pub(ctx, entries[i].key), entries[i].seq);
        if (err)
            return err;
    }
    return RU_OK;
}

/*  ---------------------------------------------------------------------
 *  Hex templates: pairs of hex digits, spaces ignored, and in braces
 *  {paris} (a public key by name), {zero} (32 zero bytes), {HH*N} (the
 *  byte HH, N times) or {'text'} (text as a str in its shortest form;
 *  text holds no '}').
 */

static int
s_hexval(char c)
{
    const char *digits = "0123456789abcdef";
    const char *at = c ? strchr(digits, c) : NULL;
    if (!at)
        s_die("bad hex digit in a template");
    return (int) (at - digits);
}

static void
s_token(const s_ctx_t *ctx, const char *tok, size_t n, ru_buf_t *out)
{
    static const uint8_t zero[RU_KEY_BYTES];
    if (n > 3 && tok[2] == '*') {
        uint8_t b = (uint8_t) (s_hexval(tok[0]) << 4 | s_hexval(tok[1]));
        for (unsigned long k = strtoul(tok + 3, NULL, 10); k > 0; k--)
            ru_buf_append(out, &b, 1);
        return;
    }
    if (n >= 2 && tok[0] == '\'' && tok[n - 1] == '\'') {
        msgpack_packer pk;
        ru_mp_packer_init(&pk, out);
        msgpack_pack_str(&pk, n - 2);
        msgpack_pack_str_body(&pk, tok + 1, n - 2);
        return;
    }
    if (n == 4 && memcmp(tok, "zero", 4) == 0) {
        ru_buf_append(out, zero, sizeof zero);
        return;
    }
    for (int k = 0; k < S_KEYS; k++) {
        if (strlen(s_key_defs[k].name) == n && memcmp(s_key_defs[k].name, tok, n) == 0) {
            ru_buf_append(out, s_pub(ctx, k), RU_KEY_BYTES);
            return;
        }
    }
    s_die("unknown token in a template");
}

static void
s_expand(const s_ctx_t *ctx, const char *t, ru_buf_t *out)
{
    while (*t) {
        if (*t == ' ') {
            t++;
        } else if (*t == '{') {
            const char *end = strchr(t, '}');
            if (!end)
                s_die("unclosed brace in a template");
            s_token(ctx, t + 1, (size_t) (end - t - 1), out);
            t = end + 1;
        } else {
            uint8_t b = (uint8_t) (s_hexval(t[0]) << 4 | s_hexval(t[1]));
            ru_buf_append(out, &b, 1);
            t += 2;
        }
    }
}

/*  ---------------------------------------------------------------------
 *  Valid updates
 */

/*  An attachment's descriptor (PROTOCOL.md section 5.7). The blobs are
 *  made up: their hashes are 32 times one byte, which no blob has. */
typedef struct {
    uint8_t hash;
    uint64_t size;
    const char *type, *name, *description;
    int is_image; /* then the fields below */
    uint32_t width, height;
    uint8_t thumb;
    uint64_t thumb_size;
    uint32_t thumb_width, thumb_height;
    const char *blurhash;
    uint32_t focus_x, focus_y;
} s_media_row_t;

/*  A photo with its alt text (paris-15) and what an edit puts in its
 *  place (paris-16): a smaller photo, and a panorama at the limits (the
 *  widest image, a 6-character blurhash, a focus in a corner). */
static const s_media_row_t s_photo[] = {
    {0x11, 2483765, "image/jpeg", "quai.jpg", "The Paris office at dusk, seen from the quay.", 1,
     4032, 3024, 0x12, 28614, 400, 300, "KJG[m^xu00M{~qj[ofWBay", 100, 100},
};
static const s_media_row_t s_photos_edited[] = {
    {0x13, 1835008, "image/png", "quai-soir.png", "The same quay, later in the evening.", 1, 1920,
     1080, 0x14, 41002, 400, 225, "L8Ci]y%2_N%2?bj[Rjof9Fxu-;WB", 150, 60},
    {0x15, 9000000, "image/webp", "panorama.webp", "", 1, RU_MAX_IMAGE_SIDE, 4096, 0x16, 1, 400, 25,
     "00Gb%N", RU_MAX_FOCUS, 0},
};
/*  A file: served as a download, no image fields (nozay-4). */
static const s_media_row_t s_report[] = {
    {0x21, 482113, "application/pdf", "Rapport Q4 \xe2\x80\x93 Nozay.pdf",
     "Quarterly report of the Nozay site, 12 pages.", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
};
/*  A profile's avatar and header (paris-17). */
static const s_media_row_t s_avatar[] = {
    {0x31, 48213, "image/png", "alice.png", "Alice, smiling, in front of a whiteboard.", 1, 512,
     512, 0x32, 9120, 128, 128, "KKH2HP~q-;xu9FRjRjof", 100, 100},
};
static const s_media_row_t s_header[] = {
    {0x33, 356002, "image/jpeg", "", "", 1, 1500, 500, 0x34, 20480, 600, 200,
     "LHF~gc?b4nIU~qofRjWB00Rj%MWB", 100, 40},
};
/*  The most attachments a post may have, none of them shown inline
 *  (murray-hill-3): MIME types with "+-.", the largest blob, the smallest,
 *  an empty name, a name that starts with a dot, an image type without
 *  image fields. */
static const s_media_row_t s_eight_files[] = {
    {0x41, 1, "text/plain", "", "", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
    {0x42, 18211, "application/vnd.oasis.opendocument.text", "notes.odt", "Meeting notes.", 0, 0, 0,
     0, 0, 0, 0, NULL, 0, 0},
    {0x43, 3071, "image/svg+xml", "logo.svg", "The ruche logo.", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
    {0x44, RU_MAX_BLOB_SIZE, "video/mp4", "all-hands.mp4", "Recording of the all-hands meeting.", 0,
     0, 0, 0, 0, 0, 0, NULL, 0, 0},
    {0x45, 70000, "application/x-7z-compressed", "logs.7z", "", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
    {0x46, 4194304, "audio/mpeg", "interview.mp3", "", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
    {0x47, 255, "application/octet-stream", ".profile", "", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
    {0x48, 65536, "image/png", "screenshot.png", "", 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0},
};

#define S_MEDIA(rows) (rows), (sizeof(rows) / sizeof((rows)[0]))

/*  A profile's person (PROTOCOL.md section 5.8): skills and profile
 *  fields end at the first NULL, NULL strings are empty. largest: every
 *  field at its limit instead, whatever the others say (s_fill_person). */
typedef struct {
    const char *dir_id, *title, *department, *site, *office, *phone, *email, *manager;
    const char *skills[RU_MAX_SKILLS + 1];
    const char *fields[RU_MAX_FIELDS + 1][2]; /* name, value */
    int departed;
    int largest;
} s_person_row_t;

/*  Alice as the directory and she describe her (paris-18): every field
 *  set, in French and Japanese, four profile fields, one value empty. */
static const s_person_row_t s_alice = {
    .dir_id = "e5c1f0a2-7b4d-4e19-8c3a-2d6f9b0e4a71",
    .title = "Ing\xc3\xa9nieure r\xc3\xa9seau principale",
    .department = "R\xc3\xa9seaux & t\xc3\xa9l\xc3\xa9"
                  "communications",
    .site = "Paris \xe2\x80\x93 La D\xc3\xa9"
            "fense",
    .office = "Tour Europe, 12\xe1\xb5\x89 \xc3\xa9tage, bureau 1207",
    .phone = "+33 1 40 00 12 07",
    .email = "alice.martin@example.com",
    .manager = "9a4b7c2e-1d3f-4a5b-8e6c-0f1e2d3c4b5a",
    .skills = {"BGP", "IPv6", "Fibre optique",
               "R\xc3\xa9seaux \xc3\xa0 tr\xc3\xa8s haut d\xc3\xa9"
               "bit",
               "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "Apiculture " S_BEE},
    .fields = {{"Pronoms", "elle"},
               {"Langues", "fran\xc3\xa7"
                           "ais, English, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
               {"Bureau", "1207"},
               {"Blog", ""}},
};
/*  Alice promoted (paris-19), beside her avatar and header. */
static const s_person_row_t s_alice_promoted = {
    .dir_id = "e5c1f0a2-7b4d-4e19-8c3a-2d6f9b0e4a71",
    .title = "Responsable de l'\xc3\xa9quipe r\xc3\xa9seau",
    .department = "R\xc3\xa9seaux & t\xc3\xa9l\xc3\xa9"
                  "communications",
    .site = "Paris \xe2\x80\x93 La D\xc3\xa9"
            "fense",
    .office = "Tour Europe, 14\xe1\xb5\x89 \xc3\xa9tage, bureau 1401",
    .phone = "+33 1 40 00 14 01",
    .email = "alice.martin@example.com",
    .manager = "3f6e9d1c-5a2b-4c7d-9e8f-1a2b3c4d5e6f",
    .skills = {"BGP", "IPv6", "Management"},
    .fields = {{"Pronoms", "elle"}},
};
/*  Bob as the directory knows him before anyone filled in the rest
 *  (nozay-5): his id alone. */
static const s_person_row_t s_bob_id_only = {
    .dir_id = "8c2f5e1a-3b7d-4f6e-9a0c-1e2d3f4a5b6c",
};
/*  Dave, retired: departed (murray-hill-4). */
static const s_person_row_t s_dave_departed = {
    .dir_id = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
    .title = "Member of Technical Staff",
    .department = "Computing Sciences Research",
    .site = "Murray Hill",
    .office = "2C-518",
    .manager = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    .skills = {"Unix", "C"},
    .departed = 1,
};
/*  A person at every limit (nozay-6). */
static const s_person_row_t s_largest_person = {.largest = 1};

/*  One update of s_updates; fields a kind does not use stay zero. Rows
 *  with a version 2 field (spoiler, sensitive, media, avatar, header) are
 *  encoded as version 2, and come after those of version 1; profiles with
 *  a person are encoded as version 3, and come after those of version 2. */
typedef struct {
    const char *name;
    const char *author;
    const char *text; /* NULL: the largest text */
    const char *user_name, *display_name, *note, *group_name;
    uint64_t seq;
    uint64_t hlc;
    s_entry_t clock[3]; /* the delta */
    s_entry_t target;   /* also the group of a post, when in_group is set */
    s_entry_t user;     /* the key of the user's home */
    s_entry_t fork;     /* resolve: the forked origin and its fork seq */
    const char *kept;   /* resolve: the row whose hash it keeps, made before it */
    int key;            /* origin and signer */
    ru_kind kind;
    ru_visibility visibility;
    int in_group;
    const char *spoiler;
    int sensitive;
    const s_media_row_t *media;
    size_t n_media;
    const s_media_row_t *avatar, *header;
    const s_person_row_t *person; /* version 3 */
} s_update_row_t;

#define S_NOZAY_1                                                                                  \
    {                                                                                              \
        K_NOZAY, 1                                                                                 \
    }
#define S_GROUP                                                                                    \
    {                                                                                              \
        K_PARIS, 4                                                                                 \
    }

static const s_update_row_t s_updates[] = {
    {.name = "paris-1-post",
     .key = K_PARIS,
     .seq = 1,
     .hlc = S_HLC(0, 0),
     .author = "alice",
     .kind = RU_KIND_POST,
     .text = "Hello from Paris!"},
    {.name = "nozay-1-post-multibyte",
     .key = K_NOZAY,
     .seq = 1,
     .clock = {{K_PARIS, 1}},
     .hlc = S_HLC(1500, 0),
     .author = "bob",
     .kind = RU_KIND_POST,
     .text = "Salut Paris, ici Nozay ! \xc3\x87"
             "a d\xc3\xa9marre tr\xc3\xa8s bien."},
    {.name = "paris-2-reply",
     .key = K_PARIS,
     .seq = 2,
     .clock = {S_NOZAY_1},
     .hlc = S_HLC(2000, 0),
     .author = "alice",
     .kind = RU_KIND_REPLY,
     .target = S_NOZAY_1,
     .text = "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf " S_BEE},
    {.name = "paris-3-like",
     .key = K_PARIS,
     .seq = 3,
     .hlc = S_HLC(2000, 1),
     .author = "carol",
     .kind = RU_KIND_LIKE,
     .target = S_NOZAY_1},
    {.name = "nozay-2-post-direct",
     .key = K_NOZAY,
     .seq = 2,
     .clock = {{K_PARIS, 3}},
     .hlc = S_HLC(2500, 0),
     .author = "bob",
     .kind = RU_KIND_POST,
     .text = "@alice@paris merci !",
     .visibility = RU_VIS_DIRECT},
    {.name = "paris-4-group-create",
     .key = K_PARIS,
     .seq = 4,
     .clock = {{K_NOZAY, 2}},
     .hlc = S_HLC(3000, 0),
     .author = "alice",
     .kind = RU_KIND_GROUP_CREATE,
     .group_name = "ruche-dev",
     .note = "Builders of ruche, at every site."},
    {.name = "murray-hill-1-post",
     .key = K_MURRAY,
     .seq = 1,
     .clock = {{K_PARIS, 4}, {K_NOZAY, 2}},
     .hlc = S_HLC(3500, 0),
     .author = "dave",
     .kind = RU_KIND_POST,
     .text = "Greetings from Murray Hill.",
     .visibility = RU_VIS_UNLISTED},
    {.name = "paris-5-group-join",
     .key = K_PARIS,
     .seq = 5,
     .clock = {{K_MURRAY, 1}},
     .hlc = S_HLC(4000, 0),
     .author = "carol",
     .kind = RU_KIND_GROUP_JOIN,
     .target = S_GROUP},
    {.name = "paris-6-post-in-group",
     .key = K_PARIS,
     .seq = 6,
     .hlc = S_HLC(4100, 0),
     .author = "carol",
     .kind = RU_KIND_POST,
     .text = "First post in ruche-dev.",
     .target = S_GROUP,
     .in_group = 1},
    {.name = "paris-7-edit",
     .key = K_PARIS,
     .seq = 7,
     .hlc = S_HLC(4200, 0),
     .author = "alice",
     .kind = RU_KIND_EDIT,
     .target = {K_PARIS, 1},
     .text = "Hello from Paris! (edited)"},
    {.name = "paris-8-unlike",
     .key = K_PARIS,
     .seq = 8,
     .hlc = S_HLC(4300, 0),
     .author = "carol",
     .kind = RU_KIND_UNLIKE,
     .target = S_NOZAY_1},
    {.name = "paris-9-follow",
     .key = K_PARIS,
     .seq = 9,
     .hlc = S_HLC(4400, 0),
     .author = "alice",
     .kind = RU_KIND_FOLLOW,
     .user = {K_NOZAY, 0},
     .user_name = "bob"},
    {.name = "paris-10-unfollow",
     .key = K_PARIS,
     .seq = 10,
     .hlc = S_HLC(4500, 0),
     .author = "alice",
     .kind = RU_KIND_UNFOLLOW,
     .user = {K_NOZAY, 0},
     .user_name = "bob"},
    {.name = "paris-11-profile",
     .key = K_PARIS,
     .seq = 11,
     .hlc = S_HLC(4600, 0),
     .author = "alice",
     .kind = RU_KIND_PROFILE,
     .display_name = "Alice Martin",
     .note = "Ing\xc3\xa9nieure r\xc3\xa9seau \xc3\xa0 Paris. " S_BEE},
    {.name = "paris-12-group-leave",
     .key = K_PARIS,
     .seq = 12,
     .hlc = S_HLC(4700, 0),
     .author = "carol",
     .kind = RU_KIND_GROUP_LEAVE,
     .target = S_GROUP},
    {.name = "paris-13-delete",
     .key = K_PARIS,
     .seq = 13,
     .hlc = S_HLC(4800, 0),
     .author = "alice",
     .kind = RU_KIND_DELETE,
     .target = {K_PARIS, 2}},
    {.name = "paris-14-post-largest-text",
     .key = K_PARIS,
     .seq = 14,
     .hlc = S_HLC(4800, 65535),
     .author = "alice",
     .kind = RU_KIND_POST,
     .text = NULL,
     .visibility = RU_VIS_PRIVATE},
    {.name = "nozay-3-profile-empty",
     .key = K_NOZAY,
     .seq = 3,
     .clock = {{K_PARIS, 14}},
     .hlc = S_HLC(5000, 0),
     .author = "bob",
     .kind = RU_KIND_PROFILE,
     .display_name = "",
     .note = ""},
    {.name = "murray-hill-2-resolve",
     .key = K_MURRAY,
     .seq = 2,
     .clock = {{K_PARIS, 14}, {K_NOZAY, 3}},
     .hlc = S_HLC(5100, 0),
     .author = "admin",
     .kind = RU_KIND_RESOLVE,
     .fork = {K_PARIS, 1},
     .kept = "paris-1-post"},
    {.name = "paris-15-post-image",
     .key = K_PARIS,
     .seq = 15,
     .clock = {{K_NOZAY, 3}, {K_MURRAY, 2}},
     .hlc = S_HLC(5200, 0),
     .author = "alice",
     .kind = RU_KIND_POST,
     .text = "Le bureau de Paris, vu du quai.",
     .spoiler = "Photo of the new office",
     .sensitive = 1,
     .media = S_MEDIA(s_photo)},
    {.name = "nozay-4-reply-file-no-text",
     .key = K_NOZAY,
     .seq = 4,
     .clock = {{K_PARIS, 15}},
     .hlc = S_HLC(5300, 0),
     .author = "bob",
     .kind = RU_KIND_REPLY,
     .target = {K_PARIS, 15},
     .text = "",
     .media = S_MEDIA(s_report)},
    {.name = "paris-16-edit-media",
     .key = K_PARIS,
     .seq = 16,
     .clock = {{K_NOZAY, 4}},
     .hlc = S_HLC(5400, 0),
     .author = "alice",
     .kind = RU_KIND_EDIT,
     .target = {K_PARIS, 15},
     .text = "Le bureau de Paris, vu du quai, et le quai.",
     .media = S_MEDIA(s_photos_edited)},
    {.name = "paris-17-profile-avatar-header",
     .key = K_PARIS,
     .seq = 17,
     .hlc = S_HLC(5500, 0),
     .author = "alice",
     .kind = RU_KIND_PROFILE,
     .display_name = "Alice Martin",
     .note = "Ing\xc3\xa9nieure r\xc3\xa9seau \xc3\xa0 Paris. " S_BEE,
     .avatar = s_avatar,
     .header = s_header},
    {.name = "murray-hill-3-post-eight-files",
     .key = K_MURRAY,
     .seq = 3,
     .clock = {{K_PARIS, 17}, {K_NOZAY, 4}},
     .hlc = S_HLC(5600, 0),
     .author = "dave",
     .kind = RU_KIND_POST,
     .text = "",
     .visibility = RU_VIS_UNLISTED,
     .media = S_MEDIA(s_eight_files)},
    {.name = "paris-18-profile-person",
     .key = K_PARIS,
     .seq = 18,
     .clock = {{K_MURRAY, 3}},
     .hlc = S_HLC(5700, 0),
     .author = "alice",
     .kind = RU_KIND_PROFILE,
     .display_name = "Alice Martin",
     .note = "Ing\xc3\xa9nieure r\xc3\xa9seau \xc3\xa0 Paris. " S_BEE,
     .person = &s_alice},
    {.name = "nozay-5-profile-dir-id-only",
     .key = K_NOZAY,
     .seq = 5,
     .clock = {{K_PARIS, 18}, {K_MURRAY, 3}},
     .hlc = S_HLC(5800, 0),
     .author = "bob",
     .kind = RU_KIND_PROFILE,
     .display_name = "",
     .note = "",
     .person = &s_bob_id_only},
    {.name = "murray-hill-4-profile-departed",
     .key = K_MURRAY,
     .seq = 4,
     .clock = {{K_PARIS, 18}, {K_NOZAY, 5}},
     .hlc = S_HLC(5900, 0),
     .author = "dave",
     .kind = RU_KIND_PROFILE,
     .display_name = "Dave",
     .note = "Retired. Thanks for everything.",
     .person = &s_dave_departed},
    {.name = "paris-19-profile-person-avatar-header",
     .key = K_PARIS,
     .seq = 19,
     .clock = {{K_NOZAY, 5}, {K_MURRAY, 4}},
     .hlc = S_HLC(6100, 0),
     .author = "alice",
     .kind = RU_KIND_PROFILE,
     .display_name = "Alice Martin",
     .note = "Responsable r\xc3\xa9seau \xc3\xa0 Paris. " S_BEE,
     .avatar = s_avatar,
     .header = s_header,
     .person = &s_alice_promoted},
    {.name = "nozay-6-profile-person-largest",
     .key = K_NOZAY,
     .seq = 6,
     .clock = {{K_PARIS, 19}, {K_MURRAY, 4}},
     .hlc = S_HLC(6200, 0),
     .author = "bob",
     .kind = RU_KIND_PROFILE,
     .display_name = "Bob",
     .note = "",
     .person = &s_largest_person},
};

#define S_N_UPDATES (sizeof s_updates / sizeof s_updates[0])

/*  The row of s_updates called name. */
static size_t
s_row_of(const char *name)
{
    for (size_t i = 0; i < S_N_UPDATES; i++)
        if (strcmp(s_updates[i].name, name) == 0)
            return i;
    s_die("no update row of that name");
    return 0;
}

static ru_str_t
s_str(const char *s)
{
    return (ru_str_t){s, s ? (uint32_t) strlen(s) : 0};
}

static void
s_fill_media(const s_media_row_t *row, ru_media_t *m)
{
    memset(m, 0, sizeof *m);
    memset(m->hash, row->hash, RU_HASH_BYTES);
    m->size = row->size;
    m->type = s_str(row->type);
    m->name = s_str(row->name);
    m->description = s_str(row->description);
    m->is_image = row->is_image;
    m->width = row->width;
    m->height = row->height;
    memset(m->thumb, row->thumb, RU_HASH_BYTES);
    m->thumb_size = row->thumb_size;
    m->thumb_width = row->thumb_width;
    m->thumb_height = row->thumb_height;
    m->blurhash = s_str(row->blurhash);
    m->focus_x = row->focus_x;
    m->focus_y = row->focus_y;
}

/*  The version 2 fields of u from row. */
static void
s_fill_v2(const s_update_row_t *row, ru_update_t *u)
{
    u->spoiler = s_str(row->spoiler);
    u->sensitive = row->sensitive;
    u->n_media = (uint32_t) row->n_media;
    for (size_t i = 0; i < row->n_media && i < RU_MAX_MEDIA; i++)
        s_fill_media(&row->media[i], &u->media[i]);
    u->has_avatar = row->avatar != NULL;
    if (row->avatar)
        s_fill_media(row->avatar, &u->avatar);
    u->has_header = row->header != NULL;
    if (row->header)
        s_fill_media(row->header, &u->header);
}

static ru_str_t
s_text(const char *s)
{
    return s_str(s ? s : "");
}

/*  A person at every limit of PROTOCOL.md section 9: ids, a phone number
 *  and an e-mail address of as many ASCII bytes as they may hold, the
 *  other texts of as many code points as they may hold, each of four
 *  bytes, and as many skills and profile fields as a person may have. */
static void
s_fill_person_largest(const s_ctx_t *ctx, ru_person_t *p)
{
    ru_str_t work = {ctx->bees, 4 * RU_MAX_WORK_CHARS};
    p->dir_id = p->manager = (ru_str_t){ctx->hex, RU_MAX_DIR_ID};
    p->title = p->department = p->site = p->office = work;
    p->phone = (ru_str_t){ctx->hex, RU_MAX_PHONE};
    p->email = (ru_str_t){ctx->hex, RU_MAX_EMAIL};
    for (p->n_skills = 0; p->n_skills < RU_MAX_SKILLS; p->n_skills++)
        p->skills[p->n_skills] = (ru_str_t){ctx->bees, 4 * RU_MAX_SKILL_CHARS};
    for (p->n_fields = 0; p->n_fields < RU_MAX_FIELDS; p->n_fields++)
        p->fields[p->n_fields].name = p->fields[p->n_fields].value =
            (ru_str_t){ctx->bees, 4 * RU_MAX_FIELD_CHARS};
}

static void
s_fill_person(const s_ctx_t *ctx, const s_person_row_t *row, ru_person_t *p)
{
    memset(p, 0, sizeof *p);
    if (row->largest) {
        s_fill_person_largest(ctx, p);
        return;
    }
    const char *const texts[] = {row->dir_id, row->title, row->department, row->site,
                                 row->office, row->phone, row->email,      row->manager};
    ru_str_t *const into[] = {&p->dir_id, &p->title, &p->department, &p->site,
                              &p->office, &p->phone, &p->email,      &p->manager};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        *into[i] = s_text(texts[i]);
    for (; p->n_skills < RU_MAX_SKILLS && row->skills[p->n_skills]; p->n_skills++)
        p->skills[p->n_skills] = s_str(row->skills[p->n_skills]);
    for (; p->n_fields < RU_MAX_FIELDS && row->fields[p->n_fields][0]; p->n_fields++) {
        p->fields[p->n_fields].name = s_str(row->fields[p->n_fields][0]);
        p->fields[p->n_fields].value = s_text(row->fields[p->n_fields][1]);
    }
    p->departed = row->departed;
}

/*  Fills u from row, with prev. */
static ru_err
s_fill(const s_ctx_t *ctx, const s_update_row_t *row, const uint8_t *prev, ru_update_t *u)
{
    memcpy(u->origin, s_pub(ctx, row->key), RU_KEY_BYTES);
    u->seq = row->seq;
    memcpy(u->prev, prev, RU_HASH_BYTES);
    u->hlc = row->hlc;
    u->author = s_str(row->author);
    u->kind = row->kind;
    memcpy(u->target.origin, s_pub(ctx, row->target.key), RU_KEY_BYTES);
    u->target.seq = row->target.seq;
    u->text = row->text ? s_str(row->text) : s_str(ctx->bees);
    u->visibility = row->visibility;
    u->has_group = row->in_group;
    u->group = u->target;
    memcpy(u->user.home, s_pub(ctx, row->user.key), RU_KEY_BYTES);
    u->user.name = s_str(row->user_name);
    u->display_name = s_str(row->display_name);
    u->note = s_str(row->note);
    u->name = s_str(row->group_name);
    memcpy(u->fork.origin, s_pub(ctx, row->fork.key), RU_KEY_BYTES);
    u->fork.seq = row->fork.seq;
    s_fill_v2(row, u);
    u->has_person = row->person != NULL;
    if (row->person)
        s_fill_person(ctx, row->person, &u->person);
    for (size_t i = 0; row->kept && i < S_N_UPDATES; i++)
        if (strcmp(s_updates[i].name, row->kept) == 0) {
            ru_envelope_t env;
            if (ru_envelope_parse(ctx->envelopes[i].data, ctx->envelopes[i].len, &env) != RU_OK)
                s_die("a resolve keeps a row not made before it");
            ru_update_hash(&env, u->kept);
        }
    return s_clock(ctx, row->clock, 3, &u->clock);
}

/*  The JSON object of an update made from its envelope. */
static json_t *
s_update_json(const char *name, const char *key, const ru_envelope_t *env, const ru_update_t *u)
{
    uint8_t hash[RU_HASH_BYTES];
    ru_update_hash(env, hash);
    return json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "name", name, "key", key, "fields",
        vec_json_from_update(u), "payload", vec_json_hex(env->payload, env->payload_len),
        "signature", vec_json_hex(env->sig, RU_SIG_BYTES), "envelope",
        vec_json_hex(env->wire, env->wire_len), "hash", vec_json_hex(hash, RU_HASH_BYTES));
}

/*  Encodes row i, checks that it opens again, appends its vector to arr. */
static ru_err
s_make_update(s_ctx_t *ctx, size_t i, json_t *arr)
{
    const s_update_row_t *row = &s_updates[i];
    ru_buf_t *wire = &ctx->envelopes[i];
    ru_update_t u, back;
    ru_update_init(&u);
    ru_update_init(&back);
    ru_envelope_t env;
    if (row->seq != ctx->last_seq[row->key] + 1)
        s_die("update rows are not in seq order");
    ru_err err = s_fill(ctx, row, ctx->last_hash[row->key], &u);
    if (!err)
        err = ru_update_encode(&u, ctx->keys[row->key], wire);
    if (!err)
        err = ru_update_open(wire->data, wire->len, &env, &back);
    if (!err) {
        json_array_append_new(arr,
                              s_update_json(row->name, s_key_defs[row->key].name, &env, &back));
        ru_update_hash(&env, ctx->last_hash[row->key]);
        ctx->last_seq[row->key] = row->seq;
    } else {
        (void) fprintf(stderr, "mkvectors: update %s: %s\n", row->name, ru_err_name(err));
    }
    ru_update_fini(&u);
    ru_update_fini(&back);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Valid messages
 */

static const s_entry_t s_caught_up[3] = {{K_PARIS, 14}, {K_NOZAY, 3}, {K_MURRAY, 1}};
static const s_entry_t s_wide[3] = {{K_PARIS, 200}, {K_NOZAY, 300}, {K_MURRAY, 70000}};
static const s_entry_t s_huge[3] = {{K_PARIS, 5000000000}, {K_NOZAY, 3}, {K_MURRAY, 1}};

static ru_err
s_msg_update(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) clock;
    return ru_msg_encode_update(s_envelope(ctx, 0), out);
}

static ru_err
s_msg_hello_fresh(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    return ru_msg_encode_hello(clock, 8, out);
}

static ru_err
s_msg_hello(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    ru_err err = s_clock(ctx, s_caught_up, 3, clock);
    return err ? err : ru_msg_encode_hello(clock, RU_MAX_CREDIT, out);
}

static ru_err
s_msg_hello_wide(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    ru_err err = s_clock(ctx, s_wide, 3, clock);
    return err ? err : ru_msg_encode_hello(clock, 1, out);
}

static ru_err
s_msg_batch(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) clock;
    ru_bytes_t two[2] = {s_envelope(ctx, 0), s_envelope(ctx, 2)};
    return ru_msg_encode_batch(two, 2, out);
}

static ru_err
s_msg_credit(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    return ru_msg_encode_credit(4, out);
}

static ru_err
s_msg_done(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    ru_err err = s_clock(ctx, s_caught_up, 3, clock);
    return err ? err : ru_msg_encode_done(clock, out);
}

static ru_err
s_msg_heartbeat(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    uint8_t digest[RU_HASH_BYTES];
    for (int i = 0; i < RU_HASH_BYTES; i++)
        digest[i] = (uint8_t) (0xe0 + i);
    ru_err err = s_clock(ctx, s_huge, 3, clock);
    return err ? err : ru_msg_encode_heartbeat(clock, S_HLC(6000, 7), digest, out);
}

/*  The blob messages name blobs of the updates' descriptors (made-up
 *  hashes, 32 times one byte) and one real blob, "abc", whose hash is the
 *  known BLAKE2b-256 of those three bytes. */
#define S_PHOTO 0x11      /* quai.jpg of paris-15, 2483765 bytes */
#define S_INTERVIEW 0x46  /* interview.mp3 of murray-hill-3, 4194304 bytes */
#define S_ALL_HANDS 0x44  /* all-hands.mp4 of murray-hill-3, 2^40 - 1 bytes */
#define S_SCREENSHOT 0x48 /* screenshot.png of murray-hill-3, 65536 bytes */
#define S_RECORDING 0x4a  /* a recording of 5 GiB and 4 bytes, in no update */

static void
s_blob(uint8_t byte, uint8_t *hash)
{
    memset(hash, byte, RU_HASH_BYTES);
}

/*  The first window of a blob: chunks 0 to 7 (the photo has three). */
static ru_err
s_msg_want(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    uint8_t hash[RU_HASH_BYTES];
    s_blob(S_PHOTO, hash);
    return ru_msg_encode_want(hash, 0, RU_MAX_WANT, out);
}

/*  A later window of one chunk: the interview's fourth and last chunk,
 *  its offset a uint 32. */
static ru_err
s_msg_want_next(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    uint8_t hash[RU_HASH_BYTES];
    s_blob(S_INTERVIEW, hash);
    return ru_msg_encode_want(hash, 3 * RU_BLOB_CHUNK, 1, out);
}

/*  The last offset a want may name: 2^40 - 2, a uint 64. */
static ru_err
s_msg_want_last_offset(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    uint8_t hash[RU_HASH_BYTES];
    s_blob(S_ALL_HANDS, hash);
    return ru_msg_encode_want(hash, RU_MAX_BLOB_SIZE - 1, 1, out);
}

/*  A blob whole in one chunk, with its real hash. */
static ru_err
s_msg_chunk_abc(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    uint8_t hash[RU_HASH_BYTES];
    crypto_generichash(hash, RU_HASH_BYTES, (const uint8_t *) "abc", 3, NULL, 0);
    return ru_msg_encode_chunk(hash, 3, 0, (const uint8_t *) "abc", 3, out);
}

/*  The screenshot whole: 65536 bytes, so a bin 32 as every full chunk. */
static ru_err
s_msg_chunk_bin32(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    enum { N = 65536 };
    static uint8_t data[N];
    for (size_t i = 0; i < N; i++)
        data[i] = (uint8_t) (i * 151 + (i >> 8));
    uint8_t hash[RU_HASH_BYTES];
    s_blob(S_SCREENSHOT, hash);
    return ru_msg_encode_chunk(hash, N, 0, data, N, out);
}

/*  The last chunk of a blob past 4 GiB: size and offset uint 64s. */
static ru_err
s_msg_chunk_uint64(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    uint64_t offset = 5120ull * RU_BLOB_CHUNK;
    uint8_t hash[RU_HASH_BYTES];
    s_blob(S_RECORDING, hash);
    return ru_msg_encode_chunk(hash, offset + 4, offset, (const uint8_t *) "end\n", 4, out);
}

static ru_err
s_msg_lack(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out)
{
    (void) ctx;
    (void) clock;
    uint8_t hash[RU_HASH_BYTES];
    s_blob(S_PHOTO, hash);
    return ru_msg_encode_lack(hash, out);
}

typedef ru_err (*s_msg_fn)(s_ctx_t *ctx, ru_clock_t *clock, ru_buf_t *out);

static const struct {
    const char *name;
    s_msg_fn make;
} s_messages[] = {
    {"update-paris-1", s_msg_update},
    {"hello-fresh-node", s_msg_hello_fresh},
    {"hello", s_msg_hello},
    {"hello-wide-integers", s_msg_hello_wide},
    {"batch-two-updates", s_msg_batch},
    {"credit", s_msg_credit},
    {"done", s_msg_done},
    {"heartbeat", s_msg_heartbeat},
    {"want-first-window", s_msg_want},
    {"want-next-window", s_msg_want_next},
    {"want-last-offset", s_msg_want_last_offset},
    {"chunk-whole-blob-abc", s_msg_chunk_abc},
    {"chunk-bin32", s_msg_chunk_bin32},
    {"chunk-uint64-size-and-offset", s_msg_chunk_uint64},
    {"lack", s_msg_lack},
};

/*  Makes message i, decodes it again, appends its vector to arr. */
static ru_err
s_make_message(s_ctx_t *ctx, size_t i, json_t *arr)
{
    ru_clock_t clock;
    ru_clock_init(&clock);
    ru_buf_t out;
    ru_buf_init(&out);
    ru_msg_t msg;
    ru_msg_init(&msg);
    ru_err err = s_messages[i].make(ctx, &clock, &out);
    if (!err)
        err = ru_msg_decode(out.data, out.len, &msg);
    if (!err)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:o}", "name", s_messages[i].name,
                                             "type", ru_msg_type_name(msg.type), "fields",
                                             vec_json_from_msg(&msg), "bytes",
                                             vec_json_hex(out.data, out.len)));
    else
        (void) fprintf(stderr, "mkvectors: message %s: %s\n", s_messages[i].name, ru_err_name(err));
    ru_msg_fini(&msg);
    ru_buf_fini(&out);
    ru_clock_fini(&clock);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Invalid vectors: the decoder must return exactly the named error
 */

static void
s_pack_envelope(const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
                ru_buf_t *out)
{
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_bin(&pk, len);
    msgpack_pack_bin_body(&pk, payload, len);
    msgpack_pack_bin(&pk, sig_len);
    msgpack_pack_bin_body(&pk, sig, sig_len);
}

/*  Signs payload with key under prefix and packs the envelope into out. */
static void
s_sign_pack(const s_ctx_t *ctx, int key, const char *prefix, const uint8_t *payload, size_t len,
            ru_buf_t *out)
{
    uint8_t sig[RU_SIG_BYTES];
    if (ru_key_sign(ctx->keys[key], prefix, payload, len, sig))
        s_die("cannot sign");
    s_pack_envelope(payload, len, sig, RU_SIG_BYTES, out);
}

/*  Runs the decoder on bytes; records the vector or the disagreement. */
static void
s_add_invalid(s_ctx_t *ctx, json_t *arr, const char *name, int is_update, const ru_buf_t *bytes,
              const char *error)
{
    ru_err err;
    if (is_update) {
        ru_envelope_t env;
        ru_update_t u;
        ru_update_init(&u);
        err = ru_update_open(bytes->data, bytes->len, &env, &u);
        ru_update_fini(&u);
    } else {
        ru_msg_t msg;
        ru_msg_init(&msg);
        err = ru_msg_decode(bytes->data, bytes->len, &msg);
        ru_msg_fini(&msg);
    }
    if (strcmp(ru_err_name(err), error) != 0 || err == RU_OK) {
        (void) fprintf(stderr, "mkvectors: invalid %s: expected %s, decoder says %s\n", name, error,
                       ru_err_name(err));
        ctx->failed = 1;
    }
    json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:s}", "name", name, "decoder",
                                         is_update ? "update" : "message", "bytes",
                                         vec_json_hex(bytes->data, bytes->len), "error", error));
}

/*  Payloads: the parts of a valid post by alice at paris (seq 1, no clock),
 *  and rows that replace one or two parts. */
enum { P_HEAD, P_VERSION, P_ORIGIN, P_SEQ, P_PREV, P_CLOCK, P_HLC, P_AUTHOR, P_KIND, P_BODY, P_N };

static const char *const s_base_parts[P_N] = {
    [P_HEAD] = "99",
    [P_VERSION] = "01",
    [P_ORIGIN] = "c420{paris}",
    [P_SEQ] = "01",
    [P_PREV] = "c420{zero}",
    [P_CLOCK] = "80",
    [P_HLC] = "cf019b76daa8000000",
    [P_AUTHOR] = "a5616c696365",
    [P_KIND] = "01",
    [P_BODY] = "93 a568656c6c6f 00 c0",
};

typedef void (*s_part_fn)(const s_ctx_t *ctx, ru_buf_t *out);

typedef struct {
    int part;
    const char *hex; /* a template, or NULL to call fill */
    s_part_fn fill;
} s_patch_t;

/*  1025 clock entries, ascending, none of them paris. */
static void
s_clock_1025(const s_ctx_t *ctx, ru_buf_t *out)
{
    (void) ctx;
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    msgpack_pack_map(&pk, RU_MAX_CLOCK + 1);
    for (uint32_t i = 1; i <= RU_MAX_CLOCK + 1; i++) {
        uint8_t origin[RU_KEY_BYTES] = {0};
        origin[30] = (uint8_t) (i >> 8);
        origin[31] = (uint8_t) i;
        msgpack_pack_bin(&pk, RU_KEY_BYTES);
        msgpack_pack_bin_body(&pk, origin, RU_KEY_BYTES);
        msgpack_pack_uint64(&pk, 1);
    }
}

/*  nozay and murray-hill, the greater key first. */
static void
s_clock_descending(const s_ctx_t *ctx, ru_buf_t *out)
{
    int first = memcmp(s_pub(ctx, K_NOZAY), s_pub(ctx, K_MURRAY), RU_KEY_BYTES) > 0;
    const char *hi = first ? "{nozay}" : "{murray-hill}";
    const char *lo = first ? "{murray-hill}" : "{nozay}";
    s_expand(ctx, "82 c420", out);
    s_expand(ctx, hi, out);
    s_expand(ctx, "01 c420", out);
    s_expand(ctx, lo, out);
    s_expand(ctx, "01", out);
}

typedef struct {
    const char *name;
    const char *error;
    s_patch_t patch[2];
} s_bad_payload_t;

/*  Parts of version 2 bodies: a hash and a size, an image's fields, a
 *  file's descriptor (a MIME type and a name as templates), a PDF, a PNG,
 *  and the body of a post with media (a template of the array). */
#define S_HASH_SIZE "c420{11*32} cd0800"
#define S_IMAGE "99 cd0400 cd0300 c420{12*32} cd012c cca0 78 {'KJG[m^xu00'} 64 64"
#define S_FILE(type, name) "96 " S_HASH_SIZE " " type " " name " a0 c0 "
#define S_PDF S_FILE("{'application/pdf'}", "{'a.pdf'}")
#define S_PNG "96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 " S_IMAGE " "
#define S_V2_POST(media) "96 a568656c6c6f 00 c0 a0 00 " media
/*  Parts of version 3 bodies: a person's dir_id (also its manager's),
 *  its title, department, site and office, its phone number and e-mail
 *  address, its manager's dir_id, its skills and its profile fields
 *  (templates, each ending in
 *  a space); a person made of such parts, the one made of these, and the
 *  body of a profile with a person. */
#define S_ID "{'e-0042'} "
#define S_WORK "{'Ing\xc3\xa9nieure'} {'R&D'} {'Paris'} {'1207'} "
#define S_CONTACT "{'+33 1 40 00 12 07'} {'alice@example.com'} "
#define S_MANAGER "{'e-0007'} "
#define S_SKILLS "92 {'BGP'} {'IPv6'} "
#define S_FIELDS "91 92 {'Pronoms'} {'elle'} "
#define S_PERSON_OF(id, work, contact, manager, skills, fields, departed)                          \
    "9b " id work contact manager skills fields departed
#define S_PERSON S_PERSON_OF(S_ID, S_WORK, S_CONTACT, S_MANAGER, S_SKILLS, S_FIELDS, "00")
#define S_V3_PROFILE(person) "95 a0 a0 c0 c0 " person

static const s_bad_payload_t s_bad_payloads[] = {
    {"payload-version-4", "version", {{P_VERSION, "04", NULL}}},
    {"payload-version-0", "version", {{P_VERSION, "00", NULL}}},
    {"payload-version-not-fixint", "type", {{P_VERSION, "cc01", NULL}}},
    {"payload-array-of-8", "type", {{P_HEAD, "98", NULL}, {P_BODY, "", NULL}}},
    {"payload-not-array", "type", {{P_HEAD, "81", NULL}}},
    {"origin-bin16", "type", {{P_ORIGIN, "c50020{paris}", NULL}}},
    {"seq-0", "range", {{P_SEQ, "00", NULL}}},
    {"seq-noncanonical-uint8", "noncanonical", {{P_SEQ, "cc01", NULL}}},
    {"seq-noncanonical-uint64", "noncanonical", {{P_SEQ, "cf0000000000000001", NULL}}},
    {"seq-string", "type", {{P_SEQ, "a131", NULL}}},
    {"seq-negative", "type", {{P_SEQ, "ff", NULL}}},
    {"seq-1-prev-not-zero", "range", {{P_PREV, "c420 01{00*31}", NULL}}},
    {"prev-31-bytes", "type", {{P_PREV, "c41f {00*31}", NULL}}},
    {"clock-not-map", "type", {{P_CLOCK, "90", NULL}}},
    {"clock-1025-entries", "too_many", {{P_CLOCK, NULL, s_clock_1025}}},
    {"clock-1025-entries-cut", "truncated", {{P_CLOCK, "de0401", NULL}}},
    {"clock-keys-descending", "order", {{P_CLOCK, NULL, s_clock_descending}}},
    {"clock-key-twice", "order", {{P_CLOCK, "82 c420{nozay} 01 c420{nozay} 02", NULL}}},
    {"clock-seq-0", "range", {{P_CLOCK, "81 c420{nozay} 00", NULL}}},
    {"clock-holds-origin", "range", {{P_CLOCK, "81 c420{paris} 01", NULL}}},
    {"clock-key-str", "type", {{P_CLOCK, "81 a5616c696365 01", NULL}}},
    {"clock-map16-noncanonical", "noncanonical", {{P_CLOCK, "de0000", NULL}}},
    {"hlc-float", "type", {{P_HLC, "cb41d0000000000000", NULL}}},
    {"hlc-0", "range", {{P_HLC, "00", NULL}}},
    {"hlc-before-2025", "range", {{P_HLC, "cf 0194 1f29 7bff ffff", NULL}}},
    {"author-uppercase", "name", {{P_AUTHOR, "a5416c696365", NULL}}},
    {"author-empty", "name", {{P_AUTHOR, "a0", NULL}}},
    {"author-starts-with-dot", "name", {{P_AUTHOR, "a62e616c696365", NULL}}},
    {"author-65-bytes", "too_big", {{P_AUTHOR, "d941 {61*65}", NULL}}},
    {"author-str8-noncanonical", "noncanonical", {{P_AUTHOR, "d905616c696365", NULL}}},
    {"author-bin", "type", {{P_AUTHOR, "c405616c696365", NULL}}},
    {"kind-0", "kind", {{P_KIND, "00", NULL}}},
    {"kind-14", "kind", {{P_KIND, "0e", NULL}}},
    {"body-too-few-fields", "type", {{P_BODY, "92 a568656c6c6f 00", NULL}}},
    {"body-not-array", "type", {{P_BODY, "c0", NULL}}},
    {"text-not-utf8", "utf8", {{P_BODY, "93 a2ff41 00 c0", NULL}}},
    {"text-overlong-utf8", "utf8", {{P_BODY, "93 a2c0af 00 c0", NULL}}},
    {"text-surrogate", "utf8", {{P_BODY, "93 a3eda080 00 c0", NULL}}},
    {"text-above-u10ffff", "utf8", {{P_BODY, "93 a4f4908080 00 c0", NULL}}},
    {"text-cut-sequence", "utf8", {{P_BODY, "93 a2e282 00 c0", NULL}}},
    {"text-nul", "utf8", {{P_BODY, "93 a3410042 00 c0", NULL}}},
    {"text-empty", "range", {{P_BODY, "93 a0 00 c0", NULL}}},
    {"text-5001-chars", "too_big", {{P_BODY, "93 da1389{61*5001} 00 c0", NULL}}},
    {"text-20004-bytes", "too_big", {{P_BODY, "93 da4e24{41*20004} 00 c0", NULL}}},
    {"visibility-4", "range", {{P_BODY, "93 a568656c6c6f 04 c0", NULL}}},
    {"group-seq-0", "range", {{P_BODY, "93 a568656c6c6f 00 92c420{paris}00", NULL}}},
    {"group-bool", "type", {{P_BODY, "93 a568656c6c6f 00 c3", NULL}}},
    {"payload-trailing", "trailing", {{P_BODY, "93 a568656c6c6f 00 c0 c0", NULL}}},
    {"reply-target-seq-0",
     "range",
     {{P_KIND, "02", NULL}, {P_BODY, "93 92c420{nozay}00 a26869 00", NULL}}},
    {"reply-target-itself",
     "range",
     {{P_KIND, "02", NULL}, {P_BODY, "93 92c420{paris}01 a26869 00", NULL}}},
    {"group-own-later", "range", {{P_BODY, "93 a568656c6c6f 00 92c420{paris}02", NULL}}},
    {"edit-three-fields",
     "type",
     {{P_KIND, "03", NULL}, {P_BODY, "93 92c420{paris}01 a26869 00", NULL}}},
    {"follow-user-uppercase",
     "name",
     {{P_KIND, "07", NULL}, {P_BODY, "91 92c420{nozay}a3426f62", NULL}}},
    {"profile-display-101-chars",
     "too_big",
     {{P_KIND, "09", NULL}, {P_BODY, "92 d965{78*101} a0", NULL}}},
    {"profile-note-not-utf8", "utf8", {{P_KIND, "09", NULL}, {P_BODY, "92 a0 a1ff", NULL}}},
    {"group-create-name-space",
     "name",
     {{P_KIND, "0a", NULL}, {P_BODY, "92 a8446576205465616d a0", NULL}}},
    {"payload-v1-with-v2-body", "type", {{P_BODY, S_V2_POST("91 " S_PDF), NULL}}},
};

/*  Version 2: the same post by alice with one image attached, and rows
 *  that replace a part of it, signed under version 2's domain. */
static const char *const s_base_parts_v2[P_N] = {
    [P_HEAD] = "99",
    [P_VERSION] = "02",
    [P_ORIGIN] = "c420{paris}",
    [P_SEQ] = "01",
    [P_PREV] = "c420{zero}",
    [P_CLOCK] = "80",
    [P_HLC] = "cf019b76daa8000000",
    [P_AUTHOR] = "a5616c696365",
    [P_KIND] = "01",
    [P_BODY] = S_V2_POST("91 " S_PNG),
};

static const s_bad_payload_t s_bad_payloads_v2[] = {
    {"v2-post-with-v1-body", "type", {{P_BODY, "93 a568656c6c6f 00 c0", NULL}}},
    {"v2-text-empty-without-media", "range", {{P_BODY, "96 a0 00 c0 a0 00 90", NULL}}},
    {"v2-spoiler-501-chars",
     "too_big",
     {{P_BODY, "96 a568656c6c6f 00 c0 da01f5{61*501} 00 90", NULL}}},
    {"v2-sensitive-2", "range", {{P_BODY, "96 a568656c6c6f 00 c0 a0 02 90", NULL}}},
    {"v2-sensitive-bool", "type", {{P_BODY, "96 a568656c6c6f 00 c0 a0 c3 90", NULL}}},
    {"v2-media-nil", "type", {{P_BODY, "96 a568656c6c6f 00 c0 a0 00 c0", NULL}}},
    {"v2-nine-attachments",
     "too_many",
     {{P_BODY, S_V2_POST("99 " S_PDF S_PDF S_PDF S_PDF S_PDF S_PDF S_PDF S_PDF S_PDF), NULL}}},
    {"v2-65535-attachments-cut", "truncated", {{P_BODY, S_V2_POST("dcffff " S_PDF), NULL}}},
    {"v2-descriptor-of-5",
     "type",
     {{P_BODY, S_V2_POST("91 95 " S_HASH_SIZE " {'application/pdf'} {'a.pdf'} a0"), NULL}}},
    {"v2-hash-31-bytes",
     "type",
     {{P_BODY, S_V2_POST("91 96 c41f{11*31} cd0800 {'application/pdf'} {'a.pdf'} a0 c0"), NULL}}},
    {"v2-size-0",
     "range",
     {{P_BODY, S_V2_POST("91 96 c420{11*32} 00 {'application/pdf'} {'a.pdf'} a0 c0"), NULL}}},
    {"v2-size-2-to-the-40",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 c420{11*32} cf0000010000000000 {'application/pdf'} {'a.pdf'} a0 c0"),
       NULL}}},
    {"v2-media-type-uppercase",
     "range",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'Application/pdf'}", "{'a.pdf'}")), NULL}}},
    {"v2-media-type-no-slash",
     "range",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'pdf'}", "{'a.pdf'}")), NULL}}},
    {"v2-media-type-no-subtype",
     "range",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/'}", "{'a.pdf'}")), NULL}}},
    {"v2-media-type-two-slashes",
     "range",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'text/plain/x'}", "{'a.txt'}")), NULL}}},
    {"v2-media-type-subtype-starts-with-dot",
     "range",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/.pdf'}", "{'a.pdf'}")), NULL}}},
    {"v2-media-type-with-parameter",
     "range",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'text/plain;charset=utf-8'}", "{'a.txt'}")), NULL}}},
    {"v2-media-type-128-bytes",
     "too_big",
     {{P_BODY, S_V2_POST("91 " S_FILE("d980{61*128}", "{'a.pdf'}")), NULL}}},
    {"v2-file-name-with-path",
     "name",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/pdf'}", "{'reports/q4.pdf'}")), NULL}}},
    {"v2-file-name-with-backslash",
     "name",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/pdf'}", "a8 715c71342e706466")), NULL}}},
    {"v2-file-name-dot-dot",
     "name",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/pdf'}", "a2 2e2e")), NULL}}},
    {"v2-file-name-newline",
     "name",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/pdf'}", "a6 610a2e706466")), NULL}}},
    {"v2-file-name-not-utf8",
     "utf8",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/pdf'}", "a2 ff41")), NULL}}},
    {"v2-file-name-256-bytes",
     "too_big",
     {{P_BODY, S_V2_POST("91 " S_FILE("{'application/pdf'}", "da0100{61*256}")), NULL}}},
    {"v2-alt-text-1501-chars",
     "too_big",
     {{P_BODY, S_V2_POST("91 96 " S_HASH_SIZE " {'application/pdf'} {'a.pdf'} da05dd{61*1501} c0"),
       NULL}}},
    {"v2-alt-text-nul",
     "utf8",
     {{P_BODY, S_V2_POST("91 96 " S_HASH_SIZE " {'application/pdf'} {'a.pdf'} a3 610062 c0"),
       NULL}}},
    {"v2-image-without-image-type",
     "range",
     {{P_BODY, S_V2_POST("91 96 " S_HASH_SIZE " {'application/pdf'} {'a.pdf'} a0 " S_IMAGE),
       NULL}}},
    {"v2-image-of-8",
     "type",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 98 cd0400 cd0300 c420{12*32} "
                                      "cd012c cca0 78 {'KJG[m^xu00'} 64"),
       NULL}}},
    {"v2-image-width-0",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 00 cd0300 c420{12*32} cd012c "
                                      "cca0 78 {'KJG[m^xu00'} 64 64"),
       NULL}}},
    {"v2-image-height-65536",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 ce00010000 "
                                      "c420{12*32} cd012c cca0 78 {'KJG[m^xu00'} 64 64"),
       NULL}}},
    {"v2-thumb-size-0",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 cd0300 c420{12*32} 00 "
                                      "cca0 78 {'KJG[m^xu00'} 64 64"),
       NULL}}},
    {"v2-focus-201",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 cd0300 c420{12*32} "
                                      "cd012c cca0 78 {'KJG[m^xu00'} ccc9 64"),
       NULL}}},
    {"v2-focus-above-32-bits",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 cd0300 c420{12*32} "
                                      "cd012c cca0 78 {'KJG[m^xu00'} 64 cf0000000100000000"),
       NULL}}},
    {"v2-blurhash-5-chars",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 cd0300 c420{12*32} "
                                      "cd012c cca0 78 {'KJG[m'} 64 64"),
       NULL}}},
    {"v2-blurhash-space",
     "range",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 cd0300 c420{12*32} "
                                      "cd012c cca0 78 {'KJG m^xu00'} 64 64"),
       NULL}}},
    {"v2-blurhash-167-bytes",
     "too_big",
     {{P_BODY,
       S_V2_POST("91 96 " S_HASH_SIZE " {'image/png'} {'a.png'} a0 99 cd0400 cd0300 c420{12*32} "
                                      "cd012c cca0 78 d9a7{30*167} 64 64"),
       NULL}}},
    {"v2-avatar-file",
     "range",
     {{P_KIND, "09", NULL},
      {P_BODY, "94 a0 a0 " S_FILE("{'image/png'}", "{'a.png'}") " c0", NULL}}},
    {"v2-header-not-image", "range", {{P_KIND, "09", NULL}, {P_BODY, "94 a0 a0 c0 " S_PDF, NULL}}},
    {"v2-profile-of-2", "type", {{P_KIND, "09", NULL}, {P_BODY, "92 a0 a0", NULL}}},
    {"v2-edit-empty-text-without-media",
     "range",
     {{P_KIND, "03", NULL}, {P_BODY, "95 92c420{nozay}01 a0 a0 00 90", NULL}}},
    {"v2-profile-with-person",
     "type",
     {{P_KIND, "09", NULL}, {P_BODY, S_V3_PROFILE(S_PERSON), NULL}}},
};

/*  Version 3: a profile by alice with a person, and rows that replace a
 *  part of it, signed under version 3's domain. */
static const char *const s_base_parts_v3[P_N] = {
    [P_HEAD] = "99",
    [P_VERSION] = "03",
    [P_ORIGIN] = "c420{paris}",
    [P_SEQ] = "01",
    [P_PREV] = "c420{zero}",
    [P_CLOCK] = "80",
    [P_HLC] = "cf019b76daa8000000",
    [P_AUTHOR] = "a5616c696365",
    [P_KIND] = "09",
    [P_BODY] = S_V3_PROFILE(S_PERSON),
};

/*  The body of a profile whose person has the parts given, in the order
 *  of S_PERSON_OF; the others as in S_PERSON. */
#define S_V3_ID(id)                                                                                \
    S_V3_PROFILE(S_PERSON_OF(id, S_WORK, S_CONTACT, S_MANAGER, S_SKILLS, S_FIELDS, "00"))
#define S_V3_WORK(work)                                                                            \
    S_V3_PROFILE(S_PERSON_OF(S_ID, work, S_CONTACT, S_MANAGER, S_SKILLS, S_FIELDS, "00"))
#define S_V3_MANAGER(manager)                                                                      \
    S_V3_PROFILE(S_PERSON_OF(S_ID, S_WORK, S_CONTACT, manager, S_SKILLS, S_FIELDS, "00"))
#define S_V3_CONTACT(contact)                                                                      \
    S_V3_PROFILE(S_PERSON_OF(S_ID, S_WORK, contact, S_ID, S_SKILLS, S_FIELDS, "00"))
#define S_V3_SKILLS(skills)                                                                        \
    S_V3_PROFILE(S_PERSON_OF(S_ID, S_WORK, S_CONTACT, S_MANAGER, skills, S_FIELDS, "00"))
#define S_V3_FIELDS(fields)                                                                        \
    S_V3_PROFILE(S_PERSON_OF(S_ID, S_WORK, S_CONTACT, S_MANAGER, S_SKILLS, fields, "00"))
#define S_V3_DEPARTED(departed)                                                                    \
    S_V3_PROFILE(S_PERSON_OF(S_ID, S_WORK, S_CONTACT, S_MANAGER, S_SKILLS, S_FIELDS, departed))
/*  A title not UTF-8, and one-byte strs, 33 of them. */
#define S_BAD_TITLE "a2ff41 {'R&D'} {'Paris'} {'1207'} "
#define S_A8 "a161 a161 a161 a161 a161 a161 a161 a161 "
#define S_A33 S_A8 S_A8 S_A8 S_A8 "a161 "

static const s_bad_payload_t s_bad_payloads_v3[] = {
    {"v3-profile-of-4", "type", {{P_BODY, "94 a0 a0 c0 c0", NULL}}},
    {"v3-post-with-person",
     "type",
     {{P_KIND, "01", NULL}, {P_BODY, "97 a568656c6c6f 00 c0 a0 00 90 " S_PERSON, NULL}}},
    {"v3-person-map", "type", {{P_BODY, S_V3_PROFILE("80"), NULL}}},
    {"v3-person-of-10",
     "type",
     {{P_BODY, S_V3_PROFILE("9a " S_ID S_WORK S_CONTACT S_MANAGER S_SKILLS S_FIELDS), NULL}}},
    {"v3-person-of-12",
     "type",
     {{P_BODY, S_V3_PROFILE("9c " S_ID S_WORK S_CONTACT S_MANAGER S_SKILLS S_FIELDS "00 00"),
       NULL}}},
    {"v3-dir-id-129-bytes", "too_big", {{P_BODY, S_V3_ID("d981{61*129} "), NULL}}},
    {"v3-dir-id-129-bytes-cut", "too_big", {{P_BODY, S_V3_PROFILE("9b d981 {61*20}"), NULL}}},
    {"v3-title-401-bytes",
     "too_big",
     {{P_BODY, S_V3_WORK("da0191{61*401} {'R&D'} {'Paris'} {'1207'} "), NULL}}},
    {"v3-department-401-bytes",
     "too_big",
     {{P_BODY, S_V3_WORK("{'Ing\xc3\xa9nieure'} da0191{61*401} {'Paris'} {'1207'} "), NULL}}},
    {"v3-site-401-bytes",
     "too_big",
     {{P_BODY, S_V3_WORK("{'Ing\xc3\xa9nieure'} {'R&D'} da0191{61*401} {'1207'} "), NULL}}},
    {"v3-office-401-bytes",
     "too_big",
     {{P_BODY, S_V3_WORK("{'Ing\xc3\xa9nieure'} {'R&D'} {'Paris'} da0191{61*401} "), NULL}}},
    {"v3-phone-65-bytes",
     "too_big",
     {{P_BODY, S_V3_CONTACT("d941{31*65} {'alice@example.com'} "), NULL}}},
    {"v3-email-255-bytes",
     "too_big",
     {{P_BODY, S_V3_CONTACT("{'+33 1 40 00 12 07'} d9ff{61*255} "), NULL}}},
    {"v3-manager-129-bytes", "too_big", {{P_BODY, S_V3_MANAGER("d981{61*129} "), NULL}}},
    {"v3-skill-201-bytes", "too_big", {{P_BODY, S_V3_SKILLS("92 {'BGP'} d9c9{61*201} "), NULL}}},
    {"v3-field-name-1021-bytes",
     "too_big",
     {{P_BODY, S_V3_FIELDS("91 92 da03fd{61*1021} {'elle'} "), NULL}}},
    {"v3-field-value-1021-bytes",
     "too_big",
     {{P_BODY, S_V3_FIELDS("91 92 {'Pronoms'} da03fd{61*1021} "), NULL}}},
    {"v3-33-skills", "too_many", {{P_BODY, S_V3_SKILLS("dc0021 " S_A33), NULL}}},
    {"v3-65535-skills-cut", "truncated", {{P_BODY, S_V3_SKILLS("dcffff a161 "), NULL}}},
    {"v3-skill-bin", "type", {{P_BODY, S_V3_SKILLS("92 {'BGP'} c404 49507636 "), NULL}}},
    {"v3-5-fields",
     "too_many",
     {{P_BODY, S_V3_FIELDS("95 92 a161 a0 92 a161 a0 92 a161 a0 92 a161 a0 92 a161 a0 "), NULL}}},
    {"v3-field-of-1", "type", {{P_BODY, S_V3_FIELDS("91 91 {'Pronoms'} "), NULL}}},
    {"v3-field-of-3", "type", {{P_BODY, S_V3_FIELDS("91 93 {'Pronoms'} {'elle'} a0 "), NULL}}},
    {"v3-fields-nil", "type", {{P_BODY, S_V3_FIELDS("c0 "), NULL}}},
    {"v3-departed-2", "range", {{P_BODY, S_V3_DEPARTED("02"), NULL}}},
    {"v3-departed-bool", "type", {{P_BODY, S_V3_DEPARTED("c3"), NULL}}},
    {"v3-departed-noncanonical", "noncanonical", {{P_BODY, S_V3_DEPARTED("cc01"), NULL}}},
    {"v3-title-101-chars",
     "too_big",
     {{P_BODY, S_V3_WORK("d965{61*101} {'R&D'} {'Paris'} {'1207'} "), NULL}}},
    {"v3-office-101-chars",
     "too_big",
     {{P_BODY, S_V3_WORK("{'Ing\xc3\xa9nieure'} {'R&D'} {'Paris'} d965{61*101} "), NULL}}},
    {"v3-skill-51-chars", "too_big", {{P_BODY, S_V3_SKILLS("92 {'BGP'} d933{61*51} "), NULL}}},
    {"v3-field-name-256-chars",
     "too_big",
     {{P_BODY, S_V3_FIELDS("91 92 da0100{61*256} {'elle'} "), NULL}}},
    {"v3-field-value-256-chars",
     "too_big",
     {{P_BODY, S_V3_FIELDS("91 92 {'Pronoms'} da0100{61*256} "), NULL}}},
    {"v3-skill-empty", "range", {{P_BODY, S_V3_SKILLS("92 {'BGP'} a0 "), NULL}}},
    {"v3-field-name-empty", "range", {{P_BODY, S_V3_FIELDS("91 92 a0 {'elle'} "), NULL}}},
    {"v3-dir-id-not-utf8", "utf8", {{P_BODY, S_V3_ID("a2ff41 "), NULL}}},
    {"v3-phone-nul", "utf8", {{P_BODY, S_V3_CONTACT("a3 310032 {'alice@example.com'} "), NULL}}},
    {"v3-email-overlong", "utf8", {{P_BODY, S_V3_CONTACT("{'+33 1 40 00 12 07'} a2c0af "), NULL}}},
    {"v3-manager-surrogate", "utf8", {{P_BODY, S_V3_MANAGER("a3eda080 "), NULL}}},
    {"v3-skill-cut-sequence", "utf8", {{P_BODY, S_V3_SKILLS("92 {'BGP'} a2e282 "), NULL}}},
    {"v3-field-name-not-utf8", "utf8", {{P_BODY, S_V3_FIELDS("91 92 a2ff41 {'elle'} "), NULL}}},
    {"v3-field-value-above-u10ffff",
     "utf8",
     {{P_BODY, S_V3_FIELDS("91 92 {'Pronoms'} a4f4908080 "), NULL}}},
    {"v3-skill-201-bytes-after-bad-title",
     "too_big",
     {{P_BODY,
       S_V3_PROFILE(S_PERSON_OF(S_ID, S_BAD_TITLE, S_CONTACT, S_MANAGER, "92 {'BGP'} d9c9{61*201} ",
                                S_FIELDS, "00")),
       NULL}}},
    {"v3-departed-2-after-bad-dir-id",
     "range",
     {{P_BODY,
       S_V3_PROFILE(S_PERSON_OF("a2ff41 ", S_WORK, S_CONTACT, S_MANAGER, S_SKILLS, S_FIELDS, "02")),
       NULL}}},
    {"v3-bad-title-before-empty-skill",
     "utf8",
     {{P_BODY,
       S_V3_PROFILE(
           S_PERSON_OF(S_ID, S_BAD_TITLE, S_CONTACT, S_MANAGER, "92 {'BGP'} a0 ", S_FIELDS, "00")),
       NULL}}},
    {"v3-display-name-before-person",
     "too_big",
     {{P_BODY,
       "95 d965{78*101} a0 c0 c0 " S_PERSON_OF("a2ff41 ", S_WORK, S_CONTACT, S_MANAGER, S_SKILLS,
                                               S_FIELDS, "00"),
       NULL}}},
};

/*  The payload of row, made from the parts base. */
static void
s_bad_payload(const s_ctx_t *ctx, const char *const *base, const s_bad_payload_t *row,
              ru_buf_t *payload)
{
    for (int part = 0; part < P_N; part++) {
        const s_patch_t *patch = NULL;
        for (int k = 0; k < 2; k++)
            if ((row->patch[k].hex || row->patch[k].fill) && row->patch[k].part == part)
                patch = &row->patch[k];
        if (!patch)
            s_expand(ctx, base[part], payload);
        else if (patch->hex)
            s_expand(ctx, patch->hex, payload);
        else
            patch->fill(ctx, payload);
    }
}

/*  The n rows of bad, made from base and signed under domain. */
static void
s_make_bad_payload_rows(s_ctx_t *ctx, const char *const *base, const char *domain,
                        const s_bad_payload_t *bad, size_t n, json_t *arr)
{
    for (size_t i = 0; i < n; i++) {
        ru_buf_t payload, wire;
        ru_buf_init(&payload);
        ru_buf_init(&wire);
        s_bad_payload(ctx, base, &bad[i], &payload);
        s_sign_pack(ctx, K_PARIS, domain, payload.data, payload.len, &wire);
        if (ru_buf_status(&wire))
            s_die("out of memory");
        s_add_invalid(ctx, arr, bad[i].name, 1, &wire, bad[i].error);
        ru_buf_fini(&payload);
        ru_buf_fini(&wire);
    }
}

static void
s_make_bad_payloads(s_ctx_t *ctx, json_t *arr)
{
    s_make_bad_payload_rows(ctx, s_base_parts, RU_UPDATE_DOMAIN, s_bad_payloads,
                            sizeof s_bad_payloads / sizeof s_bad_payloads[0], arr);
    s_make_bad_payload_rows(ctx, s_base_parts_v2, RU_UPDATE_DOMAIN_V2, s_bad_payloads_v2,
                            sizeof s_bad_payloads_v2 / sizeof s_bad_payloads_v2[0], arr);
    s_make_bad_payload_rows(ctx, s_base_parts_v3, RU_UPDATE_DOMAIN_V3, s_bad_payloads_v3,
                            sizeof s_bad_payloads_v3 / sizeof s_bad_payloads_v3[0], arr);
}

/*  Envelopes: made from the valid envelope of paris-1-post (env) by fns. */
typedef void (*s_env_fn)(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out);

static void
s_env_cut(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    ru_buf_append(out, env->wire, env->wire_len - 1);
}

static void
s_env_trailing(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    ru_buf_append(out, env->wire, env->wire_len);
    ru_buf_append(out, "\xc0", 1);
}

static void
s_env_array3(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    ru_buf_append(out, "\x93", 1);
    ru_buf_append(out, env->wire + 1, env->wire_len - 1);
    ru_buf_append(out, "\xc0", 1);
}

static void
s_env_sig63(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    s_pack_envelope(env->payload, env->payload_len, env->sig, RU_SIG_BYTES - 1, out);
}

static void
s_env_sig_flipped(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    uint8_t sig[RU_SIG_BYTES];
    memcpy(sig, env->sig, RU_SIG_BYTES);
    sig[10] ^= 0x01;
    s_pack_envelope(env->payload, env->payload_len, sig, RU_SIG_BYTES, out);
}

/*  The text's final "!" made "?", the signature kept. */
static void
s_env_tampered(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    ru_buf_t payload;
    ru_buf_init(&payload);
    ru_buf_append(&payload, env->payload, env->payload_len);
    if (ru_buf_status(&payload) || payload.data[payload.len - 3] != '!')
        s_die("paris-1-post does not end as expected");
    payload.data[payload.len - 3] = '?';
    s_pack_envelope(payload.data, payload.len, env->sig, RU_SIG_BYTES, out);
    ru_buf_fini(&payload);
}

/*  paris-1-post's payload with the signature of paris-2-reply. */
static void
s_env_other_sig(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    ru_envelope_t other;
    ru_bytes_t wire = s_envelope(ctx, 2);
    if (ru_envelope_parse(wire.ptr, wire.len, &other))
        s_die("cannot parse paris-2-reply");
    s_pack_envelope(env->payload, env->payload_len, other.sig, RU_SIG_BYTES, out);
}

static void
s_env_other_key(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    s_sign_pack(ctx, K_NOZAY, RU_UPDATE_DOMAIN, env->payload, env->payload_len, out);
}

static void
s_env_no_domain(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    s_sign_pack(ctx, K_PARIS, "", env->payload, env->payload_len, out);
}

/*  The payload of the update row name, signed by paris under domain. */
static void
s_sign_row_under(const s_ctx_t *ctx, const char *name, const char *domain, ru_buf_t *out)
{
    ru_envelope_t env;
    ru_bytes_t wire = s_envelope(ctx, (int) s_row_of(name));
    if (ru_envelope_parse(wire.ptr, wire.len, &env))
        s_die("cannot parse an update row");
    s_sign_pack(ctx, K_PARIS, domain, env.payload, env.payload_len, out);
}

/*  paris-15-post-image's payload, of version 2, signed under version 1's
 *  domain; paris-1-post's, of version 1, under version 2's. */
static void
s_env_v2_under_v1_domain(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) env;
    s_sign_row_under(ctx, "paris-15-post-image", RU_UPDATE_DOMAIN, out);
}

static void
s_env_v1_under_v2_domain(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    s_sign_pack(ctx, K_PARIS, RU_UPDATE_DOMAIN_V2, env->payload, env->payload_len, out);
}

/*  paris-18-profile-person's payload, of version 3, signed under version
 *  2's domain; paris-17-profile-avatar-header's, of version 2, under
 *  version 3's. */
static void
s_env_v3_under_v2_domain(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) env;
    s_sign_row_under(ctx, "paris-18-profile-person", RU_UPDATE_DOMAIN_V2, out);
}

static void
s_env_v2_under_v3_domain(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) env;
    s_sign_row_under(ctx, "paris-17-profile-avatar-header", RU_UPDATE_DOMAIN_V3, out);
}

/*  The signature's S plus the group order L: the same S modulo L, refused
 *  because S must be below L (RFC 8032, 5.1.7). */
static void
s_env_s_plus_l(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    (void) ctx;
    static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,       0xd6,
                                      0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};
    uint8_t sig[RU_SIG_BYTES];
    memcpy(sig, env->sig, RU_SIG_BYTES);
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) { /* little-endian addition */
        carry += (unsigned) sig[32 + i] + order[i];
        sig[32 + i] = (uint8_t) carry;
        carry >>= 8;
    }
    s_pack_envelope(env->payload, env->payload_len, sig, RU_SIG_BYTES, out);
}

/*  A payload one byte over RU_MAX_PAYLOAD: a valid head, then zeros. */
static void
s_env_oversize(const s_ctx_t *ctx, const ru_envelope_t *env, ru_buf_t *out)
{
    ru_buf_t payload;
    ru_buf_init(&payload);
    s_expand(ctx, "99 01 c420{paris} 01 c420{zero}", &payload);
    for (size_t n = payload.len; n < RU_MAX_PAYLOAD + 1; n++)
        ru_buf_append(&payload, "", 1);
    s_pack_envelope(payload.data, payload.len, env->sig, RU_SIG_BYTES, out);
    ru_buf_fini(&payload);
}

static const struct {
    const char *name;
    const char *error;
    const char *hex; /* a template, or NULL to call make */
    s_env_fn make;
} s_bad_envelopes[] = {
    {"envelope-empty", "truncated", "", NULL},
    {"envelope-truncated", "truncated", NULL, s_env_cut},
    {"envelope-trailing-byte", "trailing", NULL, s_env_trailing},
    {"envelope-is-bin", "type", "c403 9901c4", NULL},
    {"envelope-array-of-3", "type", NULL, s_env_array3},
    {"envelope-map", "type", "81 c401 00 c440 {zero}{zero}", NULL},
    {"signature-63-bytes", "type", NULL, s_env_sig63},
    {"signature-str", "type", "92 c402 9901 d940 {61*64}", NULL},
    {"payload-1-byte", "truncated", "92 c401 99 c440 {zero}{zero}", NULL},
    {"payload-cut-in-origin", "truncated", "92 c406 9901c420 0102 c440 {zero}{zero}", NULL},
    {"payload-over-65536-bytes", "too_big", NULL, s_env_oversize},
    {"payload-over-65536-bytes-cut", "too_big", "92 c6 00010001 9901", NULL},
    {"signature-64-bytes-cut", "truncated", "92 c424 9901 c420{paris} c440 {00*10}", NULL},
    {"signature-63-bytes-cut", "truncated", "92 c424 9901 c420{paris} c43f {00*10}", NULL},
    {"signature-bit-flipped", "signature", NULL, s_env_sig_flipped},
    {"payload-tampered", "signature", NULL, s_env_tampered},
    {"signature-of-other-payload", "signature", NULL, s_env_other_sig},
    {"signature-by-other-key", "signature", NULL, s_env_other_key},
    {"signature-without-domain", "signature", NULL, s_env_no_domain},
    {"signature-s-not-reduced", "signature", NULL, s_env_s_plus_l},
    {"v2-signed-under-v1-domain", "signature", NULL, s_env_v2_under_v1_domain},
    {"v1-signed-under-v2-domain", "signature", NULL, s_env_v1_under_v2_domain},
    {"payload-version-4-head", "version", "92 c402 9904 c440 {zero}{zero}", NULL},
    {"v3-signed-under-v2-domain", "signature", NULL, s_env_v3_under_v2_domain},
    {"v2-signed-under-v3-domain", "signature", NULL, s_env_v2_under_v3_domain},
};

static void
s_make_bad_envelopes(s_ctx_t *ctx, json_t *arr)
{
    ru_envelope_t env;
    ru_bytes_t base = s_envelope(ctx, 0);
    if (ru_envelope_parse(base.ptr, base.len, &env))
        s_die("cannot parse paris-1-post");
    for (size_t i = 0; i < sizeof s_bad_envelopes / sizeof s_bad_envelopes[0]; i++) {
        ru_buf_t wire;
        ru_buf_init(&wire);
        if (s_bad_envelopes[i].hex)
            s_expand(ctx, s_bad_envelopes[i].hex, &wire);
        else
            s_bad_envelopes[i].make(ctx, &env, &wire);
        if (ru_buf_status(&wire))
            s_die("out of memory");
        s_add_invalid(ctx, arr, s_bad_envelopes[i].name, 1, &wire, s_bad_envelopes[i].error);
        ru_buf_fini(&wire);
    }
}

/*  Messages: hex templates, or fns for those built from envelopes. */
typedef void (*s_bad_msg_fn)(const s_ctx_t *ctx, ru_buf_t *out);

/*  A batch of RU_MAX_BATCH + 1 copies of paris-3-like. */
static void
s_msg_batch_257(const s_ctx_t *ctx, ru_buf_t *out)
{
    ru_bytes_t like = s_envelope(ctx, 3);
    msgpack_packer pk;
    ru_mp_packer_init(&pk, out);
    s_expand(ctx, "93 01 03", out);
    msgpack_pack_array(&pk, RU_MAX_BATCH + 1);
    for (int i = 0; i < RU_MAX_BATCH + 1; i++)
        ru_buf_append(out, like.ptr, like.len);
}

static void
s_msg_update_cut(const s_ctx_t *ctx, ru_buf_t *out)
{
    ru_bytes_t env = s_envelope(ctx, 0);
    s_expand(ctx, "93 01 01", out);
    ru_buf_append(out, env.ptr, env.len - 1);
}

static void
s_msg_hello_descending(const s_ctx_t *ctx, ru_buf_t *out)
{
    s_expand(ctx, "94 01 02", out);
    s_clock_descending(ctx, out);
    s_expand(ctx, "08", out);
}

static const struct {
    const char *name;
    const char *error;
    const char *hex; /* a template, or NULL to call make */
    s_bad_msg_fn make;
} s_bad_messages[] = {
    {"message-empty", "truncated", "", NULL},
    {"message-not-array", "type", "01", NULL},
    {"message-array-of-1", "type", "91 01", NULL},
    {"message-version-0", "version", "93 00 06 04", NULL},
    {"message-version-2", "version", "93 02 06 04", NULL},
    {"message-version-2-other-shape", "version", "92 02 09", NULL},
    {"message-type-0", "msgtype", "93 01 00 04", NULL},
    {"message-type-10", "msgtype", "93 01 0a 04", NULL},
    {"message-truncated", "truncated", "94 01 02 80", NULL},
    {"message-trailing-byte", "trailing", "93 01 06 04 c0", NULL},
    {"credit-0", "range", "93 01 06 00", NULL},
    {"credit-65", "range", "93 01 06 41", NULL},
    {"credit-noncanonical", "noncanonical", "93 01 06 cc04", NULL},
    {"credit-extra-field", "type", "94 01 06 04 04", NULL},
    {"hello-credit-0", "range", "94 01 02 80 00", NULL},
    {"hello-clock-not-map", "type", "94 01 02 90 04", NULL},
    {"hello-clock-descending", "order", NULL, s_msg_hello_descending},
    {"done-clock-seq-0", "range", "93 01 04 81 c420{paris} 00", NULL},
    {"batch-of-0", "range", "93 01 03 90", NULL},
    {"batch-of-257", "too_many", NULL, s_msg_batch_257},
    {"batch-of-257-cut", "truncated", "93 01 03 dc0101", NULL},
    {"batch-holds-nil", "type", "93 01 03 91 c0", NULL},
    {"heartbeat-digest-31-bytes", "type", "95 01 05 80 00 c41f {00*31}", NULL},
    {"heartbeat-hlc-negative", "type", "95 01 05 80 ff c420 {zero}", NULL},
    {"update-payload-version-4", "version", "93 01 01 92 c402 9904 c440 {zero}{zero}", NULL},
    {"update-envelope-truncated", "truncated", NULL, s_msg_update_cut},
    {"want-credit-0", "range", "95 01 07 c420{11*32} 00 00", NULL},
    {"want-credit-9", "range", "95 01 07 c420{11*32} 00 09", NULL},
    {"want-credit-noncanonical", "noncanonical", "95 01 07 c420{11*32} 00 cc08", NULL},
    {"want-offset-2^40-1", "range", "95 01 07 c420{44*32} cf000000ffffffffff 01", NULL},
    {"want-hash-31-bytes", "type", "95 01 07 c41f{11*31} 00 08", NULL},
    {"want-without-credit", "type", "94 01 07 c420{11*32} 00", NULL},
    {"chunk-past-its-size", "range", "96 01 08 c420{5a*32} 0a 08 c403 616263", NULL},
    {"chunk-offset-equal-to-size", "range", "96 01 08 c420{5a*32} 0a 0a c401 61", NULL},
    {"chunk-size-0", "range", "96 01 08 c420{5a*32} 00 00 c401 61", NULL},
    {"chunk-size-2^40", "range", "96 01 08 c420{5a*32} cf0000010000000000 00 c401 61", NULL},
    {"chunk-data-empty", "range", "96 01 08 c420{5a*32} 0a 00 c400", NULL},
    {"chunk-data-str", "type", "96 01 08 c420{5a*32} 03 00 a3 616263", NULL},
    {"chunk-data-1048577-bytes-cut", "too_big",
     "96 01 08 c420{5a*32} ce00200000 00 c6 00100001 {c3*16}", NULL},
    {"chunk-data-cut", "truncated", "96 01 08 c420{5a*32} 0a 00 c40a 616263", NULL},
    {"lack-hash-31-bytes", "type", "93 01 09 c41f{11*31}", NULL},
    {"lack-trailing-byte", "trailing", "93 01 09 c420{11*32} 00", NULL},
};

static void
s_make_bad_messages(s_ctx_t *ctx, json_t *arr)
{
    for (size_t i = 0; i < sizeof s_bad_messages / sizeof s_bad_messages[0]; i++) {
        ru_buf_t bytes;
        ru_buf_init(&bytes);
        if (s_bad_messages[i].hex)
            s_expand(ctx, s_bad_messages[i].hex, &bytes);
        else
            s_bad_messages[i].make(ctx, &bytes);
        if (ru_buf_status(&bytes))
            s_die("out of memory");
        s_add_invalid(ctx, arr, s_bad_messages[i].name, 0, &bytes, s_bad_messages[i].error);
        ru_buf_fini(&bytes);
    }
}

/*  ---------------------------------------------------------------------
 *  Variants: authentic updates that no honest node makes, for the
 *  sequences
 */

/*  A row of s_updates with another text, or chained to another variant
 *  (its hash is the variant's prev). */
typedef struct {
    const char *name;
    const char *of;         /* the row of s_updates it varies */
    const char *text;       /* NULL: the row's own */
    const char *prev_of;    /* NULL: the row's own prev; else a variant */
    const s_entry_t *clock; /* NULL: the row's own delta */
} s_variant_row_t;

/*  nozay-2's delta names paris 1 again, which nozay-1's delta gave. */
static const s_entry_t s_paris_1_again[3] = {{K_PARIS, 1}};

static const s_variant_row_t s_variants[] = {
    {"paris-1-post-again", "paris-1-post", "Hello again from Paris!", NULL, NULL},
    {"paris-2-reply-after-again", "paris-2-reply", NULL, "paris-1-post-again", NULL},
    {"nozay-2-post-delta-not-raising", "nozay-2-post-direct", NULL, NULL, s_paris_1_again},
};

#define S_N_VARIANTS (sizeof s_variants / sizeof s_variants[0])

/*  The envelope of the update or variant called name; NULL if none. */
static const ru_buf_t *
s_named(const s_ctx_t *ctx, const char *name)
{
    for (size_t i = 0; i < S_N_UPDATES; i++)
        if (strcmp(s_updates[i].name, name) == 0)
            return &ctx->envelopes[i];
    for (size_t i = 0; i < S_N_VARIANTS; i++)
        if (strcmp(s_variants[i].name, name) == 0)
            return &ctx->variants[i];
    return NULL;
}

/*  The hash of the update in wire. */
static void
s_hash(const ru_buf_t *wire, uint8_t *hash)
{
    ru_envelope_t env;
    if (!wire || ru_envelope_parse(wire->data, wire->len, &env) != RU_OK)
        s_die("a variant names no update made before it");
    ru_update_hash(&env, hash);
}

/*  Makes variant i, checks that it opens, appends its vector to arr. */
static ru_err
s_make_variant(s_ctx_t *ctx, size_t i, json_t *arr)
{
    const s_variant_row_t *v = &s_variants[i];
    const s_update_row_t *of = NULL;
    for (size_t r = 0; r < S_N_UPDATES; r++)
        if (strcmp(s_updates[r].name, v->of) == 0)
            of = &s_updates[r];
    if (!of)
        s_die("a variant varies no row");
    s_update_row_t row = *of;
    if (v->text)
        row.text = v->text;
    if (v->clock)
        memcpy(row.clock, v->clock, sizeof row.clock);
    uint8_t prev[RU_HASH_BYTES] = {0};
    for (size_t r = 0; !v->prev_of && r < S_N_UPDATES; r++)
        if (s_updates[r].key == row.key && s_updates[r].seq + 1 == row.seq)
            s_hash(&ctx->envelopes[r], prev);
    if (v->prev_of)
        s_hash(s_named(ctx, v->prev_of), prev);
    ru_update_t u, back;
    ru_update_init(&u);
    ru_update_init(&back);
    ru_envelope_t env;
    ru_err err = s_fill(ctx, &row, prev, &u);
    if (!err)
        err = ru_update_encode(&u, ctx->keys[row.key], &ctx->variants[i]);
    if (!err)
        err = ru_update_open(ctx->variants[i].data, ctx->variants[i].len, &env, &back);
    if (!err)
        json_array_append_new(arr, s_update_json(v->name, s_key_defs[row.key].name, &env, &back));
    else
        (void) fprintf(stderr, "mkvectors: variant %s: %s\n", v->name, ru_err_name(err));
    ru_update_fini(&u);
    ru_update_fini(&back);
    return err;
}

/*  ---------------------------------------------------------------------
 *  Sequences: what a receiving node makes of updates in a given order
 */

typedef struct {
    const char *update; /* a row of s_updates or a variant */
    const char *result; /* "applied", "pending", "duplicate", "fork", "refused" */
    const char *error;  /* the refusal's error */
} s_step_t;

enum { S_MAX_STEPS = 8, S_TRUST_ALL = 7 };

/*  Steps by hand, or the whole of s_updates in order (whole_log 1: each
 *  applied) or in reverse order (-1: each pending but the last, whose
 *  applying wakes every other). */
static const struct {
    const char *name;
    unsigned trust; /* bit k: key k is trusted */
    int whole_log;
    s_step_t steps[S_MAX_STEPS];
} s_sequences[] = {
    {"whole-log-in-order", S_TRUST_ALL, 1, {{0}}},
    {"whole-log-reversed", S_TRUST_ALL, -1, {{0}}},
    {"duplicate",
     S_TRUST_ALL,
     0,
     {{"paris-1-post", "applied", NULL}, {"paris-1-post", "duplicate", NULL}}},
    {"waits-for-its-clock",
     S_TRUST_ALL,
     0,
     {{"nozay-1-post-multibyte", "pending", NULL}, {"paris-1-post", "applied", NULL}}},
    {"relayed-from-an-unknown-origin",
     1u << K_PARIS | 1u << K_NOZAY,
     0,
     {{"paris-1-post", "applied", NULL},
      {"nozay-1-post-multibyte", "applied", NULL},
      {"paris-2-reply", "applied", NULL},
      {"paris-3-like", "applied", NULL},
      {"nozay-2-post-direct", "applied", NULL},
      {"paris-4-group-create", "applied", NULL},
      {"murray-hill-1-post", "refused", "untrusted"},
      {"paris-5-group-join", "pending", NULL}}},
    {"fork",
     S_TRUST_ALL,
     0,
     {{"paris-1-post", "applied", NULL},
      {"paris-1-post-again", "fork", NULL},
      {"paris-1-post-again", "duplicate", NULL},
      {"nozay-1-post-multibyte", "applied", NULL},
      {"paris-2-reply", "pending", NULL},
      {"nozay-2-post-direct", "pending", NULL}}},
    {"chain-broken-by-a-fork",
     S_TRUST_ALL,
     0,
     {{"paris-1-post", "applied", NULL},
      {"nozay-1-post-multibyte", "applied", NULL},
      {"paris-2-reply-after-again", "fork", NULL},
      {"paris-2-reply", "duplicate", NULL},
      {"paris-3-like", "pending", NULL}}},
    {"delta-that-does-not-raise",
     S_TRUST_ALL,
     0,
     {{"paris-1-post", "applied", NULL},
      {"nozay-1-post-multibyte", "applied", NULL},
      {"nozay-2-post-delta-not-raising", "refused", "range"}}},
};

/*  Step i of sequence q; NULL past its last. */
static const s_step_t *
s_step(size_t q, size_t i, s_step_t *whole)
{
    int dir = s_sequences[q].whole_log;
    if (!dir)
        return i < S_MAX_STEPS && s_sequences[q].steps[i].update ? &s_sequences[q].steps[i]
                                                                  : NULL;
    if (i >= S_N_UPDATES)
        return NULL;
    int last = i + 1 == S_N_UPDATES;
    whole->update = s_updates[dir > 0 ? i : S_N_UPDATES - 1 - i].name;
    whole->result = dir > 0 || last ? "applied" : "pending";
    whole->error = NULL;
    return whole;
}

static int
s_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/*  Feeds one step to node; appends its vector to steps. */
static int
s_run_step(s_ctx_t *ctx, vec_node_t *node, const s_step_t *step, json_t *steps)
{
    const ru_buf_t *wire = s_named(ctx, step->update);
    vec_outcome_t out;
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES];
    if (!wire || vec_node_feed(node, wire->data, wire->len, &out) != RU_OK ||
        vec_node_state(node, &clock, digest) != RU_OK)
        s_die("cannot feed a sequence's node");
    int ok = s_same(out.result, step->result) && s_same(out.error, step->error);
    if (!ok)
        (void) fprintf(stderr, "mkvectors: %s: %s %s, not %s %s\n", step->update, out.result,
                       out.error ? out.error : "", step->result, step->error ? step->error : "");
    json_t *j = json_pack("{s:s,s:s,s:o}", "update", step->update, "result", out.result, "clock",
                          vec_json_from_clock(&clock));
    if (out.error)
        json_object_set_new(j, "error", json_string(out.error));
    json_array_append_new(steps, j);
    ru_clock_fini(&clock);
    return ok;
}

/*  Runs sequence q on a fresh node; appends its vector to arr. */
static ru_err
s_make_sequence(s_ctx_t *ctx, size_t q, json_t *arr)
{
    uint8_t trust[S_KEYS][RU_KEY_BYTES];
    json_t *names = json_array(), *steps = json_array();
    int n = 0, ok = 1;
    for (int k = 0; k < S_KEYS; k++)
        if (s_sequences[q].trust & 1u << k) {
            memcpy(trust[n++], s_pub(ctx, k), RU_KEY_BYTES);
            json_array_append_new(names, json_string(s_key_defs[k].name));
        }
    vec_node_t node;
    if (vec_node_open(&node, (const uint8_t(*)[RU_KEY_BYTES]) trust, n) != 0)
        s_die("cannot open a sequence's node");
    s_step_t whole;
    const s_step_t *step;
    for (size_t i = 0; (step = s_step(q, i, &whole)) != NULL; i++)
        ok &= s_run_step(ctx, &node, step, steps);
    ru_clock_t clock;
    ru_clock_init(&clock);
    uint8_t digest[RU_HASH_BYTES];
    if (vec_node_state(&node, &clock, digest) != RU_OK)
        s_die("cannot read a sequence's node");
    json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:o}", "name", s_sequences[q].name, "trust",
                                         names, "steps", steps, "digest",
                                         vec_json_hex(digest, RU_HASH_BYTES)));
    ru_clock_fini(&clock);
    vec_node_close(&node);
    if (!ok)
        (void) fprintf(stderr, "mkvectors: sequence %s: a step did not do as its row says\n",
                       s_sequences[q].name);
    return ok ? RU_OK : RU_E_INVALID;
}

/*  ---------------------------------------------------------------------
 *  The file
 */

static json_t *
s_make_keys(s_ctx_t *ctx)
{
    json_t *arr = json_array();
    for (int k = 0; k < S_KEYS; k++) {
        uint8_t seed[RU_SEED_BYTES];
        for (int i = 0; i < RU_SEED_BYTES; i++)
            seed[i] = (uint8_t) (s_key_defs[k].first + i);
        if (ru_key_from_seed(seed, &ctx->keys[k]))
            s_die("cannot make a key");
        char text[RU_KEY_TEXT_SIZE];
        ru_b64_encode(text, s_pub(ctx, k), RU_KEY_BYTES);
        json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:s}", "name", s_key_defs[k].name,
                                             "seed", vec_json_hex(seed, RU_SEED_BYTES), "public",
                                             vec_json_hex(s_pub(ctx, k), RU_KEY_BYTES),
                                             "public_text", text));
    }
    return arr;
}

static json_t *
s_make_file(s_ctx_t *ctx)
{
    json_t *root =
        json_pack("{s:i,s:s,s:s,s:s}", "version", RU_PROTO_VERSION, "domain", RU_UPDATE_DOMAIN,
                  "domain_v2", RU_UPDATE_DOMAIN_V2, "domain_v3", RU_UPDATE_DOMAIN_V3);
    json_t *updates = json_array(), *messages = json_array(), *invalid = json_array();
    json_t *variants = json_array(), *sequences = json_array();
    json_object_set_new(root, "keys", s_make_keys(ctx));
    for (size_t i = 0; !ctx->failed && i < S_N_UPDATES; i++)
        if (s_make_update(ctx, i, updates))
            ctx->failed = 1;
    for (size_t i = 0; !ctx->failed && i < sizeof s_messages / sizeof s_messages[0]; i++)
        if (s_make_message(ctx, i, messages))
            ctx->failed = 1;
    for (size_t i = 0; !ctx->failed && i < S_N_VARIANTS; i++)
        if (s_make_variant(ctx, i, variants))
            ctx->failed = 1;
    for (size_t i = 0; !ctx->failed && i < sizeof s_sequences / sizeof s_sequences[0]; i++)
        if (s_make_sequence(ctx, i, sequences))
            ctx->failed = 1;
    if (!ctx->failed) {
        s_make_bad_envelopes(ctx, invalid);
        s_make_bad_payloads(ctx, invalid);
        s_make_bad_messages(ctx, invalid);
    }
    json_object_set_new(root, "updates", updates);
    json_object_set_new(root, "messages", messages);
    json_object_set_new(root, "invalid", invalid);
    json_object_set_new(root, "variants", variants);
    json_object_set_new(root, "sequences", sequences);
    return root;
}

int
main(void)
{
    static s_ctx_t ctx;
    if (S_N_UPDATES > S_MAX_UPDATES || S_N_VARIANTS > S_MAX_UPDATES || sodium_init() < 0)
        s_die("cannot start");
    for (size_t i = 0; i < S_BEES; i++)
        memcpy(ctx.bees + 4 * i, S_BEE, 4);
    for (size_t i = 0; i < RU_MAX_EMAIL; i++)
        ctx.hex[i] = "0123456789abcdef"[i % 16];
    for (size_t i = 0; i < S_MAX_UPDATES; i++) {
        ru_buf_init(&ctx.envelopes[i]);
        ru_buf_init(&ctx.variants[i]);
    }
    json_t *root = s_make_file(&ctx);
    if (!ctx.failed && json_dumpf(root, stdout, JSON_INDENT(1)) == 0)
        (void) fputc('\n', stdout);
    else
        ctx.failed = 1;
    json_decref(root);
    for (size_t i = 0; i < S_MAX_UPDATES; i++) {
        ru_buf_fini(&ctx.envelopes[i]);
        ru_buf_fini(&ctx.variants[i]);
    }
    for (int k = 0; k < S_KEYS; k++)
        ru_key_destroy(&ctx.keys[k]);
    return ctx.failed || fflush(stdout) != 0;
}
