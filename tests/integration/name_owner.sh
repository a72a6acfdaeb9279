#!/bin/bash
# One daemon owns an interface name, and only it is ever signalled.
# - A second `ringvpn up` of a live full tunnel (as a daemon, with -f, in
#   the userspace-implementation form, and through wg-quick) refuses with
#   "NAME is already up (pid N)" and changes nothing: addresses, rules,
#   routes and sockets are as before, and traffic still flows.
# - Two `up`s started at once, 10 times: exactly one wins, the state is
#   that of one up, and `down` leaves nothing.
# - After kill -9 the pid file names a pid that (here, on purpose) is a
#   stranger's: show, syncconf and down never signal it; down says the
#   file is stale, removes it and undoes the dead run's journal.
# - A name is never a path: `down ../x` refuses without reading ../x.pid.
# - The run directory is 0700 and its files 0600; a run directory others
#   can write is refused at up; a symlink planted for the stats file is
#   replaced, not followed.
# Needs root, ip, ping, ncat, wg, wg-quick; exits 77 (skip) otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init name_owner wg wg-quick stat
make_pair "rv-no-a-$$" "rv-no-b-$$"
A=rvno$$a
B=rvno$$b
PUB_A=$(make_key a)
PUB_B=$(make_key b)
CONF=$TMP/$A.conf

# A full tunnel with no ListenPort, as in the audit's recipe.
{
	echo "[Interface]"
	echo "PrivateKey = $(cat "$TMP/a.key")"
	echo "Address = 10.96.0.1/24, fd00:96::1/64"
} >"$CONF"
config_peer "$CONF" "$PUB_B" "0.0.0.0/0, ::/0" "$UL4_B:51871"
config_interface "$TMP/$B.conf" b 51871 "10.96.0.2/24, fd00:96::2/64"
config_peer "$TMP/$B.conf" "$PUB_A" "10.96.0.1/32, fd00:96::1/128" ""
start_ringvpn "$NS_B" "$TMP/$B.conf"
BEFORE=$(net_state "$NS_A")

# up_again ARGS...: a second start in A's namespace and run directory; its
# exit status and output in AGAIN_RC and AGAIN_OUT.
up_again() {
	AGAIN_RC=0
	AGAIN_OUT=$(in_rv "$A" timeout 20 "$@" 2>&1) || AGAIN_RC=$?
}

refused_and_untouched() {
	local live=$1 what=$2 expect=$3
	shift 3
	up_again "$@"
	echo "$what: exit $AGAIN_RC: $AGAIN_OUT"
	[ "$AGAIN_RC" -ne 0 ] || return 1
	[ -z "$expect" ] || [[ $AGAIN_OUT == *"$expect"* ]] || return 1
	[ "$(net_state "$NS_A")" = "$live" ] ||
		{ diff <(echo "$live") <(net_state "$NS_A"); return 1; }
	kill -0 "${RV_PID[$A]}"
}

second_up_refused() {
	local live pid
	start_ringvpn "$NS_A" "$CONF" || return 1
	pid=${RV_PID[$A]}
	ping_ok "$NS_A" 10.96.0.2 || return 1
	live=$(net_state "$NS_A")
	refused_and_untouched "$live" "up -f" "$A is already up (pid $pid)" \
		"$RINGVPN" up -f "$CONF" &&
		refused_and_untouched "$live" "up" \
			"$A is already up (pid $pid)" "$RINGVPN" up "$CONF" &&
		refused_and_untouched "$live" "ringvpn -f $A" \
			"$A is already up (pid $pid)" "$RINGVPN" -f "$A" &&
		refused_and_untouched "$live" "wg-quick up" "" env \
			WG_QUICK_USERSPACE_IMPLEMENTATION="$RINGVPN" \
			wg-quick up "$CONF" &&
		ping_ok "$NS_A" 10.96.0.2 &&
		ping_ok "$NS_A" fd00:96::2
}

down_leaves_nothing() {
	in_rv "$A" "$RINGVPN" down "$A" || return 1
	wait_for 15 pid_gone "${RV_PID[$A]}" || return 1
	lib_untrack_pid "${RV_PID[$A]}"
	[ "$(net_state "$NS_A")" = "$BEFORE" ] ||
		{ diff <(echo "$BEFORE") <(net_state "$NS_A"); return 1; }
}

# The state of one up whatever port it got (no ListenPort: a random one).
one_up_state() { net_state "$NS_A" | sed 's/\*:[0-9]* /*:PORT /'; }

# Two daemons started at the same moment; the one that lost says why.
race_once() {
	local one=$TMP/race1 two=$TMP/race2 rc1=0 rc2=0 p1 p2 state
	in_rv "$A" "$RINGVPN" up "$CONF" >"$one" 2>&1 &
	p1=$!
	in_rv "$A" "$RINGVPN" up "$CONF" >"$two" 2>&1 &
	p2=$!
	wait "$p1" || rc1=$?
	wait "$p2" || rc2=$?
	echo "race $1: exits $rc1 $rc2: $(cat "$one" "$two")"
	[ $((rc1 == 0)) -ne $((rc2 == 0)) ] || return 1
	grep "is already up (pid [0-9]*)" "$one" "$two" >/dev/null || return 1
	wait_for 10 rv_ready "$NS_A" "$A" "$CONF" || return 1
	state=$(one_up_state)
	[ "$state" = "$ONE_UP" ] ||
		{ diff <(echo "$ONE_UP") <(echo "$state"); return 1; }
	in_rv "$A" "$RINGVPN" down "$A" || return 1
	[ "$(net_state "$NS_A")" = "$BEFORE" ] ||
		{ diff <(echo "$BEFORE") <(net_state "$NS_A"); return 1; }
}

racing_ups() {
	local i
	in_rv "$A" "$RINGVPN" up "$CONF" || return 1
	wait_for 10 rv_ready "$NS_A" "$A" "$CONF" || return 1
	ONE_UP=$(one_up_state)
	in_rv "$A" "$RINGVPN" down "$A" || return 1
	for i in $(seq 10); do
		race_once "$i" || return 1
	done
}

# The modes while a daemon runs: directory 0700, pid, stats, journal 0600.
modes_are_private() {
	local run=${RV_RUNDIR[$A]} f m
	start_ringvpn "$NS_A" "$CONF" || return 1
	m=$(stat -c %a "$run")
	echo "$run: $m"
	[ "$m" = 700 ] || return 1
	for f in pid stats journal; do
		m=$(stat -c %a "$run/$A.$f")
		echo "$A.$f: $m"
		[ "$m" = 600 ] || return 1
	done
}

STRANGER=
# kill -9, then a stranger gets the dead daemon's pid (written into the
# pid file: what pid reuse would do). Nothing may signal it.
stale_pid_never_signalled() {
	local run=${RV_RUNDIR[$A]} out rc=0
	kill9_ringvpn "$A"
	sleep 300 &
	STRANGER=$!
	lib_track_pid "$STRANGER"
	echo "$STRANGER" >"$run/$A.pid"
	in_rv "$A" "$RINGVPN" show "$A" >/dev/null 2>&1 || true
	! in_rv "$A" "$RINGVPN" syncconf "$A" 2>&1 || return 1
	out=$(in_rv "$A" "$RINGVPN" down "$A" 2>&1) || rc=$?
	echo "down: exit $rc: $out"
	sleep 0.2
	kill -0 "$STRANGER" || { echo "the stranger was killed"; return 1; }
	[ "$rc" -eq 0 ] && [[ $out == *stale* ]] && [ ! -e "$run/$A.pid" ] &&
		[ ! -e "$run/$A.journal" ] || return 1
	[ "$(net_state "$NS_A")" = "$BEFORE" ] ||
		{ diff <(echo "$BEFORE") <(net_state "$NS_A"); return 1; }
}

# A pid file outside the run directory, named through "..".
names_are_not_paths() {
	local cmd out
	echo "$STRANGER" >"$TMP/evil.pid"
	for cmd in down syncconf show; do
		out=$(in_rv "$A" "$RINGVPN" "$cmd" ../evil 2>&1) && return 1
		echo "$cmd ../evil: $out"
		[[ $out == *"not an interface name"* ]] || return 1
	done
	kill -0 "$STRANGER"
}

# Others may write the run directory: up refuses before making anything.
open_rundir_refused() {
	local out rc=0 open=$TMP/open-run
	mkdir -p "$open"
	chmod 0777 "$open"
	out=$(ip netns exec "$NS_A" env RINGVPN_RUNDIR="$open" \
		"$RINGVPN" up -f "$CONF" 2>&1) || rc=$?
	echo "up with a 0777 run directory: exit $rc: $out"
	[ "$rc" -ne 0 ] && [[ $out == *"writable by it alone"* ]] &&
		! ip -n "$NS_A" link show "$A" 2>/dev/null
}

# A symlink where the stats file is written is replaced, never followed.
planted_link_not_followed() {
	local run=${RV_RUNDIR[$A]}
	echo keep >"$TMP/victim"
	ln -sf "$TMP/victim" "$run/$A.stats.tmp"
	ln -sf "$TMP/victim" "$run/$A.stats"
	start_ringvpn "$NS_A" "$CONF" || return 1
	in_rv "$A" "$RINGVPN" show "$A" >/dev/null || return 1
	[ "$(cat "$TMP/victim")" = keep ] && [ -f "$run/$A.stats" ] &&
		[ ! -L "$run/$A.stats" ] && stop_ringvpn "$A"
}

check "a second up of a live name is refused and changes nothing" \
	second_up_refused
check "down after that leaves nothing" down_leaves_nothing
check "two ups at once, 10 times: one wins, down leaves nothing" racing_ups
check "run directory 0700, pid, stats and journal 0600" modes_are_private
check "a stale pid file's pid is never signalled; down cleans up" \
	stale_pid_never_signalled
check "down, syncconf and show refuse a name with a path in it" \
	names_are_not_paths
check "a run directory others can write is refused" open_rundir_refused
check "a symlink planted for the stats file is not followed" \
	planted_link_not_followed
exit "$FAILED"
