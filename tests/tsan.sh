#!/bin/bash
# The workers' crypto hand-off (src/worker/share.c) under ThreadSanitizer:
# tests/unit/test_share.c's threads post, claim, finish and wake at once,
# and any data race or misordered completion is a report, which fails the
# run (halt_on_error). The rest of the daemon is covered by ASan/UBSan
# and valgrind; TSan here is for the one place where workers write
# memory another worker reads, and for the resolver thread
# (src/resolver.c, tests/unit/test_resolve.c), which shares its queue
# with the control thread. Usage: tests/tsan.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build}/tsan
mkdir -p "$out"
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -std=c11 -D_GNU_SOURCE -fsanitize=thread -g -O1 -I"$top" \
	"$top/tests/unit/test_share.c" "$top/src/worker/share.c" \
	$(pkg-config --cflags --libs check) -o "$out/test_share"
# Check forks a child per test; a report makes the child exit 66, which
# Check counts as an error.
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$out/test_share"
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -std=gnu11 -D_GNU_SOURCE -fsanitize=thread -g -O1 -I"$top" \
	"$top/tests/unit/test_resolve.c" "$top/src/resolver.c" \
	"$top/src/resolve_wait.c" "$top/src/config.c" "$top/src/prefix.c" \
	"$top/src/grow.c" "$top/src/decimal.c" "$top/crypto/keys.c" \
	"$top/src/quote.c" "$top/src/secret_buf.c" \
	$(pkg-config --cflags --libs check libsodium) -o "$out/test_resolve"
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$out/test_resolve"
