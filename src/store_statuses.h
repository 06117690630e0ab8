/* store_statuses.h - the statuses a message filter selects, the same on
 * both store backends (src/store_filters.c, src/pg_filters.c).  Pure C,
 * no SQL. */
#ifndef HD_STORE_STATUSES_H
#define HD_STORE_STATUSES_H

#include "hd_store.h"

/* Statuses in a mask of MSG_STATUS_BIT()s. */
int popcount_mask(unsigned mask);
/* The filter's statuses (0 = any). */
unsigned filter_mask(const msg_filter *f);
/* The statuses a page walks one by one: those of the filter, or all of
 * them when it has a site but no status (the (site, status, id) index is
 * ordered by id within (site, status) only). */
unsigned page_mask(const msg_filter *f);

#endif
