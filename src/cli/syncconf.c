/* ringvpn syncconf NAME [CONFIG]: apply a changed config file to a running
 * interface with `wg syncconf` semantics (src/config_change.h). With CONFIG
 * the file is parsed here, errors are reported here, and the change goes
 * through the UAPI socket; without it the daemon is sent SIGHUP and
 * re-reads the file it was started from (errors then go to its log). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "src/cli/commands.h"
#include "src/config.h"
#include "src/config_change.h"
#include "src/ifname.h"
#include "src/daemon/name_lock.h"
#include "src/uapi/client.h"

#define SYNCCONF_USAGE "syncconf NAME [CONFIG]"

/* The public keys the interface has now, from a get reply. */
static size_t current_keys(char *reply, uint8_t (**keys)[WG_KEY_LEN])
{
	size_t n = 0, cap = 0;
	char *save = NULL;

	*keys = NULL;
	for (char *l = strtok_r(reply, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "public_key=", 11))
			continue;
		if (n == cap) {
			void *p = realloc(*keys, (cap = cap * 2 + 64) *
						 sizeof(**keys));

			if (!p)
				break;
			*keys = p;
		}
		if (!key_from_hex((*keys)[n], l + 11))
			n++;
	}
	return n;
}

/* The change from what the interface has now to cfg, from a get=1. */
static int change_to(const char *ifname, const struct config *cfg,
		     struct change *out)
{
	static const char get[] = "get=1\n\n";
	uint8_t (*keys)[WG_KEY_LEN] = NULL;
	struct secret_buf reply;
	char err[512];
	size_t n;
	int ret = uapi_client_request(ifname, get, sizeof(get) - 1, &reply);

	if (ret) {
		fprintf(stderr, "ringvpn: syncconf: %s: %s\n", ifname,
			ret == -ENOENT ? "not up" : strerror(-ret));
		return ret;
	}
	n = current_keys(reply.data, &keys);
	secret_buf_free(&reply);
	ret = config_change(cfg, (const uint8_t(*)[WG_KEY_LEN])keys, n, out,
			    err, sizeof(err));
	free(keys);
	if (ret)
		fprintf(stderr, "ringvpn: syncconf: %s\n", err);
	return ret;
}

/* The change as a set request, in req: it carries the private and
 * preshared keys, so it is written into a wiping buffer (open_memstream
 * would leave each outgrown copy in freed memory). */
static int write_request(const struct change *change, struct secret_buf *req)
{
	FILE *f = secret_buf_stream(req);

	if (!f)
		return -ENOMEM;
	fputs("set=1\n", f);
	change_write(f, change);
	fputs("\n", f);
	return secret_buf_stream_close(f);
}

static int sync_file(const char *ifname, const char *path)
{
	struct secret_buf req = { 0 }, reply = { 0 };
	struct change change = { 0 };
	struct config cfg;
	char err[512];
	int ret;

	if (config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "ringvpn: %s\n", err);
		return 1;
	}
	ret = change_to(ifname, &cfg, &change);
	config_free(&cfg);
	if (!ret && (ret = write_request(&change, &req)))
		fprintf(stderr, "ringvpn: syncconf: %s\n", strerror(-ret));
	change_free(&change);
	if (!ret) {
		ret = uapi_client_request(ifname, req.data, req.len, &reply);
		if (ret)
			fprintf(stderr, "ringvpn: syncconf: %s refused the "
				"change: %s\n", ifname, strerror(-ret));
	}
	secret_buf_free(&reply);
	secret_buf_free(&req);
	return ret ? 1 : 0;
}

int syncconf_main(int argc, char **argv)
{
	int ret;

	if (command_wants_help(argc, argv))
		return command_usage(stdout, SYNCCONF_USAGE, 0);
	if (argc != 2 && argc != 3)
		return command_usage(stderr, SYNCCONF_USAGE, 1);
	if (!ifname_valid(argv[1])) {
		fprintf(stderr, "ringvpn: syncconf: `%s' is not an interface "
			"name\n", argv[1]);
		return 1;
	}
	if (argc == 3)
		return sync_file(argv[1], argv[2]);
	ret = name_lock_signal(argv[1], SIGHUP);
	if (ret)
		fprintf(stderr, "ringvpn: %s %s\n", argv[1], ret == -ENOENT ?
			"is not up" : strerror(-ret));
	return ret ? 1 : 0;
}
