// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http.h"

static int parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len, bool *loopback)
{
	char host[64];
	const char *colon, *port_s;
	char *end;
	unsigned long port;
	size_t hlen;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -1;
		hlen = (size_t)(close - addr - 1);
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, addr + 1, hlen);
		port_s = close + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -1;
		hlen = (size_t)(colon - addr);
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, addr, hlen);
		port_s = colon + 1;
	}
	host[hlen] = 0;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || end == port_s || *end || port < 1 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		*loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	return -1;
}

int http_listen(struct http *h, const char *addr, bool allow_public, char *err, size_t errlen,
		bool *usage)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	bool loopback = false;
	int one = 1;

	h->fd = -1;
	*usage = true;
	if (parse(addr, &ss, &len, &loopback)) {
		snprintf(err, errlen, "invalid --listen '%s': expected IP:PORT, e.g. 127.0.0.1:9977", addr);
		return -1;
	}
	if (!loopback && !allow_public) {
		snprintf(err, errlen, "--listen %s is not a loopback address; add --listen-public to expose metrics",
			 addr);
		return -1;
	}
	*usage = false;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, (struct sockaddr *)&ss, len) || listen(h->fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		http_close(h);
		return -1;
	}
	return 0;
}

static void respond(int c, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, type, len);

	if (send(c, head, (size_t)n, MSG_NOSIGNAL) == n)
		while (len) {
			ssize_t w = send(c, body, len, MSG_NOSIGNAL);

			if (w <= 0)
				break;
			body += w;
			len -= (size_t)w;
		}
}

void http_serve_one(struct http *h, void (*render)(FILE *f, void *arg), void *arg)
{
	struct timeval tv = { .tv_sec = 2 };
	char req[2048];
	size_t got = 0;
	int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		return;
	/* a slow client cannot stall tracing for more than 2 s */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t n = recv(c, req + got, sizeof(req) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = 0;
	if (strncmp(req, "GET ", 4)) {
		respond(c, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
	} else if (!strncmp(req + 4, "/metrics ", 9) || !strncmp(req + 4, "/metrics?", 9)) {
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);

		if (f) {
			render(f, arg);
			fclose(f);
			respond(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, len);
			free(body);
		}
	} else {
		static const char hint[] = "shadowtrace: metrics are at /metrics\n";
		respond(c, "404 Not Found", "text/plain", hint, sizeof(hint) - 1);
	}
	close(c);
}

void http_close(struct http *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}
