/*  ru_hostlist.h - a list of host names and patterns, as [cards]
 *  allowed_hosts writes it: which hosts the node may fetch link previews
 *  from.
 *
 *  The list is words separated by white space. A word is a host name
 *  ("wiki.corp.example", "127.0.0.1"), which matches that host alone, or
 *  "*." and a suffix ("*.corp.example"), which matches every host below
 *  the suffix ("a.corp.example", "b.a.corp.example") but not the suffix
 *  itself; an IPv6 address is written in brackets ("[::1]"), as in a URL.
 *  Names compare without regard to ASCII case, and a host's trailing dot
 *  ("wiki.corp.example.") is not part of its name. No port: a host is
 *  allowed on every port.
 *
 *  Pure functions of their arguments; any thread.
 */
#ifndef RU_HOSTLIST_H
#define RU_HOSTLIST_H

#include <stddef.h>

/*  Checks every word of list. Returns 1 when each is a host name, a
 *  pattern or a bracketed address; else 0, with *bad and *bad_len naming
 *  the first word that is not. */
int ru_hostlist_check(const char *list, const char **bad, size_t *bad_len);

/*  Does a word of list match host (as a URL names it)? An empty list
 *  matches nothing. */
int ru_hostlist_match(const char *list, const char *host);

#endif
