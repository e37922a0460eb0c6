/*  ru_error.h - the one error type of ruche.
 *
 *  Every function that can fail returns an ru_err and hands its results back
 *  through out-parameters. The codes and their messages come from one list
 *  (RU_ERRORS below), so a new error is one new line and can never lack a
 *  message. Codes are stable: tests and the protocol test vectors name them
 *  by their symbolic name (ru_err_name), users see ru_err_str.
 *
 *  errno, LMDB and ZeroMQ codes are translated into these where they occur
 *  and logged there, once.
 */
#ifndef RU_ERROR_H
#define RU_ERROR_H

#define RU_MUST_CHECK __attribute__((warn_unused_result))

/*  X(symbol, name used in test vectors, message for people) */
#define RU_ERRORS(X)                                                                   \
    X(RU_OK, "ok", "success")                                                          \
    X(RU_E_NOMEM, "nomem", "out of memory")                                            \
    X(RU_E_TRUNCATED, "truncated", "data ends before the message does")                \
    X(RU_E_TRAILING, "trailing", "unexpected bytes after the end of the message")      \
    X(RU_E_TYPE, "type", "a field has the wrong type")                                 \
    X(RU_E_NONCANONICAL, "noncanonical", "a value is not in its shortest encoding")    \
    X(RU_E_VERSION, "version", "unknown protocol version")                             \
    X(RU_E_MSGTYPE, "msgtype", "unknown message type")                                 \
    X(RU_E_KIND, "kind", "unknown update kind")                                        \
    X(RU_E_TOO_BIG, "too_big", "a field or message is larger than the protocol allows") \
    X(RU_E_TOO_MANY, "too_many", "more entries than the protocol allows")              \
    X(RU_E_RANGE, "range", "a value is out of its allowed range")                      \
    X(RU_E_ORDER, "order", "clock entries are not in strictly ascending origin order") \
    X(RU_E_UTF8, "utf8", "text is not valid UTF-8")                                    \
    X(RU_E_NAME, "name", "a name holds characters that are not allowed")               \
    X(RU_E_SIGNATURE, "signature", "the signature does not verify")                    \
    X(RU_E_SKEW, "skew", "a remote time is too far in the future")                     \
    X(RU_E_TEXT_FORM, "text_form", "malformed key or id text")                         \
    X(RU_E_IO, "io", "input/output error")                                             \
    X(RU_E_EXISTS, "exists", "the file already exists")                                \
    X(RU_E_NOT_FOUND, "not_found", "not found")                                        \
    X(RU_E_KEY_MODE, "key_mode", "the key file is readable by others than its owner")  \
    X(RU_E_KEY_FILE, "key_file", "the key file is malformed")                          \
    X(RU_E_UNTRUSTED, "untrusted", "the update's origin is not a trusted site")          \
    X(RU_E_FORK, "fork", "two different updates carry the same origin and seq")      \
    X(RU_E_CHAIN, "chain", "the update's prev hash does not match the origin's log")   \
    X(RU_E_RECOVERING, "recovering",                                                     \
      "this site is fetching its own updates back from its peers; try again shortly")   \
    X(RU_E_PENDING_FULL, "pending_full",                                                 \
      "too many updates wait for their dependencies here: refused until some apply")     \
    X(RU_E_STORE, "store", "the store reported an error")                            \
    X(RU_E_STORE_FULL, "store_full", "the store has reached its configured size limit") \
    X(RU_E_DISK_FULL, "disk_full", "no space left on the disk holding the store")      \
    X(RU_E_SCHEMA, "schema", "the store was written by an incompatible version")       \
    X(RU_E_BLOB_HASH, "blob_hash", "the bytes do not match their hash")               \
    X(RU_E_BLOB_SIZE, "blob_size", "the bytes are not as many as announced")          \
    X(RU_E_QUOTA, "quota", "this site's storage quota for files is full")            \
    X(RU_E_MEDIA_TYPE, "media_type",                                                     \
      "the file is not an image of a type this site reads (JPEG, PNG, WebP or GIF)")    \
    X(RU_E_MEDIA_CORRUPT, "media_corrupt", "the image is damaged or incomplete")         \
    X(RU_E_MEDIA_DIMENSIONS, "media_dimensions",                                         \
      "the image is wider, taller or holds more pixels than this site accepts")         \
    X(RU_E_DIRECTORY, "directory",                                                       \
      "The company directory cannot be reached; try again later.")                       \
    X(RU_E_DENIED, "denied", "this account may not sign in at this site")               \
    X(RU_E_ENTRY, "entry",                                                               \
      "the company directory's entry for this account cannot be used: ask the site's "   \
      "administrators")                                                                  \
    X(RU_E_INVALID, "invalid", "invalid argument")

typedef enum {
#define RU_ERR_ENUM(sym, name, msg) sym,
    RU_ERRORS(RU_ERR_ENUM)
#undef RU_ERR_ENUM
        RU_ERR_COUNT
} ru_err;

/*  Message for people, e.g. "the signature does not verify". Never NULL. */
const char *ru_err_str(ru_err err);

/*  Short stable name, e.g. "signature", as used in the test vectors. */
const char *ru_err_name(ru_err err);

#endif
