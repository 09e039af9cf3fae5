"""Completions of a file host arrive concurrently and are committed in batches (one transaction,
one sync: ``Host::complete_many``), each still answered on its own: exactly one ``true`` per
promise, the first payload kept, an unknown promise or worker failing alone, every answer durable
when given (a new process reading the file sees it)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

from golem_promise import ComponentId, Host, PromiseId, WorkerId

from http_client import complete

COMPONENT = ComponentId.from_uuid(uuid.UUID("5a5a5a5a-0000-4000-8000-0000000000b1"))


def test_concurrent_completions_of_a_full_file_host_are_answered_one_by_one(tmp_path: Path) -> None:
    db = tmp_path / "batch.db"
    with Host(db, synchronous="full") as host, host.serve(threads=8) as server:
        w = host.worker(COMPONENT, "batched")
        pids = [w.create_promise() for _ in range(40)]
        gone = w.create_promise()
        w.delete_promise(gone)
        nobody = PromiseId(WorkerId(COMPONENT, "nobody"), 2)
        results: Dict[Tuple[int, int], Tuple[int, object]] = {}
        lock = threading.Lock()

        def run(thread: int) -> None:
            # Every thread completes every promise with its own payload: one of them wins each.
            for i, pid in enumerate(pids):
                r = complete(server.url, pid, bytes([thread, i]))
                with lock:
                    results[(thread, i)] = (r.status, r.json())
            for bad in (gone, nobody):
                r = complete(server.url, bad, b"x")
                with lock:
                    results[(thread, -1 if bad is gone else -2)] = (r.status, r.json())

        threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

        winners: List[int] = []
        for i, pid in enumerate(pids):
            answers = [results[(t, i)] for t in range(8)]
            assert sorted(a[1] for a in answers) == [False] * 7 + [True], answers  # type: ignore[type-var]
            assert all(a[0] == 200 for a in answers)
            winner = next(t for t in range(8) if results[(t, i)][1] is True)
            assert host.poll_promise(pid) == bytes([winner, i])  # the winner's payload, kept
            winners.append(winner)
        for t in range(8):
            status, body = results[(t, -1)]
            assert status == 500 and body["golemError"]["type"] == "PromiseNotFound"  # type: ignore[index]
            status, body = results[(t, -2)]
            assert status == 404 and "not found" in body["error"]  # type: ignore[index]

    # Durable: a new host on the file sees every completion with its winner's payload.
    with Host(db) as again:
        for i, pid in enumerate(pids):
            assert again.poll_promise(pid) == bytes([winners[i], i])
