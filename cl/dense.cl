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
