/* Inverted dropout on OpenCL (cl/dropout.cl), forward and backward. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_DROPOUT_FORWARD, K_DROPOUT_BACKWARD, K_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_DROPOUT_FORWARD] = "dropout_forward",
    [K_DROPOUT_BACKWARD] = "dropout_backward",
};

const ocl_family ocl_family_dropout = {OCL_FAMILY_dropout, "dropout.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_dropout)

/* The arguments both kernels take after their buffers. */
#define DRAW(g)                                                                                                        \
    OCL_U32((g)->count), OCL_U32((g)->first), OCL_U32((g)->key_lo), OCL_U32((g)->key_hi), OCL_U32((g)->threshold),     \
        OCL_F32((g)->scale)

int ocl_dropout_forward(void *bctx, const dropout_geom *g, const clcnn_buf *x, clcnn_buf *y, clcnn_buf *mask)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "dropout_forward", g->first + g->count);
    /* Without a mask, y stands in for it: the kernel does not write it. */
    return st ? st
              : OCL_LAUNCH(b, F, K_DROPOUT_FORWARD, g->count, 0, OCL_MEM(x->mem), OCL_MEM(y->mem),
                           OCL_MEM(mask ? mask->mem : y->mem), OCL_U32(mask != NULL), DRAW(g));
}

int ocl_dropout_backward(void *bctx, const dropout_geom *g, const clcnn_buf *dy, clcnn_buf *dx)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "dropout_backward", g->first + g->count);
    return st ? st : OCL_LAUNCH(b, F, K_DROPOUT_BACKWARD, g->count, 0, OCL_MEM(dy->mem), OCL_MEM(dx->mem), DRAW(g));
}
