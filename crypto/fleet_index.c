#include "crypto/fleet_index.h"

#include <sodium.h>
#include <string.h>

#include "crypto/kdf.h"

_Static_assert(FLEET_HASH_KEY_LEN == crypto_shorthash_KEYBYTES,
	       "round keys are SipHash keys");

/* Versioned, so that another layout of indexes gets other keys (v2:
 * eight rounds, a round key per period). */
static const char fleet_label[] = "ringvpn fleet index v2";

/* Eight: four rounds on a 32-bit domain are below what format-preserving
 * encryption uses (FF1 has ten); each round costs one SipHash of 3 bytes,
 * ~6 ns, on every unknown index. */
#define FLEET_ROUNDS 8

void fleet_key_derive(struct fleet_key *k,
		      const uint8_t private_key[WG_KEY_LEN], uint64_t period)
{
	uint8_t master[BLAKE2S_HASH_LEN];
	uint8_t round_name[5 + 8] = { 'r', 'o', 'u', 'n', 'd' };

	for (unsigned i = 0; i < 8; i++)
		round_name[5 + i] = (uint8_t)(period >> (8 * i));
	keyed_hash(master, sizeof(master), private_key, WG_KEY_LEN,
		   (const uint8_t *)fleet_label, sizeof(fleet_label) - 1);
	/* Two keys from one secret: each is the master keyed over its own
	 * name (the round key's with its period), so neither tells
	 * anything of the other, nor one period's of another's. */
	keyed_hash(k->round, sizeof(k->round), master, sizeof(master),
		   round_name, sizeof(round_name));
	keyed_hash(k->slot, sizeof(k->slot), master, sizeof(master),
		   (const uint8_t *)"slot", 4);
	sodium_memzero(master, sizeof(master));
}

void fleet_key_clear(struct fleet_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

/* The round function: 16 bits of SipHash of the half and the round. */
static uint16_t feistel_f(const struct fleet_key *k, uint16_t half,
			  unsigned round)
{
	uint8_t in[3] = { (uint8_t)half, (uint8_t)(half >> 8),
			  (uint8_t)round };
	uint8_t out[crypto_shorthash_BYTES];

	crypto_shorthash(out, in, sizeof(in), k->round);
	return (uint16_t)(out[0] | out[1] << 8);
}

uint32_t fleet_permute(const struct fleet_key *k, uint32_t x)
{
	uint16_t l = (uint16_t)(x >> 16), r = (uint16_t)x;

	for (unsigned i = 0; i < FLEET_ROUNDS; i++) {
		uint16_t next = l ^ feistel_f(k, r, i);

		l = r;
		r = next;
	}
	return (uint32_t)l << 16 | r;
}

/* The rounds backwards: each one's input half is the other's output. */
uint32_t fleet_unpermute(const struct fleet_key *k, uint32_t y)
{
	uint16_t l = (uint16_t)(y >> 16), r = (uint16_t)y;

	for (unsigned i = FLEET_ROUNDS; i-- > 0;) {
		uint16_t prev = r ^ feistel_f(k, l, i);

		r = l;
		l = prev;
	}
	return (uint32_t)l << 16 | r;
}

uint16_t fleet_slot(const struct fleet_key *k,
		    const uint8_t public_key[WG_KEY_LEN])
{
	uint8_t out[crypto_shorthash_BYTES];

	crypto_shorthash(out, public_key, WG_KEY_LEN, k->slot);
	return (uint16_t)(out[0] | out[1] << 8);
}

uint32_t fleet_index_encode(const struct fleet_key *k, uint16_t slot,
			    uint8_t rnd)
{
	return fleet_permute(k, (uint32_t)slot << 16 | FLEET_CHECK << 8 | rnd);
}

bool fleet_index_decode(const struct fleet_key *k, uint32_t index,
			uint16_t *slot)
{
	uint32_t x = fleet_unpermute(k, index);

	if (((x >> 8) & 0xff) != FLEET_CHECK)
		return false;
	*slot = (uint16_t)(x >> 16);
	return true;
}
