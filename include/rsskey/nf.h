/*
 * nf.h - the API a network function (NF) is written against.
 *
 * An NF is a sequential C program with two entry points, nf_init and
 * nf_process. All of its per-packet state lives in named objects created in
 * nf_init through this API, so that rsskey's analysis (ir/, deps/) can see
 * every state access in the NF's LLVM bitcode and say, object by object, how
 * the NF may run on many cores. runtime/ implements this API.
 *
 * Rules the analysis relies on (docs/nf-api.md explains each):
 *  - State objects are created only in nf_init, and their handles are kept in
 *    the NF's globals. nf_process never writes a plain global.
 *  - Header fields are read through the pointers the accessors return, at the
 *    fixed offsets of the header structs below.
 *  - A state write is always an API call. Pointers the API hands out are
 *    read-only, except nf_vector_write's, which counts as a write.
 */
#ifndef RSSKEY_NF_H
#define RSSKEY_NF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Packets and verdicts ---------------------------------------------- */

/* nf_process returns an output port (>= 0) or this verdict. */
#define NF_DROP (-1)

struct nf_packet {
    uint8_t *data;      /* frame bytes, starting at the Ethernet header */
    uint32_t len;       /* captured length of data in bytes */
    uint16_t port;      /* input port */
    uint64_t time_ns;   /* arrival time, nanoseconds, non-decreasing */
};

/* Entry points the NF defines. nf_init returns 0 on success. */
int nf_init(void);
int nf_process(struct nf_packet *pkt);

/* ---- Headers (all multi-byte fields in network byte order) ------------- */

struct nf_eth_hdr {
    uint8_t dst[6];
    uint8_t src[6];
    uint16_t ethertype;     /* outermost type; 802.1Q tags follow when 0x8100 */
} __attribute__((packed));

struct nf_ipv4_hdr {
    uint8_t version_ihl;
    uint8_t tos;
    uint16_t total_length;
    uint16_t id;
    uint16_t frag_off;
    uint8_t ttl;
    uint8_t proto;
    uint16_t checksum;
    uint32_t src;
    uint32_t dst;
} __attribute__((packed));

struct nf_ipv6_hdr {
    uint32_t vtc_flow;
    uint16_t payload_length;
    uint8_t next_header;
    uint8_t hop_limit;
    uint8_t src[16];
    uint8_t dst[16];
} __attribute__((packed));

/* The first four bytes of TCP and UDP alike. */
struct nf_l4_ports {
    uint16_t sport;
    uint16_t dport;
} __attribute__((packed));

struct nf_tcp_hdr {
    uint16_t sport;
    uint16_t dport;
    uint32_t seq;
    uint32_t ack;
    uint8_t data_off;
    uint8_t flags;
    uint16_t window;
    uint16_t checksum;
    uint16_t urgent;
} __attribute__((packed));

struct nf_udp_hdr {
    uint16_t sport;
    uint16_t dport;
    uint16_t length;
    uint16_t checksum;
} __attribute__((packed));

#define NF_ETHERTYPE_IPV4 0x0800
#define NF_ETHERTYPE_IPV6 0x86DD
#define NF_ETHERTYPE_VLAN 0x8100
#define NF_ETHERTYPE_QINQ 0x88A8
#define NF_PROTO_TCP 6
#define NF_PROTO_UDP 17
#define NF_TCP_FLAG_FIN 0x01
#define NF_TCP_FLAG_SYN 0x02
#define NF_TCP_FLAG_RST 0x04
#define NF_TCP_FLAG_ACK 0x10

/*
 * Accessors. Each returns a pointer into pkt->data, or NULL when the header is
 * absent or not wholly inside the captured length. 802.1Q / QinQ tags and IPv4
 * options are skipped. nf_l4/nf_tcp/nf_udp return NULL for non-first IPv4
 * fragments and skip IPv6 extension headers. The NF may write through these
 * pointers: that rewrites the packet, it is not state.
 */
struct nf_eth_hdr *nf_eth(struct nf_packet *pkt);
struct nf_ipv4_hdr *nf_ipv4(struct nf_packet *pkt);
struct nf_ipv6_hdr *nf_ipv6(struct nf_packet *pkt);
struct nf_l4_ports *nf_l4(struct nf_packet *pkt);
struct nf_tcp_hdr *nf_tcp(struct nf_packet *pkt);
struct nf_udp_hdr *nf_udp(struct nf_packet *pkt);

/* L4 protocol number (IPv4 proto or IPv6 final next-header), 0 if not IP. */
uint8_t nf_l4_proto(struct nf_packet *pkt);

/* Recompute the IPv4 header checksum and the TCP/UDP checksum after a
 * rewrite. Does nothing for headers that are absent. */
void nf_checksums_update(struct nf_packet *pkt);

/* ---- Configuration ------------------------------------------------------ */

/* A named configuration value; the runtime answers it (from the command line
 * or a file), else `default_value` is used. Call it from nf_init. */
uint64_t nf_config(const char *name, uint64_t default_value);

/* ---- State objects ------------------------------------------------------ */
/* Every object has a name (a string literal) used in reports and plans.
 * Create functions return NULL when out of memory or given bad sizes. */

/* Exact-match map: fixed-size key -> int32 value. */
struct nf_map;
struct nf_map *nf_map_create(const char *name, uint32_t key_size, uint32_t capacity);
/* Returns true and sets *value when key is present. Read. */
bool nf_map_get(struct nf_map *map, const void *key, int32_t *value);
/* Inserts or overwrites. Returns false when the map is full. Write. */
bool nf_map_put(struct nf_map *map, const void *key, int32_t value);
/* Returns true when key was present. Write. */
bool nf_map_erase(struct nf_map *map, const void *key);

/* Vector: index in [0, capacity) -> fixed-size record, zeroed at creation. */
struct nf_vector;
struct nf_vector *nf_vector_create(const char *name, uint32_t record_size, uint32_t capacity);
/* Read-only view of a record. Read. */
const void *nf_vector_read(struct nf_vector *vec, uint32_t index);
/* Writable view of a record, valid until the next call on vec. Write. */
void *nf_vector_write(struct nf_vector *vec, uint32_t index);

/* Index allocator with expiry (like Vigor's double chain): hands out indexes
 * in [0, capacity), each stamped with the time it was allocated or last
 * refreshed. */
struct nf_alloc;
struct nf_alloc *nf_alloc_create(const char *name, uint32_t capacity);
/* Allocates a free index. Returns false when none is free. Write. */
bool nf_alloc_new(struct nf_alloc *alloc, uint64_t now_ns, uint32_t *index);
/* Restamps an allocated index. Returns false if it is not allocated. Write. */
bool nf_alloc_refresh(struct nf_alloc *alloc, uint32_t index, uint64_t now_ns);
/* Read. */
bool nf_alloc_is_allocated(struct nf_alloc *alloc, uint32_t index);
/* Frees one index. Returns false if it was not allocated. Write. */
bool nf_alloc_free(struct nf_alloc *alloc, uint32_t index);
/* Frees every index stamped strictly before `older_than_ns`. For each freed
 * index i, when map and keys are given, erases from map the key held in the
 * first key_size bytes of keys[i]. Returns how many were freed. Write. */
uint32_t nf_alloc_expire(struct nf_alloc *alloc, uint64_t older_than_ns,
                         struct nf_map *map, struct nf_vector *keys);

/* Count-min sketch over fixed-size keys. */
struct nf_sketch;
struct nf_sketch *nf_sketch_create(const char *name, uint32_t key_size,
                                   uint32_t width, uint32_t depth);
/* Adds `count` to key's counters. Write. */
void nf_sketch_add(struct nf_sketch *sketch, const void *key, uint32_t count);
/* Estimate of key's total (never below the true total). Read. */
uint32_t nf_sketch_estimate(struct nf_sketch *sketch, const void *key);
/* Zeroes every counter. Write. */
void nf_sketch_reset(struct nf_sketch *sketch);

/* Time-stamped count-min sketch: each of the depth x width buckets holds a
 * count and the time it was last added to or touched. A bucket is live from
 * the first add that reaches it until nf_tsketch_expire frees it; at most
 * `capacity` buckets are live at once (0 = width x depth). A connection
 * limiter adds new connections, touches the buckets of known ones so they
 * stay, and expires the rest (buckets age individually, not the whole
 * sketch as nf_sketch_reset would). */
struct nf_tsketch;
struct nf_tsketch *nf_tsketch_create(const char *name, uint32_t key_size, uint32_t width,
                                     uint32_t depth, uint32_t capacity);
/* Adds `count` to key's buckets and stamps them with now_ns. Returns false,
 * changing nothing, when a bucket it needs is not live and `capacity`
 * buckets already are. Write. */
bool nf_tsketch_add(struct nf_tsketch *sketch, const void *key, uint32_t count,
                    uint64_t now_ns);
/* Stamps key's live buckets with now_ns (a known key keeps them alive).
 * Write. */
void nf_tsketch_touch(struct nf_tsketch *sketch, const void *key, uint64_t now_ns);
/* Estimate of key's total: the minimum over its buckets (a bucket that is
 * not live counts 0). Read. */
uint32_t nf_tsketch_estimate(struct nf_tsketch *sketch, const void *key);
/* Frees every live bucket stamped strictly before older_than_ns (its count
 * becomes 0). Returns how many were freed. Write. */
uint32_t nf_tsketch_expire(struct nf_tsketch *sketch, uint64_t older_than_ns);

/* Maglev-style consistent-hash table over `backends` backends. A backend is
 * alive when its index is allocated in the allocator given to lookup. */
struct nf_chash;
struct nf_chash *nf_chash_create(const char *name, uint32_t backends, uint32_t table_size);
/* The backend for key: the first alive backend in key's preference order, or
 * -1 when none is alive. Reads this table and the whole `alive` allocator. */
int32_t nf_chash_lookup(struct nf_chash *chash, const void *key, uint32_t key_size,
                        struct nf_alloc *alive);

/* Plain counter. */
struct nf_counter;
struct nf_counter *nf_counter_create(const char *name);
void nf_counter_add(struct nf_counter *counter, uint64_t delta);   /* Write. */
uint64_t nf_counter_read(struct nf_counter *counter);               /* Read. */

#ifdef __cplusplus
}
#endif
#endif /* RSSKEY_NF_H */
