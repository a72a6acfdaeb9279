#include "src/fleet_keys.h"

#include <sodium.h>
#include <stdlib.h>

struct fleet_keys *fleet_keys_new(const uint8_t private_key[WG_KEY_LEN],
				  uint64_t period)
{
	struct fleet_keys *k = malloc(sizeof(*k));

	if (!k)
		return NULL;
	k->period = period;
	fleet_key_derive(&k->cur, private_key, period);
	/* Period 0 (1970) has no period before it: any key will do. */
	fleet_key_derive(&k->prev, private_key, period ? period - 1 : 0);
	return k;
}

void fleet_keys_free(void *keys)
{
	sodium_memzero(keys, sizeof(struct fleet_keys));
	free(keys);
}

bool fleet_keys_decode(const struct fleet_keys *k, uint32_t index,
		       uint16_t *slot)
{
	return fleet_index_decode(&k->cur, index, slot) ||
	       fleet_index_decode(&k->prev, index, slot);
}
