#include "op_args.h"

int clcnn_op_check_tensor(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t, int rank)
{
    if (!t)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s is NULL", who, name);
    if (t->ctx != ctx)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s belongs to another context", who, name);
    if (rank > 0 && t->rank != rank)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: %s must have rank %d, not %d", who, name, rank, t->rank);
    return CLCNN_OK;
}

int clcnn_op_check_activation(clcnn_ctx *ctx, const char *who, clcnn_activation act)
{
    if ((int)act < CLCNN_ACT_IDENTITY || (int)act > CLCNN_ACT_SOFTMAX)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown activation %d", who, (int)act);
    return CLCNN_OK;
}

int clcnn_op_discard_on_failure(int st, int created, clcnn_tensor **out)
{
    if (st && created) {
        clcnn_tensor_free(*out);
        *out = NULL;
    }
    return st;
}

int clcnn_op_prepare_like(clcnn_ctx *ctx, const char *who, int n, clcnn_tensor **const *outs,
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

int clcnn_op_discard_all_on_failure(int st, int n, clcnn_tensor **const *outs, const int *created)
{
    for (int i = 0; i < n; i++)
        clcnn_op_discard_on_failure(st, created[i], outs[i]);
    return st;
}
