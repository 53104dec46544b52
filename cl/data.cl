/* Batch assembly from a data set resident on the device. */

/* x[r, :] = images[indices[r], :] / 255 (uint8 pixels), y[r] = labels[indices[r]];
 * one work-item per element of x. */
__kernel void gather_u8(__global const uchar *images, uint row_len, __global const int *labels,
                        __global const int *indices, uint m, __global float *x, __global int *y, int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid >= m * row_len)
        return;
    const uint r = gid / row_len, col = gid % row_len;
    const uint src = (uint)indices[r];
    x[gid] = (float)images[(size_t)src * row_len + col] / 255.0f;
    if (write_labels && col == 0)
        y[r] = labels[src];
}

/* The same for float32 images. */
__kernel void gather_f32(__global const float *images, uint row_len, __global const int *labels,
                         __global const int *indices, uint m, __global float *x, __global int *y, int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid >= m * row_len)
        return;
    const uint r = gid / row_len, col = gid % row_len;
    const uint src = (uint)indices[r];
    x[gid] = images[(size_t)src * row_len + col];
    if (write_labels && col == 0)
        y[r] = labels[src];
}
