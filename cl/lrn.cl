/* Local response normalisation across channels, forward and backward:
 * per pixel, s[c] = k + alpha * sum of x^2 over window(c), the channels
 * c - size/2 .. c + (size-1)/2 that exist, and y[c] = x[c] * s[c]^-beta.
 * The window sums take one work-item per pixel (lrn_scales writes s); the
 * powers are taken apart from them, 8 elements a work-item in float8 (the
 * power was 90% of PoCL's time in a kernel with a loop, where each
 * work-item ran it alone, scalar). */

/* a - b, or 0 when b > a.  Written with min() rather than a comparison,
 * which LLVM turns into llvm.usub.sat, an intrinsic Oclgrind 21.10 cannot
 * run. */
uint sub_to_zero(uint a, uint b)
{
    return a - min(a, b);
}

/* s[cc] of the pixel whose channels start at px. */
float lrn_scale(__global const float *px, uint cc, uint c, uint size, float alpha, float k)
{
    const uint lo = sub_to_zero(cc, size / 2);
    const uint hi = min(cc + (size - 1) / 2, c - 1);
    float sum = 0.0f;
    for (uint d = lo; d <= hi; d++)
        sum += px[d] * px[d];
    return k + alpha * sum;
}

/* s^-beta for s >= k > 0, as exp2(-beta log2 s): a few ulps, where PoCL's
 * pow() costs an order of magnitude more.  Eight at a time: PoCL runs the
 * vector forms of exp2 and log2 (its work-item loops stay scalar). */
float8 lrn_power8(float8 s, float beta)
{
    return exp2(-beta * log2(s));
}

float lrn_power(float s, float beta)
{
    return exp2(-beta * log2(s));
}

/* s of every element into s (count floats): one work-item per pixel
 * (pixels of them), looping over its channels. */
__kernel void lrn_scales(__global const float *x, __global float *s, uint pixels, uint c, uint size, float alpha,
                         float k)
{
    const uint pix = get_global_id(0);
    if (pix >= pixels)
        return;
    __global const float *px = x + (size_t)pix * c;
    __global float *ps = s + (size_t)pix * c;
    for (uint cc = 0; cc < c; cc++)
        ps[cc] = lrn_scale(px, cc, c, size, alpha, k);
}

/* y = x s^-beta, with s already in y (lrn_scales): elements [8 gid,
 * 8 gid + 8) of work-item gid, the last one's cut at count. */
__kernel void lrn_forward(__global const float *x, __global float *y, uint count, float beta)
{
    const uint gid = get_global_id(0), i0 = gid * 8;
    if (i0 >= count)
        return;
    if (count - i0 >= 8) {
        vstore8(vload8(gid, x) * lrn_power8(vload8(gid, y), beta), gid, y);
        return;
    }
    for (uint i = i0; i < count; i++)
        y[i] = x[i] * lrn_power(y[i], beta);
}

/*
 * The backward pass through t, a buffer of count floats:
 *   dx[i] = dy[i] s[i]^-beta - 2 alpha beta x[i] sum_c t[c],
 *   t[c]  = dy[c] x[c] s[c]^(-beta-1),
 * the sum over the channels c whose window holds i (i - (size-1)/2 ..
 * i + size/2).  With s in t (lrn_scales), lrn_backward_terms replaces it
 * by t and writes the first term into dx, 8 elements a work-item as
 * lrn_forward; lrn_backward_sum subtracts the second.
 */
__kernel void lrn_backward_terms(__global const float *dy, __global const float *x, __global float *dx,
                                 __global float *t, uint count, float beta)
{
    const uint gid = get_global_id(0), i0 = gid * 8;
    if (i0 >= count)
        return;
    if (count - i0 >= 8) {
        const float8 s = vload8(gid, t), g = vload8(gid, dy);
        const float8 scaled = lrn_power8(s, beta);
        vstore8(g * vload8(gid, x) * scaled / s, gid, t);
        vstore8(g * scaled, gid, dx);
        return;
    }
    for (uint i = i0; i < count; i++) {
        const float s = t[i];
        const float scaled = lrn_power(s, beta);
        t[i] = dy[i] * x[i] * scaled / s;
        dx[i] = dy[i] * scaled;
    }
}

/* One work-item per pixel, as lrn_scales. */
__kernel void lrn_backward_sum(__global const float *x, __global const float *t, __global float *dx, uint pixels,
                               uint c, uint size, float alpha, float beta)
{
    const uint pix = get_global_id(0);
    if (pix >= pixels)
        return;
    const size_t base = (size_t)pix * c;
    for (uint i = 0; i < c; i++) {
        const uint lo = sub_to_zero(i, (size - 1) / 2);
        const uint hi = min(i + size / 2, c - 1);
        float sum = 0.0f;
        for (uint cc = lo; cc <= hi; cc++)
            sum += t[base + cc];
        dx[base + i] -= 2.0f * alpha * beta * x[base + i] * sum;
    }
}
