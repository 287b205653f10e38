/* The network model: per-link random fate and latency, FIFO per link, one cut bit per link,
 * corruption, bandwidth queues, clogs and type filters. */
#include "sim/net.h"

#include <stdlib.h>

static struct rs_net_link *net_link(const struct rs_net *net, uint32_t src, uint32_t dst)
{
    RS_ASSERT(src < net->endpoint_count);
    RS_ASSERT(dst < net->endpoint_count);
    return &net->links[(size_t)src * net->endpoint_count + dst];
}

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t link_index(uint32_t src, uint32_t dst)
{
    return ((uint64_t)src << 32) | dst;
}

bool rs_link_params_valid(const struct rs_link_params *p)
{
    if (p == NULL || p->latency_min_ns > p->latency_max_ns) {
        return false;
    }
    if (p->tail_ppm > RS_NET_PPM_MAX || p->loss_ppm > RS_NET_PPM_MAX ||
        p->dup_ppm > RS_NET_PPM_MAX || p->reorder_ppm > RS_NET_PPM_MAX ||
        p->corrupt_ppm > RS_NET_PPM_MAX) {
        return false;
    }
    return p->tail_ppm == 0 || p->tail_max_ns > p->latency_max_ns;
}

enum rs_err rs_net_init(struct rs_net *net, uint32_t endpoint_count,
                        const struct rs_link_params *defaults, uint64_t run_seed)
{
    RS_ASSERT(net != NULL);
    *net = (struct rs_net){0};
    if (endpoint_count == 0 || endpoint_count > RS_NET_ENDPOINTS_MAX ||
        !rs_link_params_valid(defaults)) {
        return RS_EINVAL;
    }
    size_t link_count = (size_t)endpoint_count * endpoint_count;
    net->links = calloc(link_count, sizeof *net->links);
    if (net->links == NULL) {
        return RS_ENOMEM;
    }
    net->endpoint_count = endpoint_count;
    net->run_seed = run_seed;
    for (uint32_t src = 0; src < endpoint_count; src++) {
        for (uint32_t dst = 0; dst < endpoint_count; dst++) {
            struct rs_net_link *link = net_link(net, src, dst);
            link->params = *defaults;
            rs_rng_derive_idx(&link->rng, run_seed, "net", link_index(src, dst));
        }
    }
    return RS_OK;
}

void rs_net_free(struct rs_net *net)
{
    free(net->links);
    *net = (struct rs_net){0};
}

enum rs_err rs_net_set_link(struct rs_net *net, uint32_t src, uint32_t dst,
                            const struct rs_link_params *p)
{
    if (src >= net->endpoint_count || dst >= net->endpoint_count || !rs_link_params_valid(p)) {
        return RS_EINVAL;
    }
    net_link(net, src, dst)->params = *p;
    return RS_OK;
}

enum rs_err rs_net_set_all(struct rs_net *net, const struct rs_link_params *p)
{
    if (!rs_link_params_valid(p)) {
        return RS_EINVAL;
    }
    size_t link_count = (size_t)net->endpoint_count * net->endpoint_count;
    for (size_t i = 0; i < link_count; i++) {
        net->links[i].params = *p;
    }
    return RS_OK;
}

enum rs_err rs_net_block(struct rs_net *net, uint32_t src, uint32_t dst, bool blocked)
{
    if (src >= net->endpoint_count || dst >= net->endpoint_count) {
        return RS_EINVAL;
    }
    net_link(net, src, dst)->blocked = blocked;
    return RS_OK;
}

enum rs_err rs_net_isolate(struct rs_net *net, uint32_t endpoint)
{
    if (endpoint >= net->endpoint_count) {
        return RS_EINVAL;
    }
    for (uint32_t other = 0; other < net->endpoint_count; other++) {
        if (other != endpoint) {
            net_link(net, endpoint, other)->blocked = true;
            net_link(net, other, endpoint)->blocked = true;
        }
    }
    return RS_OK;
}

enum rs_err rs_net_partition(struct rs_net *net, const uint8_t *side, uint32_t count)
{
    if (side == NULL || count != net->endpoint_count) {
        return RS_EINVAL;
    }
    for (uint32_t src = 0; src < count; src++) {
        for (uint32_t dst = 0; dst < count; dst++) {
            if (side[src] != side[dst]) {
                net_link(net, src, dst)->blocked = true;
            }
        }
    }
    return RS_OK;
}

void rs_net_heal(struct rs_net *net)
{
    size_t link_count = (size_t)net->endpoint_count * net->endpoint_count;
    for (size_t i = 0; i < link_count; i++) {
        net->links[i].blocked = false;
    }
}

bool rs_net_link_up(const struct rs_net *net, uint32_t src, uint32_t dst)
{
    return !net_link(net, src, dst)->blocked;
}

enum rs_err rs_net_set_bandwidth(struct rs_net *net, uint32_t src, uint32_t dst,
                                 uint64_t bytes_per_s)
{
    if (src >= net->endpoint_count || dst >= net->endpoint_count) {
        return RS_EINVAL;
    }
    net_link(net, src, dst)->bandwidth_bytes_per_s = bytes_per_s;
    return RS_OK;
}

enum rs_err rs_net_clog(struct rs_net *net, uint32_t src, uint32_t dst, bool clogged)
{
    if (src >= net->endpoint_count || dst >= net->endpoint_count) {
        return RS_EINVAL;
    }
    net_link(net, src, dst)->clogged = clogged;
    return RS_OK;
}

bool rs_net_clogged(const struct rs_net *net, uint32_t src, uint32_t dst)
{
    return net_link(net, src, dst)->clogged;
}

void rs_net_unclog_all(struct rs_net *net)
{
    size_t link_count = (size_t)net->endpoint_count * net->endpoint_count;
    for (size_t i = 0; i < link_count; i++) {
        net->links[i].clogged = false;
    }
}

enum rs_err rs_net_filter(struct rs_net *net, uint32_t src, uint32_t dst, uint64_t types,
                          bool drop)
{
    if (src >= net->endpoint_count || dst >= net->endpoint_count) {
        return RS_EINVAL;
    }
    struct rs_net_link *link = net_link(net, src, dst);
    link->filter_mask = drop ? link->filter_mask | types : link->filter_mask & ~types;
    return RS_OK;
}

uint64_t rs_net_filters(const struct rs_net *net, uint32_t src, uint32_t dst)
{
    return net_link(net, src, dst)->filter_mask;
}

void rs_net_clear_filters(struct rs_net *net)
{
    size_t link_count = (size_t)net->endpoint_count * net->endpoint_count;
    for (size_t i = 0; i < link_count; i++) {
        net->links[i].filter_mask = 0;
    }
}

/* Two draws always: whether the tail applies, then the latency in the chosen interval. */
static uint64_t draw_latency(struct rs_net_link *link)
{
    const struct rs_link_params *p = &link->params;
    bool tail = rs_rng_chance_ppm(&link->rng, p->tail_ppm);
    if (tail) {
        RS_ASSERT(p->tail_max_ns > p->latency_max_ns);
        return rs_rng_range(&link->rng, p->latency_max_ns + 1, p->tail_max_ns);
    }
    return rs_rng_range(&link->rng, p->latency_min_ns, p->latency_max_ns);
}

/* One chance per copy slot always, then a bit position for a corrupted copy. */
static void draw_corruption(struct rs_net *net, struct rs_net_link *link, uint32_t src,
                            uint32_t dst, uint32_t size_bytes, struct rs_net_fate *fate)
{
    if (!link->corrupt_rng_ready) {
        rs_rng_derive_idx(&link->corrupt_rng, net->run_seed, "net/corrupt", link_index(src, dst));
        link->corrupt_rng_ready = true;
    }
    for (unsigned i = 0; i < 2; i++) {
        bool corrupt = rs_rng_chance_ppm(&link->corrupt_rng, link->params.corrupt_ppm);
        fate->corrupt_bit[i] = RS_NET_INTACT;
        if (corrupt && size_bytes > 0 && i < fate->copies) {
            fate->corrupt_bit[i] = rs_rng_below(&link->corrupt_rng, (uint64_t)size_bytes * 8);
            net->counters.corrupted++;
        }
    }
}

/* Whether a capped link's queue is full: the message would wait too long to start. */
static bool queue_full(const struct rs_net_link *link, uint64_t now_ns)
{
    return link->bandwidth_bytes_per_s != 0 && link->busy_until_ns > now_ns &&
           link->busy_until_ns - now_ns > RS_NET_QUEUE_MAX_NS;
}

/* When a message of size_bytes offered at now_ns has left the sender (bandwidth queueing). */
static uint64_t transmit_done(struct rs_net_link *link, uint64_t now_ns, uint32_t size_bytes)
{
    uint64_t bandwidth = link->bandwidth_bytes_per_s;
    if (bandwidth == 0) {
        return now_ns;
    }
    unsigned __int128 scaled = (unsigned __int128)size_bytes * RS_NS_PER_S;
    unsigned __int128 busy = (scaled + bandwidth - 1) / bandwidth;
    uint64_t busy_ns = busy > UINT64_MAX ? UINT64_MAX : (uint64_t)busy;
    uint64_t start_ns = now_ns > link->busy_until_ns ? now_ns : link->busy_until_ns;
    link->busy_until_ns = add_saturating(start_ns, busy_ns);
    return link->busy_until_ns;
}

/* FIFO: a message not picked for reordering arrives no earlier than the link's last one. */
static uint64_t fifo_order(struct rs_net_link *link, uint64_t at_ns)
{
    at_ns = at_ns > link->fifo_last_ns ? at_ns : link->fifo_last_ns;
    link->fifo_last_ns = at_ns;
    return at_ns;
}

void rs_net_transmit(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                     uint32_t type, uint32_t size_bytes, struct rs_net_fate *fate)
{
    RS_ASSERT(fate != NULL);
    struct rs_net_link *link = net_link(net, src, dst);
    *fate = (struct rs_net_fate){.corrupt_bit = {RS_NET_INTACT, RS_NET_INTACT}};
    net->counters.sent++;
    net->counters.sent_bytes += size_bytes;
    if (link->blocked) {
        net->counters.blocked++;
        return;
    }
    if (type < RS_NET_TYPES_MAX && (link->filter_mask >> type) & 1) {
        net->counters.filtered++;
        fate->filtered = true;
        return;
    }
    /* Draw everything first, in a fixed order, so the stream advances the same every time. */
    bool lost = rs_rng_chance_ppm(&link->rng, link->params.loss_ppm);
    bool duplicated = rs_rng_chance_ppm(&link->rng, link->params.dup_ppm);
    bool reordered = rs_rng_chance_ppm(&link->rng, link->params.reorder_ppm);
    uint64_t latency_ns = draw_latency(link);
    uint64_t dup_latency_ns = draw_latency(link);
    bool dropped = !lost && !link->clogged && queue_full(link, now_ns);
    fate->copies = lost || dropped ? 0 : duplicated ? 2 : 1;
    draw_corruption(net, link, src, dst, size_bytes, fate);
    if (lost || dropped) {
        net->counters.lost += lost;
        net->counters.queue_dropped += dropped;
        return;
    }
    net->counters.duplicated += duplicated;
    net->counters.delivered_copies += fate->copies;
    fate->latency_ns[0] = latency_ns;
    fate->latency_ns[1] = add_saturating(latency_ns, dup_latency_ns);
    if (link->clogged) {
        fate->held = true;
        net->counters.held_copies += fate->copies;
        fate->deliver_at_ns[0] = fate->deliver_at_ns[1] = RS_NET_HELD;
        return;
    }
    uint64_t at_ns = add_saturating(transmit_done(link, now_ns, size_bytes), latency_ns);
    if (reordered) {
        net->counters.reordered++;
    } else {
        at_ns = fifo_order(link, at_ns);
    }
    fate->deliver_at_ns[0] = at_ns;
    fate->deliver_at_ns[1] = add_saturating(at_ns, dup_latency_ns);
}

unsigned rs_net_send(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                     uint32_t size_bytes, uint64_t deliver_at_ns[2])
{
    RS_ASSERT(deliver_at_ns != NULL);
    struct rs_net_fate fate;
    /* RS_NET_TYPES_MAX: no type, never filtered */
    rs_net_transmit(net, now_ns, src, dst, RS_NET_TYPES_MAX, size_bytes, &fate);
    for (unsigned i = 0; i < fate.copies; i++) {
        deliver_at_ns[i] = fate.deliver_at_ns[i];
    }
    return fate.copies;
}

uint64_t rs_net_release(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                        uint32_t size_bytes, uint64_t latency_ns)
{
    struct rs_net_link *link = net_link(net, src, dst);
    RS_ASSERT(!link->clogged);
    return fifo_order(link, add_saturating(transmit_done(link, now_ns, size_bytes), latency_ns));
}

const struct rs_net_counters *rs_net_counters(const struct rs_net *net)
{
    return &net->counters;
}
