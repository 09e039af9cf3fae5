/*
 * golem_promise.h — the public C ABI of golem-promise.
 *
 * golem-promise implements Golem's promise API (golem:api/host) locally: a worker creates a
 * promise, hands its id to someone else, awaits it, and resumes with the bytes passed to
 * complete it.  State lives in SQLite: a file (durable, shared by processes) or ":memory:".
 *
 * Conventions (see docs/c-api.md):
 *  - Every name starts with gp_ / GP_.  Functions are gp_<object>_<verb>.
 *  - Fallible functions return int: GP_OK (0) or a negative GP_E* code whose value never
 *    changes.  gp_errstr(code) gives a static text; gp_last_error_message() gives the message
 *    of the last failure on the calling thread.
 *  - Output parameters come first and are named out.  What a caller receives through an out
 *    parameter it owns and releases with the matching gp_*_free / gp_*_close.  Free and close
 *    functions accept NULL (and a pointer to NULL) and do nothing then.
 *  - A failing call leaves every out parameter it was given (non-NULL) empty: handles NULL,
 *    numbers and flags 0, gp_bytes_t {NULL, 0}, id structs zeroed, text buffers "" (when
 *    their size is not 0).  So nothing needs freeing after a failure, and a value from an
 *    earlier call is never mistaken for a new one.  (gp_promise_poll_many: see there.)
 *  - Text of ids: gp_*_format writes the canonical text, and gp_*_parse accepts exactly the
 *    canonical texts, except that a UUID's hex digits may be upper case (RFC 4122; formatted
 *    lower case).  So the formatted text of an id is a sound map key: an oplog index has one
 *    text ("7", never "007").
 *  - Input buffers and strings are copied; the library never keeps a caller's pointer.
 *  - No exception or C++ error crosses this boundary; NULL or malformed arguments give
 *    GP_EINVAL, never a crash.
 *  - Thread safety: a gp_host and its gp_worker handles may be used from many threads at once.
 *    Closing a handle must not race with other calls on that same handle.
 */
#ifndef GOLEM_PROMISE_H
#define GOLEM_PROMISE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- export and version */

#if defined(_WIN32)
#  if defined(GP_BUILDING_LIBRARY)
#    define GP_API __declspec(dllexport)
#  elif defined(GP_STATIC)
#    define GP_API
#  else
#    define GP_API __declspec(dllimport)
#  endif
#else
#  define GP_API __attribute__((visibility("default")))
#endif

#define GP_VERSION_MAJOR 0
#define GP_VERSION_MINOR 1
#define GP_VERSION_PATCH 0
/** MAJOR*10000 + MINOR*100 + PATCH; compare with gp_version_number() at run time. */
#define GP_VERSION_NUMBER (GP_VERSION_MAJOR * 10000 + GP_VERSION_MINOR * 100 + GP_VERSION_PATCH)
#define GP_VERSION_STRING "0.1.0"

/** The library's version as "MAJOR.MINOR.PATCH"; a static string, never NULL. */
GP_API const char *gp_version(void);
/** The library's GP_VERSION_NUMBER, so a host can check that header and library agree. */
GP_API unsigned gp_version_number(void);

/* ---------------------------------------------------------------- status codes */

/* These values are pinned: they never change between releases. */
#define GP_OK                0   /**< success */
#define GP_EINVAL           -1   /**< invalid argument: NULL pointer, malformed id, bad name */
#define GP_ENOTFOUND        -2   /**< the promise does not exist (never created, or deleted) */
#define GP_ETIMEOUT         -3   /**< an await ran out of time; the promise is still pending */
#define GP_ECORRUPT         -4   /**< stored data is damaged (e.g. an oplog entry fails verification) */
#define GP_EIO              -5   /**< the database could not be read or written (disk, permissions) */
#define GP_ENOMEM           -6   /**< out of memory */
#define GP_EBUSY            -7   /**< the database stayed locked longer than the busy timeout */
#define GP_ENOTOWNER        -8   /**< a worker awaited a promise that another worker created */
#define GP_ETOOBIG          -9   /**< a payload is larger than GP_MAX_PAYLOAD */
#define GP_ESCHEMA         -10   /**< not a golem-promise database, or one of a newer schema */
#define GP_ENONDETERMINISM -11   /**< replay: a host call differs from the recorded one */
#define GP_EWORKERNOTFOUND -12   /**< the worker does not exist in this host */
#define GP_ECONFLICT       -13   /**< another handle of the same worker appended to its oplog */
#define GP_ELISTEN         -14   /**< a server could not listen on its address (in use, unknown, not permitted) */
#define GP_ENOENTRY        -15   /**< the worker's oplog has no entry at that index */
#define GP_EINTERNAL       -99   /**< a bug in golem-promise; the message says where */

/** Largest payload accepted, in bytes (900 MiB).  Golem sets no limit; SQLite caps a BLOB
 *  just under 1 GB, so we stop a little below that with GP_ETOOBIG.  An unsigned int constant
 *  (no cast, so C++ hosts built with -Wold-style-cast take it as it is). */
#define GP_MAX_PAYLOAD (900u * 1024u * 1024u)

/** A static, human-readable name for a status code ("GP_ENOTFOUND: promise not found").
 *  Unknown codes give "unknown status code". Never NULL. */
GP_API const char *gp_errstr(int code);

/** The message of the last failing call on this thread; "" if none failed yet.  Never NULL.
 *  Borrowed: valid until the next gp_ call on this thread that fails.  gp_errstr,
 *  gp_last_error_message and gp_last_error_code never fail, so
 *  `fprintf(stderr, "%s | %s\n", gp_errstr(rc), gp_last_error_message())` is safe.  A
 *  successful call leaves the message as it was. */
GP_API const char *gp_last_error_message(void);

/** The status code of the last failing call on this thread (GP_OK if none). */
GP_API int gp_last_error_code(void);

/* ---------------------------------------------------------------- process-wide tuning */

/**
 * Opt-in speed-up for the whole process: turns off SQLite's memory-usage statistics
 * (SQLITE_CONFIG_MEMSTATUS), which take a global mutex on every SQLite allocation, about a tenth
 * of an in-memory promise cycle.  The library never does this by itself because it changes
 * SQLite for every user in the process: afterwards sqlite3_memory_used() and
 * sqlite3_memory_highwater() report 0 and sqlite3_soft_heap_limit64() is not enforced.
 * SQLite accepts it only before it is initialised, so call it first thing in main(), before
 * any thread uses SQLite (golem-promise or otherwise).  The Python package does it when it is
 * imported, unless SQLite is already in use.
 * GP_OK if the statistics are now off; GP_EINVAL (nothing changed) if SQLite was already
 * initialised in this process.
 */
GP_API int gp_sqlite_disable_memstatus(void);

/* ---------------------------------------------------------------- identifiers */

/** Longest worker name Golem accepts. */
#define GP_WORKER_NAME_MAX 100
/** Bytes needed for a UUID's text form plus its NUL. */
#define GP_UUID_TEXT_SIZE 37
/** Bytes enough for any worker id text ("uuid/name") plus NUL. */
#define GP_WORKER_ID_TEXT_SIZE (36 + 1 + GP_WORKER_NAME_MAX + 1)
/** Bytes enough for any promise id text ("uuid/name/oplog_idx") plus NUL. */
#define GP_PROMISE_ID_TEXT_SIZE (GP_WORKER_ID_TEXT_SIZE + 1 + 20)

/** Golem's Uuid: high_bits are the most significant 64 bits of the big-endian UUID. */
typedef struct gp_uuid_t {
    uint64_t high_bits;
    uint64_t low_bits;
} gp_uuid_t;

/** Golem's WorkerId. worker_name is NUL-terminated, 1..GP_WORKER_NAME_MAX characters. */
typedef struct gp_worker_id_t {
    gp_uuid_t component_id;
    char worker_name[GP_WORKER_NAME_MAX + 1];
} gp_worker_id_t;

/** Golem's PromiseId: the creating worker and the oplog index of the creating call. */
typedef struct gp_promise_id_t {
    gp_worker_id_t worker_id;
    uint64_t oplog_idx;
} gp_promise_id_t;

/** Parses a UUID in any case ("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8").  GP_EINVAL if malformed. */
GP_API int gp_uuid_parse(gp_uuid_t *out, const char *text);
/** Writes the lower-case 36-character form and a NUL into out[GP_UUID_TEXT_SIZE]. */
GP_API int gp_uuid_format(char *out, size_t out_size, const gp_uuid_t *uuid);

/** GP_OK if name is a worker name Golem accepts (1 to 100 of A-Z a-z 0-9 _ -, not starting
 *  with '-'), else GP_EINVAL with the rule in the last-error message. */
GP_API int gp_worker_name_validate(const char *name);

/** Fills out from a component id and worker name (validated as gp_worker_name_validate). */
GP_API int gp_worker_id_make(gp_worker_id_t *out, const gp_uuid_t *component_id,
                             const char *worker_name);
/** Parses "uuid/worker_name". */
GP_API int gp_worker_id_parse(gp_worker_id_t *out, const char *text);
/** Writes "uuid/worker_name" and a NUL; out_size must be at least GP_WORKER_ID_TEXT_SIZE or
 *  the text's length + 1.  GP_EINVAL if it does not fit. */
GP_API int gp_worker_id_format(char *out, size_t out_size, const gp_worker_id_t *worker_id);

/** Parses "uuid/worker_name/oplog_idx", splitting at the last '/'. */
GP_API int gp_promise_id_parse(gp_promise_id_t *out, const char *text);
/** Writes "uuid/worker_name/oplog_idx" and a NUL (see gp_worker_id_format for out_size). */
GP_API int gp_promise_id_format(char *out, size_t out_size, const gp_promise_id_t *promise_id);

/* ---------------------------------------------------------------- byte buffers */

/** A payload returned by the library.  The caller owns data and releases it with gp_bytes_free.
 *  data may be NULL when len is 0. */
typedef struct gp_bytes_t {
    uint8_t *data;
    size_t len;
} gp_bytes_t;

/** Frees bytes->data and sets it to NULL, len to 0.  Accepts NULL. */
GP_API void gp_bytes_free(gp_bytes_t *bytes);

/** Frees a string returned by the library.  Accepts NULL. */
GP_API void gp_string_free(char *text);

/* ---------------------------------------------------------------- hosts */

/** A host: one SQLite database holding many workers and their promises. Opaque. */
typedef struct gp_host gp_host;

#define GP_SYNCHRONOUS_FULL   2   /**< durable across power loss (default for files) */
#define GP_SYNCHRONOUS_NORMAL 1   /**< durable across process crashes only; faster */

/** Options for gp_host_open.  Zero fields take their defaults.  Initialise with
 *  `gp_host_options_t o = GP_HOST_OPTIONS_INIT;` or gp_host_options_init(&o,
 *  GP_HOST_OPTIONS_VERSION) (both set every field, so strict builds with
 *  -Wmissing-field-initializers accept them), then set the fields you want. */
typedef struct gp_host_options_t {
    uint32_t version;
    /** GP_SYNCHRONOUS_FULL (default) or GP_SYNCHRONOUS_NORMAL; ignored for ":memory:". */
    int32_t synchronous;
    /** How long a writer waits for another process's lock before GP_EBUSY; 0 = 5000 ms. */
    int32_t busy_timeout_ms;
    /** Longest interval between store re-checks of a waiting await, in µs, as a safety net for
     *  completions by other processes; 0 = 50000 µs. */
    int32_t fallback_poll_us;
} gp_host_options_t;

#define GP_HOST_OPTIONS_VERSION 1
/** Every field of a gp_host_options_t of this version: the version, then defaults. */
#define GP_HOST_OPTIONS_INIT {GP_HOST_OPTIONS_VERSION, 0, 0, 0}

/** Sets *opts to the defaults of options version `version` (1..GP_HOST_OPTIONS_VERSION):
 *  the version field set, every other field zero.  GP_EINVAL if opts is NULL or the version
 *  is unknown (then *opts is unchanged). */
GP_API int gp_host_options_init(gp_host_options_t *opts, unsigned int version);

/**
 * Opens (creating if needed) the host database at path, or a private in-memory host for
 * ":memory:".  opts may be NULL for defaults.  On success *out is a new handle that the caller
 * closes with gp_host_close.  A file that is not a golem-promise database, or one of a newer
 * schema, gives GP_ESCHEMA and is left untouched.
 */
GP_API int gp_host_open(gp_host **out, const char *path, const gp_host_options_t *opts);

/** Releases the caller's handle and sets *host to NULL.  Workers opened from it stay valid
 *  (they keep the database open until they are closed too).  Accepts NULL and *host == NULL.
 *  Awaits in progress on other threads must have returned first. */
GP_API void gp_host_close(gp_host **host);

/* Host-level calls act as an outside party (a webhook, another service, a test harness): they
 * write no oplog entry, and may await any worker's promise. */

/** Completes a pending promise with a copy of data[0..len).  *out is 1 if this call completed
 *  it, 0 if it was already completed (first payload wins; the payload is unchanged).
 *  GP_ENOTFOUND if the promise does not exist.  data may be NULL when len is 0.  When *out is
 *  1 the completion is committed (durable on a file host) before the call returns. */
GP_API int gp_host_complete_promise(int *out, gp_host *host, const gp_promise_id_t *promise_id,
                                    const uint8_t *data, size_t len);

/** If the promise is completed, *out_ready = 1 and *out receives a copy of its payload (free
 *  with gp_bytes_free); if pending, *out_ready = 0 and *out = {NULL, 0}.  GP_ENOTFOUND if gone. */
GP_API int gp_host_poll_promise(gp_bytes_t *out, int *out_ready, gp_host *host,
                                const gp_promise_id_t *promise_id);

/**
 * Waits until the promise is completed and gives its payload in *out (free with gp_bytes_free).
 * timeout_ms < 0 waits forever; 0 checks once.  A positive timeout may be as large as
 * INT64_MAX: one longer than the monotonic clock can count (about 292 years) also waits
 * forever.  GP_ETIMEOUT when time runs out (the promise stays pending); GP_ENOTFOUND if it
 * does not exist or is deleted while waiting.  Holds no lock while waiting: other threads may
 * complete or delete meanwhile.
 */
GP_API int gp_host_await_promise(gp_bytes_t *out, gp_host *host,
                                 const gp_promise_id_t *promise_id, int64_t timeout_ms);

/**
 * gp_host_poll_promise into the caller's memory, without a library-allocated copy (as the
 * outside party: not recorded).  If the promise is completed: *out_ready = 1 and *out_len = its
 * payload's length, and when that length is at most cap the payload is copied to
 * buf[0..*out_len); when it is larger nothing is copied (as snprintf: call again with a buffer of
 * *out_len bytes).  buf may be NULL with cap 0: a size query.  If pending: *out_ready = 0,
 * *out_len = 0.  GP_ENOTFOUND if the promise does not exist (or was deleted since a size query).
 * A completed promise's payload never changes, so the length a size query gives stays right.
 * Ownership: buf is the caller's before and after; the library writes only buf[0..*out_len)
 * and keeps no pointer to it.
 */
GP_API int gp_host_read_payload(size_t *out_len, int *out_ready, gp_host *host, const gp_promise_id_t *promise_id,
                                uint8_t *buf, size_t cap);

/** Deletes the promise, pending or completed, waking its waiters with GP_ENOTFOUND.  Deleting
 *  a promise that does not exist is not an error (idempotent, as in Golem). */
GP_API int gp_host_delete_promise(gp_host *host, const gp_promise_id_t *promise_id);

/* ---------------------------------------------------------------- change feed (event loops) */

/**
 * Gives in *out a file descriptor that becomes readable whenever a promise of this host may
 * have changed state: completed or deleted by this process, or, for a file host, by any other
 * process using golem-promise.  On a file host it also becomes readable at least every
 * fallback_poll_us, as a safety net for writers that do not signal (the sqlite3 shell).
 * Meant for event loops (epoll, asyncio's add_reader) that wait for many promises without a
 * thread each: when it is readable, call gp_host_change_ack, then re-check the promises you
 * wait for (gp_host_change_counter tells cheaply whether anything changed at all).
 * The descriptor is owned by the host: do not close it; it stays valid until the host and all
 * its workers are closed.  The first call on a file host starts one watcher thread.
 */
GP_API int gp_host_change_fd(int *out, gp_host *host);

/** Drains the change feed's descriptor, so it is readable again only after a new change. */
GP_API int gp_host_change_ack(gp_host *host);

/** *out = a number that changes whenever a promise of this host may have changed state
 *  (in this process or another).  Equal numbers mean nothing changed in between. */
GP_API int gp_host_change_counter(uint64_t *out, gp_host *host);

/* ---------------------------------------------------------------- promise handles (get-promise) */

/*
 * Golem 1.3+ replaces await/poll with get-promise, which returns a handle with subscribe() (a
 * pollable: ready / block) and get() (the payload, or none while pending).  A gp_promise is that
 * handle for one promise id of one host.  Everything here is host-level: it writes nothing and
 * records nothing in any oplog.  A *worker's* get() is a recorded poll: call
 * gp_worker_poll_promise for it (the Python package does).
 *
 * A handle keeps its host's database open, as a worker does: it stays valid after gp_host_close,
 * until gp_promise_close; so does the host's change-feed descriptor (gp_host_change_fd).
 * Thread safety: a handle may be used from many threads at once; closing it must not race with
 * other calls on it.
 */

/** A promise handle.  Opaque. */
typedef struct gp_promise gp_promise;

/** gp_promise_state / gp_promise_poll_many: the promise does not exist (never created, or
 *  deleted).  The other states are GP_PROMISE_PENDING and GP_PROMISE_COMPLETED. */
#define GP_PROMISE_GONE 3

/**
 * Makes a handle for promise_id of host (Golem's get-promise).  Lazy: the store is not read, so
 * a handle for a promise that does not exist is made (its get() then gives GP_ENOTFOUND, and it
 * is ready at once).  On success *out is a new handle that the caller closes with
 * gp_promise_close.  GP_EINVAL for a malformed id.
 */
GP_API int gp_host_get_promise(gp_promise **out, gp_host *host, const gp_promise_id_t *promise_id);

/** Releases the handle and sets *promise to NULL.  Accepts NULL and *promise == NULL. */
GP_API void gp_promise_close(gp_promise **promise);

/** Copies the handle's promise id into *out. */
GP_API int gp_promise_get_id(gp_promise_id_t *out, const gp_promise *promise);

/** get(): as gp_host_poll_promise: *out_ready = 1 and *out the payload (free with
 *  gp_bytes_free) if completed; *out_ready = 0 if pending; GP_ENOTFOUND if gone.  Not recorded. */
GP_API int gp_promise_get(gp_bytes_t *out, int *out_ready, gp_promise *promise);

/** *out = GP_PROMISE_PENDING, GP_PROMISE_COMPLETED or GP_PROMISE_GONE (one read; not recorded). */
GP_API int gp_promise_state(int32_t *out, gp_promise *promise);

/** The pollable's ready(): *out = 1 when the promise is no longer pending (completed, or gone:
 *  there is nothing left to wait for), else 0.  Never GP_ENOTFOUND.  Not recorded. */
GP_API int gp_promise_ready(int *out, gp_promise *promise);

/**
 * The pollable's block(), with a timeout: waits until gp_promise_ready would give 1.
 * timeout_ms < 0 waits forever; 0 checks once; a timeout too long for the clock (INT64_MAX)
 * also waits forever, as for gp_host_await_promise.  GP_OK when the promise is completed or
 * gone; GP_ETIMEOUT when time runs out.  Holds no lock while waiting.  Not recorded.
 */
GP_API int gp_promise_block(gp_promise *promise, int64_t timeout_ms);

/**
 * Checks many handles (of one host or several) in one call, for event loops that wait for
 * thousands of promises on one change feed (gp_host_change_fd): out_states[i] receives
 * GP_PROMISE_PENDING, GP_PROMISE_COMPLETED or GP_PROMISE_GONE for promises[i].  out_payloads may
 * be NULL; otherwise out_payloads[i] receives the payload of each completed promise (the caller
 * frees each with gp_bytes_free) and {NULL, 0} for the others.  The outputs are written only if
 * every check succeeds; on failure (GP_EIO, GP_ECORRUPT, ...) states are all PENDING and no
 * payload is given.  Costs one indexed read per handle; writes and records nothing.
 */
GP_API int gp_promise_poll_many(int32_t *out_states, gp_bytes_t *out_payloads,
                                gp_promise *const *promises, size_t count);

/* ---------------------------------------------------------------- workers */

/** A worker of a host, with its own oplog.  Opaque. */
typedef struct gp_worker gp_worker;

/**
 * Opens the worker id of host, creating it (and its oplog entry 1) if it does not exist yet.
 * An existing worker with recorded calls starts in replay (see gp_worker_open_v2).
 * The name must pass gp_worker_name_validate.  Close *out with gp_worker_close.
 */
GP_API int gp_worker_open(gp_worker **out, gp_host *host, const gp_worker_id_t *worker_id);

/** Releases the handle and sets *worker to NULL.  Accepts NULL and *worker == NULL. */
GP_API void gp_worker_close(gp_worker **worker);

/** Copies the worker's id into *out. */
GP_API int gp_worker_get_id(gp_worker_id_t *out, const gp_worker *worker);

/* Worker-level calls are the host functions a Golem worker calls: each appends one entry to the
 * worker's oplog, recording its inputs and its result (errors included). */

/** Creates a pending promise; its id's oplog_idx is the index of the entry this call appends. */
GP_API int gp_worker_create_promise(gp_promise_id_t *out, gp_worker *worker);

/** As gp_host_complete_promise, recorded in the worker's oplog.  Any worker may complete any
 *  promise of the host. */
GP_API int gp_worker_complete_promise(int *out, gp_worker *worker,
                                      const gp_promise_id_t *promise_id, const uint8_t *data,
                                      size_t len);

/** As gp_host_poll_promise, recorded in the worker's oplog. */
GP_API int gp_worker_poll_promise(gp_bytes_t *out, int *out_ready, gp_worker *worker,
                                  const gp_promise_id_t *promise_id);

/** As gp_host_await_promise (timeout_ms included), but only for promises this worker created
 *  (Golem 1.3+): another worker's promise gives GP_ENOTOWNER (rejected before it reaches the
 *  host, so not recorded).  A finished await (payload or GP_ENOTFOUND) is recorded in the
 *  oplog; a timeout is not, since the call did not finish. */
GP_API int gp_worker_await_promise(gp_bytes_t *out, gp_worker *worker,
                                   const gp_promise_id_t *promise_id, int64_t timeout_ms);

/** As gp_host_delete_promise, recorded in the worker's oplog. */
GP_API int gp_worker_delete_promise(gp_worker *worker, const gp_promise_id_t *promise_id);

/** Golem's get-oplog-index: appends a no-op entry and gives its index in *out. */
GP_API int gp_worker_get_oplog_index(uint64_t *out, gp_worker *worker);

/* ---------------------------------------------------------------- durable execution (replay) */

/** gp_worker_open_v2 flag: skip replay and continue at the end of the worker's oplog. */
#define GP_WORKER_OPEN_LIVE 1u

/**
 * As gp_worker_open, with flags.  gp_worker_open (flags 0) opens an existing worker whose oplog
 * holds recorded calls in *replay*, as Golem restarts a worker: each worker-level call is then
 * matched, in order, with the next recorded entry and answered from it (same promise id, the
 * recorded payload, the recorded bool or error), writing nothing.  A call that differs (another
 * function, promise id or payload) fails with GP_ENONDETERMINISM, naming the oplog index, the
 * recorded call and the attempted one, and writes nothing.  When the recorded entries run out
 * the worker is live and appends as usual; an await that was still waiting at the crash was
 * never recorded, so it runs live against the store.  GP_WORKER_OPEN_LIVE skips replay.
 *
 * A worker runs in one place at a time: a live call that would append to the oplog after
 * another handle of the same worker (in this process or another) appended since this handle
 * last wrote, opened or restarted fails with GP_ECONFLICT and writes nothing, instead of
 * interleaving two executions in one oplog.  gp_worker_restart takes the oplog as it then is.
 */
GP_API int gp_worker_open_v2(gp_worker **out, gp_host *host, const gp_worker_id_t *worker_id,
                             uint32_t flags);

/** Simulates a crash and restart in-process: the next calls replay from oplog index 2
 *  (index 1 is the worker's creation; its position reads 1), up to the oplog's end as it is
 *  now, including entries other handles wrote.  Must not race with calls on the same handle. */
GP_API int gp_worker_restart(gp_worker *worker);

/** *out = 1 while the worker is replaying recorded calls, 0 when live. */
GP_API int gp_worker_is_replaying(int *out, gp_worker *worker);

/** *out = the oplog index of the last entry replayed or written: where execution stands. */
GP_API int gp_worker_oplog_position(uint64_t *out, gp_worker *worker);

/**
 * A component runner's records, for durable invocations (Golem's oplog entries of the same
 * names): kind is GP_OPLOG_IMPORTED_FUNCTION_INVOKED (a host call whose answer varies: a
 * clock, random bytes, the environment; data is the answer), GP_OPLOG_EXPORTED_FUNCTION_INVOKED
 * (an export called; data is its arguments) or GP_OPLOG_EXPORTED_FUNCTION_COMPLETED (data is its
 * result).  function is the NUL-terminated name (1-4096 bytes), data/len the bytes (data may be
 * NULL when len is 0; at most the payload limit).
 *
 * While the worker replays its oplog, the next recorded entry must be this call: same kind
 * and function and, for the two exported kinds, the same bytes.  Then *replayed = 1, *out = the
 * recorded bytes (free them with gp_bytes_free), *oplog_idx = the entry's index, and nothing
 * is written; an imported function's data is ignored here (its recorded answer is returned).
 * Another entry fails with GP_ENONDETERMINISM naming both calls.  Live: *replayed = 0, *out
 * empty, *oplog_idx = 0, nothing written: the caller then computes the answer (or runs the
 * export) and records it with gp_worker_record_call.  GP_EINVAL for another kind or a bad name.
 */
GP_API int gp_worker_replay_call(gp_bytes_t *out, int *replayed, uint64_t *oplog_idx, gp_worker *worker,
                                 int32_t kind, const char *function, const uint8_t *data, size_t len);

/** Appends a record (kinds and arguments as gp_worker_replay_call) to the worker's oplog; *out =
 *  its index.  Durable on a synchronous FULL file host when it returns.  GP_EINVAL while the
 *  worker is replaying (call gp_worker_replay_call first), GP_ECONFLICT as any live call. */
GP_API int gp_worker_record_call(uint64_t *out, gp_worker *worker, int32_t kind, const char *function,
                                 const uint8_t *data, size_t len);

/* ---------------------------------------------------------------- oplog inspection */

/** Kinds of oplog entries. */
#define GP_OPLOG_CREATE          1  /**< the worker's creation (always index 1) */
#define GP_OPLOG_CREATE_PROMISE  2
#define GP_OPLOG_COMPLETE_PROMISE 3
#define GP_OPLOG_POLL_PROMISE    4
#define GP_OPLOG_AWAIT_PROMISE   5
#define GP_OPLOG_DELETE_PROMISE  6
#define GP_OPLOG_GET_OPLOG_INDEX 7
#define GP_OPLOG_IMPORTED_FUNCTION_INVOKED 8   /**< a recorded host call (gp_worker_record_call) */
#define GP_OPLOG_EXPORTED_FUNCTION_INVOKED 9   /**< an export called, with its arguments */
#define GP_OPLOG_EXPORTED_FUNCTION_COMPLETED 10 /**< an export's result */

/** One oplog entry, decoded. */
typedef struct gp_oplog_entry_t {
    uint64_t oplog_idx;          /**< the entry's index, from 1 */
    int32_t kind;                /**< a GP_OPLOG_* value */
    int32_t status;              /**< the call's result status (GP_OK or a GP_E* code) */
    int64_t timestamp_us;        /**< when it was written, µs since the Unix epoch */
    gp_promise_id_t promise_id;  /**< the promise the call created or acted on (zero if none) */
    int32_t has_payload;         /**< 1 if the call took or returned a payload */
    int32_t result_flag;         /**< complete: 1 if it completed the promise; poll: 1 if ready */
    uint64_t payload_len;        /**< the payload's length, when has_payload */
    uint64_t payload_hash;       /**< 64-bit FNV-1a hash of the payload, when has_payload */
} gp_oplog_entry_t;

/** *out = the number of entries in the worker's oplog (its last index).
 *  GP_EWORKERNOTFOUND if the host has no such worker. */
GP_API int gp_host_oplog_length(uint64_t *out, gp_host *host, const gp_worker_id_t *worker_id);

/** Reads and verifies entry oplog_idx of the worker.  GP_ENOTFOUND if there is no such entry,
 *  GP_ECORRUPT if the stored entry fails verification. */
GP_API int gp_host_oplog_read(gp_oplog_entry_t *out, gp_host *host,
                              const gp_worker_id_t *worker_id, uint64_t oplog_idx);

/** The function and bytes of a recorded call (GP_OPLOG_IMPORTED_FUNCTION_INVOKED,
 *  _EXPORTED_FUNCTION_INVOKED or _EXPORTED_FUNCTION_COMPLETED) at oplog_idx: *function = its
 *  name (not NUL-terminated) and *data = its bytes, both freed with gp_bytes_free.  GP_EINVAL if
 *  the entry is of another kind; otherwise as gp_host_oplog_read. */
GP_API int gp_host_oplog_read_call(gp_bytes_t *function, gp_bytes_t *data, gp_host *host,
                                   const gp_worker_id_t *worker_id, uint64_t oplog_idx);

/** A static name for an oplog kind ("create-promise"); "unknown" for other values. */
GP_API const char *gp_oplog_kind_name(int32_t kind);

/* ---------------------------------------------------------------- listing promises */

/** gp_promise_info_t.state and the state filter of gp_host_list_promises. */
#define GP_PROMISE_ANY       0  /**< filter only: pending and completed promises */
#define GP_PROMISE_PENDING   1
#define GP_PROMISE_COMPLETED 2

/** One existing promise, as listed by gp_host_list_promises. */
typedef struct gp_promise_info_t {
    gp_promise_id_t promise_id;
    int32_t state;         /**< GP_PROMISE_PENDING or GP_PROMISE_COMPLETED */
    uint64_t payload_len;  /**< the payload's length when completed; 0 when pending */
} gp_promise_info_t;

/** An array of promises returned by gp_host_list_promises.  The caller owns items and releases
 *  them with gp_promise_list_free.  items may be NULL when count is 0. */
typedef struct gp_promise_list_t {
    gp_promise_info_t *items;
    size_t count;
} gp_promise_list_t;

/**
 * Lists the host's existing promises (pending and completed; deleted ones are gone), ordered by
 * worker (in creation order) and oplog index, in one read of the store.  worker_id NULL lists
 * every worker's promises; otherwise only that worker's, and GP_EWORKERNOTFOUND if the host has
 * no such worker.  state is GP_PROMISE_ANY, GP_PROMISE_PENDING or GP_PROMISE_COMPLETED, else
 * GP_EINVAL.  Read-only: writes nothing, records nothing in any oplog.  On success *out owns a
 * new array (free with gp_promise_list_free); on failure *out = {NULL, 0}.
 * Thread safety: as other host calls; the result is a snapshot that may be stale at once.
 */
GP_API int gp_host_list_promises(gp_promise_list_t *out, gp_host *host,
                                 const gp_worker_id_t *worker_id, int32_t state);

/** Frees list->items and sets it to NULL, count to 0.  Accepts NULL. */
GP_API void gp_promise_list_free(gp_promise_list_t *list);

/* ---------------------------------------------------------------- HTTP completion server */

/*
 * Golem's REST completion endpoint, served by the library on its own threads, so that anything
 * that speaks HTTP (a webhook, curl, another service) can complete a host's promises:
 *
 *   POST /v1/components/{component_id}/workers/{worker_name}/complete
 *        body {"oplogIdx": <u64>, "data": [<u8>, ...]}
 *        200 true (completed now) / 200 false (already completed) / 400 / 404 / 500 PromiseNotFound
 *   GET  /v1/components/{component_id}/workers/{worker_name}/promises/{oplog_idx}   (extension)
 *        200 {"state": "pending"} or {"state": "completed", "data": [...]}
 *   GET  /healthz
 *
 * Every status and body is documented in docs/http.md.  A completion goes through the host as
 * the outside party (as gp_host_complete_promise): it is committed before the 200 is sent and
 * wakes awaits in this process at once and in other processes within their fallback poll.
 */

/** A running HTTP server bound to a host.  Opaque. */
typedef struct gp_server gp_server;

/** Default of gp_server_options_t.max_body_bytes: 64 MiB + 64 KiB.  A compact JSON array of
 *  bytes takes at most 4 characters per payload byte ("255,"), so any payload of up to 16 MiB
 *  fits, with 64 KiB for the rest of the body; spaces after the commas take more. */
#define GP_SERVER_DEFAULT_MAX_BODY (UINT64_C(64) * 1024 * 1024 + UINT64_C(64) * 1024)
/** Default of gp_server_options_t.threads (threads are started as requests need them). */
#define GP_SERVER_DEFAULT_THREADS 64
/** Default of gp_server_options_t.request_timeout_ms: 10 s. */
#define GP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS 10000
/** Default of gp_server_options_t.idle_timeout_ms: 2 s. */
#define GP_SERVER_DEFAULT_IDLE_TIMEOUT_MS 2000
/** Bytes enough for any gp_server_url text plus NUL ("http://[" + 253 + "]:65535"). */
#define GP_SERVER_URL_SIZE 272

/** Options for gp_server_start.  Zero fields (and NULL strings) take their defaults.
 *  Initialise with `gp_server_options_t o = GP_SERVER_OPTIONS_INIT;` or
 *  gp_server_options_init(&o, GP_SERVER_OPTIONS_VERSION), then set the fields you want.  The
 *  strings are copied by gp_server_start.  Version 1 ends at `threads`: a caller built against
 *  it passes the smaller struct, and the fields after it take their defaults.
 *
 *  Slow or silent clients: a request must arrive whole (request line, headers, body) within
 *  request_timeout_ms of its first byte, however its bytes are spaced, else it is answered 408
 *  (or, if not even its request line arrived, the connection is closed); an answer the client
 *  does not take within the same time is abandoned.  A connection waits idle_timeout_ms for its
 *  next request, then is closed.  Request line and headers together are at most 64 KiB (431).
 *  Connections are served by one I/O thread per core, not a thread each: slow or idle clients
 *  delay no other. */
typedef struct gp_server_options_t {
    uint32_t version;
    /** Address to listen on: a numeric IPv4/IPv6 address or a host name, at most 253
     *  characters.  NULL = "127.0.0.1" (local connections only). */
    const char *address;
    /** TCP port; 0 = an ephemeral port chosen by the system (read it with gp_server_port). */
    uint16_t port;
    /** NULL or "" = no authentication.  Otherwise every request must carry
     *  "Authorization: Bearer <token>" or is answered 401; the token is compared in constant
     *  time and must be visible ASCII (0x21..0x7e). */
    const char *token;
    /** Largest request body accepted, in bytes, counted after any Content-Encoding is
     *  decoded; larger bodies get 413.  0 = GP_SERVER_DEFAULT_MAX_BODY. */
    uint64_t max_body_bytes;
    /** Most GETs of a file host's promises handled at once while they wait for its store
     *  (another process's lock), 1..1024, on threads started as requests need them.  A file
     *  host's completions are committed in batches (one transaction and one sync each) by two
     *  threads of their own; in-memory hosts answer on the I/O threads.
     *  0 = GP_SERVER_DEFAULT_THREADS. */
    int32_t threads;
    /* ---- version 2 */
    /** Milliseconds, 1..3600000, from a request's first byte to its last (and to send each
     *  answer); 0 = GP_SERVER_DEFAULT_REQUEST_TIMEOUT_MS. */
    int32_t request_timeout_ms;
    /** Milliseconds, 1..3600000, a connection waits for the first byte of its next request;
     *  0 = GP_SERVER_DEFAULT_IDLE_TIMEOUT_MS. */
    int32_t idle_timeout_ms;
} gp_server_options_t;

#define GP_SERVER_OPTIONS_VERSION 2
/** Every field of a gp_server_options_t of this version: the version, then defaults. */
#define GP_SERVER_OPTIONS_INIT {GP_SERVER_OPTIONS_VERSION, NULL, 0, NULL, 0, 0, 0, 0}

/** Sets *opts to the defaults of options version `version` (1..GP_SERVER_OPTIONS_VERSION):
 *  the version field set, every other field of that version zero or NULL; for version 1 only
 *  the fields up to `threads` are written (a caller built against version 1 passes that
 *  smaller struct).  GP_EINVAL if opts is NULL or the version is unknown (*opts unchanged). */
GP_API int gp_server_options_init(gp_server_options_t *opts, unsigned int version);

/**
 * Starts serving host over HTTP.  opts may be NULL for defaults.  The socket is bound and
 * accepting before this returns.  On success *out is a new handle that the caller stops and
 * frees with gp_server_stop; the server keeps the host open (gp_host_close may be called
 * while it runs).  GP_ELISTEN with the reason in the message when the address cannot be bound
 * (port in use, unknown address, not permitted); GP_EINVAL for bad options.
 * Thread safety: the server answers requests on its own threads; the host may be used from
 * other threads meanwhile.
 */
GP_API int gp_server_start(gp_server **out, gp_host *host, const gp_server_options_t *opts);

/** *out = the TCP port the server listens on (the chosen one when opts->port was 0). */
GP_API int gp_server_port(uint16_t *out, const gp_server *server);

/** Writes the server's base URL, "http://127.0.0.1:PORT" ("http://[addr]:PORT" for IPv6), and
 *  a NUL into out[out_size]; GP_EINVAL if it does not fit (GP_SERVER_URL_SIZE always fits). */
GP_API int gp_server_url(char *out, size_t out_size, const gp_server *server);

/** Stops accepting connections and closes every open one without waiting for its client: a
 *  request still being received is cut short (503 if the client reads it), an idle or slow
 *  connection is closed at once, a completion already being handled finishes (its commit is
 *  not interrupted; the answer is sent if the client takes it without blocking).  Then joins
 *  the server's threads, frees the server and sets *server to NULL.  It returns within
 *  milliseconds plus the time of the completions already running (each at most the host's busy
 *  timeout when the database is locked).  Accepts NULL and *server == NULL.  Must not race with other calls on
 *  the same handle, and must not be called from a thread of the server. */
GP_API void gp_server_stop(gp_server **server);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GOLEM_PROMISE_H */
