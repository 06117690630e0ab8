/* hd_netguard.h - which addresses a delivery may connect to.
 * Judged on the address actually connected to, after DNS. */
#ifndef HD_NETGUARD_H
#define HD_NETGUARD_H

#include <stdbool.h>
#include <sys/socket.h>

/* True for loopback, private (RFC 1918, fc00::/7, fec0::/10), link-local,
 * CGNAT, unspecified, multicast, broadcast, reserved, benchmarking
 * (198.18/15), IETF (192.0.0/24), documentation and local NAT64 addresses,
 * and for every IPv6 form that embeds an IPv4 address of these
 * (IPv4-compatible, -mapped, SIIT, NAT64, 6to4, Teredo). */
bool netguard_is_private(const struct sockaddr *sa);
/* "127.0.0.1" / "::1" for messages; out needs 64 bytes. */
void netguard_format(const struct sockaddr *sa, char *out, size_t outlen);

#endif
