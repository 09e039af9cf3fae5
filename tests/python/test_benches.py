"""The Python benchmarks still run and print what issues 4 and 5 ask of them (figures are not
checked: speed is measured by running the benchmarks, never asserted in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _run(*args: str) -> str:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_bench_http_prints_http_next_to_the_c_abi() -> None:
    out = json.loads(_run(str(BENCH / "bench_http.py"), "--quick", "--hosts", "memory", "--json"))
    row = out["results"]["memory"]
    assert row["requests"] == 500
    assert row["python_per_s"] > 0 and row["http_per_s"] > 0
    if out["c_bench"]:  # gp_bench_complete is built (bench/run.sh, or a build with GP_BUILD_BENCH=ON)
        assert row["c_abi_per_s"] > 0
        assert row["ratio"] == row["http_per_s"] / row["c_abi_per_s"]
    else:  # no C ABI figure is made up from the Python binding's
        assert "c_abi_per_s" not in row and "ratio" not in row


def test_bench_http_takes_its_c_abi_baseline_from_gp_bench_complete(tmp_path: Path) -> None:
    fake = tmp_path / "gp_bench_complete"
    fake.write_text(
        "#!/bin/sh\n"
        'echo "RESULT complete_c host=memory requests=500 clients=4 payload_bytes=16 seconds=0.005 per_s=100000 us=10"\n'
    )
    fake.chmod(0o755)
    out = _run(str(BENCH / "bench_http.py"), "--quick", "--hosts", "memory", "--c-bench", str(fake))
    rows = [line.split() for line in out.splitlines() if line.startswith("RESULT http memory ")]
    assert len(rows) == 1
    fields = dict(part.split("=", 1) for part in rows[0][3:])
    assert fields["c_abi_per_s"] == "100000" and fields["requests"] == "500"
    assert abs(float(fields["ratio"]) - float(fields["http_per_s"]) / 100000) < 1e-3


def test_bench_aio_prints_awaits_next_to_plain_futures() -> None:
    out = _run(str(BENCH / "bench_aio.py"), "200", "--repeat", "1")
    assert out.startswith("200 concurrent awaits in one event loop")
    assert "all woken" in out and "py heap/wait" in out and "RSS/wait" in out
    rows = [line for line in out.splitlines() if line.startswith(("asyncio.Future", "golem_promise.aio"))]
    assert len(rows) == 3
    for row in rows:
        assert " ms " in row and " B " in row
    # The lines bench/run.sh's summary reads.
    results: Dict[str, Dict[str, str]] = {}
    for line in out.splitlines():
        if line.startswith("RESULT aio "):
            results[line.split()[2]] = dict(part.split("=", 1) for part in line.split()[3:])
    assert set(results) == {"future", "aio-host", "aio-worker"}
    for fields in results.values():
        assert fields["n"] == "200" and fields["runs"] == "1"
        assert float(fields["woken_ms"]) > 0 and float(fields["completing_ms"]) > 0 and int(fields["threads"]) >= 1
    assert float(results["future"]["vs_future"]) == 1.0


def test_bench_replay_prints_the_file_host_ratio_issue_6_asks_for(tmp_path: Path) -> None:
    no_c_figures = tmp_path / "none.txt"
    no_c_figures.write_text("")
    out = _run(str(BENCH / "bench_replay.py"), "--quick", "--modes", "normal", "memory",
               "--dir", str(tmp_path), "--c-results", str(no_c_figures))
    results: Dict[str, Dict[str, str]] = {}
    for line in out.splitlines():
        if line.startswith("RESULT replay "):
            fields = dict(part.split("=", 1) for part in line.split()[2:])
            results[fields["mode"]] = fields
    assert set(results) == {"file-normal", "memory"}
    for fields in results.values():
        assert int(fields["calls"]) == 2000 and float(fields["ratio"]) > 0
    target = [line for line in out.splitlines() if line.startswith("issue 6 target")]
    assert len(target) == 1 and "file-normal" in target[0] and "memory" not in target[0]


def test_bench_components_prints_inside_and_python_round_trips_and_start_up() -> None:
    out = _run(str(BENCH / "bench_components.py"), "--quick")
    result = next(line for line in out.splitlines() if line.startswith("RESULT "))
    fields: Dict[str, str] = dict(kv.split("=", 1) for kv in result.split()[1:])
    for key in ("component_rt_us", "python_rt_us", "ratio", "cold_start_ms", "cached_start_ms", "text_guest_rt_us", "text_guest_generic_rt_us"):
        assert float(fields[key]) > 0, key
    assert "host_call_us" in fields and "where the rest goes" in out
    assert "from inside the component" in out and "through the Python package" in out
    assert "cold (compile)" in out and "cached (second start)" in out


def test_bench_http_wrk_runs_wrk_against_nginx_and_checks_the_stored_completions() -> None:
    out = _run(str(BENCH / "bench_http_wrk.py"), "--quick")
    assert "skipped" not in out, out  # scripts/setup-system.sh installs wrk and nginx
    results = [dict(kv.split("=", 1) for kv in line.split()[2:]) for line in out.splitlines() if line.startswith("RESULT http_wrk")]
    servers = {(r["server"], r["connections"]) for r in results}
    assert servers == {(s, c) for s in ("nginx", "memory", "file-full") for c in ("1", "4")}
    for r in results:
        assert float(r["rps"]) > 0 and float(r["cpu_us"]) > 0
        if r["server"] != "nginx":
            assert int(r["ok"]) <= int(r["stored"]) <= int(r["ok"]) + int(r["connections"])
    assert "CHECK FAILED" not in out
