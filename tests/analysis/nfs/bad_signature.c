/* bad_signature.c - error: nf_process with the wrong signature. */
#include <stdint.h>

int nf_init(void)
{
    return 0;
}

long nf_process(void *pkt, int extra)
{
    return pkt != 0 ? extra : 0;
}
