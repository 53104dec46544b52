#include "ops/args.h"

int clcnn_check_input(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t)
{
    if (!t)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s is NULL", who, name);
    if (t->ctx != ctx)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s belongs to another context", who, name);
    if (t->rank != 4)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: %s must have rank 4 (NHWC), not %d", who, name, t->rank);
    return CLCNN_OK;
}

int clcnn_same_shape(const clcnn_tensor *t, const size_t *shape)
{
    for (int i = 0; i < 4; i++)
        if (t->shape[i] != shape[i])
            return 0;
    return t->rank == 4;
}

int clcnn_discard_on_failure(int st, int created, clcnn_tensor **out)
{
    if (st && created) {
        clcnn_tensor_free(*out);
        *out = NULL;
    }
    return st;
}
