#include "ops/args.h"

int clcnn_check_tensor(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t, int rank)
{
    if (!t)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s is NULL", who, name);
    if (t->ctx != ctx)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s belongs to another context", who, name);
    if (rank > 0 && t->rank != rank)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: %s must have rank %d%s, not %d", who, name, rank,
                           rank == 4 ? " (NHWC)" : "", t->rank);
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

int clcnn_prepare_like(clcnn_ctx *ctx, const char *who, int n, clcnn_tensor **const *outs,
                       const clcnn_tensor *const *likes, int *created)
{
    int st = CLCNN_OK;
    for (int i = 0; i < n; i++)
        created[i] = 0;
    for (int i = 0; i < n && st == CLCNN_OK; i++)
        if (outs[i])
            st = clcnn_tensor_prepare(ctx, outs[i], likes[i]->rank, likes[i]->shape, who, &created[i]);
    return st;
}

int clcnn_discard_all_on_failure(int st, int n, clcnn_tensor **const *outs, const int *created)
{
    for (int i = 0; i < n; i++)
        clcnn_discard_on_failure(st, created[i], outs[i]);
    return st;
}
