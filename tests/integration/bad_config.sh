#!/bin/bash
# `ringvpn up` refuses bad configurations and leaves nothing behind.
# Each case writes a config with one fault and runs `ringvpn up CONFIG`
# (daemon mode) in a namespace with an underlay (a veth pair). It must exit
# 1 with a "ringvpn: ..." message that names the file and, for a fault on
# a line (marked "# BAD" in the file: the parser strips comments), that
# line as FILE:LINE; afterwards no interface of that name exists, the
# namespace's links, addresses, routes and rules (IPv4 and IPv6, all
# tables) are as before, no process runs in it and no pid file or UAPI
# socket is left.
# A control case first: a good config comes up (and visibly changes that
# state), and `ringvpn down` restores it exactly. The last case fails half
# way through `up`: an AllowedIPs route clashes with one the namespace
# already has, after the address was added and the link brought up.
# Needs root, ip; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init bad_config
make_pair "rv-bc-a-$$" "rv-bc-b-$$"
NS=$NS_A
# The veth's link-local address is tentative for a second or so; the state
# comparisons need it settled.
# shellcheck disable=SC2317 # called through wait_for
no_tentative() { [ -z "$(ip -n "$1" addr show tentative)" ]; }
wait_for 10 no_tentative "$NS"
RUNDIR=$TMP/run
mkdir -p "$RUNDIR"
make_key a >/dev/null
PRIV=$(cat "$TMP/a.key")
PEER_PUB=$(make_key b)
N=0

# Everything `up` could add or change, in a stable form. To name a veth
# peer's namespace, ip opens every file in /var/run/netns; one that another
# test is adding at that moment is not a namespace yet, and ip prints the
# kernel's complaint about it. That line is about the other test: dropped.
snapshot() {
	local ns=$1
	{
		echo "## links"
		ip -n "$ns" -o link show
		echo "## addresses"
		ip -n "$ns" -o addr show
		echo "## IPv4 routes"
		ip -n "$ns" -4 route show table all
		echo "## IPv6 routes"
		ip -n "$ns" -6 route show table all
		echo "## rules"
		ip -n "$ns" -4 rule show
		ip -n "$ns" -6 rule show 2>/dev/null || true
	} 2>&1 | grep -vx "Error: Peer netns reference is invalid\."
}

# A valid config, or one with a fault: C_PRIV, C_PORT, C_ADDR, C_IF (extra
# [Interface] lines), C_PUB, C_ALLOWED, C_EP, C_PEER (extra [Peer] lines),
# C_PRE (lines before [Interface]) and C_POST (lines at the end) override
# the defaults; "-" drops a line.
std_conf() {
	local v
	[ -z "${C_PRE:-}" ] || printf '%s\n' "$C_PRE"
	echo "[Interface]"
	v=${C_PRIV-$PRIV}
	[ "$v" = - ] || echo "PrivateKey = $v"
	v=${C_PORT-51820}
	[ "$v" = - ] || echo "ListenPort = $v"
	v=${C_ADDR-10.96.0.1/24}
	[ "$v" = - ] || echo "Address = $v"
	[ -z "${C_IF:-}" ] || printf '%s\n' "$C_IF"
	echo
	echo "[Peer]"
	v=${C_PUB-$PEER_PUB}
	[ "$v" = - ] || echo "PublicKey = $v"
	v=${C_ALLOWED-10.96.0.2/32}
	[ "$v" = - ] || echo "AllowedIPs = $v"
	v=${C_EP-$UL4_B:51821}
	[ "$v" = - ] || echo "Endpoint = $v"
	[ -z "${C_PEER:-}" ] || printf '%s\n' "$C_PEER"
	[ -z "${C_POST:-}" ] || printf '%s\n' "$C_POST"
}

# shellcheck disable=SC2317 # called through wait_for
ns_empty() { [ -z "$(ip netns pids "$1")" ]; }

# Removes whatever a wrongly successful `up` started.
undo_up() {
	local ns=$1 name=$2 pid
	ip netns exec "$ns" env RINGVPN_RUNDIR="$RUNDIR" \
		timeout 10 "$RINGVPN" down "$name" >/dev/null 2>&1 || true
	for pid in $(ip netns pids "$ns"); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	ip -n "$ns" link del "$name" 2>/dev/null || true
}

# expect_refused DESC NS ARG NAME WANT_TEXT [WANT_LINE]: `ringvpn up ARG`
# in NS must fail, mention WANT_TEXT (and WANT_TEXT:WANT_LINE: with a
# line), and leave NS as it was.
expect_refused() {
	local desc=$1 ns=$2 arg=$3 name=$4 text=$5 line=${6:-} rc=0 why=()
	local before after
	LIB_IFNAMES+=("$name") # a stray UAPI socket is removed at exit
	before=$(snapshot "$ns")
	ip netns exec "$ns" env RINGVPN_RUNDIR="$RUNDIR" \
		timeout 20 env PATH="${UP_PATH:-$PATH}" "$RINGVPN" up "$arg" \
		>"$TMP/out" 2>"$TMP/err" ||
		rc=$?
	[ "$rc" -eq 1 ] || why+=("exit status $rc, expected 1")
	grep -q '^ringvpn: ' "$TMP/err" ||
		why+=("no \"ringvpn: ...\" message on stderr")
	if [ -n "$line" ]; then
		grep -qF "$text:$line:" "$TMP/err" ||
			why+=("message does not name $text:$line:")
	elif [ -n "$text" ]; then
		grep -qF "$text" "$TMP/err" ||
			why+=("message does not name $text")
	fi
	# Give a daemon that wrongly forked a moment to show itself.
	sleep 0.2
	ip -n "$ns" link show dev "$name" >/dev/null 2>&1 &&
		why+=("interface $name exists")
	[ -z "$(ip netns pids "$ns")" ] ||
		why+=("processes left in $ns: $(ip netns pids "$ns" | xargs)")
	[ ! -e "$RUNDIR/$name.pid" ] || why+=("$RUNDIR/$name.pid left")
	[ ! -e "/var/run/wireguard/$name.sock" ] ||
		why+=("/var/run/wireguard/$name.sock left")
	after=$(snapshot "$ns")
	[ "$before" = "$after" ] || why+=("system state changed")
	if [ ${#why[@]} -eq 0 ]; then
		report PASS "$desc: refused ($(head -n 1 "$TMP/err"))"
		return 0
	fi
	report FAIL "$desc: $(IFS=';'; echo "${why[*]}")"
	echo "--- stdout"
	cat "$TMP/out"
	echo "--- stderr"
	cat "$TMP/err"
	if [ "$before" != "$after" ]; then
		echo "--- state diff (before, after)"
		diff <(echo "$before") <(echo "$after") || true
	fi
	undo_up "$ns" "$name"
}

# bad DESC: writes std_conf (with the caller's C_* overrides) to a fresh
# file and expects it refused, at the line marked "# BAD" if there is one.
bad() {
	local desc=$1 name dir conf line
	N=$((N + 1))
	name=rv$$c$N
	dir=$TMP/c$N
	mkdir -p "$dir"
	conf=$dir/$name.conf
	std_conf >"$conf"
	line=$(grep -n '# BAD' "$conf" | head -n 1 | cut -d: -f1 || true)
	expect_refused "$desc" "$NS" "$conf" "$name" "$name.conf" "$line"
}

# The control: a good config comes up, changes the state, and `down`
# restores it.
control() {
	local name=rv$$c0 conf before during after rc=0 why=()
	LIB_IFNAMES+=("$name")
	conf=$TMP/$name.conf
	std_conf >"$conf"
	before=$(snapshot "$NS")
	ip netns exec "$NS" env RINGVPN_RUNDIR="$RUNDIR" \
		timeout 20 "$RINGVPN" up "$conf" >"$TMP/out" 2>"$TMP/err" ||
		rc=$?
	[ "$rc" -eq 0 ] || why+=("up: exit status $rc")
	ip -n "$NS" -o addr show dev "$name" 2>/dev/null |
		grep ' 10\.96\.0\.1/24 ' >/dev/null ||
		why+=("no address 10.96.0.1/24")
	ip -n "$NS" route get 10.96.0.2 2>/dev/null |
		grep " dev $name " >/dev/null ||
		why+=("no route to 10.96.0.2 into $name")
	[ -n "$(ip netns pids "$NS")" ] || why+=("no daemon running")
	[ -e "$RUNDIR/$name.pid" ] || why+=("no $RUNDIR/$name.pid")
	ip netns exec "$NS" env RINGVPN_RUNDIR="$RUNDIR" \
		"$RINGVPN" show "$name" >"$TMP/show" 2>&1 || true
	grep -q "^interface: $name\$" "$TMP/show" ||
		why+=("show does not print \"interface: $name\"")
	during=$(snapshot "$NS")
	[ "$before" != "$during" ] || why+=("state unchanged while up")
	rc=0
	ip netns exec "$NS" env RINGVPN_RUNDIR="$RUNDIR" \
		timeout 20 "$RINGVPN" down "$name" >>"$TMP/out" 2>>"$TMP/err" ||
		rc=$?
	[ "$rc" -eq 0 ] || why+=("down: exit status $rc")
	wait_for 5 ns_empty "$NS" ||
		why+=("daemon still running after down")
	after=$(snapshot "$NS")
	[ "$before" = "$after" ] || why+=("state after down differs")
	[ ! -e "$RUNDIR/$name.pid" ] || why+=("pid file left after down")
	if [ ${#why[@]} -eq 0 ]; then
		report PASS "control: a good config goes up and down, no trace"
		return 0
	fi
	report FAIL "control: $(IFS=';'; echo "${why[*]}")"
	cat "$TMP/out" "$TMP/err"
	diff <(echo "$before") <(echo "$after") || true
	undo_up "$NS" "$name"
}

control

C_IF="Frobnicate = 1 # BAD" bad "unknown key"
C_PUB="not!base64!at!all # BAD" bad "PublicKey not base64"
C_PRIV="$(head -c 31 /dev/urandom | base64) # BAD" \
	bad "PrivateKey of 31 bytes"
C_PRIV=- bad "missing PrivateKey"
C_POST="$(printf '\n[Peer] # BAD\nPublicKey = %s\nAllowedIPs = 10.96.0.3/32' \
	"$PEER_PUB")" bad "duplicate peer"
C_PORT="70000 # BAD" bad "ListenPort 70000"
C_ADDR="10.96.0.1/33 # BAD" bad "Address 10.96.0.1/33"
C_ALLOWED="10.96.0.2/32, junk # BAD" bad "AllowedIPs junk"
C_EP="$UL4_B # BAD" bad "Endpoint without port"
C_EP="$UL6_B:51821 # BAD" bad "IPv6 Endpoint without brackets"
C_IF="MTU = junk # BAD" bad "MTU junk"
C_IF="Threads = 0 # BAD" bad "Threads 0"
C_IF="PersistentKeepalive = 25 # BAD" bad "[Peer] key in [Interface]"
C_PEER="ListenPort = 51822 # BAD" bad "[Interface] key in [Peer]"
C_PRE="ListenPort = 51822 # BAD" bad "key before any section"
C_POST="$(printf '\n[Frob] # BAD\nFoo = bar')" bad "unknown section"
C_PEER="PersistentKeepalive = 70000 # BAD" bad "PersistentKeepalive 70000"
C_IF="Table = junk # BAD" bad "Table junk"
C_IF="FwMark = junk # BAD" bad "FwMark junk"
C_PEER="PresharedKey = short # BAD" bad "PresharedKey junk"
C_POST="$(printf '\n[Interface] # BAD\nListenPort = 1')" \
	bad "second [Interface]"
# DNS needs resolvconf: without it on PATH, `up` says so before anything
# changes.
N=$((N + 1))
mkdir -p "$TMP/c$N" "$TMP/nopath"
C_IF="DNS = 10.96.0.53" std_conf >"$TMP/c$N/rv$$c$N.conf"
UP_PATH=$TMP/nopath expect_refused "DNS without resolvconf" "$NS" \
	"$TMP/c$N/rv$$c$N.conf" "rv$$c$N" "resolvconf"

N=$((N + 1))
expect_refused "nonexistent config file" "$NS" "$TMP/none/rv$$c$N.conf" \
	"rv$$c$N" "$TMP/none/rv$$c$N.conf"
N=$((N + 1))
if [ -e "/etc/ringvpn/rv$$c$N.conf" ]; then
	report FAIL "/etc/ringvpn/rv$$c$N.conf exists: cannot test a missing NAME"
else
	expect_refused "NAME without a config in /etc/ringvpn" "$NS" \
		"rv$$c$N" "rv$$c$N" "/etc/ringvpn/rv$$c$N.conf"
fi
LONG=ringvpn-too-long-$$
std_conf >"$TMP/$LONG.conf"
expect_refused "interface name of ${#LONG} characters" "$NS" \
	"$TMP/$LONG.conf" "$LONG" "$LONG.conf"

# Half way: the address is added and the link goes up, then the route
# for an AllowedIPs prefix clashes with one the namespace already has
# through the underlay. Everything done must be undone.
ip -n "$NS" route add 10.96.5.0/24 dev "$VETH_A"
N=$((N + 1))
mkdir -p "$TMP/c$N"
C_ALLOWED="10.96.0.2/32, 10.96.5.0/24" C_EP=- \
	std_conf >"$TMP/c$N/rv$$c$N.conf"
expect_refused "AllowedIPs route taken by another interface (half way)" \
	"$NS" "$TMP/c$N/rv$$c$N.conf" "rv$$c$N" "10.96.5.0/24"
ip -n "$NS" route del 10.96.5.0/24 dev "$VETH_A"

exit "$FAILED"
