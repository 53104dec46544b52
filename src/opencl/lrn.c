/* Local response normalisation on OpenCL (cl/lrn.cl), forward and backward. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_LRN_FORWARD, K_LRN_BACKWARD_TERMS, K_LRN_BACKWARD_SUM, K_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_LRN_FORWARD] = "lrn_forward",
    [K_LRN_BACKWARD_TERMS] = "lrn_backward_terms",
    [K_LRN_BACKWARD_SUM] = "lrn_backward_sum",
};

const ocl_family ocl_family_lrn = {OCL_FAMILY_lrn, "lrn.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_lrn)

/* The arguments the kernels take after their buffers and count (k: not
 * lrn_backward_sum). */
#define LRN_WINDOW(g) OCL_U32((g)->c), OCL_U32((g)->size), OCL_F32((g)->alpha), OCL_F32((g)->beta)
#define LRN_SETTINGS(g) LRN_WINDOW(g), OCL_F32((g)->k)

/* One work-item per element; its pixel's channels are its window. */
static size_t elements(const lrn_geom *g)
{
    return g->n * g->h * g->w * g->c;
}

int ocl_lrn_forward(void *bctx, const lrn_geom *g, const clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "lrn_forward", elements(g));
    return st ? st
              : OCL_LAUNCH(b, F, K_LRN_FORWARD, elements(g), 0, OCL_MEM(x->mem), OCL_MEM(y->mem),
                           OCL_U32(elements(g)), LRN_SETTINGS(g));
}

/* Two launches through the scratch buffer t (cl/lrn.cl). */
int ocl_lrn_backward(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx)
{
    ocl_backend *b = bctx;
    const size_t count = elements(g);
    int st = ocl_check_u32(b, "lrn_backward", count);
    if (!st)
        st = ocl_ensure_scratch(b, OCL_SCRATCH_LRN, count * sizeof(float));
    if (st)
        return st;
    cl_mem t = b->scratch[OCL_SCRATCH_LRN];
    st = OCL_LAUNCH(b, F, K_LRN_BACKWARD_TERMS, count, 0, OCL_MEM(dy->mem), OCL_MEM(x->mem), OCL_MEM(dx->mem),
                    OCL_MEM(t), OCL_U32(count), LRN_SETTINGS(g));
    return st ? st
              : OCL_LAUNCH(b, F, K_LRN_BACKWARD_SUM, count, 0, OCL_MEM(x->mem), OCL_MEM(t), OCL_MEM(dx->mem),
                           OCL_U32(count), LRN_WINDOW(g));
}
