/* The dense (fully connected) family: the dense layer. */
#include <stdio.h>

#include "ops/family.h"

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
    return ctx->ops->dense_backward(ctx->bctx, n, l->in_shape[2], l->cfg.units, dz, x, l->params[0].value, dx,
                                    l->params[0].grad, l->params[1].grad);
}

static void dense_describe(const layer_config *c, char *buf, size_t len)
{
    snprintf(buf, len, "dense %zu %s", c->units, clcnn_activation_name(c->act));
}

const layer_family clcnn_dense_family = {
    .name = "dense",
    .flags = FAMILY_APPLIES_ACTIVATION,
    .infer = dense_infer,
    .forward = dense_layer_forward,
    .backward = dense_layer_backward,
    .describe = dense_describe,
};

int clcnn_model_add_dense(clcnn_model *m, size_t units, clcnn_activation activation)
{
    layer_config c = {.kind = CLCNN_LAYER_DENSE, .units = units, .act = activation};
    return clcnn_model_append(m, &c);
}
