/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GET /metrics (and HEAD, gzip, /), served by libmicrohttpd on a thread of
 * its own from the last snapshot the tracing loop published.
 */
#ifndef SHADOWTRACE_HTTP_H
#define SHADOWTRACE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct http;

/*
 * Binds @addr, "IPv4:PORT" or "[IPv6]:PORT" (numeric); serves nothing yet.
 * A non-loopback address is refused unless @allow_public. Returns the
 * server, or NULL with @err filled and *@usage set when the address itself
 * is wrong (not the bind).
 */
struct http *http_start(const char *addr, bool allow_public, char *err, size_t errlen, bool *usage);
/*
 * Starts serving: libmicrohttpd's thread and ours. Called after the caller
 * dropped its capabilities, which threads inherit, so that no thread that
 * reads clients' bytes holds any. 0, or -1 with @err filled.
 */
int http_serve(struct http *h, char *err, size_t errlen);
/* Readable when a scrape wants fresher figures than the last published. */
int http_want_fd(const struct http *h);
/* Hands over a new snapshot of the metrics text (malloc'd; @h frees it). */
void http_publish(struct http *h, char *text, size_t len);
/* Stops serving, ends open connections; NULL is fine. */
void http_stop(struct http *h);

#endif
