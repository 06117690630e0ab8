/* store_statuses.c - the statuses a message filter selects
 * (store_statuses.h), shared by the SQLite and the PostgreSQL store. */
#include "store_statuses.h"

int popcount_mask(unsigned mask)
{
    int n = 0;
    for (int i = 0; i < MSG_STATUS_COUNT; i++)
        n += (mask >> i) & 1u;
    return n;
}

unsigned filter_mask(const msg_filter *f)
{
    return f ? f->status_mask & ((1u << MSG_STATUS_COUNT) - 1) : 0;
}

unsigned page_mask(const msg_filter *f)
{
    unsigned mask = filter_mask(f);
    if (mask == 0 && f && f->site_id)
        mask = (1u << MSG_STATUS_COUNT) - 1;
    return mask;
}
