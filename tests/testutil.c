/* testutil.c - temp dirs, the receiver child process and its log. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

char *tu_tempdir(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/hookdesk-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return strdup(path);
}

void tu_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void tu_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool tu_wait_for(bool (*cond)(void *), void *arg, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        if (cond(arg))
            return true;
        if (waited >= timeout_ms)
            return false;
        tu_sleep_ms(20);
    }
}

bool tu_receiver_start(tu_receiver *r, const char *dir, const char *hmac_secret)
{
    static int counter;
    memset(r, 0, sizeof *r);
    const char *bin = getenv("HD_RECEIVER_BIN");
    if (!bin || !*bin)
        bin = "build/asan/hd-receiver";
    char logp[4096];
    snprintf(logp, sizeof logp, "%s/receiver-%d.log", dir, ++counter);
    r->log_path = strdup(logp);
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (hmac_secret)
            execl(bin, bin, "--port", "0", "--log", logp, "--hmac-secret", hmac_secret,
                  (char *)NULL);
        else
            execl(bin, bin, "--port", "0", "--log", logp, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    r->pid = pid;
    char line[128];
    size_t used = 0;
    struct pollfd pfd = { fds[0], POLLIN, 0 };
    while (used < sizeof line - 1 && poll(&pfd, 1, 10000) > 0) {
        ssize_t n = read(fds[0], line + used, sizeof line - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        line[used] = '\0';
        if (strchr(line, '\n'))
            break;
    }
    close(fds[0]);
    line[used] = '\0';
    if (sscanf(line, "listening on %d", &r->port) != 1) {
        fprintf(stderr, "receiver did not start (said \"%s\")\n", line);
        tu_receiver_stop(r);
        return false;
    }
    snprintf(r->base_url, sizeof r->base_url, "http://127.0.0.1:%d", r->port);
    return true;
}

void tu_receiver_stop(tu_receiver *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        int status;
        waitpid(r->pid, &status, 0);
        r->pid = 0;
    }
    free(r->log_path);
    r->log_path = NULL;
}

static char *dup_str(json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

bool tu_log_read(const tu_receiver *r, tu_log *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(r->log_path, "r");
    if (!f)
        return errno == ENOENT;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int alloc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break;   /* a line being written right now */
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!o)
            continue;
        if (out->count == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            out->items = realloc(out->items, sizeof *out->items * (size_t)alloc);
        }
        tu_logged *e = &out->items[out->count++];
        json_t *h = json_object_get(o, "headers");
        e->method = dup_str(json_object_get(o, "method"));
        e->path = dup_str(json_object_get(o, "path"));
        e->body = dup_str(json_object_get(o, "body"));
        e->webhook_id = dup_str(json_object_get(h, "webhook-id"));
        json_t *hm = json_object_get(o, "hmac_ok");
        e->hmac = hm ? (json_is_true(hm) ? 1 : 0) : -1;
        e->headers = json_incref(h);
        json_decref(o);
    }
    free(line);
    fclose(f);
    return true;
}

void tu_log_free(tu_log *l)
{
    for (int i = 0; i < l->count; i++) {
        free(l->items[i].method);
        free(l->items[i].path);
        free(l->items[i].body);
        free(l->items[i].webhook_id);
        json_decref(l->items[i].headers);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

const char *tu_logged_header(const tu_logged *e, const char *lower_name)
{
    json_t *v = json_object_get(e->headers, lower_name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int tu_log_count(const tu_receiver *r, const char *path_prefix)
{
    tu_log l;
    if (!tu_log_read(r, &l))
        return -1;
    int n = 0;
    for (int i = 0; i < l.count; i++)
        if (l.items[i].path && strncmp(l.items[i].path, path_prefix, strlen(path_prefix)) == 0)
            n++;
    tu_log_free(&l);
    return n;
}
