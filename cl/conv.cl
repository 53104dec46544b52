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

/* Whether tap t (p or q, t <= pos) of some output's window lands on padded
 * coordinate pos at stride st; that output's index (i or j) in *o, which
 * must stay below count. */
bool tap_output(uint pos, uint t, uint st, uint count, uint *o)
{
    if ((pos - t) % st)
        return false;
    *o = (pos - t) / st;
    return *o < count;
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
        uint i;
        if (!tap_output(yp, p, sh, oh, &i))
            continue;
        for (uint q = 0; q < kw && q <= xp; q++) {
            uint j;
            if (!tap_output(xp, q, sw, ow, &j))
                continue;
            s += dcol[((n * oh + i) * ow + j) * kcols + (p * kw + q) * c + cc];
        }
    }
    dx[dx_off + gid] = s;
}

/*
 * The tunables are set by the host, src/opencl/conv.c, which sizes the
 * launch grids with the same values:
 *   CONV_KB    output channels per work-item, 8: a float8 (AVX on a CPU
 *              device, plain registers on a GPU);
 *   CONV_PB    neighbouring output pixels of a row per work-item (direct
 *              forward);
 *   CONV_CB    input channels per work-item (direct data gradient);
 *   CONV_DW_WG work-group size of conv_filter_grad (a power of two).
 */

/*
 * Direct convolution: work-item (item, kb) computes output channels
 * [kb*8, kb*8 + 8) of CONV_PB neighbouring output pixels (n, i, j..j+PB)
 * of one row, so that each weight vector loaded serves CONV_PB pixels:
 * y = act(b[k] + sum_{p,q,c} x_pad[n, i*sh+p, j*sw+q, c] * w[p,q,c,k]).
 * Softmax (ACT_SOFTMAX) is left to a row-wise pass; the kernel then writes z.
 * Any grid works: items loop over pixel groups and channel blocks.
 */
__kernel void conv_direct_forward(__global const float *x, __global const float *wt, __global const float *b,
                                  __global float *y, uint n, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh,
                                  uint sw, uint oh, uint ow, uint pad_top, uint pad_left, int act)
{
    const uint jblocks = (ow + CONV_PB - 1) / CONV_PB;
    for (uint item = get_global_id(0); item < n * oh * jblocks; item += get_global_size(0)) {
        const uint jb = item % jblocks, row = item / jblocks;
        const uint i = row % oh, nn = row / oh;
        const uint j0 = jb * CONV_PB;
        const int y0 = (int)(i * sh) - (int)pad_top, x0 = (int)(j0 * sw) - (int)pad_left;
        for (uint k0 = get_global_id(1) * CONV_KB; k0 < k; k0 += get_global_size(1) * CONV_KB) {
            const uint kn = k - k0;
            float8 acc[CONV_PB];
            #pragma unroll
            for (uint v = 0; v < CONV_PB; v++)
                acc[v] = 0.0f;
            for (uint p = 0; p < kh; p++) {
                const int yy = y0 + (int)p;
                if (yy < 0 || yy >= (int)h)
                    continue;
                __global const float *xrow = x + (size_t)(nn * h + (uint)yy) * w * c;
                for (uint q = 0; q < kw; q++) {
                    int xx[CONV_PB];
                    #pragma unroll
                    for (uint v = 0; v < CONV_PB; v++)
                        xx[v] = x0 + (int)(v * sw + q);
                    __global const float *wr = wt + (size_t)(p * kw + q) * c * k + k0;
                    for (uint cc = 0; cc < c; cc++) {
                        const float8 wv = load8(wr + (size_t)cc * k, kn);
                        #pragma unroll
                        for (uint v = 0; v < CONV_PB; v++) {
                            const float xv = xx[v] >= 0 && xx[v] < (int)w ? xrow[(size_t)xx[v] * c + cc] : 0.0f;
                            acc[v] += xv * wv;
                        }
                    }
                }
            }
            const float8 bv = load8(b + k0, kn);
            /* unrolled, the bound inside: acc stays in registers */
            #pragma unroll
            for (uint v = 0; v < CONV_PB; v++)
                if (j0 + v < ow)
                    store_act8(y + ((size_t)row * ow + j0 + v) * k + k0, acc[v] + bv, kn, act);
        }
    }
}

/*
 * Filter and bias gradients without im2col or atomics:
 *   dw[p,q,c,k] = sum_{n,i,j} x_pad[n, i*sh+p, j*sw+q, c] * dz[n,i,j,k],
 *   db[k]       = sum_{n,i,j} dz[n,i,j,k].
 * Work-group (tap, kb): tap < kh*kw*c is one (p,q,c) row of dw, tap ==
 * kh*kw*c is db; kb picks 8 output channels.  The CONV_DW_WG items take
 * whole output rows, then reduce in local memory (a fixed order, so results
 * do not depend on scheduling).  want_dw / want_db skip groups.
 */
__kernel __attribute__((reqd_work_group_size(CONV_DW_WG, 1, 1))) void
conv_filter_grad(__global const float *x, __global const float *dz, __global float *dw, __global float *db, uint n,
                 uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh, uint sw, uint oh, uint ow, uint pad_top,
                 uint pad_left, int want_dw, int want_db)
{
    __local float part[8 * CONV_DW_WG];
    const uint lid = get_local_id(0);
    const uint tap = get_group_id(0);
    const uint taps = kh * kw * c;
    const int is_bias = tap == taps;
    if (is_bias ? !want_db : !want_dw)
        return; /* the whole group leaves together */
    const uint cc = is_bias ? 0 : tap % c, pq = is_bias ? 0 : tap / c;
    const uint q = pq % kw, p = pq / kw;
    /* Output columns j whose input column j*sw+q-pad_left is inside the
     * image: [j_lo, j_hi); the same for rows.  The bias group takes all. */
    uint j_lo = 0, j_hi = ow, i_lo = 0, i_hi = oh;
    if (!is_bias) {
        j_lo = q >= pad_left ? 0 : (pad_left - q + sw - 1) / sw;
        j_hi = w + pad_left > q ? min(ow, (w + pad_left - q - 1) / sw + 1) : 0;
        i_lo = p >= pad_top ? 0 : (pad_top - p + sh - 1) / sh;
        i_hi = h + pad_top > p ? min(oh, (h + pad_top - p - 1) / sh + 1) : 0;
    }
    /* Any number of groups in dimension 1 works: groups loop over the
     * channel blocks (a trip count uniform within the group). */
    for (uint k0 = get_group_id(1) * CONV_KB; k0 < k; k0 += get_num_groups(1) * CONV_KB) {
        const uint kn = k - k0;
        float8 acc = 0.0f;
        /* Item lid takes output rows (nn, i) lid, lid + CONV_DW_WG, ...;
         * each row is a run of contiguous pixels without bounds checks. */
        for (uint row = lid; row < n * oh; row += CONV_DW_WG) {
            const uint i = row % oh, nn = row / oh;
            if (i < i_lo || i >= i_hi)
                continue;
            __global const float *dzr = dz + (size_t)row * ow * k + k0;
            const uint left = (n * oh - row) * ow * k - k0; /* floats from dzr to the end of dz */
            if (is_bias) {
                for (uint j = 0; j < ow; j++)
                    acc += load8_any(dzr + (size_t)j * k, kn, left - j * k);
                continue;
            }
            /* x index of (row, j = 0); negative when that column is padding. */
            const long x0 = ((long)(nn * h + i * sh + p - pad_top) * w + (long)q - (long)pad_left) * c + cc;
            for (uint j = j_lo; j < j_hi; j++)
                acc += x[x0 + (long)(j * sw * c)] * load8_any(dzr + (size_t)j * k, kn, left - j * k);
        }
        vstore8(acc, lid, part);
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint off = CONV_DW_WG / 2; off > 0; off >>= 1) {
            if (lid < off)
                vstore8(vload8(lid, part) + vload8(lid + off, part), lid, part);
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        if (lid < 8 && lid < kn) {
            const float s = part[lid];
            if (is_bias)
                db[k0 + lid] = s;
            else
                dw[(size_t)tap * k + k0 + lid] = s;
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* part is reused by the next block */
    }
}

/*
 * Data gradient in gather form: work-item (cell, cb) computes input
 * channels [cb*CONV_CB, cb*CONV_CB + CONV_CB) of one input cell (n,y,x):
 *   dx[n,y,x,c] = sum over (p,q) with (y+pad_top-p) = i*sh, (x+pad_left-q) =
 *   j*sw, 0 <= i < oh, 0 <= j < ow, of sum_k dz[n,i,j,k] * w[p,q,c,k];
 * the sums over k run 8 channels at a time (float8), the rest one by one.
 */
/* dx as computed is then times act'(x) (act_grad in common.cl). */
__kernel void conv_data_grad(__global const float *dz, __global const float *wt, __global const float *x,
                             __global float *dx, uint n, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh,
                             uint sw, uint oh, uint ow, uint pad_top, uint pad_left, int act)
{
    const uint cell = get_global_id(0);
    if (cell >= n * h * w)
        return;
    const uint xx = cell % w, t = cell / w;
    const uint yy = t % h, nn = t / h;
    const uint yp = yy + pad_top, xp = xx + pad_left;
    const uint k8 = k / 8 * 8;
    for (uint c0 = get_global_id(1) * CONV_CB; c0 < c; c0 += get_global_size(1) * CONV_CB) {
        uint cidx[CONV_CB];
        float8 acc8[CONV_CB];
        float acc[CONV_CB];
        #pragma unroll
        for (uint u = 0; u < CONV_CB; u++) {
            cidx[u] = min(c0 + u, c - 1) * k;
            acc8[u] = 0.0f;
            acc[u] = 0.0f;
        }
        for (uint p = 0; p < kh && p <= yp; p++) {
            uint i;
            if (!tap_output(yp, p, sh, oh, &i))
                continue;
            for (uint q = 0; q < kw && q <= xp; q++) {
                uint j;
                if (!tap_output(xp, q, sw, ow, &j))
                    continue;
                __global const float *dzr = dz + ((size_t)(nn * oh + i) * ow + j) * k;
                __global const float *wr = wt + (size_t)(p * kw + q) * c * k;
                for (uint kk = 0; kk < k8; kk += 8) {
                    const float8 d = vload8(0, dzr + kk);
                    #pragma unroll
                    for (uint u = 0; u < CONV_CB; u++)
                        acc8[u] += d * vload8(0, wr + cidx[u] + kk);
                }
                for (uint kk = k8; kk < k; kk++) {
                    const float d = dzr[kk];
                    #pragma unroll
                    for (uint u = 0; u < CONV_CB; u++)
                        acc[u] += d * wr[cidx[u] + kk];
                }
            }
        }
        __global float *dr = dx + (size_t)cell * c;
        __global const float *xr = x + (size_t)cell * c;
        #pragma unroll
        for (uint u = 0; u < CONV_CB; u++)
            if (c0 + u < c)
                dr[c0 + u] = act_grad(acc[u] + hsum8(acc8[u]), xr[c0 + u], act);
    }
}

/*
 * Dilated or grouped convolution (dh, dw or groups above 1), plainly: tap
 * (p, q) of output (i, j) reads the padded input at (i*sh + p*dh,
 * j*sw + q*dw), and filter f sees only the cg = c/groups input channels of
 * its group f / (k/groups), with wt (kh, kw, cg, k).  One work-item per
 * element of the result, each summing in a fixed order; the bias
 * gradient is the host's column sums of dz.
 */
__kernel void conv_general_forward(__global const float *x, __global const float *wt, __global const float *b,
                                   __global float *y, uint n, uint h, uint w, uint c, uint kh, uint kw, uint k,
                                   uint sh, uint sw, uint oh, uint ow, uint pad_top, uint pad_left, uint dh, uint dw,
                                   uint groups, int act)
{
    const uint gid = get_global_id(0);
    if (gid >= n * oh * ow * k)
        return;
    const uint f = gid % k, pix = gid / k;
    const uint j = pix % ow, t = pix / ow;
    const uint i = t % oh, nn = t / oh;
    const uint cg = c / groups, c0 = f / (k / groups) * cg;
    float acc = 0.0f;
    for (uint p = 0; p < kh; p++) {
        const int yy = (int)(i * sh + p * dh) - (int)pad_top;
        if (yy < 0 || yy >= (int)h)
            continue;
        for (uint q = 0; q < kw; q++) {
            const int xx = (int)(j * sw + q * dw) - (int)pad_left;
            if (xx < 0 || xx >= (int)w)
                continue;
            __global const float *xr = x + ((size_t)(nn * h + (uint)yy) * w + (uint)xx) * c + c0;
            __global const float *wr = wt + (size_t)(p * kw + q) * cg * k + f;
            for (uint u = 0; u < cg; u++)
                acc += xr[u] * wr[(size_t)u * k];
        }
    }
    acc += b[f];
    y[gid] = act == ACT_SOFTMAX ? acc : act_apply(acc, act);
}

/* dw[p,q,u,f] = sum_{n,i,j} x_pad[n, i*sh + p*dh, j*sw + q*dw, c0(f) + u] * dz[n,i,j,f]. */
__kernel void conv_general_filter_grad(__global const float *x, __global const float *dz, __global float *dwt,
                                       uint n, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh, uint sw,
                                       uint oh, uint ow, uint pad_top, uint pad_left, uint dh, uint dw, uint groups)
{
    const uint gid = get_global_id(0);
    const uint cg = c / groups;
    if (gid >= kh * kw * cg * k)
        return;
    const uint f = gid % k, t = gid / k;
    const uint u = t % cg, pq = t / cg;
    const uint q = pq % kw, p = pq / kw;
    const uint cc = f / (k / groups) * cg + u;
    float acc = 0.0f;
    for (uint nn = 0; nn < n; nn++)
        for (uint i = 0; i < oh; i++) {
            const int yy = (int)(i * sh + p * dh) - (int)pad_top;
            if (yy < 0 || yy >= (int)h)
                continue;
            for (uint j = 0; j < ow; j++) {
                const int xx = (int)(j * sw + q * dw) - (int)pad_left;
                if (xx < 0 || xx >= (int)w)
                    continue;
                acc += x[((size_t)(nn * h + (uint)yy) * w + (uint)xx) * c + cc] *
                       dz[((size_t)(nn * oh + i) * ow + j) * k + f];
            }
        }
    dwt[gid] = acc;
}

/* dx[n,y,x,cc] = sum over the taps (p, q) and outputs (i, j) that read it
 * (y + pad_top = i*sh + p*dh, x + pad_left = j*sw + q*dw) of
 * sum_{f in cc's group} dz[n,i,j,f] * w[p,q,cc % cg,f]. */
__kernel void conv_general_data_grad(__global const float *dz, __global const float *wt, __global float *dx,
                                     uint n, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh, uint sw,
                                     uint oh, uint ow, uint pad_top, uint pad_left, uint dh, uint dw, uint groups)
{
    const uint gid = get_global_id(0);
    if (gid >= n * h * w * c)
        return;
    const uint cc = gid % c, cell = gid / c;
    const uint xx = cell % w, t = cell / w;
    const uint yy = t % h, nn = t / h;
    const uint cg = c / groups, kg = k / groups;
    const uint f0 = cc / cg * kg, u = cc % cg;
    const uint yp = yy + pad_top, xp = xx + pad_left;
    float acc = 0.0f;
    for (uint p = 0; p < kh && p * dh <= yp; p++) {
        uint i;
        if (!tap_output(yp, p * dh, sh, oh, &i))
            continue;
        for (uint q = 0; q < kw && q * dw <= xp; q++) {
            uint j;
            if (!tap_output(xp, q * dw, sw, ow, &j))
                continue;
            __global const float *dzr = dz + ((size_t)(nn * oh + i) * ow + j) * k + f0;
            __global const float *wr = wt + ((size_t)(p * kw + q) * cg + u) * k + f0;
            for (uint f = 0; f < kg; f++)
                acc += dzr[f] * wr[f];
        }
    }
    dx[gid] = acc;
}
