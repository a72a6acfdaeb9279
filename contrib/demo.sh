#!/usr/bin/env bash
# The README's first command (as root, on Debian 12, a minimal root or
# container too): installs the package of every command it runs
# (contrib/need.sh), builds ringvpn in build/, then, in three network
# namespaces of its own, runs a gateway, a client, and a LAN host behind
# the gateway. The client pings the gateway and the LAN host through the
# tunnel (IPv4 and IPv6), sends 64 MiB to the LAN host and compares
# checksums, and the throughput is printed, then iperf3's, and the
# gateway as `ringvpn show` and `wg show` see it. Everything it made is
# removed at the end, also when it is interrupted: only its own
# namespaces and processes.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

# shellcheck source-path=SCRIPTDIR source=need.sh
. contrib/need.sh
# Every command this script runs (tests/commands.sh holds it to that).
need autoreconf awk cat cut date dirname grep head ip iperf3 make mkdir \
	mktemp ncat nproc paste ping rm sed seq sha256sum sleep ss stat \
	sysctl wg -- "${NEED_BUILD[@]}"

echo "== 1. building build/ringvpn"
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build && cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s ringvpn >/dev/null
R=$top/build/ringvpn

# The namespaces and interfaces carry this run's pid, so nothing outside
# it is touched; the tunnel names are distinctive because their UAPI
# sockets live in the shared /var/run/wireguard.
gw=rvdemo-gw-$$ cl=rvdemo-cl-$$ lan=rvdemo-lan-$$
gwif=rvdemo-gw clif=rvdemo-cl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rvdemo.XXXXXX")
pids=()
# The traps write to fd 3, our stdout: they may run inside `run', whose
# output is redirected to a file.
exec 3>&1
cleanup() {
	trap - EXIT INT TERM
	echo "== tearing down" >&3
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	for ns in "$gw" "$cl" "$lan"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'printf "\n== interrupted\n" >&3; exit 130' INT TERM

# Runs a command in the background and waits for it, so that a signal to
# this script is handled at once rather than after the command. (<&0:
# a background command would otherwise read /dev/null, not our stdin.)
run() {
	"$@" <&0 &
	pids+=($!)
	wait $!
}

echo "== 2. namespaces: $gw (gateway), $cl (client), $lan (LAN host)"
for ns in "$gw" "$cl" "$lan"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip link add u-gw netns "$gw" type veth peer name u-cl netns "$cl"
ip link add l-gw netns "$gw" type veth peer name l-host netns "$lan"
ip -n "$gw" addr add 198.18.0.1/24 dev u-gw
ip -n "$cl" addr add 198.18.0.2/24 dev u-cl
ip -n "$gw" addr add 10.100.0.1/24 dev l-gw
ip -n "$gw" addr add fd00:100::1/64 dev l-gw nodad
ip -n "$lan" addr add 10.100.0.2/24 dev l-host
ip -n "$lan" addr add fd00:100::2/64 dev l-host nodad
ip -n "$gw" link set u-gw up
ip -n "$cl" link set u-cl up
ip -n "$gw" link set l-gw up
ip -n "$lan" link set l-host up
echo "   underlay 198.18.0.1 (gateway) <-> 198.18.0.2 (client)"
echo "   LAN 10.100.0.0/24, fd00:100::/64: gateway .1/::1, host .2/::2"
echo "   the LAN host routes the tunnel, 10.99.0.0/24 and fd00:99::/64, via .1"
ip -n "$lan" route add 10.99.0.0/24 via 10.100.0.1
ip -n "$lan" route add fd00:99::/64 via fd00:100::1
echo "   forwarding on in the gateway's namespace: the operator's choice,"
echo "   made here by the demo (ringvpn never turns it on)"
ip netns exec "$gw" sysctl -q -w net.ipv4.ip_forward=1 \
	net.ipv6.conf.all.forwarding=1

echo "== 3. keys and configs (ringvpn genkey, ringvpn pubkey)"
umask 077
gk=$("$R" genkey) ck=$("$R" genkey)
gp=$("$R" pubkey <<<"$gk") cp=$("$R" pubkey <<<"$ck")
cat >"$tmp/$gwif.conf" <<CONF
[Interface]
PrivateKey = $gk
ListenPort = 51820
Address = 10.99.0.1/24, fd00:99::1/64

[Peer]
PublicKey = $cp
AllowedIPs = 10.99.0.2/32, fd00:99::2/128
CONF
cat >"$tmp/$clif.conf" <<CONF
[Interface]
PrivateKey = $ck
Address = 10.99.0.2/24, fd00:99::2/64

[Peer]
PublicKey = $gp
Endpoint = 198.18.0.1:51820
AllowedIPs = 10.99.0.0/24, fd00:99::/64, 10.100.0.0/24, fd00:100::/64
PersistentKeepalive = 25
CONF
sed 's/^PrivateKey = .*/PrivateKey = (hidden)/; s/^/   /' "$tmp/$clif.conf"

echo "== 4. ringvpn up -f in the gateway and the client"
# RINGVPN_RUNDIR keeps the pid and journal files in $tmp, not /run/ringvpn.
up() { # namespace, interface
	mkdir -p "$tmp/run-$2"
	RINGVPN_RUNDIR=$tmp/run-$2 ip netns exec "$1" \
		"$R" up -f "$tmp/$2.conf" 2>"$tmp/$2.log" &
	pids+=($!)
}
up "$gw" "$gwif"
up "$cl" "$clif"
# The pid file appears once addresses and routes are in place.
for _ in $(seq 100); do
	[ -f "$tmp/run-$gwif/$gwif.pid" ] && [ -f "$tmp/run-$clif/$clif.pid" ] &&
		break
	sleep 0.1
done
if ! [ -f "$tmp/run-$gwif/$gwif.pid" ] ||
   ! [ -f "$tmp/run-$clif/$clif.pid" ]; then
	echo "ringvpn did not come up:"
	cat "$tmp"/*.log
	exit 1
fi

# A link-local address still in duplicate address detection delays the
# first IPv6 neighbour exchange by a second or two: wait it out.
for _ in $(seq 50); do
	t=$(for ns in "$gw" "$cl" "$lan"; do ip -n "$ns" -o addr show tentative; done)
	[ -z "$t" ] && break
	sleep 0.1
done

echo "== 5. the client pings the gateway and the LAN host through the tunnel"
for addr in 10.99.0.1 fd00:99::1 10.100.0.2 fd00:100::2; do
	printf '   %-12s ' "$addr"
	run ip netns exec "$cl" ping -q -c 3 -i 0.2 -W 2 "$addr" >"$tmp/ping"
	sed -n 's/.*transmitted, //p
		s/^rtt .* = [^/]*\/\([^/]*\)\/.*/  average rtt \1 ms/p' \
		"$tmp/ping" | paste -sd,
done

echo "== 6. 64 MiB from the client to the LAN host (10.100.0.2:5201, ncat)"
head -c 64M /dev/urandom >"$tmp/data"
ip netns exec "$lan" ncat -l 10.100.0.2 5201 >"$tmp/received" &
nc=$!
pids+=("$nc")
for _ in $(seq 50); do
	ip netns exec "$lan" ss -Hltn 'sport = 5201' | grep . >/dev/null && break
	sleep 0.1
done
start=$(date +%s.%N)
run ip netns exec "$cl" ncat --send-only 10.100.0.2 5201 <"$tmp/data"
wait "$nc"
end=$(date +%s.%N)
a=$(sha256sum <"$tmp/data" | cut -d' ' -f1)
b=$(sha256sum <"$tmp/received" | cut -d' ' -f1)
[ "$a" = "$b" ] || { echo "   sha256 differs: sent $a, received $b"; exit 1; }
echo "   sha256 of sent and received data match: $a"
awk -v s="$start" -v e="$end" -v n="$(stat -c %s "$tmp/received")" 'BEGIN {
	printf "   %d bytes in %.2f s: %.0f Mbit/s (one TCP stream)\n",
		n, e - s, n * 8 / (e - s) / 1e6 }'
echo "   and iperf3, 3 s, client -> LAN host:"
ip netns exec "$lan" iperf3 -s -1 -B 10.100.0.2 >/dev/null &
pids+=($!)
sleep 0.5
run ip netns exec "$cl" iperf3 -c 10.100.0.2 -t 3 >"$tmp/iperf3"
grep -E 'sender|receiver' "$tmp/iperf3" | sed 's/^/   /'

echo "== 7. the gateway's view: ringvpn show $gwif"
RINGVPN_RUNDIR=$tmp/run-$gwif ip netns exec "$gw" "$R" show "$gwif"
echo "== 8. the same through the standard tool: wg show $gwif"
ip netns exec "$gw" wg show "$gwif"
echo "== done"
