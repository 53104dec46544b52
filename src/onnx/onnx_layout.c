/* The layout conversions between ONNX (NCHW, OIHW) and clcnn (NHWC, HWIO). */
#include "onnx_common.h"

void onnx_conv_from_oihw(const float *src, float *dst, size_t o, size_t i, size_t kh, size_t kw)
{
    for (size_t a = 0; a < o; a++)
        for (size_t b = 0; b < i; b++)
            for (size_t p = 0; p < kh; p++)
                for (size_t q = 0; q < kw; q++)
                    dst[((p * kw + q) * i + b) * o + a] = src[((a * i + b) * kh + p) * kw + q];
}

void onnx_conv_to_oihw(const float *src, float *dst, size_t o, size_t i, size_t kh, size_t kw)
{
    for (size_t a = 0; a < o; a++)
        for (size_t b = 0; b < i; b++)
            for (size_t p = 0; p < kh; p++)
                for (size_t q = 0; q < kw; q++)
                    dst[((a * i + b) * kh + p) * kw + q] = src[((p * kw + q) * i + b) * o + a];
}

/* Row (y, x, ch) of the flattened input: CHW index and HWC index. */
static void dense_rows(const float *src, float *dst, size_t h, size_t w, size_t c, size_t n, int to_chw)
{
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            for (size_t ch = 0; ch < c; ch++) {
                size_t chw = (ch * h + y) * w + x, hwc = (y * w + x) * c + ch;
                const float *from = src + (to_chw ? hwc : chw) * n;
                float *to = dst + (to_chw ? chw : hwc) * n;
                for (size_t j = 0; j < n; j++)
                    to[j] = from[j];
            }
}

void onnx_dense_from_chw(const float *src, float *dst, size_t h, size_t w, size_t c, size_t n)
{
    dense_rows(src, dst, h, w, c, n, 0);
}

void onnx_dense_to_chw(const float *src, float *dst, size_t h, size_t w, size_t c, size_t n)
{
    dense_rows(src, dst, h, w, c, n, 1);
}
