#!/usr/bin/env bash
# Builds the benchmarks (Release) in build-bench and runs them: the create + complete + await cycle
# through the C ABI (gp_bench_cycle) and through the Python package (bench/bench_cycle.py), each
# next to raw SQLite running the same statements, then prints a short table.
#
#   bench/run.sh            the full run (a few minutes)
#   bench/run.sh --quick    a smoke test: few cycles, figures not meaningful
#
# Environment: PYTHON (default .venv/bin/python if present, else python3) must have golem_promise
# installed for the Python part, which otherwise skips; GP_BENCH_DIR is where file hosts are
# created (default build-bench/bench-data: on the disk, not tmpfs, so fsync costs are real).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-bench"
extra=()
for arg in "$@"; do
  case "$arg" in
    --quick) extra+=(--quick) ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
data=${GP_BENCH_DIR:-$build/bench-data}

echo "== building gp_bench_cycle (Release) in $build"
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
mkdir -p "$build"
cmake -S "$root" -B "$build" ${generator[@]+"${generator[@]}"} -DCMAKE_BUILD_TYPE=Release \
  -DGP_BUILD_TESTS=OFF -DGP_BUILD_EXAMPLES=OFF -DGP_BUILD_BENCH=ON > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target gp_bench_cycle
mkdir -p "$data"

echo
echo "== C ABI: $build/bench/gp_bench_cycle"
"$build/bench/gp_bench_cycle" --dir "$data" ${extra[@]+"${extra[@]}"} | tee "$build/bench-c.txt"

echo
echo "== Python: $python bench/bench_cycle.py"
"$python" "$root/bench/bench_cycle.py" --dir "$data" --c-results "$build/bench-c.txt" \
  --c-bench "$build/bench/gp_bench_cycle" ${extra[@]+"${extra[@]}"} | tee "$build/bench-python.txt"

echo
echo "== summary: cycles/s, best of the repeats (median in parentheses)"
cat "$build/bench-c.txt" "$build/bench-python.txt" | awk '
  function field(name,   i, kv) {
    for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  function fmt(best, median) { return sprintf("%9d (%9d)", best, median) }
  BEGIN {
    host["memory"] = "memory"; host["normal"] = "file NORMAL"; host["full"] = "file FULL"
    printf "%-7s %-12s %-23s %-23s %-9s %s\n", "layer", "host", "golem-promise", "raw SQLite", "ours/raw", "target"
  }
  $1 == "RESULT" {
    layer = $2 == "c" ? "C ABI" : "Python"
    target = ""
    if ($3 == "memory" && $2 == "c") {
      target = ">= 100000/s: " (field("ours_best") >= 100000 ? "met" : "NOT met") \
               "; >= 60% raw: " (field("ratio_best") >= 0.6 ? "met" : "NOT met")
    }
    if ($3 == "memory" && $2 == "python") target = ">= 40000/s: " (field("ours_best") >= 40000 ? "met" : "NOT met")
    printf "%-7s %-12s %-23s %-23s %8.0f%% %s\n", layer, host[$3], fmt(field("ours_best"), field("ours_median")),
           fmt(field("raw_best"), field("raw_median")), 100 * field("ratio_best"), target
  }'
echo "(raw SQLite: C sqlite3 API for the C ABI rows, Python's sqlite3 module for the Python rows;"
echo " full output in $build/bench-c.txt and $build/bench-python.txt)"
