/*
 * ir.h - lifting an NF's LLVM bitcode into the state accesses it makes per
 * packet (see docs/analysis.md).
 *
 * CONTRACT (used by deps/, rss/, sim/, report/): the header-field vocabulary
 * below. The analysis section further down belongs to ir/ and may grow.
 */
#ifndef RSSKEY_IR_H
#define RSSKEY_IR_H

#include <stdbool.h>
#include <stdint.h>

/* ---- Header fields ------------------------------------------------------ */

/* Fields a state key can be made of. The first nine are the names used in
 * JSON plans ("eth.src", ..., "l4.dport"); the rest describe key parts that
 * are not header fields RSS could hash. */
enum ir_field_id {
    IR_FIELD_ETH_SRC,
    IR_FIELD_ETH_DST,
    IR_FIELD_IPV4_SRC,
    IR_FIELD_IPV4_DST,
    IR_FIELD_IPV6_SRC,
    IR_FIELD_IPV6_DST,
    IR_FIELD_IP_PROTO,
    IR_FIELD_L4_SPORT,
    IR_FIELD_L4_DPORT,
    IR_FIELD_OTHER_HEADER,  /* some other header bytes (e.g. ethertype, TTL) */
    IR_FIELD_INPUT_PORT,    /* pkt->port */
    IR_FIELD_TIME,          /* pkt->time_ns */
    IR_FIELD_STATE,         /* a value read from state */
    IR_FIELD_CONSTANT,      /* a constant (incl. configuration) */
    IR_FIELD_UNKNOWN,       /* anything the analysis could not describe */
    IR_FIELD_COUNT
};

struct ir_field {
    enum ir_field_id id;
    uint8_t prefix;         /* leading bits kept (a /prefix mask); 0 = whole field */
};

/* Width of a field in bits (0 for the non-header kinds). */
unsigned ir_field_bits(enum ir_field_id id);
/* True for the fields a NIC's RSS can hash: IPv4/IPv6 addresses, L4 ports. */
bool ir_field_hashable(enum ir_field_id id);
/* Writes "ipv4.src" or "ipv4.src/24" into buf; returns buf. */
const char *ir_field_format(struct ir_field f, char *buf, unsigned buflen);
/* Parses the form above. Returns 0 on success, -1 if unknown. */
int ir_field_parse(const char *text, struct ir_field *out);

#endif /* RSSKEY_IR_H */
