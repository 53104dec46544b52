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
 *              forward), or pooling windows (conv_pool_forward);
 *   CONV_CB    input channels per work-item (direct data gradient);
 *   CONV_DW_WG work-group size of conv_filter_grad (a power of two).
 */

/*
 * Groups and dilation (conv_geom in src/core/backend.h): filter f of group
 * g = f / kg (kg = k/groups) sees input channels [g*cg, g*cg + cg) (cg =
 * c/groups) through weights (kh, kw, cg, k), and tap (p, q) reads the
 * padded input at (i*sh + p*dh, j*sw + q*dw).  A block of output channels
 * never straddles two groups: group g has kg/CONV_KB blocks, rounded up,
 * the last one short when kg is not a multiple of CONV_KB.  block_start
 * gives block kb's first channel and the channels left in its group.
 */
uint block_start(uint kb, uint per_group, uint per_block, uint *left)
{
    const uint blocks = (per_group + per_block - 1) / per_block;
    const uint g = kb / blocks, f0 = g * per_group + kb % blocks * per_block;
    *left = (g + 1) * per_group - f0;
    return f0;
}

/*
 * The sums of the direct convolution for CONV_PB output pixels (nn, i,
 * j0 + v*js), v < CONV_PB, of one row (js = 1: neighbours) and output
 * channels [k0, k0 + 8) (kn of them in the block, block_start), so that
 * each weight vector loaded serves CONV_PB pixels:
 * acc[v] = sum_{p,q,u} x_pad[nn, i*sh+p*dh, (j0+v*js)*sw+q*dw, c0+u] * w[p,q,u,k],
 * summed in the order p, q, u, without the bias.  Pixels past ow are
 * computed too; the caller discards them.  The one place of these sums:
 * conv_direct_forward and conv_pool_forward both call it.
 */
void conv_direct_sums(__global const float *x, __global const float *wt, uint nn, uint i, uint j0, uint js, uint k0,
                      uint kn, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh, uint sw, uint pad_top,
                      uint pad_left, uint dh, uint dw, uint groups, float8 *acc)
{
    const uint cg = c / groups, kg = k / groups;
    const uint c0 = k0 / kg * cg;
    const int y0 = (int)(i * sh) - (int)pad_top, x0 = (int)(j0 * sw) - (int)pad_left;
    #pragma unroll
    for (uint v = 0; v < CONV_PB; v++)
        acc[v] = 0.0f;
    for (uint p = 0; p < kh; p++) {
        const int yy = y0 + (int)(p * dh);
        if (yy < 0 || yy >= (int)h)
            continue;
        __global const float *xrow = x + (size_t)(nn * h + (uint)yy) * w * c + c0;
        for (uint q = 0; q < kw; q++) {
            int xx[CONV_PB];
            #pragma unroll
            for (uint v = 0; v < CONV_PB; v++)
                xx[v] = x0 + (int)(v * js * sw + q * dw);
            __global const float *wr = wt + (size_t)(p * kw + q) * cg * k + k0;
            for (uint cc = 0; cc < cg; cc++) {
                const float8 wv = load8(wr + (size_t)cc * k, kn);
                #pragma unroll
                for (uint v = 0; v < CONV_PB; v++) {
                    const float xv = xx[v] >= 0 && xx[v] < (int)w ? xrow[(size_t)xx[v] * c + cc] : 0.0f;
                    acc[v] += xv * wv;
                }
            }
        }
    }
}

/*
 * Direct convolution: work-item (item, kb) computes output channels
 * [k0, k0 + 8) of block kb (block_start) for CONV_PB neighbouring output
 * pixels (n, i, j..j+PB) of one row (conv_direct_sums):
 * y = act(b[k] + sum_{p,q,u} x_pad[n, i*sh+p*dh, j*sw+q*dw, c0+u] * w[p,q,u,k]).
 * Softmax (ACT_SOFTMAX) is left to a row-wise pass; the kernel then writes z.
 * Any grid works: items loop over pixel groups and channel blocks.
 */
__kernel void conv_direct_forward(__global const float *x, __global const float *wt, __global const float *b,
                                  __global float *y, uint n, uint h, uint w, uint c, uint kh, uint kw, uint k, uint sh,
                                  uint sw, uint oh, uint ow, uint pad_top, uint pad_left, uint dh, uint dw,
                                  uint groups, int act)
{
    const uint jblocks = (ow + CONV_PB - 1) / CONV_PB;
    const uint kblocks = groups * ((k / groups + CONV_KB - 1) / CONV_KB);
    for (uint item = get_global_id(0); item < n * oh * jblocks; item += get_global_size(0)) {
        const uint jb = item % jblocks, row = item / jblocks;
        const uint i = row % oh, nn = row / oh;
        const uint j0 = jb * CONV_PB;
        for (uint kb = get_global_id(1); kb < kblocks; kb += get_global_size(1)) {
            uint kn;
            const uint k0 = block_start(kb, k / groups, CONV_KB, &kn);
            float8 acc[CONV_PB];
            conv_direct_sums(x, wt, nn, i, j0, 1, k0, kn, h, w, c, kh, kw, k, sh, sw, pad_top, pad_left, dh, dw,
                             groups, acc);
            const float8 bv = load8(b + k0, kn);
            /* unrolled, the bound inside: acc stays in registers */
            #pragma unroll
            for (uint v = 0; v < CONV_PB; v++)
                if (j0 + v < ow)
                    store_act8(y + ((size_t)row * ow + j0 + v) * k + k0, acc[v] + bv, kn, act);
        }
    }
}

/* act_apply on each lane of v, as store_act8 applies it (not softmax). */
float8 act8(float8 v, int act)
{
    float r[8];
    vstore8(v, 0, r);
    #pragma unroll
    for (uint u = 0; u < 8; u++)
        r[u] = act_apply(r[u], act);
    return vload8(0, r);
}

/*
 * A convolution and the pooling of its output in one launch, for pool
 * windows of ph x pw at stride ph x pw that tile the convolution's output
 * exactly (oh = poh * ph, ow = pow * pw; the host checks it, and that the
 * convolution would take conv_direct_forward, and not softmax).  Work-item
 * (item, kb) takes CONV_PB neighbouring windows (nn, pi, pj0 + v), v <
 * CONV_PB, in channel block kb; for each of a window's cells (p, q) in the
 * order pool_forward (pool.cl) takes them, rows then columns, it computes
 * that cell of all CONV_PB windows at once (conv_direct_sums, pixels pw
 * apart: pixel v is window v's, no pixel computed twice).  Every conv
 * output goes to y as conv_direct_forward stores it (the backward reads
 * it), and into its window as pool_forward folds it: the max from the
 * first cell (v > acc ? v : acc), or the sum from 0 divided by ph*pw; the
 * window's result goes to yp (n,poh,pow,k).
 */
__kernel void conv_pool_forward(__global const float *x, __global const float *wt, __global const float *b,
                                __global float *y, __global float *yp, uint n, uint h, uint w, uint c, uint kh,
                                uint kw, uint k, uint sh, uint sw, uint oh, uint ow, uint pad_top, uint pad_left,
                                uint dh, uint dw, uint groups, int act, uint ph, uint pw, int mode)
{
    const uint poh = oh / ph, pow_ = ow / pw;
    const uint jblocks = (pow_ + CONV_PB - 1) / CONV_PB;
    const uint kblocks = groups * ((k / groups + CONV_KB - 1) / CONV_KB);
    for (uint item = get_global_id(0); item < n * poh * jblocks; item += get_global_size(0)) {
        const uint jb = item % jblocks, prow = item / jblocks;
        const uint pi = prow % poh, nn = prow / poh;
        const uint pj0 = jb * CONV_PB;
        for (uint kb = get_global_id(1); kb < kblocks; kb += get_global_size(1)) {
            uint kn;
            const uint k0 = block_start(kb, k / groups, CONV_KB, &kn);
            const float8 bv = load8(b + k0, kn);
            float8 win[CONV_PB];
            for (uint p = 0; p < ph; p++) {
                const uint i = pi * ph + p;
                for (uint q = 0; q < pw; q++) {
                    const uint j0 = pj0 * pw + q;
                    float8 acc[CONV_PB];
                    conv_direct_sums(x, wt, nn, i, j0, pw, k0, kn, h, w, c, kh, kw, k, sh, sw, pad_top, pad_left, dh,
                                     dw, groups, acc);
                    /* unrolled, the bound inside: acc and win stay in registers */
                    #pragma unroll
                    for (uint v = 0; v < CONV_PB; v++) {
                        if (pj0 + v >= pow_)
                            continue;
                        const float8 z = act8(acc[v] + bv, act);
                        store8(y + ((size_t)(nn * oh + i) * ow + j0 + v * pw) * k + k0, z, kn);
                        if (p == 0 && q == 0)
                            win[v] = mode == POOL_MAX ? z : 0.0f;
                        win[v] = mode == POOL_MAX ? select(win[v], z, z > win[v]) : win[v] + z;
                    }
                }
            }
            #pragma unroll
            for (uint v = 0; v < CONV_PB; v++) {
                if (pj0 + v >= pow_)
                    continue;
                float r[8];
                vstore8(win[v], 0, r);
                __global float *out = yp + ((size_t)prow * pow_ + pj0 + v) * k + k0;
                #pragma unroll
                for (uint u = 0; u < 8; u++)
                    if (u < kn)
                        out[u] = mode == POOL_MAX ? r[u] : r[u] / (float)(ph * pw);
            }
        }
    }
}

/*
 * Filter and bias gradients without im2col or atomics:
 *   dw[p,q,u,k] = sum_{n,i,j} x_pad[n, i*sh+p*dh, j*sw+q*dw, c0(k)+u] * dz[n,i,j,k],
 *   db[k]       = sum_{n,i,j} dz[n,i,j,k].
 * Work-group (tap, kb): tap < kh*kw*cg is one (p,q,u) row of dw, tap ==
 * kh*kw*cg is db; kb picks a block of 8 output channels (block_start).  The
 * CONV_DW_WG items take whole output rows, then reduce in local memory (a
 * fixed order, so results do not depend on scheduling).  want_dw / want_db
 * skip groups.  One part of conv_backward, below.
 */
/* Work-group (tap, kb0) of a grid of kb_groups groups along dimension 1;
 * part holds 8 * CONV_DW_WG floats. */
void conv_filter_part(uint tap, uint kb0, uint kb_groups, __local float *part, __global const float *x,
                      __global const float *dz, __global float *dwt, __global float *db, uint n, uint h, uint w,
                      uint c, uint kh, uint kw, uint k, uint sh, uint sw, uint oh, uint ow, uint pad_top,
                      uint pad_left, uint dh, uint dw, uint groups, int want_dw, int want_db)
{
    const uint lid = get_local_id(0);
    const uint cg = c / groups, kg = k / groups;
    const uint kblocks = groups * ((kg + CONV_KB - 1) / CONV_KB);
    const uint taps = kh * kw * cg;
    const int is_bias = tap == taps;
    if (is_bias ? !want_db : !want_dw)
        return; /* the whole group leaves together */
    const uint u = is_bias ? 0 : tap % cg, pq = is_bias ? 0 : tap / cg;
    const uint qd = pq % kw * dw, pd = pq / kw * dh; /* the tap's offsets in the padded input */
    /* Output columns j whose input column j*sw+qd-pad_left is inside the
     * image: [j_lo, j_hi); the same for rows.  The bias group takes all. */
    uint j_lo = 0, j_hi = ow, i_lo = 0, i_hi = oh;
    if (!is_bias) {
        j_lo = qd >= pad_left ? 0 : (pad_left - qd + sw - 1) / sw;
        j_hi = w + pad_left > qd ? min(ow, (w + pad_left - qd - 1) / sw + 1) : 0;
        i_lo = pd >= pad_top ? 0 : (pad_top - pd + sh - 1) / sh;
        i_hi = h + pad_top > pd ? min(oh, (h + pad_top - pd - 1) / sh + 1) : 0;
    }
    /* Any number of groups in dimension 1 works: groups loop over the
     * channel blocks (a trip count uniform within the group). */
    for (uint kb = kb0; kb < kblocks; kb += kb_groups) {
        uint kn;
        const uint k0 = block_start(kb, kg, CONV_KB, &kn);
        const uint cc = k0 / kg * cg + u;
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
            const long x0 = ((long)(nn * h + i * sh + pd - pad_top) * w + (long)qd - (long)pad_left) * c + cc;
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
                dwt[(size_t)tap * k + k0 + lid] = s;
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* part is reused by the next block */
    }
}

/*
 * Data gradient in gather form: work-item (cell, cb) computes input
 * channels [c0, c0 + CONV_CB) of block cb (block_start: blocks of CONV_CB
 * within a group) of one input cell (n,y,x):
 *   dx[n,y,x,c] = sum over (p,q) with (y+pad_top-p*dh) = i*sh,
 *   (x+pad_left-q*dw) = j*sw, 0 <= i < oh, 0 <= j < ow, of
 *   sum_{k in c's group} dz[n,i,j,k] * w[p,q,c-c0(group),k];
 * the sums over k run 8 channels at a time (float8), the rest one by one.
 * The other part of conv_backward.
 */
/* dx as computed is then times act'(x) (act_grad in common.cl). */
/* Work-item (cell, cb0) of a grid of cb_items items along dimension 1. */
void conv_data_part(uint cell, uint cb0, uint cb_items, __global const float *dz, __global const float *wt,
                    __global const float *x, __global float *dx, uint n, uint h, uint w, uint c, uint kh, uint kw,
                    uint k, uint sh, uint sw, uint oh, uint ow, uint pad_top, uint pad_left, uint dh, uint dw,
                    uint groups, int act)
{
    if (cell >= n * h * w)
        return;
    const uint xx = cell % w, t = cell / w;
    const uint yy = t % h, nn = t / h;
    const uint yp = yy + pad_top, xp = xx + pad_left;
    const uint cg = c / groups, kg = k / groups;
    const uint cblocks = groups * ((cg + CONV_CB - 1) / CONV_CB);
    const uint k8 = kg / 8 * 8;
    for (uint cb = cb0; cb < cblocks; cb += cb_items) {
        uint cn;
        const uint c0 = block_start(cb, cg, CONV_CB, &cn);
        const uint f0 = c0 / cg * kg, u0 = c0 % cg;
        uint cidx[CONV_CB];
        float8 acc8[CONV_CB];
        float acc[CONV_CB];
        #pragma unroll
        for (uint u = 0; u < CONV_CB; u++) {
            cidx[u] = (u0 + min(u, cn - 1)) * k + f0;
            acc8[u] = 0.0f;
            acc[u] = 0.0f;
        }
        for (uint p = 0; p < kh && p * dh <= yp; p++) {
            uint i;
            if (!tap_output(yp, p * dh, sh, oh, &i))
                continue;
            for (uint q = 0; q < kw && q * dw <= xp; q++) {
                uint j;
                if (!tap_output(xp, q * dw, sw, ow, &j))
                    continue;
                __global const float *dzr = dz + ((size_t)(nn * oh + i) * ow + j) * k + f0;
                __global const float *wr = wt + (size_t)(p * kw + q) * cg * k;
                for (uint kk = 0; kk < k8; kk += 8) {
                    const float8 d = vload8(0, dzr + kk);
                    #pragma unroll
                    for (uint u = 0; u < CONV_CB; u++)
                        acc8[u] += d * vload8(0, wr + cidx[u] + kk);
                }
                for (uint kk = k8; kk < kg; kk++) {
                    const float d = dzr[kk];
                    #pragma unroll
                    for (uint u = 0; u < CONV_CB; u++)
                        acc[u] += d * wr[cidx[u] + kk];
                }
            }
        }
        __global float *dr = dx + (size_t)cell * c + c0;
        __global const float *xr = x + (size_t)cell * c + c0;
        #pragma unroll
        for (uint u = 0; u < CONV_CB; u++)
            if (u < cn)
                dr[u] = act_grad(acc[u] + hsum8(acc8[u]), xr[u], act);
    }
}

/* A convolution's backward in one launch: work-groups [0, taps) along
 * dimension 0 (taps = kh*kw*cg + 1 with the bias, 0 when neither dw nor db
 * is wanted) are conv_filter_part's, kb_groups of them along dimension 1;
 * the groups after them hold conv_data_part's items, one input cell each,
 * cb_items along dimension 1.  The branch is uniform within a work-group,
 * so the filter part's barriers are met by all of its items or none. */
__kernel __attribute__((reqd_work_group_size(CONV_DW_WG, 1, 1))) void
conv_backward(__global const float *x, __global const float *dz, __global const float *wt, __global float *dwt,
              __global float *db, __global float *dx, uint n, uint h, uint w, uint c, uint kh, uint kw, uint k,
              uint sh, uint sw, uint oh, uint ow, uint pad_top, uint pad_left, uint dh, uint dw, uint groups,
              int want_dw, int want_db, int act, uint taps, uint kb_groups, uint cb_items)
{
    __local float part[8 * CONV_DW_WG];
    const uint group = get_group_id(0), g1 = get_global_id(1);
    if (group < taps) {
        if (g1 < kb_groups)
            conv_filter_part(group, g1, kb_groups, part, x, dz, dwt, db, n, h, w, c, kh, kw, k, sh, sw, oh, ow,
                             pad_top, pad_left, dh, dw, groups, want_dw, want_db);
    } else if (g1 < cb_items) {
        conv_data_part((group - taps) * CONV_DW_WG + get_local_id(0), g1, cb_items, dz, wt, x, dx, n, h, w, c, kh,
                       kw, k, sh, sw, oh, ow, pad_top, pad_left, dh, dw, groups, act);
    }
}
