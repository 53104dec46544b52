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

/* One axis: out = floor_or_ceil((in + before + after - k) / s) + 1, less
 * one when ceil mode's last window would start beyond the input and the
 * padding before it (PyTorch's rule); the caller checked k <= the padded
 * size. */
static size_t pool_axis(size_t in, size_t before, size_t after, size_t k, size_t s, int ceil_mode)
{
    const size_t span = in + before + after - k;
    size_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + before)
        out--;
    return out;
}

/* Fills g for windows kh x kw at strides (sh, sw) over (n,h,w,c) with the
 * settings of p (clcnn_pool_params; all zero in the seed calls). */
static int pool_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, int kh, int kw,
                         int sh, int sw, clcnn_pool_mode mode, const clcnn_pool_params *p, pool_geom *g)
{
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVG)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown pooling mode %d (expected max or avg)", who,
                           (int)mode);
    if (kh < 1 || kw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: kernel shape (%d, %d) must be positive", who, kh, kw);
    if (sh < 1 || sw < 1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: stride (%d, %d) must be at least 1", who, sh, sw);
    if (p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: pads (top %d, bottom %d, left %d, right %d) must not be negative", who, p->pad_top,
                           p->pad_bottom, p->pad_left, p->pad_right);
    if (p->pad_top >= kh || p->pad_bottom >= kh || p->pad_left >= kw || p->pad_right >= kw)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: pads (top %d, bottom %d, left %d, right %d) must be smaller than the window %dx%d",
                           who, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, kh, kw);
    if ((p->ceil_mode != 0 && p->ceil_mode != 1) || (p->count_include_pad != 0 && p->count_include_pad != 1))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: ceil_mode (%d) and count_include_pad (%d) must be 0 or 1",
                           who, p->ceil_mode, p->count_include_pad);
    const size_t pt = (size_t)p->pad_top, pb = (size_t)p->pad_bottom, pl = (size_t)p->pad_left,
                 pr = (size_t)p->pad_right;
    const int pads = pt || pb || pl || pr;
    if ((size_t)kh > h + pt + pb || (size_t)kw > w + pl + pr)
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: pooling window %dx%d is larger than the %sinput %zux%zu", who,
                           kh, kw, pads ? "padded " : "", h + pt + pb, w + pl + pr);
    g->n = n, g->h = h, g->w = w, g->c = c;
    g->kh = (size_t)kh, g->kw = (size_t)kw, g->sh = (size_t)sh, g->sw = (size_t)sw;
    g->oh = pool_axis(h, pt, pb, g->kh, g->sh, p->ceil_mode);
    g->ow = pool_axis(w, pl, pr, g->kw, g->sw, p->ceil_mode);
    g->mode = mode;
    g->pad_top = pt, g->pad_bottom = pb, g->pad_left = pl, g->pad_right = pr;
    g->include_pad = p->count_include_pad;
    /* Some window reaches beyond the input: the backends' padded path. */
    g->padded = pads || (g->oh - 1) * g->sh + g->kh > h || (g->ow - 1) * g->sw + g->kw > w;
    return CLCNN_OK;
}

/* ------------------------------------------------------ public operations */

/* The seed's settings: no padding, floor mode. */
static const clcnn_pool_params no_params;

/* The geometry of a public operation on A_prev. */
static int public_geometry(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, int kernel_h, int kernel_w,
                           int stride_h, int stride_w, clcnn_pool_mode mode, const clcnn_pool_params *p,
                           pool_geom *g)
{
    const size_t *s = A_prev->shape;
    return pool_geometry(ctx, who, s[0], s[1], s[2], s[3], kernel_h, kernel_w, stride_h, stride_w, mode, p, g);
}

static int forward(clcnn_ctx *ctx, const char *who, const clcnn_tensor *A_prev, int kernel_h, int kernel_w,
                   int stride_h, int stride_w, clcnn_pool_mode mode, const clcnn_pool_params *p, clcnn_tensor **A_out)
{
    int st, created = 0;
    pool_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = public_geometry(ctx, who, A_prev, kernel_h, kernel_w, stride_h, stride_w, mode, p, &g)))
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.c};
    if ((st = clcnn_tensor_prepare(ctx, A_out, 4, out_shape, who, &created)))
        return st;
    st = ctx->ops->pool_forward(ctx->bctx, &g, A_prev->buf, (*A_out)->buf);
    return clcnn_discard_on_failure(st, created, A_out);
}

static int backward(clcnn_ctx *ctx, const char *who, const clcnn_tensor *dA, const clcnn_tensor *A_prev,
                    int kernel_h, int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode,
                    const clcnn_pool_params *p, clcnn_tensor **dA_prev)
{
    int st, created = 0;
    pool_geom g;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 4)) ||
        (st = clcnn_check_tensor(ctx, who, "dA", dA, 4)) ||
        (st = public_geometry(ctx, who, A_prev, kernel_h, kernel_w, stride_h, stride_w, mode, p, &g)))
        return st;
    size_t out_shape[4] = {g.n, g.oh, g.ow, g.c};
    if (!clcnn_same_shape(dA, out_shape))
        return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: dA must have shape (%zu, %zu, %zu, %zu), the output's", who,
                           g.n, g.oh, g.ow, g.c);
    if ((st = clcnn_tensor_prepare(ctx, dA_prev, 4, A_prev->shape, who, &created)))
        return st;
    /* No forward output to hand over: the backend recomputes the maxima. */
    st = ctx->ops->pool_backward(ctx->bctx, &g, dA->buf, A_prev->buf, NULL, CLCNN_ACT_IDENTITY, (*dA_prev)->buf);
    return clcnn_discard_on_failure(st, created, dA_prev);
}

int clcnn_pool_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int kernel_h, int kernel_w, int stride_h,
                       int stride_w, clcnn_pool_mode mode, clcnn_tensor **A_out)
{
    return forward(ctx, "pool_forward", A_prev, kernel_h, kernel_w, stride_h, stride_w, mode, &no_params, A_out);
}

int clcnn_pool_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev, int kernel_h,
                        int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode, clcnn_tensor **dA_prev)
{
    return backward(ctx, "pool_backward", dA, A_prev, kernel_h, kernel_w, stride_h, stride_w, mode, &no_params,
                    dA_prev);
}

int clcnn_pool2d_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int kernel_h, int kernel_w, int stride_h,
                         int stride_w, clcnn_pool_mode mode, const clcnn_pool_params *p, clcnn_tensor **A_out)
{
    return forward(ctx, "pool2d_forward", A_prev, kernel_h, kernel_w, stride_h, stride_w, mode,
                   p ? p : &no_params, A_out);
}

int clcnn_pool2d_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev, int kernel_h,
                          int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode, const clcnn_pool_params *p,
                          clcnn_tensor **dA_prev)
{
    return backward(ctx, "pool2d_backward", dA, A_prev, kernel_h, kernel_w, stride_h, stride_w, mode,
                    p ? p : &no_params, dA_prev);
}

/* ------------------------------------------------------------- the layer */

static int pool_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    const size_t *in = l->in_shape;
    pool_geom *g = &l->geom.pool;
    const layer_config *c = &l->cfg;
    const clcnn_pool_params p = {c->pool.pad_top, c->pool.pad_bottom, c->pool.pad_left, c->pool.pad_right,
                                 c->pool.ceil_mode, c->pool.count_include_pad};
    int st = pool_geometry(ctx, who, 1, in[0], in[1], in[2], c->kh, c->kw, c->sh, c->sw, c->mode, &p, g);
    /* Then what a model file can hold. */
    if (st || (st = clcnn_layer_check_fields(ctx, who, &clcnn_pool_family, c)))
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
    /* l->out: this batch's forward output */
    return ctx->ops->pool_backward(ctx->bctx, &g, dz, x, l->out, l->dx_act, dx);
}

/* "max pool 2x2 stride 2x2"; the later settings only where used: "avg pool
 * 3x3 stride 2x2 pad 1,1,0,1 ceil include_pad" (pads top, bottom, left,
 * right). */
static void pool_describe(const layer_config *c, char *buf, size_t len)
{
    char more[80] = "";
    int at = 0;
    if (c->pool.pad_top || c->pool.pad_bottom || c->pool.pad_left || c->pool.pad_right)
        at = snprintf(more, sizeof more, " pad %d,%d,%d,%d", c->pool.pad_top, c->pool.pad_bottom, c->pool.pad_left,
                      c->pool.pad_right);
    if (at >= 0 && (size_t)at < sizeof more)
        snprintf(more + at, sizeof more - (size_t)at, "%s%s", c->pool.ceil_mode ? " ceil" : "",
                 c->pool.count_include_pad ? " include_pad" : "");
    snprintf(buf, len, "%s pool %dx%d stride %dx%d%s", c->mode == CLCNN_POOL_MAX ? "max" : "avg", c->kh, c->kw,
             c->sh, c->sw, more);
}

static const char *pool_type(const layer_config *c)
{
    return c->mode == CLCNN_POOL_AVG ? "AveragePooling2D" : "MaxPooling2D";
}

static const char *const mode_names[] = {"max", "avg"};

static const layer_field pool_fields[] = {
    LAYER_FIELD("kh", LAYER_FIELD_U32, kh, kernel_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("kw", LAYER_FIELD_U32, kw, kernel_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sh", LAYER_FIELD_U32, sh, stride_h, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD("sw", LAYER_FIELD_U32, sw, stride_w, 1, LAYER_MAX_WINDOW),
    LAYER_FIELD_NAMED("mode", mode, mode, CLCNN_POOL_MAX, CLCNN_POOL_AVG, mode_names),
    /* Added to version 2 after its first files: a record may end before them. */
    LAYER_FIELD_DEFAULT("pad_top", LAYER_FIELD_U32, pool.pad_top, pool.pad_top, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("pad_bottom", LAYER_FIELD_U32, pool.pad_bottom, pool.pad_bottom, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("pad_left", LAYER_FIELD_U32, pool.pad_left, pool.pad_left, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("pad_right", LAYER_FIELD_U32, pool.pad_right, pool.pad_right, 0, LAYER_MAX_WINDOW, 0),
    LAYER_FIELD_DEFAULT("ceil_mode", LAYER_FIELD_U32, pool.ceil_mode, pool.ceil_mode, 0, 1, 0),
    LAYER_FIELD_DEFAULT("count_include_pad", LAYER_FIELD_U32, pool.count_include_pad, pool.count_include_pad, 0, 1,
                        0),
};

const layer_family clcnn_pool_family = {
    .name = "pool",
    LAYER_FIELDS(pool_fields),
    .flags = FAMILY_FUSES_DX_ACT,
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

int clcnn_model_add_pool2d(clcnn_model *m, int kernel_h, int kernel_w, int stride_h, int stride_w,
                           clcnn_pool_mode mode, const clcnn_pool_params *p)
{
    const clcnn_pool_params r = p ? *p : no_params;
    layer_config c = {.kind = CLCNN_LAYER_POOL, .kh = kernel_h, .kw = kernel_w, .sh = stride_h, .sw = stride_w,
                      .mode = mode,
                      .pool = {r.pad_top, r.pad_bottom, r.pad_left, r.pad_right, r.ceil_mode, r.count_include_pad}};
    return clcnn_model_append(m, &c);
}
