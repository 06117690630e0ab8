/* console.h - the console's entry point (SPEC §3), a front-end of the core.
 * main() hands it to the command line as the `console` command. */
#ifndef HD_CONSOLE_H
#define HD_CONSOLE_H

#include "hd_config.h"

/* Runs the console until the operator quits; argv starts after "console"
 * (its own options, e.g. --no-deliver).  Returns the process exit code. */
int console_main(const config *cfg, int argc, char **argv);

/* ======================================================================
 * Taking data out, the resend chain and the site picker (issue #11:
 * "what operators missed" 4, 5, 6).  Used inside ui/ only; kept here, in
 * one block, so that they stay apart from the shared types of ui.h.
 * ====================================================================== */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_message.h"

struct app;

/* export.c: one piece of a message the operator takes out of the detail,
 * the payload or one attempt's response body (never request headers:
 * nothing of a site's secrets goes out). */
typedef struct export_item {
    char what[96];           /* for messages: "the payload of #12" */
    const char *data;        /* the bytes as stored (a body may hold NULs) */
    size_t len;              /* bytes in data */
    bool json;               /* the payload: pretty-printed for the pager */
    char name[64];           /* the file name `s` suggests */
} export_item;

#define EXPORT_CLIPBOARD_MAX (74 * 1024)   /* bytes: ~100 KB of OSC 52 base64,
                                              what terminals take in one go */

/* y: onto the terminal's clipboard (OSC 52), saying what and how big. */
void export_copy(struct app *a, const export_item *it);
/* v: into $PAGER (less when unset), the console suspended meanwhile; text
 * made inert (sanitised), a payload pretty-printed. */
void export_pager(struct app *a, const export_item *it);
/* s: asks for a path, asks again before overwriting, writes the bytes as
 * stored to a new file of mode 0600 (renamed into place). */
void export_save(struct app *a, const export_item *it);
/* The saving itself (export_save's prompt; tests): HD_OK or why not. */
hd_status export_write_file(const char *path, const char *data, size_t len, hd_error *err);

/* chain.c, for view_logs.c's rows: after the Status cell of a message that
 * was resent, a mark ("↻", "*" without UTF-8) at column x. */
void logs_draw_resent_mark(const struct app *a, const message *m, int y, int x, bool selected);

/* picker.c, for prompt.c and view_logs.c: the site picker of the `f`
 * prompt.  site_picker_attach after ui_prompt makes that prompt complete
 * site names (Tab) and open a list of them (Tab again); prompt_key hands
 * it every key first (true: taken), prompt_draw lets it draw its list. */
void site_picker_attach(struct app *a);
bool site_picker_key(struct app *a, int key);
void site_picker_draw(struct app *a);

#endif
