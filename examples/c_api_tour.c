/*
 * c_api_tour.c — one pass over the golem-promise C ABI (C99), quoted in full by docs/c-api.md.
 *
 * A worker creates a promise, an outside party completes it, the worker polls and awaits it;
 * then the tour reads the oplog, lists the host's promises, replays the worker, deletes the
 * promise and starts and stops the HTTP server.  Every result is checked: the program prints
 * what went wrong and exits 1 on the first surprise, so it runs as a test (ctest -L example).
 */
#include <golem_promise.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exits with both texts of a failure: the code's static name and the thread's last message. */
static void check(int status, int expected, const char *call, int line) {
    if (status == expected) return;
    fprintf(stderr, "c_api_tour:%d: %s gave %s (%s), expected %s\n", line, call, gp_errstr(status),
            gp_last_error_message(), gp_errstr(expected));
    exit(1);
}
static void expect(int holds, const char *condition, int line) {
    if (holds) return;
    fprintf(stderr, "c_api_tour:%d: expected %s\n", line, condition);
    exit(1);
}
#define CHECK(call) check((call), GP_OK, #call, __LINE__)
#define CHECK_FAILS(code, call) check((call), (code), #call, __LINE__)
#define EXPECT(condition) expect((condition), #condition, __LINE__)

int main(void) {
    /* Versions: the header this was compiled with and the library it runs with must agree. */
    EXPECT(gp_version_number() == GP_VERSION_NUMBER);
    printf("golem-promise %s\n", gp_version());

    /* A host: ":memory:" here, a file path for a durable host shared by processes.  Options
     * structs start with their version; fields left zero take their defaults. */
    gp_host_options_t host_opts = GP_HOST_OPTIONS_INIT;
    host_opts.busy_timeout_ms = 2000;
    gp_host *host = NULL;
    CHECK(gp_host_open(&host, ":memory:", &host_opts));

    /* Ids: Golem's Uuid, WorkerId and PromiseId, with their text forms. */
    gp_uuid_t component;
    gp_worker_id_t worker_id;
    char worker_text[GP_WORKER_ID_TEXT_SIZE];
    CHECK(gp_uuid_parse(&component, "0f8fad5b-d9cb-469f-a165-70867728950e"));
    CHECK_FAILS(GP_EINVAL, gp_worker_name_validate("no spaces allowed"));
    printf("rejected name: %s\n", gp_last_error_message());
    CHECK(gp_worker_id_make(&worker_id, &component, "tour"));
    CHECK(gp_worker_id_format(worker_text, sizeof worker_text, &worker_id));

    /* A worker: each of its calls appends one entry to its oplog. */
    gp_worker *worker = NULL;
    gp_promise_id_t promise_id, parsed;
    char promise_text[GP_PROMISE_ID_TEXT_SIZE];
    CHECK(gp_worker_open(&worker, host, &worker_id));
    CHECK(gp_worker_create_promise(&promise_id, worker));
    CHECK(gp_promise_id_format(promise_text, sizeof promise_text, &promise_id));
    CHECK(gp_promise_id_parse(&parsed, promise_text)); /* what a webhook would receive */
    printf("worker %s created promise %s\n", worker_text, promise_text);

    /* A promise handle (Golem's get-promise): host-level, records nothing. */
    gp_promise *handle = NULL;
    int32_t state = 0;
    int ready = 0;
    CHECK(gp_host_get_promise(&handle, host, &promise_id));
    CHECK(gp_promise_state(&state, handle));
    CHECK(gp_promise_ready(&ready, handle));
    EXPECT(state == GP_PROMISE_PENDING && ready == 0);
    CHECK_FAILS(GP_ETIMEOUT, gp_promise_block(handle, 0)); /* 0 checks once */

    /* An outside party completes it; the first payload wins.  The change counter moves. */
    uint64_t changes_before = 0, changes_after = 0;
    int completed = 0;
    CHECK(gp_host_change_counter(&changes_before, host));
    CHECK(gp_host_complete_promise(&completed, host, &parsed, (const uint8_t *)"yes", 3));
    EXPECT(completed == 1);
    CHECK(gp_host_complete_promise(&completed, host, &parsed, (const uint8_t *)"no", 2));
    EXPECT(completed == 0);
    CHECK(gp_host_change_counter(&changes_after, host));
    EXPECT(changes_after != changes_before);
    CHECK(gp_promise_block(handle, -1));

    /* Payloads come back as gp_bytes_t, owned by the caller and freed with gp_bytes_free. */
    gp_bytes_t payload = {NULL, 0};
    CHECK(gp_promise_get(&payload, &ready, handle));
    EXPECT(ready == 1 && payload.len == 3 && memcmp(payload.data, "yes", 3) == 0);
    gp_bytes_free(&payload);
    CHECK(gp_worker_poll_promise(&payload, &ready, worker, &promise_id)); /* recorded */
    EXPECT(ready == 1 && payload.len == 3);
    gp_bytes_free(&payload);
    CHECK(gp_worker_await_promise(&payload, worker, &promise_id, 1000)); /* recorded */
    printf("awaited: %.*s\n", (int)payload.len, (const char *)payload.data);
    gp_bytes_free(&payload);
    uint64_t oplog_index = 0;
    CHECK(gp_worker_get_oplog_index(&oplog_index, worker));

    /* The oplog: create, create-promise, poll-promise, await-promise, get-oplog-index. */
    uint64_t length = 0;
    CHECK(gp_host_oplog_length(&length, host, &worker_id));
    EXPECT(length == 5 && oplog_index == 5);
    for (uint64_t i = 1; i <= length; i++) {
        gp_oplog_entry_t entry;
        CHECK(gp_host_oplog_read(&entry, host, &worker_id, i));
        printf("oplog %" PRIu64 ": %s (%s)\n", entry.oplog_idx, gp_oplog_kind_name(entry.kind),
               gp_errstr(entry.status));
    }

    /* Listing: a snapshot the caller owns and frees with gp_promise_list_free. */
    gp_promise_list_t list = {NULL, 0};
    CHECK(gp_host_list_promises(&list, host, &worker_id, GP_PROMISE_COMPLETED));
    EXPECT(list.count == 1 && list.items[0].payload_len == 3);
    gp_promise_list_free(&list);

    /* Replay: after a (simulated) restart the worker's calls are answered from its oplog. */
    gp_promise_id_t replayed;
    CHECK(gp_worker_restart(worker));
    CHECK(gp_worker_is_replaying(&ready, worker));
    EXPECT(ready == 1);
    CHECK(gp_worker_create_promise(&replayed, worker));
    EXPECT(replayed.oplog_idx == promise_id.oplog_idx); /* the same id, nothing written */
    CHECK_FAILS(GP_ENONDETERMINISM, gp_worker_delete_promise(worker, &promise_id));
    printf("replay refused: %s\n", gp_last_error_message());
    CHECK(gp_worker_poll_promise(&payload, &ready, worker, &promise_id)); /* as recorded */
    gp_bytes_free(&payload);
    CHECK(gp_worker_await_promise(&payload, worker, &promise_id, 0));
    gp_bytes_free(&payload);
    CHECK(gp_worker_get_oplog_index(&oplog_index, worker));
    CHECK(gp_worker_is_replaying(&ready, worker));
    EXPECT(ready == 0 && oplog_index == 5); /* the recording is used up: live again */

    /* Deleting: idempotent; afterwards the promise is gone. */
    CHECK(gp_host_delete_promise(host, &promise_id));
    CHECK(gp_host_delete_promise(host, &promise_id));
    CHECK(gp_promise_state(&state, handle));
    EXPECT(state == GP_PROMISE_GONE);
    CHECK_FAILS(GP_ENOTFOUND, gp_host_poll_promise(&payload, &ready, host, &promise_id));
    EXPECT(gp_last_error_code() == GP_ENOTFOUND);
    printf("after delete: %s\n", gp_errstr(GP_ENOTFOUND));

    /* The HTTP completion endpoint, on an ephemeral port of 127.0.0.1. */
    gp_server_options_t server_opts = GP_SERVER_OPTIONS_INIT;
    server_opts.threads = 2;
    gp_server *server = NULL;
    char url[GP_SERVER_URL_SIZE];
    CHECK(gp_server_start(&server, host, &server_opts));
    CHECK(gp_server_url(url, sizeof url, server));
    printf("serving %s\n", url);
    gp_server_stop(&server);

    /* Close and free functions take the address of the handle, set it to NULL, accept NULL. */
    gp_promise_close(&handle);
    gp_worker_close(&worker);
    gp_host_close(&host);
    gp_host_close(&host); /* host is NULL now: does nothing */
    EXPECT(handle == NULL && worker == NULL && host == NULL && server == NULL);
    printf("tour: ok\n");
    return 0;
}
