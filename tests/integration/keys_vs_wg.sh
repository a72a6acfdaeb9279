#!/usr/bin/env bash
# genkey, genpsk and pubkey are byte-compatible with wg(8): each tool reads
# the other's keys and derives the same public keys.
set -euo pipefail
RINGVPN=${RINGVPN:-./ringvpn}
command -v wg >/dev/null || { echo "wg not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077

for i in 1 2 3 4 5; do
	"$RINGVPN" genkey >"$tmp/rk"
	wg genkey >"$tmp/wk"
	[ "$("$RINGVPN" pubkey <"$tmp/rk")" = "$(wg pubkey <"$tmp/rk")" ]
	[ "$("$RINGVPN" pubkey <"$tmp/wk")" = "$(wg pubkey <"$tmp/wk")" ]
	[ "$(wc -c <"$tmp/rk")" -eq 45 ]
	"$RINGVPN" genpsk >"$tmp/psk"
	# wg accepts our preshared key as a key.
	wg pubkey <"$tmp/psk" >/dev/null
done
# An unclamped private key: both clamp before deriving.
unclamped=$(printf '\377%.0s' $(seq 32) | base64)
[ "$(echo "$unclamped" | "$RINGVPN" pubkey)" = "$(echo "$unclamped" | wg pubkey)" ]

# Bad input: an error message and a non-zero exit, never a key.
for bad in "" "abc" "$(head -c 31 /dev/urandom | base64)" \
	   "$(head -c 33 /dev/urandom | base64)" "$(cat "$tmp/rk") extra"; do
	if out=$(printf '%s' "$bad" | "$RINGVPN" pubkey 2>"$tmp/err"); then
		echo "FAIL: pubkey accepted '$bad' -> $out"; exit 1
	fi
	grep -q "base64" "$tmp/err"
done
"$RINGVPN" genkey extra 2>/dev/null && { echo "FAIL: genkey took an argument"; exit 1; }
"$RINGVPN" --version | grep '^ringvpn ' >/dev/null
"$RINGVPN" genkey --help | grep 'Usage: ringvpn genkey' >/dev/null
echo "PASS: keys interoperate with wg"
