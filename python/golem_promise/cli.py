"""The ``golem-promise`` command: serve, create, complete, poll, await, delete, list, oplog, run.

Installed as a console script by ``pip install``; ``python -m golem_promise.cli`` runs it too.
Every subcommand works on one host database (``--db PATH``, default ``$GOLEM_PROMISE_DB`` or
``./golem-promise.db``).  ``create`` is the one call made as a worker (it appends a
``create-promise`` entry to the worker's oplog); every other call acts as the outside party
(host level: no oplog entries), like Golem's REST API.  docs/cli.md describes every command.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence

from ._errors import GolemPromiseError, InvalidId, NonDeterminismError, PromiseNotFound, WorkerNotFound
from ._host import Host, OplogEntry
from ._ids import PromiseId, WorkerId
from ._listing import PROMISE_STATES
from ._version import __version__
from ._server import DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, DEFAULT_THREADS, MAX_THREADS, MAX_TIMEOUT

__all__ = [
    "main",
    "build_parser",
    "DEFAULT_DB",
    "EXIT_OK",
    "EXIT_ERROR",
    "EXIT_PENDING",
    "EXIT_TIMEOUT",
    "EXIT_NOT_FOUND",
    "EXIT_INTERRUPTED",
    "EXIT_BAD_COMPONENT",
    "EXIT_BAD_INVOCATION",
    "EXIT_TRAP",
    "EXIT_BUSY",
    "EXIT_NONDETERMINISM",
]

PROG = "golem-promise"
#: Database used when neither ``--db`` nor ``$GOLEM_PROMISE_DB`` is given.
DEFAULT_DB = "golem-promise.db"
DB_ENV = "GOLEM_PROMISE_DB"
TOKEN_ENV = "GOLEM_PROMISE_TOKEN"

EXIT_OK = 0
#: Usage errors (bad arguments, malformed ids, invalid JSON) and every other failure.
EXIT_ERROR = 1
#: ``poll``: the promise is pending (nothing printed).
EXIT_PENDING = 2
#: ``await``: the timeout ran out; the promise is still pending.
EXIT_TIMEOUT = 3
#: The promise (or, for ``oplog`` and ``list --worker``, the worker) does not exist.
EXIT_NOT_FOUND = 4
#: ``run``: the component file is missing, unreadable, or not a valid component.
EXIT_BAD_COMPONENT = 5
#: ``run``: no such export, or arguments that do not fit its WIT signature.
EXIT_BAD_INVOCATION = 6
#: ``run``: the invocation trapped (an exception in the component, an unimplemented import).
EXIT_TRAP = 7
#: ``run``: the worker is running in another process (a worker runs in one place at a time).
EXIT_BUSY = 8
#: ``run``: replaying the worker's oplog, the component did not do what was recorded.
EXIT_NONDETERMINISM = 9
#: Interrupted by Ctrl-C (128 + SIGINT), except ``serve``, for which Ctrl-C is the clean stop.
EXIT_INTERRUPTED = 130

EXIT_CODES_EPILOG = f"""\
exit codes:
  {EXIT_OK}    success (complete prints true or false: both are successes)
  {EXIT_ERROR}    usage error (bad arguments, malformed id, invalid --json) or any other failure
  {EXIT_PENDING}    poll: the promise is pending (nothing printed)
  {EXIT_TIMEOUT}    await: timed out; the promise is still pending
  {EXIT_NOT_FOUND}    the promise does not exist (never created or deleted); for oplog and
       list --worker, the worker does not exist
  {EXIT_BAD_COMPONENT}    run: the component file is missing or not a valid component
  {EXIT_BAD_INVOCATION}    run: no such export, or arguments that do not fit its signature
  {EXIT_TRAP}    run: the invocation trapped (an exception in the component, an import
       golem-promise does not implement)
  {EXIT_BUSY}    run: the worker is running in another process
  {EXIT_NONDETERMINISM}    run: replaying the worker's oplog, the component diverged from the
       recording (the component changed since)
  {EXIT_INTERRUPTED}  interrupted by Ctrl-C (serve stops cleanly with 0 instead)

environment:
  {DB_ENV}   database used when --db is not given (default ./{DEFAULT_DB})
  GOLEM_PROMISE_CACHE_DIR  run: compiled-component cache (default
       $XDG_CACHE_HOME/golem-promise/components or ~/.cache/golem-promise/components)
  {TOKEN_ENV}  bearer token for serve when --token is not given
"""


class CliError(Exception):
    """A failure to report on stderr with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        """The message (without the program prefix) and the exit code."""
        super().__init__(message)
        self.message = message
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors exiting 1 (argparse's own default is 2, our "pending")."""

    def error(self, message: str) -> NoReturn:
        """Prints the usage and the message on stderr and exits with EXIT_ERROR."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


# ------------------------------------------------------------------------------ helpers


def _utf8(value: str, what: str) -> str:
    """Refuses an argument that is not valid UTF-8.

    Python hands undecodable argument bytes over as lone surrogates (PEP 383); ids, paths given
    to the library, addresses and tokens are text, and such a string would otherwise fail deep
    in the library with a TypeError.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(f"{what} {value!r} is not valid UTF-8") from None
    return value


def _database(args: argparse.Namespace) -> str:
    db: Optional[str] = getattr(args, "db", None)
    if db is None:
        db = os.environ.get(DB_ENV) or DEFAULT_DB
    if db == "":
        raise CliError("--db must not be empty")
    return _utf8(db, "database path")


def _open_host(args: argparse.Namespace, *, create: bool) -> Host:
    """Opens the database; commands that only read or act on existing promises refuse to
    create a new, empty database (a mistyped path would otherwise look like "not found")."""
    db = _database(args)
    if not create and db != ":memory:" and not os.path.exists(db):
        raise CliError(
            f"database {db!r} does not exist (give --db PATH or set {DB_ENV}; "
            f"'{PROG} create' and '{PROG} serve' create it)"
        )
    return Host(db)


def _promise_id(text: str) -> PromiseId:
    _utf8(text, "promise id")
    try:
        return PromiseId.parse(text)
    except InvalidId as e:
        raise CliError(_id_error("promise id", text, e, "UUID/WORKER_NAME/OPLOG_IDX")) from None


def _worker_id(text: str) -> WorkerId:
    _utf8(text, "worker id")
    try:
        return WorkerId.parse(text)
    except InvalidId as e:
        raise CliError(_id_error("worker id", text, e, "UUID/WORKER_NAME")) from None


def _id_error(what: str, text: str, e: InvalidId, form: str) -> str:
    message = e.message if repr(text) in e.message else f"invalid {what} {text!r}: {e.message}"
    return f"{message} (a {what} is {form})"


def _write_bytes(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, separators=(",", ":")), flush=True)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # e.g. 1e999: JSON has no infinity to send back
        raise ValueError(f"the number {text} is out of range")
    return value


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except ValueError as e:
        raise CliError(f"--json: the value is not valid JSON: {e}") from None


def _payload_json(data: bytes) -> Dict[str, Any]:
    """A completed promise as JSON: the bytes as an array (as the HTTP extension answers), and
    the text when the payload is valid UTF-8."""
    out: Dict[str, Any] = {"state": "completed", "data": list(data)}
    try:
        out["text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return out


# ------------------------------------------------------------------------------ commands


def cmd_serve(args: argparse.Namespace) -> int:
    """Serves the HTTP completion endpoint until SIGINT or SIGTERM."""
    token: Optional[str] = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if token == "":
        raise CliError("--token must not be empty (leave it out for no authentication)")
    if token is not None:
        _utf8(token, "--token")
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    # Blocked before the server's threads exist, so they inherit the mask and the signals are
    # delivered to sigwait below, in this thread, and nowhere else.
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        with _open_host(args, create=True) as host:
            with host.serve(
                args.host,
                args.port,
                token=token,
                max_body_bytes=args.max_body_bytes,
                threads=args.threads,
                request_timeout=args.request_timeout,
                idle_timeout=args.idle_timeout,
            ) as server:
                print(server.url, flush=True)
                auth = "bearer token required" if token else "no authentication"
                print(
                    f"{PROG}: serving {host.path} at {server.url} ({auth}); Ctrl-C or SIGTERM stops",
                    file=sys.stderr,
                    flush=True,
                )
                received = signal.sigwait(stop_signals)
                print(f"{PROG}: {signal.Signals(received).name} received, stopping", file=sys.stderr, flush=True)
    finally:
        # A second Ctrl-C or SIGTERM while the server was stopping asked for the same stop:
        # consume it, or unblocking would kill (or interrupt) the cleanly stopped process.
        for pending in signal.sigpending() & stop_signals:
            signal.sigwait({pending})
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    return EXIT_OK


def cmd_create(args: argparse.Namespace) -> int:
    """Creates a promise for the worker (created if needed) and prints its id."""
    wid = _worker_id(args.worker_id)
    with _open_host(args, create=True) as host:
        worker = host.worker(wid.component_id, wid.worker_name, live=True)
        print(worker.create_promise(), flush=True)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """Loads a component, invokes one export as the worker, prints the result as JSON."""
    # Imported here: only run needs wasmtime, and it takes a moment to load.
    from .components import ComponentTrap, ExportNotFound, InvalidArguments, InvalidComponent, WorkerBusy, load_component

    def progress(line: str) -> None:
        print(f"{PROG} run: {line}", file=sys.stderr, flush=True)

    path = _utf8(args.component, "component path")
    try:
        component = load_component(path, cache=not args.no_cache, cache_dir=args.cache_dir, progress=progress)
    except InvalidComponent as e:
        raise CliError(e.message, EXIT_BAD_COMPONENT) from None
    if args.list_exports:
        for name, signature in component.exports.items():
            print(f"{name}\t{signature}")
        return EXIT_OK
    if args.invoke is None:
        raise CliError("--invoke EXPORT is required (--list-exports shows the exports)")
    if args.worker is None:
        raise CliError("--worker UUID/WORKER_NAME is required")
    values = []
    for i, text in enumerate(args.args, start=1):
        try:
            values.append(json.loads(_utf8(text, f"argument {i}"), parse_constant=_reject_constant, parse_float=_finite_float))
        except ValueError as e:
            raise CliError(f"argument {i} is not valid JSON ({e}); strings are quoted: '\"text\"'", EXIT_BAD_INVOCATION) from None
    wid = _worker_id(args.worker)
    try:
        name = component.resolve_export(args.invoke)
    except ExportNotFound as e:
        raise CliError(e.message, EXIT_BAD_INVOCATION) from None
    with _open_host(args, create=True) as host:
        # In replay: the worker's recorded invocations are replayed first, and one cut off (its
        # process killed) is continued; run again with the same export and arguments, this
        # prints its result instead of starting it over.
        worker = host.worker(wid.component_id, wid.worker_name)
        try:
            instance = component.instantiate(worker)
        except WorkerBusy as e:
            raise CliError(e.message, EXIT_BUSY) from None
        try:
            result = instance.invoke(name, values, idempotency_key=args.idempotency_key)
        except InvalidArguments as e:
            raise CliError(e.message, EXIT_BAD_INVOCATION) from None
        except ComponentTrap as e:
            raise CliError(e.message, EXIT_TRAP) from None
        except NonDeterminismError as e:
            raise CliError(f"worker {wid}: {e.message}", EXIT_NONDETERMINISM) from None
        finally:
            instance.close()
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _read_payload(args: argparse.Namespace) -> bytes:
    if args.data is not None:
        text: str = args.data
        # An argument that is not valid UTF-8 arrives with its bytes as surrogates: send those bytes.
        return text.encode("utf-8", "surrogateescape")
    if args.json is not None:
        value = _parse_json(args.json)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if args.file is not None and args.file != "-":
        try:
            with open(args.file, "rb") as f:
                return f.read()
        except OSError as e:
            raise CliError(f"--file: cannot read {args.file!r}: {e.strerror or e}") from None
    if args.file is None and sys.stdin.isatty():
        raise CliError("no payload: give --data TEXT, --json VALUE or --file PATH, or pipe it on standard input")
    return sys.stdin.buffer.read()


def cmd_complete(args: argparse.Namespace) -> int:
    """Completes a promise; prints true (completed now) or false (already completed)."""
    pid = _promise_id(args.promise_id)
    payload = _read_payload(args)
    with _open_host(args, create=False) as host:
        completed = host.complete_promise(pid, payload)
    print("true" if completed else "false", flush=True)
    return EXIT_OK


def cmd_poll(args: argparse.Namespace) -> int:
    """Prints the payload of a completed promise; exit 2 (or state "pending") if pending."""
    pid = _promise_id(args.promise_id)
    with _open_host(args, create=False) as host:
        data = host.poll_promise(pid)
    if args.json:
        _print_json({"state": "pending"} if data is None else _payload_json(data))
        return EXIT_OK
    if data is None:
        return EXIT_PENDING
    _write_bytes(data)
    return EXIT_OK


def cmd_await(args: argparse.Namespace) -> int:
    """Waits for a promise and writes its payload to stdout."""
    pid = _promise_id(args.promise_id)
    timeout: Optional[float] = args.timeout
    with _open_host(args, create=False) as host:
        try:
            data = host.await_promise(pid, timeout)
        except TimeoutError:
            raise CliError(
                f"timed out after {timeout:g} s; promise {pid} is still pending", EXIT_TIMEOUT
            ) from None
    if args.json:
        _print_json(_payload_json(data))
    else:
        _write_bytes(data)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    """Deletes a promise (idempotent)."""
    pid = _promise_id(args.promise_id)
    with _open_host(args, create=False) as host:
        host.delete_promise(pid)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """Prints the host's promises, one per line."""
    wid = None if args.worker is None else _worker_id(args.worker)
    with _open_host(args, create=False) as host:
        infos = host.list_promises(wid, args.state)
    out: List[str] = []
    for info in infos:
        if args.json:
            out.append(
                json.dumps(
                    {"promise_id": str(info.promise_id), "state": info.state, "payload_len": info.payload_len},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
            )
        else:
            size = "-" if info.payload_len is None else str(info.payload_len)
            out.append(f"{info.promise_id}\t{info.state}\t{size}")
    if out:
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()
    return EXIT_OK


def _entry_json(e: OplogEntry) -> Dict[str, Any]:
    out: Dict[str, Any] = {
        "idx": e.oplog_idx,
        "kind": e.kind,
        "status": e.status,
        "promise_id": None if e.promise_id is None else str(e.promise_id),
        "result_flag": e.result_flag,
        "payload_len": e.payload_len if e.has_payload else None,
        "payload_hash": f"{e.payload_hash:016x}" if e.has_payload else None,
        "timestamp_us": e.timestamp_us,
    }
    if e.function is not None:  # a component runner's record
        out["function"] = e.function
    return out


def cmd_oplog(args: argparse.Namespace) -> int:
    """Prints the worker's oplog, one JSON object per entry."""
    wid = _worker_id(args.worker_id)
    with _open_host(args, create=False) as host:
        entries = host.oplog(wid)
    lines = [json.dumps(_entry_json(e), separators=(",", ":")) for e in entries]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    return EXIT_OK


# ------------------------------------------------------------------------------ parser


def _port(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected an integer 0..65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value}: expected 0..65535 (0 = any free port)")
    return value


def _bounded_int(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid {what} {text!r}: expected an integer {low}..{high}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"invalid {what} {value}: expected {low}..{high}")
    return value


def _max_body_bytes(text: str) -> int:
    return _bounded_int(text, "byte count", 1, 2**64 - 1)


def _threads(text: str) -> int:
    return _bounded_int(text, "thread count", 1, MAX_THREADS)


def _server_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: expected seconds, e.g. 2 or 0.5") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: expected more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return value


def _address(text: str) -> str:
    if text == "":
        raise argparse.ArgumentTypeError("the address must not be empty (127.0.0.1: local connections only)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"invalid address {text!r}: not valid UTF-8") from None
    return text


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: expected seconds, e.g. 2.5") from None
    if math.isnan(value) or value < 0:
        raise argparse.ArgumentTypeError(f"invalid timeout {text!r}: expected a non-negative number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``golem-promise`` (every level has ``--help``)."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG,
        description=(
            "Create, complete, await and inspect golem-promise promises in a host database, and\n"
            "serve Golem's REST completion endpoint over HTTP.  Promise ids are\n"
            "UUID/WORKER_NAME/OPLOG_IDX, worker ids UUID/WORKER_NAME."
        ),
        epilog=EXIT_CODES_EPILOG,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--db", metavar="PATH", default=None, help=f"host database (default: ${DB_ENV} or ./{DEFAULT_DB})"
    )
    # Subcommands accept --db too; SUPPRESS keeps a top-level --db when theirs is not given.
    common = _Parser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"host database (default: ${DB_ENV} or ./{DEFAULT_DB}); ':memory:' for a private one",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str, description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, parents=[common], help=help_text, description=description, epilog=EXIT_CODES_EPILOG, formatter_class=fmt
        )
        p.set_defaults(func=func)
        return p

    p = add(
        "serve",
        cmd_serve,
        "serve the HTTP completion endpoint",
        "Serve Golem's REST completion endpoint for the database (docs/http.md):\n"
        "  POST /v1/components/{component_id}/workers/{worker_name}/complete\n"
        '       {"oplogIdx": N, "data": [bytes]}\n'
        "The base URL is printed on stdout as the first line; Ctrl-C or SIGTERM stops the\n"
        "server cleanly (exit 0).  Creates the database if needed.",
    )
    p.add_argument("--host", type=_address, default="127.0.0.1", help="address to listen on (default 127.0.0.1: local only)")
    p.add_argument("--port", type=_port, default=0, help="TCP port (default 0: any free port; see the printed URL)")
    p.add_argument(
        "--token", default=None, help=f"require 'Authorization: Bearer TOKEN' (default ${TOKEN_ENV}; none if unset)"
    )
    p.add_argument(
        "--max-body-bytes", type=_max_body_bytes, default=None, help="largest request body (default 64 MiB + 64 KiB: any 16 MiB payload)"
    )
    p.add_argument(
        "--threads", type=_threads, default=None, help=f"most GETs of a file host's promises waiting for the store at once (default {DEFAULT_THREADS}, at most {MAX_THREADS})"
    )
    p.add_argument(
        "--request-timeout",
        type=_server_timeout,
        default=None,
        metavar="S",
        help=f"seconds from a request's first byte to its last, else 408 (default {DEFAULT_REQUEST_TIMEOUT:g})",
    )
    p.add_argument(
        "--idle-timeout",
        type=_server_timeout,
        default=None,
        metavar="S",
        help=f"seconds a keep-alive connection may wait for its next request (default {DEFAULT_IDLE_TIMEOUT:g})",
    )

    p = add(
        "create",
        cmd_create,
        "create a promise and print its id",
        "Create a pending promise as the worker WORKER_ID (created if it does not exist) and\n"
        "print its id.  Appends a create-promise entry to the worker's oplog.",
    )
    p.add_argument("worker_id", metavar="WORKER_ID", help="UUID/WORKER_NAME")

    p = add(
        "complete",
        cmd_complete,
        "complete a promise; prints true or false",
        "Complete a pending promise with a payload and print true, or false if it was already\n"
        "completed (the first payload wins).  The payload comes from exactly one of --data,\n"
        "--json, --file, or standard input when none is given.",
    )
    p.add_argument("promise_id", metavar="PROMISE_ID", help="UUID/WORKER_NAME/OPLOG_IDX")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--data", metavar="TEXT", help="the payload is TEXT, encoded as UTF-8")
    src.add_argument("--json", metavar="VALUE", help="the payload is VALUE, checked as JSON and sent as compact UTF-8 JSON")
    src.add_argument("--file", metavar="PATH", help="the payload is the bytes of PATH ('-' for standard input)")

    p = add(
        "poll",
        cmd_poll,
        "print a completed promise's payload",
        "Write the payload of a completed promise to stdout as it is (no newline added).  A\n"
        "pending promise prints nothing and exits with 2.  With --json, print one JSON object:\n"
        '{"state": "pending"} or {"state": "completed", "data": [bytes], "text": ...}\n'
        "(text only when the payload is UTF-8), and exit 0 in both states.",
    )
    p.add_argument("promise_id", metavar="PROMISE_ID", help="UUID/WORKER_NAME/OPLOG_IDX")
    p.add_argument("--json", action="store_true", help="print a JSON object with the state and payload")

    p = add(
        "await",
        cmd_await,
        "wait for a promise and print its payload",
        "Wait until the promise is completed and write its payload to stdout as it is.  With\n"
        "--timeout, give up after S seconds (exit 3, the promise stays pending).",
    )
    p.add_argument("promise_id", metavar="PROMISE_ID", help="UUID/WORKER_NAME/OPLOG_IDX")
    p.add_argument("--timeout", metavar="S", type=_timeout, default=None, help="seconds to wait (default: forever)")
    p.add_argument("--json", action="store_true", help='print {"state": "completed", "data": [...], "text": ...}')

    p = add(
        "delete",
        cmd_delete,
        "delete a promise",
        "Delete a promise, pending or completed; its waiters fail with not found.  Deleting a\n"
        "promise that does not exist succeeds (as in Golem).  Prints nothing.",
    )
    p.add_argument("promise_id", metavar="PROMISE_ID", help="UUID/WORKER_NAME/OPLOG_IDX")

    p = add(
        "list",
        cmd_list,
        "list promises",
        "Print the database's existing promises, one per line, by worker then oplog index:\n"
        "  PROMISE_ID<TAB>STATE<TAB>PAYLOAD_LEN   (PAYLOAD_LEN is '-' while pending)\n"
        'With --json, one JSON object per line: {"promise_id", "state", "payload_len"}.',
    )
    p.add_argument("--worker", metavar="WORKER_ID", default=None, help="only this worker's promises (UUID/WORKER_NAME)")
    p.add_argument("--state", choices=PROMISE_STATES, default=None, help="only promises in this state")
    p.add_argument("--json", action="store_true", help="print JSON lines")

    p = add(
        "oplog",
        cmd_oplog,
        "print a worker's oplog as JSON lines",
        "Print the worker's oplog, one JSON object per entry, index 1 first:\n"
        '  {"idx", "kind", "status", "promise_id", "result_flag", "payload_len",\n'
        '   "payload_hash", "timestamp_us"}\n'
        "kind is e.g. create-promise; status is 0 or a negative GP_E* code; promise_id is null\n"
        "for entries without a promise; payload_len and payload_hash (64-bit FNV-1a, 16 hex\n"
        "digits) are null for entries without a payload; timestamp_us is µs since the epoch.",
    )
    p.add_argument("worker_id", metavar="WORKER_ID", help="UUID/WORKER_NAME")

    p = add(
        "run",
        cmd_run,
        "invoke an export of a Golem component",
        "Load COMPONENT (a WebAssembly component importing golem:api/host, as deployed to\n"
        "Golem), invoke EXPORT as the worker WORKER_ID, and print the result as one JSON line.\n"
        "Its promise calls use the database: while it awaits, 'golem-promise complete' or\n"
        "'golem-promise serve' in another process completes the promise.  ARGS are JSON\n"
        "values typed by the export's WIT signature (docs/components.md): records as objects,\n"
        "options as value or null, results as {\"ok\": v} / {\"err\": v}, list<u8> as an\n"
        "array of numbers.  EXPORT is written as Golem's CLI does: golem:it/api.{run-approval}.\n"
        "Compiled code is cached (see GOLEM_PROMISE_CACHE_DIR); the first start compiles.",
    )
    p.add_argument("component", metavar="COMPONENT", help="the component file (.wasm, or component text .wat)")
    p.add_argument("--worker", metavar="WORKER_ID", default=None, help="UUID/WORKER_NAME the invocation runs as (created if needed)")
    p.add_argument("--invoke", metavar="EXPORT", default=None, help="the export to call, e.g. golem:it/api.{run-approval}")
    p.add_argument("args", metavar="ARGS", nargs="*", help="the export's arguments, one JSON value each")
    p.add_argument("--idempotency-key", metavar="KEY", default=None, help="run at most once per KEY and worker: an invocation already recorded with KEY prints its recorded result")
    p.add_argument("--list-exports", action="store_true", help="print each export and its WIT signature, and exit")
    p.add_argument("--no-cache", action="store_true", help="compile without reading or writing the cache")
    p.add_argument("--cache-dir", metavar="DIR", default=None, help="compiled-code cache (default $GOLEM_PROMISE_CACHE_DIR or ~/.cache/golem-promise/components)")
    return parser


def _version() -> str:
    return __version__


# ------------------------------------------------------------------------------ main


def _fail(command: Optional[str], message: str, code: int) -> int:
    where = f"{PROG} {command}" if command else PROG
    print(f"{where}: error: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line and returns the exit code (the console script exits with it)."""
    parser = build_parser()
    # run's JSON arguments may follow its options; argparse gives positionals after options
    # back as extras (bpo-14191), so they are collected here.
    args, extras = parser.parse_known_args(argv)
    if extras:
        unknown = [x for x in extras if x.startswith("--") or args.command != "run"]
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.args = list(args.args) + extras
    command: Optional[str] = args.command
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CliError as e:
        return _fail(command, e.message, e.code)
    except PromiseNotFound as e:
        return _fail(command, e.message, EXIT_NOT_FOUND)
    except WorkerNotFound as e:
        return _fail(command, e.message, EXIT_NOT_FOUND)
    except GolemPromiseError as e:
        # The library's message alone: it says what failed; the class name is for Python callers.
        return _fail(command, e.message or str(e) or "failed", EXIT_ERROR)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): silence the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as e:
        return _fail(command, str(e), EXIT_ERROR)


if __name__ == "__main__":
    sys.exit(main())
