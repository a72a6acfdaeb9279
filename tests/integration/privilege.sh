#!/bin/bash
# Least privilege. Once up, a daemon holds only CAP_NET_ADMIN and
# CAP_NET_BIND_SERVICE (effective, permitted and bounding sets), and still
# does everything a running tunnel needs: traffic, a listen-port change to
# a port below 1024 through wg, a SIGHUP reload, and `down` undoing a full
# tunnel's rules, routes and src_valid_mark. Then the same daemon run as an
# unprivileged user (uid 65534) with those two capabilities as ambient
# ones, the way systemd's User= and AmbientCapabilities= run it.
# Needs root, ip, ping, ncat, wg, setpriv, unshare; exits 77 (skip)
# otherwise. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init privilege wg setpriv unshare nsenter
make_pair "rv-pv-a-$$" "rv-pv-b-$$"
A=rvp$$a
B=rvp$$b
PUB_A=$(make_key a)
PUB_B=$(make_key b)
KEEP=0000000000001400 # CAP_NET_ADMIN (12) and CAP_NET_BIND_SERVICE (10)

cap_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

caps_are_kept_only() {
	local pid=$1 f v
	for f in CapEff CapPrm CapBnd; do
		v=$(cap_field "$pid" "$f")
		echo "$f $v"
		[ "$v" = "$KEEP" ] || return 1
	done
}

# state NS: everything a full tunnel's up could leave behind.
state() {
	{
		ip -n "$1" rule
		ip -n "$1" -6 rule
		ip -n "$1" route show table all
		ip -n "$1" -6 route show table all
		ip netns exec "$1" cat /proc/sys/net/ipv4/conf/all/src_valid_mark
	} 2>&1 | grep -v "proto kernel\|fe80::\|ff00::\|multicast"
}

config_interface "$TMP/$A.conf" a 51860 "10.97.0.1/24"
config_peer "$TMP/$A.conf" "$PUB_B" "0.0.0.0/0" "$UL4_B:51861"
config_interface "$TMP/$B.conf" b 51861 "10.97.0.2/24"
config_peer "$TMP/$B.conf" "$PUB_A" "10.97.0.1/32" ""
start_ringvpn "$NS_B" "$TMP/$B.conf"

BEFORE=$(state "$NS_A")
start_ringvpn "$NS_A" "$TMP/$A.conf"
PID_A=${RV_PID[$A]}

root_keeps_two() { caps_are_kept_only "$PID_A"; }
root_works() {
	ping_ok "$NS_A" 10.97.0.2 &&
		transfer "$NS_A" "$NS_B" 10.97.0.2 $((4 << 20)) &&
		ip netns exec "$NS_A" wg set "$A" listen-port 853 &&
		[ "$(ip netns exec "$NS_A" wg show "$A" listen-port)" = 853 ] &&
		ip netns exec "$NS_B" wg set "$B" peer "$PUB_A" \
			endpoint "$UL4_A:853" &&
		ping_ok "$NS_A" 10.97.0.2 &&
		kill -HUP "$PID_A" && sleep 0.5 && kill -0 "$PID_A" &&
		ping_ok "$NS_A" 10.97.0.2
}
root_down_undoes() {
	local after
	stop_ringvpn "$A"
	after=$(state "$NS_A")
	[ "$BEFORE" = "$after" ] ||
		{ diff <(echo "$BEFORE") <(echo "$after"); false; }
}

check "root: only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE once up" \
	root_keeps_two
check "root: traffic, port 853 through wg, SIGHUP, all with two caps" \
	root_works
check "root: down undoes rules, routes and src_valid_mark with two caps" \
	root_down_undoes

# As uid 65534 with ambient capabilities. The UAPI directory is a tmpfs of
# its own in a private mount namespace (systemd gives a User= service
# RuntimeDirectory=wireguard the same way), so /run/wireguard outside is
# untouched.
U=rvp$$u
config_interface "$TMP/$U.conf" a 51862 "10.97.0.1/24"
config_peer "$TMP/$U.conf" "$PUB_B" "10.97.0.2/32" "$UL4_B:51861"
mkdir -p "$TMP/run-$U"
chown 65534:65534 "$TMP/$U.conf" "$TMP/run-$U"
chmod 711 "$TMP"
ip netns exec "$NS_B" wg set "$B" peer "$PUB_A" endpoint "$UL4_A:51862"
# /dev/net/tun is 0666 on Debian but may be 0600 (as on this test
# machine): the private mount namespace gets a 0666 node of its own, made
# on a tmpfs of its own (/tmp may be mounted nodev).
mkdir -p "$TMP/dev"
ip netns exec "$NS_A" unshare -m sh -c '
	mount -t tmpfs -o mode=0755,uid=65534,gid=65534 none /run/wireguard &&
	mount -t tmpfs -o mode=0755 none "$0" &&
	mknod -m 0666 "$0/tun" c 10 200 &&
	mount --bind "$0/tun" /dev/net/tun &&
	exec setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=+net_admin,+net_bind_service \
		--ambient-caps=+net_admin,+net_bind_service "$@"' "$TMP/dev" \
	env RINGVPN_RUNDIR="$TMP/run-$U" "$RINGVPN" up -f "$TMP/$U.conf" \
	>"$TMP/$U.log" 2>&1 &
PID_U=$!
lib_track_pid "$PID_U"
RV_NS[$U]=$NS_A
RV_LOG[$U]=$TMP/$U.log
RV_RUNDIR[$U]=$TMP/run-$U

user_comes_up() {
	wait_for 10 iface_ready "$NS_A" "$U" "$TMP/$U.conf" ||
		{ cat "$TMP/$U.log"; return 1; }
	# Without CAP_SETPCAP the bounding set cannot shrink: only the
	# effective and permitted sets are checked here.
	awk '$1 == "Uid:" { print; exit !($2 == 65534) }' "/proc/$PID_U/status" &&
		[ "$(cap_field "$PID_U" CapEff)" = "$KEEP" ] &&
		[ "$(cap_field "$PID_U" CapPrm)" = "$KEEP" ]
}
user_works() {
	ping_ok "$NS_A" 10.97.0.2 &&
		transfer "$NS_B" "$NS_A" 10.97.0.1 $((4 << 20)) &&
		nsenter -m -t "$PID_U" wg show "$U" latest-handshakes |
		awk '{ exit !($2 > 0) }'
}
user_goes_down() {
	lib_stop_pid "$PID_U"
	! ip -n "$NS_A" link show "$U" 2>/dev/null &&
		[ ! -e "$TMP/run-$U/$U.pid" ] &&
		[ ! -e "/run/wireguard/$U.sock" ]
}

check "uid 65534 with ambient caps: up, and no more than the two caps" \
	user_comes_up
check "uid 65534: traffic and wg show through its socket" user_works
check "uid 65534: SIGTERM takes it down cleanly" user_goes_down
exit "$FAILED"
