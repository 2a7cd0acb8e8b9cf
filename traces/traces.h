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
#include <stddef.h>
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
    /* Added by traces (not in the first contract): */
    bool truncated;             /* cap_len ended inside a header the parser needed */
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
/* True for the link types trace_parse understands: Ethernet, raw IP
 * (DLT_RAW, DLT_IPV4, DLT_IPV6), Linux SLL and SLL2, BSD loopback. */
bool trace_linktype_supported(int linktype);

/* ---- Reader extras ------------------------------------------------------ */

/* The pcap link type (DLT_*) of an open reader. */
int trace_linktype(const struct trace_reader *r);
/* Progress helpers: the file's size and roughly how far reading has got. */
uint64_t trace_file_size(const struct trace_reader *r);
uint64_t trace_file_offset(const struct trace_reader *r);

/* ---- Port assignment and multi-file sources --------------------------------
 * A trace_source yields packets with .port set by a policy:
 *   - default: every packet on port 0;
 *   - LAN prefixes (--lan CIDR[,CIDR...]): a packet whose source address lies
 *     in one of the prefixes goes to port 0 (LAN), every other packet
 *     (including non-IP) to port 1 (WAN);
 *   - one file per port (--port N=FILE): each file's packets get that port,
 *     all files merged in timestamp order (ties: the file given first).
 * LAN prefixes apply only to files given without an explicit port.
 * Fill struct trace_source_options with the helpers below (they parse the
 * command-line spellings), then trace_source_open. */

#define TRACE_MAX_INPUTS 16
#define TRACE_MAX_LAN 64

struct trace_prefix {
    uint8_t version;            /* 4 or 6 */
    uint8_t len;                /* prefix length in bits */
    uint8_t addr[16];           /* network byte order, host bits cleared */
};

struct trace_input {
    const char *path;           /* borrowed: must outlive the source */
    int port;                   /* fixed port, or -1: decided by the LAN policy */
};

struct trace_source_options {
    struct trace_input inputs[TRACE_MAX_INPUTS];
    size_t n_inputs;
    struct trace_prefix lan[TRACE_MAX_LAN];
    size_t n_lan;
};

/* Adds a file whose packets are assigned by the LAN policy (or port 0). */
int trace_options_add_file(struct trace_source_options *o, const char *path,
                           struct util_error *err);
/* Adds "N=FILE": every packet of FILE arrives on port N (0..65535). The
 * string must outlive the source (FILE points into it). */
int trace_options_add_port_file(struct trace_source_options *o, const char *spec,
                                struct util_error *err);
/* Adds "CIDR[,CIDR...]" (e.g. "10.0.0.0/8,fd00::/8"; a bare address is a
 * host prefix). Returns 0, or -1 with err naming the bad item. */
int trace_options_add_lan(struct trace_source_options *o, const char *cidrs,
                          struct util_error *err);

/* Parses one CIDR. Returns 0 or -1 (err set). */
int trace_prefix_parse(const char *text, struct trace_prefix *out, struct util_error *err);
/* True when the tuple's source address lies inside the prefix. */
bool trace_prefix_contains_src(const struct trace_prefix *p, const struct trace_tuple *t);
/* The port the LAN policy gives this tuple: 0 without prefixes; with
 * prefixes 0 when the source is inside one, else 1. */
uint16_t trace_lan_port(const struct trace_prefix *lan, size_t n_lan,
                        const struct trace_tuple *t);

struct trace_source;

/* Opens every input (all or nothing). Returns NULL and fills err on failure. */
struct trace_source *trace_source_open(const struct trace_source_options *o,
                                       struct util_error *err);
/* Next packet in timestamp order with .port set: 1 = got one, 0 = end, -1 = error. */
int trace_source_next(struct trace_source *s, struct trace_packet *pkt, struct util_error *err);
/* Sum of input file sizes and of offsets reached (for progress bars). */
uint64_t trace_source_size(const struct trace_source *s);
uint64_t trace_source_offset(const struct trace_source *s);
void trace_source_close(struct trace_source *s);

#endif /* RSSKEY_TRACES_H */
