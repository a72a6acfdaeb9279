#!/bin/bash
# wireguard-go's environment, honoured by the userspace-implementation form
# (`ringvpn NAME`) as well as its flags:
#   - WG_PROCESS_FOREGROUND=1 keeps it in the foreground: the process we
#     started is the daemon (the pid file names it, its socket appears),
#     and SIGTERM to it ends it with status 0 and takes the interface;
#   - LOG_LEVEL=verbose is debug: debug lines, and no word about the
#     value; LOG_LEVEL=silent: nothing at all on stderr, from start to
#     SIGTERM; LOG_LEVEL=error: no info lines, no word about the value.
# Needs root, ip; exits 77 (skip) otherwise or with RINGVPN_SKIP_NETNS
# set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init wggo_env
NS=rv-we-$$
make_netns "$NS"
NAME=rvwe$$
SOCK=/var/run/wireguard/$NAME.sock
RUN=$TMP/run
mkdir -p "$RUN"
LIB_IFNAMES+=("$NAME")

# start VAR=VALUE... -- ARGS...: `ringvpn ARGS` in NS with the variables,
# in the background, stderr to $TMP/log; PID, once the socket is there.
start() {
	local vars=()
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	ip netns exec "$NS" env RINGVPN_RUNDIR="$RUN" "${vars[@]}" \
		"$RINGVPN" "$@" >"$TMP/log" 2>&1 &
	PID=$!
	lib_track_pid "$PID"
	wait_for 10 test -S "$SOCK"
}

# stop: SIGTERM to PID, which must exit 0 and take its interface along.
stop() {
	local rc=0
	kill -TERM "$PID"
	wait_for 10 pid_gone "$PID" || { echo "$PID ignored SIGTERM"; return 1; }
	wait "$PID" || rc=$?
	lib_untrack_pid "$PID"
	echo "exit status $rc"
	[ "$rc" -eq 0 ] && ! ip -n "$NS" link show "$NAME" 2>/dev/null &&
		[ ! -e "$SOCK" ]
}

stays_in_foreground() {
	start WG_PROCESS_FOREGROUND=1 -- "$NAME" || return 1
	sleep 0.3
	if ! kill -0 "$PID"; then
		echo "the process we started left (a daemon took over)"
		lib_untrack_pid "$PID"
		ip netns exec "$NS" env RINGVPN_RUNDIR="$RUN" \
			"$RINGVPN" down "$NAME" || true
		return 1
	fi
	echo "pid file: $(cat "$RUN/$NAME.pid"), started: $PID"
	[ "$(cat "$RUN/$NAME.pid")" = "$PID" ] && stop
}

no_word_about() { ! grep -i "LOG_LEVEL" "$TMP/log"; }

verbose_is_debug() {
	start LOG_LEVEL=verbose -- -f "$NAME" && stop || return 1
	cat "$TMP/log"
	no_word_about &&
		grep "$NAME: 0 peers, MTU 1420, fwmark 0x0, config (none: UAPI)" \
			"$TMP/log" >/dev/null
}

silent_says_nothing() {
	start LOG_LEVEL=silent -- -f "$NAME" && stop || return 1
	[ ! -s "$TMP/log" ] || { cat "$TMP/log"; return 1; }
}

error_has_no_info() {
	start LOG_LEVEL=error -- -f "$NAME" && stop || return 1
	cat "$TMP/log"
	no_word_about && ! grep "is up" "$TMP/log"
}

check "WG_PROCESS_FOREGROUND=1 ringvpn NAME stays in the foreground" \
	stays_in_foreground
check "LOG_LEVEL=verbose: debug lines, no warning" verbose_is_debug
check "LOG_LEVEL=silent: nothing on stderr" silent_says_nothing
check "LOG_LEVEL=error: no info lines, no warning" error_has_no_info
exit "$FAILED"
