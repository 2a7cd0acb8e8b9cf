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
 * order as on the wire (IPv4 addresses in the first 4 bytes of src/dst).
 * Fields not reached are zero: an IP packet captured without its full fixed
 * header (20 / 40 bytes) has ip_version 0, since its addresses are unknown;
 * one captured without its ports has has_ports false. Link layers and
 * encapsulations understood are listed at trace_linktype_supported and in
 * docs/traces.md. */
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
    const uint8_t *data;        /* valid until the next trace_next call (or
                                   trace_source_next / trace_gen_next) */
    uint16_t port;              /* input port assigned by the reader's policy */
    struct trace_tuple tuple;
};

struct trace_reader;

/* Opens a pcap or pcapng file ("-" reads stdin). Returns NULL and fills err
 * on failure. */
struct trace_reader *trace_open(const char *path, struct util_error *err);
/* Reads the next packet: 1 = got one, 0 = end of trace, -1 = error (err set). */
int trace_next(struct trace_reader *r, struct trace_packet *pkt, struct util_error *err);
void trace_close(struct trace_reader *r);

/* Parses frame bytes of the given pcap link type (DLT_*) into a tuple; never
 * reads past cap_len. Returns false when no IP header could be found. */
bool trace_parse(int linktype, const uint8_t *data, uint32_t cap_len, struct trace_tuple *out);
/* True for the link types trace_parse understands: Ethernet (with VLAN /
 * QinQ tags, PPPoE sessions, MPLS), raw IP (DLT_RAW, DLT_IPV4, DLT_IPV6),
 * Linux SLL and SLL2, BSD loopback (DLT_NULL, DLT_LOOP). */
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

/* ---- Statistics -----------------------------------------------------------
 * Flow semantics (see docs/traces.md): a flow is a directional 5-tuple
 * (IP version, src, dst, sport, dport, proto) of a TCP or UDP packet whose
 * ports were parsed (has_ports). So the first fragment of a fragmented
 * datagram counts (it carries the ports), later fragments do not; a packet
 * truncated before its ports counts in the totals but in no flow. Per-flow
 * state lives in an open-addressing hash table that grows by doubling (no
 * per-packet allocation). */

#define TRACE_STATS_PORTS 8     /* per-port packet counts kept for ports 0..7 */

struct trace_flow_key {
    uint8_t ip_version;
    uint8_t proto;
    uint16_t sport;             /* network byte order */
    uint16_t dport;
    uint8_t pad[2];             /* always zero */
    uint8_t src[16];
    uint8_t dst[16];
};

struct trace_flow {
    struct trace_flow_key key;
    uint64_t packets;           /* 0 marks an empty table slot */
    uint64_t wire_bytes;
};

struct trace_stats {
    uint64_t packets;
    uint64_t cap_bytes;         /* sum of captured lengths */
    uint64_t wire_bytes;        /* sum of original lengths */
    uint64_t first_ns, last_ns; /* earliest and latest timestamp */
    uint64_t ipv4, ipv6, non_ip;        /* non_ip: includes IP cut before its addresses */
    uint64_t tcp, udp, other_l4;        /* of IPv4 + IPv6 packets */
    uint64_t fragments;         /* IP fragments (any) */
    uint64_t truncated;         /* cap_len < wire_len */
    uint64_t flow_packets;      /* packets that belong to a flow */
    uint64_t port_packets[TRACE_STATS_PORTS];
    /* Flow table (owned; freed by trace_stats_free). */
    struct trace_flow *flows;
    size_t capacity;            /* power of two, or 0 */
    size_t n_flows;
};

void trace_stats_init(struct trace_stats *s);
/* Accounts one packet. Returns 0, or -1 (err set) when the flow table
 * cannot grow. */
int trace_stats_add(struct trace_stats *s, const struct trace_packet *p, struct util_error *err);
void trace_stats_free(struct trace_stats *s);
double trace_stats_duration_s(const struct trace_stats *s);
/* Copies the n flows with most packets (ties: more bytes, then key order)
 * into out, largest first; returns how many were copied. */
size_t trace_stats_top_flows(const struct trace_stats *s, struct trace_flow *out, size_t n);
/* Packets-per-flow percentiles (nearest rank; p in 0..100) for each of the
 * n values in pct, written to out. All zero when there are no flows.
 * Returns 0, or -1 (err set) when out of memory. */
int trace_stats_flow_percentiles(const struct trace_stats *s, const double *pct, size_t n,
                                 uint64_t *out, struct util_error *err);
/* Formats a flow as "src:sport > dst:dport proto" ([v6]:port for IPv6). */
void trace_flow_format(const struct trace_flow_key *k, char *buf, size_t size);

/* ---- Generator --------------------------------------------------------------
 * Synthetic Ethernet traces (model in docs/traces.md): a fixed number of
 * active flow slots whose popularity follows Zipf(s) by rank; each packet
 * picks a slot, builds an Ethernet/IPv4-or-IPv6/TCP-or-UDP frame with valid
 * checksums and zero payload; constant packet spacing 1/pps from
 * 2024-01-01T00:00:00Z; churn replaces slots with new flows over time. LAN
 * clients are in 10.0.0.0/8 and fd00::/8, WAN servers in 20.0.0.0-119.255.255.255
 * and 2001:db8::/32. With two_port, packets after a flow's first one are
 * replies (addresses, ports and MACs swapped) with probability 1/2, so
 * `--lan 10.0.0.0/8,fd00::/8` splits directions onto ports 0 and 1. Optionally
 * some IPv4 datagrams go out as 2-3 fragments (the first holds the L4 header;
 * each fragment is one packet of the trace), some flows carry an 802.1Q tag,
 * some IPv6 flows an 8-byte hop-by-hop or destination-options header. The
 * same options and seed give the same bytes. */

#define TRACE_SIZE_DIST_MAX 16

/* Frame sizes (bytes captured without FCS, before snaplen) and weights; one
 * entry with lo < hi means uniform on [lo, hi]. Sizes below a packet's header
 * length are raised to it. */
struct trace_size_dist {
    uint32_t lo[TRACE_SIZE_DIST_MAX];
    uint32_t hi[TRACE_SIZE_DIST_MAX];
    double weight[TRACE_SIZE_DIST_MAX];
    size_t n;
};

struct trace_gen_options {
    uint64_t seed;              /* default 1 */
    uint64_t flows;             /* active flow slots, default 1000 */
    uint64_t packets;           /* default 10000 (see duration_s) */
    double zipf;                /* popularity skew s >= 0 (0 = uniform), default 1.0 */
    double pps;                 /* packets per second, default 100000 */
    double duration_s;          /* > 0: packets = duration*pps, or pps = packets/duration
                                   when packets_given */
    bool packets_given;
    double ipv6_share;          /* fraction of flows that are IPv6, default 0 */
    double tcp_share;           /* fraction of flows that are TCP (rest UDP), default 0.7 */
    double churn;               /* fraction of flow slots replaced per second, default 0 */
    bool two_port;              /* replies from servers, default false */
    uint32_t snaplen;           /* capture at most this many bytes (0 = whole frames) */
    struct trace_size_dist sizes;       /* default "imix" */
    /* Encapsulation variety (all default 0: none, and then no random draw is
     * made for them, so traces made without them keep their bytes): */
    double frag_share;          /* fraction of IPv4 datagrams sent as 2-3 fragments */
    double vlan_share;          /* fraction of flows 802.1Q tagged (VLAN id per flow) */
    double ipv6_ext_share;      /* fraction of IPv6 flows with a hop-by-hop or
                                   destination-options header before L4 */
};

void trace_gen_defaults(struct trace_gen_options *o);
/* Parses "imix" (64:7,576:4,1500:1), "fixed:N" or "N", "uniform:A-B", or a list
 * "SIZE:WEIGHT,...". Returns 0 or -1 (err set). */
int trace_size_dist_parse(const char *text, struct trace_size_dist *out, struct util_error *err);
/* Resolves packets/pps/duration and checks ranges. Returns 0 or -1 (err set). */
int trace_gen_check(struct trace_gen_options *o, struct util_error *err);

/* An in-memory generator: yields the packets trace_gen_write would write. */
struct trace_gen;
struct trace_gen *trace_gen_new(const struct trace_gen_options *o, struct util_error *err);
/* 1 = got one (pkt->data valid until the next call; port is 0 for requests,
 * 1 for replies), 0 = all packets generated. */
int trace_gen_next(struct trace_gen *g, struct trace_packet *pkt);
void trace_gen_free(struct trace_gen *g);

/* Writes the whole trace as a nanosecond pcap (Ethernet) through a temporary
 * file and a rename. Calls progress (may be NULL) now and then. Returns 0 or
 * -1 (err set; path untouched). */
int trace_gen_write(const struct trace_gen_options *o, const char *path,
                    struct util_progress *progress, struct util_error *err);

#endif /* RSSKEY_TRACES_H */
