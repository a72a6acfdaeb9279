# shellcheck shell=bash
# Every command the project's scripts run, with the Debian 12 package that
# has it, and need(), which installs the packages of those that are
# missing. Sourced by contrib/demo.sh, tests/run.sh and contrib/bench/*.sh,
# each of which names every command it (and every script it runs) calls:
# a minimal Debian 12 root (debootstrap --variant=minbase, a debian:12
# container) lacks even ps and sysctl. tests/commands.sh reads the scripts
# and fails on a command missing from this table or from its entry
# script's need list, so a new command cannot come in without its package.
#
# Commands of essential packages (coreutils, grep, ...) are listed too,
# so that the check has one rule; need() skips what is already there.

declare -A NEED_PACKAGE=(
	# Essential or in every Debian root; here so the check has one rule.
	[base64]=coreutils [basename]=coreutils [cat]=coreutils
	[chmod]=coreutils [chown]=coreutils [cp]=coreutils [cut]=coreutils
	[date]=coreutils [dd]=coreutils [dirname]=coreutils [env]=coreutils
	[head]=coreutils [id]=coreutils [install]=coreutils [ln]=coreutils
	[mkdir]=coreutils [mknod]=coreutils [mktemp]=coreutils [mv]=coreutils
	[nproc]=coreutils [od]=coreutils [paste]=coreutils
	[realpath]=coreutils [rm]=coreutils [seq]=coreutils
	[sha256sum]=coreutils [sleep]=coreutils [sort]=coreutils
	[stat]=coreutils [tail]=coreutils [timeout]=coreutils
	[touch]=coreutils [tr]=coreutils [uname]=coreutils [wc]=coreutils
	[bash]=bash [sh]=dash [diff]=diffutils [find]=findutils
	[xargs]=findutils [grep]=grep [sed]=sed [awk]=mawk
	[getconf]=libc-bin [ldd]=libc-bin [mount]=mount
	[nsenter]=util-linux [setpriv]=util-linux [unshare]=util-linux
	[apt-get]=apt [dpkg-query]=dpkg

	# Not in a minimal root.
	[sysctl]=procps
	[ip]=iproute2 [ss]=iproute2
	[ping]=iputils-ping
	[ncat]=ncat
	[iperf3]=iperf3
	[nft]=nftables
	[wg]=wireguard-tools [wg-quick]=wireguard-tools
	[wireguard-go]=wireguard-go
	[bird]=bird2 [birdc]=bird2
	[valgrind]=valgrind
	[groff]=groff-base [mandoc]=mandoc
	[autoreconf]=autoconf [make]=make [pkg-config]=pkgconf
	[clang]=clang [gcc]=gcc
)

# What building ringvpn needs besides the commands the scripts run
# themselves (autoreconf, make): what configure runs (the compiler,
# pkg-config), automake (autoreconf runs it), libraries and headers.
# shellcheck disable=SC2034 # used by the scripts that source this file
NEED_BUILD=(build-essential pkgconf automake liburing-dev libsodium-dev
	libb2-dev libmnl-dev libssl-dev check)

need_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = \
		"install ok installed" ]
}

# need COMMAND... [-- PACKAGE...]: installs, in one apt-get run, the
# package of each COMMAND not on PATH and each PACKAGE (a library, say)
# not installed, and says which and why. Messages go to stderr: bench.sh's
# stdout is its report. Without root, or without apt-get, it names what
# is missing and fails.
need() {
	local cmd pkg pkgs=() missing=()
	local -A why=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		cmd=$1
		shift
		pkg=${NEED_PACKAGE[$cmd]:-}
		if [ -z "$pkg" ]; then
			echo "need: no package known for $cmd (add it to contrib/need.sh)" >&2
			return 1
		fi
		command -v "$cmd" >/dev/null && continue
		missing+=("$cmd")
		[ -n "${why[$pkg]+set}" ] || pkgs+=("$pkg")
		why[$pkg]+="${why[$pkg]:+, }$cmd"
	done
	[ $# -eq 0 ] || shift
	for pkg; do
		need_installed "$pkg" || [ -n "${why[$pkg]+set}" ] || pkgs+=("$pkg")
	done
	[ ${#pkgs[@]} -gt 0 ] || return 0

	local say=
	for pkg in "${pkgs[@]}"; do
		say+="${say:+; }$pkg${why[$pkg]:+ (for ${why[$pkg]})}"
	done
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		echo "need: missing: $say" >&2
		echo "need: run as root on Debian 12 to install them" >&2
		return 1
	fi
	echo "== installing: $say" >&2
	export DEBIAN_FRONTEND=noninteractive
	# --no-install-recommends: wireguard-tools would bring a kernel.
	apt-get update -q >&2 &&
		apt-get install -y -q --no-install-recommends "${pkgs[@]}" >&2 ||
		return 1
	for cmd in "${missing[@]}"; do
		command -v "$cmd" >/dev/null && continue
		echo "need: $cmd is still not on PATH ($PATH) after installing" \
			"${NEED_PACKAGE[$cmd]}" >&2
		return 1
	done
}
