/*
 * Helpers around the GEMMs (done by CLBlast): bias + activation on a
 * (rows, cols) result, and column sums for bias gradients.  Used by dense
 * layers and by convolution (im2col rows = output pixels).
 */

#ifndef COLSUM_WG
#define COLSUM_WG 64 /* work-group size of column_sums (a power of two) */
#endif

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

/* out[c] = sum_r a[r,c]; one work-group of COLSUM_WG items per column (the
 * host reads the size back from the kernel). */
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
 * Small dense layers without CLBlast (y, dw and dx of a few hundred units at
 * small batch sizes, where GEMM libraries pad heavily).  Work-items along
 * dimension 0 are neighbouring output units, so they read w contiguously
 * and share the x value they multiply by.
 */
#ifndef DENSE_RB
#define DENSE_RB 4 /* rows (examples, or input units for dw) per work-item */
#endif

/* y[r,o] = act(b[o] + sum_i x[r,i] w[i,o]); item (o, rb) does rows
 * [rb*DENSE_RB, rb*DENSE_RB + DENSE_RB).  Softmax (act 4) writes z. */
__kernel void dense_forward(__global const float *x, __global const float *wt, __global const float *b,
                            __global float *y, uint m, uint in, uint out, int act)
{
    const uint o = get_global_id(0);
    if (o >= out)
        return;
    const float bo = b[o];
    for (uint r0 = get_global_id(1) * DENSE_RB; r0 < m; r0 += get_global_size(1) * DENSE_RB) {
    uint row[DENSE_RB];
    float acc[DENSE_RB];
    for (uint u = 0; u < DENSE_RB; u++) {
        row[u] = min(r0 + u, m - 1) * in;
        acc[u] = 0.0f;
    }
    for (uint i = 0; i < in; i++) {
        const float wv = wt[(size_t)i * out + o];
        for (uint u = 0; u < DENSE_RB; u++)
            acc[u] += x[row[u] + i] * wv;
    }
    for (uint u = 0; u < DENSE_RB; u++)
        if (r0 + u < m) {
            const float s = acc[u] + bo;
            y[(size_t)(r0 + u) * out + o] = act == ACT_SOFTMAX ? s : act_apply(s, act);
        }
    }
}

/* dw[i,o] = sum_r x[r,i] dz[r,o] and, as input unit i == in, db[o] =
 * sum_r dz[r,o]; item (o, ib) does units [ib*DENSE_RB, ib*DENSE_RB + DENSE_RB). */
__kernel void dense_weight_grad(__global const float *x, __global const float *dz, __global float *dw,
                                __global float *db, uint m, uint in, uint out, int want_dw, int want_db)
{
    const uint o = get_global_id(0);
    if (o >= out)
        return;
    for (uint i0 = get_global_id(1) * DENSE_RB; i0 <= in; i0 += get_global_size(1) * DENSE_RB) {
    uint col[DENSE_RB];
    float acc[DENSE_RB];
    for (uint u = 0; u < DENSE_RB; u++) {
        col[u] = min(i0 + u, in - 1);
        acc[u] = 0.0f;
    }
    float accb = 0.0f;
    for (uint r = 0; r < m; r++) {
        const float d = dz[(size_t)r * out + o];
        __global const float *xr = x + (size_t)r * in;
        for (uint u = 0; u < DENSE_RB; u++)
            acc[u] += xr[col[u]] * d;
        accb += d;
    }
    for (uint u = 0; u < DENSE_RB; u++) {
        const uint i = i0 + u;
        if (i < in && want_dw)
            dw[(size_t)i * out + o] = acc[u];
        else if (i == in && want_db)
            db[o] = accb;
    }
    }
}

/* dx[r,i] = sum_o dz[r,o] w[i,o]; item (i, rb) does rows
 * [rb*DENSE_RB, rb*DENSE_RB + DENSE_RB). */
__kernel void dense_data_grad(__global const float *dz, __global const float *wt, __global float *dx, uint m,
                              uint in, uint out)
{
    const uint i = get_global_id(0);
    if (i >= in)
        return;
    for (uint r0 = get_global_id(1) * DENSE_RB; r0 < m; r0 += get_global_size(1) * DENSE_RB) {
    uint row[DENSE_RB];
    float acc[DENSE_RB];
    for (uint u = 0; u < DENSE_RB; u++) {
        row[u] = min(r0 + u, m - 1) * out;
        acc[u] = 0.0f;
    }
    __global const float *wr = wt + (size_t)i * out;
    for (uint o = 0; o < out; o++) {
        const float wv = wr[o];
        for (uint u = 0; u < DENSE_RB; u++)
            acc[u] += dz[row[u] + o] * wv;
    }
    for (uint u = 0; u < DENSE_RB; u++)
        if (r0 + u < m)
            dx[(size_t)(r0 + u) * in + i] = acc[u];
    }
}
