#!/bin/bash
# No key is left in freed heap memory, by the daemon or by the CLI. Every
# ringvpn process here runs under free_scan.so (tests/interop/free_scan.c),
# which searches each block as it is freed, or as a realloc leaves it, for
# the private keys and preshared keys of this test, raw, base64 and hex,
# and logs each find. Daemon A has 2001 peers with preshared keys (so its
# UAPI replies and requests grow their buffers many times) and one real
# peer, B, so a handshake with a preshared key is made and traffic flows:
#   - the positive control: free_leak leaves a key in freed memory in each
#     form, by free, by realloc and through open_memstream, and the
#     scanner must report each (else it would pass anything);
#   - ringvpn pubkey, ringvpn show A, ringvpn show A dump;
#   - SIGHUP after one more peer is added to A's file (the reload);
#   - ringvpn syncconf A FILE with one more peer again;
#   - wg set A private-key (a set request through the socket);
#   - SIGTERM to A and B (every peer, key and buffer freed);
# and after each step the scanner's log must be empty.
# Needs root, ip, ping, ncat, wg; exits 77 (skip) otherwise, and for a
# sanitizer build (its runtime must be the first library loaded and owns
# malloc; the scanner cannot be put in front of it). RINGVPN names the
# binary, FREE_SCAN and FREE_LEAK the scanner and its control.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init key_wipe wg
if asan_build; then
	skip "$RINGVPN is built with AddressSanitizer, which cannot run" \
		"under the LD_PRELOAD scanner of freed memory"
fi
BUILD=$(dirname "$RINGVPN")
FREE_SCAN=${FREE_SCAN:-$BUILD/tests/interop/free_scan.so}
FREE_LEAK=${FREE_LEAK:-$BUILD/tests/interop/free_leak}
for f in "$FREE_SCAN" "$FREE_LEAK"; do
	[ -r "$f" ] || { echo "FAIL: $f not built (make check builds it)"; exit 1; }
done
# As /proc/PID/maps names it, and whatever the daemons' directory.
FREE_SCAN=$(realpath "$FREE_SCAN")
make_pair "rv-kw-a-$$" "rv-kw-b-$$"

A=rvk$$a
B=rvk$$b
PORT_A=51890
PORT_B=51891
T4_A=10.94.0.1
T4_B=10.94.0.2
FAKE_PEERS=2000
PUB_A=$(make_key a)
PUB_B=$(make_key b)
make_key c >/dev/null # the private key wg set gives A at the end
"$RINGVPN" genpsk >"$TMP/psk_b"
"$RINGVPN" genpsk >"$TMP/psk_many"
cat "$TMP/a.key" "$TMP/b.key" "$TMP/c.key" "$TMP/psk_b" "$TMP/psk_many" \
	>"$TMP/needles"
SCAN_LOG=$TMP/scan.log

# $TMP/scanned LOG CMD...: CMD under the scanner, finds logged to LOG.
cat >"$TMP/scanned" <<EOF
#!/bin/sh
log=\$1
shift
exec env LD_PRELOAD="$FREE_SCAN" RV_FREE_SCAN_KEYS="$TMP/needles" \\
	RV_FREE_SCAN_LOG="\$log" "\$@"
EOF
# From here on every ringvpn, daemon or command, runs under the scanner
# (env execs it: the PID start_ringvpn records is the daemon's).
cat >"$TMP/ringvpn" <<EOF
#!/bin/sh
exec "$TMP/scanned" "$SCAN_LOG" "$RINGVPN" "\$@"
EOF
chmod +x "$TMP/scanned" "$TMP/ringvpn"
RINGVPN=$TMP/ringvpn

# fake_peers FIRST N: N [Peer] sections with made-up public keys (42
# digits, 'A' and '=': canonical base64 of 32 bytes, distinct, and no
# key to generate), all with the same preshared key.
fake_peers() {
	awk -v first="$1" -v n="$2" -v psk="$(cat "$TMP/psk_many")" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "\n[Peer]\nPublicKey = %042dA=\n" \
				"PresharedKey = %s\nAllowedIPs = 10.95.%d.%d/32\n",
				i, psk, int(i / 256), i % 256
	}'
}

# Table = off: start_ringvpn would wait for a route per AllowedIPs.
config_interface "$TMP/$A.conf" a "$PORT_A" "$T4_A/24" "Table = off"
config_peer "$TMP/$A.conf" "$PUB_B" "$T4_B/32" "$UL4_B:$PORT_B" \
	"PresharedKey = $(cat "$TMP/psk_b")"
fake_peers 1 "$FAKE_PEERS" >>"$TMP/$A.conf"
config_interface "$TMP/$B.conf" b "$PORT_B" "$T4_B/24"
config_peer "$TMP/$B.conf" "$PUB_A" "$T4_A/32" "$UL4_A:$PORT_A" \
	"PresharedKey = $(cat "$TMP/psk_b")"

# no_keys_freed: the scanner found nothing (else its lines are shown:
# process, key, form, block size).
no_keys_freed() {
	[ ! -s "$SCAN_LOG" ] || {
		echo "$(wc -l <"$SCAN_LOG") finds of a key in freed memory:"
		cat "$SCAN_LOG"
		false
	}
}

# step TEXT FN: check, with a scanner log of this step's finds alone: what
# came before (an earlier step's finds, or dump_diag's `ringvpn show`
# after a failure) is moved aside first.
STEP=0
step() {
	STEP=$((STEP + 1))
	[ ! -e "$SCAN_LOG" ] || mv "$SCAN_LOG" "$TMP/scan-before-$STEP.log"
	check "$@"
}

# A UAPI request is answered, and its buffers freed, before the next
# one's: one more request means the daemon is done with the last.
daemon_caught_up() {
	ip netns exec "$NS_A" wg show "$A" listen-port >/dev/null
}

peers_of_a() { ip netns exec "$NS_A" wg show "$A" peers | wc -l; }

positive_control() {
	local key log=$TMP/control.log form
	key=$(cat "$TMP/psk_many")
	"$TMP/scanned" "$log" "$FREE_LEAK" "$key" || return 1
	cat "$log"
	for form in raw hex base64; do
		grep -F "free_leak[" "$log" | grep -F "key 5 ($form)" \
			>/dev/null || { echo "no $form find"; return 1; }
	done
}

# Both daemons run under the scanner, and the tunnel (a handshake with a
# preshared key) carries a ping.
daemons_scanned() {
	local name
	for name in "$A" "$B"; do
		grep -F "$FREE_SCAN" "/proc/${RV_PID[$name]}/maps" >/dev/null ||
			{ echo "$name runs without the scanner"; return 1; }
	done
	ping_ok "$NS_A" "$T4_B" && no_keys_freed
}

pubkey_clean() {
	[ "$("$RINGVPN" pubkey <"$TMP/a.key")" = "$PUB_A" ] && no_keys_freed
}

show_clean() {
	in_rv "$A" "$RINGVPN" show "$A" >"$TMP/show" || return 1
	[ "$(grep -c '^peer: ' "$TMP/show")" -eq $((FAKE_PEERS + 1)) ] &&
		grep -Fx "  private key: (hidden)" "$TMP/show" >/dev/null &&
		daemon_caught_up && no_keys_freed
}

# The dump prints the private key: it went through show's reply buffer.
show_dump_clean() {
	in_rv "$A" "$RINGVPN" show "$A" dump >"$TMP/dump" || return 1
	[ "$(head -n 1 "$TMP/dump" | cut -f1)" = "$(cat "$TMP/a.key")" ] &&
		[ "$(wc -l <"$TMP/dump")" -eq $((FAKE_PEERS + 2)) ] &&
		daemon_caught_up && no_keys_freed
}

reload_clean() {
	fake_peers $((FAKE_PEERS + 1)) 1 >>"$TMP/$A.conf"
	kill -HUP "${RV_PID[$A]}"
	wait_for 15 sh -c "[ \$(ip netns exec $NS_A wg show $A peers |
		wc -l) -eq $((FAKE_PEERS + 2)) ]" || {
		echo "$(peers_of_a) peers after the reload"
		return 1
	}
	ping_ok "$NS_A" "$T4_B" && no_keys_freed
}

syncconf_clean() {
	cp "$TMP/$A.conf" "$TMP/sync.conf"
	fake_peers $((FAKE_PEERS + 2)) 1 >>"$TMP/sync.conf"
	in_rv "$A" "$RINGVPN" syncconf "$A" "$TMP/sync.conf" || return 1
	[ "$(peers_of_a)" -eq $((FAKE_PEERS + 3)) ] &&
		ping_ok "$NS_A" "$T4_B" && daemon_caught_up && no_keys_freed
}

wg_set_clean() {
	ip netns exec "$NS_A" wg set "$A" private-key "$TMP/c.key" &&
		[ "$(ip netns exec "$NS_A" wg show "$A" private-key)" = \
			"$(cat "$TMP/c.key")" ] && no_keys_freed
}

stops_clean() {
	stop_ringvpns "$A" "$B" && no_keys_freed
}

step "positive control: the scanner finds a key freed raw, as hex by a realloc, as base64 by open_memstream" \
	positive_control
start_ringvpn "$NS_B" "$TMP/$B.conf"
start_ringvpn "$NS_A" "$TMP/$A.conf"
step "both daemons under the scanner; a ping with a preshared key" \
	daemons_scanned
step "ringvpn pubkey leaves no key in freed memory" pubkey_clean
step "ringvpn show ($FAKE_PEERS peers): no key in freed memory" show_clean
step "ringvpn show dump: no key in freed memory" show_dump_clean
step "SIGHUP reload with one more peer: no key in freed memory" \
	reload_clean
step "ringvpn syncconf with one more peer: no key in freed memory" \
	syncconf_clean
step "wg set private-key: no key in freed memory" wg_set_clean
step "SIGTERM: every key freed wiped, in A and B" stops_clean
exit "$FAILED"
