/* store_only.c - hd-store-only: what durable recording alone costs per
 * delivery, with no HTTP at all, for bench/run.sh ("hot path").
 *
 *   hd-store-only [-n N] [-b B] [-c CONCURRENCY] [-m MAX_IN_FLIGHT] [-d DIR] [-p] [-k]
 *
 * Does, single-threaded and against a real SQLite file, what the engine's
 * committer thread does for N messages (default 100000):
 *   - seeds (not measured) one site, "bench", and N messages with the
 *     bench's payload, import style: one transaction, store_message_add in
 *     a loop, on a connection of its own that is closed afterwards (the
 *     bench imports with another process);
 *   - opens the store exactly as engine_start opens the committer's
 *     connection (synchronous FULL, busy timeout 2 s, no reference checks,
 *     the default site timeout and breaker policy of config_defaults);
 *   - then, measured, loops: one transaction (store_tx_begin ...
 *     store_tx_commit) that records the outcomes of the previous batch
 *     (store_record_outcomes: attempt 1, 200, 1 ms, the request headers
 *     hookdesk stores for the bench site, the headers and body hd-receiver
 *     answers /ok with, Done, verdict OK) and claims the next B (default
 *     32; the engine records ~100 per transaction at 32 in flight)
 *     with store_claim_fair (concurrency 32, depth READY_DEPTH + 1 = 7, the
 *     breaker policy), until nothing is left;
 *   - checks that all N are Done (store_status_counts).
 * Prints the figures as one line of key=value pairs (bench/run.sh reads
 * cpu_us, user_us, sys_us):
 *   store-only: n=N b=B tx=T wall_s=W cpu_us=C user_us=U sys_us=S dps=D done=N/N
 * cpu_us is getrusage(RUSAGE_SELF) user + system time of the measured loop
 * per delivery.  -p adds, per delivery, the thread CPU time and wall time of
 * each part of the transaction (claim, record, commit, the rest) on a second
 * line; it costs a few clock_gettime calls per transaction.  The database
 * lives in a fresh directory under DIR (default $TMPDIR or /tmp) that is
 * removed at the end unless -k.
 * Instructions per delivery, split claim / record / commit, measured loop
 * only (deliver_all):
 *   valgrind --tool=callgrind --toggle-collect=deliver_all \
 *       --callgrind-out-file=cg.out build/rel/hd-store-only -n 5000
 *   callgrind_annotate --inclusive=yes cg.out | grep -E 'deliver_all|store_(claim_fair|record_outcomes|tx_commit)'
 * Exit status: 0, 1 on a failure (or not all Done), 2 on bad usage.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hd_breaker.h"
#include "hd_version.h"
#include "hd_config.h"
#include "hd_error.h"
#include "hd_site.h"
#include "hd_store.h"
#include "hd_util.h"

/* The bench's payload (bench/run.sh BODY, bench/floor.c DEFAULT_BODY). */
#define BENCH_BODY \
    "{\"order\":{\"id\":42,\"total\":\"19.99\",\"currency\":\"EUR\"},\"note\":\"benchmark payload\"}"
/* The engine's claim depth: READY_DEPTH (6, src/engine.c) + 1. */
#define CLAIM_DEPTH 7
/* What hd-receiver answers POST /ok with (curl -i): 3 header lines, "ok\n". */
#define RESPONSE_BODY "ok\n"
#define REQ_HEADERS_MAX 160

static void die(const char *what, const hd_error *err)
{
    fprintf(stderr, "hd-store-only: %s: %s\n", what, err && err->msg[0] ? err->msg : "failed");
    exit(1);
}

static long parse_count(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 1) {
        fprintf(stderr, "hd-store-only: %s must be a positive integer, got '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Seeds the site and n messages (not measured); returns the site's id. */
static int64_t seed(const char *db, long n, int max_in_flight)
{
    hd_error err = {0};
    store *st = NULL;
    store_options so = { .synchronous_full = true };
    if (store_open(db, &so, &st, &err) != HD_OK)
        die("seed: opening the database", &err);
    site s;
    site_init(&s);
    s.name = hd_xstrdup("bench");
    s.url = hd_xstrdup("http://127.0.0.1:9/ok");   /* never contacted */
    s.max_in_flight = max_in_flight;
    int64_t site_id = 0;
    if (store_site_add(st, &s, &site_id, &err) != HD_OK)
        die("seed: adding the site", &err);
    site_free(&s);
    if (store_tx_begin(st, &err) != HD_OK)
        die("seed: begin", &err);
    char customer[32];
    for (long i = 0; i < n; i++) {
        snprintf(customer, sizeof customer, "cus_%ld", i % 1000);
        new_message m = { .site_id = site_id, .action = "order.created", .customer = customer,
                          .payload = BENCH_BODY };
        int64_t id;
        if (store_message_add(st, &m, &id, &err) != HD_OK)
            die("seed: adding a message", &err);
    }
    if (store_tx_commit(st, &err) != HD_OK)
        die("seed: commit", &err);
    store_close(st);
    return site_id;
}

/* The outcome hookdesk records for a message of the bench site answered
 * 200 by hd-receiver; reqh is the slot's buffer for its request headers. */
static void outcome_fill(attempt_outcome *o, const message *m, char *reqh, const char *resph,
                         int64_t now)
{
    memset(o, 0, sizeof *o);
    /* What request_headers_text gives for the bench site (no auth, no
     * extra headers): the headers hookdesk sends, one per line. */
    snprintf(reqh, REQ_HEADERS_MAX,
             "Content-Type: application/json\nUser-Agent: hookdesk/" HOOKDESK_VERSION
             "\nwebhook-id: %s\n", m->webhook_id);
    o->a.message_id = m->id;
    o->a.site_id = m->site_id;
    o->a.number = m->attempts + 1;
    o->a.started_at = now;
    o->a.duration_ms = 1;
    o->a.response_code = 200;
    o->a.error = NULL;
    o->a.request_headers = reqh;
    o->a.response_headers = (char *)(uintptr_t)resph;
    o->a.response_body = (char *)(uintptr_t)RESPONSE_BODY;
    o->a.response_body_len = sizeof RESPONSE_BODY - 1;
    o->a.body_truncated = false;
    o->old_status = m->status;
    o->new_status = MSG_DONE;
    o->next_due_at = 0;
    o->retry_after_ms = 0;
    o->verdict = VERDICT_OK;
    o->probe = m->probe;
}

/* hd-receiver's answer headers, with the Date of now. */
static void response_headers(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(out, len, "Date: %s\nContent-Type: text/plain\nContent-Length: %zu\n", date,
             sizeof RESPONSE_BODY - 1);
}

enum { PART_CLAIM, PART_RECORD, PART_COMMIT, PART_OTHER, NPARTS };
static const char *const part_names[NPARTS] = { "claim", "record", "commit", "other" };

typedef struct run {
    store *st;                   /* the committer's connection */
    const char *owner;           /* the lease owner */
    int batch, concurrency;
    const breaker_policy *breaker;
    int64_t lease_extra_ms;
    bool phases;                 /* -p: time each part */
    long delivered, tx;          /* out: outcomes recorded, transactions */
    double cpu[NPARTS], wall[NPARTS];   /* out with -p: seconds per part */
} run;

/* The measured loop: what the committer does, one transaction per batch
 * (its own function, so that `valgrind --tool=callgrind
 * --toggle-collect=deliver_all` counts it and not the seeding). */
static __attribute__((noinline)) void deliver_all(run *r)
{
    hd_error err = {0};
    attempt_outcome *outs = hd_xcalloc((size_t)r->batch, sizeof *outs);
    char *reqh = hd_xcalloc((size_t)r->batch, REQ_HEADERS_MAX);
    char resph[160];
    message_list prev = {0};
    unsigned rotation = 0;
    double c_mark = 0, w_mark = 0;
#define PART(p)                                                  \
    do {                                                         \
        if (r->phases) {                                         \
            double c_ = now_s(CLOCK_THREAD_CPUTIME_ID);          \
            double w_ = now_s(CLOCK_MONOTONIC);                  \
            r->cpu[p] += c_ - c_mark;                            \
            r->wall[p] += w_ - w_mark;                           \
            c_mark = c_;                                         \
            w_mark = w_;                                         \
        }                                                        \
    } while (0)

    if (r->phases) {
        c_mark = now_s(CLOCK_THREAD_CPUTIME_ID);
        w_mark = now_s(CLOCK_MONOTONIC);
    }
    for (;;) {
        int nouts = prev.count;
        int64_t now = hd_now_ms();
        if (nouts > 0)
            response_headers(resph, sizeof resph);
        for (int i = 0; i < nouts; i++)
            outcome_fill(&outs[i], &prev.items[i], reqh + (size_t)i * REQ_HEADERS_MAX, resph,
                         now);
        if (store_tx_begin(r->st, &err) != HD_OK)
            die("begin", &err);
        PART(PART_OTHER);
        if (nouts > 0 && store_record_outcomes(r->st, r->owner, outs, nouts, &err) != HD_OK)
            die("recording outcomes", &err);
        PART(PART_RECORD);
        claim_request rq = {
            .owner = r->owner, .now_ms = hd_now_ms(), .lease_extra_ms = r->lease_extra_ms,
            .limit = r->batch, .concurrency = r->concurrency, .depth = CLAIM_DEPTH,
            .held = NULL, .nheld = 0, .rotation = rotation++, .breaker = r->breaker,
        };
        message_list next;
        if (store_claim_fair(r->st, &rq, &next, &err) != HD_OK)
            die("claiming", &err);
        PART(PART_CLAIM);
        if (store_tx_commit(r->st, &err) != HD_OK)
            die("commit", &err);
        PART(PART_COMMIT);
        circuit_event *ev = NULL;
        int nev = 0;
        store_take_circuit_events(r->st, &ev, &nev);
        free(ev);
        r->tx++;
        r->delivered += nouts;
        message_list_free(&prev);
        prev = next;
        PART(PART_OTHER);
        if (prev.count == 0)
            break;
    }
#undef PART
    free(outs);
    free(reqh);
}

int main(int argc, char **argv)
{
    long n = 100000, batch = 32, concurrency = 32, max_in_flight = 32;
    const char *parent = getenv("TMPDIR");
    bool phases = false, keep = false;
    int opt;
    /* SQLite set up as hookdesk sets it up (its allocator, no memory
     * statistics), before any connection. */
    store_global_init();
    while ((opt = getopt(argc, argv, "n:b:c:m:d:pk")) != -1) {
        switch (opt) {
        case 'n': n = parse_count(optarg, "N"); break;
        case 'b': batch = parse_count(optarg, "B"); break;
        case 'c': concurrency = parse_count(optarg, "concurrency"); break;
        case 'm': max_in_flight = parse_count(optarg, "max_in_flight"); break;
        case 'd': parent = optarg; break;
        case 'p': phases = true; break;
        case 'k': keep = true; break;
        default:
            fprintf(stderr, "usage: hd-store-only [-n N] [-b B] [-c CONCURRENCY] "
                            "[-m MAX_IN_FLIGHT] [-d DIR] [-p] [-k]\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "hd-store-only: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (max_in_flight > SITE_MAX_IN_FLIGHT) {
        fprintf(stderr, "hd-store-only: max_in_flight is at most %d\n", SITE_MAX_IN_FLIGHT);
        return 2;
    }
    if (!parent || !*parent)
        parent = "/tmp";
    char dir[4096], db[4200];
    snprintf(dir, sizeof dir, "%s/hd-store-only.XXXXXX", parent);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "hd-store-only: mkdtemp %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(db, sizeof db, "%s/store.db", dir);

    double s0 = now_s(CLOCK_MONOTONIC);
    seed(db, n, (int)max_in_flight);
    double seed_s = now_s(CLOCK_MONOTONIC) - s0;

    /* The committer's connection, as engine_start opens it. */
    config cfg;
    config_defaults(&cfg);
    hd_error err = {0};
    store_options so = { .synchronous_full = cfg.delivery.synchronous_full,
                         .busy_timeout_ms = 2000, .read_only = false,
                         .no_reference_checks = true };
    store *st = NULL;
    if (store_open(db, &so, &st, &err) != HD_OK)
        die("opening the committer's connection", &err);
    store_set_default_timeout(st, cfg.delivery.timeout_ms);
    store_set_breaker(st, &cfg.delivery.breaker);

    char owner[128];
    char host[64] = "localhost";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    snprintf(owner, sizeof owner, "%s:%ld:store-only", host, (long)getpid());

    run r = { .st = st, .owner = owner, .batch = (int)batch, .concurrency = (int)concurrency,
              .breaker = &cfg.delivery.breaker, .lease_extra_ms = cfg.delivery.lease_ms,
              .phases = phases };
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double t0 = now_s(CLOCK_MONOTONIC);
    deliver_all(&r);
    double t1 = now_s(CLOCK_MONOTONIC);
    getrusage(RUSAGE_SELF, &r1);
    long delivered = r.delivered, tx = r.tx;

    int64_t counts[MSG_STATUS_COUNT];
    if (store_status_counts(st, counts, &err) != HD_OK)
        die("reading the status counts", &err);
    store_close(st);
    config_free(&cfg);
    if (!keep)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

    double user = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
    double sys = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
    double w = t1 - t0;
    double per = delivered > 0 ? 1e6 / (double)delivered : 0;
    printf("store-only: n=%ld b=%ld tx=%ld wall_s=%.3f cpu_us=%.2f user_us=%.2f sys_us=%.2f "
           "dps=%.0f tx_ms=%.3f done=%lld/%ld seed_s=%.2f\n",
           n, batch, tx, w, (user + sys) * per, user * per, sys * per,
           w > 0 ? (double)delivered / w : 0, tx > 0 ? w * 1e3 / (double)tx : 0,
           (long long)counts[MSG_DONE], n, seed_s);
    if (phases) {
        printf("store-only parts, us per delivery (thread CPU / wall):");
        for (int p = 0; p < NPARTS; p++)
            printf(" %s %.2f/%.2f", part_names[p], r.cpu[p] * per, r.wall[p] * per);
        printf("\n");
    }
    if (keep)
        printf("store-only: database kept in %s\n", db);
    bool ok = delivered == n && counts[MSG_DONE] == n;
    for (int s = 0; s < MSG_STATUS_COUNT; s++)
        if (s != MSG_DONE && counts[s] != 0)
            ok = false;
    if (!ok) {
        fprintf(stderr, "hd-store-only: expected %ld Done, got %lld (queued %lld, resent %lld, "
                        "failed %lld; %ld recorded)\n", n, (long long)counts[MSG_DONE],
                (long long)counts[MSG_QUEUED], (long long)counts[MSG_RESENT],
                (long long)counts[MSG_FAILED], delivered);
        return 1;
    }
    return 0;
}
