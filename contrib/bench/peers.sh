#!/usr/bin/env bash
# How a gateway with many peers comes up and what an idle peer costs (run
# as root):
#
#   bash contrib/bench/peers.sh [--peers N] [--runs R] [--ringvpn PATH]
#
# In a fresh network namespace, `ringvpn up` of a config with N peers (one
# /32 AllowedIPs each, so N routes too) and of the same config with no
# peers, R times each, interleaved. Reported: the median wall time of
# `up` (it returns once the interface, its addresses and routes are in
# place) and of `down`, the daemon's RSS after up, and (RSS(N) - RSS(0))
# / N: the memory of one idle peer beyond the fixed base. Peer keys are
# random 32-byte strings: any 32 bytes are a Curve25519 public key.
#
# Exit status: 0 when it measured, whatever the numbers.
set -euo pipefail

PEERS=10000
RUNS=3
RINGVPN=

while [ $# -gt 0 ]; do
	case $1 in
	--peers) PEERS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--ringvpn) RINGVPN=$2; shift 2 ;;
	*) sed -n '5p' "$0" | sed 's/^# *//'; exit 2 ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
RINGVPN=${RINGVPN:-$HERE/../../ringvpn}
[ -x "$RINGVPN" ] || { echo "no ringvpn binary at $RINGVPN" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=../need.sh
. "$HERE/../need.sh"
# Every command this script runs (tests/commands.sh holds it to that).
need awk base64 cat chmod date dirname env head id ip mkdir mktemp nproc \
	rm sed sleep sort tail uname || exit 1

NS=rv-bp-$$
TMP=$(mktemp -d /tmp/ringvpn-peers.XXXXXX)
cleanup() {
	local pid
	for pid in $(cat "$TMP"/run/*.pid 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	sleep 0.5
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "$TMP/run"

# write_config FILE N
write_config() {
	local file=$1 n=$2 i
	{
		echo "[Interface]"
		echo "PrivateKey = $("$RINGVPN" genkey)"
		echo "ListenPort = 51900"
		echo "Address = 10.200.0.1/16"
		echo "Threads = 2"
		for ((i = 0; i < n; i++)); do
			echo "[Peer]"
			echo "PublicKey = $(head -c 32 /dev/urandom | base64)"
			echo "AllowedIPs = 10.$((100 + i / 65536)).$((i / 256 % 256)).$((i % 256))/32"
		done
	} >"$file"
	chmod 600 "$file"
}

now_ms() { date +%s%3N; }

# measure NAME: prints "up_ms down_ms rss_kib"
measure() {
	local conf=$TMP/$1.conf t0 t1 t2 pid rss
	t0=$(now_ms)
	ip netns exec "$NS" env RINGVPN_RUNDIR="$TMP/run" "$RINGVPN" up "$conf"
	t1=$(now_ms)
	pid=$(cat "$TMP/run/$1.pid")
	sleep 1 # idle: the first stats and timer rounds are done
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	t2=$(now_ms)
	ip netns exec "$NS" env RINGVPN_RUNDIR="$TMP/run" "$RINGVPN" down "$1"
	echo "$((t1 - t0)) $(($(now_ms) - t2)) $rss"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "generating a config of $PEERS peers..." >&2
write_config "$TMP/bp0.conf" 0
write_config "$TMP/bpn.conf" "$PEERS"
: >"$TMP/r0"
: >"$TMP/rn"
for ((r = 1; r <= RUNS; r++)); do
	measure bp0 >>"$TMP/r0"
	measure bpn >>"$TMP/rn"
	echo "run $r: 0 peers: $(tail -1 "$TMP/r0"); $PEERS peers: $(tail -1 "$TMP/rn") (up ms, down ms, RSS KiB)" >&2
done

col() { awk -v c="$2" '{ print $c }' "$1" | median; }
up0=$(col "$TMP/r0" 1) upn=$(col "$TMP/rn" 1)
down0=$(col "$TMP/r0" 2) downn=$(col "$TMP/rn" 2)
rss0=$(col "$TMP/r0" 3) rssn=$(col "$TMP/rn" 3)
echo "ringvpn $("$RINGVPN" --version | awk '{ print $2 }'), $(uname -r), $(nproc) CPUs, $(date -u +%F)"
echo
echo "| peers | up (ms) | down (ms) | RSS (KiB) |"
echo "|------:|--------:|----------:|----------:|"
echo "| 0 | $up0 | $down0 | $rss0 |"
echo "| $PEERS | $upn | $downn | $rssn |"
echo
echo "idle memory per peer beyond the base: $(((rssn - rss0) * 1024 / PEERS)) bytes (medians of $RUNS runs)"
