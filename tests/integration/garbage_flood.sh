#!/bin/bash
# Random datagrams of every size (1-1400 bytes, none a WireGuard message)
# at a gateway's listen port, as fast as one sender can for 10 seconds,
# while a client sends it 64 MiB through the tunnel. The gateway must not
# crash (it exits 0 on SIGTERM afterwards), the transfer must arrive
# intact, the tunnel must still carry pings, and the counters must account
# for every datagram: what the flooder sent equals what the gateway's
# workers dropped as bad (the `bad` counter, part of `drops`) plus what the
# kernel dropped before them (UDP InErrors in the gateway's namespace).
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
PUB_GW=$(make_key g)
PUB_CL=$(make_key c)
config_interface "$TMP/$GW.conf" g 51830 "10.89.0.1/24"
config_peer "$TMP/$GW.conf" "$PUB_CL" "10.89.0.2/32" ""
config_interface "$TMP/$CL.conf" c 51831 "10.89.0.2/24"
config_peer "$TMP/$CL.conf" "$PUB_GW" "10.89.0.1/32" "$UL4_A:51830"
start_ringvpn "$NS_A" "$TMP/$GW.conf"
start_ringvpn "$NS_B" "$TMP/$CL.conf"
TRANSFER_TIMEOUT=120

# Sum of one per-worker counter of the gateway (fresh: SIGUSR1 first).
workers_sum() {
	kill -USR1 "${RV_PID[$GW]}"
	sleep 0.3
	awk -v f="$1" '$1 == "worker" {
			for (i = 3; i < NF; i++) if ($i == f) s += $(i + 1)
		} END { print s + 0 }' "${RV_RUNDIR[$GW]}/$GW.stats"
}
# UDP InErrors in the gateway's namespace (RcvbufErrors are among them).
in_errors() {
	ip netns exec "$NS_A" awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $4 }' \
		/proc/net/snmp
}

check "before: ping client -> gateway" ping_ok "$NS_B" 10.89.0.1
DROPS0=$(workers_sum bad)
INERR0=$(in_errors)
ip netns exec "$NS_F" "$HS_FLOOD" --garbage --endpoint 198.18.2.1:51830 \
	--key "$PUB_GW" --rate 10000000 --seconds 10 --pool 4096 \
	>"$TMP/flood.out" 2>&1 &
FLOOD=$!
lib_track_pid "$FLOOD"
check "during the flood: 64 MiB client -> gateway, SHA-256 matches" \
	transfer "$NS_B" "$NS_A" 10.89.0.1 $((64 << 20))
wait "$FLOOD"
lib_untrack_pid "$FLOOD"
cat "$TMP/flood.out"
sleep 1 # let the workers finish what is queued
SENT=$(sed -n 's/^hs_flood: sent \([0-9]*\) garbage.*/\1/p' "$TMP/flood.out")
DROPS=$(($(workers_sum bad) - DROPS0))
INERR=$(($(in_errors) - INERR0))

# shellcheck disable=SC2317 # called through check
accounted() {
	echo "sent $SENT; the gateway's workers dropped $DROPS as bad; the kernel" \
		"dropped $INERR before them"
	[ -n "$SENT" ] && [ "$SENT" -gt 0 ] &&
		[ "$SENT" -eq $((DROPS + INERR)) ]
}
check "every garbage datagram is counted as dropped" accounted
check "after: the tunnel still carries pings" ping_ok "$NS_B" 10.89.0.1
check "SIGTERM: the gateway exits 0" stop_ringvpn "$GW"
exit "$FAILED"
