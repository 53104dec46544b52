/* Direct convolution, NHWC input and HWIO weights: the innermost loops run
 * over output channels, contiguous in both W and Z. */
#include <string.h>

#include "cpu.h"

/* The input row/column that output index o and kernel offset p read, or -1
 * when it falls on padding. */
static long tap(size_t o, size_t s, size_t p, size_t pad, size_t size)
{
    long r = (long)(o * s + p) - (long)pad;
    return (r >= 0 && (size_t)r < size) ? r : -1;
}

int cpu_conv_forward(void *bctx, const conv_geom *g, const clcnn_buf *xb, const clcnn_buf *wb, const clcnn_buf *bb,
                     clcnn_activation act, clcnn_buf *yb)
{
    (void)bctx;
    const float *restrict x = CF32(xb), *restrict w = CF32(wb), *restrict b = CF32(bb);
    float *restrict y = F32(yb);
    const size_t K = g->k, C = g->c;
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++) {
                float *restrict z = y + ((n * g->oh + i) * g->ow + j) * K;
                for (size_t k = 0; k < K; k++)
                    z[k] = b[k];
                for (size_t p = 0; p < g->kh; p++) {
                    long r = tap(i, g->sh, p, g->pad_top, g->h);
                    if (r < 0)
                        continue;
                    for (size_t q = 0; q < g->kw; q++) {
                        long s = tap(j, g->sw, q, g->pad_left, g->w);
                        if (s < 0)
                            continue;
                        const float *xa = x + ((n * g->h + (size_t)r) * g->w + (size_t)s) * C;
                        const float *wa = w + (p * g->kw + q) * C * K;
                        for (size_t c = 0; c < C; c++) {
                            const float a = xa[c];
                            const float *restrict wr = wa + c * K;
                            for (size_t k = 0; k < K; k++)
                                z[k] += a * wr[k];
                        }
                    }
                }
            }
    cpu_activate(act, g->n * g->oh * g->ow, K, y);
    return CLCNN_OK;
}

int cpu_conv_backward(void *bctx, const conv_geom *g, const clcnn_buf *dzb, const clcnn_buf *xb, const clcnn_buf *wb,
                      clcnn_buf *dxb, clcnn_buf *dwb, clcnn_buf *dbb)
{
    (void)bctx;
    const float *restrict dz = CF32(dzb), *restrict x = CF32(xb), *restrict w = CF32(wb);
    float *restrict dx = F32(dxb), *restrict dw = F32(dwb), *restrict db = F32(dbb);
    const size_t K = g->k, C = g->c;
    if (dx)
        memset(dx, 0, g->n * g->h * g->w * C * sizeof *dx);
    if (dw)
        memset(dw, 0, g->kh * g->kw * C * K * sizeof *dw);
    if (db)
        memset(db, 0, K * sizeof *db);
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++) {
                const float *restrict d = dz + ((n * g->oh + i) * g->ow + j) * K;
                if (db)
                    for (size_t k = 0; k < K; k++)
                        db[k] += d[k];
                for (size_t p = 0; p < g->kh; p++) {
                    long r = tap(i, g->sh, p, g->pad_top, g->h);
                    if (r < 0)
                        continue;
                    for (size_t q = 0; q < g->kw; q++) {
                        long s = tap(j, g->sw, q, g->pad_left, g->w);
                        if (s < 0)
                            continue;
                        size_t xo = ((n * g->h + (size_t)r) * g->w + (size_t)s) * C;
                        size_t wo = (p * g->kw + q) * C * K;
                        for (size_t c = 0; c < C; c++) {
                            if (dw) {
                                const float a = x[xo + c];
                                float *restrict dwr = dw + wo + c * K;
                                for (size_t k = 0; k < K; k++)
                                    dwr[k] += a * d[k];
                            }
                            if (dx) {
                                const float *restrict wr = w + wo + c * K;
                                float acc = 0.0f;
                                for (size_t k = 0; k < K; k++)
                                    acc += wr[k] * d[k];
                                dx[xo + c] += acc;
                            }
                        }
                    }
                }
            }
    return CLCNN_OK;
}
