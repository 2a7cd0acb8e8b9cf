/* no_process.c - error: nf_process is missing. */
#include "rsskey/nf.h"

int nf_init(void)
{
    return 0;
}
