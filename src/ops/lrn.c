/* The local response normalisation family (Krizhevsky et al. 2012, section
 * 3.3): across channels, in the paper's form, with the paper's alpha (not
 * divided by the window size; include/clcnn.h, docs/alexnet.md). */
#include <string.h>

#include "ops/args.h"
#include "ops/family.h"

/* The settings, their ranges (for the API and the model file alike) and
 * the order the model file stores them in. */
static const layer_field lrn_fields[] = {
    LAYER_FIELD("size", LAYER_FIELD_U32, lrn.size, lrn.size, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("alpha", LAYER_FIELD_F32, lrn.alpha, lrn.alpha, 0.0, 1e6),
    LAYER_FIELD("beta", LAYER_FIELD_F32, lrn.beta, lrn.beta, 0.0, 4.0),
    LAYER_FIELD("k", LAYER_FIELD_F32, lrn.k, lrn.k, 1e-3, 1e6),
};

/* The geometry of n examples of shape hwc under the settings in c. */
static lrn_geom geometry(size_t n, const size_t *hwc, const layer_config *c)
{
    return (lrn_geom){.n = n, .h = hwc[0], .w = hwc[1], .c = hwc[2], .size = (size_t)c->lrn.size,
                      .alpha = c->lrn.alpha, .beta = c->lrn.beta, .k = c->lrn.k};
}

/* geometry() after checking the settings. */
static int lrn_geometry(clcnn_ctx *ctx, const char *who, size_t n, const size_t *hwc, const layer_config *c,
                        lrn_geom *g)
{
    int st = clcnn_layer_check_fields(ctx, who, &clcnn_lrn_family, c);
    if (st == CLCNN_OK)
        *g = geometry(n, hwc, c);
    return st;
}

static layer_config settings(int size, float alpha, float beta, float k)
{
    return (layer_config){.kind = CLCNN_LAYER_LRN, .lrn = {size, alpha, beta, k}};
}

/* ------------------------------------------------------ public operations */

int clcnn_lrn_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int size, float alpha, float beta, float k,
                      clcnn_tensor **A_out)
{
    static const char who[] = "lrn_forward";
    const layer_config c = settings(size, alpha, beta, k);
    int st, created = 0;
    lrn_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = lrn_geometry(ctx, who, A_prev->shape[0], A_prev->shape + 1, &c, &g)) ||
        (st = clcnn_tensor_prepare(ctx, A_out, 4, A_prev->shape, who, &created)))
        return st;
    st = ctx->ops->lrn_forward(ctx->bctx, &g, A_prev->buf, (*A_out)->buf);
    return clcnn_discard_on_failure(st, created, A_out);
}

int clcnn_lrn_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev, int size, float alpha,
                       float beta, float k, clcnn_tensor **dA_prev)
{
    static const char who[] = "lrn_backward";
    const layer_config c = settings(size, alpha, beta, k);
    int st, created = 0;
    lrn_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = clcnn_check_tensor(ctx, who, "dA", dA, 4)) ||
        (st = lrn_geometry(ctx, who, A_prev->shape[0], A_prev->shape + 1, &c, &g)))
        return st;
    if (!clcnn_same_shape(dA, A_prev->shape))
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dA must have shape (%zu, %zu, %zu, %zu), A_prev's", who,
                           g.n, g.h, g.w, g.c);
    if ((st = clcnn_tensor_prepare(ctx, dA_prev, 4, A_prev->shape, who, &created)))
        return st;
    st = ctx->ops->lrn_backward(ctx->bctx, &g, dA->buf, A_prev->buf, (*dA_prev)->buf);
    return clcnn_discard_on_failure(st, created, dA_prev);
}

/* ------------------------------------------------------------- the layer */

static int lrn_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    int st = clcnn_layer_check_fields(ctx, who, &clcnn_lrn_family, &l->cfg);
    if (st == CLCNN_OK)
        memcpy(l->out_shape, l->in_shape, sizeof l->out_shape);
    return st;
}

static int lrn_layer_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    (void)act;
    const lrn_geom g = geometry(n, l->in_shape, &l->cfg);
    return ctx->ops->lrn_forward(ctx->bctx, &g, x, l->out);
}

static int lrn_layer_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                              size_t n)
{
    if (!dx)
        return CLCNN_OK; /* a first layer has no input gradient to give */
    const lrn_geom g = geometry(n, l->in_shape, &l->cfg);
    return ctx->ops->lrn_backward(ctx->bctx, &g, dz, x, dx);
}

static void lrn_describe(const layer_config *c, char *buf, size_t len)
{
    clcnn_layer_describe_fields(&clcnn_lrn_family, c, buf, len);
}

/* Keras has no LRN layer; this is the name of TensorFlow's op. */
static const char *lrn_type(const layer_config *c)
{
    (void)c;
    return "LocalResponseNormalization";
}

const layer_family clcnn_lrn_family = {
    .name = "lrn",
    LAYER_FIELDS(lrn_fields),
    .infer = lrn_infer,
    .forward = lrn_layer_forward,
    .backward = lrn_layer_backward,
    .describe = lrn_describe,
    .type = lrn_type,
};

int clcnn_model_add_lrn(clcnn_model *m, int size, float alpha, float beta, float k)
{
    const layer_config c = settings(size, alpha, beta, k);
    return clcnn_model_append(m, &c);
}
