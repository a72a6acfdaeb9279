#!/bin/bash
# Slow UAPI clients must not hold up the control thread. Daemon A has
# 2001 peers (2000 with random keys, so a get=1 reply is about half a
# MiB, and B, another ringvpn daemon). Two scenarios:
#   1. one client pipelines 50 get=1 and reads 64 KiB every 1.5 s;
#   2. three clients pipeline 50 get=1 each and never read.
# While they are connected:
#   - `wg show A` (all peers) from another client finishes in under 1 s;
#   - B is restarted (no session, so it needs a handshake that A's
#     control thread answers): its first ping reply to A comes within
#     1 s of B being up, and A's latest handshake with B is no older
#     than the restart;
#   - `wg show A` again under 1 s;
#   - the slow clients are still connected after all that (else the
#     test proved nothing).
# Then every slow client sees the server close its connection (EOF or
# ECONNRESET) within 15 s of connecting (the deadline is 5 s; the rest
# is margin for a loaded machine), and A is still running, lists all
# 2001 peers and carries B's ping (3 replies). At the end SIGTERM stops
# A cleanly.
# Needs root, ip, ping, ncat, wg; exits 77 (skip) otherwise. RINGVPN
# names the binary, UAPI_SLOW the client (default: tests/interop/uapi_slow
# beside RINGVPN).
# shellcheck disable=SC2317 # most functions run through check()
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

UAPI_SLOW=${UAPI_SLOW:-$(dirname "$RINGVPN")/tests/interop/uapi_slow}
lib_init uapi_slow_client wg
[ -x "$UAPI_SLOW" ] || { echo "FAIL: $UAPI_SLOW not executable"; exit 1; }
make_pair "rv-us-a-$$" "rv-us-b-$$"

IF_A=rvq$$a
IF_B=rvq$$b
T4_A=10.88.0.1
T4_B=10.88.0.2
FAKE_PEERS=2000
SOCK=/var/run/wireguard/$IF_A.sock
SLOW_SECONDS=20  # the clients give up (and report "still open") after
CLOSED_WITHIN=15 # seconds from connecting
WG_SHOW_MAX_MS=1000
HANDSHAKE_MAX_MS=1000
SLOW_PIDS=()
WG_SHOW_MS=()
PING_MS=()

# A with Table = off: no 2001 routes to add and for start_ringvpn to
# check; the /24 on the interface routes B's address. B is A's first
# peer, and B alone knows the other's endpoint.
write_configs() {
	local i
	rv_pair -g -a "Table = off" "$IF_A" "$IF_B" "$T4_A/24" "$T4_B/24"
	for ((i = 0; i < FAKE_PEERS; i++)); do
		config_peer "$TMP/$IF_A.conf" \
			"$(head -c 32 /dev/urandom | base64)" \
			"10.87.$((i / 250)).$((i % 250 + 1))/32" ""
	done
}

# start_slow N ARGS...: N clients with uapi_slow's ARGS, their output in
# $TMP/slowI.out; returns once each has sent its requests.
start_slow() {
	local n=$1 i pid
	shift
	SLOW_PIDS=()
	for ((i = 0; i < n; i++)); do
		"$UAPI_SLOW" -t "$SLOW_SECONDS" "$@" "$SOCK" \
			>"$TMP/slow$i.out" 2>&1 &
		pid=$!
		lib_track_pid "$pid"
		SLOW_PIDS+=("$pid")
		wait_for 5 grep -q '^sent ' "$TMP/slow$i.out" ||
			{ cat "$TMP/slow$i.out"; return 1; }
	done
}

# wg_show_prompt: one `wg show A` (all peers), under WG_SHOW_MAX_MS; the
# time is kept for the summary.
wg_show_prompt() {
	local t0 ms
	t0=$(date +%s%N)
	timeout 30 ip netns exec "$NS_A" wg show "$IF_A" >"$TMP/show.out" ||
		{ echo "wg show failed"; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	WG_SHOW_MS+=("$ms")
	echo "wg show took $ms ms"
	[ "$ms" -lt "$WG_SHOW_MAX_MS" ]
}

# B comes up afresh: no session, so its ping needs a handshake that A's
# control thread answers. The first reply (ping sends every 0.2 s until
# one comes) within HANDSHAKE_MAX_MS of B being up, and A's record of
# the handshake no older than the restart. (ping_ok's 3 replies come in
# a_still_fine: here every second counts against the slow clients'
# deadline, during which all this must happen.)
restart_b_and_ping() {
	local since t0 ms latest
	stop_ringvpn "$IF_B" || return 1
	since=$(date +%s)
	start_ringvpn "$NS_B" "$TMP/$IF_B.conf" || return 1
	t0=$(date +%s%N)
	ip netns exec "$NS_B" ping -n -q -c 1 -i 0.2 -w 10 "$T4_A" ||
		{ echo "no reply in 10 s"; return 1; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	PING_MS+=("$ms")
	latest=$(ip netns exec "$NS_A" wg show "$IF_A" latest-handshakes |
		awk -v k="${RV_PUB[$IF_B]}" '$1 == k { print $2 }')
	echo "first reply after $ms ms; A's handshake with B at $latest," \
		"B restarted at $since"
	[ "$ms" -lt "$HANDSHAKE_MAX_MS" ] && [ "${latest:-0}" -ge "$since" ]
}

slow_still_connected() {
	local pid
	for pid in "${SLOW_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null ||
			{ echo "client $pid was gone before the end"; return 1; }
	done
}

# Each client reports that the server closed on it, within CLOSED_WITHIN.
slow_closed() {
	local i rc=0 s
	for i in "${!SLOW_PIDS[@]}"; do
		bg_wait "${SLOW_PIDS[i]}" || rc=1
		cat "$TMP/slow$i.out"
		s=$(sed -n 's/^closed by the server after \([0-9]*\).*/\1/p' \
			"$TMP/slow$i.out")
		[ -n "$s" ] && [ "$s" -lt "$CLOSED_WITHIN" ] || rc=1
	done
	return "$rc"
}

a_still_fine() {
	local peers
	kill -0 "${RV_PID[$IF_A]}" || { echo "A is gone"; return 1; }
	peers=$(ip netns exec "$NS_A" wg show "$IF_A" peers | wc -l)
	[ "$peers" = $((FAKE_PEERS + 1)) ] ||
		{ echo "wg show lists $peers peers"; return 1; }
	ping_ok "$NS_B" "$T4_A"
}

# scenario NAME N ARGS...: N slow clients with ARGS, the checks above.
scenario() {
	local name=$1
	shift
	check "$name: the slow clients connect and send" start_slow "$@"
	check "$name: wg show A under ${WG_SHOW_MAX_MS} ms" wg_show_prompt
	check "$name: B restarted: first reply (handshake) under ${HANDSHAKE_MAX_MS} ms" \
		restart_b_and_ping
	check "$name: wg show A under ${WG_SHOW_MAX_MS} ms, after the ping" \
		wg_show_prompt
	check "$name: the slow clients were connected all along" \
		slow_still_connected
	check "$name: the server closed each slow client within ${CLOSED_WITHIN} s" \
		slow_closed
	check "$name: A still runs, shows 2001 peers, carries B's ping" \
		a_still_fine
}

write_configs
if ! start_ringvpn "$NS_A" "$TMP/$IF_A.conf" ||
   ! start_ringvpn "$NS_B" "$TMP/$IF_B.conf"; then
	report FAIL "daemons start"
	exit 1
fi
check "before: B's ping to A" ping_ok "$NS_B" "$T4_A"
check "before: wg show A under ${WG_SHOW_MAX_MS} ms" wg_show_prompt

scenario "pipelining reader (50 get=1, 64 KiB every 1.5 s)" 1 \
	-n 50 -c 65536 -i 1500
scenario "three clients that never read" 3 -n 50

echo "wg show times (ms): ${WG_SHOW_MS[*]}"
echo "first ping replies after a restart of B (ms): ${PING_MS[*]}"
check "SIGTERM: A exits 0, interface removed" stop_ringvpn "$IF_A"
exit "$FAILED"
