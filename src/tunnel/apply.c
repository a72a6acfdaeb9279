#include "src/tunnel/apply.h"

#include "src/device_apply.h"
#include "src/tunnel/session_table.h"
#include "src/tunnel/socket_group.h"

int tunnel_apply(struct tunnel *tn, const struct change *c)
{
	int ret = 0;

	/* The one change that can fail for reasons outside the request
	 * goes first, so that its failure leaves everything as it was. */
	if (c->set_listen_port &&
	    (ret = tunnel_set_listen_port(tn, c->listen_port)))
		return ret;
	if (c->set_fwmark && (ret = tunnel_set_fwmark(tn, c->fwmark)))
		return ret;
	ret = device_apply(&tn->dev, c, tunnel_now(tn));
	/* Also after a failure: the changes before it stay. An endpoint or
	 * a keepalive alone moves no route: no pass over every peer. */
	if (change_moves_allowed_ips(c))
		session_table_refresh(tn);
	return ret;
}
