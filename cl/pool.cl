/* Max and average pooling, forward and backward: the seed's (windows inside
 * the input), then windows reaching beyond it (pool_padded_*). */

/* POOL_MAX and POOL_AVG are clcnn_pool_mode's values, set by the host
 * (src/opencl/launch.c). */

/* The offset in x (n,h,w,c) of the first cell of the window of output
 * element gid = ((nn*oh + i)*ow + j)*c + cc. */
size_t window_base(uint gid, uint h, uint w, uint c, uint sh, uint sw, uint oh, uint ow)
{
    const uint cc = gid % c;
    uint t = gid / c;
    const uint j = t % ow;
    t /= ow;
    const uint i = t % oh, nn = t / oh;
    return ((size_t)(nn * h + i * sh) * w + j * sw) * c + cc;
}

/* One work-item per output pixel y[n,i,j,:], looping over its channels
 * (window_base's divisions once, not once per channel). */
__kernel void pool_forward(__global const float *x, __global float *y, uint n, uint h, uint w, uint c, uint kh,
                           uint kw, uint sh, uint sw, uint oh, uint ow, int mode)
{
    const uint pix = get_global_id(0);
    if (pix >= n * oh * ow)
        return;
    __global const float *win = x + window_base(pix, h, w, 1, sh, sw, oh, ow) * c;
    __global float *yp = y + (size_t)pix * c;
    for (uint cc = 0; cc < c; cc++) {
        __global const float *base = win + cc;
        float acc = mode == POOL_MAX ? base[0] : 0.0f;
        for (uint p = 0; p < kh; p++)
            for (uint q = 0; q < kw; q++) {
                const float v = base[((size_t)p * w + q) * c];
                if (mode == POOL_MAX)
                    acc = v > acc ? v : acc;
                else
                    acc += v;
            }
        yp[cc] = mode == POOL_MAX ? acc : acc / (float)(kh * kw);
    }
}

/* Gather per input cell x[n,y,x,c] over every window that covers it: max
 * adds the window's gradient when the cell equals the window maximum in y,
 * pool_forward's output (ties all receive it), avg adds dy / (kh*kw) (y
 * unused).  One work-item per input pixel (n,y,x), looping over its
 * channels: the windows are worked out once, not once per channel (integer
 * divisions, which dominated the time on a CPU).  Every pool backward
 * kernel stores act_grad(its dx, x, act): the derivative of the activation
 * whose output x is (common.cl). */
__kernel void pool_backward(__global const float *dy, __global const float *x, __global const float *y,
                            __global float *dx, uint n, uint h, uint w, uint c, uint kh, uint kw, uint sh, uint sw,
                            uint oh, uint ow, int mode, int act)
{
    const uint cell = get_global_id(0);
    if (cell >= n * h * w)
        return;
    const uint xx = cell % w, t = cell / w;
    const uint yy = t % h, nn = t / h;
    const uint i_lo = yy >= kh ? (yy - kh) / sh + 1 : 0;
    const uint i_hi = min(yy / sh + 1, oh);
    const uint j_lo = xx >= kw ? (xx - kw) / sw + 1 : 0;
    const uint j_hi = min(xx / sw + 1, ow);
    const float inv = 1.0f / (float)(kh * kw);
    __global const float *xp = x + (size_t)cell * c;
    __global float *dxp = dx + (size_t)cell * c;
    for (uint cc = 0; cc < c; cc++) {
        const float v = xp[cc];
        float s = 0.0f;
        for (uint i = i_lo; i < i_hi; i++)
            for (uint j = j_lo; j < j_hi; j++) {
                const size_t o = ((size_t)(nn * oh + i) * ow + j) * c + cc;
                if (mode == POOL_MAX)
                    s += v == y[o] ? dy[o] : 0.0f;
                else
                    s += dy[o] * inv;
            }
        dxp[cc] = act_grad(s, v, act);
    }
}

/* Backward for windows that tile the input exactly (kh == sh, kw == sw,
 * oh*sh == h, ow*sw == w): every cell lies in exactly one window, so one
 * work-item per output element y[n,i,j,c] writes its whole window
 * (the same tie rule as pool_backward). */
__kernel void pool_backward_tiled(__global const float *dy, __global const float *x, __global float *dx, uint n,
                                  uint h, uint w, uint c, uint kh, uint kw, uint sh, uint sw, uint oh, uint ow,
                                  int mode, int act)
{
    const uint gid = get_global_id(0);
    if (gid >= n * oh * ow * c)
        return;
    const size_t base = window_base(gid, h, w, c, sh, sw, oh, ow);
    const float g = dy[gid];
    if (mode == POOL_MAX) {
        float mx = x[base];
        for (uint p = 0; p < kh; p++)
            for (uint q = 0; q < kw; q++)
            {
                const float u = x[base + ((size_t)p * w + q) * c];
                mx = u > mx ? u : mx;
            }
        for (uint p = 0; p < kh; p++)
            for (uint q = 0; q < kw; q++) {
                const size_t o = base + ((size_t)p * w + q) * c;
                dx[o] = act_grad(x[o] == mx ? g : 0.0f, x[o], act);
            }
    } else {
        const float v = g * (1.0f / (float)(kh * kw));
        for (uint p = 0; p < kh; p++)
            for (uint q = 0; q < kw; q++)
            {
                const size_t o = base + ((size_t)p * w + q) * c;
                dx[o] = act_grad(v, x[o], act);
            }
    }
}

/*
 * Windows that reach beyond the input (pads, ceil mode): window (i, j)
 * covers rows i*sh - pad_top .. + kh - 1, clipped to the input for its
 * cells (padded cells never win a max) and, for avg with include_pad, to
 * the padded input (h + pad_top + pad_bottom rows) for its divisor.
 */

/* Along one axis: the input range [*lo, *hi) of window i, and the window's
 * extent within the padded input. */
uint pool_clip(uint i, uint s, uint k, uint before, uint after, uint in, uint *lo, uint *hi)
{
    const int start = (int)(i * s) - (int)before, end = start + (int)k;
    *lo = start > 0 ? (uint)start : 0u;
    *hi = end < (int)in ? (uint)end : in;
    return (uint)(min(end, (int)(in + after)) - start);
}

/* The divisor of an avg window whose input cells are rows [r0, r1) and
 * columns [s0, s1). */
float pool_divisor(uint eh, uint ew, uint r0, uint r1, uint s0, uint s1, int include_pad)
{
    return (float)(include_pad ? eh * ew : (r1 - r0) * (s1 - s0));
}

/* One work-item per output element y[n,i,j,c]. */
__kernel void pool_padded_forward(__global const float *x, __global float *y, uint n, uint h, uint w, uint c,
                                  uint kh, uint kw, uint sh, uint sw, uint oh, uint ow, int mode, uint pad_top,
                                  uint pad_bottom, uint pad_left, uint pad_right, int include_pad)
{
    const uint gid = get_global_id(0);
    if (gid >= n * oh * ow * c)
        return;
    const uint cc = gid % c, t = gid / c;
    const uint j = t % ow, t2 = t / ow;
    const uint i = t2 % oh, nn = t2 / oh;
    uint r0, r1, s0, s1;
    const uint eh = pool_clip(i, sh, kh, pad_top, pad_bottom, h, &r0, &r1);
    const uint ew = pool_clip(j, sw, kw, pad_left, pad_right, w, &s0, &s1);
    __global const float *img = x + (size_t)nn * h * w * c + cc;
    float acc = mode == POOL_MAX ? img[((size_t)r0 * w + s0) * c] : 0.0f; /* every window holds a cell */
    for (uint r = r0; r < r1; r++)
        for (uint q = s0; q < s1; q++) {
            const float v = img[((size_t)r * w + q) * c];
            if (mode == POOL_MAX)
                acc = v > acc ? v : acc;
            else
                acc += v;
        }
    y[gid] = mode == POOL_MAX ? acc : acc / pool_divisor(eh, ew, r0, r1, s0, s1, include_pad);
}

/* Gather per input cell x[n,y,x,c] over the windows that cover it, with
 * pool_backward's rules.  One work-item per element of dx. */
__kernel void pool_padded_backward(__global const float *dy, __global const float *x, __global float *dx, uint n,
                                   uint h, uint w, uint c, uint kh, uint kw, uint sh, uint sw, uint oh, uint ow,
                                   int mode, uint pad_top, uint pad_bottom, uint pad_left, uint pad_right,
                                   int include_pad, int act)
{
    const uint gid = get_global_id(0);
    if (gid >= n * h * w * c)
        return;
    const uint cc = gid % c;
    uint t = gid / c;
    const uint xx = t % w;
    t /= w;
    const uint yy = t % h, nn = t / h;
    /* windows i with i*sh <= yy + pad_top <= i*sh + kh - 1 */
    const uint yp = yy + pad_top, xp = xx + pad_left;
    const uint i_lo = yp + 1 >= kh ? (yp + 1 - kh + sh - 1) / sh : 0, i_hi = min(yp / sh + 1, oh);
    const uint j_lo = xp + 1 >= kw ? (xp + 1 - kw + sw - 1) / sw : 0, j_hi = min(xp / sw + 1, ow);
    __global const float *img = x + (size_t)nn * h * w * c + cc;
    const float v = x[gid];
    float s = 0.0f;
    for (uint i = i_lo; i < i_hi; i++)
        for (uint j = j_lo; j < j_hi; j++) {
            const float g = dy[((size_t)(nn * oh + i) * ow + j) * c + cc];
            uint r0, r1, s0, s1;
            const uint eh = pool_clip(i, sh, kh, pad_top, pad_bottom, h, &r0, &r1);
            const uint ew = pool_clip(j, sw, kw, pad_left, pad_right, w, &s0, &s1);
            if (mode == POOL_MAX) {
                float mx = img[((size_t)r0 * w + s0) * c];
                for (uint r = r0; r < r1; r++)
                    for (uint q = s0; q < s1; q++) {
                        const float u = img[((size_t)r * w + q) * c];
                        mx = u > mx ? u : mx;
                    }
                if (v == mx)
                    s += g;
            } else {
                s += g / pool_divisor(eh, ew, r0, r1, s0, s1, include_pad);
            }
        }
    dx[gid] = act_grad(s, v, act);
}
