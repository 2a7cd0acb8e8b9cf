/*
 * fields.c - the header-field vocabulary shared by every module: names as
 * they appear in JSON plans ("ipv4.src/24"), widths, and which fields RSS can
 * hash.
 */
#include "ir/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct field_info {
    const char *name;
    unsigned bits;
    bool hashable;
};

static const struct field_info field_table[IR_FIELD_COUNT] = {
    [IR_FIELD_ETH_SRC] = {"eth.src", 48, false},
    [IR_FIELD_ETH_DST] = {"eth.dst", 48, false},
    [IR_FIELD_IPV4_SRC] = {"ipv4.src", 32, true},
    [IR_FIELD_IPV4_DST] = {"ipv4.dst", 32, true},
    [IR_FIELD_IPV6_SRC] = {"ipv6.src", 128, true},
    [IR_FIELD_IPV6_DST] = {"ipv6.dst", 128, true},
    [IR_FIELD_IP_PROTO] = {"ip.proto", 8, false},
    [IR_FIELD_L4_SPORT] = {"l4.sport", 16, true},
    [IR_FIELD_L4_DPORT] = {"l4.dport", 16, true},
    [IR_FIELD_OTHER_HEADER] = {"header", 0, false},
    [IR_FIELD_INPUT_PORT] = {"pkt.port", 0, false},
    [IR_FIELD_TIME] = {"pkt.time", 0, false},
    [IR_FIELD_STATE] = {"state", 0, false},
    [IR_FIELD_CONSTANT] = {"const", 0, false},
    [IR_FIELD_UNKNOWN] = {"unknown", 0, false},
};

unsigned ir_field_bits(enum ir_field_id id)
{
    return (unsigned)id < IR_FIELD_COUNT ? field_table[id].bits : 0;
}

bool ir_field_hashable(enum ir_field_id id)
{
    return (unsigned)id < IR_FIELD_COUNT && field_table[id].hashable;
}

const char *ir_field_format(struct ir_field f, char *buf, unsigned buflen)
{
    const char *name = (unsigned)f.id < IR_FIELD_COUNT ? field_table[f.id].name : "invalid";
    if (f.prefix != 0 && f.prefix < ir_field_bits(f.id))
        snprintf(buf, buflen, "%s/%u", name, f.prefix);
    else
        snprintf(buf, buflen, "%s", name);
    return buf;
}

int ir_field_parse(const char *text, struct ir_field *out)
{
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    for (int id = 0; id < IR_FIELD_COUNT; id++) {
        const char *name = field_table[id].name;
        if (strlen(name) != n || strncmp(name, text, n) != 0)
            continue;
        unsigned prefix = 0;
        if (slash) {
            char *end;
            long v = strtol(slash + 1, &end, 10);
            if (*end != '\0' || v <= 0 || (unsigned)v > ir_field_bits((enum ir_field_id)id))
                return -1;
            prefix = (unsigned)v == ir_field_bits((enum ir_field_id)id) ? 0 : (unsigned)v;
        }
        out->id = (enum ir_field_id)id;
        out->prefix = (uint8_t)prefix;
        return 0;
    }
    return -1;
}
