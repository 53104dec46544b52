/* Local response normalisation on OpenCL (cl/lrn.cl), forward and backward. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_LRN_FORWARD, K_LRN_BACKWARD, K_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_LRN_FORWARD] = "lrn_forward",
    [K_LRN_BACKWARD] = "lrn_backward",
};

const ocl_family ocl_family_lrn = {OCL_FAMILY_lrn, "lrn.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_lrn)

/* The arguments both kernels take after their buffers. */
#define LRN_SETTINGS(g) OCL_U32((g)->c), OCL_U32((g)->size), OCL_F32((g)->alpha), OCL_F32((g)->beta), OCL_F32((g)->k)

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

int ocl_lrn_backward(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "lrn_backward", elements(g));
    return st ? st
              : OCL_LAUNCH(b, F, K_LRN_BACKWARD, elements(g), 0, OCL_MEM(dy->mem), OCL_MEM(x->mem),
                           OCL_MEM(dx->mem), OCL_U32(elements(g)), LRN_SETTINGS(g));
}
