/* SPDX-License-Identifier: GPL-2.0 */
/* A minimal HTTP/1.0 listener for GET /metrics, served from the main loop. */
#ifndef SHADOWTRACE_HTTP_H
#define SHADOWTRACE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct http {
	int fd;
};

/*
 * @addr is "IPv4:PORT" or "[IPv6]:PORT" (numeric). A non-loopback address
 * is refused unless @allow_public. Returns 0, or -1 with @err filled and
 * *@usage set when the address itself is wrong (not the bind).
 */
int http_listen(struct http *h, const char *addr, bool allow_public, char *err, size_t errlen,
		bool *usage);
/* Accepts and answers one pending connection; @render writes the metrics. */
void http_serve_one(struct http *h, void (*render)(FILE *f, void *arg), void *arg);
void http_close(struct http *h);

#endif
