/* Batch assembly with augmentation (crop of the zero-padded image, then a
 * mirror): the CPU side of gather_augment (src/core/backend.h). */
#include <stdint.h>

#include "cpu.h"

int cpu_gather_augment(void *bctx, const clcnn_buf *imagesb, int images_u8, size_t h, size_t w, size_t c,
                       const clcnn_buf *labelsb, const clcnn_buf *indicesb, const clcnn_buf *augb, size_t first,
                       size_t m, clcnn_buf *xb, clcnn_buf *yb)
{
    (void)bctx;
    const int32_t *idx = (const int32_t *)(const void *)indicesb + first;
    const int32_t *labels = (const int32_t *)(const void *)labelsb;
    const int32_t *aug = (const int32_t *)(const void *)augb + 3 * first;
    const uint8_t *u8 = (const uint8_t *)(const void *)imagesb;
    const float *f32 = CF32(imagesb);
    float *x = F32(xb);
    int32_t *y = (int32_t *)(void *)yb;
    const size_t row_len = h * w * c;
    for (size_t r = 0; r < m; r++) {
        const size_t src = (size_t)idx[r] * row_len;
        const long dy = aug[3 * r], dx = aug[3 * r + 1];
        const int flip = aug[3 * r + 2] != 0;
        float *xr = x + r * row_len;
        for (size_t i = 0; i < h; i++) {
            const long si = (long)i + dy;
            for (size_t j = 0; j < w; j++) {
                const long sj = (long)(flip ? w - 1 - j : j) + dx;
                float *out = xr + (i * w + j) * c;
                if (si < 0 || si >= (long)h || sj < 0 || sj >= (long)w) {
                    for (size_t k = 0; k < c; k++)
                        out[k] = 0.0f;
                    continue;
                }
                const size_t at = src + ((size_t)si * w + (size_t)sj) * c;
                for (size_t k = 0; k < c; k++)
                    out[k] = images_u8 ? (float)u8[at + k] / 255.0f : f32[at + k];
            }
        }
        if (y)
            y[r] = labels[idx[r]];
    }
    return CLCNN_OK;
}
