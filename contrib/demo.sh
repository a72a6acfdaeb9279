#!/usr/bin/env bash
# The README's first command: installs what is needed, builds ringvpn,
# then runs a gateway and a client in two network namespaces joined by a
# veth pair, with a LAN host in a third namespace behind the gateway. The
# client pings the gateway and the LAN host through the tunnel (IPv4 and
# IPv6) and sends 64 MiB to the LAN host with a checksum check, and the
# throughput is printed. Everything is torn down at the end, also when
# interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

PACKAGES=(build-essential autoconf automake pkg-config liburing-dev
	libsodium-dev libb2-dev libmnl-dev check iproute2 iputils-ping ncat)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "== building"
autoreconf -fi >/dev/null 2>&1
mkdir -p build && cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s ringvpn >/dev/null
R=$top/build/ringvpn

gw=rvdemo-gw-$$ cl=rvdemo-cl-$$ lan=rvdemo-lan-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for ns in "$gw" "$cl" "$lan"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "== two namespaces: $gw (gateway, 198.18.0.1) and $cl (client, 198.18.0.2)"
ip netns add "$gw"
ip netns add "$cl"
ip link add rvdg type veth peer name rvdc
ip link set rvdg netns "$gw"
ip link set rvdc netns "$cl"
ip -n "$gw" addr add 198.18.0.1/24 dev rvdg
ip -n "$cl" addr add 198.18.0.2/24 dev rvdc
for ns in "$gw" "$cl"; do ip -n "$ns" link set lo up; done
ip -n "$gw" link set rvdg up
ip -n "$cl" link set rvdc up

echo "== a LAN behind the gateway: $lan (10.100.0.2, fd00:100::2)"
ip netns add "$lan"
ip link add rvdl type veth peer name rvdlg
ip link set rvdl netns "$lan"
ip link set rvdlg netns "$gw"
ip -n "$gw" addr add 10.100.0.1/24 dev rvdlg
ip -n "$gw" addr add fd00:100::1/64 dev rvdlg nodad
ip -n "$lan" addr add 10.100.0.2/24 dev rvdl
ip -n "$lan" addr add fd00:100::2/64 dev rvdl nodad
ip -n "$lan" link set lo up
ip -n "$lan" link set rvdl up
ip -n "$gw" link set rvdlg up
ip -n "$lan" route add 10.99.0.0/24 via 10.100.0.1
ip -n "$lan" route add fd00:99::/64 via fd00:100::1
echo "   forwarding on in the gateway's namespace (the operator's choice:"
echo "   ringvpn never turns it on)"
ip netns exec "$gw" sysctl -q -w net.ipv4.ip_forward=1 \
	net.ipv6.conf.all.forwarding=1

umask 077
gk=$("$R" genkey) ck=$("$R" genkey)
gp=$(echo "$gk" | "$R" pubkey) cp=$(echo "$ck" | "$R" pubkey)
cat >"$tmp/rvgw.conf" <<CONF
[Interface]
PrivateKey = $gk
ListenPort = 51820
Address = 10.99.0.1/24, fd00:99::1/64

[Peer]
PublicKey = $cp
AllowedIPs = 10.99.0.2/32, fd00:99::2/128
CONF
cat >"$tmp/rvcl.conf" <<CONF
[Interface]
PrivateKey = $ck
Address = 10.99.0.2/24, fd00:99::2/64

[Peer]
PublicKey = $gp
AllowedIPs = 10.99.0.0/24, fd00:99::/64, 10.100.0.0/24, fd00:100::/64
Endpoint = 198.18.0.1:51820
PersistentKeepalive = 25
CONF

echo "== ringvpn up in both"
mkdir -p "$tmp/run-gw" "$tmp/run-cl"
RINGVPN_RUNDIR=$tmp/run-gw ip netns exec "$gw" "$R" up -f "$tmp/rvgw.conf" 2>"$tmp/gw.log" &
pids+=($!)
RINGVPN_RUNDIR=$tmp/run-cl ip netns exec "$cl" "$R" up -f "$tmp/rvcl.conf" 2>"$tmp/cl.log" &
pids+=($!)
for _ in $(seq 50); do
	ip -n "$cl" link show rvcl >/dev/null 2>&1 &&
		ip -n "$gw" link show rvgw >/dev/null 2>&1 && break
	sleep 0.1
done

echo "== ping the gateway and the LAN host through the tunnel"
for addr in 10.99.0.1 fd00:99::1 10.100.0.2 fd00:100::2; do
	printf '   %-12s ' "$addr"
	ip netns exec "$cl" ping -c 3 -i 0.2 -W 2 "$addr" | tail -n 1
done

echo "== 64 MiB from the client to the LAN host through the tunnel"
head -c 64M /dev/urandom >"$tmp/data"
ip netns exec "$lan" ncat -l 10.100.0.2 5201 >"$tmp/received" &
nc=$!
pids+=("$nc")
sleep 0.3
start=$(date +%s.%N)
ip netns exec "$cl" ncat --send-only 10.100.0.2 5201 <"$tmp/data"
wait "$nc"
end=$(date +%s.%N)
a=$(sha256sum <"$tmp/data" | cut -d' ' -f1)
b=$(sha256sum <"$tmp/received" | cut -d' ' -f1)
[ "$a" = "$b" ] || { echo "checksum mismatch"; exit 1; }
awk -v s="$start" -v e="$end" 'BEGIN { printf "   sha256 matches; %.0f Mbit/s (one TCP stream, ncat)\n", 64 * 8 * 1.048576 / (e - s) }'

echo "== the gateway's view: ringvpn show rvgw"
RINGVPN_RUNDIR=$tmp/run-gw ip netns exec "$gw" "$R" show rvgw
if command -v wg >/dev/null; then
	echo "== and the same through the standard tool: wg show rvgw"
	ip netns exec "$gw" wg show rvgw
fi
echo "== done; tearing down"
