/* A downstream program: checks that the header it was compiled with and the library it runs
 * with agree, then makes one round trip through a promise. Prints "consumer: ok" on success. */
#include <golem_promise.h>

#include <stdio.h>
#include <string.h>

static int check(int status, const char *what) {
    if (status != GP_OK) {
        fprintf(stderr, "consumer: %s: %s (%s)\n", what, gp_errstr(status), gp_last_error_message());
        return 0;
    }
    return 1;
}

int main(void) {
    gp_host *host = NULL;
    gp_worker *worker = NULL;
    gp_uuid_t component;
    gp_worker_id_t worker_id;
    gp_promise_id_t promise;
    gp_bytes_t payload = {NULL, 0};
    int completed = 0;
    int ok = 1;

    if (gp_version_number() != GP_VERSION_NUMBER) {
        fprintf(stderr, "consumer: header %s but library %s\n", GP_VERSION_STRING, gp_version());
        return 1;
    }
    ok = ok && check(gp_uuid_parse(&component, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "uuid");
    ok = ok && check(gp_worker_id_make(&worker_id, &component, "consumer"), "worker id");
    ok = ok && check(gp_host_open(&host, ":memory:", NULL), "open host");
    ok = ok && check(gp_worker_open(&worker, host, &worker_id), "open worker");
    ok = ok && check(gp_worker_create_promise(&promise, worker), "create");
    ok = ok && check(gp_host_complete_promise(&completed, host, &promise, (const uint8_t *)"hi", 2),
                     "complete");
    ok = ok && check(gp_worker_await_promise(&payload, worker, &promise, 1000), "await");
    if (ok && (completed != 1 || payload.len != 2 || memcmp(payload.data, "hi", 2) != 0)) {
        fprintf(stderr, "consumer: wrong result\n");
        ok = 0;
    }
    gp_bytes_free(&payload);
    gp_worker_close(&worker);
    gp_host_close(&host);
    if (ok) printf("consumer: ok (golem-promise %s)\n", gp_version());
    return ok ? 0 : 1;
}
