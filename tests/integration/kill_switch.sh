#!/bin/bash
# KillSwitch = on: a full tunnel that fails closed. A client in full
# tunnel to a gateway, joined by the underlay veth; the client's main
# table has default routes (both families) through the gateway, which
# also holds two "outside" addresses (TARGET4, TARGET6) on its lo: not
# tunnel addresses, reached through the underlay when the tunnel's
# table no longer catches the traffic. An nft counter in the gateway
# counts what reaches them over the underlay veth.
#
# Checked:
#  - without KillSwitch (the leak it fixes): after kill -9 of the client
#    a ping to TARGET4 is answered and the counter grows; `down` then
#    leaves net_state as before up;
#  - with it: up puts "unreachable default ... metric 4294967295" in
#    the tunnel's table for both families, and the tunnel works (ping
#    to the gateway's tunnel address, to TARGET4 through the tunnel,
#    with the counter unchanged); after kill -9 the unreachable routes
#    and rules stay, ping and ping6 to the targets and a TCP connect are
#    refused, and the counter does not move (nothing left on the
#    underlay); the next up says it keeps the kill switch, its journal
#    holds it once per family, the tunnel works again, and UDP sent
#    back to back all through that up leaves nothing on the underlay; `down` leaves
#    net_state exactly as before the first up.
# Needs root, ip, ping, ncat, nft; exits 77 (skip) otherwise.
# shellcheck disable=SC2317 # most functions run through check()
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init kill_switch nft
make_pair "rv-ks-c-$$" "rv-ks-g-$$"
NS_C=$NS_A
NS_G=$NS_B
VETH_G=$VETH_B

PORT_G=51820
PORT_C=51821
TABLE=51820
EP4_G=198.19.0.1
TARGET4=198.19.0.5
TARGET6=2001:db8:19::5
T4_G=10.97.0.1
T4_C=10.97.0.2
T6_G=fd00:97::1
T6_C=fd00:97::2
TCP_PORT=40999
PUB_G=$(make_key g)
PUB_C=$(make_key c)
G=rv$$g
C=rv$$c

ip -n "$NS_G" addr add "$EP4_G/32" dev lo
ip -n "$NS_G" addr add "$TARGET4/32" dev lo
ip -n "$NS_G" addr add "$TARGET6/128" dev lo
ip -n "$NS_C" route add default via "$UL4_B"
ip -n "$NS_C" -6 route add default via "$UL6_B"
# What reaches the targets over the underlay (not through the tunnel).
ip netns exec "$NS_G" nft -f - <<EOF
table inet rvks {
	counter leak { }
	chain pre {
		type filter hook prerouting priority -300;
		iifname "$VETH_G" ip daddr $TARGET4 counter name leak
		iifname "$VETH_G" ip6 daddr $TARGET6 counter name leak
	}
}
EOF

config_interface "$TMP/$G.conf" g "$PORT_G" "$T4_G/24, $T6_G/64"
config_peer "$TMP/$G.conf" "$PUB_C" "$T4_C/32, $T6_C/128" ""
# The client's config without and with the kill switch.
mkdir -p "$TMP/plain" "$TMP/ks"
config_interface "$TMP/plain/$C.conf" c "$PORT_C" "$T4_C/24, $T6_C/64"
config_peer "$TMP/plain/$C.conf" "$PUB_G" "0.0.0.0/0, ::/0" "$EP4_G:$PORT_G"
config_interface "$TMP/ks/$C.conf" c "$PORT_C" "$T4_C/24, $T6_C/64" \
	"KillSwitch = on"
config_peer "$TMP/ks/$C.conf" "$PUB_G" "0.0.0.0/0, ::/0" "$EP4_G:$PORT_G"

# A TCP listener on TARGET4: a connect that leaked would succeed.
ip netns exec "$NS_G" ncat -l -k "$TARGET4" "$TCP_PORT" </dev/null \
	>/dev/null 2>&1 &
lib_track_pid $!

leaked() {
	ip netns exec "$NS_G" nft list counter inet rvks leak |
		awk '$1 == "packets" { print $2 }'
}

# ping_refused ADDR: no reply, and ping says why: the unreachable route.
ping_refused() {
	local out
	if out=$(ip netns exec "$NS_C" ping -n -c 2 -i 0.2 -w 2 "$1" 2>&1); then
		echo "ping $1 was answered:"
		echo "$out"
		return 1
	fi
	echo "$out"
	grep "No route to host" <<<"$out" >/dev/null
}

connect_ok() { ip netns exec "$NS_C" timeout 5 ncat -z -w 2 "$TARGET4" "$TCP_PORT"; }

no_unreachable() {
	if table_of -4 | grep unreachable; then return 1; fi
}

gone() { ! ip -n "$NS_C" link show dev "$C" >/dev/null 2>&1; }

connect_refused() {
	if ip netns exec "$NS_C" timeout 5 ncat -z -w 2 "$TARGET4" "$TCP_PORT"; then
		echo "connected to $TARGET4:$TCP_PORT"
		return 1
	fi
}

kill9_client() {
	kill9_ringvpn "$C"
	wait_for 5 gone
}

table_of() { ip -n "$NS_C" "$1" route show table "$TABLE" 2>/dev/null || true; }

kill_switch_present() {
	local fam t
	for fam in -4 -6; do
		t=$(table_of "$fam")
		grep "^unreachable default .*metric 4294967295" <<<"$t" >/dev/null ||
			{ echo "no IPv${fam#-} unreachable route:"; echo "$t"; return 1; }
		grep "lookup $TABLE" <<<"$(ip -n "$NS_C" "$fam" rule)" >/dev/null ||
			{ echo "no IPv${fam#-} fwmark rule"; return 1; }
	done
}

# no_leak BEFORE: the counter is still BEFORE.
no_leak() {
	local now
	now=$(leaked)
	echo "leak counter: $1 before, $now now"
	[ "$now" = "$1" ]
}

# leak_seen BEFORE: the counter grew.
leak_seen() {
	local now
	now=$(leaked)
	echo "leak counter: $1 before, $now now"
	[ "$now" -gt "$1" ]
}

tunnel_works() {
	ping_ok "$NS_C" "$T4_G" && ping_ok "$NS_C" "$T6_G" &&
		ping_ok "$NS_C" "$TARGET4"
}

# The journal holds the kill switch once per family.
journal_has_kill_switch() {
	local j=${RV_RUNDIR[$C]}/$C.journal
	cat "$j"
	[ "$(grep -c "^unreachable $C [0-9]* inet $TABLE 4294967295\$" "$j")" = 1 ] &&
		[ "$(grep -c "^unreachable $C [0-9]* inet6 $TABLE 4294967295\$" "$j")" = 1 ]
}

# UDP datagrams to TARGET4 from the client, sent back to back by a
# shell loop (bash's /dev/udp: a refused connect is just one failed
# redirection) until told to stop: what the rebuild lets out while the
# next up runs. The loop's count of tries goes to probe.count.
probe_start() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$NS_C" bash -c 'n=0
		: >"$1/probe-running"
		while [ ! -e "$1/stop-probe" ]; do
			n=$((n + 1))
			{ echo x >"/dev/udp/$2/9"; } 2>/dev/null || true
		done
		echo "$n" >"$1/probe.count"' probe "$TMP" "$TARGET4" &
	PROBE=$!
	lib_track_pid "$PROBE"
	wait_for 5 test -e "$TMP/probe-running"
}

# probe_stop BEFORE: the probe ran (1000 tries or more) and nothing of it
# left on the underlay (the leak counter is still BEFORE).
probe_stop() {
	: >"$TMP/stop-probe"
	wait "$PROBE" || true
	lib_untrack_pid "$PROBE"
	echo "$(cat "$TMP/probe.count") datagrams tried"
	[ "$(cat "$TMP/probe.count")" -ge 1000 ] && no_leak "$1"
}

down_clean() {
	in_rv "$C" "$RINGVPN" down "$C" || true
	local now
	now=$(net_state "$NS_C")
	diff <(echo "$STATE0") <(echo "$now")
}

STATE0=$(net_state "$NS_C")
if ! start_ringvpn "$NS_G" "$TMP/$G.conf"; then
	report FAIL "gateway starts"
	exit 1
fi

# Without KillSwitch: the leak.
if ! start_ringvpn "$NS_C" "$TMP/plain/$C.conf"; then
	report FAIL "client starts without KillSwitch"
	exit 1
fi
check "no KillSwitch: tunnel works" tunnel_works
check "no KillSwitch: no unreachable route" no_unreachable
check "no KillSwitch: kill -9, interface gone" kill9_client
N=$(leaked)
check "no KillSwitch: after kill -9 $TARGET4 answers over the underlay" \
	ping_ok "$NS_C" "$TARGET4"
check "no KillSwitch: the leak counter grew" leak_seen "$N"
check "no KillSwitch: down restores net_state" down_clean

# With KillSwitch.
if ! start_ringvpn "$NS_C" "$TMP/ks/$C.conf"; then
	report FAIL "client starts with KillSwitch"
	exit 1
fi
check "KillSwitch: unreachable default routes and rules in table $TABLE" \
	kill_switch_present
N=$(leaked)
check "KillSwitch: tunnel works" tunnel_works
check "KillSwitch: TCP connect to $TARGET4 through the tunnel" connect_ok
check "KillSwitch: $TARGET4 reached through the tunnel, not the underlay" \
	no_leak "$N"
check "KillSwitch: kill -9, interface gone" kill9_client
check "KillSwitch: after kill -9 the kill switch stays" kill_switch_present
check "KillSwitch: ping $TARGET4 refused" ping_refused "$TARGET4"
check "KillSwitch: ping $TARGET6 refused" ping_refused "$TARGET6"
check "KillSwitch: TCP connect to $TARGET4 refused" connect_refused
check "KillSwitch: nothing left on the underlay" no_leak "$N"
probe_start
if ! start_ringvpn "$NS_C" "$TMP/ks/$C.conf"; then
	report FAIL "client up again after kill -9"
	exit 1
fi
check "up after kill -9: kept the kill switch while rebuilding" \
	grep "keeping its kill switch (table $TABLE)" "${RV_LOG[$C]}"
check "up after kill -9: the journal holds it once per family" \
	journal_has_kill_switch
check "up after kill -9: kill switch in place" kill_switch_present
check "up after kill -9: tunnel works" tunnel_works
check "up after kill -9: UDP sent all through the rebuild, none on the underlay" \
	probe_stop "$N"
check "KillSwitch: down restores net_state" down_clean

exit "$FAILED"
