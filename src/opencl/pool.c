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

static int check_pool(ocl_backend *b, const char *op, const pool_geom *g)
{
    int st = ocl_check_u32(b, op, g->n * g->h * g->w * g->c);
    return st ? st : ocl_check_u32(b, op, g->n * g->oh * g->ow * g->c);
}

static int pool_forward(ocl_backend *b, const pool_geom *g, cl_mem x, cl_mem y)
{
    if (g->padded)
        return OCL_LAUNCH(b, F, K_POOL_PADDED_FORWARD, g->n * g->oh * g->ow * g->c, 0, OCL_MEM(x), OCL_MEM(y),
                          POOL_GEOMETRY(g), POOL_PADS(g));
    return OCL_LAUNCH(b, F, K_POOL_FORWARD, g->n * g->oh * g->ow, 0, OCL_MEM(x), OCL_MEM(y), POOL_GEOMETRY(g));
}

int ocl_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = check_pool(b, "pool_forward", g);
    return st ? st : pool_forward(b, g, x->mem, y->mem);
}

/* Max windows read their maxima from y, which the caller keeps in
 * training; without it a forward pass first writes them into the scratch
 * (cheaper than each input cell recomputing every window that covers it).
 * The padded kernel recomputes them; windows that tile the input exactly
 * (kernel = stride) take one item per output, scattering into its own
 * window. */
int ocl_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x, const clcnn_buf *y,
                      clcnn_activation x_act, clcnn_buf *dx)
{
    ocl_backend *b = bctx;
    int st = check_pool(b, "pool_backward", g);
    if (st)
        return st;
    if (g->padded)
        return OCL_LAUNCH(b, F, K_POOL_PADDED_BACKWARD, g->n * g->h * g->w * g->c, 0, OCL_MEM(dy->mem),
                          OCL_MEM(x->mem), OCL_MEM(dx->mem), POOL_GEOMETRY(g), POOL_PADS(g), OCL_I32(x_act));
    if (g->kh == g->sh && g->kw == g->sw && g->oh * g->sh == g->h && g->ow * g->sw == g->w)
        return OCL_LAUNCH(b, F, K_POOL_BACKWARD_TILED, g->n * g->oh * g->ow * g->c, 0, OCL_MEM(dy->mem),
                          OCL_MEM(x->mem), OCL_MEM(dx->mem), POOL_GEOMETRY(g), OCL_I32(x_act));
    cl_mem maxima = y ? y->mem : x->mem; /* avg: unused */
    if (!y && g->mode == CLCNN_POOL_MAX) {
        st = ocl_ensure_scratch(b, OCL_SCRATCH_TEMP, g->n * g->oh * g->ow * g->c * sizeof(float));
        if (!st)
            st = pool_forward(b, g, x->mem, b->scratch[OCL_SCRATCH_TEMP]);
        if (st)
            return st;
        maxima = b->scratch[OCL_SCRATCH_TEMP];
    }
    return OCL_LAUNCH(b, F, K_POOL_BACKWARD, g->n * g->h * g->w, 0, OCL_MEM(dy->mem), OCL_MEM(x->mem),
                      OCL_MEM(maxima), OCL_MEM(dx->mem), POOL_GEOMETRY(g), OCL_I32(x_act));
}
