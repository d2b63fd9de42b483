/*
 * The scripted fake server: an accepting thread, and a thread for each
 * connection (clients keep theirs alive). Requests are numbered in the
 * order they arrive; handlers may run concurrently.
 */
#include "tests/support/fake_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024 * 1024)
/* A client that stops reading, or sending, for this long loses its
 * connection: no thread of the server waits for good. */
#define IO_TIMEOUT_MS 30000

struct fake_conn {
	int fd;
	int stop; /* the server's stop pipe */
	bool closed;
};

struct conn_thread {
	pthread_t thread;
	struct fake_server *server;
	int fd;
	struct conn_thread *next;
};

struct fake_server {
	int listen_fd;
	struct conn_thread *conns; /* under LOCK */
	int stop_pipe[2];
	pthread_t thread;
	fake_handler handler;
	void *ctx;
	pthread_mutex_t lock;
	unsigned count;
	struct fake_request *requests[FAKE_MAX_REQUESTS];
};

void fake_http_date(char out[64], long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void send_head(struct fake_conn *conn, int status, const char *extra,
		      size_t len)
{
	char head[4096], date[64];
	bool has_date = extra && strcasestr(extra, "date:") != NULL;

	fake_http_date(date, (long)time(NULL));
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d Fake\r\nContent-Length: %zu\r\n%s%s%s%s\r\n",
		 status, len, has_date ? "" : "Date: ", has_date ? "" : date,
		 has_date ? "" : "\r\n", extra ? extra : "");
	if (write_all(conn->fd, head, strlen(head)))
		conn->closed = true;
}

void fake_reply(struct fake_conn *conn, int status, const char *extra,
		const void *body, size_t len)
{
	send_head(conn, status, extra, len);
	if (!conn->closed && len && write_all(conn->fd, body, len))
		conn->closed = true;
}

void fake_reply_partial(struct fake_conn *conn, int status, const char *extra,
			const void *body, size_t len, size_t sent)
{
	send_head(conn, status, extra, len);
	if (!conn->closed && sent)
		write_all(conn->fd, body, sent < len ? sent : len);
	fake_drop(conn);
}

void fake_drop(struct fake_conn *conn)
{
	/* A reset, not a polite close: SO_LINGER 0. */
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn->closed = true;
}

void fake_stall(struct fake_conn *conn, int max_ms)
{
	struct pollfd p[2] = {{conn->fd, POLLIN, 0}, {conn->stop, POLLIN, 0}};

	/* The client's close reads as the end of the stream (POLLIN); bytes
	 * it may still send are not an answer to wait for: stop on them too. */
	while (poll(p, 2, max_ms) < 0 && errno == EINTR)
		;
	conn->closed = true;
}

const char *fake_header(const struct fake_request *req, const char *name,
			char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = req->headers;

	while (*p) {
		const char *eol = strstr(p, "\r\n");
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);
		if (llen > nlen && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen;
			while (*v == ' ')
				v++;
			vlen = llen - (size_t)(v - p);
			if (vlen >= size)
				vlen = size - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return out;
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	return NULL;
}

/* Receive up to SIZE bytes into BUF: the count, or -1 when the peer
 * closed, the server is stopping (STOP readable), or nothing came for
 * TIMEOUT_MS (-1: no limit but the stop). */
static ssize_t recv_some(int fd, int stop, char *buf, size_t size,
			 int timeout_ms)
{
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {stop, POLLIN, 0}};
		int n = poll(p, 2, timeout_ms);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || p[1].revents)
			return -1;
		ssize_t got = recv(fd, buf, size, 0);
		if (got < 0 && errno == EINTR)
			continue;
		return got > 0 ? got : -1;
	}
}

/* Read until the end of the headers; leftover bytes stay in BUF. */
static int read_request(int fd, int stop, char *buf, size_t size, size_t *have,
			struct fake_request *req)
{
	char *end;
	size_t hlen, need;
	char cl[32];

	for (;;) {
		buf[*have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (*have + 1 >= size)
			return -1;
		/* Between requests a kept-alive connection may idle until
		 * the server stops; inside one, the bound applies. */
		ssize_t n = recv_some(fd, stop, buf + *have, size - 1 - *have,
				      *have == 0 ? -1 : IO_TIMEOUT_MS);
		if (n <= 0)
			return -1;
		*have += (size_t)n;
	}
	hlen = (size_t)(end - buf) + 4;
	if (sscanf(buf, "%15s %2047s", req->method, req->target) != 2)
		return -1;
	{
		const char *first = strstr(buf, "\r\n") + 2;
		size_t n = (size_t)(end - first) + 2;
		if (n >= sizeof(req->headers))
			n = sizeof(req->headers) - 1;
		memcpy(req->headers, first, n);
		req->headers[n] = '\0';
	}
	need = fake_header(req, "content-length", cl, sizeof(cl))
		       ? strtoul(cl, NULL, 10)
		       : 0;
	if (need > MAX_BODY)
		return -1;
	req->body = malloc(need + 1);
	if (!req->body)
		return -1;
	/* Body bytes already read, then the rest. */
	{
		size_t got = *have - hlen < need ? *have - hlen : need;
		memcpy(req->body, buf + hlen, got);
		memmove(buf, buf + hlen + got, *have - hlen - got);
		*have -= hlen + got;
		while (got < need) {
			ssize_t n = recv_some(fd, stop, req->body + got,
					      need - got, IO_TIMEOUT_MS);
			if (n <= 0)
				return -1;
			got += (size_t)n;
		}
	}
	req->body[need] = '\0';
	req->body_len = need;
	return 0;
}

static void serve(struct fake_server *s, int fd)
{
	size_t have = 0, size = 65536;
	char *buf = malloc(size);
	struct fake_conn conn = {.fd = fd, .stop = s->stop_pipe[0]};

	while (buf && !conn.closed) {
		struct fake_request *req = calloc(1, sizeof(*req));
		if (!req)
			break;
		if (read_request(fd, s->stop_pipe[0], buf, size, &have, req)) {
			free(req->body);
			free(req);
			break;
		}
		pthread_mutex_lock(&s->lock);
		req->index = s->count;
		if (s->count < FAKE_MAX_REQUESTS)
			s->requests[s->count] = req;
		s->count++;
		pthread_mutex_unlock(&s->lock);
		s->handler(s->ctx, req, &conn);
		if (req->index >= FAKE_MAX_REQUESTS) {
			free(req->body);
			free(req);
		}
	}
	free(buf);
	close(fd);
}

static void *serve_thread(void *arg)
{
	struct conn_thread *ct = arg;

	serve(ct->server, ct->fd);
	return NULL;
}

static void *run(void *arg)
{
	struct fake_server *s = arg;

	for (;;) {
		struct pollfd p[2] = {{s->listen_fd, POLLIN, 0},
				      {s->stop_pipe[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		int fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		/* A handler's answer to a client that stopped reading gives
		 * up (send fails) instead of blocking its thread for good. */
		struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		/* A thread per connection: clients keep theirs alive. */
		struct conn_thread *ct = calloc(1, sizeof(*ct));
		if (!ct) {
			close(fd);
			continue;
		}
		ct->server = s;
		ct->fd = fd;
		if (pthread_create(&ct->thread, NULL, serve_thread, ct) != 0) {
			close(fd);
			free(ct);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		ct->next = s->conns;
		s->conns = ct;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

int fake_server_start(struct fake_server **out, int *port, fake_handler h,
		      void *ctx)
{
	struct fake_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);

	*out = NULL;
	if (!s)
		return -1;
	s->handler = h;
	s->ctx = ctx;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(s->listen_fd, 16) ||
	    getsockname(s->listen_fd, (struct sockaddr *)&sa, &len) ||
	    pipe(s->stop_pipe) || pthread_create(&s->thread, NULL, run, s)) {
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		if (s->stop_pipe[0] >= 0) {
			close(s->stop_pipe[0]);
			close(s->stop_pipe[1]);
		}
		free(s);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	*out = s;
	return 0;
}

void fake_server_stop(struct fake_server *s)
{
	unsigned i;

	if (!s)
		return;
	if (write(s->stop_pipe[1], "x", 1) != 1)
		return; /* cannot stop the thread: leak rather than race */
	pthread_join(s->thread, NULL);
	while (s->conns) {
		struct conn_thread *ct = s->conns;
		s->conns = ct->next;
		pthread_join(ct->thread, NULL);
		free(ct);
	}
	close(s->listen_fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	for (i = 0; i < s->count && i < FAKE_MAX_REQUESTS; i++) {
		free(s->requests[i]->body);
		free(s->requests[i]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

unsigned fake_server_count(struct fake_server *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

const struct fake_request *fake_server_request(struct fake_server *s,
					       unsigned i)
{
	const struct fake_request *r = NULL;

	pthread_mutex_lock(&s->lock);
	if (i < s->count && i < FAKE_MAX_REQUESTS)
		r = s->requests[i];
	pthread_mutex_unlock(&s->lock);
	return r;
}

void fake_s3_options(s3_options *o, const char *endpoint)
{
	*o = (s3_options)S3_OPTIONS_INIT;
	o->endpoint = endpoint;
	o->bucket = "bkt";
	o->access_key = "AKIDFAKEFAKEFAKE0001";
	o->secret_key = "fakeSecretKeyThatMustNeverBeSeen0000000";
	o->retry_base_ms = 1;
	o->retry_max_ms = 5;
}
