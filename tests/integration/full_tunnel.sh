#!/bin/bash
# The full tunnel (AllowedIPs = 0.0.0.0/0, ::/0 with Table = auto), as
# wg-quick sets it up. Three namespaces: a client, a gateway joined to it
# by the underlay veth pair, and a LAN host behind the gateway (which
# forwards both families). The client's main table has a default route to
# the gateway's underlay address and the gateway's endpoint is another
# address (198.19.0.1) behind it, so only the fwmark keeps the tunnel's
# own packets out of the tunnel.
#
# Checked: the rules "not fwmark T lookup T" and "lookup main
# suppress_prefixlength 0" for both families, the default routes in T,
# src_valid_mark 1 and the mark on the daemon's sockets; DNS handed to a
# fake resolvconf first on PATH (it only records: the host's resolv.conf
# is never touched) and taken back on every way down; the client
# reaches the LAN host (ping over IPv4 and IPv6, a 16 MiB transfer with
# its SHA-256 compared) while the underlay veth carries the bytes (no
# loop); SIGTERM leaves rules, routes and src_valid_mark as before;
# after a kill -9 the next `up` works, and its `ringvpn down` leaves the
# state clean again.
# Needs root, ip, ping, ncat, ss, sysctl; exits 77 (skip) otherwise or
# with RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
# shellcheck disable=SC2317 # most functions run through check()
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init full_tunnel sysctl
make_pair "rv-ft-c-$$" "rv-ft-g-$$"
NS_C=$NS_A
NS_G=$NS_B
NS_L=rv-ft-l-$$
VETH_C=$VETH_A

PORT_G=51820
PORT_C=51821
TABLE=51820
EP4_G=198.19.0.1
T4_G=10.98.0.1
T4_C=10.98.0.2
T6_G=fd00:98::1
T6_C=fd00:98::2
LAN4_G=10.99.0.1
LAN4_L=10.99.0.2
LAN6_G=fd00:99::1
LAN6_L=fd00:99::2
BYTES=$((16 << 20))
PUB_G=$(make_key g)
PUB_C=$(make_key c)
G=rv$$g
C=rv$$c

# The LAN behind the gateway, which routes both families to it.
make_netns "$NS_L"
ip link add "rv$$gl" netns "$NS_G" type veth peer name "rv$$lg" netns "$NS_L"
ip -n "$NS_G" addr add "$LAN4_G/24" dev "rv$$gl"
ip -n "$NS_G" addr add "$LAN6_G/64" dev "rv$$gl" nodad
ip -n "$NS_L" addr add "$LAN4_L/24" dev "rv$$lg"
ip -n "$NS_L" addr add "$LAN6_L/64" dev "rv$$lg" nodad
ip -n "$NS_G" link set "rv$$gl" up
ip -n "$NS_L" link set "rv$$lg" up
ip -n "$NS_L" route add default via "$LAN4_G"
ip -n "$NS_L" -6 route add default via "$LAN6_G"
ip netns exec "$NS_G" sysctl -q -w net.ipv4.ip_forward=1 \
	net.ipv6.conf.all.forwarding=1
# The gateway's endpoint is not on the client's link: only the client's
# default route in the main table reaches it.
ip -n "$NS_G" addr add "$EP4_G/32" dev lo
ip -n "$NS_C" route add default via "$UL4_B"
ip -n "$NS_C" -6 route add default via "$UL6_B"

config_interface "$TMP/$G.conf" g "$PORT_G" "$T4_G/24, $T6_G/64"
config_peer "$TMP/$G.conf" "$PUB_C" "$T4_C/32, $T6_C/128" ""
config_interface "$TMP/$C.conf" c "$PORT_C" "$T4_C/24, $T6_C/64"
config_peer "$TMP/$C.conf" "$PUB_G" "0.0.0.0/0, ::/0" "$EP4_G:$PORT_G"
sed -i "/^Address/a DNS = $LAN4_L, lan.example" "$TMP/$C.conf"

# resolvconf as the daemons will find it: records argv and stdin.
mkdir "$TMP/bin"
cat >"$TMP/bin/resolvconf" <<EOF
#!/bin/sh
{ echo "argv: \$*"; sed 's/^/stdin: /'; } >>"$TMP/resolvconf.log"
EOF
chmod 755 "$TMP/bin/resolvconf"
PATH=$TMP/bin:$PATH
touch "$TMP/resolvconf.log"

sysctl_c() { ip netns exec "$NS_C" sysctl -n "$1"; }

# tx_bytes of the client's underlay veth.
underlay_tx() {
	ip netns exec "$NS_C" cat /proc/net/dev |
		awk -v dev="$VETH_C:" '{ sub(/:/, ": ") } $1 == dev { print $10 }'
}

# The client's full-tunnel state: rules of both families, default routes
# in TABLE through the tunnel, src_valid_mark, the sockets' mark. (Output
# is captured before grep reads it: grep -q closing a pipe early would
# fail the writer under pipefail.)
rules_of() { ip -n "$NS_C" "$1" rule show; }
table_of() { ip -n "$NS_C" "$1" route show table "$TABLE" 2>/dev/null || true; }
has() { grep -q -- "$2" <<<"$1"; }

full_present() {
	local fam rules
	for fam in -4 -6; do
		rules=$(rules_of "$fam")
		has "$rules" "not from all fwmark 0xca6c lookup $TABLE\$" ||
			{ echo "no IPv${fam#-} fwmark rule:"; echo "$rules"; return 1; }
		has "$rules" "from all lookup main suppress_prefixlength 0\$" ||
			{ echo "no IPv${fam#-} suppress rule:"; echo "$rules"; return 1; }
		has "$(table_of "$fam")" "^default dev $C " ||
			{ echo "no IPv${fam#-} default route in table $TABLE"; return 1; }
	done
	[ "$(sysctl_c net.ipv4.conf.all.src_valid_mark)" = 1 ] ||
		{ echo "src_valid_mark is not 1"; return 1; }
	# The daemon's UDP sockets carry the mark (ss -e shows it).
	rules=$(ip netns exec "$NS_C" ss -Huane)
	has "$rules" "fwmark:0xca6c" ||
		{ echo "no socket with fwmark 0xca6c:"; echo "$rules"; return 1; }
}

full_absent() {
	local fam
	for fam in -4 -6; do
		if has "$(rules_of "$fam")" "lookup $TABLE\|suppress_prefixlength"; then
			echo "IPv${fam#-} rules left:"
			rules_of "$fam"
			return 1
		fi
		if [ -n "$(table_of "$fam")" ]; then
			echo "IPv${fam#-} routes left in table $TABLE"
			return 1
		fi
	done
	[ "$(sysctl_c net.ipv4.conf.all.src_valid_mark)" = 0 ] ||
		{ echo "src_valid_mark not restored to 0"; return 1; }
}

# dns_log ADDS DELS: the fake resolvconf was asked ADDS times to add the
# client's record (with the name server and search domain) and DELS
# times to delete it. The record may carry a prefix ("tun.") when the
# host's /etc/resolvconf/interface-order asks for one.
dns_log() {
	local log adds dels
	log=$(cat "$TMP/resolvconf.log")
	adds=$(grep -cE "^argv: -a ([A-Za-z0-9-]+\.)?$C -m 0 -x\$" <<<"$log" || true)
	dels=$(grep -cE "^argv: -d ([A-Za-z0-9-]+\.)?$C -f\$" <<<"$log" || true)
	[ "$adds" = "$1" ] && [ "$dels" = "$2" ] &&
		has "$log" "^stdin: nameserver $LAN4_L\$" &&
		has "$log" "^stdin: search lan.example\$" &&
		return 0
	echo "expected $1 adds and $2 deletes; the log:"
	echo "$log"
	return 1
}

# The transfer and the pings ran over the underlay: its veth sent at
# least that many bytes more.
transfer_over_underlay() {
	local before after
	before=$(underlay_tx)
	transfer "$NS_C" "$NS_L" "$LAN4_L" "$BYTES" || return 1
	after=$(underlay_tx)
	echo "underlay tx grew by $((after - before)) bytes"
	[ $((after - before)) -ge "$BYTES" ]
}

kill9_client() {
	kill9_ringvpn "$C"
	test -f "${RV_RUNDIR[$C]}/$C.journal" || { echo "no journal left"; return 1; }
	full_present_rules
}

# After a kill -9 the TUN device (and its routes) went with the process;
# the rules and src_valid_mark stay behind.
full_present_rules() {
	has "$(rules_of -4)" "lookup $TABLE" &&
		has "$(rules_of -6)" "lookup $TABLE" &&
		[ "$(sysctl_c net.ipv4.conf.all.src_valid_mark)" = 1 ]
}

# `ringvpn down NAME` stops the daemon and undoes its journal.
down_client() {
	local pid=${RV_PID[$C]}
	in_rv "$C" "$RINGVPN" down "$C" || return 1
	wait_for 5 pid_gone "$pid" || { echo "daemon still running"; return 1; }
	wait "$pid" 2>/dev/null || true
	lib_untrack_pid "$pid"
	! ip -n "$NS_C" link show dev "$C" >/dev/null 2>&1 || { echo "$C still exists"; return 1; }
	test ! -e "${RV_RUNDIR[$C]}/$C.journal" || { echo "journal left"; return 1; }
	full_absent
}

reach_lan() {
	check "$1: ping client -> LAN over IPv4" ping_ok "$NS_C" "$LAN4_L"
	check "$1: ping client -> LAN over IPv6" ping_ok "$NS_C" "$LAN6_L"
}

ip netns exec "$NS_C" sysctl -q -w net.ipv4.conf.all.src_valid_mark=0
check "before up: no full-tunnel state" full_absent
if ! start_ringvpn "$NS_G" "$TMP/$G.conf" ||
   ! start_ringvpn "$NS_C" "$TMP/$C.conf"; then
	report FAIL "daemons start"
	exit 1
fi
check "up: rules, routes in table $TABLE, src_valid_mark, socket mark" \
	full_present
check "up: DNS given to resolvconf" dns_log 1 0
reach_lan "up"
check "up: 16 MiB client -> LAN [$LAN4_L], SHA-256 matches, over the underlay" \
	transfer_over_underlay
check "SIGTERM: client exits 0, interface removed" stop_ringvpn "$C"
check "SIGTERM: rules, routes and src_valid_mark as before" full_absent
check "SIGTERM: DNS taken back" dns_log 1 1

if ! start_ringvpn "$NS_C" "$TMP/$C.conf"; then
	report FAIL "second up"
	exit 1
fi
check "second up: full-tunnel state" full_present
check "kill -9: journal, rules and src_valid_mark left behind" kill9_client
if ! start_ringvpn "$NS_C" "$TMP/$C.conf"; then
	report FAIL "up after kill -9"
	exit 1
fi
check "up after kill -9: full-tunnel state, table $TABLE again" full_present
reach_lan "up after kill -9"
check "ringvpn down: daemon gone, state as before up" down_client
# second up, the journal's undo after kill -9, up again, down
check "kill -9, up, down: every DNS record added was deleted" dns_log 3 3

exit "$FAILED"
