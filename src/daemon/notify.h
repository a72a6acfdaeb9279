/* systemd's readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram to $NOTIFY_SOCKET per state change. READY=1 once the
 * interface is up, RELOADING=1 and READY=1 around a SIGHUP reload,
 * STOPPING=1 on the way down. Without NOTIFY_SOCKET nothing happens. */
#ifndef RINGVPN_SRC_NOTIFY_H
#define RINGVPN_SRC_NOTIFY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

struct notifier {
	bool enabled;
	struct sockaddr_un addr;
	socklen_t addr_len;
};

/* Takes NOTIFY_SOCKET (a path, or "@name" for the abstract namespace)
 * and removes it from the environment, so that hooks and resolvconf do
 * not inherit it and speak for us. */
void notify_init(struct notifier *n);
/* Sends text (lines "KEY=value" separated by '\n'). Returns 0, or -errno
 * for the caller to log at debug level: systemd not listening is not our
 * failure. */
int notify_send(const struct notifier *n, const char *text);

#endif
