#!/bin/bash
# Deleting the interface ends the daemon at once, so that the name can be
# used again straight away (`ip link del wg0; ringvpn wg0`, as wg-quick
# down and up do). A (`ringvpn -f A`, the userspace-implementation form,
# configured with wg set) talks to B (`ringvpn up`) over the veth.
#   - 50 times: start A, wg set, ping B through it; `ip link del A`; the
#     UAPI socket is gone, and A has exited, within 100 ms (median; the
#     slowest within 1 s), and A's exit status is 0. The times are
#     printed.
#   - 50 times: `ip link del A` and at once `ringvpn A` again (the daemon
#     form, which returns once the interface is up): it must come up, and
#     wg set and a ping through it must work.
#   - 3 times: `ip link del A` and at once `wireguard-go A`: it must take
#     the name and carry a ping (nothing of ours is left in its way).
#   - A (now `ringvpn up` of a file whose PostDown takes 300 ms) deleted,
#     and `ringvpn up` of the file at once: it waits for the old daemon
#     (which exits 0) and comes up; a third up, of the live name, is
#     refused at once with "A is already up".
# Needs root, ip, ping, ncat, wg, wireguard-go; exits 77 (skip) otherwise
# or with RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init link_delete wg wireguard-go
make_pair "rv-ld-a-$$" "rv-ld-b-$$"
A=rvld$$a
B=rvld$$b
PORT_A=51840
PORT_B=51841
T4_A=10.97.0.1
T4_B=10.97.0.2
SOCK=/var/run/wireguard/$A.sock
RUN_A=$TMP/run-$A
ROUNDS=50
PUB_A=$(make_key a)
PUB_B=$(make_key b)

# B knows A by key only: it learns A's endpoint from each new A's
# handshake.
config_interface "$TMP/$B.conf" b "$PORT_B" "$T4_B/24"
config_peer "$TMP/$B.conf" "$PUB_A" "$T4_A/32" ""
start_ringvpn "$NS_B" "$TMP/$B.conf" || { report FAIL "B starts"; exit 1; }

rv_register "$NS_A" "$A"

# Looks every millisecond (or so: a sleep is a process) for a socket
# that comes or goes within milliseconds.
tick() { sleep 0.001; }

# configure_a: what wg-quick would do to an unconfigured A.
configure_a() {
	ip netns exec "$NS_A" wg set "$A" private-key "$TMP/a.key" \
		listen-port "$PORT_A" peer "$PUB_B" allowed-ips "$T4_B/32" \
		endpoint "$UL4_B:$PORT_B" &&
		ip -n "$NS_A" addr add "$T4_A/24" dev "$A" &&
		ip -n "$NS_A" link set "$A" up
}

# One echo reply within 5 s, asked for every 0.2 s: the first ping
# starts a handshake, and its reply may be lost while B takes A's new
# session into use.
ping_once() {
	ip netns exec "$NS_A" ping -n -q -c 1 -i 0.2 -w 5 "$T4_B" >/dev/null
}

# sock_there: A's socket appears within 10 s (looked for every ms).
sock_there() {
	local i
	for ((i = 0; i < 10000; i++)); do
		[ ! -S "$SOCK" ] || return 0
		tick
	done
	return 1
}

# start_fg: `ringvpn -f A` in the background; A_PID, once its socket is
# there.
start_fg() {
	ip netns exec "$NS_A" env RINGVPN_RUNDIR="$RUN_A" \
		"$RINGVPN" -f "$A" >>"$TMP/$A.log" 2>&1 &
	A_PID=$!
	lib_track_pid "$A_PID"
	sock_there
}

# ms_since T0: milliseconds from $EPOCHREALTIME T0 to now.
ms_since() {
	local now=$EPOCHREALTIME
	awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", (b - a) * 1000 }'
}

# The daemon's last moments: ip link del, then a look every millisecond
# until the socket file is gone, then until the process is (at most 5 s
# each). Prints the milliseconds to each, and "early" when the file was
# gone by the time ip link del returned.
del_and_time() {
	local t0=$EPOCHREALTIME i j sock
	ip -n "$NS_A" link del "$A"
	for ((i = 0; i < 5000; i++)); do
		[ -e "$SOCK" ] || break
		tick
	done
	sock=$(ms_since "$t0")
	for ((j = 0; j < 5000; j++)); do
		kill -0 "$A_PID" 2>/dev/null || break
		tick
	done
	echo "$sock $(ms_since "$t0") $([ "$i" -gt 0 ] || echo early)"
}

# median FILE [COLUMN], max FILE [COLUMN]: of one number per line.
median() {
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
max() { awk -v c="${2:-1}" '$c > m { m = $c } END { print m }' "$1"; }

deletion_is_prompt() {
	local i ms rc times=$TMP/times
	: >"$times"
	for ((i = 1; i <= ROUNDS; i++)); do
		start_fg || { echo "round $i: A did not start"; return 1; }
		configure_a || { echo "round $i: wg set failed"; return 1; }
		ping_once || { echo "round $i: no ping through A"; return 1; }
		ms=$(del_and_time)
		echo "$ms" >>"$times"
		rc=0
		wait_for 5 pid_gone "$A_PID" || { echo "round $i: A still runs"; return 1; }
		wait "$A_PID" || rc=$?
		lib_untrack_pid "$A_PID"
		if [ "$rc" -ne 0 ] || [ -e "$SOCK" ]; then
			echo "round $i: exit status $rc, socket $( [ -e "$SOCK" ] && echo left || echo gone)"
			return 1
		fi
	done
	{
		echo "ip link del to socket gone, $ROUNDS rounds:" \
			"median $(median "$times") ms," \
			"slowest $(max "$times") ms; gone before ip link del" \
			"returned: $(grep -c early "$times")"
		echo "ip link del to the daemon gone: median $(median "$times" 2)" \
			"ms, slowest $(max "$times" 2) ms"
	} >"$TMP/timing"
	cat "$TMP/timing"
	awk '$1 > 1000 || $2 > 1000 { bad = 1 } END { exit bad }' "$times" &&
		awk -v m="$(median "$times")" -v e="$(median "$times" 2)" \
			'BEGIN { exit !(m < 100 && e < 100) }'
}

# The daemon whose interface was just deleted is not in the way of the
# next one, started at once.
restart_at_once() {
	local i out
	in_rv "$A" "$RINGVPN" "$A" || { echo "first start failed"; return 1; }
	configure_a && ping_once || { echo "first round: no ping"; return 1; }
	for ((i = 1; i <= ROUNDS; i++)); do
		ip -n "$NS_A" link del "$A"
		if ! out=$(in_rv "$A" "$RINGVPN" "$A" 2>&1); then
			echo "round $i: ringvpn $A at once: $out"
			return 1
		fi
		configure_a || { echo "round $i: wg set failed"; return 1; }
		ping_once || { echo "round $i: no ping"; return 1; }
	done
	ip -n "$NS_A" link del "$A"
	wait_for 5 sh -c "! test -e $SOCK"
}

link_gone() { ! ip -n "$NS_A" link show "$A" >/dev/null 2>&1; }

# wireguard-go after us, at once: neither the socket nor the name is ours
# any longer.
wggo_after_us() {
	local i pid
	for ((i = 1; i <= 3; i++)); do
		start_fg && configure_a && ping_once || return 1
		ip -n "$NS_A" link del "$A"
		ip netns exec "$NS_A" wireguard-go -f "$A" \
			>>"$TMP/wggo.log" 2>&1 &
		pid=$!
		lib_track_pid "$pid"
		sock_there && configure_a && ping_once ||
			{ echo "round $i: wireguard-go did not serve $A"; return 1; }
		wait "$A_PID" || { echo "round $i: ringvpn exit $?"; return 1; }
		lib_untrack_pid "$A_PID"
		lib_stop_pid "$pid"
		wait_for 5 sh -c "! test -e $SOCK" &&
			wait_for 5 link_gone || return 1
	done
}

# A predecessor on its way out (its PostDown hook takes 300 ms) holds the
# name's lock with its socket already gone: `ringvpn up` of the name at
# once waits for it and comes up; while a daemon serves the name, up is
# refused at once.
successor_waits() {
	local conf=$TMP/$A.conf out t0 ms rc=0 first
	config_interface "$conf" a "$PORT_A" "$T4_A/24" "PostDown = sleep 0.3"
	config_peer "$conf" "$PUB_B" "$T4_B/32" "$UL4_B:$PORT_B"
	start_ringvpn "$NS_A" "$conf" && ping_once || return 1
	first=${RV_PID[$A]}
	t0=$EPOCHREALTIME
	ip -n "$NS_A" link del "$A"
	out=$(in_rv "$A" "$RINGVPN" up "$conf" 2>&1) ||
		{ echo "up at once: $out"; return 1; }
	ms=$(ms_since "$t0")
	echo "up again $ms ms after ip link del"
	wait "$first" || rc=$?
	lib_untrack_pid "$first"
	echo "the first daemon's exit status: $rc"
	[ "$rc" -eq 0 ] && ping_once || return 1
	awk -v m="$ms" 'BEGIN { exit !(m >= 250) }' ||
		{ echo "too fast: the predecessor was gone already"; return 1; }
	t0=$EPOCHREALTIME
	out=$(in_rv "$A" "$RINGVPN" up "$conf" 2>&1) && return 1
	echo "up of the live name: $out ($(ms_since "$t0") ms)"
	[[ $out == *"$A is already up"* ]] && in_rv "$A" "$RINGVPN" down "$A"
}

check "deleting the interface ends the daemon at once (status 0)" \
	deletion_is_prompt
[ ! -f "$TMP/timing" ] || cat "$TMP/timing"
check "ip link del and at once ringvpn again, $ROUNDS times: up, wg set, ping" \
	restart_at_once
check "ip link del and at once wireguard-go: it serves the name" \
	wggo_after_us
check "up waits for a predecessor on its way out, refuses a live one" \
	successor_waits
exit "$FAILED"
