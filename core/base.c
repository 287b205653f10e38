/* Names and messages of the engine's error codes. */
#include "core/base.h"

static const char *const err_names[] = {
#define RS_ERR_NAME(name, msg) #name,
    RS_ERRNO_MAP(RS_ERR_NAME)
#undef RS_ERR_NAME
};

static const char *const err_messages[] = {
#define RS_ERR_MSG(name, msg) msg,
    RS_ERRNO_MAP(RS_ERR_MSG)
#undef RS_ERR_MSG
};

const char *rs_err_name(enum rs_err err)
{
    if ((unsigned)err >= RS_E_COUNT) {
        return "UNKNOWN";
    }
    return err_names[err];
}

const char *rs_err_message(enum rs_err err)
{
    if ((unsigned)err >= RS_E_COUNT) {
        return "unknown error";
    }
    return err_messages[err];
}
