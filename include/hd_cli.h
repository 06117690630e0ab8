/* hd_cli.h - the command line (SPEC §4).  main() hands argv here. */
#ifndef HD_CLI_H
#define HD_CLI_H

#include "hd_config.h"

#define HOOKDESK_VERSION "0.1.0"

/* Global options, parsed before the command. */
typedef struct cli_globals {
    const char *config_path;   /* -c FILE */
    const char *db_path;       /* --db FILE, overrides config's database */
} cli_globals;

/* The console lives in ui/; the CLI calls it through this hook so that src/
 * never includes curses.  ui/ provides it; argv starts after "console". */
int console_main(const config *cfg, int argc, char **argv);

/* Runs one command; returns the process exit code (0, 1, 2). */
int cli_main(int argc, char **argv);

/* Process-wide setup before any thread: curl_global_init, SIGPIPE ignored. */
int hd_global_init(void);
void hd_global_cleanup(void);

#endif
