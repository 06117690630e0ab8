/* pg_sites.c - PostgreSQL store: TODO (stubs until implemented). */
#include "pg_internal.h"

hd_status pg_site_add(pg_store *st, const site *s, int64_t *id_out, hd_error *err)
{
    (void)st;
    (void)s;
    (void)id_out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_add: not implemented on PostgreSQL yet");
}

hd_status pg_site_update(pg_store *st, const site *s, hd_error *err)
{
    (void)st;
    (void)s;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_update: not implemented on PostgreSQL yet");
}

hd_status pg_site_update_if(pg_store *st, const site *s, int64_t expected, hd_error *err)
{
    (void)st;
    (void)s;
    (void)expected;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_update_if: not implemented on PostgreSQL yet");
}

hd_status pg_site_delete(pg_store *st, int64_t id, hd_error *err)
{
    (void)st;
    (void)id;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_delete: not implemented on PostgreSQL yet");
}

hd_status pg_site_set_enabled(pg_store *st, int64_t id, bool enabled, hd_error *err)
{
    (void)st;
    (void)id;
    (void)enabled;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_set_enabled: not implemented on PostgreSQL yet");
}

hd_status pg_site_get(pg_store *st, int64_t id, site *out, hd_error *err)
{
    (void)st;
    (void)id;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_get: not implemented on PostgreSQL yet");
}

hd_status pg_site_get_by_name(pg_store *st, const char *name, site *out, hd_error *err)
{
    (void)st;
    (void)name;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_site_get_by_name: not implemented on PostgreSQL yet");
}

hd_status pg_seed_sites(pg_store *st, const site *sites, int n, int *added, hd_error *err)
{
    (void)st;
    (void)sites;
    (void)n;
    (void)added;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_seed_sites: not implemented on PostgreSQL yet");
}

hd_status pg_sites_list(pg_store *st, site_stats_list *out, hd_error *err)
{
    (void)st;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_sites_list: not implemented on PostgreSQL yet");
}

hd_status pg_sites_states(pg_store *st, site_stats_list *out, hd_error *err)
{
    (void)st;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_sites_states: not implemented on PostgreSQL yet");
}
