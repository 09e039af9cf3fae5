/*
 * The public header compiles as strict C99 (-std=c99 -Wall -Wextra -pedantic -Werror) and
 * is usable from C: its types, macros and functions are what a C host writes against.
 * Built as part of the build; the program also runs a few calls so a link or ABI mismatch
 * shows up as a failing ctest.
 */
#include <golem_promise.h>

#include <stdio.h>
#include <string.h>

/* Every public function is declared with the expected signature. */
static int (*const check_uuid_parse)(gp_uuid_t *, const char *) = gp_uuid_parse;
static int (*const check_uuid_format)(char *, size_t, const gp_uuid_t *) = gp_uuid_format;
static int (*const check_name_validate)(const char *) = gp_worker_name_validate;
static int (*const check_worker_id_make)(gp_worker_id_t *, const gp_uuid_t *, const char *) =
    gp_worker_id_make;
static int (*const check_worker_id_parse)(gp_worker_id_t *, const char *) = gp_worker_id_parse;
static int (*const check_worker_id_format)(char *, size_t, const gp_worker_id_t *) =
    gp_worker_id_format;
static int (*const check_promise_id_parse)(gp_promise_id_t *, const char *) = gp_promise_id_parse;
static int (*const check_promise_id_format)(char *, size_t, const gp_promise_id_t *) =
    gp_promise_id_format;
static void (*const check_bytes_free)(gp_bytes_t *) = gp_bytes_free;
static void (*const check_string_free)(char *) = gp_string_free;
static int (*const check_host_open)(gp_host **, const char *, const gp_host_options_t *) =
    gp_host_open;
static void (*const check_host_close)(gp_host **) = gp_host_close;
static int (*const check_host_complete)(int *, gp_host *, const gp_promise_id_t *,
                                        const uint8_t *, size_t) = gp_host_complete_promise;
static int (*const check_host_poll)(gp_bytes_t *, int *, gp_host *, const gp_promise_id_t *) =
    gp_host_poll_promise;
static int (*const check_host_await)(gp_bytes_t *, gp_host *, const gp_promise_id_t *,
                                     int64_t) = gp_host_await_promise;
static int (*const check_host_delete)(gp_host *, const gp_promise_id_t *) = gp_host_delete_promise;
static int (*const check_worker_open)(gp_worker **, gp_host *, const gp_worker_id_t *) =
    gp_worker_open;
static void (*const check_worker_close)(gp_worker **) = gp_worker_close;
static int (*const check_worker_get_id)(gp_worker_id_t *, const gp_worker *) = gp_worker_get_id;
static int (*const check_worker_create)(gp_promise_id_t *, gp_worker *) = gp_worker_create_promise;
static int (*const check_worker_complete)(int *, gp_worker *, const gp_promise_id_t *,
                                          const uint8_t *, size_t) = gp_worker_complete_promise;
static int (*const check_worker_poll)(gp_bytes_t *, int *, gp_worker *,
                                      const gp_promise_id_t *) = gp_worker_poll_promise;
static int (*const check_worker_await)(gp_bytes_t *, gp_worker *, const gp_promise_id_t *,
                                       int64_t) = gp_worker_await_promise;
static int (*const check_worker_delete)(gp_worker *, const gp_promise_id_t *) =
    gp_worker_delete_promise;
static int (*const check_worker_oplog_index)(uint64_t *, gp_worker *) = gp_worker_get_oplog_index;
static int (*const check_oplog_length)(uint64_t *, gp_host *, const gp_worker_id_t *) =
    gp_host_oplog_length;
static int (*const check_oplog_read)(gp_oplog_entry_t *, gp_host *, const gp_worker_id_t *,
                                     uint64_t) = gp_host_oplog_read;
static const char *(*const check_kind_name)(int32_t) = gp_oplog_kind_name;
static int (*const check_worker_open_v2)(gp_worker **, gp_host *, const gp_worker_id_t *,
                                         uint32_t) = gp_worker_open_v2;
static int (*const check_worker_restart)(gp_worker *) = gp_worker_restart;
static int (*const check_worker_is_replaying)(int *, gp_worker *) = gp_worker_is_replaying;
static int (*const check_worker_oplog_position)(uint64_t *, gp_worker *) = gp_worker_oplog_position;
static const char *(*const check_errstr)(int) = gp_errstr;
static const char *(*const check_last_message)(void) = gp_last_error_message;
static int (*const check_last_code)(void) = gp_last_error_code;
static const char *(*const check_version)(void) = gp_version;
static unsigned (*const check_version_number)(void) = gp_version_number;

static int failures = 0;

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "header_c99: FAILED: %s (last error: %s)\n", what, gp_last_error_message());
        ++failures;
    }
}

int main(void) {
    /* Options initialised the C99 way; zero fields take defaults. */
    gp_host_options_t opts = {GP_HOST_OPTIONS_VERSION, 0, 0, 0};
    gp_uuid_t uuid;
    gp_worker_id_t worker_id;
    gp_promise_id_t promise_id;
    char text[GP_PROMISE_ID_TEXT_SIZE];
    gp_host *host = NULL;
    gp_worker *worker = NULL;
    gp_bytes_t payload = {NULL, 0};
    int completed = 0;
    const void *declared[] = {
        (const void *)&check_uuid_parse,       (const void *)&check_uuid_format,
        (const void *)&check_name_validate,    (const void *)&check_worker_id_make,
        (const void *)&check_worker_id_parse,  (const void *)&check_worker_id_format,
        (const void *)&check_promise_id_parse, (const void *)&check_promise_id_format,
        (const void *)&check_bytes_free,       (const void *)&check_string_free,
        (const void *)&check_host_open,        (const void *)&check_host_close,
        (const void *)&check_host_complete,    (const void *)&check_host_poll,
        (const void *)&check_host_await,       (const void *)&check_host_delete,
        (const void *)&check_worker_open,      (const void *)&check_worker_close,
        (const void *)&check_worker_get_id,    (const void *)&check_worker_create,
        (const void *)&check_worker_complete,  (const void *)&check_worker_poll,
        (const void *)&check_worker_await,     (const void *)&check_worker_delete,
        (const void *)&check_worker_oplog_index, (const void *)&check_oplog_length,
        (const void *)&check_oplog_read,       (const void *)&check_kind_name,
        (const void *)&check_errstr,           (const void *)&check_last_message,
        (const void *)&check_last_code,        (const void *)&check_version,
        (const void *)&check_version_number,   (const void *)&check_worker_open_v2,
        (const void *)&check_worker_restart,   (const void *)&check_worker_is_replaying,
        (const void *)&check_worker_oplog_position,
    };
    (void)declared; /* compiling the assignments above is the check */

    expect(gp_version_number() == GP_VERSION_NUMBER, "header and library versions agree");
    expect(strcmp(gp_version(), GP_VERSION_STRING) == 0, "version string");
    expect(GP_MAX_PAYLOAD > (size_t)512 * 1024 * 1024, "GP_MAX_PAYLOAD of at least 512 MiB");

    expect(gp_uuid_parse(&uuid, "A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8") == GP_OK, "uuid parse");
    expect(uuid.high_bits == 0xa1a2a3a4b1b2c1c2ULL, "uuid high bits");
    expect(uuid.low_bits == 0xd1d2d3d4d5d6d7d8ULL, "uuid low bits");
    expect(gp_worker_id_make(&worker_id, &uuid, "c99-host") == GP_OK, "worker id");

    expect(gp_host_open(&host, ":memory:", &opts) == GP_OK, "host open");
    expect(gp_worker_open(&worker, host, &worker_id) == GP_OK, "worker open");
    expect(gp_worker_create_promise(&promise_id, worker) == GP_OK, "create promise");
    expect(gp_promise_id_format(text, sizeof text, &promise_id) == GP_OK, "format id");
    expect(strcmp(text, "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8/c99-host/2") == 0, "id text");
    expect(gp_host_complete_promise(&completed, host, &promise_id, (const uint8_t *)"c", 1) == GP_OK,
           "complete");
    expect(completed == 1, "completed");
    expect(gp_worker_await_promise(&payload, worker, &promise_id, 0) == GP_OK, "await");
    expect(payload.len == 1 && payload.data != NULL && payload.data[0] == 'c', "payload");
    gp_bytes_free(&payload);
    expect(payload.data == NULL && payload.len == 0, "bytes freed");
    gp_worker_close(&worker);
    gp_host_close(&host);
    expect(host == NULL && worker == NULL, "handles nulled");

    if (failures == 0) printf("header_c99: ok\n");
    return failures == 0 ? 0 : 1;
}
