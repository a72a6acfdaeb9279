/* SessionTable's routes against what the kernel lost behind our back:
 * the routes through a device that goes down (the link events say so,
 * however short the down), and a flush of the table (a comparison every
 * SESSION_RECONCILE_S). What is lost is added again. */
#include "src/tunnel/session_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/clock.h"
#include "src/log.h"
#include "src/netconf/netconf.h"
#include "src/session_route.h"
#include "src/tunnel/session_entry.h"
#include "src/tunnel/state.h"

static struct session_held held_of(int family,
				   const struct netlink_route_item *it)
{
	struct session_held h = {
		.p = { .family = family, .cidr = it->prefixlen },
		.metric = it->metric,
	};

	memcpy(h.p.addr, it->dst, sizeof(h.p.addr));
	return h;
}

/* What the kernel holds of the table: both families' routes of our
 * protocol through the device (IPv6 when on), sorted. */
static int kernel_routes(struct tunnel *tn, struct session_held **out,
			 size_t *n_out)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct session_held *v = NULL;
	size_t n = 0;
	int ret = 0;

	for (size_t f = 0; !ret && f < 2; f++) {
		struct netlink_route_item *items;
		size_t n_items;
		void *more;

		if (families[f] == AF_INET6 && !tn->sessions.ipv6)
			continue;
		ret = netlink_proto_route_list(&tn->nl, tn->tun.ifindex,
					       families[f], tn->sessions.table,
					       NETCONF_SESSION_PROTOCOL,
					       &items, &n_items);
		if (ret)
			break;
		more = realloc(v, (n + n_items + 1) * sizeof(*v));
		if (more) {
			v = more;
			for (size_t i = 0; i < n_items; i++)
				v[n++] = held_of(families[f], &items[i]);
		}
		ret = more ? 0 : -ENOMEM;
		free(items);
	}
	if (ret) {
		free(v);
		return ret;
	}
	session_held_sort(v, n);
	*out = v;
	*n_out = n;
	return 0;
}

/* The held routes the kernel does not have are added again. */
static void reconcile(struct tunnel *tn)
{
	struct session_held *v;
	size_t n, lost = 0;
	uint64_t now = tunnel_now(tn);
	int ret = kernel_routes(tn, &v, &n);

	if (ret) {
		log_warn("%s: cannot read table %u to check the session "
			 "routes: %s", tn->ifname, tn->sessions.table,
			 strerror(-ret));
		return;
	}
	for (struct session_entry *e = tn->sessions.all; e; e = e->next) {
		size_t k = session_route_lost(&e->route, v, n);

		lost += k;
		if (k && e->peer)
			session_entry_sync(tn, e, now);
	}
	free(v);
	session_entries_free_done(tn);
	if (lost)
		log_info("%s: %zu session route(s) were gone from table %u: "
			 "added again", tn->ifname, lost, tn->sessions.table);
}

static void on_link(int ifindex, bool up, void *arg)
{
	struct tunnel *tn = arg;

	if (ifindex != tn->tun.ifindex)
		return;
	tn->sessions.link_up = up;
	if (!up)
		tn->sessions.link_lost = true;
}

void session_table_watch(struct tunnel *tn)
{
	struct session_table *st = &tn->sessions;
	uint64_t now = monotonic_ns();
	int ret;

	if (!st->table)
		return;
	ret = st->links.sock ?
		      netlink_link_monitor_read(&st->links, on_link, tn) : 0;
	/* Events dropped: whatever they said, the table is checked. */
	if (ret)
		st->link_lost = true;
	if (!st->link_up || (!st->link_lost && now < st->reconcile_at))
		return;
	st->link_lost = false;
	st->reconcile_at = now + SESSION_RECONCILE_S * NS_PER_S;
	reconcile(tn);
}

void session_watch_start(struct tunnel *tn)
{
	struct session_table *st = &tn->sessions;
	int ret = netlink_link_monitor_open(&st->links);

	st->reconcile_at = monotonic_ns() + SESSION_RECONCILE_S * NS_PER_S;
	if (ret)
		log_warn("%s: no link events (%s): session routes lost to a "
			 "link down are back within %u s", tn->ifname,
			 strerror(-ret), SESSION_RECONCILE_S);
}
