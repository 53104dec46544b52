/* The pooling family: window geometry (DESIGN.md §1), the public
 * operations, and the pool layer. */
#include <stdio.h>
#include <string.h>

#include "ops/args.h"
#include "ops/family.h"

int clcnn_pool_mode_from_name(const char *name)
{
    if (name && strcmp(name, "max") == 0)
        return CLCNN_POOL_MAX;
    if (name && (strcmp(name, "avg") == 0 || strcmp(name, "average") == 0))
        return CLCNN_POOL_AVG;
    return -1;
}

/* Fills g for windows kh x kw at strides (sh, sw) over (n,h,w,c); no padding. */
static int pool_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, int kh, int kw,
                         int sh, int sw, clcnn_pool_mode mode, pool_geom *g)
{
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVG)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown pooling mode %d (expected max or avg)", who,
                           (int)mode);
    if (kh < 1 || kw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: kernel shape (%d, %d) must be positive", who, kh, kw);
    if (sh < 1 || sw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: stride (%d, %d) must be at least 1", who, sh, sw);
    if ((size_t)kh > h || (size_t)kw > w)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: pooling window %dx%d is larger than the input %zux%zu", who, kh,
                           kw, h, w);
    g->n = n, g->h = h, g->w = w, g->c = c;
    g->kh = (size_t)kh, g->kw = (size_t)kw, g->sh = (size_t)sh, g->sw = (size_t)sw;
    g->oh = (h - g->kh) / g->sh + 1;
    g->ow = (w - g->kw) / g->sw + 1;
    g->mode = mode;
    return CLCNN_OK;
}

/* ------------------------------------------------------ public operations */

/* The geometry of a public operation on A_prev. */
static int public_geometry(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, int kernel_h, int kernel_w,
                           int stride_h, int stride_w, clcnn_pool_mode mode, pool_geom *g)
{
    const size_t *s = A_prev->shape;
    return pool_geometry(ctx, who, s[0], s[1], s[2], s[3], kernel_h, kernel_w, stride_h, stride_w, mode, g);
}

int clcnn_pool_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int kernel_h, int kernel_w, int stride_h,
                       int stride_w, clcnn_pool_mode mode, clcnn_tensor **A_out)
{
    static const char who[] = "pool_forward";
    int st, created = 0;
    pool_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = public_geometry(ctx, who, A_prev, kernel_h, kernel_w, stride_h, stride_w, mode, &g)))
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.c};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 4, out_shape, who, &created)))
        return st;
    st = ctx->ops->pool_forward(ctx->bctx, &g, A_prev->buf, (*A_out)->buf);
    return clcnn_discard_on_failure(st, created, A_out);
}

int clcnn_pool_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev, int kernel_h,
                        int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode, clcnn_tensor **dA_prev)
{
    static const char who[] = "pool_backward";
    int st, created = 0;
    pool_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = clcnn_check_tensor(ctx, who, "dA", dA, 4)) ||
        (st = public_geometry(ctx, who, A_prev, kernel_h, kernel_w, stride_h, stride_w, mode, &g)))
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.c};
    if (!clcnn_same_shape(dA, out_shape))
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dA must have shape (%zu, %zu, %zu, %zu), the output's", who,
                           g.n, g.oh, g.ow, g.c);
    if ((st = clcnn_tensor_prepare(ctx, dA_prev, 4, A_prev->shape, who, &created)))
        return st;
    /* No forward output to hand over: the backend recomputes the maxima. */
    st = ctx->ops->pool_backward(ctx->bctx, &g, dA->buf, A_prev->buf, NULL, (*dA_prev)->buf);
    return clcnn_discard_on_failure(st, created, dA_prev);
}

/* ------------------------------------------------------------- the layer */

static int pool_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    const size_t *in = l->in_shape;
    pool_geom *g = &l->geom.pool;
    int st = pool_geometry(ctx, who, 1, in[0], in[1], in[2], l->cfg.kh, l->cfg.kw, l->cfg.sh, l->cfg.sw,
                           l->cfg.mode, g);
    if (st)
        return st;
    l->out_shape[0] = g->oh, l->out_shape[1] = g->ow, l->out_shape[2] = g->c;
    return CLCNN_OK;
}

static int pool_layer_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    (void)act;
    pool_geom g = l->geom.pool;
    g.n = n;
    return ctx->ops->pool_forward(ctx->bctx, &g, x, l->out);
}

static int pool_layer_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                               size_t n)
{
    if (!dx)
        return CLCNN_OK; /* a first layer has no input gradient to give */
    pool_geom g = l->geom.pool;
    g.n = n;
    return ctx->ops->pool_backward(ctx->bctx, &g, dz, x, l->out, dx); /* l->out: this batch's forward output */
}

static void pool_describe(const layer_config *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s pool %dx%d stride %dx%d", c->mode == CLCNN_POOL_MAX ? "max" : "avg", c->kh, c->kw,
             c->sh, c->sw);
}

static const char *pool_type(const layer_config *c)
{
    return c->mode == CLCNN_POOL_AVG ? "AveragePooling2D" : "MaxPooling2D";
}

static const layer_field pool_fields[] = {
    LAYER_FIELD("kh", LAYER_FIELD_U32, kh, kernel_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("kw", LAYER_FIELD_U32, kw, kernel_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sh", LAYER_FIELD_U32, sh, stride_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sw", LAYER_FIELD_U32, sw, stride_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("mode", LAYER_FIELD_U32, mode, mode, CLCNN_POOL_MAX, CLCNN_POOL_AVG),
};

const layer_family clcnn_pool_family = {
    .name = "pool",
    LAYER_FIELDS(pool_fields),
    .infer = pool_infer,
    .forward = pool_layer_forward,
    .backward = pool_layer_backward,
    .describe = pool_describe,
    .type = pool_type,
};

int clcnn_model_add_pool(clcnn_model *m, int kernel_h, int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode)
{
    layer_config c = {.kind = CLCNN_LAYER_POOL, .kh = kernel_h, .kw = kernel_w, .sh = stride_h, .sw = stride_w,
                      .mode = mode};
    return clcnn_model_append(m, &c);
}
