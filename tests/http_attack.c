// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile and busy clients for shadowtrace's /metrics endpoint (tests only,
 * loopback). Each command prints one line of figures for the test to check.
 *
 *   http_attack hold ADDR N SECONDS [TRICKLE_MS]
 *	keeps N connections open for SECONDS, reconnecting when the server
 *	closes one; with TRICKLE_MS each sends one more header byte that
 *	often (slowloris), else nothing. Prints connections made and the
 *	longest the server let one live.
 *   http_attack scrape ADDR N [gzip]
 *	N concurrent GET /metrics. Prints how many were answered 200 and how
 *	many distinct bodies they had (shadowtrace_last_export_timestamp_seconds
 *	aside, which is the scrape's time).
 *   http_attack every ADDR MS SECONDS
 *	one GET /metrics every MS for SECONDS (0: until killed); once a
 *	second prints "N ok M failed" so far (a failure: no 200 in 5 s).
 *   http_attack send ADDR [half-close|no-read]
 *	sends stdin as one request; half-close then shuts down its sending
 *	side; no-read never reads and holds the connection 15 s. Prints the
 *	status line, "closed" or "no response".
 *
 * ADDR is IPv4:PORT. Exit status 0, or 2 on bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_CONNS	512
#define MAX_BODY	(1 << 20)
#define REPLY_WAIT_S	15.0

static struct sockaddr_in server;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&server, sizeof(server))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Was @fd closed by the peer? (EOF or an error, without blocking) */
static bool peer_closed(int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

static int hold(int n, double seconds, int trickle_ms)
{
	static const char head[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	int fds[MAX_CONNS];
	double born[MAX_CONNS], longest = 0, t0 = now_s(), next_byte = t0;
	long made = 0, failed = 0;

	for (int i = 0; i < n; i++)
		fds[i] = -1;
	while (now_s() - t0 < seconds) {
		double t = now_s();
		bool send_byte = trickle_ms && t >= next_byte;

		for (int i = 0; i < n; i++) {
			if (fds[i] >= 0 && peer_closed(fds[i])) {
				if (t - born[i] > longest)
					longest = t - born[i];
				close(fds[i]);
				fds[i] = -1;
			}
			if (fds[i] < 0) {
				fds[i] = dial();
				if (fds[i] < 0) {
					failed++;
					continue;
				}
				born[i] = t;
				made++;
				if (trickle_ms)
					send(fds[i], head, sizeof(head) - 1, MSG_NOSIGNAL);
			} else if (send_byte) {
				send(fds[i], "a", 1, MSG_NOSIGNAL);
			}
		}
		if (send_byte)
			next_byte += trickle_ms / 1000.0;
		usleep(20000);
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0) {
			if (now_s() - born[i] > longest)
				longest = now_s() - born[i];
			close(fds[i]);
		}
	printf("hold: %ld connections made, %ld refused, longest lived %.1f s\n", made, failed, longest);
	return 0;
}

/* A gzipped body inflated into @out (MAX_BODY); its length, or 0. */
static size_t gunzip(const char *in, size_t len, char *out)
{
	z_stream z = { .next_in = (Bytef *)in, .avail_in = (uInt)len,
		       .next_out = (Bytef *)out, .avail_out = MAX_BODY };
	size_t n = 0;

	if (inflateInit2(&z, 15 + 16) == Z_OK && inflate(&z, Z_FINISH) == Z_STREAM_END)
		n = z.total_out;
	inflateEnd(&z);
	return n;
}

/* FNV-1a of a response body (inflated if gzipped) without its timestamp line */
static unsigned long body_hash(const char *resp, size_t len)
{
	static const char ts[] = "shadowtrace_last_export_timestamp_seconds ";
	static char plain[MAX_BODY];
	const char *p = memmem(resp, len, "\r\n\r\n", 4), *end = resp + len;
	unsigned long h = 1469598103934665603UL;

	if (p && memmem(resp, (size_t)(p - resp), "Content-Encoding: gzip", 22)) {
		len = gunzip(p + 4, (size_t)(end - p - 4), plain);
		p = plain;
		end = plain + len;
	} else {
		p = p ? p + 4 : end;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl + 1 : end;

		if ((size_t)(eol - p) < sizeof(ts) - 1 || memcmp(p, ts, sizeof(ts) - 1))
			for (const char *c = p; c < eol; c++)
				h = (h ^ (unsigned char)*c) * 1099511628211UL;
		p = eol;
	}
	return h;
}

static int scrape(int n, bool gzip)
{
	char req[128];
	struct pollfd pfd[MAX_CONNS];
	char *buf[MAX_CONNS];
	size_t got[MAX_CONNS];
	unsigned long hashes[MAX_CONNS];
	int ok = 0, distinct = 0, open_n = 0, len;
	double t0 = now_s();

	len = snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nHost: x\r\n%s\r\n",
		       gzip ? "Accept-Encoding: gzip\r\n" : "");
	for (int i = 0; i < n; i++) {
		pfd[i] = (struct pollfd){ .fd = dial(), .events = POLLIN };
		buf[i] = malloc(MAX_BODY);
		got[i] = 0;
		if (pfd[i].fd >= 0 && send(pfd[i].fd, req, (size_t)len, MSG_NOSIGNAL) == len)
			open_n++;
		else if (pfd[i].fd >= 0) {
			close(pfd[i].fd);
			pfd[i].fd = -1;
		}
	}
	while (open_n && now_s() - t0 < 30) {
		if (poll(pfd, (nfds_t)n, 1000) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			ssize_t r;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			r = recv(pfd[i].fd, buf[i] + got[i], MAX_BODY - got[i], 0);
			if (r > 0 && got[i] + (size_t)r < MAX_BODY) {
				got[i] += (size_t)r;
				continue;
			}
			close(pfd[i].fd);
			pfd[i].fd = -1;
			open_n--;
		}
	}
	for (int i = 0; i < n; i++) {
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
		if (got[i] >= 12 && !memcmp(buf[i], "HTTP/1.1 200", 12)) {
			unsigned long h = body_hash(buf[i], got[i]);
			int j = 0;

			while (j < ok && hashes[j] != h)
				j++;
			distinct += j == ok;
			hashes[ok++] = h;
		}
		free(buf[i]);
	}
	printf("scrape: %d of %d answered 200, %d distinct bodies\n", ok, n, distinct);
	return 0;
}

/* One GET /metrics: was it answered 200 within 5 s? */
static bool scrape_one(void)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	static char buf[MAX_BODY];
	int fd = dial();
	size_t got = 0;
	double t0 = now_s();
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (fd < 0)
		return false;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == sizeof(req) - 1)
		while (got < sizeof(buf) && now_s() - t0 < 5 && poll(&p, 1, 500) >= 0) {
			ssize_t n;

			if (!p.revents)
				continue;
			n = recv(fd, buf + got, sizeof(buf) - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	close(fd);
	return got >= 12 && !memcmp(buf, "HTTP/1.1 200", 12);
}

static int every(int ms, double seconds)
{
	long ok = 0, failed = 0;
	double t0 = now_s(), said = t0;

	while (!seconds || now_s() - t0 < seconds) {
		if (scrape_one())
			ok++;
		else
			failed++;
		if (now_s() - said >= 1) {
			printf("%ld ok %ld failed\n", ok, failed);
			said = now_s();
		}
		usleep((useconds_t)ms * 1000);
	}
	printf("%ld ok %ld failed\n", ok, failed);
	return 0;
}

static int send_stdin(const char *how)
{
	static char req[1 << 20];
	size_t len = fread(req, 1, sizeof(req), stdin);
	int fd = dial();
	char line[256] = "";
	struct pollfd p;
	ssize_t n = 0;
	double t0;

	if (fd < 0) {
		printf("send: cannot connect: %s\n", strerror(errno));
		return 0;
	}
	if (send(fd, req, len, MSG_NOSIGNAL) < 0) {
		printf("closed\n");	/* the server ended it before reading it all */
		close(fd);
		return 0;
	}
	if (how && !strcmp(how, "half-close"))
		shutdown(fd, SHUT_WR);
	if (how && !strcmp(how, "no-read")) {
		sleep(15);
		printf("held\n");
		close(fd);
		return 0;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	t0 = now_s();
	while (now_s() - t0 < REPLY_WAIT_S && poll(&p, 1, 500) >= 0)
		if (p.revents) {
			n = recv(fd, line, sizeof(line) - 1, 0);
			break;
		}
	close(fd);
	if (n > 0) {
		line[n] = 0;
		line[strcspn(line, "\r\n")] = 0;
		printf("%s\n", line);
	} else {
		printf("%s\n", p.revents ? "closed" : "no response");
	}
	return 0;
}

int main(int argc, char **argv)
{
	char host[64];
	const char *colon = argc > 2 ? strrchr(argv[2], ':') : NULL;

	if (!colon || (size_t)(colon - argv[2]) >= sizeof(host))
		goto usage;
	memcpy(host, argv[2], (size_t)(colon - argv[2]));
	host[colon - argv[2]] = 0;
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &server.sin_addr) != 1)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "hold") && argc >= 5 && atoi(argv[3]) > 0 && atoi(argv[3]) <= MAX_CONNS)
		return hold(atoi(argv[3]), atof(argv[4]), argc > 5 ? atoi(argv[5]) : 0);
	if (!strcmp(argv[1], "scrape") && argc >= 4 && atoi(argv[3]) > 0 && atoi(argv[3]) <= MAX_CONNS)
		return scrape(atoi(argv[3]), argc > 4 && !strcmp(argv[4], "gzip"));
	if (!strcmp(argv[1], "every") && argc >= 5 && atoi(argv[3]) > 0)
		return every(atoi(argv[3]), atof(argv[4]));
	if (!strcmp(argv[1], "send"))
		return send_stdin(argc > 3 ? argv[3] : NULL);
usage:
	fprintf(stderr, "usage: http_attack hold|scrape|every|send IPv4:PORT ... (see its source)\n");
	return 2;
}
