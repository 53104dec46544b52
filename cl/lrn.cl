/* Local response normalisation across channels, forward and backward:
 * per pixel, s[c] = k + alpha * sum of x^2 over window(c), the channels
 * c - size/2 .. c + (size-1)/2 that exist, and y[c] = x[c] * s[c]^-beta.
 * One work-item per element throughout, each with one power at most. */

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
 * pow() costs an order of magnitude more than the rest of the kernel. */
float lrn_power(float s, float beta)
{
    return exp2(-beta * log2(s));
}

__kernel void lrn_forward(__global const float *x, __global float *y, uint count, uint c, uint size, float alpha,
                          float beta, float k)
{
    const uint gid = get_global_id(0);
    if (gid >= count)
        return;
    __global const float *px = x + (gid - gid % c);
    y[gid] = x[gid] * lrn_power(lrn_scale(px, gid % c, c, size, alpha, k), beta);
}

/*
 * The backward pass in two launches through t, a buffer of count floats:
 *   dx[i] = dy[i] s[i]^-beta - 2 alpha beta x[i] sum_c t[c],
 *   t[c]  = dy[c] x[c] s[c]^(-beta-1),
 * the sum over the channels c whose window holds i (i - (size-1)/2 ..
 * i + size/2).  lrn_backward_terms writes t and the first term into dx;
 * lrn_backward_sum subtracts the second.
 */
__kernel void lrn_backward_terms(__global const float *dy, __global const float *x, __global float *dx,
                                 __global float *t, uint count, uint c, uint size, float alpha, float beta, float k)
{
    const uint gid = get_global_id(0);
    if (gid >= count)
        return;
    __global const float *px = x + (gid - gid % c);
    const float s = lrn_scale(px, gid % c, c, size, alpha, k);
    const float scaled = lrn_power(s, beta);
    t[gid] = dy[gid] * x[gid] * scaled / s;
    dx[gid] = dy[gid] * scaled;
}

__kernel void lrn_backward_sum(__global const float *x, __global const float *t, __global float *dx, uint count,
                               uint c, uint size, float alpha, float beta)
{
    const uint gid = get_global_id(0);
    if (gid >= count)
        return;
    const uint i = gid % c, base = gid - i;
    const uint lo = sub_to_zero(i, (size - 1) / 2);
    const uint hi = min(i + size / 2, c - 1);
    float sum = 0.0f;
    for (uint cc = lo; cc <= hi; cc++)
        sum += t[base + cc];
    dx[gid] -= 2.0f * alpha * beta * x[gid] * sum;
}
