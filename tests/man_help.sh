#!/bin/bash
# The man pages against the program: both pages lint clean (groff -ww,
# any warning fails), ringvpn.8's COMMANDS section documents exactly the
# subcommands `ringvpn --help` lists (plus the userspace-implementation
# form), and for each one exactly the options its --help usage shows.
# RINGVPN names the binary; the pages are found beside this script.
set -euo pipefail
RINGVPN=${RINGVPN:-./ringvpn}
MAN=$(cd "$(dirname "$0")/../man" && pwd)
failed=0

fail() { echo "FAIL: $*"; failed=1; }
pass() { echo "PASS: $*"; }

command -v groff >/dev/null || { echo "SKIP: groff not found"; exit 77; }
for page in "$MAN/ringvpn.8" "$MAN/ringvpn.conf.5"; do
	out=$(groff -ww -z -man "$page" 2>&1)
	if [ -n "$out" ]; then
		fail "groff -ww on $(basename "$page"): $out"
	else
		pass "$(basename "$page") lints clean"
	fi
done

# The header line of each .TP in COMMANDS, with \- as -.
man_entries() {
	awk '/^\.SH /{ f = ($2 == "COMMANDS") ; next }
	     f && /^\.TP/ { getline; gsub(/\\-/, "-"); print }' \
		"$MAN/ringvpn.8"
}
# First word of an entry, or INTERFACE for the bare form.
entry_name() {
	sed 's/^\.[A-Z]* *//; s/"//g' <<<"$1" | awk '{
		if ($1 ~ /^\[/) print "INTERFACE"; else print $1 }'
}
options_in() { { grep -o -- '--\?[a-z][a-z-]*' <<<"$1" || true; } | { grep '^-' || true; } | sort -u; }

help_cmds=$("$RINGVPN" --help | awk '/^Available subcommands:/ { f = 1; next }
	f && !NF { exit } f { print $1 }' | sort)
help_cmds=$(printf '%s\nINTERFACE\n' "$help_cmds" | sort)
man_cmds=$(while IFS= read -r e; do entry_name "$e"; done \
	< <(man_entries) | sort)
if [ "$help_cmds" = "$man_cmds" ]; then
	pass "COMMANDS documents every subcommand: $(echo $man_cmds)"
else
	fail "subcommands differ (< --help, > ringvpn.8):"
	diff <(echo "$help_cmds") <(echo "$man_cmds") || true
fi

while IFS= read -r entry; do
	name=$(entry_name "$entry")
	if [ "$name" = INTERFACE ]; then
		usage=$("$RINGVPN" --help </dev/null |
			sed -n 's/^ *ringvpn \(\[.*INTERFACE\)$/\1/p')
	else
		usage=$("$RINGVPN" "$name" --help </dev/null |
			sed -n 's/^Usage: ringvpn //p')
	fi
	want=$(options_in "$usage")
	got=$(options_in "$entry")
	if [ "$want" = "$got" ]; then
		pass "$name: options agree ($(echo $want))"
	else
		fail "$name: --help shows '$(echo $want)', ringvpn.8 '$(echo $got)'"
	fi
done < <(man_entries)
exit "$failed"
