/* Fully connected layers: y = act(x @ W + b), W of shape (in, out). */
#include <string.h>

#include "cpu.h"

int cpu_dense_forward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *xb, const clcnn_buf *wb,
                      const clcnn_buf *bb, clcnn_activation act, clcnn_buf *yb)
{
    (void)bctx;
    const float *restrict x = CF32(xb), *restrict w = CF32(wb), *restrict b = CF32(bb);
    float *restrict y = F32(yb);
    for (size_t r = 0; r < m; r++) {
        float *restrict yr = y + r * out;
        const float *xr = x + r * in;
        for (size_t o = 0; o < out; o++)
            yr[o] = b[o];
        for (size_t i = 0; i < in; i++) {
            const float a = xr[i];
            const float *restrict wr = w + i * out;
            for (size_t o = 0; o < out; o++)
                yr[o] += a * wr[o];
        }
    }
    cpu_activate(act, m, out, y);
    return CLCNN_OK;
}

int cpu_dense_backward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dzb, const clcnn_buf *xb,
                       const clcnn_buf *wb, clcnn_buf *dxb, clcnn_buf *dwb, clcnn_buf *dbb)
{
    (void)bctx;
    const float *restrict dz = CF32(dzb), *restrict x = CF32(xb), *restrict w = CF32(wb);
    float *restrict dx = F32(dxb), *restrict dw = F32(dwb), *restrict db = F32(dbb);
    memset(dw, 0, in * out * sizeof *dw);
    memset(db, 0, out * sizeof *db);
    for (size_t r = 0; r < m; r++) {
        const float *restrict d = dz + r * out;
        const float *xr = x + r * in;
        for (size_t o = 0; o < out; o++)
            db[o] += d[o];
        for (size_t i = 0; i < in; i++) {
            const float a = xr[i];
            float *restrict dwr = dw + i * out;
            for (size_t o = 0; o < out; o++)
                dwr[o] += a * d[o];
        }
        if (dx)
            for (size_t i = 0; i < in; i++) {
                const float *restrict wr = w + i * out;
                float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
                for (size_t o = 0; o < out; o++)
                    acc += wr[o] * d[o];
                dx[r * in + i] = acc;
            }
    }
    return CLCNN_OK;
}
