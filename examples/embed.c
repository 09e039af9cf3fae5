/*
 * embed.c — an approval flow through the golem-promise C ABI (C99 + pthreads).
 *
 * A workflow worker creates a promise and publishes its id.  An approver (here a second
 * thread; in real life a webhook, another service or a person clicking a link) receives the id
 * as text and completes the promise with its decision.  The worker awaits the promise and
 * resumes with the decision bytes.
 *
 *   gp_embed               an in-memory host
 *   gp_embed approvals.db  a file host: state survives the process
 */
#include <golem_promise.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Prints a failed call with both the code's text and the thread's last error message. */
static int check(int status, const char *what) {
    if (status == GP_OK) return 1;
    fprintf(stderr, "embed: %s failed: %s: %s\n", what, gp_errstr(status), gp_last_error_message());
    return 0;
}

struct approver_args {
    gp_host *host;                          /* shared: hosts may be used from many threads */
    char promise_id[GP_PROMISE_ID_TEXT_SIZE]; /* what the approver was sent: just the text */
    int status;                             /* the approver's result, for main to report */
};

static void *approver(void *arg) {
    struct approver_args *a = (struct approver_args *)arg;
    const char *decision = "{\"approved\": true, \"by\": \"alice\", \"comment\": \"looks good\"}";
    gp_promise_id_t id;
    int completed = 0;

    a->status = gp_promise_id_parse(&id, a->promise_id);
    if (!check(a->status, "parsing the promise id")) return NULL;
    a->status = gp_host_complete_promise(&completed, a->host, &id, (const uint8_t *)decision,
                                         strlen(decision));
    if (!check(a->status, "completing the promise")) return NULL;
    printf("approver: %s\n", completed ? "decision delivered" : "already decided; the first decision stands");
    return NULL;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : ":memory:";
    gp_host *host = NULL;
    gp_worker *worker = NULL;
    gp_uuid_t component;
    gp_worker_id_t worker_id;
    gp_promise_id_t promise;
    gp_bytes_t decision = {NULL, 0};
    struct approver_args args;
    pthread_t thread;
    int thread_started = 0;
    int ok = 1;

    if (gp_version_number() != GP_VERSION_NUMBER) {
        fprintf(stderr, "embed: built with golem-promise %s but running %s\n", GP_VERSION_STRING,
                gp_version());
        return 1;
    }
    memset(&args, 0, sizeof args);

    ok = ok && check(gp_host_open(&host, path, NULL), "opening the host");
    ok = ok && check(gp_uuid_parse(&component, "0f8fad5b-d9cb-469f-a165-70867728950e"),
                     "parsing the component id");
    ok = ok && check(gp_worker_id_make(&worker_id, &component, "approval-workflow"),
                     "making the worker id");
    ok = ok && check(gp_worker_open(&worker, host, &worker_id), "opening the worker");
    if (ok) {
        /* Over a file that already holds this worker's oplog, the worker resumes the way a
         * restarted Golem worker does: its calls are answered from the recording. */
        int replaying = 0;
        ok = check(gp_worker_is_replaying(&replaying, worker), "asking about replay");
        if (ok && replaying) printf("workflow: resuming from the oplog (replay)\n");
    }
    ok = ok && check(gp_worker_create_promise(&promise, worker), "creating the promise");
    ok = ok && check(gp_promise_id_format(args.promise_id, sizeof args.promise_id, &promise),
                     "formatting the promise id");
    if (ok) {
        printf("workflow: waiting for approval, promise %s\n", args.promise_id);
        fflush(stdout);
        args.host = host;
        if (pthread_create(&thread, NULL, approver, &args) != 0) {
            fprintf(stderr, "embed: cannot start the approver thread\n");
            ok = 0;
        } else {
            thread_started = 1;
        }
    }
    /* Wait at most 10 s: a real workflow would pick its own deadline, or pass -1. */
    ok = ok && check(gp_worker_await_promise(&decision, worker, &promise, 10000),
                     "awaiting the decision");
    if (thread_started) pthread_join(thread, NULL);
    if (thread_started && args.status != GP_OK) ok = 0;
    if (ok) printf("workflow: decision %.*s\n", (int)decision.len, (const char *)decision.data);

    gp_bytes_free(&decision);
    gp_worker_close(&worker);
    gp_host_close(&host);
    return ok ? 0 : 1;
}
