/* Random streams: xxhash-named derivation, xoshiro256**, unbiased ranges, integer-only zipf. */
#include "sim/rng.h"

#include <stdlib.h>
#include <string.h>

/* Inline xxhash so the streaming state lives on the stack without depending on the ABI. */
#define XXH_INLINE_ALL
#include <xxhash.h>

typedef unsigned __int128 rng_u128;

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* splitmix64 outputs are a bijection of distinct counters, so at most one word is zero and
 * the all-zero state that xoshiro256** must avoid cannot happen. */
static void rng_seed_from_hash(struct rs_rng *r, uint64_t hash)
{
    uint64_t state = hash;
    for (size_t i = 0; i < 4; i++) {
        r->s[i] = splitmix64_next(&state);
    }
    RS_ASSERT((r->s[0] | r->s[1] | r->s[2] | r->s[3]) != 0);
}

void rs_rng_derive(struct rs_rng *r, uint64_t run_seed, const char *purpose)
{
    RS_ASSERT(r != NULL);
    RS_ASSERT(purpose != NULL);
    rng_seed_from_hash(r, XXH3_64bits_withSeed(purpose, strlen(purpose), run_seed));
}

void rs_rng_derive_idx(struct rs_rng *r, uint64_t run_seed, const char *purpose, uint64_t index)
{
    RS_ASSERT(r != NULL);
    RS_ASSERT(purpose != NULL);
    /* The name is purpose + "/" + decimal index; streaming avoids a bound on its length. */
    char digits[24];
    size_t at = sizeof digits;
    do {
        digits[--at] = (char)('0' + index % 10);
        index /= 10;
    } while (index != 0);
    XXH3_state_t state;
    XXH3_INITSTATE(&state);
    XXH3_64bits_reset_withSeed(&state, run_seed);
    XXH3_64bits_update(&state, purpose, strlen(purpose));
    XXH3_64bits_update(&state, "/", 1);
    XXH3_64bits_update(&state, digits + at, sizeof digits - at);
    rng_seed_from_hash(r, XXH3_64bits_digest(&state));
}

static inline uint64_t rotl64(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rs_rng_next(struct rs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/*
 * Lemire's method: the high word of next * bound is uniform once the low words below
 * 2^64 mod bound are rejected. A draw is rejected with probability below 1/2, so 128 rejections
 * in a row (probability under 2^-128) means the generator is broken: we assert.
 */
uint64_t rs_rng_below(struct rs_rng *r, uint64_t bound)
{
    RS_ASSERT(bound != 0);
    rng_u128 m = (rng_u128)rs_rng_next(r) * bound;
    if ((uint64_t)m < bound) {
        uint64_t threshold = (0 - bound) % bound;
        unsigned tries = 0;
        while ((uint64_t)m < threshold) {
            RS_ASSERT(++tries < 128);
            m = (rng_u128)rs_rng_next(r) * bound;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t rs_rng_range(struct rs_rng *r, uint64_t lo, uint64_t hi)
{
    RS_ASSERT(lo <= hi);
    uint64_t span = hi - lo + 1;
    if (span == 0) {
        return rs_rng_next(r); /* the whole 64-bit range */
    }
    return lo + rs_rng_below(r, span);
}

/* The high word of next * 1e6 is in [0, 1e6) with a bias below 1e6 / 2^64: one draw, always. */
bool rs_rng_chance_ppm(struct rs_rng *r, uint32_t ppm)
{
    uint64_t draw = (uint64_t)(((rng_u128)rs_rng_next(r) * 1000000u) >> 64);
    return draw < ppm;
}

/* ---- fixed-point log2 / exp2 for the zipf table ---- */

/*
 * exp2_table[j - 1] = 2^-(2^-j) in Q63, rounded to nearest. Generated with Python's decimal
 * module at 80 digits: int((-(ln 2) / 2^j).exp() * 2^63) rounded; test_rng checks that each
 * entry squared is the previous one.
 */
static const uint64_t exp2_table[32] = {
    0x5a827999fcef3242ull, 0x6ba27e656b4eb57aull, 0x75606373ee921c97ull, 0x7a92be8a92436616ull,
    0x7d41d96db915019dull, 0x7e9f06067a4360baull, 0x7f4f08ae3dc7c426ull, 0x7fa765aca88f6453ull,
    0x7fd3ab290e46d769ull, 0x7fe9d3a8e07bf086ull, 0x7ff4e9597bed93abull, 0x7ffa748dff8dc61full,
    0x7ffd3a3f50020332ull, 0x7ffe9d1dbc0a75aaull, 0x7fff4e8e6306ed59ull, 0x7fffa74712c3cdfdull,
    0x7fffd3a381b1fa29ull, 0x7fffe9d1beed018aull, 0x7ffff4e8defb81d7ull, 0x7ffffa746f5f012full,
    0x7ffffd3a37a7d0a8ull, 0x7ffffe9d1bd1fc58ull, 0x7fffff4e8de8832dull, 0x7fffffa746f422d7ull,
    0x7fffffd3a37a09bbull, 0x7fffffe9d1bd02f2ull, 0x7ffffff4e8de80feull, 0x7ffffffa746f4060ull,
    0x7ffffffd3a37a028ull, 0x7ffffffe9d1bd012ull, 0x7fffffff4e8de809ull, 0x7fffffffa746f404ull,
};

uint64_t rs_fixed_exp2_neg_q63(uint32_t f)
{
    const uint64_t one = 1ull << 63;
    uint64_t y = one;
    /* 2^-f is the product of 2^-(2^-j) over the set bits j of the binary fraction f. */
    for (unsigned j = 1; j <= 32; j++) {
        if (f & (1u << (32 - j))) {
            y = (uint64_t)(((rng_u128)y * exp2_table[j - 1] + (1ull << 62)) >> 63);
        }
    }
    RS_ASSERT(y <= one);
    RS_ASSERT(y > one / 2);
    return y;
}

/*
 * Bit-by-bit log2: with y = x / 2^ip in [1, 2), squaring y doubles its log; each time the
 * square reaches 2 the next fractional bit is 1. Truncation in each squaring is 2^-62
 * relative, far below the 2^-32 resolution of the result.
 */
uint64_t rs_fixed_log2_q32(uint64_t x)
{
    RS_ASSERT(x >= 1);
    unsigned ip = 63u - (unsigned)__builtin_clzll(x);
    uint64_t y = ip <= 62 ? x << (62 - ip) : x >> 1; /* y in Q62, in [2^62, 2^63) */
    uint64_t frac = 0;
    for (unsigned bit = 0; bit < 32; bit++) {
        y = (uint64_t)(((rng_u128)y * y) >> 62);
        frac <<= 1;
        if (y >= (1ull << 63)) {
            y >>= 1;
            frac |= 1;
        }
    }
    return ((uint64_t)ip << 32) | frac;
}

static unsigned ceil_log2_u32(uint32_t n)
{
    return n <= 1 ? 0 : 32u - (unsigned)__builtin_clz(n - 1);
}

/* 2^scale_bits / (k + 1)^s, rounded, at least 1. */
static uint64_t zipf_weight(uint32_t k, uint32_t s_milli, unsigned scale_bits)
{
    uint64_t exponent_q32 = rs_fixed_log2_q32((uint64_t)k + 1) * s_milli / 1000u;
    uint64_t whole = exponent_q32 >> 32;
    uint64_t mantissa = rs_fixed_exp2_neg_q63((uint32_t)exponent_q32);
    uint64_t shift = 63 - scale_bits + whole;
    uint64_t weight = 0;
    if (shift == 0) {
        weight = mantissa;
    } else if (shift < 64) {
        weight = (mantissa >> shift) + ((mantissa >> (shift - 1)) & 1);
    }
    return weight == 0 ? 1 : weight;
}

enum rs_err rs_zipf_init(struct rs_zipf *z, uint32_t n, uint32_t s_milli)
{
    RS_ASSERT(z != NULL);
    z->n = 0;
    z->cumulative = NULL;
    if (n == 0 || n > RS_ZIPF_N_MAX || s_milli > RS_ZIPF_S_MILLI_MAX) {
        return RS_EINVAL;
    }
    uint64_t *cumulative = malloc((size_t)n * sizeof *cumulative);
    if (cumulative == NULL) {
        return RS_ENOMEM;
    }
    unsigned scale_bits = 63 - ceil_log2_u32(n);
    uint64_t total = 0;
    for (uint32_t k = 0; k < n; k++) {
        total += zipf_weight(k, s_milli, scale_bits);
        cumulative[k] = total;
    }
    RS_ASSERT(total <= (1ull << 63));
    z->n = n;
    z->s_milli = s_milli;
    z->cumulative = cumulative;
    return RS_OK;
}

void rs_zipf_free(struct rs_zipf *z)
{
    free(z->cumulative);
    z->cumulative = NULL;
    z->n = 0;
}

uint32_t rs_zipf_sample(const struct rs_zipf *z, struct rs_rng *r)
{
    RS_ASSERT(z->n > 0);
    uint64_t u = rs_rng_below(r, z->cumulative[z->n - 1]);
    /* The smallest k with cumulative[k] > u. */
    uint32_t lo = 0;
    uint32_t hi = z->n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->cumulative[mid] > u) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    RS_ASSERT(z->cumulative[lo] > u);
    return lo;
}

uint64_t rs_zipf_weight(const struct rs_zipf *z, uint32_t k)
{
    RS_ASSERT(k < z->n);
    return k == 0 ? z->cumulative[0] : z->cumulative[k] - z->cumulative[k - 1];
}
