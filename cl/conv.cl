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
