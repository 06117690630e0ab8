/* console.h - the console's entry point (SPEC §3), a front-end of the core.
 * main() hands it to the command line as the `console` command. */
#ifndef HD_CONSOLE_H
#define HD_CONSOLE_H

#include "hd_config.h"

/* Runs the console until the operator quits; argv starts after "console"
 * (its own options, e.g. --no-deliver).  Returns the process exit code. */
int console_main(const config *cfg, int argc, char **argv);

#endif
