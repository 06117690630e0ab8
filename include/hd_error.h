/* hd_error.h - error reporting shared by every core module.
 *
 * A failing function returns an hd_status other than HD_OK and, when the
 * caller passed an hd_error, fills it with a message that says what failed,
 * where (file:line:col, field, table) and why.  The core never prints and
 * never exits: the CLI and the console decide how to show an error.
 */
#ifndef HD_ERROR_H
#define HD_ERROR_H

#include <stddef.h>

/* One list, from which the enum and the exit codes are generated: the
 * second column is the process exit code the CLI uses for it (SPEC §4). */
#define HD_STATUS_LIST(_)                                   \
    _(OK,        0)     /* no error */                      \
    _(INVALID,   2)     /* invalid input */                 \
    _(USAGE,     2)     /* bad usage */                     \
    _(CONFIG,    2)     /* bad configuration */             \
    _(NOT_FOUND, 1)     /* not found */                     \
    _(EXISTS,    1)     /* already exists */                \
    _(CHANGED,   1)     /* changed by another since read */ \
    _(DB,        1)     /* database error */                \
    _(BUSY,      1)     /* locked by another: try again */  \
    _(IO,        1)     /* input/output error */            \
    _(NET,       1)     /* network error */                 \
    _(NOMEM,     1)     /* out of memory */                 \
    _(INTERNAL,  1)     /* internal error */

typedef enum hd_status {
#define HD_STATUS_ENUM(name, exitcode) HD_##name,
    HD_STATUS_LIST(HD_STATUS_ENUM)
#undef HD_STATUS_ENUM
} hd_status;

typedef struct hd_error {
    hd_status code;     /* what kind of failure; HD_OK when none */
    char field[64];     /* the input field it is about ("url", "auth.region",
                           "auth_secret"), "" when none: where a front-end
                           shows the message, never parsed back from msg */
    char msg[1024];     /* "where: what: why", one line, no trailing newline */
} hd_error;

/* Record an error; returns code so callers can write `return hd_error_set(...)`.
 * err may be NULL (the message is then dropped). */
hd_status hd_error_set(hd_error *err, hd_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A validation error about one field: sets err->field and writes the
 * message as "field: " + the text, so that it reads the same everywhere. */
hd_status hd_error_field(hd_error *err, hd_status code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix an existing message with more context ("sites add: " + msg). */
hd_status hd_error_prefix(hd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void hd_error_clear(hd_error *err);
int hd_status_exit_code(hd_status code);

#endif
