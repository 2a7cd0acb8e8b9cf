/*
 * traces.h - streaming packet traces: read pcap/pcapng captures (libpcap),
 * parse each packet's headers into a flow tuple, summarise traces and
 * generate synthetic ones. traces/ depends only on util/ and libpcap.
 *
 * CONTRACT (used by rss/ and sim/): struct trace_packet, the reader API.
 */
#ifndef RSSKEY_TRACES_H
#define RSSKEY_TRACES_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/* The parsed headers of one packet. Addresses and ports are in network byte
 * order as on the wire (IPv4 addresses in the first 4 bytes of src/dst). */
struct trace_tuple {
    uint8_t ip_version;         /* 4, 6, or 0 when not IP */
    uint8_t proto;              /* L4 protocol number; 0 when not IP */
    bool has_ports;             /* TCP or UDP, first fragment, ports captured */
    bool is_fragment;           /* any IPv4 fragment or IPv6 fragment header */
    uint8_t src[16];
    uint8_t dst[16];
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint16_t sport;             /* network byte order */
    uint16_t dport;
};

struct trace_packet {
    uint64_t time_ns;           /* capture timestamp, nanoseconds */
    uint32_t wire_len;          /* original length on the wire */
    uint32_t cap_len;           /* captured bytes in data */
    const uint8_t *data;        /* valid until the next trace_next call */
    uint16_t port;              /* input port assigned by the reader's policy */
    struct trace_tuple tuple;
};

struct trace_reader;

/* Opens a pcap or pcapng file. Returns NULL and fills err on failure. */
struct trace_reader *trace_open(const char *path, struct util_error *err);
/* Reads the next packet: 1 = got one, 0 = end of trace, -1 = error (err set). */
int trace_next(struct trace_reader *r, struct trace_packet *pkt, struct util_error *err);
void trace_close(struct trace_reader *r);

/* Parses frame bytes of the given pcap link type (DLT_*) into a tuple; never
 * reads past cap_len. Returns false when no IP header could be found. */
bool trace_parse(int linktype, const uint8_t *data, uint32_t cap_len, struct trace_tuple *out);

#endif /* RSSKEY_TRACES_H */
