/* error.c - hd_error: messages that say what, where and why. */
#include "hd_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const int status_exit_code[] = {
#define HD_STATUS_EXIT(name, exitcode) exitcode,
    HD_STATUS_LIST(HD_STATUS_EXIT)
#undef HD_STATUS_EXIT
};

hd_status hd_error_set(hd_error *err, hd_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        err->field[0] = '\0';
    }
    return code;
}

hd_status hd_error_field(hd_error *err, hd_status code, const char *field, const char *fmt, ...)
{
    if (err) {
        /* "field: " then the text; truncation keeps it one line. */
        int n = snprintf(err->msg, sizeof err->msg, "%s: ", field);
        size_t at = n > 0 && (size_t)n < sizeof err->msg ? (size_t)n : 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg + at, sizeof err->msg - at, fmt, ap);
        va_end(ap);
        snprintf(err->field, sizeof err->field, "%s", field);
        err->code = code;
    }
    return code;
}

hd_status hd_error_prefix(hd_error *err, const char *fmt, ...)
{
    if (!err)
        return HD_INTERNAL;
    char prefix[sizeof err->msg];
    char old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is acceptable: the message is for people and stays one line. */
    size_t plen = strnlen(prefix, sizeof prefix - 1);
    memcpy(err->msg, prefix, plen);
    size_t room = sizeof err->msg - plen - 1;
    size_t olen = strnlen(old, room);
    memcpy(err->msg + plen, old, olen);
    err->msg[plen + olen] = '\0';
    return err->code;
}

void hd_error_clear(hd_error *err)
{
    if (err) {
        err->code = HD_OK;
        err->field[0] = '\0';
        err->msg[0] = '\0';
    }
}

int hd_status_exit_code(hd_status code)
{
    if ((size_t)code >= sizeof status_exit_code / sizeof status_exit_code[0])
        return 1;
    return status_exit_code[code];
}
