/* The layer kinds: shape inference, forward and backward of each. */
#include <stdio.h>

#include "model.h"

/* ----------------------------------------------------------- convolution */

static int conv_infer(clcnn_ctx *ctx, layer *l)
{
    char who[32];
    snprintf(who, sizeof who, "layer %zu (conv)", l->index + 1);
    if (l->cfg.units == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the number of filters must be positive", who);
    if (l->cfg.kh < 1 || l->cfg.kw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: kernel %dx%d must be positive", who, l->cfg.kh, l->cfg.kw);
    if ((unsigned)l->cfg.act > CLCNN_ACT_SOFTMAX)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown activation %d", who, (int)l->cfg.act);
    const size_t *in = l->in_shape;
    conv_geom *g = &l->geom.conv;
    int st = clcnn_conv_geometry(ctx, who, 1, in[0], in[1], in[2], (size_t)l->cfg.kh, (size_t)l->cfg.kw,
                                 l->cfg.units, l->cfg.sh, l->cfg.sw, l->cfg.padding, g);
    if (st)
        return st;
    l->out_shape[0] = g->oh, l->out_shape[1] = g->ow, l->out_shape[2] = g->k;
    int overflow = 0;
    size_t fan_in = clcnn_mul_size(clcnn_mul_size(g->kh, g->kw, &overflow), g->c, &overflow);
    size_t count = clcnn_mul_size(clcnn_mul_size(fan_in, g->k, &overflow), sizeof(float), &overflow);
    clcnn_mul_size(clcnn_mul_size(g->oh, g->ow, &overflow), g->k, &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: its sizes overflow", who);
    l->nparams = 2;
    l->params[0].count = count / sizeof(float);
    l->params[0].fan_in = fan_in;
    l->params[1].count = g->k;
    return CLCNN_OK;
}

static int conv_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    conv_geom g = l->geom.conv;
    g.n = n;
    return ctx->ops->conv_forward(ctx->bctx, &g, x, l->params[0].value, l->params[1].value, act, l->out);
}

static int conv_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx, size_t n)
{
    conv_geom g = l->geom.conv;
    g.n = n;
    return ctx->ops->conv_backward(ctx->bctx, &g, dz, x, l->params[0].value, dx, l->params[0].grad,
                                   l->params[1].grad);
}

/* --------------------------------------------------------------- pooling */

static int pool_infer(clcnn_ctx *ctx, layer *l)
{
    char who[32];
    snprintf(who, sizeof who, "layer %zu (pool)", l->index + 1);
    const size_t *in = l->in_shape;
    pool_geom *g = &l->geom.pool;
    int st = clcnn_pool_geometry(ctx, who, 1, in[0], in[1], in[2], l->cfg.kh, l->cfg.kw, l->cfg.sh, l->cfg.sw,
                                 l->cfg.mode, g);
    if (st)
        return st;
    l->out_shape[0] = g->oh, l->out_shape[1] = g->ow, l->out_shape[2] = g->c;
    return CLCNN_OK;
}

static int pool_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    (void)act;
    pool_geom g = l->geom.pool;
    g.n = n;
    return ctx->ops->pool_forward(ctx->bctx, &g, x, l->out);
}

static int pool_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx, size_t n)
{
    if (!dx)
        return CLCNN_OK; /* a first layer has no input gradient to give */
    pool_geom g = l->geom.pool;
    g.n = n;
    return ctx->ops->pool_backward(ctx->bctx, &g, dz, x, l->out, dx); /* l->out: this batch's forward output */
}

/* --------------------------------------------------------------- flatten */

static int flatten_infer(clcnn_ctx *ctx, layer *l)
{
    (void)ctx;
    l->out_shape[0] = 1, l->out_shape[1] = 1;
    l->out_shape[2] = clcnn_shape_size(l->in_shape);
    l->out_aliases = 1; /* NHWC is already flat in memory */
    return CLCNN_OK;
}

static int flatten_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    (void)ctx, (void)n, (void)act;
    l->out = (clcnn_buf *)x;
    return CLCNN_OK;
}

/* ----------------------------------------------------------------- dense */

static int dense_infer(clcnn_ctx *ctx, layer *l)
{
    if (l->cfg.units == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "layer %zu (dense): the number of units must be positive",
                           l->index + 1);
    if ((unsigned)l->cfg.act > CLCNN_ACT_SOFTMAX)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "layer %zu (dense): unknown activation %d", l->index + 1,
                           (int)l->cfg.act);
    if (l->in_shape[0] != 1 || l->in_shape[1] != 1)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE,
                           "layer %zu (dense): its input is %zux%zux%zu, not flat; add a flatten layer before it",
                           l->index + 1, l->in_shape[0], l->in_shape[1], l->in_shape[2]);
    int overflow = 0;
    clcnn_mul_size(clcnn_mul_size(l->in_shape[2], l->cfg.units, &overflow), sizeof(float), &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "layer %zu (dense): %zu x %zu weights overflow", l->index + 1,
                           l->in_shape[2], l->cfg.units);
    l->out_shape[0] = 1, l->out_shape[1] = 1, l->out_shape[2] = l->cfg.units;
    l->nparams = 2;
    l->params[0].count = l->in_shape[2] * l->cfg.units;
    l->params[0].fan_in = l->in_shape[2];
    l->params[1].count = l->cfg.units;
    return CLCNN_OK;
}

static int dense_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    return ctx->ops->dense_forward(ctx->bctx, n, l->in_shape[2], l->cfg.units, x, l->params[0].value,
                                   l->params[1].value, act, l->out);
}

static int dense_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                          size_t n)
{
    return ctx->ops->dense_backward(ctx->bctx, n, l->in_shape[2], l->cfg.units, dz, x, l->params[0].value, dx,
                                    l->params[0].grad, l->params[1].grad);
}

/* ------------------------------------------------------------ activation */

static int activation_infer(clcnn_ctx *ctx, layer *l)
{
    if ((unsigned)l->cfg.act > CLCNN_ACT_SOFTMAX)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "layer %zu (activation): unknown activation %d", l->index + 1,
                           (int)l->cfg.act);
    for (int i = 0; i < 3; i++)
        l->out_shape[i] = l->in_shape[i];
    return CLCNN_OK;
}

static int activation_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    size_t cols = l->out_shape[2];
    return ctx->ops->activation_forward(ctx->bctx, act, n * clcnn_shape_size(l->out_shape) / cols, cols, x, l->out);
}

/* ------------------------------------------------------------------ table */

/* backward NULL: the gradient passes through unchanged (flatten; an
 * activation layer, whose derivative the engine applies). */
static const layer_ops table[] = {
    [CLCNN_LAYER_CONV] = {conv_infer, conv_forward, conv_backward},
    [CLCNN_LAYER_POOL] = {pool_infer, pool_forward, pool_backward},
    [CLCNN_LAYER_FLATTEN] = {flatten_infer, flatten_forward, NULL},
    [CLCNN_LAYER_DENSE] = {dense_infer, dense_forward, dense_backward},
    [CLCNN_LAYER_ACTIVATION] = {activation_infer, activation_forward, NULL},
};

const layer_ops *clcnn_layer_ops(clcnn_layer_kind kind)
{
    if (kind < CLCNN_LAYER_CONV || kind > CLCNN_LAYER_ACTIVATION)
        return NULL;
    return &table[kind];
}
