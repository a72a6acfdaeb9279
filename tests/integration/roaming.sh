#!/bin/bash
# Endpoint roaming. A client (no fixed address known to the gateway: the
# gateway's [Peer] has no Endpoint) sends a slow 64 MiB TCP stream to the
# gateway; once the gateway has received 8 MiB, the client's underlay
# address changes (a new address is added, the old one removed, so the
# client's packets now leave from the new one). The transfer must finish
# with a matching SHA-256 (the gateway's replies follow the client to its
# new address) and the gateway's `ringvpn show` must name the new
# endpoint. Once over IPv4 (198.18.0.2 -> .3) and once over IPv6
# (2001:db8:18::2 -> ::3), with fresh daemons.
# Needs root, ip, ping, ncat, ss, sysctl; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init roaming sysctl
make_pair "rv-ro-g-$$" "rv-ro-c-$$"
NS_G=$NS_A
NS_C=$NS_B
# Removing an IPv4 primary address would take the secondary (the new one)
# with it unless secondaries are promoted.
ip netns exec "$NS_C" sysctl -q -w net.ipv4.conf.all.promote_secondaries=1 \
	"net.ipv4.conf.$VETH_B.promote_secondaries=1"

T4_G=10.95.0.1
T4_C=10.95.0.2

# shellcheck disable=SC2317 # called through wait_for
gateway_got() {
	[ "$(rv_peer_field "$1" rx_bytes)" -ge "$2" ] 2>/dev/null
}

# run_roam FAMILY OLD_ADDR NEW_ADDR PREFIXLEN: the gateway is rv_pair's
# A (no Endpoint for the client), the client its B.
run_roam() {
	local fam=$1 old=$2 new=$3 plen=$4 g c id ep_old ep_new got
	local mid=no text
	g=rv$$g$fam
	c=rv$$c$fam
	if [ "$fam" = 4 ]; then
		ep_old=$old:$RV_PORT_B
		ep_new=$new:$RV_PORT_B
	else
		ep_old=[$old]:$RV_PORT_B
		ep_new=[$new]:$RV_PORT_B
	fi
	if ! rv_pair -"$fam" -g -u "$g" "$c" "$T4_G/24" "$T4_C/24"; then
		report FAIL "IPv$fam: daemons start"
		return 0
	fi
	check "IPv$fam: ping client -> gateway" ping_ok "$NS_C" "$T4_G"
	got=$(rv_peer_field "$g" endpoint)
	if [ "$got" = "$ep_old" ]; then
		report PASS "IPv$fam: gateway learned endpoint $ep_old"
	else
		report FAIL "IPv$fam: gateway shows endpoint '$got'," \
			"expected $ep_old"
	fi

	# 64 chunks of 1 MiB, 40 ms apart: about 2.6 s at least.
	if transfer_start "$NS_C" "$NS_G" "$T4_G" $((64 << 20)) 40; then
		id=$XFER_ID
		wait_for 10 gateway_got "$g" $((8 << 20)) || true
		transfer_running "$id" && mid=yes
		if [ "$fam" = 4 ]; then
			ip -n "$NS_C" addr add "$new/$plen" dev "$VETH_B"
		else
			ip -n "$NS_C" addr add "$new/$plen" dev "$VETH_B" nodad
		fi
		ip -n "$NS_C" addr del "$old/$plen" dev "$VETH_B"
		transfer_running "$id" || mid=no
		text="IPv$fam: 64 MiB client -> gateway, moved $old -> $new"
		text+=" mid-transfer: $mid, SHA-256 matches"
		if transfer_wait "$id" && [ "$mid" = yes ]; then
			report PASS "$text"
		else
			report FAIL "$text"
		fi
	else
		report FAIL "IPv$fam: transfer did not start"
	fi
	got=$(rv_peer_field "$g" endpoint)
	if [ "$got" = "$ep_new" ]; then
		report PASS "IPv$fam: gateway's show names the new endpoint $ep_new"
	else
		report FAIL "IPv$fam: gateway shows endpoint '$got'," \
			"expected $ep_new"
	fi
	lib_stop_pid "${RV_PID[$c]}"
	lib_stop_pid "${RV_PID[$g]}"
	unset "RV_NS[$g]" "RV_NS[$c]"
}

run_roam 4 "$UL4_B" 198.18.0.3 24
run_roam 6 "$UL6_B" 2001:db8:18::3 64

exit "$FAILED"
