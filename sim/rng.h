/* Random streams, one per purpose, derived from the run seed by name; and a zipf sampler. */
#ifndef RS_SIM_RNG_H
#define RS_SIM_RNG_H

#include "core/base.h"

/*
 * A xoshiro256** generator. Every stream is derived from (run seed, purpose name), so a
 * stream's values depend on nothing but its own name and how often it has been drawn from:
 * adding draws to the "workload" stream never moves the "net" or "nemesis" streams.
 *
 * Derivation: h = XXH3_64bits_withSeed(purpose bytes, run_seed); the four state words are
 * the first four outputs of splitmix64 started at h. rs_rng_derive_idx(r, seed, "disk", 3)
 * is the same stream as rs_rng_derive(r, seed, "disk/3") (the index in decimal), so names
 * are the only identity a stream has.
 */
struct rs_rng {
    uint64_t s[4];
};

void rs_rng_derive(struct rs_rng *r, uint64_t run_seed, const char *purpose);
void rs_rng_derive_idx(struct rs_rng *r, uint64_t run_seed, const char *purpose, uint64_t index);

uint64_t rs_rng_next(struct rs_rng *r);
/* Unbiased in [0, bound) (Lemire's multiply-and-reject); bound must be at least 1. */
uint64_t rs_rng_below(struct rs_rng *r, uint64_t bound);
/* Unbiased in [lo, hi], both inclusive; lo <= hi. [0, UINT64_MAX] is allowed. */
uint64_t rs_rng_range(struct rs_rng *r, uint64_t lo, uint64_t hi);
/*
 * True with probability ppm / 1e6 (ppm >= 1e6 is always true). Consumes exactly one draw
 * whatever ppm is, so turning a probability up from 0 does not shift the rest of the stream.
 */
bool rs_rng_chance_ppm(struct rs_rng *r, uint32_t ppm);

/*
 * Zipf over ranks 0..n-1: P(k) proportional to 1 / (k + 1)^s, with s = s_milli / 1000.
 * The cumulative table is built with integer arithmetic only (fixed-point log2 and exp2, no
 * libm), so it is bit-identical across compilers, platforms and optimisation levels.
 *
 * Precision: log2(k + 1) is computed to 32 fractional bits (truncated), the exponent
 * s * log2(k + 1) is truncated to 32 fractional bits, and 2^-frac is a product of up to 32
 * Q63 constants. Weights are scaled so that the rank-0 weight is W0 = 2^(63 - ceil(log2 n))
 * and the total stays at most 2^63. Each weight is within a relative 2^-29 of the exact
 * W0 / (k + 1)^s, plus half a unit from the final rounding to an integer (test_rng checks
 * this for s = 0.5, 1 and 2 against exact integer arithmetic); a weight that would round to zero
 * is raised to 1, so every rank stays reachable (this adds at most n / 2^(63 - ceil(log2 n))
 * to the tail mass, i.e. nothing measurable for n <= RS_ZIPF_N_MAX and s <= 10).
 */
#define RS_ZIPF_N_MAX       (1u << 24)
#define RS_ZIPF_S_MILLI_MAX 10000u

struct rs_zipf {
    uint32_t n;
    uint32_t s_milli;
    uint64_t *cumulative; /* cumulative[k] = weight(0) + ... + weight(k) */
};

/* RS_EINVAL for n == 0, n > RS_ZIPF_N_MAX or s_milli > RS_ZIPF_S_MILLI_MAX; RS_ENOMEM. */
enum rs_err rs_zipf_init(struct rs_zipf *z, uint32_t n, uint32_t s_milli);
void rs_zipf_free(struct rs_zipf *z);
/* A rank in 0..n-1 (binary search over the table; one rs_rng_below draw). */
uint32_t rs_zipf_sample(const struct rs_zipf *z, struct rs_rng *r);
/* The integer weight of rank k (exposed for tests and reports). */
uint64_t rs_zipf_weight(const struct rs_zipf *z, uint32_t k);

/* Fixed-point helpers used by the zipf table, exposed so tests can check their precision. */
/* log2(x) for x >= 1 in Q32 (32 fractional bits), truncated. */
uint64_t rs_fixed_log2_q32(uint64_t x);
/* 2^-(f / 2^32) for f in [0, 2^32) in Q63 (2^63 represents 1.0). */
uint64_t rs_fixed_exp2_neg_q63(uint32_t f);

#endif
