/* FleetRecovery's part of the device (ringvpn(8), MANY GATEWAYS): the
 * fleet key that the private key gives every gateway alike, the peers by
 * their slot, and the session indexes handed out in the fleet's form
 * (crypto/fleet_index.h), so that another gateway can tell whose a lost
 * session was. Off (the default) the device has none of it and indexes
 * stay fully random. */
#ifndef RINGVPN_SRC_DEVICE_FLEET_H
#define RINGVPN_SRC_DEVICE_FLEET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/fleet_index.h"
#include "src/fleet_keys.h"
#include "src/fleet_reports.h"
#include "src/fleet_slots.h"
#include "src/token_bucket.h"

struct device;
struct peer;

struct device_fleet {
	/* Workers read it, to pass on only unknown indexes that pass the
	 * check byte: replaced, never changed in place, when the private
	 * key or the period changes, the old one freed (wiped) after an
	 * epoch. NULL without a private key. */
	_Atomic(struct fleet_keys *) keys;
	struct fleet_slots slots; /* control thread only */
	uint64_t initiations; /* sent by fleet recovery (control thread) */
	/* Fleet recovery's initiations in all (fleet_recovery_may_send);
	 * control thread only. */
	struct token_bucket budget;
	/* Which slots the workers reported lately (any thread). */
	struct fleet_reports reports;
};

/* Turns fleet indexes on for dev: its peers so far join their slots.
 * Before the workers start. 0 or -ENOMEM. */
int device_fleet_enable(struct device *dev);
/* Frees it all (no reader left); harmless when off. */
void device_fleet_destroy(struct device *dev);
/* The private key changed: new fleet keys for the period of the wall
 * clock, and every peer's slot anew. 0, or -ENOMEM, after which indexes
 * are random (no fleet key). */
int device_fleet_rekey(struct device *dev);
/* Control thread, often (each tick): new keys when unix_seconds is in
 * another period than the keys'. 0, or -ENOMEM, after which the old
 * keys stay and the next call tries again. Slots do not change. */
int device_fleet_rotate(struct device *dev, uint64_t unix_seconds);
void device_fleet_add_peer(struct device *dev, struct peer *peer);
void device_fleet_remove_peer(struct device *dev, struct peer *peer);

/* A new local index for peer in the table, in the fleet's form when on
 * (random when its slot is crowded). 0 or -ENOMEM. */
int device_fleet_add_index(struct device *dev, struct peer *peer,
			   uint32_t *index);

/* Any thread: whether index, unknown here, may be a fleet index of
 * another gateway (its check byte holds); false when off. */
bool device_fleet_may_know(const struct device *dev, uint32_t index);
/* The same, with the index's slot in *slot. */
bool device_fleet_slot_of(const struct device *dev, uint32_t index,
			  uint16_t *slot);
/* Any thread: whether data under index, unknown here, that came at now
 * should go to the control thread: it may be a fleet index and its slot
 * was not reported in the last FLEET_REPORT_INTERVAL_MS (which this
 * records). */
bool device_fleet_report(struct device *dev, uint32_t index, uint64_t now);

#endif
