/* chain.c - the resend chain in the Logs list: a message that was resent
 * (store_messages_page fills message.resent_as) shows a mark after its
 * status; the detail (view_detail.c) shows the chain as links.  A file of
 * its own so that view_logs.c calls no other view (the detail calls Logs'
 * ui_ask_resend: the other way round would be a circle). */
#include "console.h"
#include "term.h"
#include "ui.h"

void logs_draw_resent_mark(const app *a, const message *m, int y, int x, bool selected)
{
    if (!m->resent_as || x >= term_cols())
        return;
    term_put(y, x, 1, selected ? TA_SELECTED : TA_RESENT, a->utf8 ? "\xe2\x86\xbb" : "*");
}
