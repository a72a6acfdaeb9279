# shellcheck shell=bash
# Helpers for the integration tests that run ringvpn (and wireguard-go) in
# network namespaces; sourced by them, never run on its own. It offers:
#   - lib_init, the preamble, and the cleanup of everything below;
#   - namespaces: make_netns, make_pair (two joined by the underlay veth
#     pair, UL4_A/UL6_A and UL4_B/UL6_B), link_netns, make_switch and
#     switch_port (many on one bridge),
#     netns_etc (a namespace's own hosts file);
#   - keys and configuration files: make_key, config_interface,
#     config_peer, config_values, and rv_pair, the usual two ringvpn
#     configs naming each other, started if asked;
#   - instances: start_ringvpn (`ringvpn up`), start_userspace
#     (`ringvpn -f NAME`), rv_register, stop_ringvpn, stop_ringvpns,
#     kill9_ringvpn, in_rv, rv_show, rv_peer_field, rv_worker_field,
#     test_clock_said; start_wggo, stop_wggo; bg_start, bg_wait,
#     stop_pids for many at once;
#   - checks: check and report (one PASS or FAIL line per case, the logs
#     on failure), ping_ok, wait_for, now_ms, net_state, asan_build;
#   - transfers of random data with their SHA-256 compared: transfer,
#     transfer_start, transfer_wait.
#
# A script calls lib_init NAME TOOLS... first: it skips (exit 77) without
# root, with RINGVPN_SKIP_NETNS set or when a tool is missing, makes the
# temporary directory and installs the EXIT trap. Everything the helpers
# start or create is recorded here and undone by lib_cleanup: the PIDs we
# started, our namespaces (and whatever still runs in them: only we put
# processes there), UAPI sockets named after our interfaces, the temporary
# directory. Nothing else is touched.
#
# RINGVPN names the binary (default ./ringvpn); VERBOSE=1 shows the logs
# of passing cases too; TRANSFER_TIMEOUT bounds one transfer (seconds).

RINGVPN=${RINGVPN:-./ringvpn}
TRANSFER_TIMEOUT=${TRANSFER_TIMEOUT:-60}

# The underlay: veth A and veth B, in two namespaces.
UL4_A=198.18.0.1
UL4_B=198.18.0.2
UL6_A=2001:db8:18::1
UL6_B=2001:db8:18::2
# The listen ports rv_pair gives A and B.
RV_PORT_A=51820
RV_PORT_B=51821

TMP=
# shellcheck disable=SC2034 # the scripts exit with it
FAILED=0
LIB_PIDS=()
LIB_NETNS=()
LIB_IFNAMES=()
LIB_ETC=()
declare -A RV_NS=() RV_PID=() RV_RUNDIR=() RV_LOG=() RV_PUB=()
declare -A WG_NS=() WG_PID=() WG_LOG=()
declare -A XFER_RPID=() XFER_SPID=() XFER_FILE=() XFER_DESC=()
XFER_SEQ=0
# Ports of transfers: a fresh one per transfer, so a late packet of the
# previous one can never reach the next.
XFER_PORT_BASE=40000

skip() {
	echo "SKIP: $*"
	exit 77
}

# lib_init NAME TOOL...: the preamble of every script.
lib_init() {
	local name=$1 tool
	shift
	[ -z "${RINGVPN_SKIP_NETNS:-}" ] || skip "RINGVPN_SKIP_NETNS is set"
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	for tool in ip ping ncat ss sha256sum timeout awk "$@"; do
		command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
	done
	[ -x "$RINGVPN" ] || { echo "FAIL: $RINGVPN not executable"; exit 1; }
	umask 077 # key files and configs
	TMP=$(mktemp -d "/tmp/ringvpn-$name.XXXXXX")
	trap lib_cleanup EXIT
	# The EXIT trap runs only if the shell exits, not if a signal kills it
	# (a test harness's timeout sends SIGTERM).
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Gives a process we started up to 3 s to exit after SIGTERM (ringvpn
# removes its interface then), then kills it.
lib_stop_pid() {
	local pid=$1 _
	lib_untrack_pid "$pid"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
lib_cleanup() {
	local i pid ns name pids=("${LIB_PIDS[@]}")
	# The newest first: transfers, then the daemons they run through.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		lib_stop_pid "${pids[i]}"
	done
	for ns in "${LIB_NETNS[@]}"; do
		# Whatever is left in our namespaces is ours: a daemon started
		# without -f, a receiver that outlived its timeout.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	for name in "${LIB_IFNAMES[@]}"; do
		rm -f "/var/run/wireguard/$name.sock"
	done
	for name in "${LIB_ETC[@]}"; do
		rm -rf "$name"
	done
	[ -z "$TMP" ] || rm -rf "$TMP"
}

lib_track_pid() { LIB_PIDS+=("$1"); }

# Once a process is reaped its PID may be reused by someone else's: forget
# it, so that the cleanup never signals a stranger.
lib_untrack_pid() {
	local i
	for i in "${!LIB_PIDS[@]}"; do
		[ "${LIB_PIDS[i]}" != "$1" ] || unset "LIB_PIDS[i]"
	done
	LIB_PIDS=("${LIB_PIDS[@]}")
}

# now_ms: the time in milliseconds (since the epoch), for durations.
now_ms() { date +%s%3N; }

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 on
# timeout.
wait_for() {
	local tenths=$(($1 * 10)) i
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
# Namespaces

# make_netns NS: an empty namespace with lo up.
make_netns() {
	ip netns add "$1"
	LIB_NETNS+=("$1")
	ip -n "$1" link set lo up
}

# netns_etc NS FILE TEXT: writes TEXT to /etc/netns/NS/FILE (hosts,
# resolv.conf), which `ip netns exec NS` mounts over /etc/FILE: name
# resolution of the namespace's own, with no outside DNS. The file is
# rewritten in place, so a process already running there reads the new
# text at its next lookup. The directory is ours (NS is) and goes in the
# cleanup.
netns_etc() {
	local dir=/etc/netns/$1
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		LIB_ETC+=("$dir")
	fi
	printf '%s\n' "$3" >"$dir/$2"
}

# link_netns NS1 NS2 IF1 IF2 ADDR1/PLEN ADDR2/PLEN: one more veth pair
# between two existing namespaces (a flooder's own link, say), up.
link_netns() {
	ip link add "$3" netns "$1" type veth peer name "$4" netns "$2"
	ip -n "$1" addr add "$5" dev "$3"
	ip -n "$2" addr add "$6" dev "$4"
	ip -n "$1" link set "$3" up
	ip -n "$2" link set "$4" up
}

# make_pair NS_A NS_B: two namespaces joined by a veth pair, VETH_A in
# NS_A with UL4_A and UL6_A, VETH_B in NS_B with UL4_B and UL6_B.
make_pair() {
	NS_A=$1
	NS_B=$2
	VETH_A=rv$$va
	VETH_B=rv$$vb
	make_netns "$NS_A"
	make_netns "$NS_B"
	ip link add "$VETH_A" netns "$NS_A" type veth \
		peer name "$VETH_B" netns "$NS_B"
	ip -n "$NS_A" addr add "$UL4_A/24" dev "$VETH_A"
	ip -n "$NS_B" addr add "$UL4_B/24" dev "$VETH_B"
	ip -n "$NS_A" addr add "$UL6_A/64" dev "$VETH_A" nodad
	ip -n "$NS_B" addr add "$UL6_B/64" dev "$VETH_B" nodad
	ip -n "$NS_A" link set "$VETH_A" up
	ip -n "$NS_B" link set "$VETH_B" up
}

# ---------------------------------------------------------------------------
# Keys and configuration files

# make_key NAME: writes $TMP/NAME.key (from ringvpn genkey) and prints the
# public key.
make_key() {
	"$RINGVPN" genkey >"$TMP/$1.key"
	"$RINGVPN" pubkey <"$TMP/$1.key"
}

# config_interface FILE KEYNAME PORT ADDRESSES [LINE...]: starts FILE with
# an [Interface] section; ADDRESSES may be empty (for wg setconf); each
# LINE ("Threads = 2") is added as is.
config_interface() {
	local file=$1 key=$2 port=$3 addresses=$4 line
	shift 4
	{
		echo "[Interface]"
		echo "PrivateKey = $(cat "$TMP/$key.key")"
		echo "ListenPort = $port"
		[ -z "$addresses" ] || echo "Address = $addresses"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
}

# config_peer FILE PUBKEY ALLOWED_IPS ENDPOINT [LINE...]: appends a [Peer];
# ENDPOINT may be empty.
config_peer() {
	local file=$1 pub=$2 allowed=$3 endpoint=$4 line
	shift 4
	{
		echo
		echo "[Peer]"
		echo "PublicKey = $pub"
		echo "AllowedIPs = $allowed"
		[ -z "$endpoint" ] || echo "Endpoint = $endpoint"
		for line in "$@"; do
			echo "$line"
		done
	} >>"$file"
}

# The values of KEY in a config file, one per line (comma lists split).
config_values() {
	sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//Ip" "$1" |
		sed 's/#.*//' | tr ',' '\n' | tr -d ' \t' | sed '/^$/d'
}

# host_prefixes ADDRESSES: an Address list as host prefixes, each address
# alone: "10.9.0.1/24, fd00:9::1/64" gives "10.9.0.1/32, fd00:9::1/128".
host_prefixes() {
	local a out=
	for a in ${1//,/ }; do
		case $a in
		*:*) out+="${out:+, }${a%/*}/128" ;;
		*) out+="${out:+, }${a%/*}/32" ;;
		esac
	done
	echo "$out"
}

# rv_pair [-4|-6] [-g] [-a LINE]... [-u] A B ADDRS_A ADDRS_B [LINE...]:
# two ringvpn instances, A in NS_A and B in NS_B (make_pair), each the
# other's only peer. Makes a key for each (make_key A, make_key B; the
# public keys in RV_PUB[A] and RV_PUB[B]) and writes $TMP/A.conf:
#   [Interface]
#   PrivateKey = (A's)
#   ListenPort = RV_PORT_A (51820)
#   Address = ADDRS_A
#   each -a LINE, then each LINE
#
#   [Peer]
#   PublicKey = RV_PUB[B]
#   AllowedIPs = ADDRS_B as host prefixes (host_prefixes)
#   Endpoint = UL4_B:RV_PORT_B
# and $TMP/B.conf the other way round: RV_PORT_B (51821), ADDRS_B, each
# LINE (not the -a ones); A's key, ADDRS_A as host prefixes and
# Endpoint = UL4_A:RV_PORT_A.
#   -6      the Endpoints are on the IPv6 underlay ([UL6_B]:RV_PORT_B);
#           -4, the default, on the IPv4 one;
#   -g      A is a gateway: its [Peer] has no Endpoint, A learns B's from
#           B's handshake;
#   -a LINE one more line for A's [Interface] alone;
#   -u      then starts A and B, in that order (start_ringvpn), and
#           returns 1 if one did not come up.
# Without -u a script may add to the files (config_peer appends a [Peer])
# and start the daemons its own way.
rv_pair() {
	local fam=4 gateway='' up='' a_lines=() opt OPTIND=1
	local a b addrs_a addrs_b ep_a ep_b
	while getopts 46ga:u opt; do
		case $opt in
		4 | 6) fam=$opt ;;
		g) gateway=1 ;;
		a) a_lines+=("$OPTARG") ;;
		u) up=1 ;;
		*) return 1 ;;
		esac
	done
	shift $((OPTIND - 1))
	a=$1 b=$2 addrs_a=$3 addrs_b=$4
	shift 4
	if [ "$fam" = 4 ]; then
		ep_a=$UL4_A:$RV_PORT_A
		ep_b=$UL4_B:$RV_PORT_B
	else
		ep_a=[$UL6_A]:$RV_PORT_A
		ep_b=[$UL6_B]:$RV_PORT_B
	fi
	[ -z "$gateway" ] || ep_b=
	# Each step checked: a caller's `if` turns set -e off in here.
	RV_PUB[$a]=$(make_key "$a") && RV_PUB[$b]=$(make_key "$b") &&
		config_interface "$TMP/$a.conf" "$a" "$RV_PORT_A" "$addrs_a" \
			"${a_lines[@]}" "$@" &&
		config_peer "$TMP/$a.conf" "${RV_PUB[$b]}" \
			"$(host_prefixes "$addrs_b")" "$ep_b" &&
		config_interface "$TMP/$b.conf" "$b" "$RV_PORT_B" "$addrs_b" \
			"$@" &&
		config_peer "$TMP/$b.conf" "${RV_PUB[$a]}" \
			"$(host_prefixes "$addrs_a")" "$ep_a" || return 1
	[ -n "$up" ] || return 0
	start_ringvpn "$NS_A" "$TMP/$a.conf" &&
		start_ringvpn "$NS_B" "$TMP/$b.conf"
}

# ---------------------------------------------------------------------------
# ringvpn instances. An instance is known by its interface name, which is
# its config file's base name.

in_rv() {
	local name=$1
	shift
	ip netns exec "${RV_NS[$name]}" \
		env RINGVPN_RUNDIR="${RV_RUNDIR[$name]}" "$@"
}

# True once NAME in NS is up and has every address of CONF, none of them
# tentative, and (with the default Table = auto) a route into it for every
# AllowedIPs prefix but /0: then it can carry traffic.
iface_ready() {
	local ns=$1 name=$2 conf=$3 a
	[ -n "$(ip -n "$ns" -o link show dev "$name" up 2>/dev/null)" ] ||
		return 1
	[ -z "$(ip -n "$ns" addr show dev "$name" tentative)" ] || return 1
	for a in $(config_values "$conf" Address); do
		ip -n "$ns" -o addr show dev "$name" |
			grep -F " ${a%/*}/" >/dev/null || return 1
	done
	config_values "$conf" Table | grep -vix auto >/dev/null && return 0
	for a in $(config_values "$conf" AllowedIPs); do
		case $a in */0) continue ;; esac
		ip -n "$ns" route get "${a%/*}" 2>/dev/null |
			grep " dev $name " >/dev/null || return 1
	done
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# net_state NS: everything a (full-tunnel) up could leave behind in NS:
# addresses (without their lifetimes), rules, routes of every table, UDP
# sockets; link-local and multicast noise left out. Compared before and
# after to prove a clean down, or a live tunnel left untouched.
net_state() {
	{
		ip -n "$1" -o addr show | sed 's/^[0-9]*: *//; s/\\.*//'
		ip -n "$1" rule
		ip -n "$1" -6 rule
		ip -n "$1" route show table all
		ip -n "$1" -6 route show table all
		ip netns exec "$1" ss -Huan
	} 2>&1 | grep -v "proto kernel\|fe80::\|ff00::\|multicast" |
		grep -vx "Error: Peer netns reference is invalid\."
}

# asan_build: $RINGVPN is linked with AddressSanitizer. Not `grep -q`: it
# would stop reading early, ldd could die of SIGPIPE, and under pipefail
# the answer would be "no" now and then. The same holds for every pipe
# into grep in these scripts (ip writes once per address, for one).
asan_build() { ldd "$RINGVPN" 2>/dev/null | grep libasan >/dev/null; }

# rv_ready NS NAME CONF: ringvpn's interface is ready (iface_ready) and
# its UAPI socket is there, so `ringvpn show` and wg(8) find it (a slow
# daemon, under valgrind, may have configured one before making the
# other).
rv_ready() {
	iface_ready "$1" "$2" "$3" && [ -S "/var/run/wireguard/$2.sock" ]
}

# ready_or_gone PID NS NAME CONF: stops the wait early if the daemon died.
ready_or_gone() { pid_gone "$1" || rv_ready "$2" "$3" "$4"; }

# rv_register NS NAME: NAME is a ringvpn interface in NS with its own run
# directory ($TMP/run-NAME, made here) and log ($TMP/NAME.log): in_rv,
# rv_show, stop_ringvpn and the diagnostics find it, and the cleanup
# removes its socket.
rv_register() {
	local ns=$1 name=$2
	RV_NS[$name]=$ns
	RV_RUNDIR[$name]=$TMP/run-$name
	RV_LOG[$name]=$TMP/$name.log
	LIB_IFNAMES+=("$name")
	mkdir -p "${RV_RUNDIR[$name]}"
}

# start_ringvpn NS CONF: `ringvpn up -f CONF` in NS, with its own run
# directory; waits (10 s) until the interface is ready. The environment
# is passed on (RINGVPN_TEST_CLOCK_SCALE). 1 if it did not come up.
start_ringvpn() {
	local ns=$1 conf=$2 name pid
	name=$(basename "$conf" .conf)
	rv_register "$ns" "$name"
	# Not through in_rv: $! must be the daemon itself (ip netns exec and
	# env exec it), not a subshell running a function.
	ip netns exec "$ns" env RINGVPN_RUNDIR="${RV_RUNDIR[$name]}" \
		"$RINGVPN" up -f "$conf" >"${RV_LOG[$name]}" 2>&1 &
	pid=$!
	RV_PID[$name]=$pid
	lib_track_pid "$pid"
	wait_for 10 ready_or_gone "$pid" "$ns" "$name" "$conf" || true
	rv_ready "$ns" "$name" "$conf" && return 0
	echo "ringvpn $name in $ns did not come up (process $(
		kill -0 "$pid" 2>/dev/null && echo running || echo gone))"
	return 1
}

# start_userspace NS NAME: `ringvpn -f NAME` in NS (the userspace-
# implementation form: an interface with no configuration), in the
# background, registered as rv_register does; RV_PID[NAME] is the daemon.
# Waits (10 s) for its UAPI socket; 1 if it did not appear.
start_userspace() {
	local ns=$1 name=$2 pid
	rv_register "$ns" "$name"
	# $! must be the daemon itself, as in start_ringvpn.
	ip netns exec "$ns" env RINGVPN_RUNDIR="${RV_RUNDIR[$name]}" \
		"$RINGVPN" -f "$name" >"${RV_LOG[$name]}" 2>&1 &
	pid=$!
	RV_PID[$name]=$pid
	lib_track_pid "$pid"
	wait_for 10 test -S "/var/run/wireguard/$name.sock"
}

# stop_ringvpn NAME: SIGTERM, then 0 only if the daemon exited with status
# 0 within 15 s (it takes well under one; the margin is for a loaded CI
# machine) and its interface is gone.
stop_ringvpn() {
	local name=$1 pid=${RV_PID[$1]} rc=0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_for 15 pid_gone "$pid"; then
		echo "ringvpn $name ignored SIGTERM for 15 s"
		kill -KILL "$pid" 2>/dev/null || true
		rc=1
	fi
	local status=0
	wait "$pid" 2>/dev/null || status=$?
	lib_untrack_pid "$pid"
	if [ "$status" -ne 0 ]; then
		echo "ringvpn $name exited with status $status after SIGTERM"
		rc=1
	fi
	if ip -n "${RV_NS[$name]}" link show dev "$name" >/dev/null 2>&1; then
		echo "interface $name still exists after SIGTERM"
		rc=1
	fi
	return "$rc"
}

# stop_ringvpns NAME...: stop_ringvpn on each, all of them even when one
# fails; 1 if any failed.
stop_ringvpns() {
	local name rc=0
	for name in "$@"; do
		stop_ringvpn "$name" || rc=1
	done
	return "$rc"
}

# kill9_ringvpn NAME: kill -9, as a crash would, and reaps the daemon:
# what it leaves behind (a journal, rules, a table, its socket) stays for
# the test to look at, and the next start_ringvpn of NAME recovers it.
kill9_ringvpn() {
	local pid=${RV_PID[$1]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	lib_untrack_pid "$pid"
}

rv_show() { in_rv "$1" "$RINGVPN" show "$1"; }

# test_clock_said NAME: NAME, started with RINGVPN_TEST_CLOCK_SCALE, said
# at up that its clock runs fast. A build configured without
# --enable-test-clock says it ignores the variable instead: the script
# cannot test what it is for, and skips (77).
test_clock_said() {
	if grep "this build has no test clock" "${RV_LOG[$1]}" >/dev/null; then
		skip "this build has no test clock (configure --enable-test-clock)"
	fi
	grep "test clock: every protocol timer runs .* times fast" \
		"${RV_LOG[$1]}"
}

# rv_peer_field NAME FIELD [PUB]: FIELD of the first peer line of
# `ringvpn show` (rx_bytes, tx_bytes, handshakes, latest_handshake,
# endpoint, local, routed), or of peer PUB's; nothing (and status 0:
# callers use it in assignments under set -e) if show fails. awk reads
# all its input: no SIGPIPE for show under pipefail.
rv_peer_field() {
	{ rv_show "$1" 2>/dev/null || true; } |
		awk -v f="$2" -v k="${3:+$3:}" '
		$1 == "peer" && !done && (k == "" || $2 == k) {
			for (i = 3; i < NF; i++)
				if ($i == f) { print $(i + 1); done = 1; break }
		}'
}

# rv_worker_field NAME FIELD: one value of FIELD per worker line.
rv_worker_field() {
	{ rv_show "$1" 2>/dev/null || true; } | awk -v f="$2" '
		$1 == "worker" {
			for (i = 3; i < NF; i++) if ($i == f) print $(i + 1)
		}'
}

# ---------------------------------------------------------------------------
# wireguard-go instances

# start_wggo NS IFNAME WGCONF ADDRESS...: wireguard-go in NS, configured with
# wg setconf WGCONF (no Address lines in it), the addresses added and
# routes into it for the AllowedIPs.
start_wggo() {
	local ns=$1 name=$2 conf=$3 a pid
	shift 3
	WG_NS[$name]=$ns
	WG_LOG[$name]=$TMP/$name.log
	LIB_IFNAMES+=("$name")
	mkdir -p /var/run/wireguard
	LOG_LEVEL=verbose ip netns exec "$ns" wireguard-go -f "$name" \
		>"${WG_LOG[$name]}" 2>&1 &
	pid=$!
	WG_PID[$name]=$pid
	lib_track_pid "$pid"
	# The UAPI socket is the sign that it is ready.
	if ! wait_for 15 test -S "/var/run/wireguard/$name.sock"; then
		echo "wireguard-go $name did not start"
		return 1
	fi
	ip netns exec "$ns" wg setconf "$name" "$conf"
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$name" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$name" ;;
		esac
	done
	ip -n "$ns" link set "$name" up
	for a in $(config_values "$conf" AllowedIPs); do
		ip -n "$ns" route replace "$a" dev "$name"
	done
}

stop_wggo() { lib_stop_pid "${WG_PID[$1]}"; }

# ---------------------------------------------------------------------------
# Reporting

# dump_diag: the logs and state of every instance, for a failure.
dump_diag() {
	local name
	for name in "${!RV_NS[@]}"; do
		echo "--- ringvpn $name (${RV_NS[$name]}): show"
		rv_show "$name" 2>&1 || true
		echo "--- ringvpn $name: log (last 40 lines)"
		tail -n 40 "${RV_LOG[$name]}" 2>/dev/null || true
	done
	for name in "${!WG_NS[@]}"; do
		echo "--- wireguard-go $name (${WG_NS[$name]}): wg show"
		ip netns exec "${WG_NS[$name]}" wg show "$name" 2>&1 || true
		echo "--- wireguard-go $name: log (last 20 lines)"
		tail -n 20 "${WG_LOG[$name]}" 2>/dev/null || true
	done
}

# report PASS|FAIL TEXT...: one line per case; a failure also dumps the
# logs and marks the script failed.
report() {
	local result=$1
	shift
	echo "$result: $*"
	# shellcheck disable=SC2034 # the scripts exit with it
	[ "$result" = PASS ] || FAILED=1
	if [ "$result" != PASS ] || [ -n "${VERBOSE:-}" ]; then
		dump_diag
	fi
}

# check TEXT CMD...: runs CMD (in this shell: it may start and wait for
# processes) and reports PASS or FAIL TEXT, with CMD's output on failure.
check() {
	local text=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		[ -z "${VERBOSE:-}" ] || cat "$TMP/check.out"
		report PASS "$text"
	else
		cat "$TMP/check.out"
		report FAIL "$text"
	fi
}

# ping_ok NS ADDR: 3 echo replies within 10 s (a lost first packet during
# the handshake is tolerated; a dead tunnel is not).
ping_ok() {
	ip netns exec "$1" ping -n -q -c 3 -i 0.2 -w 10 "$2" >/dev/null
}

# ---------------------------------------------------------------------------
# Transfers: random data over TCP with ncat, SHA-256 compared on both ends.

# random_file BYTES: the path of a file of BYTES random bytes, made once per
# script, with its SHA-256 in PATH.sha256.
random_file() {
	local f=$TMP/random-$1
	if [ ! -f "$f.sha256" ]; then
		head -c "$1" /dev/urandom >"$f"
		sha256sum <"$f" | cut -d' ' -f1 >"$f.sha256"
	fi
	echo "$f"
}

port_listening() {
	[ -n "$(ip netns exec "$1" ss -Hltn "sport = :$2")" ]
}

# transfer_start SRC_NS DST_NS DST_ADDR BYTES [CHUNK_MS]: starts sending
# BYTES random bytes from SRC_NS to a receiver on DST_ADDR in DST_NS and
# sets XFER_ID. With CHUNK_MS the sender pauses that many milliseconds
# after each MiB (a slow transfer, to change something while it runs).
transfer_start() {
	local src=$1 dst=$2 addr=$3 bytes=$4 pause=${5:-} id port file
	id=$((++XFER_SEQ))
	port=$((XFER_PORT_BASE + id))
	file=$(random_file "$bytes")
	XFER_FILE[$id]=$file
	XFER_DESC[$id]="$bytes bytes $src -> $dst [$addr]:$port"
	XFER_ID=$id
	timeout "$TRANSFER_TIMEOUT" ip netns exec "$dst" \
		ncat -l --recv-only "$addr" "$port" 2>"$TMP/xfer$id.rlog" |
		{ sha256sum | cut -d' ' -f1 >"$TMP/xfer$id.rsum"; } &
	XFER_RPID[$id]=$!
	lib_track_pid "$!"
	if ! wait_for 15 port_listening "$dst" "$port"; then
		echo "receiver of transfer $id did not listen"
		XFER_SPID[$id]=
		return 1
	fi
	if [ -n "$pause" ]; then
		slow_cat "$file" "$bytes" "$pause" |
			timeout "$TRANSFER_TIMEOUT" ip netns exec "$src" \
			ncat --send-only "$addr" "$port" \
			2>"$TMP/xfer$id.slog" &
	else
		timeout "$TRANSFER_TIMEOUT" ip netns exec "$src" \
			ncat --send-only "$addr" "$port" <"$file" \
			2>"$TMP/xfer$id.slog" &
	fi
	XFER_SPID[$id]=$!
	lib_track_pid "$!"
}

# slow_cat FILE BYTES MS: FILE a MiB at a time, MS (< 1000) milliseconds
# apart.
slow_cat() {
	local i chunks=$((($2 + 1048575) / 1048576))
	for ((i = 0; i < chunks; i++)); do
		dd bs=1M count=1 iflag=fullblock status=none
		sleep "$(printf '0.%03d' "$3")"
	done <"$1"
}

# transfer_running ID: true while the receiver has not finished.
transfer_running() { kill -0 "${XFER_RPID[$1]}" 2>/dev/null; }

# transfer_wait ID: 0 if the sender succeeded and the receiver's SHA-256
# matches the file's; otherwise says why.
transfer_wait() {
	local id=$1 src_rc=0 want got
	if [ -n "${XFER_SPID[$id]}" ]; then
		wait "${XFER_SPID[$id]}" || src_rc=$?
		lib_untrack_pid "${XFER_SPID[$id]}"
	else
		src_rc=255
	fi
	wait "${XFER_RPID[$id]}" || true
	lib_untrack_pid "${XFER_RPID[$id]}"
	want=$(cat "${XFER_FILE[$id]}.sha256")
	got=$(cat "$TMP/xfer$id.rsum" 2>/dev/null || true)
	if [ "$src_rc" -eq 0 ] && [ "$want" = "$got" ]; then
		return 0
	fi
	echo "transfer $id (${XFER_DESC[$id]}): sender exit $src_rc" \
		"(124: timed out after $TRANSFER_TIMEOUT s), sha256 sent $want," \
		"received ${got:-nothing}"
	cat "$TMP/xfer$id.slog" "$TMP/xfer$id.rlog" 2>/dev/null || true
	return 1
}

# transfer SRC_NS DST_NS DST_ADDR BYTES: one transfer, start to end.
transfer() {
	transfer_start "$@" || return 1
	transfer_wait "$XFER_ID"
}

# ---------------------------------------------------------------------------
# Many instances at once (gateway.sh): a switch, background jobs, teardown.

# make_switch NS BRIDGE: a namespace holding a bridge, up; no STP, so a
# port forwards as soon as it is up.
make_switch() {
	make_netns "$1"
	ip -n "$1" link add "$2" type bridge stp_state 0
	ip -n "$1" link set "$2" up
}

# switch_port SW_NS BRIDGE PORT NS IFNAME ADDRESS...: a veth pair, PORT on
# BRIDGE in SW_NS and IFNAME in NS with ADDRESSes (IPv6 ones without DAD:
# usable at once), both up.
switch_port() {
	local sw=$1 br=$2 port=$3 ns=$4 name=$5 a
	shift 5
	ip link add "$port" netns "$sw" type veth peer name "$name" netns "$ns"
	ip -n "$sw" link set "$port" master "$br" up
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$name" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$name" ;;
		esac
	done
	ip -n "$ns" link set "$name" up
}

# bg_start OUT CMD...: CMD (a function too) in the background, its output
# in OUT; sets BG_PID. bg_wait PID: its exit status, once it ended.
bg_start() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	BG_PID=$!
	lib_track_pid "$BG_PID"
}

bg_wait() {
	local rc=0
	wait "$1" || rc=$?
	lib_untrack_pid "$1"
	return "$rc"
}

# stop_pids PID...: SIGTERM to all at once, then up to 15 s for all to exit
# and SIGKILL for the rest: tearing down many daemons one by one would
# cost a fraction of a second each. 1 if any needed SIGKILL.
stop_pids() {
	local pid rc=0
	for pid in "$@"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "$@"; do
		if ! wait_for 15 pid_gone "$pid"; then
			echo "process $pid ignored SIGTERM for 15 s"
			kill -KILL "$pid" 2>/dev/null || true
			rc=1
		fi
		wait "$pid" 2>/dev/null || true
		lib_untrack_pid "$pid"
	done
	return "$rc"
}

# dump_instances NAME...: dump_diag for only these ringvpn or wireguard-go
# instances (with dozens running, all of them would bury the failure).
dump_instances() {
	local name
	for name in "$@"; do
		if [ -n "${RV_NS[$name]:-}" ]; then
			echo "--- ringvpn $name (${RV_NS[$name]}): show"
			rv_show "$name" 2>&1 || true
			echo "--- ringvpn $name: log (last 40 lines)"
			tail -n 40 "${RV_LOG[$name]}" 2>/dev/null || true
		elif [ -n "${WG_NS[$name]:-}" ]; then
			echo "--- wireguard-go $name (${WG_NS[$name]}): wg show"
			ip netns exec "${WG_NS[$name]}" wg show "$name" 2>&1 ||
				true
			echo "--- wireguard-go $name: log (last 20 lines)"
			tail -n 20 "${WG_LOG[$name]}" 2>/dev/null || true
		fi
	done
}

# mem_used_mib: memory in use on the machine (MemTotal - MemAvailable).
mem_used_mib() {
	awk '$1 == "MemTotal:" { t = $2 } $1 == "MemAvailable:" { a = $2 }
		END { print int((t - a) / 1024) }' /proc/meminfo
}

# rss_mib PID...: the resident memory of these processes together.
rss_mib() {
	local pid kib=0 v
	for pid in "$@"; do
		v=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" \
			2>/dev/null || true)
		kib=$((kib + ${v:-0}))
	done
	echo $((kib / 1024))
}
