/*  ru_jsondepth.c - the nesting depth of a JSON text (see ru_jsondepth.h).
 *
 *  A loop over the bytes with one counter and one flag for "inside a
 *  string": an opening bracket or brace outside a string goes one level
 *  down, a closing one comes back up; a backslash inside a string skips
 *  the byte after it, so that "\"" and "\\" end or do not end the string
 *  as they should. Unbalanced text is not this scan's concern.
 */
#include "ru_jsondepth.h"

long
ru_jsondepth(const char *text, size_t len, long max)
{
    long depth = 0, deepest = 0;
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"')
            in_string = 1;
        else if (c == '[' || c == '{') {
            if (++depth > deepest && (deepest = depth) > max)
                return deepest; /* no need to read further */
        } else if ((c == ']' || c == '}') && depth > 0)
            depth--;
    }
    return deepest;
}
