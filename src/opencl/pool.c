/* Max and average pooling on OpenCL (cl/pool.cl), forward and backward. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_POOL_FORWARD, K_POOL_BACKWARD, K_POOL_BACKWARD_TILED, K_POOL_PADDED_FORWARD, K_POOL_PADDED_BACKWARD, K_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_POOL_FORWARD] = "pool_forward",
    [K_POOL_BACKWARD] = "pool_backward",
    [K_POOL_BACKWARD_TILED] = "pool_backward_tiled",
    [K_POOL_PADDED_FORWARD] = "pool_padded_forward",
    [K_POOL_PADDED_BACKWARD] = "pool_padded_backward",
};

const ocl_family ocl_family_pool = {OCL_FAMILY_pool, "pool.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_pool)

/* The arguments every pool kernel takes after its buffers: n .. ow, mode. */
#define POOL_GEOMETRY(g)                                                                                             \
    OCL_U32((g)->n), OCL_U32((g)->h), OCL_U32((g)->w), OCL_U32((g)->c), OCL_U32((g)->kh), OCL_U32((g)->kw),          \
        OCL_U32((g)->sh), OCL_U32((g)->sw), OCL_U32((g)->oh), OCL_U32((g)->ow), OCL_I32((g)->mode)

/* Windows beyond the input (g->padded): the padded kernels' extra arguments. */
#define POOL_PADS(g)                                                                                                 \
    OCL_U32((g)->pad_top), OCL_U32((g)->pad_bottom), OCL_U32((g)->pad_left), OCL_U32((g)->pad_right),               \
        OCL_I32((g)->include_pad)

int ocl_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "pool_forward", g->n * g->h * g->w * g->c);
    if (!st)
        st = ocl_check_u32(b, "pool_forward", g->n * g->oh * g->ow * g->c);
    if (!st && g->padded)
        return OCL_LAUNCH(b, F, K_POOL_PADDED_FORWARD, g->n * g->oh * g->ow * g->c, 0, OCL_MEM(x->mem),
                          OCL_MEM(y->mem), POOL_GEOMETRY(g), POOL_PADS(g));
    return st ? st
              : OCL_LAUNCH(b, F, K_POOL_FORWARD, g->n * g->oh * g->ow * g->c, 0, OCL_MEM(x->mem), OCL_MEM(y->mem),
                           POOL_GEOMETRY(g));
}

/* y is not used: each work item recomputes its window maxima from x, which
 * it reads anyway.  Windows that tile the input exactly (kernel = stride)
 * take one item per output, scattering into its own window. */
int ocl_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x, const clcnn_buf *y,
                      clcnn_activation x_act, clcnn_buf *dx)
{
    (void)y;
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "pool_backward", g->n * g->h * g->w * g->c);
    if (!st)
        st = ocl_check_u32(b, "pool_backward", g->n * g->oh * g->ow * g->c);
    if (st)
        return st;
    if (g->padded)
        return OCL_LAUNCH(b, F, K_POOL_PADDED_BACKWARD, g->n * g->h * g->w * g->c, 0, OCL_MEM(dy->mem),
                          OCL_MEM(x->mem), OCL_MEM(dx->mem), POOL_GEOMETRY(g), POOL_PADS(g), OCL_I32(x_act));
    const int tiled = g->kh == g->sh && g->kw == g->sw && g->oh * g->sh == g->h && g->ow * g->sw == g->w;
    return OCL_LAUNCH(b, F, tiled ? K_POOL_BACKWARD_TILED : K_POOL_BACKWARD,
                      tiled ? g->n * g->oh * g->ow * g->c : g->n * g->h * g->w * g->c, 0, OCL_MEM(dy->mem),
                      OCL_MEM(x->mem), OCL_MEM(dx->mem), POOL_GEOMETRY(g), OCL_I32(x_act));
}
