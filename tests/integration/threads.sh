#!/bin/bash
# Threads = 1, 2 and 4 (fresh ringvpn pairs, the same count on both ends):
# `ringvpn show` reports that many workers, and the tunnel carries a ping
# and a 32 MiB TCP transfer with matching SHA-256. With Threads = 4,
# FLOWS parallel TCP transfers must be read from more than one TUN queue
# on the sending side: the kernel picks a multi-queue TUN's queue by flow
# hash, so a new flow's first packets land on a queue chosen by its ports.
# FLOWS is 8, not 4: the chance that all of them hash to one of 4 queues
# is 4/4^8 (1 in 16384), where 4 flows would fail 1 run in 64.
# Needs root, ip, ping, ncat, ss; exits 77 (skip) otherwise or with
# RINGVPN_SKIP_NETNS set. RINGVPN names the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

lib_init threads
make_pair "rv-th-a-$$" "rv-th-b-$$"

T4_A=10.93.0.1
T4_B=10.93.0.2
FLOWS=8

# shellcheck disable=SC2317 # called through check
show_threads() {
	local want=$3 name threads workers rc=0
	for name in "$1" "$2"; do
		threads=$(rv_show "$name" | awk '$1 == "threads:" { print $2 }')
		workers=$(rv_show "$name" | grep -c '^ *worker ' || true)
		echo "$name: threads: ${threads:-none}, $workers worker lines"
		[ "$threads" = "$want" ] && [ "$workers" -eq "$want" ] || rc=1
	done
	return "$rc"
}

# worker_names NAME N: NAME's daemon has threads named rv-NAME-w0 to
# rv-NAME-w(N-1) (top and contrib/bench/bench.sh tell the workers apart
# by them), NAME cut so that each fits in 15 characters, "-wI" never.
# shellcheck disable=SC2317 # called through check
worker_names() {
	local name=$1 n=$2 i suffix want got rc=0
	got=$(cat "/proc/${RV_PID[$name]}/task/"*/comm)
	for ((i = 0; i < n; i++)); do
		suffix=-w$i
		want=rv-${name:0:$((12 - ${#suffix}))}$suffix
		grep -Fx -- "$want" <<<"$got" >/dev/null ||
			{ echo "no thread named $want"; rc=1; }
	done
	[ "$rc" -eq 0 ] || echo "threads: $(tr '\n' ' ' <<<"$got")"
	return "$rc"
}

# shellcheck disable=SC2317 # called through check
parallel_flows() {
	local a=$1 i rc=0 before after ids=() busy=0 deltas=
	mapfile -t before < <(rv_worker_field "$a" tun_rx)
	for ((i = 0; i < FLOWS; i++)); do
		transfer_start "$NS_A" "$NS_B" "$T4_B" $((8 << 20)) || rc=1
		ids+=("$XFER_ID")
	done
	for i in "${ids[@]}"; do
		transfer_wait "$i" || rc=1
	done
	mapfile -t after < <(rv_worker_field "$a" tun_rx)
	for i in "${!after[@]}"; do
		deltas+=" $((after[i] - ${before[i]:-0}))"
		[ $((after[i] - ${before[i]:-0})) -eq 0 ] || busy=$((busy + 1))
	done
	echo "tun_rx per worker during the flows:$deltas"
	[ "$busy" -gt 1 ] || { echo "only $busy worker read from TUN"; rc=1; }
	return "$rc"
}

run_threads() {
	local n=$1 a=rv$$a$1 b=rv$$b$1
	if ! rv_pair -u "$a" "$b" "$T4_A/24" "$T4_B/24" "Threads = $n"; then
		report FAIL "Threads = $n: daemons start"
		return 0
	fi
	check "Threads = $n: show reports $n workers on both ends" \
		show_threads "$a" "$b" "$n"
	check "Threads = $n: its workers are named rv-IFNAME-wI" \
		worker_names "$a" "$n"
	check "Threads = $n: ping A -> B" ping_ok "$NS_A" "$T4_B"
	check "Threads = $n: 32 MiB A -> B, SHA-256 matches" \
		transfer "$NS_A" "$NS_B" "$T4_B" $((32 << 20))
	if [ "$n" -eq 4 ]; then
		check "Threads = 4: $FLOWS parallel flows, SHA-256s match, $(
			)more than one worker read from TUN" parallel_flows "$a"
	fi
	check "Threads = $n: SIGTERM: both exit 0, interfaces removed" \
		stop_ringvpns "$a" "$b"
	unset "RV_NS[$a]" "RV_NS[$b]"
}

run_threads 1
run_threads 2
run_threads 4

exit "$FAILED"
