#!/bin/bash
# PreUp/PostUp/PreDown/PostDown as wg-quick runs them: in that order,
# each line in turn, with %i replaced by the interface name; PostUp sees
# the interface up with its address, PostDown sees it gone. A failing
# PreUp stops `up` before anything exists; a failing PostUp takes down
# what `up` made. Needs root, ip; exits 77 (skip) otherwise.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init hooks
make_pair "rv-hk-a-$$" "rv-hk-b-$$"
IF=rvh$$
PUB_B=$(make_key b)
make_key a >/dev/null
LOG=$TMP/hooks.log
CONF=$TMP/$IF.conf

# write_conf PREUP_EXTRA POSTUP_EXTRA
# Hooks run under bash -e -o pipefail, as wg-quick runs them: `ip | grep
# -q` would fail now and then (grep quits, ip's next write gets SIGPIPE,
# status 141), so the greps read everything.
write_conf() {
	config_interface "$CONF" a 51850 "10.94.0.1/24" \
		"PreUp = echo pre-up %i >>$LOG" \
		"PreUp = echo pre-up-2 >>$LOG${1:+; $1}" \
		"PostUp = ip -o addr show dev %i | grep 10.94.0.1 >/dev/null && echo post-up %i >>$LOG${2:+; $2}" \
		"PreDown = ip link show dev %i >/dev/null && echo pre-down %i >>$LOG" \
		"PostDown = ip link show dev %i >/dev/null 2>&1 || echo post-down %i >>$LOG"
	config_peer "$CONF" "$PUB_B" "10.94.0.2/32" "$UL4_B:51851"
}

order_is_wg_quicks() {
	local want
	write_conf "" ""
	: >"$LOG"
	start_ringvpn "$NS_A" "$CONF" || return 1
	stop_ringvpn "$IF"
	want=$(printf '%s\n' "pre-up $IF" pre-up-2 "post-up $IF" \
		"pre-down $IF" "post-down $IF")
	[ "$(cat "$LOG")" = "$want" ] || { cat "$LOG"; false; }
}

failing_preup_changes_nothing() {
	write_conf "exit 3" ""
	: >"$LOG"
	if in_ns_up; then
		echo "up succeeded"
		return 1
	fi
	cat "$TMP/up.err"
	grep -q "exit status 3\|status 3" "$TMP/up.err" &&
		! ip -n "$NS_A" link show "$IF" 2>/dev/null &&
		! grep -q post-up "$LOG" &&
		[ ! -e "$TMP/run-$IF/$IF.journal" ]
}

failing_postup_undoes_up() {
	write_conf "" "false"
	: >"$LOG"
	if in_ns_up; then
		echo "up succeeded"
		return 1
	fi
	cat "$TMP/up.err"
	! ip -n "$NS_A" link show "$IF" 2>/dev/null &&
		[ ! -e "$TMP/run-$IF/$IF.journal" ] &&
		[ ! -e "$TMP/run-$IF/$IF.pid" ]
}

# `ringvpn up` in the background form: it returns once up, or with the
# reason it is not.
in_ns_up() {
	mkdir -p "$TMP/run-$IF"
	ip netns exec "$NS_A" env RINGVPN_RUNDIR="$TMP/run-$IF" \
		"$RINGVPN" up "$CONF" 2>"$TMP/up.err"
}

check "hooks run in wg-quick's order with %i expanded" order_is_wg_quicks
check "a failing PreUp stops up before anything changes" \
	failing_preup_changes_nothing
check "a failing PostUp takes the interface down again" \
	failing_postup_undoes_up
exit "$FAILED"
