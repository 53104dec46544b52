/*
 * Helpers around the GEMMs (done by CLBlast): bias + activation on a
 * (rows, cols) result, and column sums for bias gradients.  Used by dense
 * layers and by convolution (im2col rows = output pixels).
 */

/* The tunables (COLSUM_WG, DENSE_RB, DENSE_OB) are set by the host,
 * src/opencl/dense.c, which sizes the launch grids with the same values. */

/* y[r,c] = act(y[r,c] + b[c]) for element-wise activations. */
__kernel void bias_act(__global float *y, __global const float *b, uint rows, uint cols, int act)
{
    const uint i = get_global_id(0);
    if (i >= rows * cols)
        return;
    y[i] = act_apply(y[i] + b[i % cols], act);
}

/* y[r,:] = softmax(y[r,:] + b), one work-item per row. */
__kernel void bias_softmax(__global float *y, __global const float *b, uint rows, uint cols)
{
    const uint r = get_global_id(0);
    if (r >= rows)
        return;
    __global float *yr = y + (size_t)r * cols;
    for (uint c = 0; c < cols; c++)
        yr[c] += b[c];
    softmax_row(yr, cols);
}

/* out[c] = sum_r a[r,c]; one work-group of COLSUM_WG items (a power of
 * two) per column. */
__kernel __attribute__((reqd_work_group_size(COLSUM_WG, 1, 1))) void
column_sums(__global const float *a, __global float *out, uint rows, uint cols)
{
    __local float part[COLSUM_WG];
    const uint col = get_group_id(0);
    const uint lid = get_local_id(0);
        float s = 0.0f;
    for (uint r = lid; r < rows; r += COLSUM_WG)
        s += a[(size_t)r * cols + col];
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = COLSUM_WG / 2; off > 0; off >>= 1) {
        if (lid < off)
            part[lid] += part[lid + off];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        out[col] = part[0];
}

/*
 * Dense layers without CLBlast (y, dw and dx; the direct path, for every
 * size in a build without CLBlast).  Output units are handled DENSE_OB = 8
 * at a time as a float8 (vectorised on CPU devices), DENSE_RB rows
 * (examples, or input units for dw) per work-item; loops over blocks make
 * any grid correct.
 */

/* y[r,o] = act(b[o] + sum_i x[r,i] w[i,o]); item (ob, rb) does units
 * [ob*DENSE_OB, ob*DENSE_OB + DENSE_OB) of rows
 * [rb*DENSE_RB, rb*DENSE_RB + DENSE_RB).
 * Softmax (ACT_SOFTMAX) writes z. */
__kernel void dense_forward(__global const float *x, __global const float *wt, __global const float *b,
                            __global float *y, uint m, uint in, uint out, int act)
{
    for (uint o0 = get_global_id(0) * DENSE_OB; o0 < out; o0 += get_global_size(0) * DENSE_OB) {
        const uint on = out - o0;
        /* Rows i < i_full can be read as whole vectors inside w. */
        const uint i_full = on >= 8 ? in : in * out < o0 + 8 ? 0 : min(in, (in * out - o0 - 8) / out + 1);
        const float8 bv = load8(b + o0, on);
        for (uint r0 = get_global_id(1) * DENSE_RB; r0 < m; r0 += get_global_size(1) * DENSE_RB) {
            uint row[DENSE_RB];
            float8 acc[DENSE_RB];
            #pragma unroll
            for (uint u = 0; u < DENSE_RB; u++) {
                row[u] = min(r0 + u, m - 1) * in;
                acc[u] = 0.0f;
            }
            uint i = 0;
            for (; i < i_full; i++) {
                const float8 wv = vload8(0, wt + (size_t)i * out + o0);
                #pragma unroll
                for (uint u = 0; u < DENSE_RB; u++)
                    acc[u] += x[row[u] + i] * wv;
            }
            for (; i < in; i++) {
                const float8 wv = load8(wt + (size_t)i * out + o0, on);
                #pragma unroll
                for (uint u = 0; u < DENSE_RB; u++)
                    acc[u] += x[row[u] + i] * wv;
            }
            for (uint u = 0; u < DENSE_RB && r0 + u < m; u++) {
                float r[8];
                vstore8(acc[u] + bv, 0, r);
                __global float *yr = y + (size_t)(r0 + u) * out + o0;
                for (uint v = 0; v < 8 && v < on; v++)
                    yr[v] = act == ACT_SOFTMAX ? r[v] : act_apply(r[v], act);
            }
        }
    }
}

/* The two parts of dense_backward.  Each is written for a grid of its own:
 * item (id0, id1) of size0 x size1 items, whose loops over blocks cover
 * every output whatever the grid, each output summed by one item in a
 * fixed order. */

/* dw[i,o] = sum_r x[r,i] dz[r,o] and, as input unit i == in, db[o] =
 * sum_r dz[r,o]; item (ob, ib) does units
 * [ob*DENSE_OB, ob*DENSE_OB + DENSE_OB) of input units
 * [ib*DENSE_RB, ib*DENSE_RB + DENSE_RB). */
void weight_grad_part(uint id0, uint size0, uint id1, uint size1, __global const float *x,
                      __global const float *dz, __global float *dw, __global float *db, uint m, uint in,
                      uint out, int want_dw, int want_db)
{
    for (uint o0 = id0 * DENSE_OB; o0 < out; o0 += size0 * DENSE_OB) {
        const uint on = out - o0;
        /* Rows r < r_full can be read as whole vectors inside dz. */
        const uint r_full = on >= 8 ? m : m * out < o0 + 8 ? 0 : min(m, (m * out - o0 - 8) / out + 1);
        for (uint i0 = id1 * DENSE_RB; i0 <= in; i0 += size1 * DENSE_RB) {
            uint col[DENSE_RB];
            float8 acc[DENSE_RB];
            #pragma unroll
            for (uint u = 0; u < DENSE_RB; u++) {
                col[u] = min(i0 + u, in - 1);
                acc[u] = 0.0f;
            }
            float8 accb = 0.0f;
            for (uint r = 0; r < m; r++) {
                __global const float *dzr = dz + (size_t)r * out + o0;
                const float8 d = r < r_full ? vload8(0, dzr) : load8(dzr, on);
                __global const float *xr = x + (size_t)r * in;
                #pragma unroll
                for (uint u = 0; u < DENSE_RB; u++)
                    acc[u] += xr[col[u]] * d;
                accb += d;
            }
            #pragma unroll
            for (uint u = 0; u < DENSE_RB; u++) {
                const uint i = i0 + u;
                if (i < in && want_dw)
                    store8(dw + (size_t)i * out + o0, acc[u], on);
                else if (i == in && want_db)
                    store8(db + o0, accb, on);
            }
        }
    }
}

/* dx[r,i] = sum_o dz[r,o] w[i,o] (times act'(x[r,i]): act_grad); item (i, rb) does rows
 * [rb*DENSE_RB, rb*DENSE_RB + DENSE_RB), the sums 8 units at a time. */
void data_grad_part(uint id0, uint size0, uint id1, uint size1, __global const float *dz,
                    __global const float *wt, __global const float *x, __global float *dx, uint m, uint in,
                    uint out, int act)
{
    const uint o8 = out / 8 * 8;
    for (uint i = id0; i < in; i += size0) {
        __global const float *wr = wt + (size_t)i * out;
        for (uint r0 = id1 * DENSE_RB; r0 < m; r0 += size1 * DENSE_RB) {
            uint row[DENSE_RB];
            float8 acc8[DENSE_RB];
            float acc[DENSE_RB];
            #pragma unroll
            for (uint u = 0; u < DENSE_RB; u++) {
                row[u] = min(r0 + u, m - 1) * out;
                acc8[u] = 0.0f;
                acc[u] = 0.0f;
            }
            for (uint o = 0; o < o8; o += 8) {
                const float8 wv = vload8(0, wr + o);
                #pragma unroll
                for (uint u = 0; u < DENSE_RB; u++)
                    acc8[u] += vload8(0, dz + row[u] + o) * wv;
            }
            for (uint o = o8; o < out; o++) {
                const float wv = wr[o];
                #pragma unroll
                for (uint u = 0; u < DENSE_RB; u++)
                    acc[u] += dz[row[u] + o] * wv;
            }
            for (uint u = 0; u < DENSE_RB && r0 + u < m; u++) {
                const size_t o = (size_t)(r0 + u) * in + i;
                dx[o] = act_grad(acc[u] + hsum8(acc8[u]), x[o], act);
            }
        }
    }
}

/* A dense layer's backward in one launch: along dimension 0, items
 * [0, w_items) are weight_grad_part's grid (w_items x w_rows items; none
 * when w_items is 0) and the items after them data_grad_part's
 * (d_items x d_rows).  Dimension 1 spans the larger of w_rows and d_rows;
 * an item beyond its part's rows has nothing to do.  No barriers: the
 * parts need not meet at a work-group boundary. */
__kernel void dense_backward(__global const float *x, __global const float *dz, __global const float *wt,
                             __global float *dw, __global float *db, __global float *dx, uint m, uint in, uint out,
                             int want_dw, int want_db, int act, uint w_items, uint w_rows, uint d_items, uint d_rows)
{
    const uint g0 = get_global_id(0), g1 = get_global_id(1);
    if (g0 < w_items) {
        if (g1 < w_rows)
            weight_grad_part(g0, w_items, g1, w_rows, x, dz, dw, db, m, in, out, want_dw, want_db);
    } else if (g0 - w_items < d_items && g1 < d_rows) {
        data_grad_part(g0 - w_items, d_items, g1, d_rows, dz, wt, x, dx, m, in, out, act);
    }
}
