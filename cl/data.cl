/* Batch assembly from a data set resident on the device. */

/* Where batch element gid (one work-item per element of x, rows of
 * row_len) comes from in the data set; copies its row's label to y[r] when
 * write_labels (once per row). */
size_t gather_source(uint gid, uint row_len, __global const int *labels, __global const int *indices,
                     __global int *y, int write_labels)
{
    const uint r = gid / row_len, col = gid % row_len;
    const uint src = (uint)indices[r];
    if (write_labels && col == 0)
        y[r] = labels[src];
    return (size_t)src * row_len + col;
}

/* x[r, :] = images[indices[r], :] / 255 (uint8 pixels), y[r] = labels[indices[r]]. */
__kernel void gather_u8(__global const uchar *images, uint row_len, __global const int *labels,
                        __global const int *indices, uint m, __global float *x, __global int *y, int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid < m * row_len)
        x[gid] = (float)images[gather_source(gid, row_len, labels, indices, y, write_labels)] / 255.0f;
}

/* The same for float32 images. */
__kernel void gather_f32(__global const float *images, uint row_len, __global const int *labels,
                         __global const int *indices, uint m, __global float *x, __global int *y, int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid < m * row_len)
        x[gid] = images[gather_source(gid, row_len, labels, indices, y, write_labels)];
}
