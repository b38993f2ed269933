// SPDX-License-Identifier: GPL-2.0
/*
 * http.h without a server, for the statically linked build (the stock-kernel
 * lane's initramfs): Debian ships no static GnuTLS dependencies, which
 * libmicrohttpd.a needs. --listen says so in one line.
 */
#include <stdio.h>
#include <stdlib.h>

#include "output/http.h"

struct http *http_start(const char *addr, bool allow_public, char *err, size_t errlen, bool *usage)
{
	(void)addr, (void)allow_public;
	*usage = false;
	snprintf(err, errlen, "--listen is not in this statically linked build");
	return NULL;
}

int http_serve(struct http *h, char *err, size_t errlen)
{
	(void)h, (void)err, (void)errlen;
	return -1;
}

int http_want_fd(const struct http *h)
{
	(void)h;
	return -1;
}

void http_publish(struct http *h, char *text, size_t len)
{
	(void)h, (void)len;
	free(text);
}

void http_stop(struct http *h)
{
	(void)h;
}
