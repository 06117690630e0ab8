/* main.c - process setup, then the command line does the rest. */
#include "hd_cli.h"

int main(int argc, char **argv)
{
    if (hd_global_init() != 0)
        return 1;
    int rc = cli_main(argc, argv);
    hd_global_cleanup();
    return rc;
}
