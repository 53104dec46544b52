/* Local response normalisation across channels, forward and backward, one
 * image per task; each pixel's channels are contiguous. */
#include <math.h>

#include "cpu.h"

typedef struct lrn_job {
    void *bctx;
    const lrn_geom *g;
    const float *x, *dy;
    float *y, *dx;
} lrn_job;

/* The channels of window(c) (backend.h): c - size/2 .. c + (size-1)/2. */
static size_t window_lo(const lrn_geom *g, size_t c)
{
    return c >= g->size / 2 ? c - g->size / 2 : 0;
}

static size_t window_hi(const lrn_geom *g, size_t c)
{
    const size_t hi = c + (g->size - 1) / 2;
    return hi < g->c ? hi : g->c - 1;
}

/* s[c] = k + alpha * the sum of x^2 over window(c), for one pixel. */
static void scales(const lrn_geom *g, const float *restrict x, float *restrict sq, float *restrict s)
{
    for (size_t c = 0; c < g->c; c++)
        sq[c] = x[c] * x[c];
    for (size_t c = 0; c < g->c; c++) {
        float sum = 0.0f;
        for (size_t d = window_lo(g, c); d <= window_hi(g, c); d++)
            sum += sq[d];
        s[c] = g->k + g->alpha * sum;
    }
}

static void forward_image(void *arg, size_t n, int thread)
{
    const lrn_job *j = arg;
    const lrn_geom *g = j->g;
    float *sq = cpu_scratch_of(j->bctx, thread), *s = sq + g->c;
    for (size_t p = n * g->h * g->w; p < (n + 1) * g->h * g->w; p++) {
        const float *x = j->x + p * g->c;
        float *y = j->y + p * g->c;
        scales(g, x, sq, s);
        for (size_t c = 0; c < g->c; c++)
            y[c] = x[c] * powf(s[c], -g->beta);
    }
}

int cpu_lrn_forward(void *bctx, const lrn_geom *g, const clcnn_buf *x, clcnn_buf *y)
{
    int st = cpu_scratch_reserve(bctx, 2 * g->c);
    if (st)
        return st;
    lrn_job j = {.bctx = bctx, .g = g, .x = CF32(x), .y = F32(y)};
    cpu_parallel(bctx, g->n, forward_image, &j);
    return CLCNN_OK;
}

/* dx[i] = dy[i] s[i]^-beta - 2 alpha beta x[i] * sum of t[c] over the c
 * whose window holds i (c = i - (size-1)/2 .. i + size/2), with
 * t[c] = dy[c] x[c] s[c]^(-beta-1). */
static void backward_image(void *arg, size_t n, int thread)
{
    const lrn_job *j = arg;
    const lrn_geom *g = j->g;
    float *sq = cpu_scratch_of(j->bctx, thread), *s = sq + g->c, *t = s + g->c;
    const float two_ab = 2.0f * g->alpha * g->beta;
    for (size_t p = n * g->h * g->w; p < (n + 1) * g->h * g->w; p++) {
        const float *x = j->x + p * g->c, *dy = j->dy + p * g->c;
        float *dx = j->dx + p * g->c;
        scales(g, x, sq, s);
        for (size_t c = 0; c < g->c; c++) {
            const float scaled = powf(s[c], -g->beta);
            t[c] = dy[c] * x[c] * scaled / s[c];
            s[c] = scaled; /* s^-beta from here on */
        }
        for (size_t i = 0; i < g->c; i++) {
            const size_t lo = i >= (g->size - 1) / 2 ? i - (g->size - 1) / 2 : 0;
            const size_t hi = i + g->size / 2 < g->c ? i + g->size / 2 : g->c - 1;
            float sum = 0.0f;
            for (size_t c = lo; c <= hi; c++)
                sum += t[c];
            dx[i] = dy[i] * s[i] - two_ab * x[i] * sum;
        }
    }
}

int cpu_lrn_backward(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx)
{
    int st = cpu_scratch_reserve(bctx, 3 * g->c);
    if (st)
        return st;
    lrn_job j = {.bctx = bctx, .g = g, .x = CF32(x), .dy = CF32(dy), .dx = F32(dx)};
    cpu_parallel(bctx, g->n, backward_image, &j);
    return CLCNN_OK;
}
