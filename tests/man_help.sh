#!/bin/bash
# The man pages against the program, so that neither drifts alone:
#  1. both pages lint clean: groff -ww (any warning fails), and mandoc
#     -Tlint when it is installed (tests/run.sh installs it);
#  2. ringvpn.8's COMMANDS documents exactly the subcommands `ringvpn
#     --help` lists, plus the bare `ringvpn [options] INTERFACE` form when
#     --help shows it; and for each, exactly the options its --help usage
#     line shows;
#  3. ringvpn.conf.5 documents exactly the keys the parser knows, section
#     by section, and its example files parse.
# Needs no root and changes nothing: files are parsed through `ringvpn
# syncconf NAME FILE`, which reads and checks FILE before it looks for
# NAME's socket, and NAME is one no interface has.
set -uo pipefail
RINGVPN=${RINGVPN:-./ringvpn}
MAN=${srcdir:-$(dirname "$0")/..}/man
failed=0

fail() { echo "FAIL: $*"; failed=1; }
pass() { echo "PASS: $*"; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$RINGVPN" ]; then
	echo "FAIL: no ringvpn program at $RINGVPN (set RINGVPN)"
	exit 1
fi

# ---- 1. lint ---------------------------------------------------------------
lint() {
	local page=$1 name out
	name=$(basename "$page")
	if ! command -v groff >/dev/null; then
		fail "groff is not installed (groff-base): cannot lint $name"
		return
	fi
	if out=$(groff -ww -z -man "$page" 2>&1) && [ -z "$out" ]; then
		pass "$name: groff -ww is silent"
	else
		fail "$name: groff -ww: $out"
	fi
	if ! command -v mandoc >/dev/null; then
		echo "SKIP: $name: mandoc is not installed"
	elif out=$(mandoc -Tlint -Wwarning "$page" 2>&1) && [ -z "$out" ]; then
		pass "$name: mandoc -Tlint is silent"
	else
		fail "$name: mandoc -Tlint: $out"
	fi
}
lint "$MAN/ringvpn.8"
lint "$MAN/ringvpn.conf.5"

# ---- 2. ringvpn.8 COMMANDS against --help ----------------------------------
# The line after each .TP of a section of a page, with \- as -.
tp_lines() {
	awk -v sec="$2" '/^\.SH /{ f = (substr($0, 5) == sec); next }
		f && /^\.TP/ { getline; gsub(/\\-/, "-"); print }' "$1"
}
# A COMMANDS entry's subcommand: its first word; the bare form starts
# with "[" and is called INTERFACE, as in --help.
entry_name() {
	sed 's/^\.[A-Z]* *//; s/"//g' <<<"$1" |
		awk '{ print ($1 ~ /^\[/) ? "INTERFACE" : $1 }'
}
# Every -x and --word that starts a word, one a line, sorted.
options_in() {
	grep -oE -- '(^|[^A-Za-z0-9-])--?[a-z][a-z-]*' <<<"$1" |
		sed 's/^[^-]*//' | sort -u
}
words() { [ $# -gt 0 ] && echo "$*" || echo "(none)"; }

help=$("$RINGVPN" --help) || fail "ringvpn --help exited with $?"
help_cmds=$(awk '/^Available subcommands:/ { f = 1; next }
	f && !NF { exit } f { print $1 }' <<<"$help")
bare_usage=$(sed -n 's/^.*ringvpn \(\[.*INTERFACE\)$/\1/p' <<<"$help")
[ -n "$bare_usage" ] && help_cmds+=$'\nINTERFACE'
help_cmds=$(sort <<<"$help_cmds")

entries=$(tp_lines "$MAN/ringvpn.8" COMMANDS)
man_cmds=$(while IFS= read -r e; do entry_name "$e"; done <<<"$entries" |
	sort)
if [ -n "$man_cmds" ] && [ "$help_cmds" = "$man_cmds" ]; then
	pass "COMMANDS documents every subcommand: $(words $man_cmds)"
else
	fail "subcommands differ (< ringvpn --help, > ringvpn.8 COMMANDS):"
	diff <(echo "$help_cmds") <(echo "$man_cmds")
fi

while IFS= read -r entry; do
	name=$(entry_name "$entry")
	if [ "$name" = INTERFACE ]; then
		usage=$bare_usage
	else
		usage=$("$RINGVPN" "$name" --help </dev/null) ||
			fail "ringvpn $name --help exited with $?"
		usage=$(sed -n 's/^Usage: ringvpn //p' <<<"$usage")
	fi
	want=$(options_in "$usage")
	got=$(options_in "$entry")
	if [ "$want" = "$got" ]; then
		pass "$name: options agree: $(words $want)"
	else
		fail "$name: --help shows '$(words $want)'," \
			"ringvpn.8 documents '$(words $got)'"
	fi
done <<<"$entries"

# ---- 3. ringvpn.conf.5 against the parser ----------------------------------
ifname=rvman$$
if [ -e "/var/run/wireguard/$ifname.sock" ]; then
	echo "SKIP: an interface is called $ifname; config checks skipped"
	exit "$failed"
fi

# Parses a file; prints what went wrong, or nothing when it parsed.
parse() {
	local out
	chmod 600 "$1"
	out=$("$RINGVPN" syncconf "$ifname" "$1" 2>&1)
	[ "$out" = "ringvpn: syncconf: $ifname: not up" ] || echo "$out"
}

# The parser names the keys of a section when it meets an unknown one.
parser_keys() {
	printf '[%s]\nNoSuchKey = 1\n' "$1" >"$tmp/keys.conf"
	parse "$tmp/keys.conf" | sed -n 's/.*(expected one of \(.*\))$/\1/p' |
		tr -d ' ' | tr , '\n' | sort
}
# The keys of "THE [Section] SECTION": `.BI A ", " B " = " value'.
man_keys() {
	tp_lines "$MAN/ringvpn.conf.5" "THE [$1] SECTION" |
		sed 's/^\.BI //; s/ " = ".*//; s/ ", " /\n/g' | sort
}
for section in Interface Peer; do
	want=$(parser_keys "$section")
	got=$(man_keys "$section")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "[$section] keys agree: $(words $want)"
	else
		fail "[$section] keys differ (< parser, > ringvpn.conf.5):"
		diff <(echo "$want") <(echo "$got")
	fi
done

# Every .EX block that is a config file: it parses, and the same with a
# bad line added does not (so a parse really happened).
awk -v dir="$tmp" '/^\.EX/ { n++; f = 1; next } /^\.EE/ { f = 0; next }
	f { gsub(/\\-/, "-"); print > (dir "/example" n ".conf") }' \
	"$MAN/ringvpn.conf.5"
n=0
for ex in "$tmp"/example*.conf; do
	[ "$(head -n 1 "$ex")" = "[Interface]" ] || continue
	n=$((n + 1))
	name=$(basename "$ex")
	err=$(parse "$ex")
	if [ -n "$err" ]; then
		fail "ringvpn.conf.5 example $n: $err"
		continue
	fi
	echo "NoSuchKey = 1" >>"$ex"
	if parse "$ex" | grep "^ringvpn: $name:[0-9]*: unknown key" >/dev/null; then
		pass "ringvpn.conf.5 example $n parses"
	else
		fail "example $n: a bad line added went unnoticed: not parsed"
	fi
done
[ "$n" -ge 2 ] || fail "ringvpn.conf.5 has $n example files, expected 2"
exit "$failed"
