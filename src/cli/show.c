/* ringvpn show [NAME [dump]]: the `wg show` view of an interface, read
 * through its UAPI socket, then ringvpn's own facts (threads, the data
 * path in use, per-worker counters) from the file the daemon rewrites
 * every second and on SIGUSR1. Without NAME, every interface ringvpn
 * serves; with dump, wg show's tab-separated form and nothing else. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "src/cli/commands.h"
#include "src/ifname.h"
#include "src/daemon/name_lock.h"
#include "src/rundir.h"
#include "src/uapi/client.h"
#include "src/uapi/view.h"

#define SHOW_USAGE "show [NAME [dump]]"

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

static const char *b64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	key_to_base64(out, key);
	return out;
}

/* "a,b" as "a, b". */
static void print_list(const char *csv)
{
	for (; *csv; csv++) {
		if (*csv == ',')
			fputs(", ", stdout);
		else
			putchar(*csv);
	}
}

static void print_peer(const struct uapi_peer_view *p, time_t now)
{
	char key[WG_KEY_B64_LEN + 1];

	printf("\npeer: %s\n", b64(key, p->public_key));
	if (p->has_psk)
		printf("  preshared key: (hidden)\n");
	if (p->endpoint[0])
		printf("  endpoint: %s\n", p->endpoint);
	printf("  allowed ips: ");
	print_list(p->allowed_ips ? p->allowed_ips : "(none)");
	printf("\n");
	if (p->handshake_sec) {
		printf("  latest handshake: ");
		print_ago((unsigned long long)now - p->handshake_sec);
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
		printf("  persistent keepalive: every %u seconds\n",
		       p->keepalive);
}

/* Newest handshake first, as wg show sorts. */
static int by_handshake(const void *a, const void *b)
{
	const struct uapi_peer_view *x = *(const struct uapi_peer_view *const *)a;
	const struct uapi_peer_view *y = *(const struct uapi_peer_view *const *)b;

	return x->handshake_sec < y->handshake_sec ? 1 :
	       x->handshake_sec > y->handshake_sec ? -1 : 0;
}

/* Pointers to the peers, sorted; the views themselves are not: glibc's
 * qsort copies elements into a buffer it mallocs and frees unwiped, and
 * a view holds a preshared key. NULL for no peers or no memory. */
static const struct uapi_peer_view **sorted_peers(const struct uapi_view *v)
{
	const struct uapi_peer_view **order;

	if (!v->n_peers || !(order = malloc(v->n_peers * sizeof(*order))))
		return NULL;
	for (size_t i = 0; i < v->n_peers; i++)
		order[i] = &v->peers[i];
	qsort(order, v->n_peers, sizeof(*order), by_handshake);
	return order;
}

static int print_wg_view(const char *ifname, const struct uapi_view *v)
{
	const struct uapi_peer_view **order = sorted_peers(v);
	char key[WG_KEY_B64_LEN + 1];
	time_t now = time(NULL);

	if (v->n_peers && !order)
		return -ENOMEM;
	printf("interface: %s\n", ifname);
	if (v->has_private_key) {
		printf("  public key: %s\n", b64(key, v->public_key));
		printf("  private key: (hidden)\n");
	}
	if (v->listen_port)
		printf("  listening port: %u\n", v->listen_port);
	if (v->fwmark)
		printf("  fwmark: 0x%x\n", v->fwmark);
	for (size_t i = 0; i < v->n_peers; i++)
		print_peer(order[i], now);
	free(order);
	return 0;
}

/* wg show NAME dump's tab-separated form, field for field: keys too, as
 * wg prints them (the socket is root's alone). */
static void print_dump(const struct uapi_view *v)
{
	char key[WG_KEY_B64_LEN + 1], psk[WG_KEY_B64_LEN + 1];

	printf("%s\t", v->has_private_key ? b64(key, v->private_key) :
		"(none)");
	printf("%s\t%u\t", v->has_private_key ? b64(key, v->public_key) :
	       "(none)", v->listen_port);
	if (v->fwmark)
		printf("0x%x\n", v->fwmark);
	else
		printf("off\n");
	sodium_memzero(key, sizeof(key));
	for (size_t i = 0; i < v->n_peers; i++) {
		const struct uapi_peer_view *p = &v->peers[i];

		printf("%s\t%s\t%s\t%s\t%llu\t%llu\t%llu\t",
		       b64(key, p->public_key),
		       p->has_psk ? b64(psk, p->psk) : "(none)",
		       p->endpoint[0] ? p->endpoint : "(none)",
		       p->allowed_ips ? p->allowed_ips : "(none)",
		       (unsigned long long)p->handshake_sec,
		       (unsigned long long)p->rx, (unsigned long long)p->tx);
		if (p->keepalive)
			printf("%u\n", p->keepalive);
		else
			printf("off\n");
	}
	sodium_memzero(psk, sizeof(psk));
}

/* The daemon's own facts: its stats file but the interface line (the
 * peer lines add what wg does not show: handshakes done). */
static void print_facts(const char *ifname)
{
	struct timespec wait = { 0, 50 * 1000 * 1000 };
	char path[256], line[1024];
	FILE *f;

	if (rundir_path(ifname, "stats", path, sizeof(path)))
		return;
	if (!name_lock_signal(ifname, SIGUSR1))
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

static int show_one(const char *ifname, bool dump)
{
	static const char req[] = "get=1\n\n";
	struct secret_buf reply;
	struct uapi_view v;
	int ret = uapi_client_request(ifname, req, sizeof(req) - 1, &reply);

	if (!ret)
		ret = uapi_view_parse(&v, reply.data);
	/* Wiped by its capacity: the parser cut the lines at '=', so the
	 * keys follow NULs (strlen would stop short of them). */
	secret_buf_free(&reply);
	if (ret) {
		fprintf(stderr, "ringvpn: show %s: %s\n", ifname,
			ret == -ENOENT ? "not up" : strerror(-ret));
		return 1;
	}
	if (dump) {
		print_dump(&v);
	} else {
		ret = print_wg_view(ifname, &v);
		if (!ret)
			print_facts(ifname);
	}
	uapi_view_free(&v);
	if (ret)
		fprintf(stderr, "ringvpn: show %s: %s\n", ifname,
			strerror(-ret));
	return ret ? 1 : 0;
}

/* Every interface whose lock a daemon holds in the run directory. */
static int show_all(void)
{
	struct dirent *e;
	int status = 0, n = 0;
	DIR *d = opendir(rundir_dir());
	pid_t pid;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char name[64];
		int fd;

		if (len < 5 || len > 20 || strcmp(e->d_name + len - 4, ".pid"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 4), e->d_name);
		if ((fd = name_lock_holder(name, &pid)) < 0)
			continue; /* stale: `down NAME' removes it */
		close(fd);
		if (n++)
			printf("\n");
		status |= show_one(name, false);
	}
	if (d)
		closedir(d);
	return status;
}

int show_main(int argc, char **argv)
{
	if (command_wants_help(argc, argv))
		return command_usage(stdout, SHOW_USAGE, 0);
	if (argc > 3 || (argc == 3 && strcmp(argv[2], "dump")))
		return command_usage(stderr, SHOW_USAGE, 1);
	if (argc >= 2 && !ifname_valid(argv[1])) {
		fprintf(stderr, "ringvpn: show: `%s' is not an interface name\n",
			argv[1]);
		return 1;
	}
	/* The dump prints keys, and stdio's buffer would keep the last ones
	 * printed, unwiped, until the process ends. Unbuffered, each printf
	 * is still one write. (Before any output, as setvbuf must be.) */
	if (argc == 3)
		setvbuf(stdout, NULL, _IONBF, 0);
	return argc >= 2 ? show_one(argv[1], argc == 3) : show_all();
}
