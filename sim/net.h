/* The simulated network between endpoints 0..n-1: latency, loss, duplication, reordering, cuts. */
#ifndef RS_SIM_NET_H
#define RS_SIM_NET_H

#include "core/base.h"
#include "sim/rng.h"

/* Links are kept as an n x n matrix, so the endpoint count is bounded (about 90 bytes a link). */
#define RS_NET_ENDPOINTS_MAX 512u
#define RS_NET_PPM_MAX       1000000u

/*
 * How one directed link behaves. Latency is uniform in [latency_min_ns, latency_max_ns];
 * with probability tail_ppm it is instead uniform in (latency_max_ns, tail_max_ns] (a heavy
 * tail; tail_max_ns must then be > latency_max_ns). loss_ppm drops a message, dup_ppm
 * delivers it twice, reorder_ppm lets it overtake messages sent before it on the same link.
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
};

/*
 * What happened to messages, for the host's reports. `sent` counts every rs_net_send call;
 * each is then exactly one of blocked, lost, or delivered (as 1 or 2 copies).
 * delivered_copies counts copies handed back to the host (a duplicate counts twice); cuts of
 * messages in flight happen in the host (it checks rs_net_link_up at delivery) and are not
 * counted here. reordered counts messages that were exempted from FIFO order.
 */
struct rs_net_counters {
    uint64_t sent;
    uint64_t sent_bytes;
    uint64_t blocked;
    uint64_t lost;
    uint64_t delivered_copies;
    uint64_t duplicated;
    uint64_t reordered;
};

/*
 * One directed link. Each link draws from its own random stream ("net/<src << 32 | dst>"),
 * so traffic on one link never moves the fate of messages on another. Later features slot in
 * here without changing rs_net_send's callers: a bandwidth cap (a busy_until like the disk's),
 * clogging (a hold-until time), and message-type filters (a mask checked next to `blocked`).
 */
struct rs_net_link {
    struct rs_link_params params;
    struct rs_rng rng;
    uint64_t fifo_last_ns; /* latest delivery time of a FIFO message on this link */
    bool blocked;
};

struct rs_net {
    uint32_t endpoint_count;
    struct rs_net_link *links; /* links[src * endpoint_count + dst] */
    struct rs_net_counters counters;
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
 * Connectivity. One bit a link: block, isolate and partition add cuts, heal removes every cut.
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
 * Decide the fate of one message sent at now_ns: returns the number of copies to deliver
 * (0: blocked or lost; 1; 2: duplicated) and fills deliver_at_ns[0..copies-1].
 *
 * Every unblocked send draws the same number of values from the link's stream whatever the
 * outcome (loss, duplication, reordering, tail, latency, duplicate latency), so changing one
 * probability does not shift the later draws. FIFO: a message not picked for reordering is
 * delivered no earlier than the previous FIFO message on its link (equal times are fine: the
 * host pushes deliveries in send order and the event queue breaks ties by push order).
 * A reordered message keeps its drawn time and does not hold back later messages. The
 * duplicate arrives at deliver_at_ns[0] plus a fresh latency draw, outside FIFO order.
 * size_bytes is counted now and reserved for bandwidth caps.
 */
unsigned rs_net_send(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                     uint32_t size_bytes, uint64_t deliver_at_ns[2]);

const struct rs_net_counters *rs_net_counters(const struct rs_net *net);

#endif
