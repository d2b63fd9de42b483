/*
 * swapproxy: a TCP relay in front of a real S3 server, for a test that
 * must act at an exact moment between two requests of a client: before
 * it forwards the Nth GET of PATH, it runs CMD (with /bin/sh) and waits
 * for it to end. A bucket writer who replaces an object between a
 * restore's check pass and its load pass, on cue, without sleeps.
 *
 *   swapproxy UPSTREAM_PORT PATH N CMD
 *
 * It listens on 127.0.0.1, on a port the kernel picks, printed on its
 * own line on stdout once it accepts connections, and runs until killed.
 * Bytes pass unchanged both ways (SigV4 signatures stay valid: the Host
 * header is the relay's, as the client signed it). Requests are read
 * only to find where each begins (their heads and Content-Length); a
 * chunked request body ends the parsing of its connection. HEADs and
 * other methods are not counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX (64 * 1024)

static int upstream_port;
static const char *path, *cmd;
static unsigned nth;
static unsigned gets; /* GETs of PATH seen, under MU */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static bool send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* A request's head is complete: count it, act, say how long its body is
 * (-1: chunked, unknown). */
static long long on_head(const char *head)
{
	char method[16] = "", target[4096] = "";
	const char *cl, *te;
	long long body = 0;
	bool act = false;

	if (sscanf(head, "%15s %4095s", method, target) != 2)
		return 0;
	target[strcspn(target, "?")] = '\0';
	if (strcmp(method, "GET") == 0 && strcmp(target, path) == 0) {
		pthread_mutex_lock(&mu);
		act = ++gets == nth;
		pthread_mutex_unlock(&mu);
	}
	if (act) {
		int st = system(cmd);

		if (st != 0)
			fprintf(stderr, "swapproxy: the command exited %d\n",
				st);
	}
	for (cl = head; (cl = strchr(cl, '\n')) != NULL; cl++) {
		if (strncasecmp(cl + 1, "content-length:", 15) == 0)
			body = atoll(cl + 16);
	}
	for (te = head; (te = strchr(te, '\n')) != NULL; te++) {
		if (strncasecmp(te + 1, "transfer-encoding:", 18) == 0 &&
		    strstr(te, "chunked") != NULL)
			return -1;
	}
	return body;
}

static void *relay(void *arg)
{
	int client = (int)(intptr_t)arg, up;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char buf[16384], *head = malloc(HEAD_MAX + 1);
	size_t head_len = 0;
	long long body_left = 0; /* -1: stop parsing */

	sa.sin_port = htons((unsigned short)upstream_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	up = socket(AF_INET, SOCK_STREAM, 0);
	if (head == NULL || up < 0 ||
	    connect(up, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	for (;;) {
		struct pollfd pfd[2] = {{client, POLLIN, 0}, {up, POLLIN, 0}};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0) {
			n = recv(up, buf, sizeof(buf), 0);
			if (n <= 0 || !send_all(client, buf, (size_t)n))
				break;
		}
		if (pfd[0].revents == 0)
			continue;
		n = recv(client, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (size_t i = 0; i < (size_t)n;) {
			size_t k = (size_t)n - i;
			char *end;

			if (body_left != 0) {
				if (body_left > 0 && (long long)k > body_left)
					k = (size_t)body_left;
				if (!send_all(up, buf + i, k))
					goto out;
				if (body_left > 0)
					body_left -= (long long)k;
				i += k;
				continue;
			}
			/* A head: one byte at a time up to its blank line. */
			if (head_len >= HEAD_MAX)
				goto out;
			head[head_len++] = buf[i++];
			head[head_len] = '\0';
			end = strstr(head, "\r\n\r\n");
			if (end == NULL)
				continue;
			body_left = on_head(head);
			if (!send_all(up, head, head_len))
				goto out;
			head_len = 0;
		}
	}
out:
	if (up >= 0)
		close(up);
	close(client);
	free(head);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int lfd;

	if (argc != 5 || atoi(argv[1]) <= 0 || atoi(argv[3]) <= 0) {
		fprintf(stderr, "usage: swapproxy UPSTREAM_PORT PATH N CMD\n");
		return 2;
	}
	upstream_port = atoi(argv[1]);
	path = argv[2];
	nth = (unsigned)atoi(argv[3]);
	cmd = argv[4];
	signal(SIGPIPE, SIG_IGN);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len) != 0) {
		perror("swapproxy");
		return 1;
	}
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		pthread_t t;
		int c = accept(lfd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("swapproxy: accept");
			return 1;
		}
		if (pthread_create(&t, NULL, relay, (void *)(intptr_t)c) != 0) {
			close(c);
			continue;
		}
		pthread_detach(t);
	}
}
