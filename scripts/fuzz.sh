#!/usr/bin/env bash
# Runs every libFuzzer target in build-fuzz/fuzz for SECONDS each, one after another (each is
# the only thing running: nothing timed runs beside it).  New inputs go to build-fuzz/corpus/<t>
# (kept between runs); the committed seeds in fuzz/corpus/<t> are only read.  A crash or a
# broken invariant stops the run: the input is saved as build-fuzz/crash-<t>-*, and the
# command that replays it is printed.
#
# usage: fuzz.sh SECONDS [TARGET...]   (targets: ids body oplog http; default all)
set -euo pipefail
seconds=${1:?usage: fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ids body oplog http)
build=${GP_FUZZ_BUILD:-build-fuzz}

for t in "${targets[@]}"; do
  exe=$build/fuzz/fuzz_$t
  [ -x "$exe" ] || { echo "fuzz: $exe is not built (make fuzz builds it)" >&2; exit 1; }
  mkdir -p "$build/corpus/$t"
  echo "fuzz: $t for ${seconds}s"
  log=$build/fuzz-$t.log
  if ! "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/crash-$t-" "$build/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    crash=$(ls -t "$build"/crash-"$t"-* 2>/dev/null | head -n1 || true)
    echo "fuzz: $t FAILED; replay with: $exe ${crash:-<input>}" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$log" | sed "s/^/fuzz: $t: /"
done
echo "fuzz: all targets passed"
