/* Max and average pooling, forward and backward, one image per task; the
 * inner loops run over the contiguous channel axis. */
#include <string.h>

#include "cpu.h"

typedef struct pool_job {
    void *bctx;
    const pool_geom *g;
    const float *x, *dy, *ymax; /* ymax: the forward output, or NULL */
    float *y, *dx;
} pool_job;

static void forward_image(void *arg, size_t n, int thread)
{
    (void)thread;
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const size_t C = g->c;
    const float inv_area = 1.0f / (float)(g->kh * g->kw);
    for (size_t i = 0; i < g->oh; i++)
        for (size_t jj = 0; jj < g->ow; jj++) {
            float *restrict out = j->y + ((n * g->oh + i) * g->ow + jj) * C;
            const float *first = j->x + ((n * g->h + i * g->sh) * g->w + jj * g->sw) * C;
            if (g->mode == CLCNN_POOL_MAX)
                for (size_t c = 0; c < C; c++)
                    out[c] = first[c];
            else
                for (size_t c = 0; c < C; c++)
                    out[c] = 0.0f;
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
}

int cpu_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *xb, clcnn_buf *yb)
{
    pool_job j = {.bctx = bctx, .g = g, .x = CF32(xb), .y = F32(yb)};
    cpu_parallel(bctx, g->n, forward_image, &j);
    return CLCNN_OK;
}

/* Every cell of a window equal to the window's maximum receives the full
 * gradient (DESIGN.md §1); overlapping windows add up.  The maxima come from
 * the forward output when the caller has it, else they are recomputed. */
static void backward_image(void *arg, size_t n, int thread)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const size_t C = g->c;
    const float inv_area = 1.0f / (float)(g->kh * g->kw);
    const float *restrict x = j->x;
    float *restrict dx = j->dx, *restrict scratch = cpu_scratch_of(j->bctx, thread);
    memset(dx + n * g->h * g->w * C, 0, g->h * g->w * C * sizeof *dx);
    for (size_t i = 0; i < g->oh; i++)
        for (size_t jj = 0; jj < g->ow; jj++) {
            const size_t out = ((n * g->oh + i) * g->ow + jj) * C;
            const float *restrict d = j->dy + out;
            const size_t base = ((n * g->h + i * g->sh) * g->w + jj * g->sw) * C;
            const float *mx = j->ymax ? j->ymax + out : scratch;
            if (g->mode == CLCNN_POOL_MAX && !j->ymax) {
                float *m = scratch;
                for (size_t c = 0; c < C; c++)
                    m[c] = x[base + c];
                for (size_t p = 0; p < g->kh; p++)
                    for (size_t q = 0; q < g->kw; q++) {
                        const float *restrict in = x + base + (p * g->w + q) * C;
                        for (size_t c = 0; c < C; c++)
                            m[c] = in[c] > m[c] ? in[c] : m[c];
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
}

int cpu_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dyb, const clcnn_buf *xb, const clcnn_buf *yb,
                      clcnn_buf *dxb)
{
    int st = cpu_scratch_reserve(bctx, g->c);
    if (st)
        return st;
    pool_job j = {.bctx = bctx, .g = g, .x = CF32(xb), .dy = CF32(dyb), .ymax = yb ? CF32(yb) : NULL, .dx = F32(dxb)};
    cpu_parallel(bctx, g->n, backward_image, &j);
    return CLCNN_OK;
}
