/* Batch assembly from a data set resident on the device. */

/* Where batch element gid (one work-item per element of x, rows of
 * row_len) comes from in the data set: row r takes indices[first + r];
 * copies its row's label to y[r] when write_labels (once per row). */
size_t gather_source(uint gid, uint row_len, __global const int *labels, __global const int *indices, uint first,
                     __global int *y, int write_labels)
{
    const uint r = gid / row_len, col = gid % row_len;
    const uint src = (uint)indices[first + r];
    if (write_labels && col == 0)
        y[r] = labels[src];
    return (size_t)src * row_len + col;
}

/* x[r, :] = images[indices[first + r], :] / 255 (uint8 pixels), y[r] = its label. */
__kernel void gather_u8(__global const uchar *images, uint row_len, __global const int *labels,
                        __global const int *indices, uint first, uint m, __global float *x, __global int *y,
                        int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid < m * row_len)
        x[gid] = (float)images[gather_source(gid, row_len, labels, indices, first, y, write_labels)] / 255.0f;
}

/* The same for float32 images. */
__kernel void gather_f32(__global const float *images, uint row_len, __global const int *labels,
                         __global const int *indices, uint first, uint m, __global float *x, __global int *y,
                         int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid < m * row_len)
        x[gid] = images[gather_source(gid, row_len, labels, indices, first, y, write_labels)];
}

/* Where element gid of an augmented batch (images h x w x c) comes from:
 * indices[first + r] and aug[3(first + r)..] = dy, dx, flip of its row r,
 * as gather_augment in
 * src/core/backend.h; AUG_PADDING for a cell of the zero padding (never an
 * index: the host keeps the images below 2^32 bytes). */
#define AUG_PADDING 0xffffffffu
uint augment_source(uint gid, uint h, uint w, uint c, __global const int *labels, __global const int *indices,
                    __global const int *aug, uint first, __global int *y, int write_labels)
{
    const uint row_len = h * w * c;
    const uint r = gid / row_len, rem = gid % row_len;
    const uint i = rem / (w * c), j = rem / c % w, k = rem % c;
    const uint e = first + r; /* the row's place in indices and aug */
    const uint src = (uint)indices[e];
    if (write_labels && rem == 0)
        y[r] = labels[src];
    const int si = (int)i + aug[3 * e], sj = (int)(aug[3 * e + 2] ? w - 1 - j : j) + aug[3 * e + 1];
    if (si < 0 || si >= (int)h || sj < 0 || sj >= (int)w)
        return AUG_PADDING;
    return src * row_len + ((uint)si * w + (uint)sj) * c + k;
}

__kernel void gather_aug_u8(__global const uchar *images, uint h, uint w, uint c, __global const int *labels,
                            __global const int *indices, __global const int *aug, uint first, uint m,
                            __global float *x, __global int *y, int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid < m * h * w * c) {
        const uint at = augment_source(gid, h, w, c, labels, indices, aug, first, y, write_labels);
        x[gid] = at == AUG_PADDING ? 0.0f : (float)images[at] / 255.0f;
    }
}

__kernel void gather_aug_f32(__global const float *images, uint h, uint w, uint c, __global const int *labels,
                             __global const int *indices, __global const int *aug, uint first, uint m,
                             __global float *x, __global int *y, int write_labels)
{
    const uint gid = get_global_id(0);
    if (gid < m * h * w * c) {
        const uint at = augment_source(gid, h, w, c, labels, indices, aug, first, y, write_labels);
        x[gid] = at == AUG_PADDING ? 0.0f : images[at];
    }
}
