#!/bin/bash
# Least privilege, per thread. Once up, a root daemon's control thread
# holds only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (effective, permitted,
# bounding and ambient sets), every other thread (the workers and the
# io_uring threads the kernel made for them) holds none, and every thread
# has no_new_privs. It still does everything a running tunnel needs:
# traffic, a listen-port change to a port below 1024 through wg, a SIGHUP
# reload, and `down` undoing a full tunnel's rules, routes and
# src_valid_mark; its PostDown hook runs as uid 0 with the two
# capabilities and no_new_privs, and cannot read another user's 0600 file.
# Then the hardened mode: the same daemon as an unprivileged user (uid
# 65534) with those two capabilities as ambient ones, the way systemd's
# User= and AmbientCapabilities= run it: traffic, wg show, SIGHUP, its
# hook cannot write a directory root owns, and `ringvpn down NAME` from
# root stops it. The binary is copied to a directory of the test's, so
# uid 65534 can run it wherever the checkout lives (/root, say).
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

NONE=0000000000000000

# field FILE NAME: a field of a /proc status file.
field() { awk -v f="$2:" '$1 == f { print $2 }' "$1"; }
cap_field() { field "/proc/$1/status" "$2"; }

# every_thread PID MAIN_CAPS: the main thread has MAIN_CAPS effective and
# permitted, every other one nothing; all have no_new_privs.
every_thread() {
	local pid=$1 want=$2 t st f v n=0
	for t in /proc/"$pid"/task/*; do
		st=$t/status
		for f in CapEff CapPrm; do
			v=$(field "$st" "$f")
			echo "task ${t##*/} ($(cat "$t/comm")): $f $v"
			if [ "${t##*/}" = "$pid" ]; then
				[ "$v" = "$want" ] || return 1
			else
				[ "$v" = "$NONE" ] || return 1
			fi
		done
		[ "$(field "$st" NoNewPrivs)" = 1 ] || return 1
		n=$((n + 1))
	done
	echo "$n threads"
	[ "$n" -gt 2 ] # the control thread and its two workers at least
}

caps_are_kept_only() {
	local pid=$1 f v
	for f in CapEff CapPrm CapBnd CapAmb; do
		v=$(cap_field "$pid" "$f")
		echo "$f $v"
		[ "$v" = "$KEEP" ] || return 1
	done
	every_thread "$pid" "$KEEP"
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

# A file only uid 65534 may read: root without CAP_DAC_OVERRIDE cannot.
echo secret >"$TMP/theirs"
chown 65534:65534 "$TMP/theirs"
chmod 0600 "$TMP/theirs"
config_interface "$TMP/$A.conf" a 51860 "10.97.0.1/24" \
	"PostDown = cat /proc/self/status >$TMP/hook-a; \
cat $TMP/theirs >>$TMP/hook-a 2>/dev/null || echo unreadable >>$TMP/hook-a"
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
root_hook_has_two() {
	cat "$TMP/hook-a"
	[ "$(field "$TMP/hook-a" Uid)" = 0 ] &&
		[ "$(field "$TMP/hook-a" CapEff)" = "$KEEP" ] &&
		[ "$(field "$TMP/hook-a" NoNewPrivs)" = 1 ] &&
		grep -x unreadable "$TMP/hook-a" >/dev/null
}

check "root: down undoes rules, routes and src_valid_mark with two caps" \
	root_down_undoes
check "root: PostDown runs as uid 0 with two caps and no_new_privs" \
	root_hook_has_two

# As uid 65534 with ambient capabilities. The UAPI directory is a tmpfs of
# its own in a private mount namespace (systemd gives a User= service
# RuntimeDirectory=wireguard the same way), so /run/wireguard outside is
# untouched.
U=rvp$$u
mkdir -p "$TMP/run-$U" "$TMP/bin" "$TMP/out" "$TMP/rootdir"
chmod 0755 "$TMP/bin"
install -m 0755 "$RINGVPN" "$TMP/bin/ringvpn"
config_interface "$TMP/$U.conf" a 51862 "10.97.0.1/24" \
	"PostDown = id -u >$TMP/out/hook-u; \
touch $TMP/rootdir/x 2>/dev/null || echo refused >>$TMP/out/hook-u"
config_peer "$TMP/$U.conf" "$PUB_B" "10.97.0.2/32" "$UL4_B:51861"
chown 65534:65534 "$TMP/$U.conf" "$TMP/run-$U" "$TMP/out"
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
	env RINGVPN_RUNDIR="$TMP/run-$U" "$TMP/bin/ringvpn" up -f "$TMP/$U.conf" \
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
		every_thread "$PID_U" "$KEEP"
}
# nsenter -r: into the daemon's root as well as its mount namespace,
# which setns alone would leave at the namespace's root (not a chroot's).
user_works() {
	ping_ok "$NS_A" 10.97.0.2 &&
		transfer "$NS_B" "$NS_A" 10.97.0.1 $((4 << 20)) &&
		nsenter -m -r -t "$PID_U" wg show "$U" latest-handshakes |
		awk '{ exit !($2 > 0) }' &&
		kill -HUP "$PID_U" && sleep 0.5 && kill -0 "$PID_U" &&
		ping_ok "$NS_A" 10.97.0.2
}
# root's `ringvpn down` finds the daemon through its lock in its run
# directory and stops it; its PostDown hook ran as 65534 and could not
# write where root owns.
user_goes_down() {
	in_rv "$U" "$RINGVPN" down "$U" || return 1
	wait_for 15 pid_gone "$PID_U" || return 1
	lib_untrack_pid "$PID_U"
	cat "$TMP/out/hook-u"
	! ip -n "$NS_A" link show "$U" 2>/dev/null &&
		[ ! -e "$TMP/run-$U/$U.pid" ] &&
		[ ! -e "/run/wireguard/$U.sock" ] &&
		[ "$(head -n1 "$TMP/out/hook-u")" = 65534 ] &&
		grep -x refused "$TMP/out/hook-u" >/dev/null &&
		[ ! -e "$TMP/rootdir/x" ]
}

check "uid 65534 with ambient caps: up, and no more than the two caps" \
	user_comes_up
check "uid 65534: traffic, wg show through its socket, SIGHUP" user_works
check "uid 65534: root's down stops it; its hook cannot write root's" \
	user_goes_down
exit "$FAILED"
