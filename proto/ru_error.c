/*  ru_error.c - names and messages of the ru_err codes, from the one list in
 *  ru_error.h.
 */
#include "ruche/ru_error.h"

#define RU_ERR_NAME(sym, name, msg) [sym] = (name),
#define RU_ERR_MSG(sym, name, msg) [sym] = (msg),
static const char *const s_names[RU_ERR_COUNT] = {RU_ERRORS(RU_ERR_NAME)};
static const char *const s_msgs[RU_ERR_COUNT] = {RU_ERRORS(RU_ERR_MSG)};

const char *
ru_err_str(ru_err err)
{
    if ((unsigned) err >= RU_ERR_COUNT)
        return "unknown error";
    return s_msgs[err];
}

const char *
ru_err_name(ru_err err)
{
    if ((unsigned) err >= RU_ERR_COUNT)
        return "unknown";
    return s_names[err];
}
