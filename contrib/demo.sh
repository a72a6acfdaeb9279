#!/usr/bin/env bash
# The README's first command. Until the tunnel exists it installs what is
# needed, builds ringvpn, and shows it making a key pair that wg(8) agrees
# with; it grows into the two-namespace tunnel demo.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential autoconf automake pkg-config liburing-dev
	libsodium-dev libb2-dev libmnl-dev check wireguard-tools)
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

autoreconf -fi >/dev/null 2>&1
mkdir -p build && cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s ringvpn

umask 077
priv=$(./ringvpn genkey)
pub=$(printf '%s\n' "$priv" | ./ringvpn pubkey)
echo "private key: (kept secret, $(printf %s "$priv" | wc -c) characters)"
echo "public key:  $pub"
echo "wg agrees:   $(printf '%s\n' "$priv" | wg pubkey)"
