#!/usr/bin/env bash
# Builds the benchmarks (Release) in build-bench and runs them: the create + complete + await cycle
# through the C ABI (gp_bench_cycle) and through the Python package (bench/bench_cycle.py), each
# next to raw SQLite running the same statements, then prints a short table; then the durability and
# sharing figures of issue 3 (gp_bench_durable: file hosts, FULL/NORMAL, threads and processes, wake-up
# latency, 256 MiB payloads, 10k vs 1M stored promises), each next to its limit measured in the same run;
# then replay speed (issue 6: a long oplog replayed vs the live run that wrote it) through the C ABI
# (gp_bench_replay) and through Python (bench/bench_replay.py); then asyncio (issue 5: 10,000
# concurrent golem_promise.aio awaits completed from another thread, next to as many plain
# asyncio.Futures: time to all woken, memory per wait; bench/bench_aio.py); then the HTTP endpoint
# (issue 4: completions/s over HTTP with keep-alive from Python client processes, on a memory and
# a file host, next to gp_host_complete_promise from as many C threads (gp_bench_complete) and
# Host.complete_promise from as many Python threads; bench/bench_http.py; and wrk against the endpoint
# next to nginx answering the same requests, bench/bench_http_wrk.py); then components (issue 20:
# a create + complete + await + delete round trip from inside a component next to the same calls
# through the Python package, and start-up cold and cached; bench/bench_components.py).
#
#   bench/run.sh            the full run (several minutes; the first run also populates a file of
#                           1,000,000 promises in the data directory, kept for later runs)
#   bench/run.sh --quick    a smoke test: few cycles, figures not meaningful
#   bench/run.sh --replay   only the replay benchmarks (with --quick: their smoke test)
#   bench/run.sh --aio      only the asyncio benchmark (with --quick: its smoke test; builds nothing)
#   bench/run.sh --http     only the HTTP benchmark (with --quick: its smoke test)
#   bench/run.sh --components  only the components benchmark (with --quick: its smoke test; builds nothing)
#
# Environment: PYTHON (default .venv/bin/python if present, else python3) must have golem_promise
# installed for the Python part, which otherwise skips; GP_BENCH_DIR is where file hosts are
# created (default build-bench/bench-data: on the disk, not tmpfs, so fsync costs are real).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-bench"
extra=()
replay_only=0
aio_only=0
http_only=0
components_only=0
for arg in "$@"; do
  case "$arg" in
    --quick) extra+=(--quick) ;;
    --replay) replay_only=1 ;;
    --aio) aio_only=1 ;;
    --http) http_only=1 ;;
    --components) components_only=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
data=${GP_BENCH_DIR:-$build/bench-data}
# For the summaries' awk programs: f(name) is the value of the current line's field name=value.
awk_f='function f(name,   i, kv) {
  for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  return ""
}'

aio() {
  mkdir -p "$build"
  echo
  echo "== asyncio (issue 5): $python bench/bench_aio.py"
  "$python" "$root/bench/bench_aio.py" ${extra[@]+"${extra[@]}"} | tee "$build/bench-aio.txt"
  echo
  echo "== summary: concurrent asyncio awaits completed from another thread (median run; full output in $build/bench-aio.txt)"
  awk "$awk_f"'
    BEGIN { row["future"] = "asyncio.Future"; row["aio-host"] = "aio, host-level"; row["aio-worker"] = "aio, worker" }
    $1 == "RESULT" && $2 == "aio" {
      printf "%-16s %6d awaits: all woken in %7.1f ms (%.2fx the Futures; completing took %6.1f ms), %5.0f B heap + %5.0f B RSS per wait, %d OS threads\n",
        row[$3], f("n"), f("woken_ms"), f("vs_future"), f("completing_ms"), f("heap_b"), f("rss_b"), f("threads")
    }' "$build/bench-aio.txt"
}
components() {
  mkdir -p "$build"
  echo
  echo "== components (issue 20): $python bench/bench_components.py"
  "$python" "$root/bench/bench_components.py" ${extra[@]+"${extra[@]}"} | tee "$build/bench-components.txt"
}
if [ "$components_only" = 1 ]; then
  components
  exit 0
fi

if [ "$aio_only" = 1 ]; then
  aio
  exit 0
fi

echo "== building the benchmarks (Release) in $build"
generator=()
[ -f "$build/CMakeCache.txt" ] || generator=(-G Ninja)
mkdir -p "$build"
cmake -S "$root" -B "$build" ${generator[@]+"${generator[@]}"} -DCMAKE_BUILD_TYPE=Release \
  -DGP_BUILD_TESTS=OFF -DGP_BUILD_EXAMPLES=OFF -DGP_BUILD_BENCH=ON > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
mkdir -p "$data"

http_bench() {
  echo
  echo "== HTTP endpoint (issue 4): $python bench/bench_http.py, C ABI baseline $build/bench/gp_bench_complete"
  cmake --build "$build" --target gp_bench_complete
  "$python" "$root/bench/bench_http.py" --c-bench "$build/bench/gp_bench_complete" --dir "$data" \
    ${extra[@]+"${extra[@]}"} | tee "$build/bench-http.txt"
  echo
  echo "== summary: completions/s over HTTP (keep-alive, Python client processes) next to the C ABI (full output in $build/bench-http.txt)"
  awk "$awk_f"'
    $1 == "RESULT" && $2 == "http" {
      printf "%-7s %6d completions, %d clients: C ABI %8d/s, Python %8d/s, HTTP %7d/s = %5.1f%% of the C ABI; CPU per completion: server %6.1f us, C ABI %6.1f us\n",
        $3, f("requests"), f("clients"), f("c_abi_per_s"), f("python_per_s"), f("http_per_s"), 100 * f("ratio"),
        f("server_cpu_us"), f("c_abi_cpu_us")
    }' "$build/bench-http.txt"
  echo
  echo "== HTTP endpoint under wrk next to nginx (issue 21): $python bench/bench_http_wrk.py"
  "$python" "$root/bench/bench_http_wrk.py" --dir "$data" ${extra[@]+"${extra[@]}"} | tee "$build/bench-http-wrk.txt"
}
if [ "$http_only" = 1 ]; then
  http_bench
  exit 0
fi

cmake --build "$build" --target gp_bench_cycle gp_bench_replay

replay() {
  echo
  echo "== replay (issue 6), C ABI: $build/bench/gp_bench_replay"
  "$build/bench/gp_bench_replay" --dir "$data" ${extra[@]+"${extra[@]}"} | tee "$build/bench-replay-c.txt"
  echo
  echo "== replay (issue 6), Python: $python bench/bench_replay.py"
  "$python" "$root/bench/bench_replay.py" --dir "$data" --c-results "$build/bench-replay-c.txt" \
    ${extra[@]+"${extra[@]}"} | tee "$build/bench-replay-python.txt"
  echo
  echo "== summary: replay, a long oplog replayed vs the live run that wrote it (target >= 10x on a file host)"
  cat "$build/bench-replay-c.txt" "$build/bench-replay-python.txt" | awk "$awk_f"'
    $1 == "RESULT" && ($2 == "replay_c" || $2 == "replay") && f("mode") != "floor" {
      printf "%-7s %-12s %7d calls: live %8.2f us/call, replay %5.2f us/call, ratio %7.1fx (CPU %6.1fx)%s\n",
        $2 == "replay_c" ? "C ABI" : "Python", f("mode"), f("calls"), 1e6 * f("live_s") / f("calls"),
        1e6 * f("replay_s") / f("calls"), f("ratio"), f("live_cpu_s") / f("replay_cpu_s"),
        f("mode") == "memory" ? "" : (f("ratio") >= 10 ? "  met" : "  NOT met")
    }'
}
if [ "$replay_only" = 1 ]; then
  replay
  exit 0
fi

echo
echo "== C ABI: $build/bench/gp_bench_cycle"
"$build/bench/gp_bench_cycle" --dir "$data" ${extra[@]+"${extra[@]}"} | tee "$build/bench-c.txt"
echo
echo "== C ABI, in memory, with the opt-in gp_sqlite_disable_memstatus() (process-wide)"
"$build/bench/gp_bench_cycle" --only memory --sqlite-memstatus off ${extra[@]+"${extra[@]}"} \
  | tee -a "$build/bench-c.txt" | grep -v '^STMT\|^OPEN'

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
    host["memory-tuned"] = "memory, SQLite memstatus off"
    printf "%-7s %-12s %-23s %-23s %-9s %s\n", "layer", "host", "golem-promise", "raw SQLite", "ours/raw", "target"
  }
  $1 == "RESULT" {
    layer = $2 == "c" ? "C ABI" : "Python"
    target = ""
    if (($3 == "memory" || $3 == "memory-tuned") && $2 == "c") {
      target = ">= 100000/s: " (field("ours_best") >= 100000 ? "met" : "NOT met") \
               "; >= 60% raw: " (field("ratio_best") >= 0.6 ? "met" : "NOT met")
    }
    if ($3 == "memory" && $2 == "python") target = ">= 40000/s: " (field("ours_best") >= 40000 ? "met" : "NOT met")
    printf "%-7s %-12s %-23s %-23s %8.0f%% %s\n", layer, host[$3], fmt(field("ours_best"), field("ours_median")),
           fmt(field("raw_best"), field("raw_median")), 100 * field("ratio_best"), target
  }'
echo "(raw SQLite: C sqlite3 API for the C ABI rows, Python's sqlite3 module for the Python rows;"
echo " full output in $build/bench-c.txt and $build/bench-python.txt)"

echo
echo "== durability and sharing (issue 3): $build/bench/gp_bench_durable"
cmake --build "$build" --target gp_bench_durable
"$build/bench/gp_bench_durable" --dir "$data" ${extra[@]+"${extra[@]}"} | tee "$build/bench-durable.txt"

echo
echo "== summary: durability and sharing (best / median of the repeats; full output in $build/bench-durable.txt)"
awk "$awk_f"'
  function met(ok) { return ok ? "met" : "NOT met" }
  $1 != "RESULT" || $2 != "durable" { next }
  $3 == "seq_full" {
    printf "sequential FULL completes/s: ours %d (median block %d), raw SQLite %d (%d); ours/raw %.0f%% (median of blocks); target >= 85%%: %s\n",
      f("ours_overall"), f("ours_median"), f("raw_overall"), f("raw_median"), 100 * f("ratio_median"), met(f("ratio_median") >= 0.85)
    printf "  (CPU time per completion without fsync: the core adds %.1f us; ours/raw %.0f%% wall-clock at synchronous NORMAL)\n", f("extra_us"), 100 * f("normal_ratio_median")
  }
  $3 == "concurrent" {
    printf "16 completers FULL, completes/s (median): 16 threads %d, 4 procs x 4 threads %d, 16 procs x 1 thread %d, sequential %d, raw 16 connections %d; target > sequential: %s / %s / %s\n",
      f("threads_median"), f("procs_median"), f("procs16_median"), f("seq_median"), f("raw16_median"),
      met(f("threads_median") > f("seq_median")), met(f("procs_median") > f("seq_median")), met(f("procs16_median") > f("seq_median"))
  }
  $3 == "wake" {
    printf "cross-process wake-up (NORMAL), us: p50 %d, p99 %d (pipe p50 %d, condition_variable p50 %d); idle CPU %.3f%%; targets p50 <= 200: %s, p99 <= 1000: %s, idle <= 0.5%%: %s\n",
      f("normal_p50_median"), f("normal_p99_median"), f("pipe_p50"), f("cv_p50"), f("idle_cpu_pct"),
      met(f("normal_p50_median") <= 200), met(f("normal_p99_median") <= 1000), met(f("idle_cpu_pct") <= 0.5)
  }
  $3 ~ /^payload_/ {
    printf "%d MiB payload, %s: complete %d MiB/s (raw SQLite %d, plain file %d), await %d MiB/s (raw %d, file %d); complete+await peak - base RSS %.1f MiB; target < payload + 32: %s\n",
      f("mib"), substr($3, 9), f("complete_mibs_median"), f("raw_complete_mibs_median"), f("file_write_mibs_median"),
      f("await_mibs_median"), f("raw_read_mibs_median"), f("file_read_mibs_median"), f("ca_peak_minus_base_mib"),
      met(f("ca_peak_minus_base_mib") < f("mib") + 32)
  }
  $3 == "scale" {
    n = split("create complete await poll worker_await raw_complete raw_poll", op, " ")
    line = sprintf("per-op us (median), %d vs %d stored:", f("small"), f("large")); ok = 1
    for (i = 1; i <= n; i++) {
      line = line sprintf(" %s %.1f/%.1f (%.2fx)", op[i], f(op[i] "_small_us"), f(op[i] "_large_us"), f(op[i] "_ratio"))
      if (op[i] !~ /^raw/ && f(op[i] "_ratio") > 2) ok = 0
    }
    print line "; target within 2x (ours): " met(ok)
  }' "$build/bench-durable.txt"

replay
aio
http_bench
components
