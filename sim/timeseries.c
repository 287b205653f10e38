/* Per-store time series, spreads across stores, and when the cluster became balanced. */
#include "sim/timeseries.h"

#include <math.h>

const char *rs_balance_metric_name(enum rs_balance_metric m)
{
    static const char *const names[RS_BALANCE_METRIC_COUNT] = {
        "leaders", "regions", "keys", "bytes", "read_qps", "write_qps"};
    return (unsigned)m < RS_BALANCE_METRIC_COUNT ? names[m] : "?";
}

/* Operations per second over one sample interval (integer division). */
static uint64_t per_second(uint64_t count, uint64_t sample_ns)
{
    return sample_ns > 0 ? count * RS_NS_PER_S / sample_ns : 0;
}

static uint64_t metric_of(const struct rs_world_sample *r, enum rs_balance_metric m,
                          uint64_t sample_ns)
{
    switch (m) {
    case RS_BALANCE_LEADERS: return r->leaders;
    case RS_BALANCE_REGIONS: return r->regions;
    case RS_BALANCE_KEYS: return r->keys;
    case RS_BALANCE_BYTES: return r->bytes;
    case RS_BALANCE_READ_QPS: return per_second(r->reads, sample_ns);
    case RS_BALANCE_WRITE_QPS: return per_second(r->writes, sample_ns);
    default: RS_UNREACHABLE();
    }
}

void rs_spread_of(const struct rs_world_sample *rows, size_t count, enum rs_balance_metric m,
                  uint64_t sample_ns, struct rs_spread *out)
{
    *out = (struct rs_spread){0};
    uint64_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        if (!rows[i].up) {
            continue;
        }
        uint64_t v = metric_of(&rows[i], m, sample_ns);
        out->min = out->stores == 0 || v < out->min ? v : out->min;
        out->max = out->stores == 0 || v > out->max ? v : out->max;
        sum += v;
        out->stores++;
    }
    if (out->stores == 0) {
        return;
    }
    out->mean = (double)sum / out->stores;
    double squares = 0;
    for (size_t i = 0; i < count; i++) {
        if (rows[i].up) {
            double d = (double)metric_of(&rows[i], m, sample_ns) - out->mean;
            squares += d * d;
        }
    }
    out->stddev = sqrt(squares / out->stores);
    out->max_over_mean = out->mean > 0 ? (double)out->max / out->mean : 0;
}

void rs_timeseries_csv(const struct rs_world *w, struct rs_buf *out)
{
    rs_buf_puts(out, "time_s,store,up,leaders,regions,keys,bytes,read_qps,write_qps,"
                     "leader_gains,replicas_added,snapshot_bytes,splits\n");
    for (size_t i = 0; i < w->sample_count; i++) {
        const struct rs_world_sample *r = &w->samples[i];
        rs_buf_printf(out, "%.3f,%u,%d,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
                      (double)r->time_ns / RS_NS_PER_S, r->store, r->up ? 1 : 0, r->leaders,
                      r->regions, (unsigned long long)r->keys, (unsigned long long)r->bytes,
                      (unsigned long long)per_second(r->reads, w->cfg.sample_ns),
                      (unsigned long long)per_second(r->writes, w->cfg.sample_ns),
                      (unsigned long long)r->leader_gains, (unsigned long long)r->replicas_added,
                      (unsigned long long)r->snapshot_bytes, (unsigned long long)r->splits);
    }
}

void rs_balance_csv(const struct rs_world *w, struct rs_buf *out)
{
    rs_buf_puts(out, "time_s,metric,stores,min,max,max_minus_min,mean,stddev,max_over_mean\n");
    uint32_t n = w->cfg.node_count;
    for (size_t at = 0; at + n <= w->sample_count; at += n) {
        for (int m = 0; m < RS_BALANCE_METRIC_COUNT; m++) {
            struct rs_spread s;
            rs_spread_of(&w->samples[at], n, (enum rs_balance_metric)m, w->cfg.sample_ns, &s);
            rs_buf_printf(out, "%.3f,%s,%u,%llu,%llu,%llu,%.3f,%.3f,%.3f\n",
                          (double)w->samples[at].time_ns / RS_NS_PER_S,
                          rs_balance_metric_name((enum rs_balance_metric)m), s.stores,
                          (unsigned long long)s.min, (unsigned long long)s.max,
                          (unsigned long long)(s.max - s.min), s.mean, s.stddev, s.max_over_mean);
        }
    }
}

/* The first sample time from which max - min <= 1 held to the last sample; -1: not at the end. */
int64_t rs_balanced_since(const struct rs_world *w, enum rs_balance_metric m)
{
    uint32_t n = w->cfg.node_count;
    int64_t since = -1;
    for (size_t at = 0; at + n <= w->sample_count; at += n) {
        struct rs_spread s;
        rs_spread_of(&w->samples[at], n, m, w->cfg.sample_ns, &s);
        bool ok = s.stores > 0 && s.max - s.min <= 1;
        if (!ok) {
            since = -1;
        } else if (since < 0) {
            since = (int64_t)w->samples[at].time_ns;
        }
    }
    return since;
}

void rs_balance_json(const struct rs_world *w, struct rs_buf *out)
{
    uint32_t n = w->cfg.node_count;
    if (w->sample_count < n || n == 0) {
        rs_buf_puts(out, "null");
        return;
    }
    const struct rs_world_sample *last = &w->samples[w->sample_count - n];
    rs_buf_puts(out, "{\"spread_at_end\":{");
    for (int m = 0; m < RS_BALANCE_METRIC_COUNT; m++) {
        struct rs_spread s;
        rs_spread_of(last, n, (enum rs_balance_metric)m, w->cfg.sample_ns, &s);
        rs_buf_printf(out, "%s\"%s\":{\"min\":%llu,\"max\":%llu,\"stddev\":%.3f,"
                           "\"max_over_mean\":%.3f}",
                      m > 0 ? "," : "", rs_balance_metric_name((enum rs_balance_metric)m),
                      (unsigned long long)s.min, (unsigned long long)s.max, s.stddev,
                      s.max_over_mean);
    }
    rs_buf_puts(out, "},\"balanced_since_s\":{");
    for (int m = RS_BALANCE_LEADERS; m <= RS_BALANCE_REGIONS; m++) {
        int64_t since = rs_balanced_since(w, (enum rs_balance_metric)m);
        rs_buf_printf(out, "%s\"%s\":", m > 0 ? "," : "",
                      rs_balance_metric_name((enum rs_balance_metric)m));
        if (since < 0) {
            rs_buf_puts(out, "null");
        } else {
            rs_buf_printf(out, "%.3f", (double)since / RS_NS_PER_S);
        }
    }
    struct rs_world_sample churn = {0};
    for (size_t i = 0; i < w->sample_count; i++) {
        churn.leader_gains += w->samples[i].leader_gains;
        churn.replicas_added += w->samples[i].replicas_added;
        churn.snapshot_bytes += w->samples[i].snapshot_bytes;
        churn.splits += w->samples[i].splits;
    }
    rs_buf_printf(out, "},\"churn\":{\"leader_gains\":%llu,\"replicas_added\":%llu,"
                       "\"snapshot_bytes\":%llu,\"splits\":%llu}}",
                  (unsigned long long)churn.leader_gains,
                  (unsigned long long)churn.replicas_added,
                  (unsigned long long)churn.snapshot_bytes, (unsigned long long)churn.splits);
}
