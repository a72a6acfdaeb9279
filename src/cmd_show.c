/* ringvpn show [NAME]: the `wg show` view of an interface, read through
 * its UAPI socket, then ringvpn's own facts (threads, the data path in
 * use, per-worker counters) from the file the daemon rewrites every
 * second and on SIGUSR1. Without NAME, every interface ringvpn serves. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/keys.h"
#include "src/commands.h"
#include "src/rundir.h"
#include "src/uapi_client.h"

#define SHOW_USAGE "show [NAME]"

/* "1 minute, 5 seconds" as wg prints durations. */
static void print_ago(unsigned long long secs)
{
	static const struct { unsigned long long len; const char *name; } u[] = {
		{ 365ULL * 86400, "year" }, { 86400, "day" }, { 3600, "hour" },
		{ 60, "minute" }, { 1, "second" },
	};
	bool first = true;

	if (!secs) {
		printf("Now");
		return;
	}
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		unsigned long long n = secs / u[i].len;

		if (!n)
			continue;
		secs %= u[i].len;
		printf("%s%llu %s%s", first ? "" : ", ", n, u[i].name,
		       n == 1 ? "" : "s");
		first = false;
	}
	printf(" ago");
}

static void print_bytes(unsigned long long b)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	if (b < 1024) {
		printf("%llu B", b);
		return;
	}
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	printf("%.2f %s", v, unit[i]);
}

static void print_b64_of_hex(const char *label, const char *hex, bool derive)
{
	uint8_t key[WG_KEY_LEN], pub[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1];

	if (key_from_hex(key, hex))
		return;
	if (derive) {
		key_public_from_private(pub, key);
		key_to_base64(b64, pub);
		printf("  %s: %s\n", label, b64);
	} else {
		key_to_base64(b64, key);
		printf("%s: %s\n", label, b64);
	}
	sodium_memzero(key, sizeof(key));
}

struct peer_view {
	bool open;
	char allowed[4096];
	unsigned long long handshake, rx, tx, keepalive;
	bool psk;
	char endpoint[80];
};

static void flush_peer(struct peer_view *p)
{
	if (!p->open)
		return;
	if (p->psk)
		printf("  preshared key: (hidden)\n");
	if (p->endpoint[0])
		printf("  endpoint: %s\n", p->endpoint);
	printf("  allowed ips: %s\n", p->allowed[0] ? p->allowed : "(none)");
	if (p->handshake) {
		printf("  latest handshake: ");
		print_ago((unsigned long long)time(NULL) - p->handshake);
		printf("\n");
	}
	if (p->rx || p->tx) {
		printf("  transfer: ");
		print_bytes(p->rx);
		printf(" received, ");
		print_bytes(p->tx);
		printf(" sent\n");
	}
	if (p->keepalive)
		printf("  persistent keepalive: every %llu seconds\n",
		       p->keepalive);
	memset(p, 0, sizeof(*p));
}

static void peer_line(struct peer_view *p, const char *key, const char *v)
{
	if (!strcmp(key, "preshared_key"))
		p->psk = strspn(v, "0") != strlen(v);
	else if (!strcmp(key, "endpoint"))
		snprintf(p->endpoint, sizeof(p->endpoint), "%s", v);
	else if (!strcmp(key, "last_handshake_time_sec"))
		p->handshake = strtoull(v, NULL, 10);
	else if (!strcmp(key, "rx_bytes"))
		p->rx = strtoull(v, NULL, 10);
	else if (!strcmp(key, "tx_bytes"))
		p->tx = strtoull(v, NULL, 10);
	else if (!strcmp(key, "persistent_keepalive_interval"))
		p->keepalive = strtoull(v, NULL, 10);
	else if (!strcmp(key, "allowed_ip")) {
		size_t n = strlen(p->allowed);

		snprintf(p->allowed + n, sizeof(p->allowed) - n, "%s%s",
			 n ? ", " : "", v);
	}
}

static void device_line(const char *key, const char *v)
{
	if (!strcmp(key, "private_key")) {
		print_b64_of_hex("public key", v, true);
		printf("  private key: (hidden)\n");
	} else if (!strcmp(key, "listen_port")) {
		printf("  listening port: %s\n", v);
	} else if (!strcmp(key, "fwmark")) {
		printf("  fwmark: 0x%lx\n", strtoul(v, NULL, 10));
	}
}

/* The get reply, line by line, in wg show's words. */
static void print_wg_view(const char *ifname, char *reply)
{
	struct peer_view p = { 0 };
	char *save = NULL;

	printf("interface: %s\n", ifname);
	for (char *l = strtok_r(reply, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(l, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(l, "public_key")) {
			flush_peer(&p);
			printf("\n");
			print_b64_of_hex("peer", v, false);
			p.open = true;
		} else if (p.open) {
			peer_line(&p, l, v);
		} else {
			device_line(l, v);
		}
	}
	flush_peer(&p);
}

/* The daemon's own facts: its stats file but the interface line (the
 * peer lines add what wg does not show: handshakes done). */
static void print_facts(const char *ifname)
{
	struct timespec wait = { 0, 50 * 1000 * 1000 };
	char path[256], line[1024];
	pid_t pid = rundir_read_pid(ifname);
	FILE *f;

	if (rundir_path(ifname, "stats", path, sizeof(path)))
		return;
	if (pid > 0 && !kill(pid, SIGUSR1))
		nanosleep(&wait, NULL); /* let it write fresh numbers */
	f = fopen(path, "r");
	if (!f)
		return;
	printf("\nringvpn:\n");
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "interface:", 10))
			printf("  %s", line);
	fclose(f);
}

static int show_one(const char *ifname)
{
	static const char req[] = "get=1\n\n";
	char *reply;
	int ret = uapi_client_request(ifname, req, sizeof(req) - 1, &reply);

	if (ret) {
		fprintf(stderr, "ringvpn: show %s: %s\n", ifname,
			ret == -ENOENT ? "not up" : strerror(-ret));
		free(reply);
		return 1;
	}
	print_wg_view(ifname, reply);
	free(reply);
	print_facts(ifname);
	return 0;
}

/* Every interface with a pid file in the run directory. */
static int show_all(void)
{
	char dir[256], *slash;
	struct dirent *e;
	int status = 0, n = 0;
	DIR *d;

	if (rundir_path("x", "pid", dir, sizeof(dir)) ||
	    !(slash = strrchr(dir, '/')))
		return 1;
	*slash = '\0';
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char name[64];

		if (len < 5 || len > 20 || strcmp(e->d_name + len - 4, ".pid"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 4), e->d_name);
		if (n++)
			printf("\n");
		status |= show_one(name);
	}
	if (d)
		closedir(d);
	return status;
}

int show_main(int argc, char **argv)
{
	if (command_wants_help(argc, argv))
		return command_usage(stdout, SHOW_USAGE, 0);
	if (argc > 2)
		return command_usage(stderr, SHOW_USAGE, 1);
	return argc == 2 ? show_one(argv[1]) : show_all();
}
