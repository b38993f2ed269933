/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SHADOWTRACE_LISTEN_ADDR_H
#define SHADOWTRACE_LISTEN_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
};

/* "IPv4:PORT", "[IPv6]:PORT" (numeric) or "localhost:PORT"; 0 or -1. */
int listen_addr_parse(const char *addr, struct listen_addr *la);

#endif
