#!/bin/bash
# Every command the project's scripts run is installed by the script a
# user starts, so none fails on a minimal Debian 12 root for want of a
# package (issue 18: the demo stopped at `sysctl`, which only procps has).
# Reads the scripts and runs nothing:
#  0. the reader (commands.awk) finds the commands of a sample script
#     that has every construct it knows;
#  1. every command in command position in every shell script under
#     tests/, contrib/ and .ci/ (not a builtin, not a function of the
#     script or of one it sources) has a package in contrib/need.sh;
#  2. each entry script's `need` names every command of the scripts it
#     runs: contrib/demo.sh its own, tests/run.sh those of the suite, the
#     benchmarks their own and those of the lib.sh they source;
#  3. every script is run by one of those entries.
# A command named only in a variable ($cc) is not seen; the entry names
# it by hand.
set -uo pipefail
top=${srcdir:-$(dirname "$0")/..}
cd "$top" || exit 1
READER=tests/commands.awk
failed=0

fail() { echo "FAIL: $*"; failed=1; }
pass() { echo "PASS: $*"; }

# shellcheck source-path=SCRIPTDIR source=../contrib/need.sh
. contrib/need.sh

# The scripts each entry runs (globs).
declare -A ENTRY=(
	[contrib/demo.sh]="contrib/demo.sh"
	[tests/run.sh]="tests/run.sh .ci/run tests/*.sh tests/integration/*.sh
		tests/fuzz/run.sh contrib/fleet/fleetlib.sh"
	[contrib/fleet/lab.sh]="contrib/fleet/lab.sh contrib/fleet/fleetlib.sh
		tests/integration/lib.sh"
	[contrib/bench/bench.sh]="contrib/bench/bench.sh contrib/bench/lib.sh"
	[contrib/bench/peers.sh]="contrib/bench/peers.sh"
	[contrib/bench/rx_capacity.sh]="contrib/bench/rx_capacity.sh
		contrib/bench/lib.sh"
)
# need.sh runs only apt's and dpkg's commands, and only where they are.
NO_ENTRY=contrib/need.sh

declare -A BUILTIN=()
for w in $(compgen -b) $(compgen -k); do
	BUILTIN[$w]=1
done

# ---- 0. the reader ---------------------------------------------------------
# Each cN is run, nothing called "no" is.
sample() {
	cat <<'SAMPLE'
ip netns exec ns timeout -s KILL 5 env A=1 c1 arg | c2 && c3 || ! c4; c5 &
x=$(c6 "$(c7)") y=`c8` c9 2>&1 >/dev/null <<<"no"
if c10; then c11; elif c12; else c13; fi
while c14; do (c15); done <"no"
case $x in a | no) c16 ;; (no) c17 ;; esac
wait_for 10 c18 no
unshare -m sh -c 'c19 no; c20' no c21 no
check "text" eval 'c22 "$no"'
cat >no <<EOF
#!/bin/sh
exec c23 "\$@"
EOF
cat <<'EOF'
$(no)
EOF
echo "PostUp = c24 %i | c25"
[[ $no == no && no ]] || diff <(c26) no
f() { c27; }
a=("$(c28)" '$(no)' no)
# no
echo 'no; no' "no $(c29)" \
	no
((no++)) && trap 'c30' EXIT
nsenter -m -t 1 c31 && command -v no && need c32 -- no
SAMPLE
}
got=$(awk -f "$READER" <(sample) |
	awk '$1 == "run" || $1 == "need" { print $3 }' |
	grep -x 'c[0-9]*\|no' | sort -u | tr '\n' ' ')
want=$(seq -f 'c%g' 32 | sort | tr '\n' ' ')
if [ "$got" = "$want" ]; then
	pass "the reader finds every command of its sample"
else
	fail "the reader finds '$got' in its sample, not '$want'"
fi

# ---- Read every script -----------------------------------------------------
mapfile -t SCRIPTS < <(find tests contrib .ci -type f | sort |
	while read -r f; do
		case $f in *.sh) echo "$f"; continue ;; esac
		head -n 1 "$f" 2>/dev/null | grep -q '^#!.*\(/\| \)\(ba\)\?sh$' &&
			echo "$f"
	done)
declare -A CALLS=() NEEDS=() FUNCS=() SOURCES=() BY_NAME=()
for f in "${SCRIPTS[@]}"; do
	BY_NAME[${f##*/}]=$f
	while read -r kind rest; do
		case $kind in
		run) CALLS[$f]+=$rest$'\n' ;;
		need) NEEDS[$f]+=" ${rest#* } " ;;
		func) FUNCS[$f]+=" $rest " ;;
		source) SOURCES[$f]+=" ${rest##*/}" ;;
		esac
	done < <(awk -f "$READER" "$f")
done

# calls FILE: "LINE COMMAND" for each command FILE runs; builtins and
# functions (its own and those of the files it sources) left out. A
# sourced name is the file beside FILE first: two folders have a lib.sh.
calls() {
	local f=$1 funcs=${FUNCS[$1]:-} s lib line w
	for s in ${SOURCES[$f]:-}; do
		lib=${f%/*}/$s
		[ -f "$lib" ] || lib=${BY_NAME[$s]:-}
		[ -z "$lib" ] || funcs+=${FUNCS[$lib]:-}
	done
	while read -r line w; do
		[ -n "$w" ] && [ -z "${BUILTIN[$w]:-}" ] &&
			[[ $funcs != *" $w "* ]] && echo "$line $w"
	done <<<"${CALLS[$f]:-}"
}

# ---- 1. every command has a package ----------------------------------------
# (and every package in the table is there for a command still used)
declare -A SEEN=()
bad=0
for f in "${SCRIPTS[@]}"; do
	while read -r line w; do
		[ -n "$w" ] || continue
		SEEN[$w]=1
		[ -z "${NEED_PACKAGE[$w]:-}" ] || continue
		fail "$f:$line: $w has no package in contrib/need.sh"
		bad=1
	done < <(calls "$f"; for w in ${NEEDS[$f]:-}; do echo "need $w"; done)
done
for w in "${!NEED_PACKAGE[@]}"; do
	[ -n "${SEEN[$w]:-}" ] && continue
	fail "contrib/need.sh lists $w, which no script runs or needs"
	bad=1
done
[ "$bad" -ne 0 ] || pass "each of the ${#SEEN[@]} commands that the" \
	"${#SCRIPTS[@]} scripts run has its package in contrib/need.sh"

# ---- 2. each entry needs what its scripts run ------------------------------
declare -A COVERED=([$NO_ENTRY]=1)
for entry in "${!ENTRY[@]}"; do
	declare -A where=()
	for f in ${ENTRY[$entry]}; do
		[ -f "$f" ] || { fail "$entry: no script $f"; continue; }
		COVERED[$f]=1
		while read -r line w; do
			[ -n "$w" ] || continue
			[[ ${NEEDS[$entry]:-} == *" $w "* ]] ||
				where[$w]=${where[$w]:-$f:$line}
		done < <(calls "$f")
	done
	if [ ${#where[@]} -eq 0 ]; then
		pass "$entry needs every command its scripts run"
	else
		fail "$entry does not need (in its call of need) what its scripts run:"
		for w in $(printf '%s\n' "${!where[@]}" | sort); do
			echo "    $w (${NEED_PACKAGE[$w]:-no package}), at ${where[$w]}"
		done
	fi
	unset where
done

# ---- 3. every script belongs to an entry -----------------------------------
for f in "${SCRIPTS[@]}"; do
	[ -n "${COVERED[$f]:-}" ] ||
		fail "$f is run by no entry script (add it to ENTRY in $0)"
done
[ "$failed" -ne 0 ] ||
	pass "every script is run by an entry that needs its commands"
exit "$failed"
