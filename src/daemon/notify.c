#include "src/daemon/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void notify_init(struct notifier *n)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len = path ? strlen(path) : 0;

	memset(n, 0, sizeof(*n));
	if (len < 2 || len >= sizeof(n->addr.sun_path) ||
	    (path[0] != '/' && path[0] != '@'))
		return;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@')
		n->addr.sun_path[0] = '\0'; /* abstract: no terminating NUL */
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				  len + (path[0] == '/'));
	n->enabled = true;
	unsetenv("NOTIFY_SOCKET");
}

int notify_send(const struct notifier *n, const char *text)
{
	int fd, ret = 0;

	if (!n->enabled)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, text, strlen(text), MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->addr, n->addr_len) < 0)
		ret = -errno;
	close(fd);
	return ret;
}
