/*
 * rate.c - rates as command lines spell them: "12.05M", "40Gbps", "12M pps",
 * "1.5e6". One parser, so every rate option accepts the same k/M/G
 * multipliers and the same units, and refuses the same mistakes.
 */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

int util_parse_rate(const char *what, const char *s, struct util_rate *out,
                    struct util_error *err)
{
    const char *hint = "a positive number, an optional k, M or G (x1000 each) and an "
                       "optional unit pps or bps, e.g. 12.05M, 40Gbps, 12Mpps";
    out->value = 0;
    out->unit = UTIL_RATE_NUMBER;
    out->scaled = false;
    const char *p = s ? s : "";
    while (isspace((unsigned char)*p))
        p++;
    /* Digits or a point first: strtod would also take "inf", "nan", hex. */
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1]))) {
        util_error_set(err, "%s: '%s' is not a rate: expected %s", what, s ? s : "", hint);
        return -1;
    }
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (errno || !isfinite(v)) {
        util_error_set(err, "%s: '%s' is out of range", what, s);
        return -1;
    }
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1e3;
    else if (*end == 'M')
        mul = 1e6;
    else if (*end == 'G')
        mul = 1e9;
    if (mul != 1) {
        end++;
        out->scaled = true;
    }
    while (isspace((unsigned char)*end))
        end++;
    if (strncasecmp(end, "pps", 3) == 0) {
        out->unit = UTIL_RATE_PPS;
        end += 3;
    } else if (strncasecmp(end, "bps", 3) == 0) {
        out->unit = UTIL_RATE_BPS;
        end += 3;
    }
    while (isspace((unsigned char)*end))
        end++;
    if (*end) {
        util_error_set(err, "%s: '%s' is not a rate: '%s' follows the number (expected %s)",
                       what, s, end, hint);
        return -1;
    }
    if (!(v > 0)) {
        util_error_set(err, "%s: '%s' is not a rate: it must be above 0", what, s);
        return -1;
    }
    out->value = v * mul;
    if (!isfinite(out->value)) {
        util_error_set(err, "%s: '%s' is out of range", what, s);
        return -1;
    }
    return 0;
}
