/* Element-wise ops on OpenCL (cl/elementwise.cl): fill, activations
 * forward and backward (softmax row-wise), Adam, SGD, dropout.  One
 * program for all of them: on PoCL each program adds about 0.45 s to
 * every start without a kernel cache. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_FILL, K_ACT_FORWARD, K_SOFTMAX_FORWARD, K_ACT_BACKWARD, K_SOFTMAX_BACKWARD, K_ADAM, K_SGD, K_DROPOUT_FORWARD,
       K_DROPOUT_BACKWARD, K_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_FILL] = "fill",
    [K_ACT_FORWARD] = "act_forward",
    [K_SOFTMAX_FORWARD] = "softmax_forward",
    [K_ACT_BACKWARD] = "act_backward",
    [K_SOFTMAX_BACKWARD] = "softmax_backward",
    [K_ADAM] = "adam_update",
    [K_SGD] = "sgd_update",
    [K_DROPOUT_FORWARD] = "dropout_forward",
    [K_DROPOUT_BACKWARD] = "dropout_backward",
};

const ocl_family ocl_family_elementwise = {OCL_FAMILY_elementwise, "elementwise.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_elementwise)

int ocl_fill(void *bctx, clcnn_buf *dst, size_t count, float value)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "fill", count);
    return st ? st : OCL_LAUNCH(b, F, K_FILL, count, 0, OCL_MEM(dst->mem), OCL_U32(count), OCL_F32(value));
}

int ocl_softmax_rows(ocl_backend *b, cl_mem x, cl_mem y, size_t rows, size_t cols)
{
    return OCL_LAUNCH(b, F, K_SOFTMAX_FORWARD, rows, 0, OCL_MEM(x), OCL_MEM(y), OCL_U32(rows), OCL_U32(cols));
}

int ocl_activation_forward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *x,
                           clcnn_buf *y)
{
    ocl_backend *b = bctx;
    const size_t n = rows * cols;
    int st = ocl_check_u32(b, "activation_forward", n);
    if (st)
        return st;
    if (act == CLCNN_ACT_SOFTMAX)
        return ocl_softmax_rows(b, x->mem, y->mem, rows, cols);
    if (act == CLCNN_ACT_IDENTITY && x->mem == y->mem)
        return CLCNN_OK;
    return OCL_LAUNCH(b, F, K_ACT_FORWARD, n, 0, OCL_MEM(x->mem), OCL_MEM(y->mem), OCL_U32(n), OCL_I32(act));
}

int ocl_activation_backward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *y,
                            const clcnn_buf *dy, clcnn_buf *dz)
{
    ocl_backend *b = bctx;
    const size_t n = rows * cols;
    int st = ocl_check_u32(b, "activation_backward", n);
    if (st)
        return st;
    if (act == CLCNN_ACT_SOFTMAX)
        return OCL_LAUNCH(b, F, K_SOFTMAX_BACKWARD, rows, 0, OCL_MEM(y->mem), OCL_MEM(dy->mem), OCL_MEM(dz->mem),
                          OCL_U32(rows), OCL_U32(cols));
    if (act == CLCNN_ACT_IDENTITY && dy->mem == dz->mem)
        return CLCNN_OK;
    return OCL_LAUNCH(b, F, K_ACT_BACKWARD, n, 0, OCL_MEM(y->mem), OCL_MEM(dy->mem), OCL_MEM(dz->mem), OCL_U32(n),
                      OCL_I32(act));
}

int ocl_times_derivative(ocl_backend *b, clcnn_activation act, size_t count, cl_mem x, cl_mem dx)
{
    if (act == CLCNN_ACT_IDENTITY)
        return CLCNN_OK;
    return OCL_LAUNCH(b, F, K_ACT_BACKWARD, count, 0, OCL_MEM(x), OCL_MEM(dx), OCL_MEM(dx), OCL_U32(count),
                      OCL_I32(act));
}

int ocl_adam_update(void *bctx, size_t count, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *m, clcnn_buf *v,
                    float lr_t, float b1, float b2, float eps)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "adam_update", count);
    return st ? st
              : OCL_LAUNCH(b, F, K_ADAM, count, 0, OCL_MEM(w->mem), OCL_MEM(g->mem), OCL_MEM(m->mem),
                           OCL_MEM(v->mem), OCL_U32(count), OCL_F32(lr_t), OCL_F32(b1), OCL_F32(b2), OCL_F32(eps));
}

int ocl_sgd_update(void *bctx, size_t count, size_t decayed, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *v,
                   float lr, float momentum, float wd, int nesterov)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "sgd_update", count);
    return st ? st
              : OCL_LAUNCH(b, F, K_SGD, count, 0, OCL_MEM(w->mem), OCL_MEM(g->mem), OCL_MEM(v->mem), OCL_U32(count),
                           OCL_U32(decayed), OCL_F32(lr), OCL_F32(momentum), OCL_F32(wd), OCL_U32(nesterov));
}

/* The draw's arguments, after both dropout kernels' buffers. */
#define DRAW(g)                                                                                                    \
    OCL_U32((g)->count), OCL_U32((g)->first), OCL_U32((g)->key_lo), OCL_U32((g)->key_hi),                         \
        OCL_U32((g)->threshold), OCL_F32((g)->scale)

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
