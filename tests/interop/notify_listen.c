/* notify_listen PATH SECONDS: what systemd's NOTIFY_SOCKET would hear.
 * Binds a datagram socket at PATH and prints each message on one line
 * (its own newlines shown as " | "), flushing at once, until a message
 * with STOPPING=1 or SECONDS without one. For the systemd test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static void print_message(char *msg)
{
	for (char *nl = strchr(msg, '\n'); nl; nl = strchr(msg, '\n')) {
		*nl = '\0';
		printf("%s | ", msg);
		msg = nl + 1;
	}
	printf("%s\n", msg);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 0 };
	char buf[4096];
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: notify_listen PATH SECONDS\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	tv.tv_sec = atoi(argv[2]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	unlink(argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		perror("notify_listen");
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			return 1; /* timed out */
		buf[n] = '\0';
		print_message(buf);
		if (strstr(buf, "STOPPING=1"))
			return 0;
	}
}
