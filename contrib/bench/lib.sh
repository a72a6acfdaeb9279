# shellcheck shell=bash
# Helpers the benchmarks that run ringvpn in network namespaces share
# (bench.sh, rx_capacity.sh); sourced by them, never run on its own:
#   - log and die (messages on stderr: stdout is the report);
#   - the processes and namespaces a script made, and their cleanup:
#     track, untrack, stop, alive, wait_for, cleanup_on_exit;
#   - make_underlay: two namespaces joined by a veth pair;
#   - ringvpn_config, ringvpn_up, rv_ready: one ringvpn daemon;
#   - task_ticks: the CPU time of each thread of a process.
#
# The caller owns TMP (its temporary directory, made before
# cleanup_on_exit) and whatever it measures; this file owns only what the
# cleanup undoes, recorded as it is made: PIDS (the processes started, in
# order), NETNS (the namespaces made) and WG_IFNAMES (interfaces whose
# wireguard-go UAPI socket is to go). Nothing else is touched.

PIDS=()
NETNS=()
WG_IFNAMES=()

log() { echo "$*" >&2; }
die() { # MESSAGE: on stderr after the script's name, then exit 1
	log "${0##*/}: $*"
	exit 1
}

# ---------------------------------------------------------------------------
# Processes, and the cleanup of what the script made

track() { PIDS+=("$1"); }
# A reaped PID may be reused by a stranger's process: forget it.
untrack() {
	local i
	for i in "${!PIDS[@]}"; do [ "${PIDS[i]}" != "$1" ] || unset "PIDS[i]"; done
	PIDS=("${PIDS[@]}")
}

alive() { kill -0 "$1" 2>/dev/null; }

# stop PID: SIGTERM (ringvpn then removes its interface), SIGKILL if it
# lingers for 3 s, and reaped.
stop() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 30); do
		alive "$1" || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

wait_for() { # TENTHS CMD...: CMD every 0.1 s until it succeeds
	local i
	for ((i = 0; i < $1; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}

# shellcheck disable=SC2317 # invoked by the traps
cleanup() {
	local i
	trap - EXIT INT TERM
	# Newest first: a load before the daemons it runs through.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop "${PIDS[i]}"; done
	for i in "${NETNS[@]}"; do ip netns del "$i" 2>/dev/null || true; done
	for i in "${WG_IFNAMES[@]}"; do rm -f "/var/run/wireguard/$i.sock"; done
	rm -rf "$TMP"
}

# cleanup_on_exit: cleanup when the script ends, however it ends.
cleanup_on_exit() {
	trap cleanup EXIT
	# The EXIT trap alone does not run when a signal kills the shell.
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ---------------------------------------------------------------------------
# Namespaces, and ringvpn in them

# make_underlay NS_A VETH_A ADDR_A NS_B VETH_B ADDR_B: two new namespaces
# (lo up) joined by a veth pair, VETH_A in NS_A with ADDR_A (ADDR/PLEN),
# VETH_B in NS_B with ADDR_B, both up.
make_underlay() {
	local ns
	for ns in "$1" "$4"; do
		ip netns add "$ns"
		NETNS+=("$ns")
		ip -n "$ns" link set lo up
	done
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# ringvpn_config KEY_FILE PORT ADDRESS MTU THREADS PEER_PUB ALLOWED_IPS
# [ENDPOINT]: the text of a config with one interface and one peer.
ringvpn_config() {
	echo "[Interface]"
	echo "PrivateKey = $(<"$1")"
	echo "ListenPort = $2"
	echo "Address = $3"
	echo "MTU = $4"
	echo "Threads = $5"
	echo
	echo "[Peer]"
	echo "PublicKey = $6"
	echo "AllowedIPs = $7"
	[ -z "${8:-}" ] || echo "Endpoint = $8"
}

# ringvpn_up BIN NS NAME: `BIN up -f $TMP/NAME.conf` in NS in the
# background (the interface is named after the file), its output in
# $TMP/NAME.log, with a run directory of its own so that it collides with
# no other instance. Sets STARTED to its PID, tracked (not printed: a
# $(...) subshell would lose the PID bookkeeping).
ringvpn_up() {
	mkdir -p "$TMP/run-$3"
	# ip netns exec and env exec: $! is ringvpn itself.
	ip netns exec "$2" env RINGVPN_RUNDIR="$TMP/run-$3" \
		"$1" up -f "$TMP/$3.conf" >"$TMP/$3.log" 2>&1 &
	STARTED=$!
	track "$STARTED"
}

# shellcheck disable=SC2317 # called through wait_for
rv_ready() { # NS NAME ADDR: the interface is up with its address
	[ -n "$(ip -n "$1" -o link show dev "$2" up 2>/dev/null)" ] &&
		ip -n "$1" -o addr show dev "$2" 2>/dev/null | grep -F " $3/" >/dev/null
}

# ---------------------------------------------------------------------------
# CPU time

# task_ticks PID: "TID<tab>TICKS<tab>COMM" for each thread of PID, TICKS
# its user + system clock ticks, in the order of /proc (builtins only: no
# fork per thread while the load runs).
task_ticks() {
	local task stat comm f
	for task in /proc/"$1"/task/*; do
		{ read -r stat <"$task/stat" && read -r comm <"$task/comm"; } \
			2>/dev/null || continue
		# Fields after "(comm)": state is field 3, utime 14, stime 15.
		read -r -a f <<<"${stat##*) }"
		printf '%s\t%s\t%s\n' "${task##*/}" $((f[11] + f[12])) "$comm"
	done
}
