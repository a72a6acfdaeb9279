#!/bin/bash
# FleetRecovery (ringvpn.conf(5), ringvpn(8) MANY GATEWAYS): a client
# whose gateway dies gets its session back from another gateway of the
# fleet at once, not after its own timeout (KEEPALIVE_TIMEOUT +
# REKEY_TIMEOUT, about 15 s).
# Router R joins client 1 (ringvpn), client 2 (wireguard-go), and the
# gateways G1 and G2, each on a link of its own. G1 and G2 have the same
# file but for its name: the same private key, both clients as peers
# (without Endpoint), Address 10.73.0.1/24 and ServiceAddress
# 198.19.255.1, which the clients use as their Endpoint. R routes the
# service address to G1, as BGP would while G1 lives.
#   - FleetRecovery = on: both clients ping 10.73.0.1 through G1; then
#     G1 is killed (-9) and R's route switched to G2 at once; each
#     client, pinging every 100 ms, gets an echo reply again in under
#     3 s; both clients' endpoint is still the service address; G2's
#     show counts the initiations; and 4 MiB from each client reach G2
#     with their SHA-256 intact;
#   - then an attacker, from an address of its own, floods G2 for 17 s
#     with data under a valid index of each client's slot (what it gets
#     by copying a client's traffic; tests/interop/fleet_flood makes it
#     from the key): client 1 keeps pinging G2 and must get no new
#     handshake from it; client 2, now gone, may get at most one
#     initiation per 5 s (1 to 4 in all), whatever the flood's rate;
#   - FleetRecovery = off, the same kill: each client's first reply comes
#     8 s or more later (the clients' own timeout), which shows that the
#     fast recovery above is the feature's, not luck.
# The recovery times are printed. Needs root, ip, ping, ncat, ss, wg,
# wireguard-go; exits 77 (skip) otherwise or with RINGVPN_SKIP_NETNS set.
# RINGVPN names the binary, FLEET_FLOOD fleet_flood.
# shellcheck disable=SC2317 # the functions run through check and bg_start
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init fleet_recovery wg wireguard-go sysctl
FLEET_FLOOD=${FLEET_FLOOD:-./tests/interop/fleet_flood}
[ -x "$FLEET_FLOOD" ] || { echo "FAIL: $FLEET_FLOOD not executable"; exit 1; }
NS_R=rv-fr-r-$$
NS_G1=rv-fr-g1-$$
NS_G2=rv-fr-g2-$$
NS_1=rv-fr-1-$$
NS_2=rv-fr-2-$$
NS_X=rv-fr-x-$$
for ns in "$NS_R" "$NS_G1" "$NS_G2" "$NS_1" "$NS_2" "$NS_X"; do
	make_netns "$ns"
done
# Each on a /24 of its own behind R: R1 is R's side of NS_1's link.
link_netns "$NS_R" "$NS_1" rvfr$$r1 v1 198.18.1.1/24 198.18.1.2/24
link_netns "$NS_R" "$NS_2" rvfr$$r2 v2 198.18.2.1/24 198.18.2.2/24
link_netns "$NS_R" "$NS_G1" rvfr$$g1 vg 198.18.11.1/24 198.18.11.2/24
link_netns "$NS_R" "$NS_G2" rvfr$$g2 vg 198.18.12.1/24 198.18.12.2/24
# The attacker, whose flood leaves from a second address of its own.
link_netns "$NS_R" "$NS_X" rvfr$$x vx 198.18.3.1/24 198.18.3.2/24
ip -n "$NS_X" addr add 198.18.3.66/24 dev vx
ip -n "$NS_X" route add default via 198.18.3.1
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
ip -n "$NS_1" route add default via 198.18.1.1
ip -n "$NS_2" route add default via 198.18.2.1
ip -n "$NS_G1" route add default via 198.18.11.1
ip -n "$NS_G2" route add default via 198.18.12.1
SVC=198.19.255.1
PORT_G=51820
TUN_G=10.73.0.1
G1=rvfr$$g1 G2=rvfr$$g2 C1=rvfr$$a C2=rvfr$$b
PUB_G=$(make_key gw)
PUB_1=$(make_key c1)
PUB_2=$(make_key c2)

# The router's choice, as BGP's would be: the gateway that announces
# the service address.
route_to() { ip -n "$NS_R" route replace "$SVC/32" via "$1"; }

# gw_config NAME MODE: a gateway's file, the same for G1 and G2.
gw_config() {
	config_interface "$TMP/$1.conf" gw "$PORT_G" "$TUN_G/24" \
		"ServiceAddress = $SVC" "FleetRecovery = $2"
	config_peer "$TMP/$1.conf" "$PUB_1" 10.73.0.2/32 ""
	config_peer "$TMP/$1.conf" "$PUB_2" 10.73.0.3/32 ""
}

start_clients() {
	config_interface "$TMP/$C1.conf" c1 51821 10.73.0.2/32
	config_peer "$TMP/$C1.conf" "$PUB_G" "$TUN_G/32" "$SVC:$PORT_G"
	start_ringvpn "$NS_1" "$TMP/$C1.conf" || return 1
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$TMP/c2.key")"
		echo "ListenPort = 51822"
	} >"$TMP/$C2.wg"
	config_peer "$TMP/$C2.wg" "$PUB_G" "$TUN_G/32" "$SVC:$PORT_G"
	start_wggo "$NS_2" "$C2" "$TMP/$C2.wg" 10.73.0.3/32
}

# up MODE: both gateways with FleetRecovery = MODE, R routing to G1, and
# both clients with a session through G1.
up() {
	gw_config "$G1" "$1"
	gw_config "$G2" "$1"
	route_to 198.18.11.2
	start_ringvpn "$NS_G1" "$TMP/$G1.conf" &&
		start_ringvpn "$NS_G2" "$TMP/$G2.conf" && start_clients &&
		ping_ok "$NS_1" "$TUN_G" && ping_ok "$NS_2" "$TUN_G"
}

down() {
	stop_wggo "$C2"
	stop_ringvpn "$C1" || true
	stop_ringvpn "$G2" || true
}

# first_reply NS LIMIT: pings the gateway every 100 ms until the first
# echo reply (or LIMIT seconds) and prints the time it came at, in ms.
first_reply() {
	ip netns exec "$1" ping -n -q -c 1 -i 0.1 -w "$2" "$TUN_G" \
		>/dev/null 2>&1 || true
	now_ms
}

# fail_over LIMIT: kills G1 and turns R's route to G2 at the same moment
# T0; sets T1 and T2 to each client's recovery time in ms (>= LIMIT s:
# none).
fail_over() {
	local t0 p1 p2
	kill9_ringvpn "$G1"
	route_to 198.18.12.2
	t0=$(now_ms)
	bg_start "$TMP/first1" first_reply "$NS_1" "$1"
	p1=$BG_PID
	bg_start "$TMP/first2" first_reply "$NS_2" "$1"
	p2=$BG_PID
	bg_wait "$p1"
	bg_wait "$p2"
	T1=$(($(cat "$TMP/first1") - t0))
	T2=$(($(cat "$TMP/first2") - t0))
	echo "FleetRecovery = $MODE: recovery after the gateway's death:" \
		"ringvpn client $T1 ms, wireguard-go client $T2 ms"
}

fast() {
	if [ "$T1" -lt 3000 ] && [ "$T2" -lt 3000 ]; then
		return 0
	fi
	echo "recovery took $T1 ms and $T2 ms (want < 3000 each)"
	return 1
}

slow() {
	if [ "$T1" -ge 8000 ] && [ "$T2" -ge 8000 ]; then
		return 0
	fi
	echo "recovery took $T1 ms and $T2 ms (want >= 8000 each)"
	return 1
}

endpoint_of() { "$@" | awk -v k="$PUB_G" '$1 == k { print $2 }'; }

endpoints_kept() {
	local e1 e2
	e1=$(endpoint_of in_rv "$C1" wg show "$C1" endpoints)
	e2=$(endpoint_of ip netns exec "$NS_2" wg show "$C2" endpoints)
	if [ "$e1" = "$SVC:$PORT_G" ] && [ "$e2" = "$SVC:$PORT_G" ]; then
		return 0
	fi
	echo "endpoints: client 1 $e1, client 2 $e2 (want $SVC:$PORT_G)"
	return 1
}

# G2's fleet recovery initiations so far (the field of ringvpn(8), THE
# OUTPUT OF SHOW); nothing without the line.
fleet_count() {
	{ rv_show "$G2" || true; } | awk '/^ *fleet recovery:/ { print $3 }'
}

# G2's show counts an initiation per client.
counted() {
	local n
	n=$(fleet_count)
	echo "G2: fleet recovery: ${n:-(no line)} initiations"
	[ -n "$n" ] && [ "$n" -ge 2 ]
}

# Long enough for two reports of client 2's slot that come 5 s or more
# after it went quiet (before that G2 still counts it as talking):
# the workers pass a slot on once per 5 s from the failover's report on
# (src/fleet_reports.h), and client 2 stops about 1.5 s after the
# failover, so the reports at +5 s and earlier find it talking, and one
# at +10 s was the only chance in a 10 or 12 s flood. Twice, under the
# suite's load, none came of it (G2's count 2 -> 2; the cause is not
# known: the same test alone gave 1 in every run); 17 s leaves the
# reports at +10 and +15 s. The check takes 1 to 4: at most one per
# 5 s.
FLOOD_S=17

# flood_from_x PUB: FLOOD_S s of 500 data messages a second under a valid
# index of PUB's slot, from 198.18.3.66 to the service address.
flood_from_x() {
	ip netns exec "$NS_X" "$FLEET_FLOOD" "$TMP/gw.key" "$1" 198.18.3.66 \
		"$SVC:$PORT_G" "$FLOOD_S" 500
}

# G2's latest handshake with client 1, and client 1's handshake count.
c1_sessions() {
	in_rv "$G2" wg show "$G2" latest-handshakes |
		awk -v k="$PUB_1" '$1 == k { print $2 }'
	rv_peer_field "$C1" handshakes
}

# The flood of both clients' slots, client 1 pinging all along and
# client 2 gone: G2 sends client 2 1 to 4 initiations (to the attacker),
# client 1 none, and client 1's session stays the one it had.
flood_bounded() {
	local before after s1 s1_after p1 p2 pping
	stop_wggo "$C2"
	bg_start "$TMP/ping" ip netns exec "$NS_1" ping -q -i 0.2 \
		-w $((FLOOD_S + 2)) "$TUN_G"
	pping=$BG_PID
	sleep 1.2 # a ping or more through, and show's file written
	before=$(fleet_count)
	s1=$(c1_sessions)
	bg_start "$TMP/flood1" flood_from_x "$PUB_1"
	p1=$BG_PID
	bg_start "$TMP/flood2" flood_from_x "$PUB_2"
	p2=$BG_PID
	bg_wait "$p1" && bg_wait "$p2" || return 1
	sleep 1.2 # show's file written
	after=$(fleet_count)
	s1_after=$(c1_sessions)
	bg_wait "$pping" || true
	echo "flood of client 1's slot: $(cat "$TMP/flood1");" \
		"of client 2's: $(cat "$TMP/flood2");" \
		"G2's fleet recovery initiations $before -> $after" \
		>"$TMP/flood.txt"
	cat "$TMP/flood.txt"
	[ "$s1" = "$s1_after" ] ||
		{ echo "client 1's session changed: $s1 -> $s1_after"; return 1; }
	[ $((after - before)) -ge 1 ] &&
		[ $((after - before)) -le $((FLOOD_S / 5 + 1)) ]
}

transfers() {
	local x1
	transfer_start "$NS_1" "$NS_G2" "$TUN_G" 4194304 || return 1
	x1=$XFER_ID
	transfer "$NS_2" "$NS_G2" "$TUN_G" 4194304 || return 1
	transfer_wait "$x1"
}

MODE=on
if ! up on; then
	report FAIL "the gateways (FleetRecovery = on) and clients start"
	exit 1
fi
fail_over 10
check "FleetRecovery = on: both clients recover within 3 s of $(
	)G1's death" fast
check "both clients' endpoint is still the service address" endpoints_kept
check "G2 counts its fleet recovery initiations" counted
check "4 MiB from each client reach G2 intact" transfers
check "a forged-source flood of valid indexes: at most one initiation $(
	)per peer per 5 s, none to a client talking to G2" flood_bounded
cat "$TMP/flood.txt" 2>/dev/null || true
down

MODE=off
if ! up off; then
	report FAIL "the gateways (FleetRecovery = off) and clients start"
	exit 1
fi
fail_over 25
check "FleetRecovery = off: each client recovers only after its own $(
	)timeout (>= 8 s)" slow
down
exit "$FAILED"
