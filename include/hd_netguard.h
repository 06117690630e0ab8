/* hd_netguard.h - which addresses a delivery may connect to.
 * Judged on the address actually connected to, after DNS. */
#ifndef HD_NETGUARD_H
#define HD_NETGUARD_H

#include <stdbool.h>
#include <sys/socket.h>

/* True for loopback, private (RFC 1918, fc00::/7), link-local, CGNAT,
 * unspecified, multicast, broadcast and IPv4-mapped forms of these. */
bool netguard_is_private(const struct sockaddr *sa);
/* "127.0.0.1" / "::1" for messages; out needs 64 bytes. */
void netguard_format(const struct sockaddr *sa, char *out, size_t outlen);

#endif
