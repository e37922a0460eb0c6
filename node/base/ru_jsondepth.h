/*  ru_jsondepth.h - how deep a JSON text nests, told from its bytes alone.
 *
 *  jansson parses by recursion, one call per level: a small text nested
 *  deep enough ("[[[[..." 360 deep in a 720-byte body) overflows a
 *  thread's stack long before any size limit applies. Every JSON text
 *  that comes from a client (a request body, a WebSocket message) is
 *  scanned here first, in one pass without recursion or allocation, and
 *  refused when its arrays and objects nest deeper than the limit
 *  ([http] max_json_depth). The scan knows strings (brackets inside them
 *  do not count, escapes included) and nothing else: whether the text is
 *  valid JSON is the parser's business afterwards.
 */
#ifndef RU_JSONDEPTH_H
#define RU_JSONDEPTH_H

#include <stddef.h>

/*  The deepest nesting of arrays and objects in len bytes of text (0 for
 *  a scalar), counting no further than max + 1: a result above max means
 *  too deep. */
long ru_jsondepth(const char *text, size_t len, long max);

#endif
