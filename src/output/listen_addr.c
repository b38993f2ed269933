// SPDX-License-Identifier: GPL-2.0
/* --listen's address: "IPv4:PORT", "[IPv6]:PORT" or "localhost:PORT". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/listen_addr.h"

/* Splits "host:port" / "[host]:port"; the host is copied into @host. */
static const char *split(const char *addr, char *host, size_t hostlen)
{
	const char *port;
	size_t n;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return NULL;
		n = (size_t)(close - addr - 1);
		addr++;
		port = close + 2;
	} else {
		const char *colon = strrchr(addr, ':');

		if (!colon)
			return NULL;
		n = (size_t)(colon - addr);
		port = colon + 1;
	}
	if (n >= hostlen)
		return NULL;
	memcpy(host, addr, n);
	host[n] = 0;
	return port;
}

int listen_addr_parse(const char *addr, struct listen_addr *la)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&la->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&la->ss;
	char host[64], *end;
	const char *port_s = split(addr, host, sizeof(host));
	unsigned long port;

	if (!port_s)
		return -1;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || end == port_s || *end || port < 1 || port > 65535)
		return -1;
	memset(la, 0, sizeof(*la));
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		la->len = sizeof(*in4);
		la->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		la->len = sizeof(*in6);
		la->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	return -1;
}
