// SPDX-License-Identifier: GPL-2.0
/*
 * The /metrics endpoint, off the tracing loop: libmicrohttpd's own thread
 * (poll(): it sees a client's early EOF, where its epoll mode waits for the
 * idle timeout) serves the last snapshot of the figures. A scrape that
 * finds the snapshot older than FRESH_S asks the tracing loop for a new one
 * (an eventfd in its poll set) and waits at most WAIT_S for it, else serves
 * the one it has. The tracing loop never waits for a client; a client holds
 * at most one of CONN_LIMIT connections, CONN_MEMORY bytes and DEADLINE_S
 * (a watcher thread of ours shuts down what is older).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "output/http.h"
#include "output/listen_addr.h"

#define CONN_LIMIT	64		/* at once; more wait in the listen backlog */
#define BACKLOG		256
#define CONN_MEMORY	(16 * 1024)	/* a longer request head is answered 431 */
#define IDLE_TIMEOUT_S	5		/* silence a connection may keep */
#define DEADLINE_S	10.0		/* a connection's whole life (slow clients) */
#define FRESH_S		0.1		/* a snapshot this young is served as it is */
#define WAIT_S		1.0		/* a scrape's wait for the tracing loop */
#define WATCH_MS	100		/* the deadline watcher's beat */

struct conn_slot {
	struct MHD_Connection *c;
	double start;
	bool cut;
};

struct http {
	struct MHD_Daemon *d;
	int listen_fd;
	bool ipv6;
	int want_fd;			/* eventfd: a scrape wants fresh figures */
	pthread_t thread;
	bool running;
	bool stop;			/* __atomic: ends the watcher and waits */
	pthread_mutex_t mu;		/* guards the snapshot below */
	pthread_cond_t published;
	char *text;
	size_t len;
	double made;
	uint64_t gen;
	bool asked;
	char *gz;			/* text, gzipped when first asked for */
	size_t gz_len;
	uint64_t gz_gen;
	pthread_mutex_t conn_mu;	/* guards conns: MHD's thread and the watcher */
	struct conn_slot conns[CONN_LIMIT];
};

static const char index_html[] =
	"<html><head><title>shadowtrace</title></head><body>\n"
	"<h1>shadowtrace</h1>\n"
	"<p>KVM shadow MMU figures, per VM: <a href=\"/metrics\">/metrics</a></p>\n"
	"</body></html>\n";

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "gzip" among Accept-Encoding's codings, without q=0 */
static bool accepts_gzip(const char *v)
{
	while (v && *v) {
		size_t n;

		v += strspn(v, " \t,");
		n = strcspn(v, " \t,;");
		if (n == 4 && !strncasecmp(v, "gzip", 4)) {
			const char *q = v + n, *end = q + strcspn(q, ",");

			q += strspn(q, " \t;");
			return !(q < end && !strncasecmp(q, "q=", 2) && strtod(q + 2, NULL) == 0.0);
		}
		v += strcspn(v, ",");
	}
	return false;
}

/* With mu held: h->gz for the current text; false when it cannot be made. */
static bool gzip_snapshot(struct http *h)
{
	z_stream z = { 0 };
	uLong bound;

	if (h->gz && h->gz_gen == h->gen)
		return true;
	free(h->gz);
	h->gz = NULL;
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	bound = deflateBound(&z, (uLong)h->len);
	h->gz = malloc(bound);
	z.next_in = (Bytef *)h->text;
	z.avail_in = (uInt)h->len;
	z.next_out = (Bytef *)h->gz;
	z.avail_out = (uInt)bound;
	if (!h->gz || deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(h->gz);
		h->gz = NULL;
		return false;
	}
	h->gz_len = z.total_out;
	h->gz_gen = h->gen;
	deflateEnd(&z);
	return true;
}

/* With mu held: a snapshot at most FRESH_S old, or the last after WAIT_S. */
static void await_fresh(struct http *h)
{
	uint64_t gen = h->gen, one = 1;
	struct timespec until;
	double now = mono_now();

	if (h->text && now - h->made < FRESH_S)
		return;
	if (!h->asked && write(h->want_fd, &one, sizeof(one)) == sizeof(one))
		h->asked = true;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)(WAIT_S * 1e9);
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	while (h->gen == gen && !__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
		if (pthread_cond_timedwait(&h->published, &h->mu, &until) == ETIMEDOUT)
			break;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r,
			     const char *type)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;	/* out of memory: MHD closes the connection */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* one request per connection: DEADLINE_S then bounds a request */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int status, const char *type,
				  const char *text)
{
	return queue(c, status,
		     MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT),
		     type);
}

static enum MHD_Result reply_metrics(struct http *h, struct MHD_Connection *c)
{
	bool gz = accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_ACCEPT_ENCODING));
	struct MHD_Response *r = NULL;
	bool have;

	pthread_mutex_lock(&h->mu);
	await_fresh(h);
	have = h->text;
	gz = have && gz && gzip_snapshot(h);
	if (have)
		r = MHD_create_response_from_buffer(gz ? h->gz_len : h->len, gz ? h->gz : h->text,
						    MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&h->mu);
	if (!have)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "no figures yet\n");
	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
		if (gz)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	}
	return queue(c, MHD_HTTP_OK, r, "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	(void)version, (void)upload_data, (void)upload_size, (void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET or HEAD only\n");
	if (!strcmp(url, "/metrics"))
		return reply_metrics(cls, c);
	if (!strcmp(url, "/"))
		return reply_text(c, MHD_HTTP_OK, "text/html; charset=utf-8", index_html);
	return reply_text(c, MHD_HTTP_NOT_FOUND, "text/plain", "shadowtrace: metrics are at /metrics\n");
}

/*
 * On MHD's thread: keeps each connection's start time. MHD tells of a
 * close before it closes the socket, so the watcher, holding conn_mu,
 * never shuts down a socket number already given to someone else.
 */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;

	pthread_mutex_lock(&h->conn_mu);
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*ctx)
			memset(*ctx, 0, sizeof(struct conn_slot));
	} else {
		for (int i = 0; i < CONN_LIMIT; i++)
			if (!h->conns[i].c) {
				h->conns[i] = (struct conn_slot){ .c = c, .start = mono_now() };
				*ctx = &h->conns[i];
				break;
			}
	}
	pthread_mutex_unlock(&h->conn_mu);
}

/* With conn_mu held: a connection past DEADLINE_S is shut down; MHD then closes it. */
static void cut_overdue(struct http *h)
{
	double now = mono_now();

	for (int i = 0; i < CONN_LIMIT; i++) {
		struct conn_slot *s = &h->conns[i];
		const union MHD_ConnectionInfo *ci;

		if (!s->c || s->cut || now - s->start < DEADLINE_S)
			continue;
		ci = MHD_get_connection_info(s->c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			shutdown(ci->connect_fd, SHUT_RDWR);
		s->cut = true;
	}
}

static void *watch_deadlines(void *arg)
{
	struct http *h = arg;
	struct timespec beat = { .tv_nsec = WATCH_MS * 1000000L };

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		nanosleep(&beat, NULL);
		pthread_mutex_lock(&h->conn_mu);
		cut_overdue(h);
		pthread_mutex_unlock(&h->conn_mu);
	}
	return NULL;
}

static int open_listener(const struct listen_addr *la)
{
	int one = 1, fd = socket(la->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&la->ss, la->len) || listen(fd, BACKLOG)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int http_serve(struct http *h, char *err, size_t errlen)
{
	sigset_t all, old;
	int e = 0;

	/* MHD's thread and the watcher: every signal is the tracing loop's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | (h->ipv6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_END);
	if (h->d) {
		h->listen_fd = -1;	/* MHD's now: MHD_stop_daemon() closes it */
		e = pthread_create(&h->thread, NULL, watch_deadlines, h);
		h->running = !e;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->d && !e)
		return 0;
	snprintf(err, errlen, "cannot serve --listen: %s", h->d ? strerror(e) : "libmicrohttpd refused to start");
	return -1;
}

struct http *http_start(const char *addr, bool allow_public, char *err, size_t errlen, bool *usage)
{
	struct listen_addr la;
	pthread_condattr_t ca;
	struct http *h;

	*usage = true;
	if (listen_addr_parse(addr, &la)) {
		snprintf(err, errlen, "invalid --listen '%s': expected IP:PORT, e.g. 127.0.0.1:9977", addr);
		return NULL;
	}
	if (!la.loopback && !allow_public) {
		snprintf(err, errlen, "--listen %s is not a loopback address; add --listen-public to expose metrics",
			 addr);
		return NULL;
	}
	*usage = false;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->want_fd = -1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->conn_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->published, &ca);
	pthread_condattr_destroy(&ca);
	h->listen_fd = open_listener(&la);
	if (h->listen_fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	h->ipv6 = la.ss.ss_family == AF_INET6;
	h->want_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->want_fd < 0) {
		snprintf(err, errlen, "cannot serve --listen %s: %s", addr, strerror(errno));
		goto fail;
	}
	return h;
fail:
	http_stop(h);
	return NULL;
}

int http_want_fd(const struct http *h)
{
	return h ? h->want_fd : -1;
}

void http_publish(struct http *h, char *text, size_t len)
{
	uint64_t n;

	if (!h) {
		free(text);
		return;
	}
	if (read(h->want_fd, &n, sizeof(n)) < 0) {
		/* nobody asked: a snapshot made on the tracing loop's own account */
	}
	pthread_mutex_lock(&h->mu);
	free(h->text);
	h->text = text;
	h->len = len;
	h->made = mono_now();
	h->gen++;
	h->asked = false;
	pthread_cond_broadcast(&h->published);
	pthread_mutex_unlock(&h->mu);
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	if (h->running) {
		pthread_mutex_lock(&h->mu);
		__atomic_store_n(&h->stop, true, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&h->published);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->want_fd >= 0)
		close(h->want_fd);
	pthread_cond_destroy(&h->published);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->conn_mu);
	free(h->text);
	free(h->gz);
	free(h);
}
