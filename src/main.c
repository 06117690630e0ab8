/* main.c - process setup, then the command line does the rest; main()
 * chooses the front-ends: the CLI (src/cli/) with the console (ui/) as its
 * default command.
 *
 * Every hookdesk process may hold secrets in memory (site passwords,
 * tokens, keys, OAuth2 access tokens): before anything is read, core dumps
 * are switched off (RLIMIT_CORE 0, soft and hard) and the process is made
 * non-dumpable (PR_SET_DUMPABLE 0: no core either way, and other processes
 * of the same user cannot ptrace it or read its /proc/PID/mem).
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdio.h>

#include "cli/cli.h"
#include "console.h"
#include "hd_global.h"

static void no_core_dumps(void)
{
    const struct rlimit none = { 0, 0 };
    /* Best effort: neither call can fail for an ordinary process, and a
     * failure must not keep hookdesk from running. */
    (void)setrlimit(RLIMIT_CORE, &none);
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
    no_core_dumps();
    hd_error err = { 0 };
    if (hd_global_init(&err) != HD_OK) {
        fprintf(stderr, "hookdesk: %s\n", err.msg);
        return 1;
    }
    int rc = cli_main(argc, argv, console_main);
    hd_global_cleanup();
    return rc;
}
