/* Local response normalisation on OpenCL (cl/lrn.cl), forward and backward. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_LRN_SCALES, K_LRN_FORWARD, K_LRN_BACKWARD_TERMS, K_LRN_BACKWARD_SUM, K_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_LRN_SCALES] = "lrn_scales",
    [K_LRN_FORWARD] = "lrn_forward",
    [K_LRN_BACKWARD_TERMS] = "lrn_backward_terms",
    [K_LRN_BACKWARD_SUM] = "lrn_backward_sum",
};

const ocl_family ocl_family_lrn = {OCL_FAMILY_lrn, "lrn.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_lrn)

static size_t pixels(const lrn_geom *g)
{
    return g->n * g->h * g->w;
}

static size_t elements(const lrn_geom *g)
{
    return pixels(g) * g->c;
}

/* s (cl/lrn.cl) of every element into s. */
static int scales(ocl_backend *b, const lrn_geom *g, const clcnn_buf *x, cl_mem s)
{
    return OCL_LAUNCH(b, F, K_LRN_SCALES, pixels(g), 0, OCL_MEM(x->mem), OCL_MEM(s), OCL_U32(pixels(g)),
                      OCL_U32(g->c), OCL_U32(g->size), OCL_F32(g->alpha), OCL_F32(g->k));
}

/* s into y, then y = x s^-beta in place. */
int ocl_lrn_forward(void *bctx, const lrn_geom *g, const clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "lrn_forward", elements(g));
    if (!st)
        st = scales(b, g, x, y->mem);
    return st ? st
              : OCL_LAUNCH(b, F, K_LRN_FORWARD, ocl_blocks(elements(g), 8), 0, OCL_MEM(x->mem), OCL_MEM(y->mem),
                           OCL_U32(elements(g)), OCL_F32(g->beta));
}

/* Three launches through the scratch buffer t (cl/lrn.cl). */
int ocl_lrn_backward(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx)
{
    ocl_backend *b = bctx;
    const size_t count = elements(g);
    int st = ocl_check_u32(b, "lrn_backward", count);
    if (!st)
        st = ocl_ensure_scratch(b, OCL_SCRATCH_TEMP, count * sizeof(float));
    if (st)
        return st;
    cl_mem t = b->scratch[OCL_SCRATCH_TEMP];
    st = scales(b, g, x, t);
    if (!st)
        st = OCL_LAUNCH(b, F, K_LRN_BACKWARD_TERMS, ocl_blocks(count, 8), 0, OCL_MEM(dy->mem), OCL_MEM(x->mem),
                        OCL_MEM(dx->mem), OCL_MEM(t), OCL_U32(count), OCL_F32(g->beta));
    return st ? st
              : OCL_LAUNCH(b, F, K_LRN_BACKWARD_SUM, pixels(g), 0, OCL_MEM(x->mem), OCL_MEM(t), OCL_MEM(dx->mem),
                           OCL_U32(pixels(g)), OCL_U32(g->c), OCL_U32(g->size), OCL_F32(g->alpha), OCL_F32(g->beta));
}
