#!/bin/bash
# A handshake flood at a gateway while a client uses it. Three namespaces:
# the gateway (A), its client (B) and a flooder (F) on a link of its own
# to the gateway. hs_flood sends initiations with a valid MAC1 from fake
# keys, far faster than the control thread can do DHs:
#  - without answering cookies, 20,000 a second from 128 source
#    addresses: a 64 MiB transfer through the tunnel arrives intact and
#    keeps at least half the throughput it had without the flood; the
#    gateway's memory stays bounded; a restarted client handshakes anew
#    through the flood; the gateway answered with cookie replies (its
#    stats and the flooder both say so); once the flood is over (and the
#    gateway's 1 s of "under load" has passed), a client it never saw
#    before completes its handshake within 2 seconds;
#  - answering cookies (so its MAC2 is good): the ratelimiter drops it,
#    and the tunnel still carries pings.
# Needs root, ip, ping, ncat, ss; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary, HS_FLOOD the flooder
# (default: tests/interop/hs_flood beside RINGVPN).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

HS_FLOOD=${HS_FLOOD:-$(dirname "$RINGVPN")/tests/interop/hs_flood}
lib_init handshake_flood
[ -x "$HS_FLOOD" ] || { echo "FAIL: $HS_FLOOD not executable"; exit 1; }

make_pair "rv-hf-a-$$" "rv-hf-b-$$"
NS_F=rv-hf-f-$$
make_netns "$NS_F"
UL4_GW_F=198.18.1.1
UL4_F=198.18.1.2
link_netns "$NS_A" "$NS_F" "rv$$fa" "rv$$ff" "$UL4_GW_F/24" "$UL4_F/24"
SOURCES=128
for ((i = 0; i < SOURCES; i++)); do
	ip -n "$NS_F" addr add "198.18.1.$((10 + i))/24" dev "rv$$ff"
done

PORT_GW=51820
PORT_CL=51821
T4_GW=10.93.0.1
T4_CL=10.93.0.2
RATE=20000
GW=rv$$gw
CL=rv$$cl
NEW=rv$$nw
T4_NEW=10.93.0.3
CONF_GW=$TMP/$GW.conf
CONF_CL=$TMP/$CL.conf
CONF_NEW=$TMP/$NEW.conf
PUB_GW=$(make_key gw)
PUB_CL=$(make_key cl)
PUB_NEW=$(make_key nw)
config_interface "$CONF_GW" gw "$PORT_GW" "$T4_GW/24"
config_peer "$CONF_GW" "$PUB_CL" "$T4_CL/32" ""
config_peer "$CONF_GW" "$PUB_NEW" "$T4_NEW/32" ""
config_interface "$CONF_NEW" nw 51822 "$T4_NEW/24"
config_peer "$CONF_NEW" "$PUB_GW" "$T4_GW/32" "$UL4_GW_F:$PORT_GW"
config_interface "$CONF_CL" cl "$PORT_CL" "$T4_CL/24"
config_peer "$CONF_CL" "$PUB_GW" "$T4_GW/32" "$UL4_A:$PORT_GW"

# gw_stat FIELD: FIELD of the gateway's "handshakes:" stats line, fresh
# (SIGUSR1 makes the daemon write its stats file at once).
gw_stat() {
	kill -USR1 "${RV_PID[$GW]}" 2>/dev/null || true
	sleep 0.3
	awk -v f="$1" '$1 == "handshakes:" {
			for (i = 2; i < NF; i++) if ($i == f) print $(i + 1)
		}' "${RV_RUNDIR[$GW]}/$GW.stats" 2>/dev/null || true
}

# flood_start OUT [ARG...]: hs_flood from F at the gateway for up to a
# minute (flood_stop ends it sooner); sets FLOOD_PID.
flood_start() {
	local out=$1
	shift
	ip netns exec "$NS_F" "$HS_FLOOD" --endpoint "$UL4_GW_F:$PORT_GW" \
		--key "$PUB_GW" --rate "$RATE" --seconds 60 "$@" \
		>"$out" 2>&1 &
	FLOOD_PID=$!
	lib_track_pid "$FLOOD_PID"
}

# flood_stop OUT: stops it; prints how many cookie replies it got.
flood_stop() {
	lib_stop_pid "$FLOOD_PID"
	sed -n 's/.* got \([0-9]*\) cookie replies.*/\1/p' "$1"
}

# A client that starts from nothing must get through: its first
# initiation may earn a cookie, its retry (REKEY_TIMEOUT later) carries
# MAC2. 20 s is four retries.
# shellcheck disable=SC2317 # called through check
client_handshakes() {
	wait_for 20 ip netns exec "$NS_B" ping -n -q -c 1 -W 1 "$T4_GW" \
		>/dev/null || { echo "no ping reply for 20 s"; return 1; }
	ping_ok "$NS_B" "$T4_GW"
}

# shellcheck disable=SC2317 # called through check
restart_client() {
	stop_ringvpn "$CL" && start_ringvpn "$NS_B" "$CONF_CL"
}

# expect_positive WHAT VALUE
expect_positive() {
	if [ "${2:-0}" -gt 0 ] 2>/dev/null; then
		report PASS "$1: $2"
	else
		report FAIL "$1: '${2:-}', expected more than 0"
	fi
}

if ! start_ringvpn "$NS_A" "$CONF_GW" || ! start_ringvpn "$NS_B" "$CONF_CL"
then
	report FAIL "daemons start"
	exit 1
fi
check "before the flood: ping client -> gateway" ping_ok "$NS_B" "$T4_GW"

# timed_transfer SECONDS_VAR: 64 MiB client -> gateway; the wall time in
# milliseconds goes to the named variable.
timed_transfer() {
	local t0 t1
	t0=$(date +%s%3N)
	transfer "$NS_B" "$NS_A" "$T4_GW" $((64 << 20)) || return 1
	t1=$(date +%s%3N)
	printf -v "$1" '%s' $((t1 - t0))
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/${RV_PID[$GW]}/status"; }

check "no flood: 64 MiB client -> gateway, SHA-256 matches" \
	timed_transfer QUIET_MS
RSS_BEFORE=$(rss_kib)

# --- A flood that ignores cookies, from many addresses.
flood_start "$TMP/flood1.out" --sources "$SOURCES" --source-base 198.18.1.10
sleep 1
check "flood: 64 MiB client -> gateway, SHA-256 matches" \
	timed_transfer FLOOD_MS
RSS_DURING=$(rss_kib)
# shellcheck disable=SC2317 # called through check
half_throughput() {
	echo "64 MiB took ${QUIET_MS} ms without the flood, ${FLOOD_MS} ms in it"
	[ "${FLOOD_MS:-999999}" -le $((2 * ${QUIET_MS:-0})) ]
}
check "flood: the transfer keeps at least half its throughput" \
	half_throughput
check "flood: client restarts" restart_client
check "flood: new client handshakes through the flood" client_handshakes
COOKIES_SENT=$(gw_stat cookies_sent)
COOKIES_GOT=$(flood_stop "$TMP/flood1.out")
expect_positive "flood: gateway stats cookies_sent" "$COOKIES_SENT"
expect_positive "flood: cookie replies the flooder got" "$COOKIES_GOT"
cat "$TMP/flood1.out"
RSS_AFTER=$(rss_kib)
# shellcheck disable=SC2317 # called through check
memory_bounded() {
	echo "gateway RSS: ${RSS_BEFORE} KiB before, ${RSS_DURING} KiB" \
		"during, ${RSS_AFTER} KiB after the flood"
	[ $((RSS_DURING - RSS_BEFORE)) -lt 65536 ] &&
		[ $((RSS_AFTER - RSS_BEFORE)) -lt 65536 ]
}
check "flood: the gateway's memory stays bounded" memory_bounded

# shellcheck disable=SC2317 # called through check
new_client_quickly() {
	local t0 t1
	sleep 1.2 # the gateway counts as under load for 1 s after a burst
	t0=$(date +%s%3N)
	start_ringvpn "$NS_F" "$CONF_NEW" || return 1
	wait_for 5 ip netns exec "$NS_F" ping -n -q -c 1 -W 1 "$T4_GW" \
		>/dev/null || return 1
	t1=$(date +%s%3N)
	echo "a new client's up to its first ping reply: $((t1 - t0)) ms"
	[ $((t1 - t0)) -le 2000 ]
}
check "after the flood: a new client is through within 2 s" \
	new_client_quickly

# --- A flood that answers cookies: only the ratelimiter is left.
# Twice the rate: from one address it must overload the control thread
# to engage the cookies at all.
flood_start "$TMP/flood2.out" --answer-cookies --rate $((2 * RATE))
sleep 3
check "cookie-answering flood: ping client -> gateway" \
	ping_ok "$NS_B" "$T4_GW"
RATELIMITED=$(gw_stat ratelimited)
flood_stop "$TMP/flood2.out" >/dev/null
expect_positive "cookie-answering flood: gateway stats ratelimited" \
	"$RATELIMITED"
cat "$TMP/flood2.out"
echo "gateway: handshakes: processed $(gw_stat processed)" \
	"cookies_sent $(gw_stat cookies_sent)" \
	"ratelimited $(gw_stat ratelimited)"

check "SIGTERM: gateway exits 0, interface removed" stop_ringvpn "$GW"
exit "$FAILED"
