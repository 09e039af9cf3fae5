#!/usr/bin/env bash
# Install test: `cmake --install` the build into a temporary prefix, then build and run
#  1. examples/consumer, a CMake project using find_package(golem_promise) and pkg-config;
#  2. a C program compiled by hand with `pkg-config --cflags --libs golem_promise`;
#  3. the same two against the static library (golem_promise::golem_promise_static, and
#     `pkg-config --static --libs`), which must not need libgolem_promise.so;
# and check that the installed library exports every function of the header and nothing else,
# and needs no HTTP, TLS or compression library at run time (ldd).
#
# usage: install_test.sh <build-dir> <source-dir> <work-dir>
# env:   CMAKE, CC, PKG_CONFIG (tools to use), GP_EXTRA_FLAGS (e.g. sanitizer flags)
set -euo pipefail

build_dir=$1
source_dir=$2
work=$3
CMAKE=${CMAKE:-cmake}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
GP_EXTRA_FLAGS=${GP_EXTRA_FLAGS:-}

fail() { echo "install_test: FAILED: $*" >&2; exit 1; }
step() { echo "install_test: $*"; }

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

step "installing $build_dir into $prefix"
"$CMAKE" --install "$build_dir" --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log" >&2; fail "cmake --install"; }

header=$prefix/include/golem_promise.h
[ -f "$header" ] || fail "no installed header at $header"
lib=$(find "$prefix" -name 'libgolem_promise.so' | head -n1)
[ -n "$lib" ] || fail "no installed libgolem_promise.so under $prefix"
libdir=$(dirname "$lib")
pc=$(find "$prefix" -name golem_promise.pc | head -n1)
[ -n "$pc" ] || fail "no installed golem_promise.pc under $prefix"
[ -n "$(find "$prefix" -name golem_promiseConfig.cmake)" ] || fail "no golem_promiseConfig.cmake"

step "checking the installed package files"
# Plain absolute paths in the .pc file (it is written at install time), the static library's
# needs listed for pkg-config --static, and the include directory exported once per target.
grep -q '/\.\./' "$pc" && fail "$pc has relative paths: $(grep -n '\.\.' "$pc")"
grep -q "^prefix=$prefix\$" "$pc" || fail "$pc does not name the prefix $prefix: $(head -3 "$pc")"
grep -q '^Requires.private: .*sqlite3' "$pc" || fail "$pc has no Requires.private for the static library"
grep -q '^Libs.private: .*-lstdc++' "$pc" || fail "$pc has no Libs.private for the static library"
targets=$(find "$prefix" -name golem_promiseTargets.cmake | head -n1)
if grep 'INTERFACE_INCLUDE_DIRECTORIES' "$targets" | grep -q ';'; then
  fail "a target lists more than one include directory: $(grep INTERFACE_INCLUDE_DIRECTORIES "$targets")"
fi

step "configuring the library alone (as the README does) prints no CMake warning"
"$CMAKE" -S "$source_dir" -B "$work/lib-configure" -DCMAKE_BUILD_TYPE=Release \
  -DGP_BUILD_TESTS=OFF -DGP_BUILD_EXAMPLES=OFF -DGP_BUILD_BENCH=OFF >"$work/lib-configure.log" 2>&1 || {
  cat "$work/lib-configure.log" >&2; fail "configuring the library alone"; }
if grep -q "CMake Warning" "$work/lib-configure.log"; then
  cat "$work/lib-configure.log" >&2; fail "configuring prints a warning"
fi

step "checking the exported symbols of $lib"
# Every GP_API function of the header is exported ...
declared=$(grep -oE 'GP_API[^;]*\b(gp_[a-z0-9_]+)\(' "$header" | grep -oE 'gp_[a-z0-9_]+\($' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWw]$/ {print $3}' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
[ -z "$missing" ] || fail "declared in the header but not exported: $(echo $missing)"
[ "$(echo "$declared" | wc -l)" -ge 30 ] || fail "found too few GP_API declarations in the header"
# ... and the library's own code exports nothing else (strong symbols outside gp_).
leaked=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' \
           | grep -vE '^(gp_|_init$|_fini$|_edata$|_end$|__bss_start$)' || true)
[ -z "$leaked" ] || fail "exported symbols outside the gp_ prefix: $(echo $leaked | head -c 2000)"

step "checking what $lib needs at run time"
# The HTTP endpoint is Boost.Beast (header-only) and decodes gzip/deflate with Beast's inflate and
# br with brotli linked in statically: an embedder gets no HTTP, TLS or compression library.
needed=$(ldd "$lib") || fail "ldd $lib"
echo "$needed"
unwanted=$(grep -iE 'httplib|libssl|libcrypto|libz\.|libbrotli' <<<"$needed" || true)
[ -z "$unwanted" ] || fail "the library links libraries it must not: $unwanted"

step "building examples/consumer with find_package against $prefix"
"$CMAKE" -S "$source_dir/examples/consumer" -B "$work/consumer-build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_C_FLAGS=$GP_EXTRA_FLAGS" "-DCMAKE_EXE_LINKER_FLAGS=$GP_EXTRA_FLAGS" \
  >"$work/consumer-configure.log" 2>&1 || {
  cat "$work/consumer-configure.log" >&2; fail "configuring the consumer"; }
"$CMAKE" --build "$work/consumer-build" >"$work/consumer-build.log" 2>&1 || {
  cat "$work/consumer-build.log" >&2; fail "building the consumer"; }

step "compiling a C program with pkg-config --cflags --libs golem_promise"
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$("$PKG_CONFIG" --cflags golem_promise) || fail "pkg-config --cflags"
libs=$("$PKG_CONFIG" --libs golem_promise) || fail "pkg-config --libs"
# shellcheck disable=SC2086
"$CC" -std=c99 -Wall -Wextra -Werror $GP_EXTRA_FLAGS $cflags \
  "$source_dir/examples/consumer/consumer.c" -o "$work/consumer_pkgconfig" $libs \
  || fail "compiling with pkg-config flags ($cflags $libs)"

step "checking the installed static library $libdir/libgolem_promise.a"
archive=$libdir/libgolem_promise.a
[ -f "$archive" ] || fail "no installed libgolem_promise.a"
in_archive=$(nm --defined-only "$archive" 2>/dev/null | awk '$2 == "T" {print $3}' | grep -E '^gp_' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$in_archive"))
[ -z "$missing" ] || fail "declared in the header but not in the archive: $(echo $missing)"

step "linking a C program statically with pkg-config --static --libs golem_promise"
# -l:libgolem_promise.a takes the archive where -lgolem_promise would take the .so; the rest of
# the line (Requires.private and Libs.private) must be all the archive needs.
static_libs=$("$PKG_CONFIG" --static --libs golem_promise) || fail "pkg-config --static --libs"
static_libs=${static_libs//-lgolem_promise/-l:libgolem_promise.a}
# shellcheck disable=SC2086
"$CC" -std=c99 -Wall -Wextra -Werror $GP_EXTRA_FLAGS $cflags \
  "$source_dir/examples/consumer/consumer.c" -o "$work/consumer_static_pkgconfig" $static_libs \
  || fail "linking statically with pkg-config flags ($cflags $static_libs)"

for exe in "$work/consumer-build/gp_consumer_static" "$work/consumer_static_pkgconfig"; do
  [ -x "$exe" ] || fail "missing $exe"
  if ldd "$exe" | grep -q golem_promise; then fail "$exe links libgolem_promise.so: $(ldd "$exe")"; fi
done

# The installed copy is what runs: the build tree's library is not on any path.
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
for exe in "$work/consumer-build/gp_consumer" "$work/consumer-build/gp_consumer_pkgconfig" \
           "$work/consumer_pkgconfig" "$work/consumer-build/gp_consumer_static" \
           "$work/consumer_static_pkgconfig"; do
  [ -x "$exe" ] || fail "missing $exe"
  step "running $exe"
  out=$("$exe") || fail "$exe exited with $?: $out"
  echo "$out"
  grep -q "^consumer: ok" <<<"$out" || fail "$exe did not report ok"
done
step "ok"
