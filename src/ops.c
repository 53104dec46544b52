/* The four public operations: argument checks, shapes, then the backend. */
#include <string.h>

#include "geometry.h"
#include "internal.h"

int clcnn_activation_from_name(const char *name)
{
    static const char *const names[] = {"identity", "relu", "sigmoid", "tanh", "softmax"};
    if (!name)
        return -1;
    if (strcmp(name, "linear") == 0)
        return CLCNN_ACT_IDENTITY;
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int clcnn_padding_from_name(const char *name)
{
    if (name && strcmp(name, "same") == 0)
        return CLCNN_PAD_SAME;
    if (name && strcmp(name, "valid") == 0)
        return CLCNN_PAD_VALID;
    return -1;
}

int clcnn_pool_mode_from_name(const char *name)
{
    if (name && strcmp(name, "max") == 0)
        return CLCNN_POOL_MAX;
    if (name && (strcmp(name, "avg") == 0 || strcmp(name, "average") == 0))
        return CLCNN_POOL_AVG;
    return -1;
}

/* Frees an output the operation created when it then failed. */
static int discard_on_failure(int st, int created, clcnn_tensor **out)
{
    if (st && created) {
        clcnn_tensor_free(*out);
        *out = NULL;
    }
    return st;
}

/* A usable context, and t present, of that context and rank 4. */
static int check_input(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t)
{
    if (!t)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s is NULL", who, name);
    if (t->ctx != ctx)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s belongs to another context", who, name);
    if (t->rank != 4)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: %s must have rank 4 (NHWC), not %d", who, name, t->rank);
    return CLCNN_OK;
}

static int check_activation(clcnn_ctx *ctx, const char *who, clcnn_activation act)
{
    if ((int)act < CLCNN_ACT_IDENTITY || (int)act > CLCNN_ACT_SOFTMAX)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown activation %d", who, (int)act);
    return CLCNN_OK;
}

/* Weights (kh,kw,c_prev,c_new) against A_prev, bias (1,1,1,c_new) or (c_new). */
static int check_conv_params(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                             const clcnn_tensor *b)
{
    int st = check_input(ctx, who, "W", W);
    if (st)
        return st;
    if (W->shape[2] != A_prev->shape[3])
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: W has %zu input channels but A_prev has %zu channels", who,
                           W->shape[2], A_prev->shape[3]);
    if (!b)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: b is NULL", who);
    if (b->ctx != ctx)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: b belongs to another context", who);
    if (b->count != W->shape[3] || b->shape[b->rank - 1] != W->shape[3])
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: b must have shape (1, 1, 1, %zu)", who, W->shape[3]);
    return CLCNN_OK;
}

static int same_shape(const clcnn_tensor *t, const size_t *shape)
{
    for (int i = 0; i < 4; i++)
        if (t->shape[i] != shape[i])
            return 0;
    return t->rank == 4;
}

int clcnn_conv_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W, const clcnn_tensor *b,
                       clcnn_activation activation, clcnn_padding padding, int stride_h, int stride_w,
                       clcnn_tensor **A_out)
{
    static const char who[] = "conv_forward";
    int st, created = 0;
    conv_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = check_input(ctx, who, "A_prev", A_prev)) ||
        (st = check_conv_params(ctx, who, A_prev, W, b)) || (st = check_activation(ctx, who, activation)))
        return st;
    const size_t *s = A_prev->shape;
    st = clcnn_conv_geometry(ctx, who, s[0], s[1], s[2], s[3], W->shape[0], W->shape[1], W->shape[3], stride_h,
                             stride_w, padding, &g);
    if (st)
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.k};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 4, out_shape, who, &created)))
        return st;
    st = ctx->ops->conv_forward(ctx->bctx, &g, A_prev->buf, W->buf, b->buf, activation, (*A_out)->buf);
    return discard_on_failure(st, created, A_out);
}

int clcnn_conv_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                        const clcnn_tensor *b, clcnn_padding padding, int stride_h, int stride_w,
                        clcnn_tensor **dA_prev, clcnn_tensor **dW, clcnn_tensor **db)
{
    static const char who[] = "conv_backward";
    int st;
    conv_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = check_input(ctx, who, "A_prev", A_prev)) ||
        (st = check_input(ctx, who, "dZ", dZ)) || (st = check_conv_params(ctx, who, A_prev, W, b)))
        return st;
    const size_t *s = A_prev->shape;
    st = clcnn_conv_geometry(ctx, who, s[0], s[1], s[2], s[3], W->shape[0], W->shape[1], W->shape[3], stride_h,
                             stride_w, padding, &g);
    if (st)
        return st;
    size_t z_shape[4] = {g.n, g.oh, g.ow, g.k};
    if (!same_shape(dZ, z_shape))
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dZ must have shape (%zu, %zu, %zu, %zu), the output's", who,
                           g.n, g.oh, g.ow, g.k);

    clcnn_tensor **outs[3] = {dA_prev, dW, db};
    const clcnn_tensor *likes[3] = {A_prev, W, b};
    int created[3] = {0, 0, 0};
    for (int i = 0; i < 3 && st == CLCNN_OK; i++)
        if (outs[i])
            st = clcnn_tensor_prepare(ctx, outs[i], likes[i]->rank, likes[i]->shape, who, &created[i]);
    if (st == CLCNN_OK)
        st = ctx->ops->conv_backward(ctx->bctx, &g, dZ->buf, A_prev->buf, W->buf, dA_prev ? (*dA_prev)->buf : NULL,
                                     dW ? (*dW)->buf : NULL, db ? (*db)->buf : NULL);
    for (int i = 0; i < 3; i++)
        discard_on_failure(st, created[i], outs[i]);
    return st;
}

int clcnn_pool_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int kernel_h, int kernel_w, int stride_h,
                       int stride_w, clcnn_pool_mode mode, clcnn_tensor **A_out)
{
    static const char who[] = "pool_forward";
    int st, created = 0;
    pool_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = check_input(ctx, who, "A_prev", A_prev)))
        return st;
    const size_t *s = A_prev->shape;
    st = clcnn_pool_geometry(ctx, who, s[0], s[1], s[2], s[3], kernel_h, kernel_w, stride_h, stride_w, mode, &g);
    if (st)
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.c};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 4, out_shape, who, &created)))
        return st;
    st = ctx->ops->pool_forward(ctx->bctx, &g, A_prev->buf, (*A_out)->buf);
    return discard_on_failure(st, created, A_out);
}

int clcnn_pool_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev, int kernel_h,
                        int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode, clcnn_tensor **dA_prev)
{
    static const char who[] = "pool_backward";
    int st, created = 0;
    pool_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = check_input(ctx, who, "A_prev", A_prev)) ||
        (st = check_input(ctx, who, "dA", dA)))
        return st;
    const size_t *s = A_prev->shape;
    st = clcnn_pool_geometry(ctx, who, s[0], s[1], s[2], s[3], kernel_h, kernel_w, stride_h, stride_w, mode, &g);
    if (st)
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.c};
    if (!same_shape(dA, out_shape))
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dA must have shape (%zu, %zu, %zu, %zu), the output's", who,
                           g.n, g.oh, g.ow, g.c);
    if ((st = clcnn_tensor_prepare(ctx, dA_prev, 4, A_prev->shape, who, &created)))
        return st;
    st = ctx->ops->pool_backward(ctx->bctx, &g, dA->buf, A_prev->buf, NULL, (*dA_prev)->buf);
    return discard_on_failure(st, created, dA_prev);
}
