#include "src/uapi/uapi.h"

#include <errno.h>
#include <string.h>

#include "src/log.h"
#include "src/tunnel/apply.h"
#include "src/uapi/parse.h"

/* One line per change a person made with wg set, wg syncconf, ... */
static void log_change(struct tunnel *tn, const struct change *s)
{
	size_t removed = 0;

	for (size_t i = 0; i < s->n_peers; i++)
		removed += s->peers[i].remove;
	log_info("%s: configuration changed through the UAPI: %s%s%s%s%zu "
		 "peer(s) set, %zu removed", tn->ifname,
		 s->set_private_key ? "private key, " : "",
		 s->set_listen_port ? "listen port, " : "",
		 s->set_fwmark ? "fwmark, " : "",
		 s->replace_peers ? "all peers replaced, " : "",
		 s->n_peers - removed, removed);
}

static void handle_set(struct tunnel *tn, const char *body, size_t len,
		       FILE *reply)
{
	struct change s;
	char err[256];
	int ret = uapi_parse_set(&s, body, len, err, sizeof(err));

	if (ret) {
		log_warn("%s: UAPI set refused: %s", tn->ifname, err);
	} else {
		ret = tunnel_apply(tn, &s);
		if (ret)
			log_warn("%s: UAPI set failed: %s", tn->ifname,
				 strerror(-ret));
		else if (len)
			log_change(tn, &s);
		change_free(&s);
	}
	fprintf(reply, "errno=%d\n\n", ret);
}

void uapi_handle(void *arg, const char *req, size_t len, FILE *reply)
{
	struct tunnel *tn = arg;
	int ret;

	/* The request ends with its empty line; the parser sees the lines
	 * between the operation and that line. */
	if (len >= 7 && !memcmp(req, "get=1\n", 6) && req[6] == '\n') {
		ret = uapi_get(tn, reply);
		fprintf(reply, "errno=%d\n\n", ret);
		return;
	}
	if (len >= 7 && !memcmp(req, "set=1\n", 6)) {
		handle_set(tn, req + 6, len - 7, reply);
		return;
	}
	fprintf(reply, "errno=%d\n\n", -EINVAL);
}
