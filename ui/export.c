/* export.c - taking a payload or a response body out of the detail: onto
 * the terminal's clipboard (y), into $PAGER (v), into a file (s).
 *
 * DESIGN
 * Runs on the UI thread.  The clipboard is OSC 52 (term_clipboard): no X,
 * no helper program, and it crosses ssh and tmux.  The pager runs with the
 * console suspended (term_suspend: def_prog_mode + endwin), fed through a
 * pipe; the engine thread keeps delivering meanwhile, and the loop
 * re-queries everything once the pager ends.  Saving writes a fresh file
 * of mode 0600 next to the target and renames it into place, so a file is
 * never half-written and never readable by others, whatever the umask or
 * the mode of a file it replaces.  What goes out is only what the detail
 * shows: payloads and bodies, never a site's secrets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "hd_duration.h"
#include "hd_json.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

/* "1234 bytes" or "1.2 KiB (1234 bytes)": how big, in words. */
static void size_said(size_t len, char *out, size_t outlen)
{
    char sz[32];
    size_format(len, sz, sizeof sz);
    if (len < 1024)
        snprintf(out, outlen, "%zu byte%s", len, len == 1 ? "" : "s");
    else
        snprintf(out, outlen, "%s, %zu bytes", sz, len);
}

/* ---- y: the clipboard ---- */

void export_copy(app *a, const export_item *it)
{
    char size[64];
    size_said(it->len, size, sizeof size);
    if (it->len == 0) {
        ui_flash(a, true, "%s is empty: nothing copied", it->what);
        return;
    }
    if (it->len > EXPORT_CLIPBOARD_MAX) {
        ui_flash(a, true, "%s (%s) is too big for the clipboard (max %d KiB): s saves it",
                 it->what, size, EXPORT_CLIPBOARD_MAX / 1024);
        return;
    }
    if (!term_clipboard(it->data, it->len)) {
        const char *term = getenv("TERM");
        ui_flash(a, true, "TERM=%s takes no clipboard (OSC 52): nothing copied; s saves "
                 "to a file, v opens $PAGER", term ? term : "");
        return;
    }
    ui_flash(a, false, "copied %s (%s) to the clipboard (OSC 52)", it->what, size);
}

/* ---- v: the pager ---- */

/* The text the pager shows: inert (no escape sequence from a stranger
 * reaches the terminal, whatever the pager), a payload pretty-printed. */
static char *pager_text(const export_item *it)
{
    char *pretty = it->json ? json_pretty(it->data, it->len) : NULL;
    hd_buf b = { 0 };
    sanitize_append(&b, pretty ? pretty : it->data, pretty ? strlen(pretty) : it->len,
                    SANITIZE_KEEP_NEWLINES | SANITIZE_KEEP_TABS);
    free(pretty);
    if (b.len == 0 || hd_buf_str(&b)[b.len - 1] != '\n')
        hd_buf_putc(&b, '\n');
    return hd_buf_steal(&b);
}

void export_pager(app *a, const export_item *it)
{
    const char *pager = getenv("PAGER");
    if (!pager || !*pager)
        pager = "less";
    char *text = pager_text(it);
    term_suspend();
    /* popen runs it with sh -c, as every program runs $PAGER ("less -R"). */
    FILE *p = popen(pager, "w");
    int status = -1;
    if (p) {
        fwrite(text, 1, strlen(text), p);   /* a pager that quits early: EPIPE, ignored */
        status = pclose(p);
    }
    int saved = errno;
    term_resume();
    free(text);
    a->need_refresh = true;
    if (!p)
        ui_flash(a, true, "cannot run $PAGER (%s): %s", pager, strerror(saved));
    else if (status != 0)
        ui_flash(a, true, "$PAGER (%s) ended with status %d", pager,
                 WIFEXITED(status) ? WEXITSTATUS(status) : status);
    else
        ui_flash(a, false, "showed %s in %s", it->what, pager);
}

/* ---- s: a file ---- */

hd_status export_write_file(const char *path, const char *data, size_t len, hd_error *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return hd_error_set(err, HD_INVALID, "cannot save to %s: it is a directory", path);
    char *tmp = hd_xasprintf("%s.XXXXXX", path);
    int fd = mkstemp(tmp);   /* mode 0600 */
    if (fd < 0) {
        hd_status rc = hd_error_set(err, HD_IO, "cannot save to %s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    int werr = off < len ? errno : 0;
    if (close(fd) != 0 && !werr)
        werr = errno;
    if (!werr && rename(tmp, path) != 0)
        werr = errno;
    hd_status rc = HD_OK;
    if (werr) {
        unlink(tmp);
        rc = hd_error_set(err, HD_IO, "cannot save to %s: %s", path, strerror(werr));
    }
    free(tmp);
    return rc;
}

/* What `s` is saving while its prompt and question are open. */
static struct {
    export_item it;          /* it.data points at data */
    char *data;              /* a copy: the detail may be rebuilt meanwhile */
    char path[1024];         /* the answer to the prompt */
} pending_save;

static void save_now(app *a, int64_t unused)
{
    (void)unused;
    hd_error err = { 0 };
    if (export_write_file(pending_save.path, pending_save.data, pending_save.it.len, &err) !=
        HD_OK) {
        ui_flash(a, true, "%s", err.msg);
        return;
    }
    char size[64];
    size_said(pending_save.it.len, size, sizeof size);
    ui_flash(a, false, "saved %s (%s) to %s (mode 0600)", pending_save.it.what, size,
             pending_save.path);
}

/* "~/x" is the operator's home, as in a shell. */
static void expand_home(const char *text, char *out, size_t outlen)
{
    const char *home = getenv("HOME");
    if (text[0] == '~' && text[1] == '/' && home && *home)
        snprintf(out, outlen, "%s%s", home, text + 1);
    else
        snprintf(out, outlen, "%s", text);
}

static void on_save_path(app *a, const char *text)
{
    if (!*text) {
        ui_flash(a, false, "not saved: no file given");
        return;
    }
    expand_home(text, pending_save.path, sizeof pending_save.path);
    struct stat sb;
    if (lstat(pending_save.path, &sb) == 0 && !S_ISDIR(sb.st_mode))
        ui_confirm(a, save_now, 0, "%s exists: overwrite it?", pending_save.path);
    else
        save_now(a, 0);
}

void export_save(app *a, const export_item *it)
{
    free(pending_save.data);
    pending_save.it = *it;
    pending_save.data = hd_xmalloc(it->len + 1);
    memcpy(pending_save.data, it->data, it->len);
    pending_save.data[it->len] = '\0';
    pending_save.it.data = pending_save.data;
    char label[160];
    snprintf(label, sizeof label, "Save %s to: ", it->what);
    ui_prompt(a, label, it->name, on_save_path);
}
