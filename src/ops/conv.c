/* The convolution family: geometry (DESIGN.md §1), the public operations,
 * and the conv layer. */
#include <stdio.h>
#include <string.h>

#include "ops/args.h"
#include "ops/family.h"

int clcnn_padding_from_name(const char *name)
{
    if (name && strcmp(name, "same") == 0)
        return CLCNN_PAD_SAME;
    if (name && strcmp(name, "valid") == 0)
        return CLCNN_PAD_VALID;
    return -1;
}

/* TensorFlow's SAME rule: out = ceil(in / s), the padding split with the
 * smaller half first. */
static void same_axis(size_t in, size_t k, size_t s, size_t *out, size_t *pad_before)
{
    size_t o = (in + s - 1) / s;
    size_t need = (o - 1) * s + k;
    size_t total = need > in ? need - in : 0;
    *out = o;
    *pad_before = total / 2;
}

/* Fills g for input (n,h,w,c) and kernel (kh,kw,c,k).  Errors: stride < 1,
 * unknown padding, a kernel larger than the (padded) input. */
static int conv_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, size_t kh,
                         size_t kw, size_t k, int sh, int sw, clcnn_padding padding, conv_geom *g)
{
    if (sh < 1 || sw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: stride (%d, %d) must be at least 1", who, sh, sw);
    if (kh == 0 || kw == 0 || k == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: kernel dimensions must be positive", who);
    g->n = n, g->h = h, g->w = w, g->c = c;
    g->kh = kh, g->kw = kw, g->k = k;
    g->sh = (size_t)sh, g->sw = (size_t)sw;
    if (padding == CLCNN_PAD_SAME) {
        same_axis(h, kh, g->sh, &g->oh, &g->pad_top);
        same_axis(w, kw, g->sw, &g->ow, &g->pad_left);
        /* The padded input always holds the kernel under SAME. */
    } else if (padding == CLCNN_PAD_VALID) {
        if (kh > h || kw > w)
            return clcnn_error(ctx, CLCNN_ERR_SHAPE,
                               "%s: kernel %zux%zu is larger than the input %zux%zu (valid padding)", who, kh, kw, h,
                               w);
        g->oh = (h - kh) / g->sh + 1;
        g->ow = (w - kw) / g->sw + 1;
        g->pad_top = g->pad_left = 0;
    } else {
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown padding %d (expected same or valid)", who,
                           (int)padding);
    }
    return CLCNN_OK;
}

/* ------------------------------------------------------ public operations */

/* Weights (kh,kw,c_prev,c_new) against A_prev, bias (1,1,1,c_new) or (c_new). */
static int check_params(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                        const clcnn_tensor *b)
{
    int st = clcnn_check_tensor(ctx, who, "W", W, 4);
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

/* The geometry of a public operation on A_prev with weights W. */
static int public_geometry(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                           clcnn_padding padding, int stride_h, int stride_w, conv_geom *g)
{
    const size_t *s = A_prev->shape;
    return conv_geometry(ctx, who, s[0], s[1], s[2], s[3], W->shape[0], W->shape[1], W->shape[3], stride_h,
                         stride_w, padding, g);
}

int clcnn_conv_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W, const clcnn_tensor *b,
                       clcnn_activation activation, clcnn_padding padding, int stride_h, int stride_w,
                       clcnn_tensor **A_out)
{
    static const char who[] = "conv_forward";
    int st, created = 0;
    conv_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = check_params(ctx, who, A_prev, W, b)) || (st = clcnn_check_activation(ctx, who, activation)) ||
        (st = public_geometry(ctx, who, A_prev, W, padding, stride_h, stride_w, &g)))
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.k};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 4, out_shape, who, &created)))
        return st;
    st = ctx->ops->conv_forward(ctx->bctx, &g, A_prev->buf, W->buf, b->buf, activation, (*A_out)->buf);
    return clcnn_discard_on_failure(st, created, A_out);
}

int clcnn_conv_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                        const clcnn_tensor *b, clcnn_padding padding, int stride_h, int stride_w,
                        clcnn_tensor **dA_prev, clcnn_tensor **dW, clcnn_tensor **db)
{
    static const char who[] = "conv_backward";
    int st;
    conv_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = clcnn_check_tensor(ctx, who, "dZ", dZ, 4)) || (st = check_params(ctx, who, A_prev, W, b)) ||
        (st = public_geometry(ctx, who, A_prev, W, padding, stride_h, stride_w, &g)))
        return st;
    size_t z_shape[4] = {g.n, g.oh, g.ow, g.k};
    if (!clcnn_same_shape(dZ, z_shape))
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dZ must have shape (%zu, %zu, %zu, %zu), the output's", who,
                           g.n, g.oh, g.ow, g.k);

    clcnn_tensor **outs[3] = {dA_prev, dW, db};
    const clcnn_tensor *likes[3] = {A_prev, W, b};
    int created[3];
    st = clcnn_prepare_like(ctx, who, 3, outs, likes, created);
    if (st == CLCNN_OK)
        st = ctx->ops->conv_backward(ctx->bctx, &g, dZ->buf, A_prev->buf, W->buf, dA_prev ? (*dA_prev)->buf : NULL,
                                     dW ? (*dW)->buf : NULL, db ? (*db)->buf : NULL);
    return clcnn_discard_all_on_failure(st, 3, outs, created);
}

/* ------------------------------------------------------------- the layer */

static int conv_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    const layer_config *cfg = &l->cfg;
    if (cfg->units == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the number of filters must be positive", who);
    if (cfg->kh < 1 || cfg->kw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: kernel %dx%d must be positive", who, cfg->kh, cfg->kw);
    int st = clcnn_check_activation(ctx, who, cfg->act);
    if (st)
        return st;
    const size_t *in = l->in_shape;
    conv_geom *g = &l->geom.conv;
    st = conv_geometry(ctx, who, 1, in[0], in[1], in[2], (size_t)cfg->kh, (size_t)cfg->kw, cfg->units, cfg->sh,
                       cfg->sw, cfg->padding, g);
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

static int conv_layer_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    conv_geom g = l->geom.conv;
    g.n = n;
    return ctx->ops->conv_forward(ctx->bctx, &g, x, l->params[0].value, l->params[1].value, act, l->out);
}

static int conv_layer_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                               size_t n)
{
    conv_geom g = l->geom.conv;
    g.n = n;
    return ctx->ops->conv_backward(ctx->bctx, &g, dz, x, l->params[0].value, dx, l->params[0].grad,
                                   l->params[1].grad);
}

static void conv_describe(const layer_config *c, char *buf, size_t len)
{
    snprintf(buf, len, "conv %zu %dx%d stride %dx%d %s %s", c->units, c->kh, c->kw, c->sh, c->sw,
             c->padding == CLCNN_PAD_SAME ? "same" : "valid", clcnn_activation_name(c->act));
}

static const char *conv_type(const layer_config *c)
{
    (void)c;
    return "Conv2D";
}

static const layer_field conv_fields[] = {
    LAYER_FIELD("units", LAYER_FIELD_U32, units, units, 1, LAYER_MAX_UNITS),
    LAYER_FIELD("kh", LAYER_FIELD_U32, kh, kernel_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("kw", LAYER_FIELD_U32, kw, kernel_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sh", LAYER_FIELD_U32, sh, stride_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sw", LAYER_FIELD_U32, sw, stride_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("padding", LAYER_FIELD_U32, padding, padding, CLCNN_PAD_SAME, CLCNN_PAD_VALID),
    LAYER_FIELD_ACTIVATION,
};

const layer_family clcnn_conv_family = {
    .name = "conv",
    LAYER_FIELDS(conv_fields),
    .flags = FAMILY_APPLIES_ACTIVATION,
    .infer = conv_infer,
    .forward = conv_layer_forward,
    .backward = conv_layer_backward,
    .describe = conv_describe,
    .type = conv_type,
};

int clcnn_model_add_conv(clcnn_model *m, size_t filters, int kernel_h, int kernel_w, int stride_h, int stride_w,
                         clcnn_padding padding, clcnn_activation activation)
{
    layer_config c = {.kind = CLCNN_LAYER_CONV, .units = filters, .kh = kernel_h, .kw = kernel_w,
                      .sh = stride_h, .sw = stride_w, .padding = padding, .act = activation};
    return clcnn_model_append(m, &c);
}
