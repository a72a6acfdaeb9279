#!/bin/bash
# Faults in the middle of a transfer, each with its sha256 compared at the
# end. A gateway G and a client C (both ringvpn) in two namespaces; C
# sends 32 MiB in 1 MiB chunks 40 ms apart to a listener behind G's
# tunnel address while this script injects one fault:
#   - C's daemon is killed (SIGKILL) and started again: the TCP stream
#     (whose ends are not ringvpn's) survives, and the tunnel is back
#     within REKEY_TIMEOUT plus jitter (5.33 s);
#   - C's underlay link is down for 5 seconds;
#   - NAT rebinding: C's source port changes (its listen port, moved live
#     through wg); G follows it;
#   - G's config gains an unrelated peer (SIGHUP) and loses it again
#     (ringvpn syncconf): the transfer and C's session are untouched;
# and last, G is killed with SIGKILL while it holds a full tunnel (C's
# side: AllowedIPs 0.0.0.0/0): `up` again succeeds, and after `down` the
# rules, routes and sockets are as they were before the first `up`.
# Needs root, ip, ping, ncat, ss, wg; exits 77 (skip) otherwise. RINGVPN
# names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init faults wg
make_pair "rv-fa-g-$$" "rv-fa-c-$$"
NS_G=$NS_A
NS_C=$NS_B
G=rvf$$g
C=rvf$$c
PORT_G=$RV_PORT_A
PORT_C=$RV_PORT_B
T_G=10.90.0.1
T_C=10.90.0.2
PUB_X=$(make_key x)
SIZE=$((32 << 20))
TRANSFER_TIMEOUT=90

rv_pair -g -u "$G" "$C" "$T_G/24" "$T_C/24"
PUB_G=${RV_PUB[$G]}
PUB_C=${RV_PUB[$C]}
ping_ok "$NS_C" "$T_G" || true

handshake_of() { # NS IFNAME PUBKEY
	ip netns exec "$1" wg show "$2" latest-handshakes |
		awk -v k="$3" '$1 == k { print $2 }'
}
g_received() { [ "$(ip netns exec "$NS_G" wg show "$G" transfer |
	awk '{ print $2 }')" -ge "$1" ]; }

# start_mid: a transfer C -> G, returned once G has seen 4 MiB of it.
start_mid() {
	local base
	base=$(ip netns exec "$NS_G" wg show "$G" transfer | awk '{ print $2 }')
	transfer_start "$NS_C" "$NS_G" "$T_G" "$SIZE" 40 || return 1
	wait_for 10 g_received $((base + (4 << 20)))
}

restart_client() {
	local id t0 t1
	start_mid || return 1
	id=$XFER_ID
	kill9_ringvpn "$C"
	t0=$(now_ms)
	start_ringvpn "$NS_C" "$TMP/$C.conf" || return 1
	wait_for 10 ping_once || return 1
	t1=$(now_ms)
	echo "tunnel back $((t1 - t0)) ms after the restart began"
	[ $((t1 - t0)) -le 5333 ] && transfer_wait "$id"
}
ping_once() { ip netns exec "$NS_C" ping -n -q -c 1 -W 1 "$T_G" >/dev/null; }

link_down_5s() {
	local id
	start_mid || return 1
	id=$XFER_ID
	ip -n "$NS_C" link set "$VETH_B" down
	sleep 5
	ip -n "$NS_C" link set "$VETH_B" up
	transfer_wait "$id" && ping_ok "$NS_C" "$T_G"
}

source_port_changes() {
	local id
	start_mid || return 1
	id=$XFER_ID
	ip netns exec "$NS_C" wg set "$C" listen-port $((PORT_C + 100))
	transfer_wait "$id" &&
		ip netns exec "$NS_G" wg show "$G" endpoints |
		grep "$UL4_B:$((PORT_C + 100))$" >/dev/null
}

reload_mid_transfer() {
	local id before
	start_mid || return 1
	id=$XFER_ID
	before=$(handshake_of "$NS_G" "$G" "$PUB_C")
	config_peer "$TMP/$G.conf" "$PUB_X" "10.90.9.0/24" ""
	kill -HUP "${RV_PID[$G]}"
	wait_for 5 sh -c "ip netns exec $NS_G wg show $G peers | grep -x '$PUB_X' >/dev/null" ||
		{ echo "the added peer did not appear"; return 1; }
	# Drop the peer again: the file as it was, through syncconf.
	sed -i '/^$/,$d' "$TMP/$G.conf"
	config_peer "$TMP/$G.conf" "$PUB_C" "$T_C/32" ""
	in_rv "$G" "$RINGVPN" syncconf "$G" "$TMP/$G.conf"
	! ip netns exec "$NS_G" wg show "$G" peers | grep -x "$PUB_X" >/dev/null &&
		transfer_wait "$id" &&
		[ "$(handshake_of "$NS_G" "$G" "$PUB_C")" = "$before" ]
}

# Everything a full tunnel's up could leave behind, and our sockets.
state() {
	{
		ip -n "$1" rule
		ip -n "$1" -6 rule
		ip -n "$1" route show table all
		ip -n "$1" -6 route show table all
		ip netns exec "$1" ss -Huan
	} 2>&1 | grep -v "proto kernel\|fe80::\|ff00::\|multicast"
}

kill9_then_up() {
	local before after conf=$TMP/$C.conf
	stop_ringvpn "$C" >/dev/null
	config_interface "$conf" "$C" "$PORT_C" "$T_C/24"
	config_peer "$conf" "$PUB_G" "0.0.0.0/0" "$UL4_A:$PORT_G"
	before=$(state "$NS_C")
	start_ringvpn "$NS_C" "$conf" || return 1
	ping_ok "$NS_C" "$T_G" || return 1
	kill9_ringvpn "$C"
	start_ringvpn "$NS_C" "$conf" || return 1
	transfer "$NS_C" "$NS_G" "$T_G" $((4 << 20)) || return 1
	in_rv "$C" "$RINGVPN" down "$C"
	after=$(state "$NS_C")
	[ "$before" = "$after" ] &&
		[ ! -e "/var/run/wireguard/$C.sock" ] ||
		{ diff <(echo "$before") <(echo "$after"); false; }
}

check "client killed and restarted: tunnel back within 5.33 s, transfer intact" \
	restart_client
check "underlay down for 5 s: the transfer resumes and completes" \
	link_down_5s
check "source port changes (NAT rebinding): G follows, transfer intact" \
	source_port_changes
check "config reload mid-transfer (peer added, removed): nothing disturbed" \
	reload_mid_transfer
check "kill -9 with a full tunnel, then up, then down: nothing left" \
	kill9_then_up
exit "$FAILED"
