/* hd_version.h - the version every front-end and the User-Agent show. */
#ifndef HD_VERSION_H
#define HD_VERSION_H

#define HOOKDESK_VERSION "0.1.0"

#endif
