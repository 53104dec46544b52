/*
 * Convolution as im2col + GEMM (NHWC input, HWIO weights):
 *   col[(n,i,j), (p,q,c)] = x_padded[n, i*sh+p, j*sw+q, c]
 * so that  y = col @ W,  dW = col^T @ dZ,  dcol = dZ @ W^T,  and dx is the
 * col2im of dcol, written as a gather per input cell (no atomics).
 * Both kernels work on a chunk of images; the host offsets x/dx by whole
 * images and passes the chunk's image count in nimg.
 */

/* One work-item per element of col (nimg*oh*ow rows, kh*kw*c columns). */
__kernel void im2col(__global const float *x, uint x_off, __global float *col, uint nimg, uint h, uint w, uint c,
                     uint kh, uint kw, uint sh, uint sw, uint oh, uint ow, uint pad_top, uint pad_left)
{
    const uint gid = get_global_id(0);
    const uint kcols = kh * kw * c;
    if (gid >= nimg * oh * ow * kcols)
        return;
    const uint kk = gid % kcols, row = gid / kcols;
    const uint cc = kk % c, pq = kk / c;
    const uint q = pq % kw, p = pq / kw;
    const uint j = row % ow, t = row / ow;
    const uint i = t % oh, n = t / oh;
    const int y = (int)(i * sh + p) - (int)pad_top;
    const int xx = (int)(j * sw + q) - (int)pad_left;
    float v = 0.0f;
    if (y >= 0 && y < (int)h && xx >= 0 && xx < (int)w)
        v = x[x_off + ((n * h + (uint)y) * w + (uint)xx) * c + cc];
    col[gid] = v;
}

/* dx[n,y,x,c] = sum of dcol over every (output pixel, kernel tap) that read
 * that cell; one work-item per element of dx. */
__kernel void col2im(__global const float *dcol, __global float *dx, uint dx_off, uint nimg, uint h, uint w, uint c,
                     uint kh, uint kw, uint sh, uint sw, uint oh, uint ow, uint pad_top, uint pad_left)
{
    const uint gid = get_global_id(0);
    if (gid >= nimg * h * w * c)
        return;
    const uint kcols = kh * kw * c;
    const uint cc = gid % c;
    uint t = gid / c;
    const uint xx = t % w;
    t /= w;
    const uint y = t % h, n = t / h;
    const uint yp = y + pad_top, xp = xx + pad_left;
    float s = 0.0f;
    for (uint p = 0; p < kh && p <= yp; p++) {
        if ((yp - p) % sh)
            continue;
        const uint i = (yp - p) / sh;
        if (i >= oh)
            continue;
        for (uint q = 0; q < kw && q <= xp; q++) {
            if ((xp - q) % sw)
                continue;
            const uint j = (xp - q) / sw;
            if (j >= ow)
                continue;
            s += dcol[((n * oh + i) * ow + j) * kcols + (p * kw + q) * c + cc];
        }
    }
    dx[dx_off + gid] = s;
}

/*
 * Direct convolution, one work-item per output element y[n,i,j,k]:
 * y = act(b[k] + sum_{p,q,c} x_pad[n, i*sh+p, j*sw+q, c] * w[p,q,c,k]).
 * Softmax (act 4) is left to a row-wise pass; the kernel then writes z.
 * Neighbouring work-items differ in k, so they share x and read w
 * contiguously.  Faster than im2col + GEMM for LeNet-sized layers.
 */
__kernel void conv_direct_forward(__global const float *x, __global const float *wt, __global const float *b,
                                  __global float *y, uint n, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh,
                                  uint sw, uint oh, uint ow, uint pad_top, uint pad_left, int act)
{
    const uint gid = get_global_id(0);
    if (gid >= n * oh * ow * k)
        return;
    const uint kk = gid % k;
    uint t = gid / k;
    const uint j = t % ow;
    t /= ow;
    const uint i = t % oh, nn = t / oh;
    const int y0 = (int)(i * sh) - (int)pad_top, x0 = (int)(j * sw) - (int)pad_left;
    float s = 0.0f;
    for (uint p = 0; p < kh; p++) {
        const int yy = y0 + (int)p;
        if (yy < 0 || yy >= (int)h)
            continue;
        for (uint q = 0; q < kw; q++) {
            const int xx = x0 + (int)q;
            if (xx < 0 || xx >= (int)w)
                continue;
            __global const float *xr = x + ((size_t)(nn * h + (uint)yy) * w + (uint)xx) * c;
            __global const float *wr = wt + (size_t)(p * kw + q) * c * k + kk;
            for (uint cc = 0; cc < c; cc++)
                s += xr[cc] * wr[(size_t)cc * k];
        }
    }
    s += b[kk];
    y[gid] = act == ACT_SOFTMAX ? s : act_apply(s, act);
}
