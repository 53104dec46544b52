/* Private structures shared by the engine's source files. */
#ifndef CLCNN_INTERNAL_H
#define CLCNN_INTERNAL_H

#include <stddef.h>

#include "alloc.h"
#include "backend.h"
#include "clcnn.h"
#include "config.h"

#define CLCNN_ERRMSG_LEN 8192

struct clcnn_ctx {
    const clcnn_backend_ops *ops; /* NULL in a context that holds only an error */
    void *bctx;
    clcnn_allocator allocator; /* all NULL: malloc/free; this struct is its block */
    clcnn_log_fn log;
    void *log_user;
    clcnn_config config; /* the settings, resolved at creation (config.h) */
    char device_name[256];
    char errmsg[CLCNN_ERRMSG_LEN];
};

struct clcnn_tensor {
    clcnn_ctx *ctx;
    int rank;
    size_t shape[CLCNN_MAX_RANK];
    size_t count;
    clcnn_buf *buf;
};

/*
 * The public functions of clcnn_opencl.h, declared with the Khronos
 * headers' spelling of the handle types (cl_mem is `struct _cl_mem *`) so
 * that they are defined and exported (CLCNN_API) in every build, including
 * one without OpenCL headers; where those exist, ctx.c and tensor.c also
 * include clcnn_opencl.h, which checks that both declarations agree.
 */
CLCNN_API int clcnn_ctx_create_opencl(clcnn_ctx **out, struct _cl_context *context, struct _cl_device_id *device,
                                      struct _cl_command_queue *queue, clcnn_log_fn log, void *log_user);
CLCNN_API int clcnn_tensor_from_cl_mem(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape,
                                       struct _cl_mem *buffer);
CLCNN_API struct _cl_mem *clcnn_tensor_cl_mem(const clcnn_tensor *t);

/* The host allocator of ctx (NULL, i.e. malloc/free, for ctx NULL). */
static inline const clcnn_allocator *clcnn_ctx_allocator(const clcnn_ctx *ctx)
{
    return ctx ? &ctx->allocator : NULL;
}

/* Releases *buf (a backend buffer of ctx, or NULL) and sets it NULL. */
static inline void clcnn_buf_release(clcnn_ctx *ctx, clcnn_buf **buf)
{
    if (*buf)
        ctx->ops->release(ctx->bctx, *buf);
    *buf = NULL;
}

/* Formats the message of ctx (if ctx is not NULL) and returns status, so
 * that `return clcnn_error(ctx, CLCNN_ERR_SHAPE, "...", ...);` reads well. */
int clcnn_error(clcnn_ctx *ctx, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* CLCNN_OK for a usable context; otherwise an error naming who (the
 * failed-creation context of clcnn_ctx_create has no device). */
int clcnn_check_ctx(clcnn_ctx *ctx, const char *who);

/* Sends a notice through the context's log hook. */
void clcnn_notice(clcnn_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* a * b, or 0 with *overflow set when it does not fit in size_t. */
size_t clcnn_mul_size(size_t a, size_t b, int *overflow);

/* Creates a tensor, or checks that *out (when not NULL) has exactly this
 * shape; what the public ops use for their outputs.  *created tells the
 * caller whether to free it on a later failure. */
int clcnn_tensor_prepare(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape, const char *what,
                         int *created);

#endif
