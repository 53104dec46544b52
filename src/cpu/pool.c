/* Max and average pooling, forward and backward. */
#include <string.h>

#include "cpu.h"

int cpu_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *xb, clcnn_buf *yb)
{
    (void)bctx;
    const float *restrict x = CF32(xb);
    float *restrict y = F32(yb);
    const size_t C = g->c;
    const float inv_area = 1.0f / (float)(g->kh * g->kw);
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++) {
                float *restrict out = y + ((n * g->oh + i) * g->ow + j) * C;
                const float *first = x + ((n * g->h + i * g->sh) * g->w + j * g->sw) * C;
                memcpy(out, first, C * sizeof *out);
                if (g->mode == CLCNN_POOL_AVG)
                    memset(out, 0, C * sizeof *out);
                for (size_t p = 0; p < g->kh; p++)
                    for (size_t q = 0; q < g->kw; q++) {
                        const float *restrict in = first + (p * g->w + q) * C;
                        if (g->mode == CLCNN_POOL_MAX) {
                            for (size_t c = 0; c < C; c++)
                                out[c] = in[c] > out[c] ? in[c] : out[c];
                        } else {
                            for (size_t c = 0; c < C; c++)
                                out[c] += in[c];
                        }
                    }
                if (g->mode == CLCNN_POOL_AVG)
                    for (size_t c = 0; c < C; c++)
                        out[c] *= inv_area;
            }
    return CLCNN_OK;
}

/* Every cell of a window equal to the window's maximum receives the full
 * gradient (DESIGN.md §1); overlapping windows add up.  Loops run over the
 * contiguous channel axis. */
int cpu_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dyb, const clcnn_buf *xb, clcnn_buf *dxb)
{
    const float *restrict dy = CF32(dyb), *restrict x = CF32(xb);
    float *restrict dx = F32(dxb);
    const size_t C = g->c;
    const float inv_area = 1.0f / (float)(g->kh * g->kw);
    int st = cpu_scratch_reserve(bctx, C);
    if (st)
        return st;
    float *restrict mx = cpu_scratch_of(bctx, 0);
    memset(dx, 0, g->n * g->h * g->w * C * sizeof *dx);
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++) {
                const float *restrict d = dy + ((n * g->oh + i) * g->ow + j) * C;
                const size_t base = ((n * g->h + i * g->sh) * g->w + j * g->sw) * C;
                if (g->mode == CLCNN_POOL_MAX) {
                    memcpy(mx, x + base, C * sizeof *mx);
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++) {
                            const float *restrict in = x + base + (p * g->w + q) * C;
                            for (size_t c = 0; c < C; c++)
                                mx[c] = in[c] > mx[c] ? in[c] : mx[c];
                        }
                }
                for (size_t p = 0; p < g->kh; p++)
                    for (size_t q = 0; q < g->kw; q++) {
                        const size_t at = base + (p * g->w + q) * C;
                        if (g->mode == CLCNN_POOL_AVG)
                            for (size_t c = 0; c < C; c++)
                                dx[at + c] += d[c] * inv_area;
                        else
                            for (size_t c = 0; c < C; c++)
                                dx[at + c] += x[at + c] == mx[c] ? d[c] : 0.0f;
                    }
            }
    return CLCNN_OK;
}
