// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what is ours of the /metrics endpoint. The first byte
 * picks the part, the rest is its input:
 *   'A'  a --listen address (listen_addr_parse)
 *   'E'  an Accept-Encoding value (accepts_gzip)
 *   else a whole request, sent over loopback to the real server (libmicrohttpd
 *        and our handlers), its sending side then shut: the answer must be
 *        an HTTP status line or nothing (a closed connection), within 10 s.
 */
#include <poll.h>
#include <pthread.h>

#include "../../src/output/http.c"	/* its static helpers too */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http *server;
static struct sockaddr_in server_addr;

/* The tracing loop's part: a fresh snapshot whenever a scrape asks. */
static void *publisher(void *arg)
{
	static const char text[] = "# TYPE fuzz_total counter\nfuzz_total 1\n";
	struct pollfd p = { .fd = http_want_fd(arg), .events = POLLIN };

	for (;;)
		if (poll(&p, 1, -1) > 0)
			http_publish(arg, strdup(text), sizeof(text) - 1);
	return NULL;
}

static void start_server(void)
{
	char addr[32], err[256];
	pthread_t t;
	bool usage;

	for (int port = 20000 + getpid() % 20000; !server; port++) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		server = http_start(addr, false, err, sizeof(err), &usage);
		if (server && http_serve(server, err, sizeof(err)))
			abort();
		server_addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
						    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	}
	pthread_create(&t, NULL, publisher, server);
}

static void round_trip(const uint8_t *req, size_t len)
{
	char resp[64];
	size_t got = 0;
	struct pollfd p;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)))
		abort();
	if (send(fd, req, len, MSG_NOSIGNAL) < 0 && errno != ECONNRESET && errno != EPIPE)
		abort();
	shutdown(fd, SHUT_WR);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (got < sizeof(resp)) {
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			abort();	/* neither an answer nor a close in 10 s */
		n = recv(fd, resp + got, sizeof(resp) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got && (got < 9 || memcmp(resp, "HTTP/1.1 ", 9)))
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listen_addr la;
	char *s;

	if (!size)
		return 0;
	if (data[0] == 'A' || data[0] == 'E') {
		s = strndup((const char *)data + 1, size - 1);
		if (data[0] == 'A')
			listen_addr_parse(s, &la);
		else
			accepts_gzip(s);
		free(s);
		return 0;
	}
	if (!server)
		start_server();
	round_trip(data + 1, size - 1);
	return 0;
}
