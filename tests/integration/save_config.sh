#!/bin/bash
# SaveConfig. A gateway (rv_pair's A: its [Peer] has no Endpoint) with
# SaveConfig = true and a client B without it. Traffic teaches A the
# client's endpoint; `wg set` adds a peer C to A and changes B's
# keepalive on A (and A's on B). Then `ringvpn down` of each:
#   - A's file now says what `wg showconf` said just before (private key,
#     port, every peer with its key, allowed IPs, endpoint, keepalive),
#     the learned endpoint and the new keepalive included;
#   - every other [Interface] line (Address, MTU, PostUp, SaveConfig, a
#     comment) is as written, the mode (0600) and owner stay, and no
#     temporary file is left beside it;
#   - B's file (SaveConfig unset) is byte-identical;
#   - `up` of the saved file works: a transfer from B arrives with the
#     same SHA-256, and A has peer C and the keepalive again.
# Then SIGTERM of `up -f` saves as `down` does (a keepalive set before
# it is in the file), and SaveConfig edited to false while the tunnel
# runs leaves the file as edited (the file at `down` decides, as with
# wg-quick); a file of another owner, in a directory of that owner, is
# saved with its owner and mode.
# Needs root, ip, ping, ncat, wg; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
# shellcheck disable=SC2317 # the functions run through check and wait_for
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init save_config wg
make_pair "rv-sc-a-$$" "rv-sc-b-$$"

A=rv$$sca
B=rv$$scb
T4_A=10.97.0.1
T4_B=10.97.0.2
T4_C=10.97.0.3
CONF_A=$TMP/$A.conf
CONF_B=$TMP/$B.conf

rv_pair -g -a "SaveConfig = true" -a "MTU = 1380" \
	-a "# a comment that stays" -a "PostUp = true # kept too" \
	"$A" "$B" "$T4_A/24" "$T4_B/24"
PUB_C=$(make_key c)
chmod 0600 "$CONF_A"
chmod 0640 "$CONF_B"
SUM_B=$(sha256sum <"$CONF_B")

# The [Interface] lines but the device's keys, in order.
interface_rest() {
	sed '/^\[Peer\]/,$d' "$1" | grep -Eiv '^ *(PrivateKey|ListenPort|FwMark) *='
}
REST_A=$(interface_rest "$CONF_A")

# The wg keys of a showconf-style text, one "PEER|Key = Value" line
# each, sorted: the order of keys and sections does not matter.
wg_keys() {
	awk '/^\[/ { peer = "" }
	     $1 == "PublicKey" { peer = $3 }
	     $1 ~ /^(PrivateKey|ListenPort|FwMark|PublicKey|PresharedKey|AllowedIPs|Endpoint|PersistentKeepalive)$/ {
		     print peer "|" $0 }' | sort
}

# down NAME: `ringvpn down`, and the daemon has exited.
down() {
	in_rv "$1" "$RINGVPN" down "$1" || return 1
	wait_for 15 pid_gone "${RV_PID[$1]}" || return 1
	lib_untrack_pid "${RV_PID[$1]}"
}

down_both() { down "$A" && down "$B"; }

b_untouched() { [ "$(sha256sum <"$CONF_B")" = "$SUM_B" ]; }

configure_live() {
	ip netns exec "$NS_A" wg set "$A" peer "$PUB_C" \
		allowed-ips "$T4_C/32" endpoint "198.18.0.77:51900" \
		peer "${RV_PUB[$B]}" persistent-keepalive 17 &&
		ip netns exec "$NS_B" wg set "$B" peer "${RV_PUB[$A]}" \
			persistent-keepalive 9
}

saved_as_shown() {
	local want got
	want=$(wg_keys <<<"$SHOWCONF")
	got=$(wg_keys <"$CONF_A")
	echo "$SHOWCONF"
	echo "--- saved:"
	cat "$CONF_A"
	[ "$want" = "$got" ] || { diff <(echo "$want") <(echo "$got"); return 1; }
	grep -qx "${RV_PUB[$B]}|Endpoint = $UL4_B:$RV_PORT_B" <<<"$got" &&
		grep -qx "${RV_PUB[$B]}|PersistentKeepalive = 17" <<<"$got" &&
		grep -qx "$PUB_C|AllowedIPs = $T4_C/32" <<<"$got" &&
		grep -qx "$PUB_C|Endpoint = 198.18.0.77:51900" <<<"$got"
}

kept_as_written() {
	[ "$(interface_rest "$CONF_A")" = "$REST_A" ] ||
		{ diff <(echo "$REST_A") <(interface_rest "$CONF_A"); return 1; }
	[ "$(stat -c '%a %U %G' "$CONF_A")" = "600 root root" ] ||
		{ stat -c '%a %U %G' "$CONF_A"; return 1; }
	[ -z "$(find "$TMP" -name "$A.conf?*")" ]
}

up_again_works() {
	local dump
	start_ringvpn "$NS_A" "$CONF_A" && start_ringvpn "$NS_B" "$CONF_B" &&
		transfer "$NS_B" "$NS_A" "$T4_A" 1048576 || return 1
	dump=$(ip netns exec "$NS_A" wg show "$A" dump)
	echo "$dump"
	awk -F'\t' -v c="$PUB_C" -v b="${RV_PUB[$B]}" '
		$1 == c && $3 == "198.18.0.77:51900" { c_ok = 1 }
		$1 == b && $8 == 17 { b_ok = 1 }
		END { exit !(c_ok && b_ok) }' <<<"$dump"
}

# SIGTERM of `up -f` saves as `down` does.
sigterm_saves() {
	ip netns exec "$NS_A" wg set "$A" peer "${RV_PUB[$B]}" \
		persistent-keepalive 33 || return 1
	stop_ringvpn "$A" || return 1
	wg_keys <"$CONF_A" | grep -qx "${RV_PUB[$B]}|PersistentKeepalive = 33" &&
		[ "$(stat -c %a "$CONF_A")" = 600 ]
}

# SaveConfig turned off in the file while A runs: as with wg-quick, the
# file at `down` decides, and it stays as edited.
edit_turns_it_off() {
	local sum
	start_ringvpn "$NS_A" "$CONF_A" || return 1
	sed -i 's/^SaveConfig = true$/SaveConfig = false/' "$CONF_A"
	sum=$(sha256sum <"$CONF_A")
	ip netns exec "$NS_A" wg set "$A" peer "${RV_PUB[$B]}" \
		persistent-keepalive 44 || return 1
	stop_ringvpn "$A" || return 1
	[ "$(sha256sum <"$CONF_A")" = "$sum" ] &&
		grep -qx "SaveConfig = false" "$CONF_A"
}

# A file that is not root's (nobody's, 0640): the daemon, root with its
# capabilities dropped, still reads and replaces it, and gives it its
# owner and mode back.
other_owner() {
	chown 65534:65534 "$CONF_A" "$TMP"
	chmod 0640 "$CONF_A"
	chmod 0700 "$TMP"
	sed -i 's/^SaveConfig = false$/SaveConfig = true/' "$CONF_A"
	start_ringvpn "$NS_A" "$CONF_A" || return 1
	ip netns exec "$NS_A" wg set "$A" peer "${RV_PUB[$B]}" \
		persistent-keepalive 55 || return 1
	stop_ringvpn "$A" || return 1
	chown 0:0 "$TMP"
	stat -c "%a %u:%g" "$CONF_A"; cat "$CONF_A" "${RV_LOG[$A]}"
	[ "$(stat -c '%a %u:%g' "$CONF_A")" = "640 65534:65534" ] &&
		grep -qx "PersistentKeepalive = 55" "$CONF_A"
}

if ! start_ringvpn "$NS_A" "$CONF_A" || ! start_ringvpn "$NS_B" "$CONF_B"; then
	report FAIL "daemons start"
	exit 1
fi
check "traffic: ping B -> A" ping_ok "$NS_B" "$T4_A"
check "wg set: a new peer on A, keepalives changed" configure_live
SHOWCONF=$(ip netns exec "$NS_A" wg showconf "$A")
check "down of A and B" down_both
check "A's file has what wg showconf said (learned endpoint, new peer, keepalive)" \
	saved_as_shown
check "A's other [Interface] lines as written, mode 0600 and owner kept, no temporary file" \
	kept_as_written
check "B's file (no SaveConfig) is byte-identical" b_untouched
check "up of the saved file: 1 MiB B -> A arrives intact; C and the keepalive are back" \
	up_again_works
check "SIGTERM of up -f saves too" sigterm_saves
check "SaveConfig edited to false while up: the file stays as edited" \
	edit_turns_it_off
check "a file of another owner (nobody, 0640, in a 0700 directory of its): saved, owner and mode kept" \
	other_owner
exit "$FAILED"
