/* The dense (fully connected) family: the public operations and the
 * dense layer. */
#include <stdio.h>

#include "ops/args.h"
#include "ops/family.h"

/* ------------------------------------------------------ public operations */

typedef struct dense_dims {
    size_t m, in, out;
} dense_dims;

/* A_prev (m, in) or (m, h, w, c) read as (m, h*w*c), W (in, out), b (out)
 * or (1, out). */
static int check_dense(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                       const clcnn_tensor *b, dense_dims *d)
{
    int st;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 0)) ||
        (st = clcnn_check_tensor(ctx, who, "W", W, 2)) || (st = clcnn_check_tensor(ctx, who, "b", b, 0)))
        return st;
    if (A_prev->rank != 2 && A_prev->rank != 4)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: A_prev must have rank 2 (m, in) or 4 (m, h, w, c), not %d", who,
                           A_prev->rank);
    d->m = A_prev->shape[0];
    d->in = A_prev->count / d->m;
    d->out = W->shape[1];
    if (W->shape[0] != d->in)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: W has %zu input rows but A_prev has %zu features per example",
                           who, W->shape[0], d->in);
    if (b->rank > 2 || b->count != d->out || b->shape[b->rank - 1] != d->out)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: b must have shape (%zu) or (1, %zu)", who, d->out, d->out);
    return CLCNN_OK;
}

int clcnn_dense_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W, const clcnn_tensor *b,
                        clcnn_activation activation, clcnn_tensor **A_out)
{
    static const char who[] = "dense_forward";
    dense_dims d = {0, 0, 0};
    int st, created = 0;
    if ((st = check_dense(ctx, who, A_prev, W, b, &d)) || (st = clcnn_check_activation(ctx, who, activation)))
        return st;
    size_t out_shape[2] = {d.m, d.out};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 2, out_shape, who, &created)))
        return st;
    st = ctx->ops->dense_forward(ctx->bctx, d.m, d.in, d.out, A_prev->buf, W->buf, b->buf, activation,
                                 (*A_out)->buf);
    return clcnn_discard_on_failure(st, created, A_out);
}

int clcnn_dense_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                         const clcnn_tensor *b, clcnn_tensor **dA_prev, clcnn_tensor **dW, clcnn_tensor **db)
{
    static const char who[] = "dense_backward";
    dense_dims d = {0, 0, 0};
    int st;
    if ((st = check_dense(ctx, who, A_prev, W, b, &d)) || (st = clcnn_check_tensor(ctx, who, "dZ", dZ, 2)))
        return st;
    if (dZ->shape[0] != d.m || dZ->shape[1] != d.out)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dZ must have shape (%zu, %zu), the output's", who, d.m, d.out);

    /* The backend always writes dW and db: scratch tensors stand in for
     * the ones the caller does not want. */
    clcnn_tensor *scratch[2] = {NULL, NULL};
    clcnn_tensor **outs[3] = {dA_prev, dW ? dW : &scratch[0], db ? db : &scratch[1]};
    const clcnn_tensor *likes[3] = {A_prev, W, b};
    int created[3];
    st = clcnn_prepare_like(ctx, who, 3, outs, likes, created);
    if (st == CLCNN_OK)
        st = ctx->ops->dense_backward(ctx->bctx, d.m, d.in, d.out, dZ->buf, A_prev->buf, W->buf, CLCNN_ACT_IDENTITY,
                                      dA_prev ? (*dA_prev)->buf : NULL, (*outs[1])->buf, (*outs[2])->buf);
    clcnn_discard_all_on_failure(st, 3, outs, created);
    clcnn_tensor_free(scratch[0]);
    clcnn_tensor_free(scratch[1]);
    return st;
}

/* ------------------------------------------------------------- the layer */

static int dense_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    const size_t *in = l->in_shape;
    size_t units = l->cfg.units;
    if (units == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the number of units must be positive", who);
    int st = clcnn_check_activation(ctx, who, l->cfg.act);
    if (st)
        return st;
    if (in[0] != 1 || in[1] != 1)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: its input is %zux%zux%zu, not flat; add a flatten layer before it",
                           who, in[0], in[1], in[2]);
    int overflow = 0;
    clcnn_mul_size(clcnn_mul_size(in[2], units, &overflow), sizeof(float), &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: %zu x %zu weights overflow", who, in[2], units);
    l->out_shape[0] = 1, l->out_shape[1] = 1, l->out_shape[2] = units;
    l->nparams = 2;
    l->params[0].count = in[2] * units;
    l->params[0].fan_in = in[2];
    l->params[1].count = units;
    return CLCNN_OK;
}

static int dense_layer_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    return ctx->ops->dense_forward(ctx->bctx, n, l->in_shape[2], l->cfg.units, x, l->params[0].value,
                                   l->params[1].value, act, l->out);
}

static int dense_layer_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                                size_t n)
{
    return ctx->ops->dense_backward(ctx->bctx, n, l->in_shape[2], l->cfg.units, dz, x, l->params[0].value,
                                    l->dx_act, dx, l->params[0].grad, l->params[1].grad);
}

static void dense_describe(const layer_config *c, char *buf, size_t len)
{
    snprintf(buf, len, "dense %zu %s", c->units, clcnn_activation_name(c->act));
}

static const char *dense_type(const layer_config *c)
{
    (void)c;
    return "Dense";
}

static const layer_field dense_fields[] = {
    LAYER_FIELD("units", LAYER_FIELD_U32, units, units, 1, LAYER_MAX_UNITS),
    LAYER_FIELD_ACTIVATION,
};

const layer_family clcnn_dense_family = {
    .name = "dense",
    LAYER_FIELDS(dense_fields),
    .flags = FAMILY_APPLIES_ACTIVATION | FAMILY_FUSES_DX_ACT,
    .infer = dense_infer,
    .forward = dense_layer_forward,
    .backward = dense_layer_backward,
    .describe = dense_describe,
    .type = dense_type,
};

int clcnn_model_add_dense(clcnn_model *m, size_t units, clcnn_activation activation)
{
    layer_config c = {.kind = CLCNN_LAYER_DENSE, .units = units, .act = activation};
    return clcnn_model_append(m, &c);
}
