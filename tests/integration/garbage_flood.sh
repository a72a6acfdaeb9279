#!/bin/bash
# Random datagrams of every size from 0 (empty) to 1472 bytes (a 1500-byte MTU,
# unfragmented; none a WireGuard message) at a gateway's listen port, as
# fast as one sender can for 10 seconds, while a client sends it 64 MiB
# through the tunnel. The gateway must not crash (it is alive after the
# flood and exits 0 on SIGTERM), the transfer must arrive intact, the
# tunnel must still carry pings, and the counters must account for every
# garbage datagram:
#   sent (the flooder's count, which its namespace's Udp OutDatagrams
#         confirms: IP_RECVERR makes it count only what left)
#   = dropped as bad by the gateway's workers (`bad`, part of `drops`;
#     all of them are among `udp_rx`)
#   + dropped by the gateway's kernel before ringvpn read them (Udp
#     InErrors, RcvbufErrors among them).
# The kernel's drop counters are per namespace, not per socket: the
# client reaches the gateway over IPv6, so the tunnel's own losses go to
# Udp6InErrors and the garbage (IPv4) has Udp InErrors to itself.
# Needs root, ip, ping, ncat; exits 77 (skip) otherwise. RINGVPN names the
# binary, HS_FLOOD the flooder (default: tests/interop/hs_flood beside it).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

HS_FLOOD=${HS_FLOOD:-$(dirname "$RINGVPN")/tests/interop/hs_flood}
lib_init garbage_flood
[ -x "$HS_FLOOD" ] || { echo "FAIL: $HS_FLOOD not executable"; exit 1; }

make_pair "rv-gf-a-$$" "rv-gf-b-$$"
NS_F=rv-gf-f-$$
make_netns "$NS_F"
link_netns "$NS_A" "$NS_F" "rv$$ga" "rv$$gf" 198.18.2.1/24 198.18.2.2/24

GW=rvg$$g
CL=rvg$$c
if ! rv_pair -6 -g -u "$GW" "$CL" "10.89.0.1/24" "10.89.0.2/24"; then
	report FAIL "daemons start"
	exit 1
fi
TRANSFER_TIMEOUT=120

# The sums of the gateway's per-worker counters udp_rx and bad, fresh
# (SIGUSR1 makes it write its stats file at once).
workers_rx_bad() {
	kill -USR1 "${RV_PID[$GW]}"
	sleep 0.3
	awk '$1 == "worker" {
			for (i = 3; i < NF; i++) {
				if ($i == "udp_rx") rx += $(i + 1)
				if ($i == "bad") bad += $(i + 1)
			}
		} END { print rx + 0, bad + 0 }' "${RV_RUNDIR[$GW]}/$GW.stats"
}
# udp_mib NS FIELD: a field of the Udp line of NS's /proc/net/snmp, found
# by its name in the header line.
udp_mib() {
	ip netns exec "$1" cat /proc/net/snmp | awk -v f="$2" '
		$1 == "Udp:" && !n {
			for (i = 2; i <= NF; i++) col[$i] = i
			n = 1; next
		}
		$1 == "Udp:" { print $col[f] }'
}
udp6_in_errors() {
	ip netns exec "$1" cat /proc/net/snmp6 |
		awk '$1 == "Udp6InErrors" { print $2 }'
}
# The gateway's counters, once the workers are done with what is queued:
# two reads alike.
settled_rx_bad() {
	local a b
	a=$(workers_rx_bad)
	for _ in $(seq 20); do
		b=$(workers_rx_bad)
		[ "$a" != "$b" ] || break
		a=$b
	done
	echo "$a"
}

check "before: ping client -> gateway" ping_ok "$NS_B" 10.89.0.1
read -r RX0 BAD0 <<<"$(settled_rx_bad)"
INERR0=$(udp_mib "$NS_A" InErrors)
INERR6_0=$(udp6_in_errors "$NS_A")
OUT0=$(udp_mib "$NS_F" OutDatagrams)
ip netns exec "$NS_F" "$HS_FLOOD" --garbage \
	--endpoint "198.18.2.1:$RV_PORT_A" --key "${RV_PUB[$GW]}" --rate 10000000 --seconds 10 --pool 4096 \
	--max-size 1472 >"$TMP/flood.out" 2>&1 &
FLOOD=$!
lib_track_pid "$FLOOD"
check "during the flood: 64 MiB client -> gateway, SHA-256 matches" \
	transfer "$NS_B" "$NS_A" 10.89.0.1 $((64 << 20))
FLOOD_RC=0
wait "$FLOOD" || FLOOD_RC=$?
lib_untrack_pid "$FLOOD"
cat "$TMP/flood.out"
# shellcheck disable=SC2317 # called through check
gateway_alive() {
	kill -0 "${RV_PID[$GW]}" 2>/dev/null || {
		echo "the gateway is gone"
		tail -n 20 "${RV_LOG[$GW]}"
		false
	}
}
check "after the flood: the gateway is alive" gateway_alive

SENT=$(sed -n 's/^hs_flood: sent \([0-9]*\) garbage.*/\1/p' "$TMP/flood.out")
read -r RX BAD <<<"$(settled_rx_bad)"
RX=$((RX - RX0))
BAD=$((BAD - BAD0))
INERR=$(($(udp_mib "$NS_A" InErrors) - INERR0))
INERR6=$(($(udp6_in_errors "$NS_A") - INERR6_0))
OUT=$(($(udp_mib "$NS_F" OutDatagrams) - OUT0))

# shellcheck disable=SC2317 # called through check
flooder_counted() {
	echo "the flooder (exit $FLOOD_RC) says it sent ${SENT:-nothing};" \
		"its namespace's Udp OutDatagrams rose by $OUT"
	[ "$FLOOD_RC" -eq 0 ] && [ -n "$SENT" ] && [ "$SENT" -gt 0 ] &&
		[ "$SENT" -eq "$OUT" ]
}
check "the flooder's count is what its kernel sent" flooder_counted
ACCOUNT="sent $SENT = $BAD dropped as bad by the gateway's workers +"
ACCOUNT+=" $INERR dropped by its kernel (Udp InErrors)"
if [ -n "$SENT" ] && [ "$SENT" -eq $((BAD + INERR)) ]; then
	report PASS "every garbage datagram is counted: $ACCOUNT"
else
	report FAIL "every garbage datagram is counted: $ACCOUNT" \
		"($((BAD + INERR)))"
fi
LEGIT="workers received $RX datagrams: $BAD bad, $((RX - BAD)) of the"
LEGIT+=" tunnel (which lost $INERR6 in the kernel: Udp6InErrors)"
if [ "$BAD" -le "$RX" ]; then
	report PASS "the bad ones are among those received: $LEGIT"
else
	report FAIL "the bad ones are among those received: $LEGIT"
fi
check "after: the tunnel still carries pings" ping_ok "$NS_B" 10.89.0.1
check "SIGTERM: the gateway exits 0" stop_ringvpn "$GW"
exit "$FAILED"
