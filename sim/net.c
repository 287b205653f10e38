/* The network model: per-link random fate and latency, FIFO per link, one cut bit per link. */
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

bool rs_link_params_valid(const struct rs_link_params *p)
{
    if (p == NULL || p->latency_min_ns > p->latency_max_ns) {
        return false;
    }
    if (p->tail_ppm > RS_NET_PPM_MAX || p->loss_ppm > RS_NET_PPM_MAX ||
        p->dup_ppm > RS_NET_PPM_MAX || p->reorder_ppm > RS_NET_PPM_MAX) {
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
    for (uint32_t src = 0; src < endpoint_count; src++) {
        for (uint32_t dst = 0; dst < endpoint_count; dst++) {
            struct rs_net_link *link = net_link(net, src, dst);
            link->params = *defaults;
            rs_rng_derive_idx(&link->rng, run_seed, "net", ((uint64_t)src << 32) | dst);
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

unsigned rs_net_send(struct rs_net *net, uint64_t now_ns, uint32_t src, uint32_t dst,
                     uint32_t size_bytes, uint64_t deliver_at_ns[2])
{
    RS_ASSERT(deliver_at_ns != NULL);
    struct rs_net_link *link = net_link(net, src, dst);
    net->counters.sent++;
    net->counters.sent_bytes += size_bytes;
    if (link->blocked) {
        net->counters.blocked++;
        return 0;
    }
    /* Draw everything first, in a fixed order, so the stream advances the same every time. */
    bool lost = rs_rng_chance_ppm(&link->rng, link->params.loss_ppm);
    bool duplicated = rs_rng_chance_ppm(&link->rng, link->params.dup_ppm);
    bool reordered = rs_rng_chance_ppm(&link->rng, link->params.reorder_ppm);
    uint64_t latency_ns = draw_latency(link);
    uint64_t dup_latency_ns = draw_latency(link);
    if (lost) {
        net->counters.lost++;
        return 0;
    }
    uint64_t at_ns = add_saturating(now_ns, latency_ns);
    if (reordered) {
        net->counters.reordered++;
    } else {
        at_ns = at_ns > link->fifo_last_ns ? at_ns : link->fifo_last_ns;
        link->fifo_last_ns = at_ns;
    }
    deliver_at_ns[0] = at_ns;
    if (!duplicated) {
        net->counters.delivered_copies++;
        return 1;
    }
    deliver_at_ns[1] = add_saturating(at_ns, dup_latency_ns);
    net->counters.duplicated++;
    net->counters.delivered_copies += 2;
    return 2;
}

const struct rs_net_counters *rs_net_counters(const struct rs_net *net)
{
    return &net->counters;
}
