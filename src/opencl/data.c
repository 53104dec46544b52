/* Batch gathering on OpenCL (cl/data.cl): rows of a device-resident data
 * set, u8 or f32, picked by an index list, with their labels; and the
 * same with each row cropped and mirrored (augmentation). */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_GATHER_U8, K_GATHER_F32, K_GATHER_AUG_U8, K_GATHER_AUG_F32, K_COUNT };

static const char *const kernels[K_COUNT] = {[K_GATHER_U8] = "gather_u8", [K_GATHER_F32] = "gather_f32",
                                             [K_GATHER_AUG_U8] = "gather_aug_u8",
                                             [K_GATHER_AUG_F32] = "gather_aug_f32"};

const ocl_family ocl_family_data = {OCL_FAMILY_data, "data.cl", kernels, K_COUNT, NULL, 0};

int ocl_gather_batch(void *bctx, const clcnn_buf *images, int images_u8, size_t row_len, const clcnn_buf *labels,
                     const clcnn_buf *indices, size_t first, size_t m, clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "gather_batch", m * row_len);
    if (!st)
        st = ocl_check_u32(b, "gather_batch", images->bytes);
    if (!st)
        st = ocl_check_u32(b, "gather_batch", first + m);
    if (st)
        return st;
    /* Unused buffers still need a valid argument; want_labels keeps the
     * kernel off them. */
    const int want_labels = y != NULL && labels != NULL;
    cl_mem lm = labels ? labels->mem : indices->mem, ym = y ? y->mem : x->mem;
    return OCL_LAUNCH(b, &ocl_family_data, images_u8 ? K_GATHER_U8 : K_GATHER_F32, m * row_len, 0,
                      OCL_MEM(images->mem), OCL_U32(row_len), OCL_MEM(lm), OCL_MEM(indices->mem), OCL_U32(first),
                      OCL_U32(m), OCL_MEM(x->mem), OCL_MEM(ym), OCL_I32(want_labels));
}

int ocl_gather_augment(void *bctx, const clcnn_buf *images, int images_u8, size_t h, size_t w, size_t c,
                       const clcnn_buf *labels, const clcnn_buf *indices, const clcnn_buf *aug, size_t first,
                       size_t m, clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "gather_augment", m * h * w * c);
    if (!st)
        st = ocl_check_u32(b, "gather_augment", images->bytes);
    if (!st)
        st = ocl_check_u32(b, "gather_augment", 3 * (first + m));
    if (st)
        return st;
    const int want_labels = y != NULL && labels != NULL;
    cl_mem lm = labels ? labels->mem : indices->mem, ym = y ? y->mem : x->mem;
    return OCL_LAUNCH(b, &ocl_family_data, images_u8 ? K_GATHER_AUG_U8 : K_GATHER_AUG_F32, m * h * w * c, 0,
                      OCL_MEM(images->mem), OCL_U32(h), OCL_U32(w), OCL_U32(c), OCL_MEM(lm), OCL_MEM(indices->mem),
                      OCL_MEM(aug->mem), OCL_U32(first), OCL_U32(m), OCL_MEM(x->mem), OCL_MEM(ym),
                      OCL_I32(want_labels));
}
