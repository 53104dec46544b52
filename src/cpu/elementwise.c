/* Activations, the loss, Adam and batch assembly. */
#include <math.h>
#include <stdint.h>

#include "cpu.h"

static void softmax_row(float *z, size_t cols)
{
    float mx = z[0];
    for (size_t c = 1; c < cols; c++)
        mx = z[c] > mx ? z[c] : mx;
    float sum = 0.0f;
    for (size_t c = 0; c < cols; c++) {
        z[c] = expf(z[c] - mx);
        sum += z[c];
    }
    const float inv = 1.0f / sum;
    for (size_t c = 0; c < cols; c++)
        z[c] *= inv;
}

void cpu_activate(clcnn_activation act, size_t rows, size_t cols, float *y)
{
    const size_t n = rows * cols;
    switch (act) {
    case CLCNN_ACT_IDENTITY:
        break;
    case CLCNN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] < 0.0f ? 0.0f : y[i]; /* a NaN passes through, as in numpy */
        break;
    case CLCNN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = 1.0f / (1.0f + expf(-y[i]));
        break;
    case CLCNN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanhf(y[i]);
        break;
    case CLCNN_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++)
            softmax_row(y + r * cols, cols);
        break;
    }
}

int cpu_activation_forward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *xb,
                           clcnn_buf *yb)
{
    (void)bctx;
    const float *x = CF32(xb);
    float *y = F32(yb);
    if (x != y)
        for (size_t i = 0; i < rows * cols; i++)
            y[i] = x[i];
    cpu_activate(act, rows, cols, y);
    return CLCNN_OK;
}

int cpu_activation_backward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *yb,
                            const clcnn_buf *dyb, clcnn_buf *dzb)
{
    (void)bctx;
    const float *y = CF32(yb), *dy = CF32(dyb);
    float *dz = F32(dzb);
    const size_t n = rows * cols;
    switch (act) {
    case CLCNN_ACT_IDENTITY:
        for (size_t i = 0; i < n; i++)
            dz[i] = dy[i];
        break;
    case CLCNN_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            dz[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case CLCNN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            dz[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case CLCNN_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            dz[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case CLCNN_ACT_SOFTMAX:
        for (size_t r = 0; r < rows; r++) {
            const float *yr = y + r * cols, *dr = dy + r * cols;
            float dot = 0.0f;
            for (size_t c = 0; c < cols; c++)
                dot += yr[c] * dr[c];
            for (size_t c = 0; c < cols; c++)
                dz[r * cols + c] = yr[c] * (dr[c] - dot);
        }
        break;
    }
    return CLCNN_OK;
}

int cpu_softmax_xent(void *bctx, size_t m, size_t k, const clcnn_buf *logitsb, const clcnn_buf *labelsb,
                     float grad_scale, clcnn_buf *dlogitsb, clcnn_buf *statsb)
{
    (void)bctx;
    const float *logits = CF32(logitsb);
    const int32_t *labels = (const int32_t *)(const void *)labelsb;
    float *dlogits = F32(dlogitsb), *stats = F32(statsb);
    double loss = 0.0;
    float correct = 0.0f;
    for (size_t r = 0; r < m; r++) {
        const float *z = logits + r * k;
        size_t best = 0;
        for (size_t c = 1; c < k; c++)
            if (z[c] > z[best])
                best = c;
        const float mx = z[best];
        float sum = 0.0f;
        for (size_t c = 0; c < k; c++)
            sum += expf(z[c] - mx);
        const size_t label = (size_t)labels[r];
        loss += (double)(logf(sum) - (z[label] - mx));
        correct += (best == label);
        const float inv = 1.0f / sum;
        for (size_t c = 0; c < k; c++) {
            float p = expf(z[c] - mx) * inv;
            if (dlogits)
                dlogits[r * k + c] = (p - (c == label ? 1.0f : 0.0f)) / grad_scale;
        }
    }
    stats[0] += (float)loss;
    stats[1] += correct;
    return CLCNN_OK;
}

int cpu_adam_update(void *bctx, size_t count, clcnn_buf *wb, const clcnn_buf *gb, clcnn_buf *mb, clcnn_buf *vb,
                    float lr_t, float b1, float b2, float eps)
{
    (void)bctx;
    float *restrict w = F32(wb), *restrict m = F32(mb), *restrict v = F32(vb);
    const float *restrict g = CF32(gb);
    for (size_t i = 0; i < count; i++) {
        m[i] = cpu_flush_subnormal(b1 * m[i] + (1.0f - b1) * g[i]);
        v[i] = cpu_flush_subnormal(b2 * v[i] + (1.0f - b2) * g[i] * g[i]);
        w[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
    return CLCNN_OK;
}

int cpu_gather_batch(void *bctx, const clcnn_buf *imagesb, int images_u8, size_t row_len, const clcnn_buf *labelsb,
                     const clcnn_buf *indicesb, size_t first, size_t m, clcnn_buf *xb, clcnn_buf *yb)
{
    (void)bctx;
    const int32_t *idx = (const int32_t *)(const void *)indicesb + first;
    const int32_t *labels = (const int32_t *)(const void *)labelsb;
    float *x = F32(xb);
    int32_t *y = (int32_t *)(void *)yb;
    for (size_t r = 0; r < m; r++) {
        const size_t src = (size_t)idx[r];
        float *xr = x + r * row_len;
        if (images_u8) {
            const uint8_t *in = (const uint8_t *)(const void *)imagesb + src * row_len;
            for (size_t i = 0; i < row_len; i++)
                xr[i] = (float)in[i] / 255.0f;
        } else {
            const float *in = CF32(imagesb) + src * row_len;
            for (size_t i = 0; i < row_len; i++)
                xr[i] = in[i];
        }
        if (y)
            y[r] = labels[src];
    }
    return CLCNN_OK;
}
