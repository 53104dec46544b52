/* xoshiro256** seeded through splitmix64: the same stream on every
 * platform, so a seed means the same weights and the same shuffles. */
#include <math.h>

#include "model.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void clcnn_rng_seed(clcnn_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t clcnn_rng_next(clcnn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t clcnn_rng_below(clcnn_rng *r, uint64_t bound)
{
    /* Rejection of the short last interval keeps the result unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do
        x = clcnn_rng_next(r);
    while (x >= limit);
    return x % bound;
}

static double uniform_open(clcnn_rng *r)
{
    /* (0, 1): 53 random bits, never 0 so that log() is finite. */
    return ((double)(clcnn_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

double clcnn_rng_normal(clcnn_rng *r)
{
    double u1 = uniform_open(r), u2 = uniform_open(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Each of seed, step and layer goes through splitmix64 in turn, so that
 * neighbouring values give unrelated streams. */
uint64_t clcnn_noise_seed(uint64_t seed, uint64_t step, uint64_t layer)
{
    uint64_t x = seed;
    x = splitmix64(&x) + step;
    x = splitmix64(&x) + layer;
    return splitmix64(&x);
}

uint64_t clcnn_noise_key(uint64_t seed)
{
    return splitmix64(&seed);
}
