/* Tensors: a shape plus a backend buffer. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#ifdef CLCNN_HAVE_OPENCL
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include "clcnn_opencl.h" /* checks the definitions below against the header */
#endif

/* A tensor struct for rank and shape, without a buffer, after checking them. */
static int tensor_new(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape, const char *fn)
{
    int st = clcnn_check_ctx(ctx, fn);
    if (st)
        return st;
    if (!out || !shape)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: NULL %s", fn, out ? "shape" : "out");
    *out = NULL;
    if (rank < 1 || rank > CLCNN_MAX_RANK)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: rank %d is not in 1..%d", fn, rank, CLCNN_MAX_RANK);
    int overflow = 0;
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] == 0)
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: dimension %d is 0", fn, i);
        count = clcnn_mul_size(count, shape[i], &overflow);
    }
    clcnn_mul_size(count, sizeof(float), &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the shape's size overflows", fn);

    clcnn_tensor *t = clcnn_mem_calloc(&ctx->allocator, 1, sizeof *t);
    if (!t)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of host memory", fn);
    t->ctx = ctx;
    t->rank = rank;
    memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
    t->count = count;
    *out = t;
    return CLCNN_OK;
}

int clcnn_tensor_create(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape)
{
    int st = tensor_new(ctx, out, rank, shape, "clcnn_tensor_create");
    if (st)
        return st;
    clcnn_tensor *t = *out;
    st = ctx->ops->alloc(ctx->bctx, t->count * sizeof(float), &t->buf);
    if (st) {
        clcnn_mem_free(&ctx->allocator, t, sizeof *t);
        *out = NULL;
    }
    return st;
}

/* cl_mem is `struct _cl_mem *` in the Khronos headers; spelled so that this
 * file builds without them (see clcnn_ctx_create_opencl in ctx.c). */
int clcnn_tensor_from_cl_mem(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape,
                             struct _cl_mem *buffer)
{
    const char *fn = "clcnn_tensor_from_cl_mem";
    int st = clcnn_check_ctx(ctx, fn);
    if (st)
        return st;
    if (out)
        *out = NULL;
    if (!buffer)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: NULL buffer", fn);
    if (!ctx->ops->wrap_native)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the context is on the %s backend, not OpenCL", fn,
                           ctx->ops->name);
    st = tensor_new(ctx, out, rank, shape, fn);
    if (st)
        return st;
    clcnn_tensor *t = *out;
    /* The backend takes its own reference; release() in clcnn_tensor_free
     * drops exactly that one, as for a buffer clcnn allocated. */
    st = ctx->ops->wrap_native(ctx->bctx, buffer, t->count * sizeof(float), &t->buf);
    if (st) {
        clcnn_mem_free(&ctx->allocator, t, sizeof *t);
        *out = NULL;
    }
    return st;
}

struct _cl_mem *clcnn_tensor_cl_mem(const clcnn_tensor *t)
{
    if (!t || !t->ctx->ops->native_handle)
        return NULL;
    return t->ctx->ops->native_handle(t->ctx->bctx, t->buf);
}

void clcnn_tensor_free(clcnn_tensor *t)
{
    if (!t)
        return;
    t->ctx->ops->release(t->ctx->bctx, t->buf);
    clcnn_mem_free(&t->ctx->allocator, t, sizeof *t);
}

static int check_io(const clcnn_tensor *t, const void *host, size_t count, const char *fn)
{
    if (!t)
        return CLCNN_ERR_ARGUMENT;
    if (!host)
        return clcnn_error(t->ctx, CLCNN_ERR_ARGUMENT, "%s: NULL host pointer", fn);
    if (count != t->count)
        return clcnn_error(t->ctx, CLCNN_ERR_ARGUMENT, "%s: count %zu does not match the tensor's %zu elements", fn,
                           count, t->count);
    return CLCNN_OK;
}

int clcnn_tensor_write(clcnn_tensor *t, const float *src, size_t count)
{
    int st = check_io(t, src, count, "clcnn_tensor_write");
    if (st)
        return st;
    return t->ctx->ops->write(t->ctx->bctx, t->buf, 0, src, count * sizeof(float));
}

int clcnn_tensor_read(const clcnn_tensor *t, float *dst, size_t count)
{
    int st = check_io(t, dst, count, "clcnn_tensor_read");
    if (st)
        return st;
    return t->ctx->ops->read(t->ctx->bctx, t->buf, 0, dst, count * sizeof(float));
}

int clcnn_tensor_rank(const clcnn_tensor *t)
{
    return t ? t->rank : 0;
}

void clcnn_tensor_shape(const clcnn_tensor *t, size_t *shape)
{
    if (!t || !shape)
        return;
    memcpy(shape, t->shape, (size_t)t->rank * sizeof *shape);
}

size_t clcnn_tensor_count(const clcnn_tensor *t)
{
    return t ? t->count : 0;
}

int clcnn_tensor_prepare(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape, const char *what,
                         int *created)
{
    *created = 0;
    if (!out)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: NULL output pointer", what);
    clcnn_tensor *t = *out;
    if (!t) {
        int st = clcnn_tensor_create(ctx, out, rank, shape);
        *created = (st == CLCNN_OK);
        return st;
    }
    if (t->ctx != ctx)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the output tensor belongs to another context", what);
    int same = t->rank == rank;
    for (int i = 0; same && i < rank; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char want[96];
        int n = 0;
        for (int i = 0; i < rank; i++)
            n += snprintf(want + n, sizeof want - (size_t)n, "%s%zu", i ? ", " : "", shape[i]);
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: the output tensor must have shape (%s)", what, want);
    }
    return CLCNN_OK;
}
