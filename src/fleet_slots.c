#include "src/fleet_slots.h"

#include <errno.h>
#include <stdlib.h>

/* Slots are keyed hashes, uniform over 16 bits: their low bits pick the
 * bucket. */
static struct fleet_member **bucket_of(const struct fleet_slots *s,
				       uint16_t slot)
{
	return &s->buckets[slot & (FLEET_SLOTS_BUCKETS - 1)];
}

int fleet_slots_init(struct fleet_slots *s)
{
	s->buckets = calloc(FLEET_SLOTS_BUCKETS, sizeof(*s->buckets));
	s->count = 0;
	return s->buckets ? 0 : -ENOMEM;
}

void fleet_slots_destroy(struct fleet_slots *s)
{
	free(s->buckets);
	s->buckets = NULL;
	s->count = 0;
}

void fleet_slots_add(struct fleet_slots *s, struct fleet_member *m,
		     uint16_t slot)
{
	struct fleet_member **head = bucket_of(s, slot);

	m->slot = slot;
	m->next = *head;
	if (m->next)
		m->next->pprev = &m->next;
	m->pprev = head;
	*head = m;
	s->count++;
}

void fleet_slots_remove(struct fleet_slots *s, struct fleet_member *m)
{
	if (!m->pprev)
		return;
	*m->pprev = m->next;
	if (m->next)
		m->next->pprev = m->pprev;
	m->next = NULL;
	m->pprev = NULL;
	s->count--;
}

static struct fleet_member *same_slot(struct fleet_member *m, uint16_t slot)
{
	while (m && m->slot != slot)
		m = m->next;
	return m;
}

struct fleet_member *fleet_slots_first(const struct fleet_slots *s,
				       uint16_t slot)
{
	return same_slot(*bucket_of(s, slot), slot);
}

struct fleet_member *fleet_slots_next(const struct fleet_member *m)
{
	return same_slot(m->next, m->slot);
}
