/* Element-wise kernels: fill, activations forward/backward, Adam. */

__kernel void fill(__global float *x, uint n, float value)
{
    const uint i = get_global_id(0);
    if (i < n)
        x[i] = value;
}

/* y = act(x) element-wise (not softmax); x and y may be the same buffer. */
__kernel void act_forward(__global const float *x, __global float *y, uint n, int act)
{
    const uint i = get_global_id(0);
    if (i < n)
        y[i] = act_apply(x[i], act);
}

/* Row-wise softmax, one work-item per row; x and y may be the same buffer. */
__kernel void softmax_forward(__global const float *x, __global float *y, uint rows, uint cols)
{
    const uint r = get_global_id(0);
    if (r >= rows)
        return;
    __global float *yr = y + (size_t)r * cols;
    __global const float *xr = x + (size_t)r * cols;
    for (uint c = 0; c < cols; c++)
        yr[c] = xr[c];
    softmax_row(yr, cols);
}

/* dz = dy * act'(z), from the activation's output y (not softmax);
 * dz and dy may be the same buffer. */
__kernel void act_backward(__global const float *y, __global const float *dy, __global float *dz, uint n, int act)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    dz[i] = act_grad(dy[i], y[i], act);
}

/* Softmax backward per row: dz = y * (dy - sum(dy * y)). */
__kernel void softmax_backward(__global const float *y, __global const float *dy, __global float *dz, uint rows,
                               uint cols)
{
    const uint r = get_global_id(0);
    if (r >= rows)
        return;
    const size_t base = (size_t)r * cols;
    float dot = 0.0f;
    for (uint c = 0; c < cols; c++)
        dot += y[base + c] * dy[base + c];
    for (uint c = 0; c < cols; c++)
        dz[base + c] = y[base + c] * (dy[base + c] - dot);
}

/* Adam, TensorFlow's form, bias corrections folded into lr_t. */
__kernel void adam_update(__global float *w, __global const float *g, __global float *m, __global float *v, uint n,
                          float lr_t, float b1, float b2, float eps)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float gi = g[i];
    const float mi = flush_subnormal(b1 * m[i] + (1.0f - b1) * gi);
    const float vi = flush_subnormal(b2 * v[i] + (1.0f - b2) * gi * gi);
    m[i] = mi;
    v[i] = vi;
    w[i] -= lr_t * mi / (sqrt(vi) + eps);
}

/* SGD with momentum, PyTorch's form: d = g + wd w; v = momentum v + d;
 * w -= lr (nesterov ? d + momentum v : v). */
__kernel void sgd_update(__global float *w, __global const float *g, __global float *v, uint n, uint decayed,
                         float lr, float momentum, float wd, uint nesterov)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float d = g[i] + (i < decayed ? wd : 0.0f) * w[i];
    const float vi = flush_subnormal(momentum * v[i] + d);
    v[i] = vi;
    w[i] -= lr * (nesterov ? d + momentum * vi : vi);
}

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
