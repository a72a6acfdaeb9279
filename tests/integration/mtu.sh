#!/bin/bash
# The interface's MTU without `MTU =`, as wg-quick: the MTU of the route
# to the peers' endpoints (their largest), else of the default route,
# else 1500, minus 80. The underlay veth pair has MTU 1400.
#
# Checked: B, whose peer has an Endpoint, gets 1320 from the path to it,
# and A (a gateway: no Endpoint) 1320 from its default route; each says
# so in its log; a 1320-byte IPv4 ping with DF (1292 bytes of data) goes
# through the tunnel and is answered 3 times, a 1321-byte one is refused
# by B itself (no reply, "message too long, mtu=1320"); an explicit
# `MTU = 1280` wins over the path (the link's MTU and the log).
# Needs root, ip, ping; exits 77 (skip) otherwise.
# shellcheck disable=SC2317 # most functions run through check()
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init mtu
make_pair "rv-mtu-a-$$" "rv-mtu-b-$$"
ip -n "$NS_A" link set "$VETH_A" mtu 1400
ip -n "$NS_B" link set "$VETH_B" mtu 1400
# A's only way to measure: its default route, through the veth.
ip -n "$NS_A" route add default via "$UL4_B"
A=rv$$a
B=rv$$b
T4_A=10.96.0.1
T4_B=10.96.0.2
rv_pair -g "$A" "$B" "$T4_A/24" "$T4_B/24"

link_mtu() {
	ip -n "$1" -o link show dev "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p'
}

mtu_is() {
	local got
	got=$(link_mtu "$1" "$2")
	echo "$2 has MTU $got, expected $3"
	[ "$got" = "$3" ]
}

logged() { grep -F "$2" "${RV_LOG[$1]}"; }

# ping_df SIZE: SIZE-byte IPv4 packets with DF from B to A's tunnel
# address; prints ping's output, 0 when 3 replies came.
ping_df() {
	ip netns exec "$NS_B" ping -n -c 3 -i 0.2 -w 5 -M do -s $(($1 - 28)) \
		"$T4_A" >"$TMP/ping.out" 2>&1 || true
	cat "$TMP/ping.out"
	grep " 3 received" "$TMP/ping.out" >/dev/null
}

ping_df_refused() {
	! ping_df "$1" && grep "message too long, mtu=$2" "$TMP/ping.out" >/dev/null
}

if ! start_ringvpn "$NS_A" "$TMP/$A.conf" ||
   ! start_ringvpn "$NS_B" "$TMP/$B.conf"; then
	report FAIL "daemons start"
	exit 1
fi
check "B: MTU 1320 from the path to its endpoint" mtu_is "$NS_B" "$B" 1320
check "B: logged" logged "$B" "$B: MTU 1320 (1400 from the path to $UL4_A, minus 80)"
check "A: MTU 1320 from its default route" mtu_is "$NS_A" "$A" 1320
check "A: logged" logged "$A" "$A: MTU 1320 (1400 from the IPv4 default route, minus 80)"
check "1320-byte ping with DF answered through the tunnel" ping_df 1320
check "1321-byte ping with DF refused, nothing answered" ping_df_refused 1321 1320
check "B stops" stop_ringvpn "$B"

sed -i '/^Address/a MTU = 1280' "$TMP/$B.conf"
if ! start_ringvpn "$NS_B" "$TMP/$B.conf"; then
	report FAIL "B starts with MTU = 1280"
	exit 1
fi
check "MTU = 1280 wins over the path" mtu_is "$NS_B" "$B" 1280
check "MTU = 1280: logged" logged "$B" "$B: MTU 1280 (set by MTU =)"
check "MTU = 1280: a 1280-byte ping with DF answered" ping_df 1280

exit "$FAILED"
