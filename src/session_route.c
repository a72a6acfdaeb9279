/* What one peer's session routes should be, and getting the kernel
 * there: the held list follows every add and delete that worked, so it
 * is always what the kernel has. Lists are sorted, so that "is it in
 * the other list" is a binary search: a site peer may have many
 * prefixes. */
#include "src/session_route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t session_route_metric(uint64_t wall_s)
{
	return wall_s < SESSION_METRIC_BASE ?
		       SESSION_METRIC_BASE - (uint32_t)wall_s : 1;
}

void session_route_established(struct session_route *r, uint64_t now,
			       uint64_t wall_s)
{
	uint32_t metric = session_route_metric(wall_s);

	r->live_until = now + SESSION_ROUTE_LIFETIME_NS;
	/* Newer is lower; a clock set back moves it too. */
	if (!r->metric || metric > r->metric ||
	    r->metric - metric >= SESSION_METRIC_STEP_S)
		r->metric = metric;
}

bool session_route_live(const struct session_route *r, uint64_t now)
{
	return r->live_until && now < r->live_until;
}

/* Family, then address, then length: any total order will do. */
static int prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;
	int r;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	r = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (r)
		return r;
	return (x->cidr > y->cidr) - (x->cidr < y->cidr);
}

static bool holds(const struct prefix *v, size_t n, const struct prefix *p)
{
	return n && bsearch(p, v, n, sizeof(*v), prefix_cmp);
}

/* struct session_held starts with its prefix. */
static struct session_held *held(const struct session_route *r,
				 const struct prefix *p)
{
	return r->n_have ? bsearch(p, r->have, r->n_have, sizeof(*r->have),
				   prefix_cmp) : NULL;
}

int session_route_want(struct session_route *r, const struct prefix *v,
		       size_t n)
{
	struct prefix *want = NULL;
	size_t kept = 0;

	if (n && !(want = malloc(n * sizeof(*want))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		want[i] = prefix_masked(&v[i]);
	if (n)
		qsort(want, n, sizeof(*want), prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!kept || prefix_cmp(&want[kept - 1], &want[i]))
			want[kept++] = want[i];
	free(r->want);
	r->want = want;
	r->n_want = kept;
	return 0;
}

int session_route_prune(struct session_route *r, uint64_t now,
			const struct session_route_ops *ops, void *ctx)
{
	bool live = session_route_live(r, now);
	size_t kept = 0;
	int first = 0;

	/* In place: what stays keeps its order. */
	for (size_t i = 0; i < r->n_have; i++) {
		const struct session_held *h = &r->have[i];
		bool stays = live && holds(r->want, r->n_want, &h->p);
		int ret = stays ? 0 : ops->del(ctx, &h->p, h->metric);

		if (ret == -ENOENT)
			continue;
		if (ret && !first)
			first = ret;
		if (ret || stays)
			r->have[kept++] = *h;
	}
	r->n_have = kept;
	return first;
}

/* The held route h to r->metric: the new one first. A failed deletion
 * leaves both; the next try finds the new one there (add's "existed")
 * and deletes the old one again. */
static int restamp(struct session_route *r, struct session_held *h,
		   const struct session_route_ops *ops, void *ctx)
{
	int ret = ops->add(ctx, &h->p, r->metric);

	if (!ret)
		ret = ops->del(ctx, &h->p, h->metric);
	if (ret == -ENOENT)
		ret = 0;
	if (!ret)
		h->metric = r->metric;
	return ret;
}

int session_route_grow(struct session_route *r, uint64_t now,
		       const struct session_route_ops *ops, void *ctx)
{
	struct session_held *have, *h;
	size_t n;
	int first = 0;

	if (!session_route_live(r, now))
		return 0;
	/* Never more than held and wanted together. */
	have = realloc(r->have, (r->n_have + r->n_want + 1) * sizeof(*have));
	if (!have)
		return -ENOMEM;
	r->have = have;
	n = r->n_have;
	for (size_t i = 0; i < r->n_want; i++) {
		const struct prefix *p = &r->want[i];
		int ret = 0;

		if ((h = held(r, p)) && h->metric != r->metric)
			ret = restamp(r, h, ops, ctx);
		else if (!h && !(ret = ops->add(ctx, p, r->metric)))
			r->have[n++] = (struct session_held){ *p, r->metric };
		if (ret && !first)
			first = ret;
	}
	r->n_have = n;
	qsort(r->have, r->n_have, sizeof(*r->have), prefix_cmp);
	return first;
}

int session_route_sync(struct session_route *r, uint64_t now,
		       const struct session_route_ops *ops, void *ctx)
{
	int pruned = session_route_prune(r, now, ops, ctx);
	int grown = session_route_grow(r, now, ops, ctx);

	return pruned ? pruned : grown;
}

/* Prefix, then metric. */
static int held_cmp(const void *a, const void *b)
{
	const struct session_held *x = a, *y = b;
	int r = prefix_cmp(&x->p, &y->p);

	return r ? r : (x->metric > y->metric) - (x->metric < y->metric);
}

void session_held_sort(struct session_held *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), held_cmp);
}

size_t session_route_lost(struct session_route *r,
			  const struct session_held *kernel, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n_have; i++)
		if (n && bsearch(&r->have[i], kernel, n, sizeof(*kernel),
				 held_cmp))
			r->have[kept++] = r->have[i];
	n = r->n_have - kept;
	r->n_have = kept;
	return n;
}

void session_route_free(struct session_route *r)
{
	free(r->want);
	free(r->have);
	r->want = NULL;
	r->have = NULL;
	r->n_want = r->n_have = 0;
}
