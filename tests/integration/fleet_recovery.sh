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
#   - FleetRecovery = off, the same kill: each client's first reply comes
#     8 s or more later (the clients' own timeout), which shows that the
#     fast recovery above is the feature's, not luck.
# The recovery times are printed. Needs root, ip, ping, ncat, ss, wg,
# wireguard-go; exits 77 (skip) otherwise or with RINGVPN_SKIP_NETNS set.
# RINGVPN names the binary.
# shellcheck disable=SC2317 # the functions run through check and bg_start
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init fleet_recovery wg wireguard-go sysctl
NS_R=rv-fr-r-$$
NS_G1=rv-fr-g1-$$
NS_G2=rv-fr-g2-$$
NS_1=rv-fr-1-$$
NS_2=rv-fr-2-$$
for ns in "$NS_R" "$NS_G1" "$NS_G2" "$NS_1" "$NS_2"; do
	make_netns "$ns"
done
# Each on a /24 of its own behind R: R1 is R's side of NS_1's link.
link_netns "$NS_R" "$NS_1" rvfr$$r1 v1 198.18.1.1/24 198.18.1.2/24
link_netns "$NS_R" "$NS_2" rvfr$$r2 v2 198.18.2.1/24 198.18.2.2/24
link_netns "$NS_R" "$NS_G1" rvfr$$g1 vg 198.18.11.1/24 198.18.11.2/24
link_netns "$NS_R" "$NS_G2" rvfr$$g2 vg 198.18.12.1/24 198.18.12.2/24
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

# G2's show counts an initiation per client (the field of
# ringvpn(8), THE OUTPUT OF SHOW).
counted() {
	local n
	n=$(rv_show "$G2" | awk '/^ *fleet recovery:/ { print $3 }')
	echo "G2: fleet recovery: ${n:-(no line)} initiations"
	[ -n "$n" ] && [ "$n" -ge 2 ]
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
