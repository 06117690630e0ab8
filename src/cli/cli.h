/* cli.h - the command line (SPEC §4), a front-end of the core: main()
 * hands it argv.  It reaches the core only through include/. */
#ifndef HD_CLI_H
#define HD_CLI_H

#include "hd_config.h"
#include "hd_version.h"

/* Global options, parsed before the command. */
typedef struct cli_globals {
    const char *config_path;   /* -c FILE */
    const char *db_path;       /* --db FILE, overrides config's database */
} cli_globals;

/* The console's entry point (ui/console.h): argv starts after "console".
 * main() passes it in, so the CLI never names ui/ and links without it. */
typedef int (*cli_console_fn)(const config *cfg, int argc, char **argv);

/* Runs one command; returns the process exit code (0, 1, 2).  console may be
 * NULL (a build without the console: the console command then says so). */
int cli_main(int argc, char **argv, cli_console_fn console);

#endif
