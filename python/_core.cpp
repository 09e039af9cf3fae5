// golem_promise._core: a thin pybind11 layer over the public C ABI (golem_promise.h only).
//
// It translates and nothing more: ids travel as plain tuples (the pure-Python package turns them
// into dataclasses), payloads are copied into `bytes` and every gp_bytes_t is freed, the GIL is
// released around every database call, and a failing status is handed to
// golem_promise._errors.error_from_status, the one place that maps codes to exception types.
//
// Promise ids travel in their C form too: a promise id argument is the gp_promise_id_t as bytes
// (the package keeps it on each PromiseId, so passing an id costs one copy instead of a tuple
// conversion and a name check per call), and every promise id returned comes with its C form.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "golem_promise.h"

namespace py = pybind11;

namespace {

using UuidT = std::tuple<std::uint64_t, std::uint64_t>;
using WorkerIdT = std::tuple<std::uint64_t, std::uint64_t, std::string>;
// (high_bits, low_bits, worker_name, oplog_idx, c_form): see promise_to_python.
using PromiseIdT = py::tuple;
using OplogEntryT = std::tuple<std::uint64_t, std::int32_t, std::int32_t, std::int64_t,
                               PromiseIdT, bool, bool, std::uint64_t, std::uint64_t>;

/** Longest slice of one blocking C await, so Ctrl-C and close() are noticed promptly. */
constexpr std::int64_t kAwaitSliceMs = 50;

// ------------------------------------------------------------------------- errors

/** A status and the thread's last-error message, captured right after the failing call. */
struct Status {
    int code = GP_OK;
    std::string message;
};

/** Raises the Python exception for code (mapped by golem_promise._errors). */
[[noreturn]] void raise_status(int code, const std::string &message) {
    py::object errors = py::module_::import("golem_promise._errors");
    // Decoded leniently: a message is for people, and one byte of it that is not UTF-8 (a file
    // name, a C caller's input) must not turn the library's error into a UnicodeDecodeError.
    py::object text = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "backslashreplace"));
    if (!text) throw py::error_already_set();
    py::object exc = errors.attr("error_from_status")(code, text);
    PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(exc.ptr())), exc.ptr());
    throw py::error_already_set();
}

void check(const Status &s) {
    if (s.code != GP_OK) raise_status(s.code, s.message);
}

/** Runs a C call with the GIL held (for cheap calls that touch no database). */
template <class F>
void call_with_gil(F &&f) {
    const int code = f();
    if (code != GP_OK) raise_status(code, gp_last_error_message());
}

/** Runs a C call with the GIL released and captures its status and message. */
template <class F>
Status call_without_gil(F &&f) {
    Status s;
    py::gil_scoped_release release;
    s.code = f();
    if (s.code != GP_OK) s.message = gp_last_error_message();
    return s;
}

// ------------------------------------------------------------------------- ids

gp_uuid_t to_c_uuid(const UuidT &u) { return gp_uuid_t{std::get<0>(u), std::get<1>(u)}; }

gp_worker_id_t to_c_worker_id(const WorkerIdT &w) {
    const std::string &name = std::get<2>(w);
    if (name.find('\0') != std::string::npos)
        raise_status(GP_EINVAL, "invalid worker name: it contains a NUL character");
    const gp_uuid_t component{std::get<0>(w), std::get<1>(w)};
    gp_worker_id_t out{};
    call_with_gil([&] { return gp_worker_id_make(&out, &component, name.c_str()); });
    return out;
}

WorkerIdT from_c_worker_id(const gp_worker_id_t &w) {
    return WorkerIdT{w.component_id.high_bits, w.component_id.low_bits,
                     std::string(w.worker_name, strnlen(w.worker_name, sizeof w.worker_name))};
}

/** A promise id's C form: the gp_promise_id_t's bytes (padding zeroed by the caller). */
py::bytes c_form(const gp_promise_id_t &p) {
    return py::bytes(reinterpret_cast<const char *>(&p), sizeof p);
}

/** A promise id the library returned: (high_bits, low_bits, worker_name, oplog_idx, c_form). */
PromiseIdT promise_to_python(const gp_promise_id_t &p) {
    const auto &w = p.worker_id;
    return py::make_tuple(w.component_id.high_bits, w.component_id.low_bits,
                          py::str(w.worker_name, strnlen(w.worker_name, sizeof w.worker_name)),
                          p.oplog_idx, c_form(p));
}

/** A promise id argument: the C form made by promise_to_python or promise_id_make.  Bytes of
 *  any other size are a TypeError; forged bytes of the right size are checked by the library
 *  (GP_EINVAL), never trusted. */
gp_promise_id_t promise_arg(py::handle obj) {
    if (!PyBytes_Check(obj.ptr()) || PyBytes_GET_SIZE(obj.ptr()) != sizeof(gp_promise_id_t))
        throw py::type_error("promise id: expected the C form of a golem_promise.PromiseId");
    gp_promise_id_t out;
    std::memcpy(&out, PyBytes_AS_STRING(obj.ptr()), sizeof out);
    return out;
}

/** gp_promise_id_t of fields, zeroed first so equal ids have equal C forms. */
gp_promise_id_t zeroed_promise_id() {
    gp_promise_id_t out;
    std::memset(&out, 0, sizeof out);
    return out;
}

std::string c_string_arg(const std::string &text, const char *what) {
    if (text.find('\0') != std::string::npos)
        raise_status(GP_EINVAL, std::string("invalid ") + what + ": it contains a NUL character");
    return text;
}

// ------------------------------------------------------------------------- payloads

/** Owns a gp_bytes_t returned by the library and always frees it. */
struct OwnedBytes {
    gp_bytes_t b{nullptr, 0};
    OwnedBytes() = default;
    OwnedBytes(const OwnedBytes &) = delete;
    OwnedBytes &operator=(const OwnedBytes &) = delete;
    ~OwnedBytes() { gp_bytes_free(&b); }

    /** A copy of the payload as a Python bytes object (GIL must be held). */
    py::bytes to_python() const {
        if (b.len > static_cast<std::size_t>(PY_SSIZE_T_MAX)) throw std::bad_alloc();
        PyObject *obj = PyBytes_FromStringAndSize(
            b.data != nullptr ? reinterpret_cast<const char *>(b.data) : "",
            static_cast<Py_ssize_t>(b.len));
        if (obj == nullptr) throw py::error_already_set();
        return py::reinterpret_steal<py::bytes>(obj);
    }
};

/** A read-only view of any C-contiguous bytes-like object (bytes, bytearray, memoryview).
 *  Other buffer exporters are copied once into bytes; str and non-buffers raise TypeError. */
class InputBuffer {
public:
    explicit InputBuffer(py::handle obj) {
        if (PyUnicode_Check(obj.ptr()))
            throw py::type_error("payload must be bytes-like (bytes, bytearray, memoryview), not str");
        if (PyObject_GetBuffer(obj.ptr(), &view_, PyBUF_SIMPLE) == 0) {
            held_ = true;
            return;
        }
        if (!PyObject_CheckBuffer(obj.ptr())) throw py::error_already_set();
        PyErr_Clear();  // a non-contiguous buffer: copy it into bytes once
        copy_ = py::reinterpret_steal<py::object>(PyBytes_FromObject(obj.ptr()));
        if (!copy_) throw py::error_already_set();
        if (PyObject_GetBuffer(copy_.ptr(), &view_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
        held_ = true;
    }
    InputBuffer(const InputBuffer &) = delete;
    InputBuffer &operator=(const InputBuffer &) = delete;
    ~InputBuffer() {
        if (held_) PyBuffer_Release(&view_);
    }
    const std::uint8_t *data() const { return static_cast<const std::uint8_t *>(view_.buf); }
    std::size_t size() const { return static_cast<std::size_t>(view_.len); }

private:
    Py_buffer view_{};
    bool held_ = false;
    py::object copy_;
};

// ------------------------------------------------------------------------- handles

/**
 * Shared lifetime rule for Host and Worker: close() must not race with calls on the same handle
 * (the C ABI forbids it), so each call counts itself in `active` while the GIL is released and
 * close() defers the C close to the last call leaving.  The counters are only touched with the
 * GIL held.
 */
template <class Handle, void (*CloseFn)(Handle **)>
class Guarded {
public:
    Guarded() = default;
    Guarded(const Guarded &) = delete;
    Guarded &operator=(const Guarded &) = delete;
    ~Guarded() { CloseFn(&handle_); }

    void close() {
        closing_ = true;
        if (active_ == 0) release();
    }
    bool closed() const { return closing_ || handle_ == nullptr; }
    bool closing() const { return closing_; }

    /** Marks one call in progress for its lifetime; raises ValueError on a closed handle. */
    class Use {
    public:
        Use(Guarded &g, const char *what) : g_(g) {
            if (g.closed()) throw py::value_error(std::string("operation on a closed ") + what);
            ++g_.active_;
        }
        ~Use() {
            if (--g_.active_ == 0 && g_.closing_) g_.release();
        }
        Use(const Use &) = delete;
        Use &operator=(const Use &) = delete;
        Handle *get() const { return g_.handle_; }

    private:
        Guarded &g_;
    };

protected:
    Handle *handle_ = nullptr;

private:
    void release() {
        Handle *h = handle_;
        handle_ = nullptr;
        py::gil_scoped_release release;
        CloseFn(&h);
    }
    int active_ = 0;
    bool closing_ = false;
};

/** The await loop shared by hosts, workers and promise handles: waits in slices of at most
 *  kAwaitSliceMs with the GIL released, checking for signals (Ctrl-C) and close() between
 *  slices.  `op` names the waiting call in the TimeoutError's message. */
template <class G, class AwaitFn>
py::bytes await_in_slices(G &guard, const char *what, const char *op, AwaitFn await_fn,
                          std::optional<double> timeout) {
    using clock = std::chrono::steady_clock;
    bool forever = !timeout.has_value();
    clock::time_point deadline{};
    if (timeout) {
        if (std::isnan(*timeout) || *timeout < 0)
            throw py::value_error("timeout must be a non-negative number of seconds, or None");
        // Beyond ~100 years is "forever" (and would overflow the clock).
        if (*timeout > 3.2e9) {
            forever = true;
        } else {
            deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                          std::chrono::duration<double>(*timeout));
        }
    }
    for (;;) {
        std::int64_t slice = kAwaitSliceMs;
        if (!forever) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
            slice = std::clamp<std::int64_t>(left.count(), 0, kAwaitSliceMs);
        }
        OwnedBytes out;
        Status s;
        {
            typename G::Use use(guard, what);
            s = call_without_gil([&] { return await_fn(&out.b, use.get(), slice); });
        }
        if (s.code == GP_OK) return out.to_python();
        if (s.code != GP_ETIMEOUT) raise_status(s.code, s.message);
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (guard.closing())
            throw py::value_error(std::string("the ") + what + " was closed while awaiting");
        if (!forever && clock::now() >= deadline) {
            std::ostringstream text;
            text << op << " timed out after " << *timeout << " s; the promise is still pending";
            raise_status(GP_ETIMEOUT, text.str());
        }
    }
}

OplogEntryT from_c_entry(const gp_oplog_entry_t &e) {
    return OplogEntryT{e.oplog_idx,     e.kind,           e.status,
                       e.timestamp_us,  promise_to_python(e.promise_id),
                       e.has_payload != 0, e.result_flag != 0,
                       e.payload_len,   e.payload_hash};
}

class Worker : public Guarded<gp_worker, gp_worker_close> {
public:
    explicit Worker(gp_worker *w) { handle_ = w; }

    WorkerIdT worker_id() {
        Use use(*this, "worker");
        gp_worker_id_t out{};
        call_with_gil([&] { return gp_worker_get_id(&out, use.get()); });
        return from_c_worker_id(out);
    }

    /** (oplog_idx, c_form): the id is this worker's, whose fields the caller has. */
    py::tuple create_promise() {
        Use use(*this, "worker");
        gp_promise_id_t out = zeroed_promise_id();
        check(call_without_gil([&] { return gp_worker_create_promise(&out, use.get()); }));
        return py::make_tuple(out.oplog_idx, c_form(out));
    }

    bool complete_promise(py::handle pid, py::handle data) {
        const gp_promise_id_t id = promise_arg(pid);
        InputBuffer buf(data);
        Use use(*this, "worker");
        int completed = 0;
        check(call_without_gil([&] {
            return gp_worker_complete_promise(&completed, use.get(), &id, buf.data(), buf.size());
        }));
        return completed != 0;
    }

    std::optional<py::bytes> poll_promise(py::handle pid) {
        const gp_promise_id_t id = promise_arg(pid);
        Use use(*this, "worker");
        OwnedBytes out;
        int ready = 0;
        check(call_without_gil([&] { return gp_worker_poll_promise(&out.b, &ready, use.get(), &id); }));
        if (ready == 0) return std::nullopt;
        return out.to_python();
    }

    py::bytes await_promise(py::handle pid, std::optional<double> timeout) {
        const gp_promise_id_t id = promise_arg(pid);
        return await_in_slices(
            *this, "worker", "await_promise",
            [&id](gp_bytes_t *out, gp_worker *w, std::int64_t ms) {
                return gp_worker_await_promise(out, w, &id, ms);
            },
            timeout);
    }

    void delete_promise(py::handle pid) {
        const gp_promise_id_t id = promise_arg(pid);
        Use use(*this, "worker");
        check(call_without_gil([&] { return gp_worker_delete_promise(use.get(), &id); }));
    }

    std::uint64_t get_oplog_index() {
        Use use(*this, "worker");
        std::uint64_t out = 0;
        check(call_without_gil([&] { return gp_worker_get_oplog_index(&out, use.get()); }));
        return out;
    }

    /** gp_worker_replay_call: (oplog index, recorded bytes) while replaying, None when live. */
    std::optional<std::pair<std::uint64_t, py::bytes>> replay_call(std::int32_t kind, const std::string &function,
                                                                   py::handle data) {
        InputBuffer buf(data);
        Use use(*this, "worker");
        OwnedBytes out;
        int replayed = 0;
        std::uint64_t idx = 0;
        check(call_without_gil([&] {
            return gp_worker_replay_call(&out.b, &replayed, &idx, use.get(), kind, function.c_str(), buf.data(),
                                         buf.size());
        }));
        if (replayed == 0) return std::nullopt;
        return std::make_pair(idx, out.to_python());
    }

    /** gp_worker_record_call: the new entry's index. */
    std::uint64_t record_call(std::int32_t kind, const std::string &function, py::handle data) {
        InputBuffer buf(data);
        Use use(*this, "worker");
        std::uint64_t idx = 0;
        check(call_without_gil([&] {
            return gp_worker_record_call(&idx, use.get(), kind, function.c_str(), buf.data(), buf.size());
        }));
        return idx;
    }

    // Durable execution (replay).
    void restart() {
        Use use(*this, "worker");
        check(call_without_gil([&] { return gp_worker_restart(use.get()); }));
    }

    bool is_replaying() {
        Use use(*this, "worker");
        int out = 0;
        check(call_without_gil([&] { return gp_worker_is_replaying(&out, use.get()); }));
        return out != 0;
    }

    std::uint64_t oplog_position() {
        Use use(*this, "worker");
        std::uint64_t out = 0;
        check(call_without_gil([&] { return gp_worker_oplog_position(&out, use.get()); }));
        return out;
    }
};

/**
 * A gp_server handle (the HTTP completion endpoint).  Port and URL are read once at start, so
 * stop() is the only call that touches the C handle after construction; it runs with the GIL
 * released because it joins the server's threads (up to ~2 s for an idle keep-alive connection).
 */
class Server {
public:
    /** Takes ownership of a started server (stopped again if its port or URL cannot be read). */
    explicit Server(gp_server *s) : handle_(s) {
        char buf[GP_SERVER_URL_SIZE] = {};
        int rc = gp_server_port(&port_, handle_);
        if (rc == GP_OK) rc = gp_server_url(buf, sizeof buf, handle_);
        if (rc != GP_OK) {
            const std::string message = gp_last_error_message();
            stop();
            raise_status(rc, message);
        }
        url_ = buf;
    }
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;
    ~Server() { stop(); }

    std::uint16_t port() const { return port_; }
    const std::string &url() const { return url_; }
    bool stopped() const { return handle_ == nullptr; }

    /** gp_server_stop; idempotent. */
    void stop() {
        gp_server *s = handle_;
        handle_ = nullptr;
        if (s == nullptr) return;
        py::gil_scoped_release release;
        gp_server_stop(&s);
    }

private:
    gp_server *handle_ = nullptr;
    std::uint16_t port_ = 0;
    std::string url_;
};

/**
 * A gp_promise handle (Golem 1.3+ get-promise): host-level checks that record nothing.  The
 * handle keeps the C host alive, so it (and the host's change-feed fd) outlives Host.close().
 */
class Promise : public Guarded<gp_promise, gp_promise_close> {
public:
    explicit Promise(gp_promise *p) { handle_ = p; }

    std::optional<py::bytes> get() {
        Use use(*this, "promise handle");
        OwnedBytes out;
        int ready = 0;
        check(call_without_gil([&] { return gp_promise_get(&out.b, &ready, use.get()); }));
        if (ready == 0) return std::nullopt;
        return out.to_python();
    }

    std::int32_t state() {
        Use use(*this, "promise handle");
        std::int32_t out = GP_PROMISE_PENDING;
        check(call_without_gil([&] { return gp_promise_state(&out, use.get()); }));
        return out;
    }

    bool ready() {
        Use use(*this, "promise handle");
        int out = 0;
        check(call_without_gil([&] { return gp_promise_ready(&out, use.get()); }));
        return out != 0;
    }

    void block(std::optional<double> timeout) {
        await_in_slices(
            *this, "promise handle", "Pollable.block",
            [](gp_bytes_t *, gp_promise *p, std::int64_t ms) { return gp_promise_block(p, ms); },
            timeout);
    }
};

using PollManyItemT = std::tuple<std::size_t, std::int32_t, std::optional<py::bytes>>;

/** gp_promise_poll_many in one GIL-free call: (index, state, payload) of every handle that is
 *  no longer pending (pending ones are left out, so an idle check builds nothing). */
std::vector<PollManyItemT> promise_poll_many(const std::vector<Promise *> &promises) {
    const std::size_t n = promises.size();
    std::deque<Promise::Use> uses;
    std::vector<gp_promise *> handles(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (promises[i] == nullptr) throw py::type_error("promise_poll_many: None is not a Promise");
        handles[i] = uses.emplace_back(*promises[i], "promise handle").get();
    }
    std::vector<std::int32_t> states(n, GP_PROMISE_PENDING);
    std::vector<gp_bytes_t> payloads(n, gp_bytes_t{nullptr, 0});
    const Status s = call_without_gil(
        [&] { return gp_promise_poll_many(states.data(), payloads.data(), handles.data(), n); });
    std::vector<PollManyItemT> result;
    try {
        check(s);
        for (std::size_t i = 0; i < n; ++i) {
            if (states[i] == GP_PROMISE_PENDING) continue;
            OwnedBytes owned;
            std::swap(owned.b, payloads[i]);
            std::optional<py::bytes> payload;
            if (states[i] == GP_PROMISE_COMPLETED) payload = owned.to_python();
            result.emplace_back(i, states[i], std::move(payload));
        }
    } catch (...) {
        for (auto &b : payloads) gp_bytes_free(&b);
        throw;
    }
    return result;
}

using PromiseInfoT = std::tuple<PromiseIdT, std::int32_t, std::uint64_t>;

class Host : public Guarded<gp_host, gp_host_close> {
public:
    Host(const std::string &path, int synchronous, int busy_timeout_ms) {
        const std::string p = c_string_arg(path, "path");
        gp_host_options_t opts{};
        opts.version = GP_HOST_OPTIONS_VERSION;
        opts.synchronous = synchronous;
        opts.busy_timeout_ms = busy_timeout_ms;
        gp_host *h = nullptr;
        check(call_without_gil([&] { return gp_host_open(&h, p.c_str(), &opts); }));
        handle_ = h;
    }

    std::unique_ptr<Worker> open_worker(const WorkerIdT &wid, bool live) {
        const gp_worker_id_t id = to_c_worker_id(wid);
        Use use(*this, "host");
        gp_worker *w = nullptr;
        const std::uint32_t flags = live ? GP_WORKER_OPEN_LIVE : 0u;
        check(call_without_gil([&] { return gp_worker_open_v2(&w, use.get(), &id, flags); }));
        return std::make_unique<Worker>(w);
    }

    bool complete_promise(py::handle pid, py::handle data) {
        const gp_promise_id_t id = promise_arg(pid);
        InputBuffer buf(data);
        Use use(*this, "host");
        int completed = 0;
        check(call_without_gil([&] {
            return gp_host_complete_promise(&completed, use.get(), &id, buf.data(), buf.size());
        }));
        return completed != 0;
    }

    std::optional<py::bytes> poll_promise(py::handle pid) {
        const gp_promise_id_t id = promise_arg(pid);
        Use use(*this, "host");
        OwnedBytes out;
        int ready = 0;
        check(call_without_gil([&] { return gp_host_poll_promise(&out.b, &ready, use.get(), &id); }));
        if (ready == 0) return std::nullopt;
        return out.to_python();
    }

    py::bytes await_promise(py::handle pid, std::optional<double> timeout) {
        const gp_promise_id_t id = promise_arg(pid);
        return await_in_slices(
            *this, "host", "await_promise",
            [&id](gp_bytes_t *out, gp_host *h, std::int64_t ms) {
                return gp_host_await_promise(out, h, &id, ms);
            },
            timeout);
    }

    void delete_promise(py::handle pid) {
        const gp_promise_id_t id = promise_arg(pid);
        Use use(*this, "host");
        check(call_without_gil([&] { return gp_host_delete_promise(use.get(), &id); }));
    }

    std::uint64_t oplog_length(const WorkerIdT &wid) {
        const gp_worker_id_t id = to_c_worker_id(wid);
        Use use(*this, "host");
        std::uint64_t out = 0;
        check(call_without_gil([&] { return gp_host_oplog_length(&out, use.get(), &id); }));
        return out;
    }

    OplogEntryT oplog_read(const WorkerIdT &wid, std::uint64_t idx) {
        const gp_worker_id_t id = to_c_worker_id(wid);
        Use use(*this, "host");
        gp_oplog_entry_t out{};
        check(call_without_gil([&] { return gp_host_oplog_read(&out, use.get(), &id, idx); }));
        return from_c_entry(out);
    }

    /** gp_host_oplog_read_call: (function, bytes) of a recorded call. */
    std::pair<py::bytes, py::bytes> oplog_read_call(const WorkerIdT &wid, std::uint64_t idx) {
        const gp_worker_id_t id = to_c_worker_id(wid);
        Use use(*this, "host");
        OwnedBytes function, data;
        check(call_without_gil([&] { return gp_host_oplog_read_call(&function.b, &data.b, use.get(), &id, idx); }));
        return {function.to_python(), data.to_python()};
    }

    /** Every entry of the worker's oplog, read in one GIL-free pass. */
    std::vector<OplogEntryT> oplog(const WorkerIdT &wid) {
        const gp_worker_id_t id = to_c_worker_id(wid);
        Use use(*this, "host");
        std::vector<gp_oplog_entry_t> entries;
        check(call_without_gil([&] {
            std::uint64_t n = 0;
            int rc = gp_host_oplog_length(&n, use.get(), &id);
            if (rc != GP_OK) return rc;
            entries.resize(static_cast<std::size_t>(n));
            for (std::uint64_t i = 0; i < n; ++i) {
                rc = gp_host_oplog_read(&entries[static_cast<std::size_t>(i)], use.get(), &id, i + 1);
                if (rc != GP_OK) return rc;
            }
            return GP_OK;
        }));
        std::vector<OplogEntryT> result;
        result.reserve(entries.size());
        for (const auto &e : entries) result.push_back(from_c_entry(e));
        return result;
    }

    /** gp_host_list_promises: (promise id, GP_PROMISE_* state, payload length) per promise. */
    std::vector<PromiseInfoT> list_promises(const std::optional<WorkerIdT> &wid, std::int32_t state) {
        std::optional<gp_worker_id_t> id;
        if (wid) id = to_c_worker_id(*wid);
        Use use(*this, "host");
        gp_promise_list_t list{nullptr, 0};
        const Status s = call_without_gil([&] {
            return gp_host_list_promises(&list, use.get(), id ? &*id : nullptr, state);
        });
        std::vector<PromiseInfoT> result;
        try {
            check(s);
            result.reserve(list.count);
            for (std::size_t i = 0; i < list.count; ++i) {
                const gp_promise_info_t &p = list.items[i];
                result.emplace_back(promise_to_python(p.promise_id), p.state, p.payload_len);
            }
        } catch (...) {
            gp_promise_list_free(&list);
            throw;
        }
        gp_promise_list_free(&list);
        return result;
    }

    /** gp_host_get_promise: a handle for Golem 1.3+'s get-promise (lazy: reads nothing). */
    std::unique_ptr<Promise> get_promise(py::handle pid) {
        const gp_promise_id_t id = promise_arg(pid);
        Use use(*this, "host");
        gp_promise *p = nullptr;
        call_with_gil([&] { return gp_host_get_promise(&p, use.get(), &id); });
        return std::make_unique<Promise>(p);
    }

    // Change feed for event loops (gp_host_change_*).
    int change_fd() {
        Use use(*this, "host");
        int out = -1;
        check(call_without_gil([&] { return gp_host_change_fd(&out, use.get()); }));
        return out;
    }

    void change_ack() {
        Use use(*this, "host");
        call_with_gil([&] { return gp_host_change_ack(use.get()); });
    }

    std::uint64_t change_counter() {
        Use use(*this, "host");
        std::uint64_t out = 0;
        check(call_without_gil([&] { return gp_host_change_counter(&out, use.get()); }));
        return out;
    }

    /** gp_server_start over this host (the server keeps the C host open while it runs). */
    std::unique_ptr<Server> serve(const std::string &address, std::uint16_t port,
                                  const std::optional<std::string> &token,
                                  std::uint64_t max_body_bytes, std::int32_t threads,
                                  std::int32_t request_timeout_ms, std::int32_t idle_timeout_ms) {
        const std::string addr = c_string_arg(address, "address");
        const std::string tok = c_string_arg(token.value_or(""), "token");
        gp_server_options_t opts{};
        opts.version = GP_SERVER_OPTIONS_VERSION;
        opts.address = addr.c_str();
        opts.port = port;
        opts.token = tok.empty() ? nullptr : tok.c_str();
        opts.max_body_bytes = max_body_bytes;
        opts.threads = threads;
        opts.request_timeout_ms = request_timeout_ms;
        opts.idle_timeout_ms = idle_timeout_ms;
        Use use(*this, "host");
        gp_server *s = nullptr;
        check(call_without_gil([&] { return gp_server_start(&s, use.get(), &opts); }));
        return std::make_unique<Server>(s);
    }
};

// ------------------------------------------------------------------------- id functions

UuidT uuid_parse(const std::string &text) {
    const std::string t = c_string_arg(text, "UUID");
    gp_uuid_t out{};
    call_with_gil([&] { return gp_uuid_parse(&out, t.c_str()); });
    return UuidT{out.high_bits, out.low_bits};
}

std::string uuid_format(std::uint64_t high, std::uint64_t low) {
    const gp_uuid_t u{high, low};
    char buf[GP_UUID_TEXT_SIZE] = {};
    call_with_gil([&] { return gp_uuid_format(buf, sizeof buf, &u); });
    return std::string(buf);
}

void worker_name_validate(const std::string &name) {
    const std::string n = c_string_arg(name, "worker name");
    call_with_gil([&] { return gp_worker_name_validate(n.c_str()); });
}

WorkerIdT worker_id_parse(const std::string &text) {
    const std::string t = c_string_arg(text, "worker id");
    gp_worker_id_t out{};
    call_with_gil([&] { return gp_worker_id_parse(&out, t.c_str()); });
    return from_c_worker_id(out);
}

std::string worker_id_format(const WorkerIdT &wid) {
    const gp_worker_id_t id = to_c_worker_id(wid);
    char buf[GP_WORKER_ID_TEXT_SIZE] = {};
    call_with_gil([&] { return gp_worker_id_format(buf, sizeof buf, &id); });
    return std::string(buf);
}

PromiseIdT promise_id_parse(const std::string &text) {
    const std::string t = c_string_arg(text, "promise id");
    gp_promise_id_t out = zeroed_promise_id();
    call_with_gil([&] { return gp_promise_id_parse(&out, t.c_str()); });
    return promise_to_python(out);
}

/** The C form of a promise id built from fields; InvalidId if the worker name breaks the rule. */
py::bytes promise_id_make(std::uint64_t high, std::uint64_t low, const std::string &name,
                          std::uint64_t oplog_idx) {
    gp_promise_id_t id = zeroed_promise_id();
    id.worker_id = to_c_worker_id(WorkerIdT{high, low, name});
    id.oplog_idx = oplog_idx;
    return c_form(id);
}

std::string promise_id_format(py::handle pid) {
    const gp_promise_id_t id = promise_arg(pid);
    char buf[GP_PROMISE_ID_TEXT_SIZE] = {};
    call_with_gil([&] { return gp_promise_id_format(buf, sizeof buf, &id); });
    return std::string(buf);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "golem_promise._core: the compiled layer over golem-promise's C ABI (internal; "
              "use the golem_promise package).";

    if (gp_version_number() != GP_VERSION_NUMBER)
        throw py::import_error("golem_promise._core was built against golem_promise.h " GP_VERSION_STRING
                               " but linked with library " + std::string(gp_version()));

    // Python code never reads SQLite's memory statistics, and keeping them costs a global mutex
    // per SQLite allocation; this only applies if nothing in the process has used SQLite yet.
    gp_sqlite_disable_memstatus();

    m.attr("VERSION") = gp_version();
    m.attr("VERSION_NUMBER") = gp_version_number();

    // Status codes (pinned values from golem_promise.h).
    m.attr("OK") = GP_OK;
    m.attr("EINVAL") = GP_EINVAL;
    m.attr("ENOTFOUND") = GP_ENOTFOUND;
    m.attr("ETIMEOUT") = GP_ETIMEOUT;
    m.attr("ECORRUPT") = GP_ECORRUPT;
    m.attr("EIO") = GP_EIO;
    m.attr("ENOMEM") = GP_ENOMEM;
    m.attr("EBUSY") = GP_EBUSY;
    m.attr("ENOTOWNER") = GP_ENOTOWNER;
    m.attr("ETOOBIG") = GP_ETOOBIG;
    m.attr("ESCHEMA") = GP_ESCHEMA;
    m.attr("ENONDETERMINISM") = GP_ENONDETERMINISM;
    m.attr("EWORKERNOTFOUND") = GP_EWORKERNOTFOUND;
    m.attr("ECONFLICT") = GP_ECONFLICT;
    m.attr("ELISTEN") = GP_ELISTEN;
    m.attr("ENOENTRY") = GP_ENOENTRY;
    m.attr("EINTERNAL") = GP_EINTERNAL;

    m.attr("MAX_PAYLOAD") = static_cast<std::uint64_t>(GP_MAX_PAYLOAD);
    m.attr("WORKER_NAME_MAX") = GP_WORKER_NAME_MAX;
    m.attr("SYNCHRONOUS_FULL") = GP_SYNCHRONOUS_FULL;
    m.attr("SYNCHRONOUS_NORMAL") = GP_SYNCHRONOUS_NORMAL;

    m.attr("OPLOG_CREATE") = GP_OPLOG_CREATE;
    m.attr("OPLOG_CREATE_PROMISE") = GP_OPLOG_CREATE_PROMISE;
    m.attr("OPLOG_COMPLETE_PROMISE") = GP_OPLOG_COMPLETE_PROMISE;
    m.attr("OPLOG_POLL_PROMISE") = GP_OPLOG_POLL_PROMISE;
    m.attr("OPLOG_AWAIT_PROMISE") = GP_OPLOG_AWAIT_PROMISE;
    m.attr("OPLOG_DELETE_PROMISE") = GP_OPLOG_DELETE_PROMISE;
    m.attr("OPLOG_GET_OPLOG_INDEX") = GP_OPLOG_GET_OPLOG_INDEX;
    m.attr("OPLOG_IMPORTED_FUNCTION_INVOKED") = GP_OPLOG_IMPORTED_FUNCTION_INVOKED;
    m.attr("OPLOG_EXPORTED_FUNCTION_INVOKED") = GP_OPLOG_EXPORTED_FUNCTION_INVOKED;
    m.attr("OPLOG_EXPORTED_FUNCTION_COMPLETED") = GP_OPLOG_EXPORTED_FUNCTION_COMPLETED;

    m.attr("PROMISE_ANY") = GP_PROMISE_ANY;
    m.attr("PROMISE_PENDING") = GP_PROMISE_PENDING;
    m.attr("PROMISE_COMPLETED") = GP_PROMISE_COMPLETED;
    m.attr("PROMISE_GONE") = GP_PROMISE_GONE;
    m.attr("SERVER_DEFAULT_MAX_BODY") = static_cast<std::uint64_t>(GP_SERVER_DEFAULT_MAX_BODY);
    m.attr("SERVER_DEFAULT_THREADS") = GP_SERVER_DEFAULT_THREADS;
    m.attr("SERVER_DEFAULT_REQUEST_TIMEOUT_MS") = GP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS;
    m.attr("SERVER_DEFAULT_IDLE_TIMEOUT_MS") = GP_SERVER_DEFAULT_IDLE_TIMEOUT_MS;

    m.def("errstr", [](int code) { return std::string(gp_errstr(code)); }, py::arg("code"),
          "gp_errstr: the static text for a status code.");
    m.def("oplog_kind_name", [](std::int32_t kind) { return std::string(gp_oplog_kind_name(kind)); },
          py::arg("kind"), "gp_oplog_kind_name: the name of an oplog entry kind.");

    m.def("uuid_parse", &uuid_parse, py::arg("text"), "gp_uuid_parse -> (high_bits, low_bits).");
    m.def("uuid_format", &uuid_format, py::arg("high_bits"), py::arg("low_bits"),
          "gp_uuid_format: lower-case 36-character text.");
    m.def("worker_name_validate", &worker_name_validate, py::arg("name"),
          "gp_worker_name_validate: raises InvalidId with Golem's rule if the name is not valid.");
    m.def("worker_id_parse", &worker_id_parse, py::arg("text"),
          "gp_worker_id_parse -> (high_bits, low_bits, worker_name).");
    m.def("worker_id_format", &worker_id_format, py::arg("worker_id"), "gp_worker_id_format.");
    m.def("promise_id_parse", &promise_id_parse, py::arg("text"),
          "gp_promise_id_parse -> (high_bits, low_bits, worker_name, oplog_idx, c_form).");
    m.def("promise_id_make", &promise_id_make, py::arg("high_bits"), py::arg("low_bits"),
          py::arg("worker_name"), py::arg("oplog_idx"),
          "The C form of a promise id (gp_worker_id_make checks the worker name).");
    m.def("promise_id_format", &promise_id_format, py::arg("promise_id"),
          "gp_promise_id_format of a promise id's C form.");

    py::class_<Worker>(m, "Worker", "A gp_worker handle.")
        .def("close", &Worker::close, "gp_worker_close (deferred until calls in progress return).")
        .def_property_readonly("closed", &Worker::closed)
        .def("worker_id", &Worker::worker_id)
        .def("create_promise", &Worker::create_promise)
        .def("complete_promise", &Worker::complete_promise, py::arg("promise_id"), py::arg("data"))
        .def("poll_promise", &Worker::poll_promise, py::arg("promise_id"))
        .def("await_promise", &Worker::await_promise, py::arg("promise_id"), py::arg("timeout"))
        .def("delete_promise", &Worker::delete_promise, py::arg("promise_id"))
        .def("get_oplog_index", &Worker::get_oplog_index)
        .def("restart", &Worker::restart, "gp_worker_restart: the next calls replay from the oplog.")
        .def("is_replaying", &Worker::is_replaying, "gp_worker_is_replaying.")
        .def("oplog_position", &Worker::oplog_position, "gp_worker_oplog_position.")
        .def("replay_call", &Worker::replay_call, py::arg("kind"), py::arg("function"), py::arg("data"),
             "gp_worker_replay_call: (oplog index, recorded bytes) while replaying, None when live.")
        .def("record_call", &Worker::record_call, py::arg("kind"), py::arg("function"), py::arg("data"),
             "gp_worker_record_call: appends a recorded call; its oplog index.");

    py::class_<Host>(m, "Host", "A gp_host handle.")
        .def(py::init<const std::string &, int, int>(), py::arg("path"), py::arg("synchronous"),
             py::arg("busy_timeout_ms"))
        .def("close", &Host::close, "gp_host_close (deferred until calls in progress return).")
        .def_property_readonly("closed", &Host::closed)
        .def("open_worker", &Host::open_worker, py::arg("worker_id"), py::arg("live") = false)
        .def("complete_promise", &Host::complete_promise, py::arg("promise_id"), py::arg("data"))
        .def("poll_promise", &Host::poll_promise, py::arg("promise_id"))
        .def("await_promise", &Host::await_promise, py::arg("promise_id"), py::arg("timeout"))
        .def("delete_promise", &Host::delete_promise, py::arg("promise_id"))
        .def("oplog_length", &Host::oplog_length, py::arg("worker_id"))
        .def("oplog_read", &Host::oplog_read, py::arg("worker_id"), py::arg("oplog_idx"))
        .def("oplog_read_call", &Host::oplog_read_call, py::arg("worker_id"), py::arg("oplog_idx"),
             "gp_host_oplog_read_call: (function name as UTF-8 bytes, recorded bytes).")
        .def("oplog", &Host::oplog, py::arg("worker_id"))
        .def("list_promises", &Host::list_promises, py::arg("worker_id"), py::arg("state"))
        .def("get_promise", &Host::get_promise, py::arg("promise_id"))
        .def("change_fd", &Host::change_fd, "gp_host_change_fd: the change feed's descriptor.")
        .def("change_ack", &Host::change_ack, "gp_host_change_ack: drains the descriptor.")
        .def("change_counter", &Host::change_counter, "gp_host_change_counter.")
        .def("serve", &Host::serve, py::arg("address"), py::arg("port"), py::arg("token"),
             py::arg("max_body_bytes"), py::arg("threads"), py::arg("request_timeout_ms"),
             py::arg("idle_timeout_ms"));

    py::class_<Promise>(m, "Promise", "A gp_promise handle (get-promise; host-level, records nothing).")
        .def("close", &Promise::close, "gp_promise_close (deferred until calls in progress return).")
        .def_property_readonly("closed", &Promise::closed)
        .def("get", &Promise::get, "gp_promise_get: the payload, or None while pending.")
        .def("state", &Promise::state, "gp_promise_state: PROMISE_PENDING, _COMPLETED or _GONE.")
        .def("ready", &Promise::ready, "gp_promise_ready: True once completed or gone.")
        .def("block", &Promise::block, py::arg("timeout"), "gp_promise_block, in slices.");
    m.def("promise_poll_many", &promise_poll_many, py::arg("promises"),
          "gp_promise_poll_many: (index, state, payload) of each handle no longer pending.");

    py::class_<Server>(m, "Server", "A gp_server handle (the HTTP completion endpoint).")
        .def_property_readonly("port", &Server::port)
        .def_property_readonly("url", &Server::url)
        .def_property_readonly("stopped", &Server::stopped)
        .def("stop", &Server::stop, "gp_server_stop (idempotent; joins the server's threads).");
}
