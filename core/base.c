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

bool rs_hex16_parse(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else {
            return false;
        }
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}
