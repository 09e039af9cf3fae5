# Writes tests/data/schema-v1.db with golem-promise as of a4ead3f (schema version 1).
import sys
from golem_promise import Host, ComponentId, Uuid
big = bytes((i * 7 + 3) % 256 for i in range(70 * 1024))
with Host(sys.argv[1]) as h:
    w = h.worker(ComponentId(Uuid(1, 2)), "approvals")
    p2 = w.create_promise()            # idx 2: pending forever
    p3 = w.create_promise()            # idx 3: completed by the host, small
    p4 = w.create_promise()            # idx 4: completed with 70 KiB
    p5 = w.create_promise()            # idx 5: pending, deleted by the host
    p6 = w.create_promise()            # idx 6: completed, awaited, deleted by the worker (tombstone)
    p7 = w.create_promise()            # idx 7: completed with b"", polled by the worker
    assert h.complete_promise(p3, b"small")
    assert h.complete_promise(p4, big)
    h.delete_promise(p5)
    assert h.complete_promise(p6, b"approved")
    assert w.await_promise(p6) == b"approved"   # idx 8
    w.delete_promise(p6)                          # idx 9
    assert h.complete_promise(p7, b"")
    assert w.poll_promise(p7) == b""             # idx 10
    assert w.get_oplog_index() == 11             # idx 11
    o = h.worker(ComponentId(Uuid(3, 4)), "other")
    q2 = o.create_promise()                       # other idx 2
    assert w.complete_promise(q2, b"from approvals")  # approvals idx 12
    assert o.await_promise(q2) == b"from approvals"   # other idx 3
    print(p2, p3, p4, p5, p6, p7, q2)
