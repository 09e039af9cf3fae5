#!/usr/bin/env python3
"""Components: host calls from inside a component against the Python package, and start-up.

In one run, on the same kind of host (in memory by default, ``--host file`` for a file with
synchronous FULL):

- **round trip from inside a component**: the probe component's ``round-trips(n)`` export runs
  ``n`` times create-promise, complete-promise, await-promise and delete-promise as host calls
  (tests/components/probe/app.py); the time per round trip, best of ``--repeats``;
- **the same calls through the Python package**: ``Worker.create_promise``, ``complete_promise``,
  ``await_promise``, ``delete_promise`` in a Python loop on a fresh worker;
- their ratio, and the cost per host call above the Python package;
- **the same round trip from a guest whose own work is negligible**: the text-format component
  tests/components/round-trips-1.1.0.wat (a loop of the four calls in WebAssembly), with the
  promise functions registered our way (components/_fastcall.py) and, for comparison, through
  the binding's generic conversion: the host's own cost per call is its time above the Python
  package's, and what the componentize-py guest adds on top is its own Python;
- **start-up**: the time from ``load_component`` to the first host call's return, cold (an
  empty compile cache: compiling) and cached (the second start), and the load alone of each.

The component is built from the repo's sources (scripts/build-component.py, cached) unless
``--component`` names a built one.  Lines starting with ``RESULT`` are machine-readable.
Skips (exit 0) when golem_promise.components or componentize-py is not available.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List, Tuple

ROOT = Path(__file__).resolve().parent.parent

try:
    from golem_promise import Host
    from golem_promise.components import load_component
    from golem_promise.components._link import GENERIC_CALLS_ENV
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"bench_components.py: skipped: golem_promise.components is not importable ({exc}).")
    sys.exit(0)


def build_probe() -> Path:
    """The probe component, built (or found in the build cache) from tests/components/probe."""
    wit = ROOT / "examples" / "components" / "wit"
    app = ROOT / "tests" / "components" / "probe"
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build-component.py"), "--wit", str(wit), "--world", "probe-world", "--app", str(app)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        print(f"bench_components.py: skipped: the probe component did not build:\n{out.stderr}")
        sys.exit(0)
    return Path(out.stdout.strip().splitlines()[-1])


def best(repeats: int, fn: Callable[[], float]) -> float:
    """The smallest of ``repeats`` timings."""
    return min([fn() for _ in range(repeats)])


def python_round_trips(host: Host, component_id: Any, n: int, name: str) -> float:
    """Seconds per create + complete + await + delete through the Python package."""
    worker = host.worker(component_id, name, live=True)
    start = time.perf_counter()
    for _ in range(n):
        pid = worker.create_promise()
        worker.complete_promise(pid, b"x")
        worker.await_promise(pid)
        worker.delete_promise(pid)
    return (time.perf_counter() - start) / n


def start_up(path: Path, host: Host, cache_dir: Path, name: str) -> Tuple[float, float]:
    """(seconds from load to the first host call's return, seconds of the load alone)."""
    start = time.perf_counter()
    component = load_component(path, cache_dir=cache_dir)
    loaded = time.perf_counter() - start
    instance = component.instantiate(host.worker(component.component_id, name, live=True))
    instance.invoke("golem:it/probe.{oplog-index}")
    first_call = time.perf_counter() - start
    instance.close()
    return first_call, loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--component", type=Path, default=None, help="a built probe component (default: build it)")
    parser.add_argument("--calls", type=int, default=2000, help="round trips per timing (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per figure; the best is kept (default 3)")
    parser.add_argument("--host", choices=["memory", "file"], default="memory", help="host kind (default memory)")
    parser.add_argument("--quick", action="store_true", help="200 calls, one repeat (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.repeats = 200, 1
    path = args.component or build_probe()

    with tempfile.TemporaryDirectory(prefix="gp-bench-components-") as tmp:
        db = ":memory:" if args.host == "memory" else os.path.join(tmp, "bench.db")
        with Host(db) as host:
            cold_cache = Path(tmp) / "cache"
            cold_first, cold_load = start_up(path, host, cold_cache, "start-cold")
            cached = [start_up(path, host, cold_cache, "start-cached") for _ in range(args.repeats)]
            cached_first, cached_load = min(c[0] for c in cached), min(c[1] for c in cached)

            component = load_component(path, cache_dir=cold_cache)
            instance = component.instantiate(host.worker(component.component_id, "inside", live=True))
            instance.invoke("golem:it/probe.{round-trips}", [10])  # warm the instance

            def inside() -> float:
                start = time.perf_counter()
                instance.invoke("golem:it/probe.{round-trips}", [args.calls])
                calls: int = args.calls
                return (time.perf_counter() - start) / calls

            runs: List[int] = [0]

            def outside() -> float:
                runs[0] += 1
                return python_round_trips(host, component.component_id, args.calls, f"python-{runs[0]}")

            python_rt = best(args.repeats, outside)
            component_rt = best(args.repeats, inside)
            instance.close()

            wat = load_component(ROOT / "tests" / "components" / "round-trips-1.1.0.wat", cache_dir=cold_cache)

            def text_guest(generic: bool, name: str) -> float:
                if generic:
                    os.environ[GENERIC_CALLS_ENV] = "1"
                try:
                    guest = wat.instantiate(host.worker(wat.component_id, name, live=True))
                finally:
                    os.environ.pop(GENERIC_CALLS_ENV, None)
                calls: int = args.calls if not generic else max(1, args.calls // 4)
                guest.invoke("golem:it/bench.{round-trips}", [10])

                def once() -> float:
                    start = time.perf_counter()
                    guest.invoke("golem:it/bench.{round-trips}", [calls])
                    return (time.perf_counter() - start) / calls

                try:
                    seconds: float = best(args.repeats, once)
                    return seconds
                finally:
                    guest.close()

            wat_rt = text_guest(False, "text-guest")
            wat_generic_rt = text_guest(True, "text-guest-generic")

    per_call_extra = (component_rt - python_rt) / 4
    print(f"host: {args.host}; {args.calls} round trips (create, complete, await, delete) per timing, best of {args.repeats}")
    print(f"  from inside the component : {component_rt * 1e6:9.1f} us per round trip")
    print(f"  through the Python package: {python_rt * 1e6:9.1f} us per round trip")
    print(f"  ratio component / Python  : {component_rt / python_rt:9.1f} x  ({per_call_extra * 1e6:.1f} us more per host call)")
    host_call = (wat_rt - python_rt) / 4
    generic_call = (wat_generic_rt - python_rt) / 4
    guest_python = (component_rt - wat_rt) / 4
    print("the same round trip from a text-format guest (its own work negligible):")
    print(f"  promise functions our way : {wat_rt * 1e6:9.1f} us per round trip: {host_call * 1e6:.1f} us per host call above the Python package")
    print(f"  binding's generic calls   : {wat_generic_rt * 1e6:9.1f} us per round trip: {generic_call * 1e6:.1f} us per host call above it")
    print(f"  where the rest goes       : of the componentize-py guest's {per_call_extra * 1e6:.1f} us per call above the Python package,")
    print(f"                              {host_call * 1e6:.1f} us are the host's (the ctypes callback, reading and writing the values)")
    print(f"                              and {guest_python * 1e6:.1f} us the guest's own Python (componentize-py's bindings, the interpreter)")
    print("start-up (load_component to the first host call's return):")
    print(f"  cold (compile)            : {cold_first * 1000:9.1f} ms  (load {cold_load * 1000:.1f} ms)")
    print(f"  cached (second start)     : {cached_first * 1000:9.1f} ms  (load {cached_load * 1000:.1f} ms)")
    print(
        f"RESULT host={args.host} component_rt_us={component_rt * 1e6:.1f} python_rt_us={python_rt * 1e6:.1f} "
        f"ratio={component_rt / python_rt:.2f} cold_start_ms={cold_first * 1000:.1f} cached_start_ms={cached_first * 1000:.1f} "
        f"cold_load_ms={cold_load * 1000:.1f} cached_load_ms={cached_load * 1000:.1f} "
        f"text_guest_rt_us={wat_rt * 1e6:.1f} text_guest_generic_rt_us={wat_generic_rt * 1e6:.1f} "
        f"host_call_us={host_call * 1e6:.1f} generic_host_call_us={generic_call * 1e6:.1f} guest_python_us={guest_python * 1e6:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
