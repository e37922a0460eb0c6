/*  ru_hash.h - the hash of the node's in-memory tables (the cache of
 *  answers, an event's payloads by viewer, the streaming hub's trios).
 *
 *  Their keys come from clients (a request's path and query, a tag, a
 *  user name), so an unkeyed hash would let a client choose keys that all
 *  land in one slot and turn every lookup into a walk of them all, under
 *  a lock the event loop takes. This one is SipHash (libsodium's
 *  crypto_shorthash) under a key drawn at random once per process: no
 *  client can aim a collision. Any thread.
 */
#ifndef RU_HASH_H
#define RU_HASH_H

#include <stddef.h>
#include <stdint.h>

/*  The hash of len bytes. */
uint64_t ru_hash(const void *bytes, size_t len);
/*  The hash of a C string, its NUL excluded. */
uint64_t ru_hash_str(const char *s);

#endif
