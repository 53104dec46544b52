/* Private structures shared by the engine's source files. */
#ifndef CLCNN_INTERNAL_H
#define CLCNN_INTERNAL_H

#include <stddef.h>

#include "backend.h"
#include "clcnn.h"

#define CLCNN_ERRMSG_LEN 8192

struct clcnn_ctx {
    const clcnn_backend_ops *ops; /* NULL in a context that holds only an error */
    void *bctx;
    clcnn_log_fn log;
    void *log_user;
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
