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
 * smaller half first; k is the (dilated) kernel's extent. */
static void same_axis(size_t in, size_t k, size_t s, size_t *out, size_t *pad_before)
{
    size_t o = (in + s - 1) / s;
    size_t need = (o - 1) * s + k;
    size_t total = need > in ? need - in : 0;
    *out = o;
    *pad_before = total / 2;
}

/* The settings of a seed call: same or valid padding, its strides as given,
 * no dilation, one group. */
static clcnn_conv_params seed_params(clcnn_padding padding, int sh, int sw)
{
    return (clcnn_conv_params){.padding = padding, .stride_h = sh, .stride_w = sw, .dilation_h = 1,
                               .dilation_w = 1, .groups = 1};
}

/* p with its zero strides, dilations and groups read as 1 (NULL: all
 * defaults, same padding). */
static clcnn_conv_params resolve_params(const clcnn_conv_params *p)
{
    clcnn_conv_params r = p ? *p : (clcnn_conv_params){.padding = CLCNN_PAD_SAME};
    int *ones[] = {&r.stride_h, &r.stride_w, &r.dilation_h, &r.dilation_w, &r.groups};
    for (size_t i = 0; i < sizeof ones / sizeof *ones; i++)
        if (*ones[i] == 0)
            *ones[i] = 1;
    return r;
}

/* Checks the settings that do not depend on shapes; the seed calls
 * (seed = 1) take same or valid padding only. */
static int check_settings(clcnn_ctx *ctx, const char *who, const clcnn_conv_params *p, int seed)
{
    if (p->stride_h < 1 || p->stride_w < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: stride (%d, %d) must be at least 1", who, p->stride_h,
                           p->stride_w);
    if (p->dilation_h < 1 || p->dilation_w < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: dilation (%d, %d) must be at least 1", who,
                           p->dilation_h, p->dilation_w);
    if (p->groups < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: groups = %d must be at least 1", who, p->groups);
    if (seed && p->padding != CLCNN_PAD_SAME && p->padding != CLCNN_PAD_VALID)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown padding %d (expected same or valid)", who,
                           (int)p->padding);
    if (p->padding != CLCNN_PAD_SAME && p->padding != CLCNN_PAD_VALID && p->padding != CLCNN_PAD_EXPLICIT)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown padding %d (expected same, valid or explicit)",
                           who, (int)p->padding);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: pads (top %d, bottom %d, left %d, right %d) must not be negative", who, p->pad_top,
                           p->pad_bottom, p->pad_left, p->pad_right);
    if (p->padding != CLCNN_PAD_EXPLICIT && (p->pad_top || p->pad_bottom || p->pad_left || p->pad_right))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: pads are given but the padding is %s, not explicit", who,
                           p->padding == CLCNN_PAD_SAME ? "same" : "valid");
    return CLCNN_OK;
}

/* Fills g for input (n,h,w,c) and k filters of kh x kw.  Errors: the
 * settings (check_settings), groups that do not divide c and k, a (dilated)
 * kernel larger than the (padded) input. */
static int conv_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, size_t kh,
                         size_t kw, size_t k, const clcnn_conv_params *p, int seed, conv_geom *g)
{
    int st = check_settings(ctx, who, p, seed);
    if (st)
        return st;
    if (kh == 0 || kw == 0 || k == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: kernel dimensions must be positive", who);
    const size_t groups = (size_t)p->groups;
    if (c % groups || k % groups)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: groups = %zu must divide both the input channels (%zu) and the filters (%zu)", who,
                           groups, c, k);
    g->n = n, g->h = h, g->w = w, g->c = c;
    g->kh = kh, g->kw = kw, g->k = k;
    g->sh = (size_t)p->stride_h, g->sw = (size_t)p->stride_w;
    g->dh = (size_t)p->dilation_h, g->dw = (size_t)p->dilation_w;
    g->groups = groups;
    /* The extent of the dilated kernel: dilation * (k - 1) + 1. */
    int overflow = 0;
    const size_t ekh = clcnn_mul_size(g->dh, kh - 1, &overflow) + 1;
    const size_t ekw = clcnn_mul_size(g->dw, kw - 1, &overflow) + 1;
    if (overflow || ekh == 0 || ekw == 0)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: the dilated kernel's size overflows", who);
    const char *dilated = g->dh != 1 || g->dw != 1 ? "dilated " : "";
    if (p->padding == CLCNN_PAD_SAME) {
        same_axis(h, ekh, g->sh, &g->oh, &g->pad_top);
        same_axis(w, ekw, g->sw, &g->ow, &g->pad_left);
        /* The padded input always holds the kernel under SAME. */
    } else if (p->padding == CLCNN_PAD_VALID) {
        if (ekh > h || ekw > w)
            return clcnn_error(ctx, CLCNN_ERR_SHAPE,
                               "%s: %skernel %zux%zu is larger than the input %zux%zu (valid padding)", who, dilated,
                               ekh, ekw, h, w);
        g->oh = (h - ekh) / g->sh + 1;
        g->ow = (w - ekw) / g->sw + 1;
        g->pad_top = g->pad_left = 0;
    } else {
        const size_t ph = h + (size_t)p->pad_top + (size_t)p->pad_bottom;
        const size_t pw = w + (size_t)p->pad_left + (size_t)p->pad_right;
        if (ekh > ph || ekw > pw)
            return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: %skernel %zux%zu is larger than the padded input %zux%zu",
                               who, dilated, ekh, ekw, ph, pw);
        g->oh = (ph - ekh) / g->sh + 1;
        g->ow = (pw - ekw) / g->sw + 1;
        g->pad_top = (size_t)p->pad_top, g->pad_left = (size_t)p->pad_left;
    }
    return CLCNN_OK;
}

/* ------------------------------------------------------ public operations */

/* Weights (kh,kw,c_prev/groups,c_new) against A_prev, bias (1,1,1,c_new) or (c_new). */
static int check_params(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                        const clcnn_tensor *b, int groups)
{
    int st = clcnn_check_tensor(ctx, who, "W", W, 4);
    if (st)
        return st;
    if (groups == 1 && W->shape[2] != A_prev->shape[3])
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: W has %zu input channels but A_prev has %zu channels", who,
                           W->shape[2], A_prev->shape[3]);
    if (groups > 1 && W->shape[2] * (size_t)groups != A_prev->shape[3])
        return clcnn_error(ctx, CLCNN_ERR_SHAPE,
                           "%s: W has %zu input channels per group but A_prev has %zu channels in %d groups", who,
                           W->shape[2], A_prev->shape[3], groups);
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
                           const clcnn_conv_params *p, int seed, conv_geom *g)
{
    const size_t *s = A_prev->shape;
    return conv_geometry(ctx, who, s[0], s[1], s[2], s[3], W->shape[0], W->shape[1], W->shape[3], p, seed, g);
}

static int forward(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                   const clcnn_tensor *b, clcnn_activation activation, const clcnn_conv_params *p, int seed,
                   clcnn_tensor **A_out)
{
    int st, created = 0;
    conv_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = check_params(ctx, who, A_prev, W, b, p->groups)) ||
        (st = clcnn_check_activation(ctx, who, activation)) ||
        (st = public_geometry(ctx, who, A_prev, W, p, seed, &g)))
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.k};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 4, out_shape, who, &created)))
        return st;
    st = ctx->ops->conv_forward(ctx->bctx, &g, A_prev->buf, W->buf, b->buf, activation, (*A_out)->buf);
    return clcnn_discard_on_failure(st, created, A_out);
}

static int backward(clcnn_ctx *ctx, const char *who, const clcnn_tensor *dZ, const clcnn_tensor *A_prev,
                    const clcnn_tensor *W, const clcnn_tensor *b, const clcnn_conv_params *p, int seed,
                    clcnn_tensor **dA_prev, clcnn_tensor **dW, clcnn_tensor **db)
{
    int st;
    conv_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = clcnn_check_tensor(ctx, who, "dZ", dZ, 4)) || (st = check_params(ctx, who, A_prev, W, b, p->groups)) ||
        (st = public_geometry(ctx, who, A_prev, W, p, seed, &g)))
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
        st = ctx->ops->conv_backward(ctx->bctx, &g, dZ->buf, A_prev->buf, W->buf, CLCNN_ACT_IDENTITY,
                                     dA_prev ? (*dA_prev)->buf : NULL, dW ? (*dW)->buf : NULL, db ? (*db)->buf : NULL);
    return clcnn_discard_all_on_failure(st, 3, outs, created);
}

int clcnn_conv_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W, const clcnn_tensor *b,
                       clcnn_activation activation, clcnn_padding padding, int stride_h, int stride_w,
                       clcnn_tensor **A_out)
{
    const clcnn_conv_params p = seed_params(padding, stride_h, stride_w);
    return forward(ctx, "conv_forward", A_prev, W, b, activation, &p, 1, A_out);
}

int clcnn_conv_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                        const clcnn_tensor *b, clcnn_padding padding, int stride_h, int stride_w,
                        clcnn_tensor **dA_prev, clcnn_tensor **dW, clcnn_tensor **db)
{
    const clcnn_conv_params p = seed_params(padding, stride_h, stride_w);
    return backward(ctx, "conv_backward", dZ, A_prev, W, b, &p, 1, dA_prev, dW, db);
}

int clcnn_conv2d_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W, const clcnn_tensor *b,
                         clcnn_activation activation, const clcnn_conv_params *p, clcnn_tensor **A_out)
{
    const clcnn_conv_params r = resolve_params(p);
    return forward(ctx, "conv2d_forward", A_prev, W, b, activation, &r, 0, A_out);
}

int clcnn_conv2d_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                          const clcnn_tensor *b, const clcnn_conv_params *p, clcnn_tensor **dA_prev,
                          clcnn_tensor **dW, clcnn_tensor **db)
{
    const clcnn_conv_params r = resolve_params(p);
    return backward(ctx, "conv2d_backward", dZ, A_prev, W, b, &r, 0, dA_prev, dW, db);
}

/* ------------------------------------------------------------- the layer */

/* The settings of a layer as a clcnn_conv_params. */
static clcnn_conv_params layer_params(const layer_config *cfg)
{
    return (clcnn_conv_params){.padding = cfg->padding, .pad_top = cfg->conv.pad_top,
                               .pad_bottom = cfg->conv.pad_bottom, .pad_left = cfg->conv.pad_left,
                               .pad_right = cfg->conv.pad_right, .stride_h = cfg->sh, .stride_w = cfg->sw,
                               .dilation_h = cfg->conv.dh, .dilation_w = cfg->conv.dw, .groups = cfg->conv.groups};
}

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
    const clcnn_conv_params p = layer_params(cfg);
    st = conv_geometry(ctx, who, 1, in[0], in[1], in[2], (size_t)cfg->kh, (size_t)cfg->kw, cfg->units, &p, 0, g);
    /* Then what a model file can hold (pads and dilations beyond its ranges). */
    if (st || (st = clcnn_layer_check_fields(ctx, who, &clcnn_conv_family, cfg)))
        return st;
    l->out_shape[0] = g->oh, l->out_shape[1] = g->ow, l->out_shape[2] = g->k;
    int overflow = 0;
    size_t fan_in = clcnn_mul_size(clcnn_mul_size(g->kh, g->kw, &overflow), g->c / g->groups, &overflow);
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

/* A pooling layer after the convolution: both in one backend call where
 * the backend fuses them (conv_pool_forward), else the convolution alone.
 * Only training reads the convolution's output again (the backward). */
static int conv_layer_forward_with_next(clcnn_ctx *ctx, layer *l, layer *next, const clcnn_buf *x, size_t n,
                                        clcnn_activation act, int *took_next)
{
    *took_next = 0;
    if (next->family == &clcnn_pool_family && ctx->ops->conv_pool_forward) {
        conv_geom g = l->geom.conv;
        pool_geom p = next->geom.pool;
        g.n = p.n = n;
        int st = ctx->ops->conv_pool_forward(ctx->bctx, &g, &p, x, l->params[0].value, l->params[1].value, act,
                                             l->out, l->training, next->out);
        if (st != CLCNN_ERR_UNSUPPORTED) {
            *took_next = st == CLCNN_OK;
            return st;
        }
    }
    return conv_layer_forward(ctx, l, x, n, act);
}

static int conv_layer_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                               size_t n)
{
    conv_geom g = l->geom.conv;
    g.n = n;
    return ctx->ops->conv_backward(ctx->bctx, &g, dz, x, l->params[0].value, l->dx_act, dx, l->params[0].grad,
                                   l->params[1].grad);
}

/* "conv 6 5x5 stride 1x1 same relu"; the later settings only where used:
 * "conv 8 3x3 stride 2x2 pad 1,1,0,2 dilation 2x2 groups 2 relu" (pads
 * top, bottom, left, right). */
static void conv_describe(const layer_config *c, char *buf, size_t len)
{
    char pad[64], more[64];
    if (c->padding == CLCNN_PAD_EXPLICIT)
        snprintf(pad, sizeof pad, "pad %d,%d,%d,%d", c->conv.pad_top, c->conv.pad_bottom, c->conv.pad_left,
                 c->conv.pad_right);
    else
        snprintf(pad, sizeof pad, "%s", c->padding == CLCNN_PAD_SAME ? "same" : "valid");
    int at = 0;
    more[0] = 0;
    if (c->conv.dh != 1 || c->conv.dw != 1)
        at = snprintf(more, sizeof more, " dilation %dx%d", c->conv.dh, c->conv.dw);
    if (c->conv.groups != 1 && at >= 0 && (size_t)at < sizeof more)
        snprintf(more + at, sizeof more - (size_t)at, " groups %d", c->conv.groups);
    snprintf(buf, len, "conv %zu %dx%d stride %dx%d %s%s %s", c->units, c->kh, c->kw, c->sh, c->sw, pad, more,
             clcnn_activation_name(c->act));
}

static const char *conv_type(const layer_config *c)
{
    (void)c;
    return "Conv2D";
}

static const char *const padding_names[] = {"same", "valid", "explicit"};

static const layer_field conv_fields[] = {
    LAYER_FIELD("units", LAYER_FIELD_U32, units, units, 1, LAYER_MAX_UNITS),
    LAYER_FIELD("kh", LAYER_FIELD_U32, kh, kernel_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("kw", LAYER_FIELD_U32, kw, kernel_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sh", LAYER_FIELD_U32, sh, stride_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sw", LAYER_FIELD_U32, sw, stride_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD_NAMED("padding", padding, padding, CLCNN_PAD_SAME, CLCNN_PAD_EXPLICIT, padding_names),
    LAYER_FIELD_ACTIVATION,
    /* Added to version 2 after its first files: a record may end before them. */
    LAYER_FIELD_DEFAULT("pad_top", LAYER_FIELD_U32, conv.pad_top, conv.pad_top, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("pad_bottom", LAYER_FIELD_U32, conv.pad_bottom, conv.pad_bottom, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("pad_left", LAYER_FIELD_U32, conv.pad_left, conv.pad_left, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("pad_right", LAYER_FIELD_U32, conv.pad_right, conv.pad_right, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("dilation_h", LAYER_FIELD_U32, conv.dh, conv.dilation_h, 1, LAYER_MAX_WINDOW, 1),
    LAYER_FIELD_DEFAULT("dilation_w", LAYER_FIELD_U32, conv.dw, conv.dilation_w, 1, LAYER_MAX_WINDOW, 1),
    LAYER_FIELD_DEFAULT("groups", LAYER_FIELD_U32, conv.groups, conv.groups, 1, LAYER_MAX_UNITS, 1),
};

const layer_family clcnn_conv_family = {
    .name = "conv",
    LAYER_FIELDS(conv_fields),
    .flags = FAMILY_APPLIES_ACTIVATION | FAMILY_FUSES_DX_ACT,
    .infer = conv_infer,
    .forward = conv_layer_forward,
    .forward_with_next = conv_layer_forward_with_next,
    .backward = conv_layer_backward,
    .describe = conv_describe,
    .type = conv_type,
};

int clcnn_model_add_conv(clcnn_model *m, size_t filters, int kernel_h, int kernel_w, int stride_h, int stride_w,
                         clcnn_padding padding, clcnn_activation activation)
{
    layer_config c = {.kind = CLCNN_LAYER_CONV, .units = filters, .kh = kernel_h, .kw = kernel_w,
                      .sh = stride_h, .sw = stride_w, .padding = padding, .act = activation,
                      .conv = {.dh = 1, .dw = 1, .groups = 1}};
    return clcnn_model_append(m, &c);
}

int clcnn_model_add_conv2d(clcnn_model *m, size_t filters, int kernel_h, int kernel_w, clcnn_activation activation,
                           const clcnn_conv_params *p)
{
    const clcnn_conv_params r = resolve_params(p);
    layer_config c = {.kind = CLCNN_LAYER_CONV, .units = filters, .kh = kernel_h, .kw = kernel_w,
                      .sh = r.stride_h, .sw = r.stride_w, .padding = r.padding, .act = activation,
                      .conv = {.pad_top = r.pad_top, .pad_bottom = r.pad_bottom, .pad_left = r.pad_left,
                               .pad_right = r.pad_right, .dh = r.dilation_h, .dw = r.dilation_w,
                               .groups = r.groups}};
    return clcnn_model_append(m, &c);
}
