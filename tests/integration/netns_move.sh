#!/bin/bash
# The interface moved into another network namespace, the container
# pattern of wireguard.com/netns: born in A, which has the underlay to B,
# and moved into X, which has nothing but lo. The UDP sockets stay in A,
# so the encrypted traffic takes A's network while X sees only the
# interface.
#   - `ringvpn -f NAME` in A, configured with wg set from A, then moved:
#     1.5 s later (longer than a once-a-second check would take) the
#     daemon still runs; the address X gives it shows in X; wg in X
#     reads and changes its configuration (a persistent keepalive);
#     ping and 8 MiB each way between X and B through it, SHA-256
#     compared; B sees A's underlay address as the endpoint; `ringvpn
#     show` in A still works and counts the bytes; `ip link del` in X
#     ends the daemon (status 0) and removes its socket.
#   - `ringvpn up` of a file with an Address and a route, in A, moved:
#     the kernel drops the address and route (none in A, none moved to
#     X); X gives it one and pings B through it; `ringvpn down` in A
#     succeeds, the daemon exits, and A is as before the up.
# Needs root, ip, ping, ncat, ss, wg; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init netns_move wg
make_pair "rv-nm-a-$$" "rv-nm-b-$$"
NS_X=rv-nm-x-$$
make_netns "$NS_X"
B=rvnm$$b
PORT_A=51850
PORT_B=51851
T4_A=10.98.0.1
T4_B=10.98.0.2
MIB8=$((8 << 20))
PUB_A=$(make_key a)
PUB_B=$(make_key b)

config_interface "$TMP/$B.conf" b "$PORT_B" "$T4_B/24"
config_peer "$TMP/$B.conf" "$PUB_A" "$T4_A/32" ""
start_ringvpn "$NS_B" "$TMP/$B.conf" || { report FAIL "B starts"; exit 1; }

# in_x CMD...: CMD in the container.
in_x() { ip netns exec "$NS_X" "$@"; }

# give_address NAME: what the container's owner does after the move.
give_address() {
	ip -n "$NS_X" addr add "$T4_A/24" dev "$1" &&
		ip -n "$NS_X" link set "$1" up
}

# still_runs PID: alive after 1.5 s.
still_runs() {
	sleep 1.5
	kill -0 "$1" 2>/dev/null || { echo "the daemon exited after the move"; return 1; }
}

moved_userspace() {
	local a=rvnm$$u pid rx
	start_userspace "$NS_A" "$a" || return 1
	pid=${RV_PID[$a]}
	ip netns exec "$NS_A" wg set "$a" private-key "$TMP/a.key" \
		listen-port "$PORT_A" peer "$PUB_B" allowed-ips "$T4_B/32" \
		endpoint "$UL4_B:$PORT_B" || return 1
	ip -n "$NS_A" link set "$a" netns "$NS_X"
	still_runs "$pid" && give_address "$a" || return 1
	ip -n "$NS_X" -o addr show dev "$a" | grep -F " $T4_A/24 " ||
		{ echo "X does not show $T4_A on $a"; return 1; }
	in_x wg show "$a" peers | grep -xF "$PUB_B" &&
		in_x wg set "$a" peer "$PUB_B" persistent-keepalive 13 &&
		in_x wg show "$a" persistent-keepalive |
		grep -xF "$PUB_B	13" ||
		{ echo "wg in X cannot read or set $a"; return 1; }
	ping_ok "$NS_X" "$T4_B" || { echo "no ping X -> B"; return 1; }
	transfer "$NS_X" "$NS_B" "$T4_B" "$MIB8" &&
		transfer "$NS_B" "$NS_X" "$T4_A" "$MIB8" || return 1
	[ "$(rv_peer_field "$B" endpoint)" = "$UL4_A:$PORT_A" ] ||
		{ echo "B sees A at $(rv_peer_field "$B" endpoint)"; return 1; }
	rx=$(rv_peer_field "$a" rx_bytes)
	echo "ringvpn show in A: rx_bytes $rx"
	[ "${rx:-0}" -gt "$MIB8" ] || return 1
	ip -n "$NS_X" link del "$a"
	wait_for 5 pid_gone "$pid" || { echo "still running after del in X"; return 1; }
	wait "$pid" || { echo "exit status $?"; return 1; }
	lib_untrack_pid "$pid"
	[ ! -e "/var/run/wireguard/$a.sock" ]
}

moved_up_then_down() {
	local a=rvnm$$c conf before pid
	conf=$TMP/$a.conf
	config_interface "$conf" a "$PORT_A" "$T4_A/24"
	config_peer "$conf" "$PUB_B" "$T4_B/32" "$UL4_B:$PORT_B"
	before=$(net_state "$NS_A")
	start_ringvpn "$NS_A" "$conf" || return 1
	pid=${RV_PID[$a]}
	ip -n "$NS_A" link set "$a" netns "$NS_X"
	still_runs "$pid" || return 1
	if ip -n "$NS_A" -o addr | grep -F " $T4_A/" ||
		ip -n "$NS_X" -o addr show dev "$a" | grep -F " $T4_A/" ||
		ip -n "$NS_A" route | grep -F "$T4_B"; then
		echo "the address or route of up outlived the move"
		return 1
	fi
	give_address "$a" && ping_ok "$NS_X" "$T4_B" ||
		{ echo "no ping X -> B"; return 1; }
	in_rv "$a" "$RINGVPN" down "$a" || { echo "down failed"; return 1; }
	wait_for 5 pid_gone "$pid" || return 1
	wait "$pid" || { echo "exit status $?"; return 1; }
	lib_untrack_pid "$pid"
	[ "$(net_state "$NS_A")" = "$before" ] ||
		{ diff <(echo "$before") <(net_state "$NS_A"); return 1; }
	wait_for 5 sh -c "! ip -n $NS_X link show $a >/dev/null 2>&1"
}

check "ringvpn NAME moved into a container: wg, ip, traffic, show, del there" \
	moved_userspace
check "ringvpn up, moved: the kernel drops up's address; down in A is clean" \
	moved_up_then_down
exit "$FAILED"
