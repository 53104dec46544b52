/* The reference dropout and SGD step, from include/clcnn.h, backend.h and
 * docs/api.md, written out again (not shared with the backends). */
#include <math.h>

#include "ref.h"

/* splitmix64, one step from state x. */
static uint64_t splitmix(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* lowbias32. */
static uint32_t lowbias32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

uint64_t ref_dropout_key(uint64_t seed)
{
    return splitmix(seed);
}

void ref_dropout(size_t count, size_t first, float rate, uint64_t seed, const float *x, ref_out y, float *mask)
{
    const uint64_t key = splitmix(seed);
    const uint32_t lo = (uint32_t)key, hi = (uint32_t)(key >> 32);
    const uint32_t threshold = (uint32_t)floor((double)rate * 16777216.0 + 0.5);
    const float scale = (float)(1.0 / (1.0 - (double)rate));
    for (size_t i = 0; i < count; i++) {
        const uint32_t h = lowbias32(lowbias32((uint32_t)(first + i) ^ lo) ^ hi);
        const int dropped = (h >> 8) < threshold;
        mask[i] = dropped ? 0.0f : scale;
        y.v[i] = dropped ? 0.0 : (double)x[i] * scale;
        y.err[i] = REF_U * fabs(y.v[i]); /* one product */
    }
}

uint64_t ref_noise_seed(uint64_t seed, uint64_t step, uint64_t layer)
{
    /* splitmix64 of the state each time, the state advanced first */
    uint64_t x = splitmix(seed) + step;
    x = splitmix(x) + layer;
    return splitmix(x);
}

void ref_sgd(size_t count, const float *w, const float *g, const float *v, float lr, float momentum, float wd,
             int nesterov, ref_out w_new, ref_out v_new)
{
    for (size_t i = 0; i < count; i++) {
        const double decay = (double)wd * w[i], d = g[i] + decay;
        const double d_err = REF_U * (fabs(decay) + fabs(d));
        const double carried = (double)momentum * v[i], vi = carried + d;
        const double v_err = REF_U * fabs(carried) + d_err + REF_U * fabs(vi);
        const double ahead = (double)momentum * vi, s = nesterov ? d + ahead : vi;
        const double s_err = nesterov ? d_err + momentum * v_err + REF_U * (fabs(ahead) + fabs(s)) : v_err;
        const double step = (double)lr * s;
        v_new.v[i] = vi;
        v_new.err[i] = v_err;
        w_new.v[i] = w[i] - step;
        w_new.err[i] = lr * s_err + REF_U * (fabs(step) + fabs(w_new.v[i]));
    }
}
