/*
 * freeport: print N free TCP ports on 127.0.0.1, one per line.
 *
 * The kernel picks each port (bind to port 0); all N sockets stay open
 * until every port is chosen, so the N are distinct. A server started
 * right after may still lose a race for its port; the harness retries.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PORTS 16

int main(int argc, char **argv)
{
	int fds[MAX_PORTS];
	int n = argc > 1 ? atoi(argv[1]) : 1;
	int i, rc = 1;

	if (n < 1 || n > MAX_PORTS) {
		fprintf(stderr, "usage: freeport [1..%d]\n", MAX_PORTS);
		return 2;
	}
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t len = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 ||
		    bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0) {
			perror("freeport");
			goto out;
		}
		printf("%d\n", ntohs(sa.sin_port));
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}
