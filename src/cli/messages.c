/* messages.c - send, logs, queue, show, resend, purge.
 *
 * Listing commands never load a whole table: they walk the store's keyset
 * pages (newest first) and print each page as it arrives.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_json.h"
#include "hd_queue_state.h"
#include "hd_sanitize.h"
#include "hd_util.h"

/* Rows fetched per store query while listing. */
#define LIST_PAGE 1000

/* ---- send ---- */

/* The payload file ('-': stdin), but never more than max + 1 bytes of it:
 * a 100 MB file is refused without being read.  *size is the size to
 * report when out->len > max: the file's, when it is a regular file, else
 * 0 (a pipe: more than max, by how much is not known). */
static hd_status read_payload(const char *path, uint64_t max, hd_buf *out, uint64_t *size,
                              hd_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    *size = 0;
    struct stat st;
    off_t at = is_stdin ? ftello(stdin) : 0;
    if ((is_stdin ? fstat(STDIN_FILENO, &st) : stat(path, &st)) == 0 && S_ISREG(st.st_mode) &&
        at >= 0 && st.st_size >= at)
        *size = (uint64_t)(st.st_size - at);
    hd_status rc = (hd_status)hd_read_file_max(path, max, out, err);
    if (rc != HD_OK)
        return rc;
    if (*size < out->len)    /* a file that grew while read, or a pipe */
        *size = out->len > max ? 0 : out->len;
    return HD_OK;
}

/* What `send` was asked: its options, as given. */
typedef struct send_opts {
    const char *site_name;   /* --site */
    const char *action;      /* --action */
    const char *customer;    /* --customer, NULL = none */
    const char *path;        /* --path, NULL = none */
    const char *payload_file; /* --payload FILE or '-', NULL = "{}" */
} send_opts;

/* Reads and checks send's options.  Returns -1 when all went well, else
 * the exit code. */
static int parse_send_opts(cli_ctx *ctx, int argc, char **argv, send_opts *so)
{
    static const struct option longopts[] = {
        { "site", required_argument, NULL, 's' },
        { "action", required_argument, NULL, 'a' },
        { "customer", required_argument, NULL, 'C' },
        { "path", required_argument, NULL, 'p' },
        { "payload", required_argument, NULL, 'P' },
        { NULL, 0, NULL, 0 },
    };
    memset(so, 0, sizeof *so);
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': so->site_name = optarg; break;
        case 'a': so->action = optarg; break;
        case 'C': so->customer = optarg; break;
        case 'p': so->path = optarg; break;
        case 'P': so->payload_file = optarg; break;
        default: return cli_bad_option(ctx->cmd, opt, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
    if (!so->site_name)
        return cli_usage_error(ctx->cmd, "--site is required");
    if (!so->action || !*so->action)
        return cli_usage_error(ctx->cmd, "--action is required");
    if (so->path && so->path[0] != '/')
        return cli_usage_error(ctx->cmd, "--path: must start with '/'");
    return -1;
}

/* The payload file as messages name it: "(stdin)" for '-'. */
static const char *payload_name(const char *file)
{
    return strcmp(file, "-") ? file : "(stdin)";
}

/* The --payload file into payload, refused past delivery.max_payload before
 * anything is parsed.  Returns -1 when all went well, else the exit code. */
static int read_send_payload(cli_ctx *ctx, const char *file, hd_buf *payload)
{
    hd_error err = { 0 };
    uint64_t max = ctx->cfg.delivery.max_payload, size = 0;
    if (read_payload(file, max, payload, &size, &err) != HD_OK)
        return cli_report(ctx->cmd, &err);
    if (payload->len <= max)
        return -1;
    char limit[32];
    size_words(max, limit, sizeof limit);
    if (size > max)
        return cli_fail(ctx->cmd, 2, "payload %s: %llu bytes is more than "
                        "delivery.max_payload (%s)", payload_name(file),
                        (unsigned long long)size, limit);
    return cli_fail(ctx->cmd, 2, "payload %s: more than delivery.max_payload (%s)",
                    payload_name(file), limit);
}

/* send's payload: the file's (or "{}" without one), which must be one JSON
 * value without NUL bytes.  Returns -1 when all went well, else the exit
 * code. */
static int load_send_payload(cli_ctx *ctx, const char *file, hd_buf *payload)
{
    if (!file) {
        hd_buf_puts(payload, "{}");
        return -1;
    }
    int rc = read_send_payload(ctx, file, payload);
    if (rc != -1)
        return rc;
    hd_error err = { 0 };
    if (!json_valid(payload->data, payload->len, &err))
        return cli_fail(ctx->cmd, 2, "payload %s: %s", payload_name(file), err.msg);
    if (strlen(payload->data) != payload->len)
        return cli_fail(ctx->cmd, 2, "payload: contains a NUL byte");
    return -1;
}

/* Queues the message and prints its id.  Returns the exit code. */
static int send_store(cli_ctx *ctx, const send_opts *so, const char *payload)
{
    int rc = 0;
    int64_t site_id = 0;
    if (!cli_site_id(ctx, so->site_name, &site_id, &rc))
        return rc;
    new_message nm = {
        .site_id = site_id,
        .action = so->action,
        .customer = so->customer && *so->customer ? so->customer : NULL,
        .path = so->path,
        .payload = payload,
        .resend_of = 0,
    };
    int64_t id = 0;
    hd_error err = { 0 };
    if (store_message_add(ctx->st, &nm, &id, &err) != HD_OK)
        return cli_report(ctx->cmd, &err);
    printf("%lld\n", (long long)id);
    return 0;
}

int cli_cmd_send(cli_ctx *ctx, int argc, char **argv)
{
    send_opts so;
    int rc = parse_send_opts(ctx, argc, argv, &so);
    if (rc != -1)
        return rc;
    hd_buf payload = { 0 };
    rc = load_send_payload(ctx, so.payload_file, &payload);
    if (rc == -1)
        rc = send_store(ctx, &so, payload.data);
    hd_buf_free(&payload);
    return rc;
}

/* ---- logs and queue ---- */

typedef struct list_opts {
    msg_filter f;
    const char *search;      /* --search: words of the action, customer, payload */
    int64_t limit;           /* 0 = all */
    cli_format format;
} list_opts;

/* "--status failed,resent" into a mask of MSG_STATUS_BIT()s.  Returns -1
 * when all went well, else the exit code. */
static int parse_status_list(cli_ctx *ctx, const char *text, unsigned *mask)
{
    char *copy = hd_xstrdup(text);
    char *save = NULL;
    int rc = -1;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == -1;
         tok = strtok_r(NULL, ",", &save)) {
        msg_status s;
        if (msg_status_parse(tok, &s))
            *mask |= MSG_STATUS_BIT(s);
        else
            rc = cli_usage_error(ctx->cmd,
                                 "--status: '%s' is not one of queued, resent, done, failed", tok);
    }
    free(copy);
    return rc;
}

/* One option of logs or queue (getopt's opt, its optarg) into lo.
 * Returns -1 when all went well, else the exit code. */
static int apply_list_opt(cli_ctx *ctx, int opt, char **argv, list_opts *lo)
{
    int rc = 0;
    switch (opt) {
    case 'S': return parse_status_list(ctx, optarg, &lo->f.status_mask);
    case 's': return cli_site_id(ctx, optarg, &lo->f.site_id, &rc) ? -1 : rc;
    case 'C': lo->f.customer = optarg; return -1;
    case 'a': lo->f.action_text = optarg; return -1;
    case 'w': lo->search = optarg; return -1;
    case 'b': return cli_parse_time(ctx->cmd, "--since", optarg, &lo->f.since_ms) ? -1 : 2;
    case 'e': return cli_parse_until(ctx->cmd, "--until", optarg, &lo->f.until_ms) ? -1 : 2;
    case 'n': return cli_parse_int64(ctx->cmd, "--limit", optarg, 0, &lo->limit) ? -1 : 2;
    case 'f': return cli_parse_format(ctx->cmd, optarg, &lo->format) ? -1 : 2;
    default: return cli_bad_option(ctx->cmd, opt, argv);
    }
}

/* Parses the options logs and queue share; queue allows fewer. Returns -1
 * when all went well, else the exit code. */
static int parse_list_opts(cli_ctx *ctx, int argc, char **argv, bool is_queue, list_opts *lo)
{
    static const struct option longopts[] = {
        { "status", required_argument, NULL, 'S' },
        { "site", required_argument, NULL, 's' },
        { "customer", required_argument, NULL, 'C' },
        { "action", required_argument, NULL, 'a' },
        { "search", required_argument, NULL, 'w' },
        { "since", required_argument, NULL, 'b' },
        { "until", required_argument, NULL, 'e' },
        { "limit", required_argument, NULL, 'n' },
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    memset(lo, 0, sizeof *lo);
    lo->limit = 50;
    lo->format = FORMAT_TABLE;
    int opt;
    while ((opt = getopt_long(argc, argv, ":n:", longopts, NULL)) != -1) {
        if (is_queue && (opt == 'S' || opt == 'b' || opt == 'e' || opt == 'w'))
            return cli_usage_error(ctx->cmd, "option '%s' is for logs, not queue",
                                   argv[optind - 1]);
        int rc = apply_list_opt(ctx, opt, argv, lo);
        if (rc != -1)
            return rc;
    }
    if (optind < argc)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
    if (is_queue)
        lo->f.status_mask = MSG_PENDING_MASK;
    return -1;
}

/* Calls row() for each message matching lo, newest first, one page at a time. */
typedef void (*row_fn)(void *state, const message *m);

/* --search: the matches one by one, newest first (store_search_next: one
 * indexed query each), each read as a one-row page for the same fields
 * as the list's. */
static int walk_matches(cli_ctx *ctx, const list_opts *lo, row_fn row, void *state)
{
    int64_t id = 0, upto = 0, newest = 0;
    bool complete = true;
    hd_error perr = { 0 };
    /* The index is filled by running engines and consoles: say when a part
     * of the history is not searchable yet, rather than answer short. */
    if (store_search_progress(ctx->st, &upto, &newest, &complete, &perr) == HD_OK && !complete)
        fprintf(stderr, "hookdesk %s: the search index is still being built (up to #%lld of "
                "#%lld; a running serve or console builds it): older matches may be missing\n",
                ctx->cmd, (long long)upto, (long long)newest);
    for (int64_t printed = 0; lo->limit == 0 || printed < lo->limit; printed++) {
        hd_error err = { 0 };
        if (store_search_next(ctx->st, &lo->f, lo->search, id, true, &id, &err) != HD_OK)
            return cli_report(ctx->cmd, &err);
        if (id == 0)
            break;
        message_list page = { 0 };
        if (store_messages_page(ctx->st, &lo->f, PAGE_AT, id, 1, &page, &err) != HD_OK)
            return cli_report(ctx->cmd, &err);
        if (page.count == 1 && page.items[0].id == id)
            row(state, &page.items[0]);
        message_list_free(&page);
    }
    return 0;
}

static int walk_messages(cli_ctx *ctx, const list_opts *lo, row_fn row, void *state)
{
    if (lo->search)
        return walk_matches(ctx, lo, row, state);
    int64_t printed = 0;
    int64_t anchor = 0;
    page_dir dir = PAGE_FIRST;
    for (;;) {
        int want = LIST_PAGE;
        if (lo->limit > 0 && lo->limit - printed < want)
            want = (int)(lo->limit - printed);
        if (want <= 0)
            break;
        message_list page = { 0 };
        hd_error err = { 0 };
        if (store_messages_page(ctx->st, &lo->f, dir, anchor, want, &page, &err) != HD_OK)
            return cli_report(ctx->cmd, &err);
        for (int i = 0; i < page.count; i++)
            row(state, &page.items[i]);
        printed += page.count;
        bool more = page.count == want;
        if (page.count > 0)
            anchor = page.items[page.count - 1].id;
        message_list_free(&page);
        if (!more)
            break;
        dir = PAGE_OLDER;
    }
    return 0;
}

typedef struct logs_state {
    cli_format format;
    cli_table table;
} logs_state;

static void logs_row(void *state, const message *m)
{
    logs_state *ls = state;
    if (ls->format == FORMAT_JSON) {
        json_t *o = json_object();
        cli_message_json_fields(o, m);
        cli_json_print(stdout, o);
        return;
    }
    char id[24], created[32], code[16], attempts[16];
    snprintf(id, sizeof id, "%lld", (long long)m->id);
    if (ls->format == FORMAT_CSV)
        hd_time_rfc3339(m->created_at, created);
    else
        hd_time_local(m->created_at, created);
    if (m->response_code)
        snprintf(code, sizeof code, "%d", m->response_code);
    else
        snprintf(code, sizeof code, "%s", ls->format == FORMAT_CSV ? "" : "-");
    snprintf(attempts, sizeof attempts, "%d", m->attempts);
    const char *cells[] = {
        id, created, m->action, m->customer ? m->customer : "",
        m->site_name ? m->site_name : (ls->format == FORMAT_CSV ? "" : "(deleted)"), code,
        ls->format == FORMAT_CSV ? msg_status_name(m->status) : msg_status_title(m->status),
        attempts,
    };
    if (ls->format == FORMAT_CSV)
        cli_csv_row(stdout, 8, cells);
    else
        cli_table_add(&ls->table, cells);
}

int cli_cmd_logs(cli_ctx *ctx, int argc, char **argv)
{
    static const char *const headers[] = { "ID", "CREATED", "ACTION", "CUSTOMER", "SITE",
                                           "CODE", "STATUS", "ATTEMPTS" };
    static const char *const csv_headers[] = { "id", "created_at", "action", "customer", "site",
                                               "response_code", "status", "attempts" };
    static const bool right[] = { true, false, false, false, false, true, false, true };
    list_opts lo;
    int rc = parse_list_opts(ctx, argc, argv, false, &lo);
    if (rc >= 0)
        return rc;
    logs_state ls = { .format = lo.format };
    if (lo.format == FORMAT_TABLE)
        cli_table_init(&ls.table, stdout, 8, headers, right);
    else if (lo.format == FORMAT_CSV)
        cli_csv_row(stdout, 8, csv_headers);
    rc = walk_messages(ctx, &lo, logs_row, &ls);
    if (lo.format == FORMAT_TABLE)
        cli_table_free(&ls.table);
    return rc;
}

typedef struct queue_listing {
    cli_format format;
    cli_table table;
    site_stats_list sites;   /* paused sites and open circuits */
    bool breaker;            /* delivery.breaker is on: circuits hold messages back */
    int64_t now;
} queue_listing;

static const site_stats *find_site(const site_stats_list *l, int64_t site_id)
{
    for (int i = 0; i < l->count; i++)
        if (l->items[i].s.id == site_id)
            return &l->items[i];
    return NULL;
}

/* What a message of the site ss (NULL: deleted) waits for (the core's
 * rule).  breaker: delivery.breaker is on in this configuration (when off,
 * engines do not look at circuits). */
static queue_state wait_state(const message *m, const site_stats *ss, bool breaker, int64_t now)
{
    return queue_state_of(m, ss && !ss->s.enabled, ss && breaker ? &ss->circuit : NULL, now);
}

/* Why a pending message waits and for how long, for NEXT and `show`:
 * "sending", "paused", "circuit open, probe in 7s", "59m (Retry-After)",
 * "3s", "now". */
static void wait_text(const message *m, const site_stats *ss, bool breaker, int64_t now,
                      char *out, size_t len)
{
    queue_state qs = wait_state(m, ss, breaker, now);
    char in[64];
    switch (qs.wait) {
    case QUEUE_FINISHED:
        snprintf(out, len, "-");
        break;
    case QUEUE_SENDING:
        snprintf(out, len, "sending");
        break;
    case QUEUE_PAUSED:
        snprintf(out, len, "paused");
        break;
    case QUEUE_CIRCUIT:
        cli_circuit_state(&ss->circuit, now, in, sizeof in);
        snprintf(out, len, "circuit %s", in);
        break;
    case QUEUE_RETRY_AFTER:
    case QUEUE_DUE:
        duration_format_short(qs.in_ms, in, sizeof in);
        snprintf(out, len, qs.wait == QUEUE_RETRY_AFTER ? "%s (Retry-After)" : "%s", in);
        break;
    }
}

/* "circuit" (its site's state, null for a deleted site), "next_probe_at"
 * (while open) and "held_by_circuit" (that, not its own time, is what it
 * waits for). */
static void circuit_json_fields(json_t *o, const message *m, const site_stats *ss, bool breaker,
                                int64_t now)
{
    char ts[32];
    json_object_set_new(o, "circuit", ss ? json_string(circuit_state_name(ss->circuit.state))
                                         : json_null());
    if (ss && ss->circuit.state == CIRCUIT_OPEN) {
        hd_time_rfc3339(ss->circuit.until_ms, ts);
        json_object_set_new(o, "next_probe_at", json_string(ts));
    } else {
        json_object_set_new(o, "next_probe_at", json_null());
    }
    /* Whether the circuit holds it, paused or not ("paused" says that). */
    bool held = ss && queue_state_of(m, false, breaker ? &ss->circuit : NULL, now).wait ==
                          QUEUE_CIRCUIT;
    json_object_set_new(o, "held_by_circuit", json_boolean(held));
}

static void queue_json(const queue_listing *ql, const message *m, const site_stats *ss)
{
    json_t *o = json_object();
    char ts[32];
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "customer", cli_json_str(m->customer));
    json_object_set_new(o, "site", cli_json_str(m->site_name));
    json_object_set_new(o, "retries", json_integer(m->attempts > 1 ? m->attempts - 1 : 0));
    json_object_set_new(o, "attempts", json_integer(m->attempts));
    json_object_set_new(o, "status", json_string(msg_status_name(m->status)));
    json_object_set_new(o, "in_flight", json_boolean(m->in_flight));
    json_object_set_new(o, "paused", json_boolean(ss && !ss->s.enabled));
    if (m->due_at) {
        hd_time_rfc3339(m->due_at, ts);
        json_object_set_new(o, "next_attempt_at", json_string(ts));
    } else {
        json_object_set_new(o, "next_attempt_at", json_null());
    }
    json_object_set_new(o, "retry_after_ms",
                        m->retry_after_ms > 0 ? json_integer(m->retry_after_ms) : json_null());
    circuit_json_fields(o, m, ss, ql->breaker, ql->now);
    cli_json_print(stdout, o);
}

static void queue_row(void *state, const message *m)
{
    queue_listing *ql = state;
    const site_stats *ss = find_site(&ql->sites, m->site_id);
    if (ql->format == FORMAT_JSON) {
        queue_json(ql, m, ss);
        return;
    }
    /* Retries = attempts made after the first (SPEC §1); attempts counts the
     * attempts recorded so far, so a message tried twice has one retry. */
    int retries = m->attempts > 1 ? m->attempts - 1 : 0;
    char id[24], retr[16], next[96];
    snprintf(id, sizeof id, "%lld", (long long)m->id);
    snprintf(retr, sizeof retr, "%d", retries);
    wait_text(m, ss, ql->breaker, ql->now, next, sizeof next);
    const char *cells[] = {
        id, m->customer ? m->customer : "", m->site_name ? m->site_name : "", retr,
        ql->format == FORMAT_CSV ? msg_status_name(m->status) : msg_status_title(m->status), next,
    };
    if (ql->format == FORMAT_CSV)
        cli_csv_row(stdout, 6, cells);
    else
        cli_table_add(&ql->table, cells);
}

int cli_cmd_queue(cli_ctx *ctx, int argc, char **argv)
{
    static const char *const headers[] = { "ID", "CUSTOMER", "SITE", "RETRIES", "STATUS", "NEXT" };
    static const char *const csv_headers[] = { "id", "customer", "site", "retries", "status",
                                               "next" };
    static const bool right[] = { true, false, false, true, false, false };
    list_opts lo;
    int rc = parse_list_opts(ctx, argc, argv, true, &lo);
    if (rc >= 0)
        return rc;
    queue_listing ql = { .format = lo.format, .now = hd_now_ms(),
                       .breaker = breaker_enabled(&ctx->cfg.delivery.breaker) };
    hd_error err = { 0 };
    if (store_sites_states(ctx->st, &ql.sites, &err) != HD_OK)
        return cli_report(ctx->cmd, &err);
    if (lo.format == FORMAT_TABLE)
        cli_table_init(&ql.table, stdout, 6, headers, right);
    else if (lo.format == FORMAT_CSV)
        cli_csv_row(stdout, 6, csv_headers);
    rc = walk_messages(ctx, &lo, queue_row, &ql);
    if (lo.format == FORMAT_TABLE)
        cli_table_free(&ql.table);
    site_stats_list_free(&ql.sites);
    return rc;
}

/* ---- show ---- */

static bool parse_id(const char *cmd, const char *text, int64_t *id)
{
    return cli_parse_int64(cmd, "ID", text, 1, id);
}

/* Prints outside text line by line after indent, sanitised. */
static void print_indented(const char *text, size_t len, const char *indent)
{
    hd_buf b = { 0 };
    sanitize_append(&b, text, len, SANITIZE_KEEP_NEWLINES | SANITIZE_KEEP_TABS);
    const char *p = hd_buf_str(&b);
    while (*p) {
        size_t n = strcspn(p, "\n");
        printf("%s%.*s\n", indent, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
    hd_buf_free(&b);
}

/* Prints multi-line outside text under a label, indented, sanitised. */
static void print_block(const char *label, const char *text, size_t len, const char *suffix)
{
    printf("  %s:%s\n", label, suffix ? suffix : "");
    if (!text || len == 0) {
        printf("    (none)\n");
        return;
    }
    print_indented(text, len, "    ");
}

static void print_field(const char *label, const char *value)
{
    char *s = sanitize_dup(value ? value : "", 0);
    printf("%-12s %s\n", label, s);
    free(s);
}

/* The "Next:" line of `show`: when, and why it waits when something else
 * than its own time holds it. */
static void show_next(const message *m, const site_stats *ss, bool breaker, char *buf,
                      size_t len)
{
    int64_t now = hd_now_ms();
    queue_state qs = wait_state(m, ss, breaker, now);
    char when[32], in[32];
    switch (qs.wait) {
    case QUEUE_SENDING:
        snprintf(buf, len, "sending now");
        break;
    case QUEUE_PAUSED:
        snprintf(buf, len, "paused (when the site is resumed)");
        break;
    case QUEUE_CIRCUIT:
        wait_text(m, ss, breaker, now, buf, len);   /* "circuit open, probe in 7s" */
        break;
    default:
        if (qs.in_ms == 0) {
            snprintf(buf, len, "due now");
            break;
        }
        hd_time_local(m->due_at, when);
        duration_format_short(qs.in_ms, in, sizeof in);
        snprintf(buf, len, "%s (in %s%s)", when, in,
                 qs.wait == QUEUE_RETRY_AFTER ? ", as the receiver asked with Retry-After" : "");
        break;
    }
}

static void show_text(const message *m, const attempt_list *al, const site_stats *ss,
                      bool breaker)
{
    char buf[96];
    printf("Message %lld (%s)\n", (long long)m->id, m->webhook_id);
    print_field("Site:", m->site_name ? m->site_name : "(deleted)");
    print_field("Action:", m->action);
    print_field("Customer:", m->customer ? m->customer : "-");
    print_field("Path:", m->path ? m->path : "-");
    print_field("Status:", msg_status_title(m->status));
    snprintf(buf, sizeof buf, "%d", m->attempts);
    print_field("Attempts:", buf);
    if (m->response_code)
        snprintf(buf, sizeof buf, "%d", m->response_code);
    else
        snprintf(buf, sizeof buf, "-");
    print_field("Code:", buf);
    hd_time_local(m->created_at, buf);
    print_field("Created:", buf);
    hd_time_local(m->updated_at, buf);
    print_field("Updated:", buf);
    if (msg_status_pending(m->status)) {
        char next[200];
        show_next(m, ss, breaker, next, sizeof next);
        print_field("Next:", next);
    }
    if (m->resend_of) {
        snprintf(buf, sizeof buf, "%lld", (long long)m->resend_of);
        print_field("Resend of:", buf);
    }
    if (m->last_error)
        print_field("Last error:", m->last_error);

    printf("\nPayload:\n");
    char *pretty = json_pretty(m->payload ? m->payload : "", m->payload ? strlen(m->payload) : 0);
    print_indented(pretty, strlen(pretty), "  ");
    free(pretty);

    for (int i = 0; i < al->count; i++) {
        const attempt *a = &al->items[i];
        char when[32];
        hd_time_local(a->started_at, when);
        printf("\nAttempt %d: %s, %lld ms, ", a->number, when, (long long)a->duration_ms);
        if (a->response_code)
            printf("HTTP %d\n", a->response_code);
        else
            printf("no response\n");
        if (a->error)
            print_block("Error", a->error, strlen(a->error), NULL);
        print_block("Request headers", a->request_headers,
                    a->request_headers ? strlen(a->request_headers) : 0, NULL);
        print_block("Response headers", a->response_headers,
                    a->response_headers ? strlen(a->response_headers) : 0, NULL);
        print_block("Response body", a->response_body, a->response_body_len,
                    a->body_truncated ? " [truncated]" : NULL);
    }
    if (al->count == 0)
        printf("\nNo attempts yet.\n");
}

static void show_json(const message *m, const attempt_list *al, const site_stats *ss,
                      bool breaker)
{
    char ts[32];
    json_t *o = json_object();
    cli_message_json_fields(o, m);
    json_object_set_new(o, "webhook_id", json_string(m->webhook_id));
    json_object_set_new(o, "path", cli_json_str(m->path));
    hd_time_rfc3339(m->updated_at, ts);
    json_object_set_new(o, "updated_at", json_string(ts));
    if (msg_status_pending(m->status) && m->due_at) {
        hd_time_rfc3339(m->due_at, ts);
        json_object_set_new(o, "next_attempt_at", json_string(ts));
    } else {
        json_object_set_new(o, "next_attempt_at", json_null());
    }
    json_object_set_new(o, "in_flight", json_boolean(m->in_flight));
    json_object_set_new(o, "retry_after_ms",
                        m->retry_after_ms > 0 ? json_integer(m->retry_after_ms) : json_null());
    circuit_json_fields(o, m, ss, breaker, hd_now_ms());
    json_object_set_new(o, "resend_of", m->resend_of ? json_integer(m->resend_of) : json_null());
    json_object_set_new(o, "last_error", cli_json_str(m->last_error));
    json_error_t jerr;
    json_t *payload = m->payload ? json_loads(m->payload, JSON_DECODE_ANY, &jerr) : NULL;
    json_object_set_new(o, "payload", payload ? payload : cli_json_str(m->payload));
    json_t *arr = json_array();
    for (int i = 0; i < al->count; i++) {
        const attempt *a = &al->items[i];
        json_t *ao = json_object();
        json_object_set_new(ao, "number", json_integer(a->number));
        hd_time_rfc3339(a->started_at, ts);
        json_object_set_new(ao, "started_at", json_string(ts));
        json_object_set_new(ao, "duration_ms", json_integer(a->duration_ms));
        json_object_set_new(ao, "response_code",
                            a->response_code ? json_integer(a->response_code) : json_null());
        json_object_set_new(ao, "error", cli_json_str(a->error));
        json_object_set_new(ao, "request_headers", cli_json_str(a->request_headers));
        json_object_set_new(ao, "response_headers", cli_json_str(a->response_headers));
        json_object_set_new(ao, "response_body",
                            a->response_body ? cli_json_strn(a->response_body, a->response_body_len)
                                             : json_null());
        json_object_set_new(ao, "body_truncated", json_boolean(a->body_truncated));
        json_array_append_new(arr, ao);
    }
    /* show's "attempts" is the array of attempts (the brief's contract); the
     * count the list formats carry under that name moves to attempt_count. */
    json_object_set_new(o, "attempt_count", json_integer(m->attempts));
    json_object_set_new(o, "attempts", arr);
    cli_json_print(stdout, o);
}

int cli_cmd_show(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "text") == 0 || strcmp(optarg, "table") == 0)
                json = false;
            else
                return cli_usage_error(ctx->cmd, "--format: '%s' is not one of text, json", optarg);
            break;
        default: return cli_bad_option(ctx->cmd, opt, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(ctx->cmd, "expected one message ID or webhook id");
    int64_t id;
    if (strncmp(argv[optind], "msg_", 4) == 0) {
        /* What a receiver reports: the webhook-id header. */
        hd_error werr = { 0 };
        if (store_message_find_webhook_id(ctx->st, argv[optind], &id, &werr) != HD_OK)
            return cli_report(ctx->cmd, &werr);
    } else if (!parse_id(ctx->cmd, argv[optind], &id)) {
        return 2;
    }
    message m;
    memset(&m, 0, sizeof m);
    attempt_list al = { 0 };
    site_stats_list sites = { 0 };
    hd_error err = { 0 };
    int rc = 0;
    if (store_message_get(ctx->st, id, &m, &err) != HD_OK) {
        rc = cli_report(ctx->cmd, &err);
        goto out;
    }
    if (store_attempts_list(ctx->st, id, &al, &err) != HD_OK) {
        rc = cli_report(ctx->cmd, &err);
        goto out;
    }
    if (store_sites_states(ctx->st, &sites, &err) != HD_OK) {
        rc = cli_report(ctx->cmd, &err);
        goto out;
    }
    const site_stats *ss = find_site(&sites, m.site_id);
    bool breaker = breaker_enabled(&ctx->cfg.delivery.breaker);
    if (json)
        show_json(&m, &al, ss, breaker);
    else
        show_text(&m, &al, ss, breaker);
out:
    message_free(&m);
    attempt_list_free(&al);
    site_stats_list_free(&sites);
    return rc;
}

/* ---- resend ---- */

/* `resend ID` of a message still pending (Queued or Resent) would send it
 * twice: refused (exit 1) unless --force.  Returns 0 when the message may
 * be resent, or when it cannot be read (the resend then reports that
 * itself), else the exit code. */
static int still_pending(cli_ctx *ctx, int64_t id)
{
    message m;
    memset(&m, 0, sizeof m);
    int rc = 0;
    if (store_message_get(ctx->st, id, &m, NULL) == HD_OK) {
        if (msg_status_pending(m.status))
            rc = cli_fail(ctx->cmd, 1, "message %lld is still pending (%s): resending it "
                          "would send it twice; not resent (--force to resend anyway)",
                          (long long)id, msg_status_title(m.status));
        message_free(&m);
    }
    return rc;
}

int cli_cmd_resend(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "status", required_argument, NULL, 'S' },
        { "site", required_argument, NULL, 's' },
        { "customer", required_argument, NULL, 'C' },
        { "force", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    const char *status = NULL, *site_name = NULL, *customer = NULL;
    bool force = false;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'S': status = optarg; break;
        case 's': site_name = optarg; break;
        case 'C': customer = optarg; break;
        case 'f': force = true; break;
        default: return cli_bad_option(ctx->cmd, opt, argv);
        }
    }
    hd_error err = { 0 };
    uint64_t max_payload = ctx->cfg.delivery.max_payload;
    if (optind == argc) {
        if (!status)
            return cli_usage_error(ctx->cmd, "give message IDs or --status failed");
        if (strcmp(status, "failed") != 0)
            return cli_usage_error(ctx->cmd, "--status: only 'failed' messages can be resent in bulk");
        msg_filter f = { .status_mask = MSG_STATUS_BIT(MSG_FAILED), .customer = customer };
        int rc = 0;
        if (site_name && !cli_site_id(ctx, site_name, &f.site_id, &rc))
            return rc;
        int64_t n = 0, skipped = 0;
        if (store_messages_resend_failed(ctx->st, &f, max_payload, &n, &skipped, &err) != HD_OK)
            return cli_report(ctx->cmd, &err);
        printf("resent %lld failed message%s\n", (long long)n, n == 1 ? "" : "s");
        if (skipped > 0) {
            char limit[32];
            size_words(max_payload, limit, sizeof limit);
            return cli_fail(ctx->cmd, 2, "%lld failed message%s not resent: payload more than "
                            "delivery.max_payload (%s)", (long long)skipped,
                            skipped == 1 ? "" : "s", limit);
        }
        return 0;
    }
    if (status || site_name || customer)
        return cli_usage_error(ctx->cmd, "give either message IDs or --status failed, not both");
    /* Check every ID first so a typo does not leave half the list resent. */
    for (int i = optind; i < argc; i++) {
        int64_t id;
        if (!parse_id(ctx->cmd, argv[i], &id))
            return 2;
    }
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        int64_t id = 0, new_id = 0;
        parse_id(ctx->cmd, argv[i], &id);
        int refused = force ? 0 : still_pending(ctx, id);
        if (refused) {
            if (refused > rc)
                rc = refused;
            continue;
        }
        if (store_message_resend(ctx->st, id, max_payload, &new_id, &err) != HD_OK) {
            int r = cli_report(ctx->cmd, &err);
            if (r > rc)
                rc = r;
            continue;
        }
        printf("resent %lld -> %lld\n", (long long)id, (long long)new_id);
    }
    return rc;
}

/* ---- purge ---- */

int cli_cmd_purge(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "older-than", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    int64_t older = ctx->cfg.retention_ms;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': {
            const char *why = NULL;
            if (!duration_parse(optarg, &older, &why))
                return cli_usage_error(ctx->cmd, "--older-than: '%s': %s", optarg,
                                       why ? why : "not a duration");
            break;
        }
        default: return cli_bad_option(ctx->cmd, opt, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
    int64_t before = hd_now_ms() - older;
    int chunk = ctx->cfg.purge_chunk > 0 ? ctx->cfg.purge_chunk : 500;
    int64_t total = 0;
    hd_error err = { 0 };
    /* Small chunks, each its own transaction, so a console or serve sharing
     * the database is never blocked for long. */
    for (;;) {
        int64_t n = 0;
        if (store_purge_chunk(ctx->st, before, chunk, &n, &err) != HD_OK) {
            fprintf(stderr, "hookdesk: purge: %lld messages purged before the error\n",
                    (long long)total);
            return cli_report(ctx->cmd, &err);
        }
        if (n == 0)
            break;
        total += n;
    }
    printf("purged %lld message%s\n", (long long)total, total == 1 ? "" : "s");
    return 0;
}
