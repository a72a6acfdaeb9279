#!/bin/bash
# The systemd unit's ExecStart line, run the way systemd runs it: in the
# foreground with NOTIFY_SOCKET set (a listener stands in for systemd).
# READY=1 (with MAINPID and STATUS) must come once the interface is up
# with its address; ExecReload's SIGHUP gives RELOADING=1 then READY=1;
# SIGTERM gives STOPPING=1 and exit status 0. Then the log levels: -q
# hides the info lines, -v shows debug lines, LOG_LEVEL=warn works like
# -q. Then the event lines: peer unreachable, a UAPI change, endpoint
# changed, handshake completed, reloaded. %i is replaced by the config's
# path (a name would mean /etc/ringvpn/NAME.conf, which a test must not
# write).
# Needs root, ip; exits 77 (skip) otherwise. RINGVPN names the binary;
# the unit file and notify_listen are found beside it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=$(dirname "$RINGVPN")
UNIT=$BUILD/contrib/ringvpn@.service
LISTEN=${NOTIFY_LISTEN:-$BUILD/tests/interop/notify_listen}
lib_init systemd_notify
[ -f "$UNIT" ] || { echo "FAIL: no $UNIT"; exit 1; }
[ -x "$LISTEN" ] || { echo "FAIL: no $LISTEN"; exit 1; }

make_pair "rv-sd-a-$$" "rv-sd-b-$$"
IF=rvs$$
IF_B=rvt$$
CONF=$TMP/$IF.conf
CONF_B=$TMP/$IF_B.conf
# A is the service; B comes up only for the event lines at the end.
rv_pair "$IF" "$IF_B" "10.98.0.1/24" "10.98.0.2/24"
PUB_B=${RV_PUB[$IF_B]}
mkdir -p "$TMP/run"

# ExecStart=, with the unit's binary replaced by $RINGVPN and %i filled.
exec_start() {
	sed -n 's/^ExecStart=//p' "$UNIT" |
		awk -v bin="$RINGVPN" -v conf="$CONF" '{
			$1 = bin
			for (i = 2; i <= NF; i++) if ($i == "%i") $i = conf
			print }'
}

unit_is_notify() {
	grep -qx "Type=notify" "$UNIT" &&
		grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$UNIT" &&
		exec_start | grep -- " up --foreground $CONF$" >/dev/null
}

start_service() {
	local cmd
	read -ra cmd <<<"$(exec_start)"
	"$LISTEN" "$TMP/notify" 30 >"$TMP/heard" &
	LPID=$!
	lib_track_pid "$LPID"
	wait_for 10 test -S "$TMP/notify" ||
		echo "notify_listen made no socket in 10 s: READY=1 will be lost"
	# LOG_LEVEL=debug: a READY=1 that could not be sent is a debug line.
	ip netns exec "$NS_A" env NOTIFY_SOCKET="$TMP/notify" LOG_LEVEL=debug \
		RINGVPN_RUNDIR="$TMP/run" "${cmd[@]}" >"$TMP/daemon.log" 2>&1 &
	PID=$!
	lib_track_pid "$PID"
}

heard() { grep -q "$1" "$TMP/heard"; }

# On a loaded machine (CI runs two scripts at a time, and another one's
# namespaces may hold the rtnl lock) coming up can take seconds: READY=1
# is waited for as long as the listener waits.
ready_when_up() {
	local why=()
	wait_for 30 heard "READY=1" || why+=("no READY=1 in 30 s")
	# The address must already be there when READY=1 is heard.
	ip -n "$NS_A" -o addr show dev "$IF" 2>&1 |
		grep "10.98.0.1/24" >/dev/null || why+=("no 10.98.0.1/24 on $IF")
	heard "MAINPID=$PID" || why+=("no MAINPID=$PID")
	heard "STATUS=$IF up: " || why+=("no STATUS=$IF up: ")
	echo "--- heard"
	cat "$TMP/heard"
	[ ${#why[@]} = 0 ] && return 0
	printf '%s\n' "${why[@]}" "--- daemon's log"
	cat "$TMP/daemon.log"
	return 1
}

reload_notifies() {
	kill -HUP "$PID"
	wait_for 15 sh -c \
		"grep -A1 RELOADING=1 '$TMP/heard' | grep READY=1 >/dev/null" &&
		cat "$TMP/heard"
}

stop_notifies() {
	local status=0
	kill -TERM "$PID"
	wait "$PID" || status=$?
	lib_untrack_pid "$PID"
	wait_for 15 heard "STOPPING=1" && [ "$status" = 0 ] &&
		! ip -n "$NS_A" link show "$IF" 2>/dev/null
}

# run_briefly ARGS...: up in the foreground, then SIGTERM; stderr kept.
run_briefly() {
	local pid
	ip netns exec "$NS_A" env RINGVPN_RUNDIR="$TMP/run" "$@" \
		>"$TMP/brief.log" 2>&1 &
	pid=$!
	lib_track_pid "$pid"
	wait_for 10 rv_ready "$NS_A" "$IF" "$CONF" || true
	lib_stop_pid "$pid"
}

quiet_hides_info() {
	run_briefly "$RINGVPN" up -f -q "$CONF"
	cat "$TMP/brief.log"
	! grep -q "is up" "$TMP/brief.log"
}
verbose_shows_debug() {
	run_briefly "$RINGVPN" up -f -v "$CONF"
	grep -q "is up" "$TMP/brief.log" &&
		grep -q "1 peers, MTU 1420" "$TMP/brief.log"
}
log_level_env() {
	run_briefly env LOG_LEVEL=warn "$RINGVPN" up -f "$CONF"
	! grep -q "is up" "$TMP/brief.log" || return 1
	run_briefly env LOG_LEVEL=debug "$RINGVPN" up -f "$CONF"
	grep -q "1 peers, MTU 1420" "$TMP/brief.log"
}

check "the unit is Type=notify, reloads with SIGHUP, runs up -f" \
	unit_is_notify
start_service
check "READY=1 with MAINPID and STATUS once the interface is up" \
	ready_when_up
check "SIGHUP: RELOADING=1 then READY=1" reload_notifies
check "SIGTERM: STOPPING=1, exit 0, interface gone" stop_notifies
check "-q: no info lines" quiet_hides_info
check "-v: debug lines" verbose_shows_debug
check "LOG_LEVEL=warn and LOG_LEVEL=debug" log_level_env

# The events an operator reads, one line each with the peer's short key.
# A runs on a clock 30 times fast, so 90 s without an answer (nobody is
# at B's endpoint yet) pass in 3. Then `wg set` moves the endpoint (a
# UAPI change line and an endpoint line), and B coming up makes the
# handshake complete, A learning B's real endpoint from it.
SHORT_B=${PUB_B:0:8}
EP_B=$UL4_B:$RV_PORT_B # in A's config, and where B really is
MOVED_B=$UL4_B:$((RV_PORT_B + 1)) # where wg set moves it

logged() { grep -q "$1" "${RV_LOG[$IF]}"; }
peer_logged() { logged "$IF: peer $SHORT_B: $1"; }
uapi_logged() { logged "$IF: configuration changed through the UAPI"; }

unreachable_logged() {
	RINGVPN_TEST_CLOCK_SCALE=30 start_ringvpn "$NS_A" "$CONF" || return 1
	test_clock_said "$IF" || return 1
	ip netns exec "$NS_A" ping -n -q -c 1 -W 1 10.98.0.2 >/dev/null || true
	wait_for 15 peer_logged "unreachable" &&
		grep "unreachable" "${RV_LOG[$IF]}"
}

uapi_change_logged() {
	ip netns exec "$NS_A" wg set "$IF" peer "$PUB_B" \
		endpoint "$MOVED_B" &&
		wait_for 15 uapi_logged &&
		wait_for 15 peer_logged "endpoint changed to $MOVED_B" &&
		grep -E "UAPI|endpoint" "${RV_LOG[$IF]}"
}

handshake_and_roam_logged() {
	start_ringvpn "$NS_B" "$CONF_B" || return 1
	ping_ok "$NS_B" 10.98.0.1 &&
		wait_for 15 peer_logged "handshake completed" &&
		wait_for 15 peer_logged "endpoint changed to $EP_B" &&
		grep -E "handshake|endpoint" "${RV_LOG[$IF]}"
}

reload_logged() {
	kill -HUP "${RV_PID[$IF]}"
	wait_for 15 logged "$IF: reloaded $CONF" &&
		{ [ -z "${RV_PID[$IF_B]:-}" ] || stop_ringvpn "$IF_B"; } &&
		stop_ringvpn "$IF"
}

check "peer unreachable after REKEY_ATTEMPT_TIME" unreachable_logged
# Without wg(8) nothing moves the endpoint, and B's is no news.
if command -v wg >/dev/null; then
	check "wg set: a UAPI change line and an endpoint line" \
		uapi_change_logged
	check "handshake completed; the endpoint learned from it" \
		handshake_and_roam_logged
else
	echo "SKIP: the UAPI change and the endpoint lines (no wg)"
fi
check "SIGHUP: reloaded; both stop cleanly" reload_logged
exit "$FAILED"
