/* hd_global.h - process-wide setup of the core, once, before any thread. */
#ifndef HD_GLOBAL_H
#define HD_GLOBAL_H

#include "hd_error.h"

/* The locale from the environment, SIGPIPE ignored (a peer closing a
 * connection must not kill the process), curl_global_init (not
 * thread-safe), SQLite's global configuration.  On failure says why in err. */
hd_status hd_global_init(hd_error *err);
void hd_global_cleanup(void);

#endif
