/* The simulated network between endpoints 0..n-1: latency, loss, duplication, reordering, cuts,
 * corruption, bandwidth caps, clogs and message-type filters. */
#ifndef RS_SIM_NET_H
#define RS_SIM_NET_H

#include "core/base.h"
#include "sim/rng.h"

/* Links are kept as an n x n matrix, so the endpoint count is bounded (about 90 bytes a link). */
#define RS_NET_ENDPOINTS_MAX 512u
#define RS_NET_PPM_MAX       1000000u
/* Message types a filter can name: bit t of a mask is type t (core/wire/frame.h). */
#define RS_NET_TYPES_MAX 64u
/* corrupt_bit of an intact copy; deliver_at_ns of a held copy in rs_net_send. */
#define RS_NET_INTACT UINT64_MAX
#define RS_NET_HELD   UINT64_MAX
/* A bandwidth-capped link queues at most this much transmission time; a message that would
 * wait longer is dropped (drop-tail, like a full router queue), counted in queue_dropped. */
#define RS_NET_QUEUE_MAX_NS (1000000000ull)

/*
 * How one directed link behaves. Latency is uniform in [latency_min_ns, latency_max_ns];
 * with probability tail_ppm it is instead uniform in (latency_max_ns, tail_max_ns] (a heavy
 * tail; tail_max_ns must then be > latency_max_ns). loss_ppm drops a message, dup_ppm
 * delivers it twice, reorder_ppm lets it overtake messages sent before it on the same link.
 * corrupt_ppm flips one random bit in a delivered copy (each copy decides on its own).
 * Fields are ordered to pack; initialise them by name.
 */
struct rs_link_params {
    uint64_t latency_min_ns;
    uint64_t latency_max_ns;
    uint64_t tail_max_ns;
    uint32_t tail_ppm;
    uint32_t loss_ppm;
    uint32_t dup_ppm;
    uint32_t reorder_ppm;
    uint32_t corrupt_ppm;
};

/*
 * What happened to messages, for the host's reports. `sent` counts every send; each is then
 * exactly one of blocked, filtered, lost, queue_dropped or delivered (as 1 or 2 copies).
 * delivered_copies counts copies handed back to the host (a duplicate counts twice), held ones
 * included; held_copies counts those of them that waited for an unclog, corrupted those with a
 * flipped bit. Cuts of messages in flight happen in the host (it checks rs_net_link_up at
 * delivery) and are not counted here. reordered counts messages exempted from FIFO order.
 */
struct rs_net_counters {
    uint64_t sent;
    uint64_t sent_bytes;
    uint64_t blocked;
    uint64_t filtered;
    uint64_t lost;
    uint64_t queue_dropped;
    uint64_t delivered_copies;
    uint64_t duplicated;
    uint64_t reordered;
    uint64_t corrupted;
    uint64_t held_copies;
};

/*
 * One directed link. Each link draws its fate and latency from its own random stream
 * ("net/<src << 32 | dst>"), so traffic on one link never moves the fate of messages on
 * another; corruption draws from a second per-link stream ("net/corrupt/<src << 32 | dst>",
 * derived on first use) so that turning corruption on does not move any fate or latency.
 */
struct rs_net_link {
    struct rs_link_params params;
    struct rs_rng rng;
    struct rs_rng corrupt_rng;
    uint64_t fifo_last_ns;  /* latest delivery time of a FIFO message on this link */
    uint64_t bandwidth_bytes_per_s; /* 0: unlimited (see rs_net_set_bandwidth) */
    uint64_t busy_until_ns;         /* bandwidth: the link transmits until then */
    uint64_t filter_mask;   /* bit t set: messages of type t are dropped at the sender */
    bool blocked;           /* a cut: messages are dropped, in flight too (by the host) */
    bool clogged;           /* messages sent now wait until the link is unclogged */
    bool corrupt_rng_ready;
};

/*
 * The fate of one send. copies is 0 (blocked, filtered or lost), 1, or 2 (duplicated).
 * When held is false, deliver_at_ns[i] is when copy i arrives. When held is true the link is
 * clogged: the host keeps the copies, in send order, and hands each to rs_net_release when
 * the link is unclogged; latency_ns[i] is the latency copy i travels with after its release.
 * corrupt_bit[i] is RS_NET_INTACT or the bit (0 .. 8 * size - 1) the host flips in copy i.
 */
struct rs_net_fate {
    unsigned copies;
    bool held;
    bool filtered;
    uint64_t deliver_at_ns[2];
    uint64_t latency_ns[2];
    uint64_t corrupt_bit[2];
};

struct rs_net {
    uint32_t endpoint_count;
    struct rs_net_link *links; /* links[src * endpoint_count + dst] */
    struct rs_net_counters counters;
    uint64_t run_seed; /* for the corruption streams, derived on first use */
};

/*
 * RS_EINVAL for a bad endpoint count (0 or above RS_NET_ENDPOINTS_MAX) or bad parameters,
 * RS_ENOMEM; on error the network is empty (rs_net_free is still safe).
 */
enum rs_err rs_net_init(struct rs_net *net, uint32_t endpoint_count,
                        const struct rs_link_params *defaults, uint64_t run_seed);
void rs_net_free(struct rs_net *net);

/* Parameters are valid when min <= max, every ppm <= 1e6, and tail_max > max if tail_ppm > 0. */
bool rs_link_params_valid(const struct rs_link_params *p);

/* These return RS_EINVAL (and change nothing) for bad parameters or endpoints. */
enum rs_err rs_net_set_link(struct rs_net *net, uint32_t src, uint32_t dst,
                            const struct rs_link_params *p);
enum rs_err rs_net_set_all(struct rs_net *net, const struct rs_link_params *p);

/*
 * Connectivity. One bit a link: block, isolate and partition add cuts, heal removes every cut
 * (clogs and filters stay: rs_net_unclog_all and rs_net_clear_filters remove those).
 * A link from an endpoint to itself is never cut by isolate or partition (only by block).
 */
enum rs_err rs_net_block(struct rs_net *net, uint32_t src, uint32_t dst, bool blocked);
enum rs_err rs_net_isolate(struct rs_net *net, uint32_t endpoint);
/* side[i] for every endpoint i (count must equal the endpoint count). */
enum rs_err rs_net_partition(struct rs_net *net, const uint8_t *side, uint32_t count);
void rs_net_heal(struct rs_net *net);
/* src and dst must be endpoints here and in rs_net_send: a bad one is a host bug (asserted). */
bool rs_net_link_up(const struct rs_net *net, uint32_t src, uint32_t dst);

/*
 * Clogs hold a link's new messages until it is unclogged (then they go in send order); they
 * add up until unclogged. Filters drop messages of the types in a mask (bit t = type t) at the
 * sender. These return RS_EINVAL (and change nothing) for a bad endpoint.
 */
/*
 * A bandwidth cap on one link (0: unlimited), kept apart from the parameters so that
 * rs_net_set_all leaves caps alone. A capped link serialises its messages: a message starts
 * when the link is free and occupies it for ceil(size * 1e9 / bandwidth) ns, then travels with
 * its latency, so a busy link queues (up to RS_NET_QUEUE_MAX_NS of waiting, then drop-tail).
 * RS_EINVAL for a bad endpoint.
 */
enum rs_err rs_net_set_bandwidth(struct rs_net *net, uint32_t src, uint32_t dst,
                                 uint64_t bytes_per_s);
enum rs_err rs_net_clog(struct rs_net *net, uint32_t src, uint32_t dst, bool clogged);
bool rs_net_clogged(const struct rs_net *net, uint32_t src, uint32_t dst);
void rs_net_unclog_all(struct rs_net *net);
enum rs_err rs_net_filter(struct rs_net *net, uint32_t src, uint32_t dst, uint64_t types,
                          bool drop);
uint64_t rs_net_filters(const struct rs_net *net, uint32_t src, uint32_t dst);
void rs_net_clear_filters(struct rs_net *net);

/*
 * Decide the fate of one message of `type` sent at now_ns (see struct rs_net_fate).
 *
 * Order: a cut drops it, then a filter; otherwise every send draws the same number of values
 * from the link's stream whatever the outcome (loss, duplication, reordering, tail, latency,
 * duplicate latency), so changing one probability does not shift the later draws, and two
 * corruption chances from the corruption stream (plus a bit position for a corrupted copy).
 * A lost message is gone; a clogged link holds the copies (rs_net_release sends them later).
 * Otherwise the message waits for the link's bandwidth (or is dropped when the queue is
 * full: copies 0), then travels. FIFO: a message not
 * picked for reordering is delivered no earlier than the previous FIFO message on its link
 * (equal times are fine: the host pushes deliveries in send order and the event queue breaks
 * ties by push order). A reordered message keeps its drawn time and does not hold back later
 * messages. The duplicate arrives at deliver_at_ns[0] plus a fresh latency draw, outside FIFO
 * order, without using bandwidth again.
 */
/* A type of RS_NET_TYPES_MAX or more is never filtered. */
void rs_net_transmit(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                     uint32_t type, uint32_t size_bytes, struct rs_net_fate *fate);
/*
 * rs_net_transmit for a message of no particular type: returns the number of copies and fills
 * deliver_at_ns[0..copies-1] (RS_NET_HELD for a held copy); corruption is not reported.
 */
unsigned rs_net_send(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                     uint32_t size_bytes, uint64_t deliver_at_ns[2]);
/*
 * A held copy leaves at now_ns (its link has been unclogged): it waits for the bandwidth,
 * travels latency_ns, and keeps FIFO order with the link's other messages. Returns when it
 * arrives. Call it for held copies in the order they were held.
 */
uint64_t rs_net_release(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                        uint32_t size_bytes, uint64_t latency_ns);

const struct rs_net_counters *rs_net_counters(const struct rs_net *net);

#endif
