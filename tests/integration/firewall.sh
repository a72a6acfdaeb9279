#!/bin/bash
# wg-quick's nft rules for a full tunnel: the table "inet ringvpn-IFNAME"
# that drops packets to the tunnel's addresses arriving from elsewhere,
# and the connmark pair that lets the tunnel's own UDP replies pass
# strict rp_filter. A client in full tunnel to a gateway over the
# underlay veth, with rp_filter = 1 in the client's namespace.
#
# Checked: up adds the table (its three chains); the tunnel works under
# rp_filter = 1 (ping to the gateway's tunnel address answered); a
# spoofed ping from the gateway's side of the underlay (ping -I VETH,
# sent on the link) to the client's tunnel address arrives on the
# client's veth (an nft counter before ours sees it) but never reaches
# its input hook (a counter there stays 0) and is not answered; with
# the table deleted by hand, the same spoofed ping is answered and the
# tunnel's ping is not (rp_filter drops the unmarked replies): the two
# things the table is for; `down` then still succeeds and net_state is
# as before up. After a kill -9 the table stays, the next up's recovery
# replaces it, and its down removes it. Without nft on PATH, up warns, adds no table, and the
# policy rules are there all the same. IPv4 only: an IPv6 packet sent
# with -I to an address with no route does not leave on the link.
# Needs root, ip, ping, nft, sysctl; exits 77 (skip) otherwise.
# shellcheck disable=SC2317 # most functions run through check()
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init firewall nft sysctl
make_pair "rv-fw-c-$$" "rv-fw-g-$$"
NS_C=$NS_A
NS_G=$NS_B
VETH_C=$VETH_A
VETH_G=$VETH_B

PORT_G=51820
PORT_C=51821
EP4_G=198.19.0.1
T4_G=10.95.0.1
T4_C=10.95.0.2
T6_G=fd00:95::1
T6_C=fd00:95::2
PUB_G=$(make_key g)
PUB_C=$(make_key c)
G=rv$$g
C=rv$$c

ip -n "$NS_G" addr add "$EP4_G/32" dev lo
ip -n "$NS_C" route add default via "$UL4_B"
ip -n "$NS_C" -6 route add default via "$UL6_B"
ip netns exec "$NS_C" sysctl -q -w net.ipv4.conf.all.rp_filter=1 \
	"net.ipv4.conf.$VETH_C.rp_filter=1"
# What reaches the client's tunnel address over the veth, before our
# table (priority -400) and at the input hook, after it.
ip netns exec "$NS_C" nft -f - <<EOF2
table inet rvfwtest {
	counter arrived { }
	counter passed { }
	chain pre {
		type filter hook prerouting priority -400;
		iifname "$VETH_C" ip daddr $T4_C counter name arrived
	}
	chain in {
		type filter hook input priority 0;
		iifname "$VETH_C" ip daddr $T4_C counter name passed
	}
}
EOF2

config_interface "$TMP/$G.conf" g "$PORT_G" "$T4_G/24, $T6_G/64"
config_peer "$TMP/$G.conf" "$PUB_C" "$T4_C/32, $T6_C/128" ""
config_interface "$TMP/$C.conf" c "$PORT_C" "$T4_C/24, $T6_C/64"
config_peer "$TMP/$C.conf" "$PUB_G" "0.0.0.0/0, ::/0" "$EP4_G:$PORT_G"

counter() {
	ip netns exec "$NS_C" nft list counter inet rvfwtest "$1" |
		awk '$1 == "packets" { print $2 }'
}

table_present() {
	local t
	t=$(ip netns exec "$NS_C" nft list table inet "ringvpn-$C") || return 1
	echo "$t"
	grep "iifname != \"$C\" ip daddr $T4_C fib saddr type != local drop" <<<"$t" >/dev/null &&
		grep "meta mark set ct mark" <<<"$t" >/dev/null &&
		grep "ct mark set meta mark" <<<"$t" >/dev/null
}

table_absent() {
	if ip netns exec "$NS_C" nft list table inet "ringvpn-$C" 2>/dev/null; then
		return 1
	fi
}

spoof_ping() {
	ip netns exec "$NS_G" ping -n -c 3 -i 0.2 -w 3 -I "$VETH_G" "$T4_C"
}

spoof_dropped() {
	local a0 p0 a1 p1
	a0=$(counter arrived) p0=$(counter passed)
	if spoof_ping; then
		echo "the spoofed ping was answered"
		return 1
	fi
	a1=$(counter arrived) p1=$(counter passed)
	echo "arrived $a0 -> $a1, passed $p0 -> $p1"
	[ "$a1" -gt "$a0" ] && [ "$p1" = "$p0" ]
}

spoof_answered() { spoof_ping; }

tunnel_dead() {
	if ip netns exec "$NS_C" ping -n -c 3 -i 0.2 -w 3 "$T4_G"; then
		return 1
	fi
}

delete_table() { ip netns exec "$NS_C" nft delete table inet "ringvpn-$C"; }

down_clean() {
	in_rv "$C" "$RINGVPN" down "$C" || return 1
	diff <(echo "$STATE0") <(net_state "$NS_C")
}

policy_rules_only() {
	grep "nft is not installed" "${RV_LOG[$C]}" &&
		table_absent &&
		ip -n "$NS_C" rule | grep "not from all fwmark" >/dev/null
}

STATE0=$(net_state "$NS_C")
if ! start_ringvpn "$NS_G" "$TMP/$G.conf" ||
   ! start_ringvpn "$NS_C" "$TMP/$C.conf"; then
	report FAIL "daemons start"
	exit 1
fi
check "up: table inet ringvpn-$C with the drop and the connmark rules" \
	table_present
check "rp_filter=1: the tunnel works" ping_ok "$NS_C" "$T4_G"
check "a spoofed ping to $T4_C over the underlay arrives and is dropped" \
	spoof_dropped
check "table deleted by hand" delete_table
check "without the table: the spoofed ping is answered" spoof_answered
check "without the table: rp_filter=1 drops the tunnel's replies" tunnel_dead
check "down: succeeds with the table gone, net_state as before" down_clean

recovered() {
	grep "undoing what a previous run left behind" "${RV_LOG[$C]}" &&
		table_present
}

# Crash safety: the table a kill -9 leaves is replaced by the next up's
# recovery and removed by its down.
if ! start_ringvpn "$NS_C" "$TMP/$C.conf"; then
	report FAIL "up again"
	exit 1
fi
kill9_ringvpn "$C"
check "kill -9: the table is left behind" table_present
if ! start_ringvpn "$NS_C" "$TMP/$C.conf"; then
	report FAIL "up after kill -9"
	exit 1
fi
check "up after kill -9: recovered, the table is there again" recovered
check "up after kill -9: the tunnel works" ping_ok "$NS_C" "$T4_G"
check "down after that: net_state as before" down_clean

# Without nft on PATH (it is in /usr/sbin or /sbin).
sbin_free=
for d in ${PATH//:/ }; do
	case $d in */sbin) ;; *) sbin_free+="${sbin_free:+:}$d" ;; esac
done
if PATH=$sbin_free command -v nft >/dev/null; then
	report PASS "no nft: skipped (nft is outside sbin here)"
else
	ip netns exec "$NS_C" sysctl -q -w net.ipv4.conf.all.rp_filter=0 \
		"net.ipv4.conf.$VETH_C.rp_filter=0"
	if ! PATH=$sbin_free start_ringvpn "$NS_C" "$TMP/$C.conf"; then
		report FAIL "up without nft"
		exit 1
	fi
	check "no nft: a warning, no table, the policy rules" policy_rules_only
	check "no nft: the tunnel works" ping_ok "$NS_C" "$T4_G"
	check "no nft: down" in_rv "$C" "$RINGVPN" down "$C"
fi

exit "$FAILED"
