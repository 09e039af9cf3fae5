/*
 * A consumer written only with the idioms docs/c-api.md documents, built with the strictest
 * flags an embedder uses: -std=c99 -Wall -Wextra -Werror -pedantic (this file), and the same
 * code as C++17 with -Wold-style-cast (strict.cpp includes it).  It runs a small
 * create-complete-await over a host and a server, so the idioms also work, not only compile.
 */
#include <golem_promise.h>

#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
#define GP_NULL nullptr
#define GP_LANGUAGE "C++"
#else
#define GP_NULL NULL
#define GP_LANGUAGE "C"
#endif

static int report(int rc, const char *what) {
    /* The documented line: both strings are valid here (gp_errstr does not fail). */
    if (rc != GP_OK) fprintf(stderr, "%s: %s | %s\n", what, gp_errstr(rc), gp_last_error_message());
    return rc != GP_OK;
}

int strict_consumer(void) {
    gp_host_options_t host_opts = GP_HOST_OPTIONS_INIT;
    gp_host_options_t by_function;
    gp_server_options_t server_opts = GP_SERVER_OPTIONS_INIT;
    gp_host *host = GP_NULL;
    gp_worker *worker = GP_NULL;
    gp_server *server = GP_NULL;
    gp_worker_id_t wid;
    gp_uuid_t component;
    gp_promise_id_t pid;
    gp_bytes_t payload = {GP_NULL, 0};
    char text[GP_PROMISE_ID_TEXT_SIZE];
    int completed = 0;
    int failures = 0;
    const size_t max_payload = GP_MAX_PAYLOAD;
    const uint64_t max_body = GP_SERVER_DEFAULT_MAX_BODY;
    static const uint8_t data[] = {'o', 'k'};

    host_opts.busy_timeout_ms = 1000;
    failures += report(gp_host_options_init(&by_function, GP_HOST_OPTIONS_VERSION), "gp_host_options_init");
    failures += by_function.version != GP_HOST_OPTIONS_VERSION || by_function.busy_timeout_ms != 0;
    server_opts.threads = 2;
    failures += max_payload < 16u * 1024u * 1024u || max_body < 4u * 16u * 1024u * 1024u;

    failures += report(gp_host_open(&host, ":memory:", &host_opts), "gp_host_open");
    failures += report(gp_uuid_parse(&component, "7e3a1c2b-0000-4000-8000-000000000025"), "gp_uuid_parse");
    failures += report(gp_worker_id_make(&wid, &component, "strict"), "gp_worker_id_make");
    failures += report(gp_worker_open(&worker, host, &wid), "gp_worker_open");
    failures += report(gp_worker_create_promise(&pid, worker), "gp_worker_create_promise");
    failures += report(gp_promise_id_format(text, sizeof text, &pid), "gp_promise_id_format");
    failures += report(gp_server_start(&server, host, &server_opts), "gp_server_start");
    failures += report(gp_host_complete_promise(&completed, host, &pid, data, sizeof data), "gp_host_complete_promise");
    failures += report(gp_worker_await_promise(&payload, worker, &pid, 1000), "gp_worker_await_promise");
    failures += completed != 1 || payload.len != 2 || memcmp(payload.data, "ok", 2) != 0;
    /* A failing call leaves its out parameters empty: nothing to free, nothing stale. */
    failures += gp_promise_id_parse(&pid, "not an id") != GP_EINVAL || pid.oplog_idx != 0;
    gp_bytes_free(&payload);
    gp_server_stop(&server);
    gp_worker_close(&worker);
    gp_host_close(&host);
    printf("strict consumer (%s): %s, %d failures\n", GP_LANGUAGE, text, failures);
    return failures;
}

#ifndef GP_STRICT_NO_MAIN
int main(void) { return strict_consumer() == 0 ? 0 : 1; }
#endif
