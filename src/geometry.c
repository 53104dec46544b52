#include "geometry.h"

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

int clcnn_conv_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, size_t kh,
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
            return clcnn_error(ctx, CLCNN_ERR_SHAPE, "%s: kernel %zux%zu is larger than the input %zux%zu (valid padding)",
                               who, kh, kw, h, w);
        g->oh = (h - kh) / g->sh + 1;
        g->ow = (w - kw) / g->sw + 1;
        g->pad_top = g->pad_left = 0;
    } else {
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown padding %d (expected same or valid)", who,
                           (int)padding);
    }
    return CLCNN_OK;
}

int clcnn_pool_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, int kh, int kw,
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
