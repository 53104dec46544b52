/* Inverted dropout: element i is number first + i of the draw,
 * h = mix(mix((first + i) ^ key_lo) ^ key_hi) with mix the lowbias32
 * finaliser, dropped when (h >> 8) < threshold, else scaled (the CPU
 * backend draws the same). */

uint dropout_mix(uint x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

float dropout_multiplier(uint index, uint key_lo, uint key_hi, uint threshold, float scale)
{
    const uint h = dropout_mix(dropout_mix(index ^ key_lo) ^ key_hi);
    return (h >> 8) < threshold ? 0.0f : scale;
}

/* One work-item per element; mask_wanted 0 leaves mask alone. */
__kernel void dropout_forward(__global const float *x, __global float *y, __global float *mask, uint mask_wanted,
                              uint count, uint first, uint key_lo, uint key_hi, uint threshold, float scale)
{
    const uint i = get_global_id(0);
    if (i >= count)
        return;
    const float k = dropout_multiplier(first + i, key_lo, key_hi, threshold, scale);
    y[i] = x[i] * k;
    if (mask_wanted)
        mask[i] = k;
}

__kernel void dropout_backward(__global const float *dy, __global float *dx, uint count, uint first, uint key_lo,
                               uint key_hi, uint threshold, float scale)
{
    const uint i = get_global_id(0);
    if (i >= count)
        return;
    dx[i] = dy[i] * dropout_multiplier(first + i, key_lo, key_hi, threshold, scale);
}
