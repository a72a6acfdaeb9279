#!/bin/bash
# Sticky source addresses on a multi-homed host, as the kernel module
# keeps them. A gateway G (ringvpn) has two addresses per family on one
# link; client 1 (ringvpn, PersistentKeepalive = 1) is configured with
# G's first address, client 2 (wireguard-go) with its second, which the
# routing table would never choose to answer from. Once over IPv4, once
# over IPv6, with fresh daemons:
#   - each client's handshake, then 32 MiB from G to each client (SHA-256
#     compared): each client's `wg show endpoints` is still exactly the
#     address it was configured with (a reply from G's other address would
#     have moved it), and G's `ringvpn show` says which local address each
#     peer is answered from;
#   - G's second address is deleted and another added on the same link:
#     G pings client 2 (its sends from the gone address are refused and
#     go again from the routing table's choice); client 2 is pointed at
#     the new address, pings G, gets 8 MiB from it, and its endpoint is
#     exactly the new address;
#   - client 1's own address is replaced by another on the same link:
#     with no data sent, its keepalives (the control thread's datagrams)
#     find their way out from the new address and G names it as client
#     1's endpoint within 5 s; then 8 MiB from client 1 to G.
# Needs root, ip, ping, ncat, ss, sysctl, wg, wireguard-go; exits 77
# (skip) otherwise or with RINGVPN_SKIP_NETNS set. RINGVPN names the
# binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init sticky_source sysctl wg wireguard-go
NS_SW=rv-ss-s-$$
NS_G=rv-ss-g-$$
NS_1=rv-ss-1-$$
NS_2=rv-ss-2-$$
BR=rvss$$br
make_switch "$NS_SW" "$BR"
make_netns "$NS_G"
make_netns "$NS_1"
make_netns "$NS_2"
# G's two addresses per family, the one each later takes the second's
# place with, and the clients' own.
G1_4=198.18.0.1 G2_4=198.18.0.11 G3_4=198.18.0.12
G1_6=2001:db8:18::1 G2_6=2001:db8:18::11 G3_6=2001:db8:18::12
C1_4=198.18.0.2 C1NEW_4=198.18.0.4 C2_4=198.18.0.3
C1_6=2001:db8:18::2 C1NEW_6=2001:db8:18::4 C2_6=2001:db8:18::3
switch_port "$NS_SW" "$BR" rvss$$pg "$NS_G" vg "$G1_4/24" "$G2_4/24" \
	"$G1_6/64" "$G2_6/64"
switch_port "$NS_SW" "$BR" rvss$$p1 "$NS_1" v1 "$C1_4/24" "$C1_6/64"
switch_port "$NS_SW" "$BR" rvss$$p2 "$NS_2" v2 "$C2_4/24" "$C2_6/64"
# Client 1's IPv4 address is replaced: the new one, added first, must
# not go with the old primary.
ip netns exec "$NS_1" sysctl -q -w net.ipv4.conf.all.promote_secondaries=1 \
	net.ipv4.conf.v1.promote_secondaries=1

PORT_G=51860
PORT_1=51861
PORT_2=51862
PUB_G=$(make_key g)
PUB_1=$(make_key c1)
PUB_2=$(make_key c2)
MIB32=$((32 << 20))
MIB8=$((8 << 20))

# ep FAMILY ADDR PORT: an endpoint as wg prints it.
ep() { if [ "$1" = 4 ]; then echo "$2:$3"; else echo "[$2]:$3"; fi; }

# addr_add NS DEV ADDR/PLEN: IPv6 ones without DAD, usable at once.
addr_add() {
	case $3 in
	*:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac
}

# endpoint_is WHAT EXPECTED CMD...: CMD's `wg show IF endpoints` line for
# G is exactly "PUB_G<TAB>EXPECTED".
endpoint_is() {
	local what=$1 want=$2 got
	shift 2
	got=$("$@" | awk -v k="$PUB_G" '$1 == k { print $2 }')
	echo "$what: wg show endpoints says $got, configured $want"
	[ "$got" = "$want" ]
}

c1_endpoint_is() { endpoint_is "client 1" "$1" in_rv "$C1" wg show "$C1" endpoints; }
c2_endpoint_is() {
	endpoint_is "client 2" "$1" ip netns exec "$NS_2" wg show "$C2" endpoints
}

# local_is PUB ADDR: G answers peer PUB from ADDR.
local_is() {
	local got
	got=$(rv_peer_field "$G" local "$1")
	echo "G answers ${1:0:8} from $got, expected $2"
	[ "$got" = "$2" ]
}

g_endpoint_is() { [ "$(rv_peer_field "$G" endpoint "$1")" = "$2" ]; }

start_all() {
	local f=$1 t=10.99.$1
	config_interface "$TMP/$G.conf" g "$PORT_G" "$t.1/24"
	config_peer "$TMP/$G.conf" "$PUB_1" "$t.2/32" ""
	config_peer "$TMP/$G.conf" "$PUB_2" "$t.3/32" ""
	config_interface "$TMP/$C1.conf" c1 "$PORT_1" "$t.2/24"
	config_peer "$TMP/$C1.conf" "$PUB_G" "$t.1/32" "$(ep "$f" "$G1" "$PORT_G")" \
		"PersistentKeepalive = 1"
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$TMP/c2.key")"
		echo "ListenPort = $PORT_2"
	} >"$TMP/$C2.wg"
	config_peer "$TMP/$C2.wg" "$PUB_G" "$t.1/32" "$(ep "$f" "$G2" "$PORT_G")"
	start_ringvpn "$NS_G" "$TMP/$G.conf" &&
		start_ringvpn "$NS_1" "$TMP/$C1.conf" &&
		start_wggo "$NS_2" "$C2" "$TMP/$C2.wg" "$t.3/24"
}

# Each client contacted its own address of G; 32 MiB later G still
# answers each from that address.
answers_from_contacted() {
	local f=$1 t=10.99.$1
	ping_ok "$NS_1" "$t.1" && ping_ok "$NS_2" "$t.1" || return 1
	transfer "$NS_G" "$NS_1" "$t.2" "$MIB32" &&
		transfer "$NS_G" "$NS_2" "$t.3" "$MIB32" || return 1
	c1_endpoint_is "$(ep "$f" "$G1" "$PORT_G")" &&
		c2_endpoint_is "$(ep "$f" "$G2" "$PORT_G")" &&
		local_is "$PUB_1" "$G1" && local_is "$PUB_2" "$G2"
}

# G2 gone, G3 in its place: G reaches client 2 all the same, then client
# 2 moves to G3 and G answers from there.
contacted_address_replaced() {
	local f=$1 t=10.99.$1 plen=24
	[ "$f" = 4 ] || plen=64
	ip -n "$NS_G" addr del "$G2/$plen" dev vg
	addr_add "$NS_G" vg "$G3/$plen"
	ping_ok "$NS_G" "$t.3" ||
		{ echo "G cannot reach client 2 after $G2 went"; return 1; }
	ip netns exec "$NS_2" wg set "$C2" peer "$PUB_G" \
		endpoint "$(ep "$f" "$G3" "$PORT_G")"
	ping_ok "$NS_2" "$t.1" && transfer "$NS_G" "$NS_2" "$t.3" "$MIB8" &&
		c2_endpoint_is "$(ep "$f" "$G3" "$PORT_G")" &&
		local_is "$PUB_2" "$G3"
}

# Client 1's address replaced: its keepalives leave from the new one.
own_address_replaced() {
	local f=$1 t=10.99.$1 plen=24 want
	[ "$f" = 4 ] || plen=64
	want=$(ep "$f" "$C1NEW" "$PORT_1")
	addr_add "$NS_1" v1 "$C1NEW/$plen"
	ip -n "$NS_1" addr del "$C1_ADDR/$plen" dev v1
	if ! wait_for 5 g_endpoint_is "$PUB_1" "$want"; then
		echo "G still sees client 1 at $(rv_peer_field "$G" endpoint "$PUB_1")"
		return 1
	fi
	ping_ok "$NS_1" "$t.1" && transfer "$NS_1" "$NS_G" "$t.1" "$MIB8" &&
		g_endpoint_is "$PUB_1" "$want"
}

run_family() {
	local f=$1
	G=rvss$$g$f C1=rvss$$a$f C2=rvss$$b$f
	if [ "$f" = 4 ]; then
		G1=$G1_4 G2=$G2_4 G3=$G3_4 C1NEW=$C1NEW_4 C1_ADDR=$C1_4
	else
		G1=$G1_6 G2=$G2_6 G3=$G3_6 C1NEW=$C1NEW_6 C1_ADDR=$C1_6
	fi
	if ! start_all "$f"; then
		report FAIL "IPv$f: G and the clients start"
		return 0
	fi
	check "IPv$f: handshakes and 32 MiB each: each client's endpoint is $(
		)the address of G it contacted" answers_from_contacted "$f"
	check "IPv$f: G's contacted address replaced: G reaches the client, $(
		)which then gets answers from the new one" \
		contacted_address_replaced "$f"
	check "IPv$f: client 1's own address replaced: its keepalives and $(
		)data leave from the new one" own_address_replaced "$f"
	lib_stop_pid "${RV_PID[$C1]}"
	lib_stop_pid "${RV_PID[$G]}"
	stop_wggo "$C2"
	unset "RV_NS[$G]" "RV_NS[$C1]" "WG_NS[$C2]"
}

run_family 4
run_family 6
exit "$FAILED"
