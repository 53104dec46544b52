/* Max and average pooling, forward and backward, one image per task; the
 * inner loops run over the contiguous channel axis.  Windows that reach
 * beyond the input (pads, ceil mode: g->padded) take the *_padded
 * functions, which clip each window to the input; windows that tile it
 * (stride = window) take the *_tiled ones, whose loops run along whole
 * input rows. */
#include <stdint.h>
#include <string.h>

#include "cpu.h"

typedef struct pool_job {
    void *bctx;
    const pool_geom *g;
    const float *x, *dy, *ymax; /* ymax: the forward output, or NULL */
    float *y, *dx;
    size_t scratch_at; /* where in a thread's scratch the forward's starts */
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

/* The input rows [*lo, *hi) of window i along one axis, and the window's
 * extent within the padded input (avg's divisor with include_pad). */
static size_t clip_window(size_t i, size_t s, size_t k, size_t before, size_t after, size_t in, size_t *lo,
                          size_t *hi)
{
    const long start = (long)(i * s) - (long)before, end = start + (long)k;
    const long padded_end = (long)(in + after);
    *lo = start > 0 ? (size_t)start : 0;
    *hi = end < (long)in ? (size_t)end : in;
    return (size_t)((end < padded_end ? end : padded_end) - start);
}

/* The input cells of window (i, jj): rows [r0, r1), columns [s0, s1); its
 * divisor for avg. */
static float window_of(const pool_geom *g, size_t i, size_t jj, size_t *r0, size_t *r1, size_t *s0, size_t *s1)
{
    size_t eh = clip_window(i, g->sh, g->kh, g->pad_top, g->pad_bottom, g->h, r0, r1);
    size_t ew = clip_window(jj, g->sw, g->kw, g->pad_left, g->pad_right, g->w, s0, s1);
    return (float)(g->include_pad ? eh * ew : (*r1 - *r0) * (*s1 - *s0));
}

static void forward_image_padded(void *arg, size_t n, int thread)
{
    (void)thread;
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const size_t C = g->c;
    for (size_t i = 0; i < g->oh; i++)
        for (size_t jj = 0; jj < g->ow; jj++) {
            size_t r0, r1, s0, s1;
            const float inv = 1.0f / window_of(g, i, jj, &r0, &r1, &s0, &s1);
            float *restrict out = j->y + ((n * g->oh + i) * g->ow + jj) * C;
            const float *first = j->x + ((n * g->h + r0) * g->w + s0) * C; /* every window holds a cell */
            for (size_t c = 0; c < C; c++)
                out[c] = g->mode == CLCNN_POOL_MAX ? first[c] : 0.0f;
            for (size_t r = r0; r < r1; r++)
                for (size_t q = s0; q < s1; q++) {
                    const float *restrict in = j->x + ((n * g->h + r) * g->w + q) * C;
                    if (g->mode == CLCNN_POOL_MAX)
                        for (size_t c = 0; c < C; c++)
                            out[c] = in[c] > out[c] ? in[c] : out[c];
                    else
                        for (size_t c = 0; c < C; c++)
                            out[c] += in[c];
                }
            if (g->mode == CLCNN_POOL_AVG)
                for (size_t c = 0; c < C; c++)
                    out[c] *= inv;
        }
}

/* Windows that tile the input: stride = window, no padding (LeNet's 2x2). */
static int tiled(const pool_geom *g)
{
    return !g->padded && g->sh == g->kh && g->sw == g->kw;
}

/* The index maps of tiled windows along a row of the ow*kw*C input cells
 * they cover: first[e], for output e = jj*C + c, is the cell where window
 * jj's channel c starts, (jj*kw)*C + c; owner[u], for cell
 * u = (jj*kw + q)*C + c, is its output jj*C + c (owner may be NULL).
 * Loops through them are what compilers turn into vector gathers, where
 * loops over a window's few channels run scalar. */
static void tiled_maps(const pool_geom *g, uint32_t *restrict first, uint32_t *restrict owner)
{
    const size_t C = g->c, kw = g->kw;
    for (size_t jj = 0; jj < g->ow; jj++)
        for (size_t c = 0; c < C; c++) {
            first[jj * C + c] = (uint32_t)(jj * kw * C + c);
            for (size_t q = 0; owner && q < kw; q++)
                owner[(jj * kw + q) * C + c] = (uint32_t)(jj * C + c);
        }
}

/* The maxima m[ow*C] of output row i of tiled windows over image x: first
 * the maxima down the kh input rows, along the whole row at once, into
 * rows[ow*kw*C]; then across each window's kw columns through first
 * (tiled_maps). */
static void row_maxima(const pool_geom *g, const float *restrict x, size_t i, const uint32_t *restrict first,
                       float *restrict rows, float *restrict m)
{
    const size_t C = g->c, W = g->w * C, covered = g->ow * g->kw * C, oc = g->ow * C;
    const float *restrict x0 = x + i * g->kh * W;
    for (size_t u = 0; u < covered; u++)
        rows[u] = x0[u];
    for (size_t p = 1; p < g->kh; p++) {
        const float *restrict xp = x0 + p * W;
        for (size_t u = 0; u < covered; u++)
            rows[u] = xp[u] > rows[u] ? xp[u] : rows[u];
    }
    for (size_t e = 0; e < oc; e++)
        m[e] = rows[first[e]];
    for (size_t q = 1; q < g->kw; q++) {
        const float *restrict col = rows + q * C;
        for (size_t e = 0; e < oc; e++) {
            float v = col[first[e]];
            m[e] = v > m[e] ? v : m[e];
        }
    }
}

/* Whether cpu_pool_planes takes g: max over windows that tile the input. */
int cpu_pool_planes_fits(const pool_geom *g)
{
    return tiled(g) && g->mode == CLCNN_POOL_MAX;
}

/* Output row m of one plane of cpu_pool_planes from its first input row x0,
 * row_maxima's comparisons in its order (each window column's maximum down
 * the rows, then across the columns); kh and kw constants where it is
 * inlined (2 x 2, the usual window, lets the compiler vectorise across the
 * windows). */
static ALWAYS_INLINE void plane_row(size_t ow, size_t kh, size_t kw, const float *restrict x0, size_t ld,
                                    float *restrict m)
{
    for (size_t jj = 0; jj < ow; jj++) {
        float best = 0.0f;
        for (size_t q = 0; q < kw; q++) {
            float r = x0[jj * kw + q];
            for (size_t p = 1; p < kh; p++) {
                float v = x0[p * ld + jj * kw + q];
                r = v > r ? v : r;
            }
            best = q == 0 || r > best ? r : best;
        }
        m[jj] = best;
    }
}

void cpu_pool_planes(const pool_geom *g, const float *restrict z, size_t plane, size_t ld, float *restrict out)
{
    const size_t op = g->oh * g->ow;
    for (size_t c = 0; c < g->c; c++)
        for (size_t i = 0; i < g->oh; i++) {
            const float *x0 = z + c * plane + i * g->kh * ld;
            float *m = out + c * op + i * g->ow;
            if (g->kh == 2 && g->kw == 2)
                plane_row(g->ow, 2, 2, x0, ld, m);
            else
                plane_row(g->ow, g->kh, g->kw, x0, ld, m);
        }
}

/* Floats of row_maxima's scratch: its rows, then first's ow*C entries. */
static size_t row_maxima_floats(const pool_geom *g)
{
    return g->ow * g->kw * g->c + g->ow * g->c;
}

static void forward_image_tiled_max(void *arg, size_t n, int thread)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    float *rows = cpu_scratch_of(j->bctx, thread) + j->scratch_at;
    uint32_t *first = (uint32_t *)(void *)(rows + g->ow * g->kw * g->c);
    tiled_maps(g, first, NULL);
    for (size_t i = 0; i < g->oh; i++)
        row_maxima(g, j->x + n * g->h * g->w * g->c, i, first, rows, j->y + (n * g->oh + i) * g->ow * g->c);
}

/* The forward pass of one image for g's windows. */
static cpu_task_fn forward_fn(const pool_geom *g)
{
    if (g->padded)
        return forward_image_padded;
    if (tiled(g) && g->mode == CLCNN_POOL_MAX)
        return forward_image_tiled_max;
    return forward_image;
}

size_t cpu_pool_forward_floats(const pool_geom *g)
{
    return row_maxima_floats(g);
}

void cpu_pool_forward_images(void *bctx, const pool_geom *g, const float *x, float *y, size_t count, int thread,
                             size_t scratch_at)
{
    pool_job j = {.bctx = bctx, .g = g, .x = x, .y = y, .scratch_at = scratch_at};
    cpu_task_fn fn = forward_fn(g);
    for (size_t n = 0; n < count; n++)
        fn(&j, n, thread);
}

int cpu_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *xb, clcnn_buf *yb)
{
    int st = cpu_scratch_reserve(bctx, cpu_pool_forward_floats(g));
    if (st)
        return st;
    pool_job j = {.bctx = bctx, .g = g, .x = CF32(xb), .y = F32(yb)};
    cpu_parallel(bctx, g->n, forward_fn(g), &j);
    return CLCNN_OK;
}

/* m[c] = the maximum of the window whose first cell is x[base]. */
static void window_max(const pool_geom *g, const float *restrict x, size_t base, float *restrict m)
{
    const size_t C = g->c;
    for (size_t c = 0; c < C; c++)
        m[c] = x[base + c];
    for (size_t p = 0; p < g->kh; p++)
        for (size_t q = 0; q < g->kw; q++) {
            const float *restrict in = x + base + (p * g->w + q) * C;
            for (size_t c = 0; c < C; c++)
                m[c] = in[c] > m[c] ? in[c] : m[c];
        }
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
            if (g->mode == CLCNN_POOL_MAX && !j->ymax)
                window_max(g, x, base, scratch);
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

/* Backward over tiled windows: each cell lies in one window at most, so it
 * is written once, with no zeroing beforehand and no adding; only the
 * cells past the last window are zeroed.  For each output row, its maxima and gradients are first
 * spread out along an input row (each window's C values repeated kw
 * times), so that every window row is then one long branch-free loop the
 * compiler vectorises (a loop over a few channels would run scalar, with a
 * branch per cell that random data mispredicts). */
static void backward_image_tiled(void *arg, size_t n, int thread)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const size_t C = g->c, W = g->w * C, covered = g->ow * g->kw * C, oc = g->ow * C;
    const int is_max = g->mode == CLCNN_POOL_MAX;
    const float scale = is_max ? 1.0f : 1.0f / (float)(g->kh * g->kw);
    const float *restrict x = j->x + n * g->h * W;
    float *restrict dx = j->dx + n * g->h * W;
    /* scratch: the spread maxima and gradients, owner (tiled_maps), this
     * row's maxima, row_maxima's scratch (its rows, then first) */
    float *restrict spread_max = cpu_scratch_of(j->bctx, thread), *restrict spread_d = spread_max + covered;
    uint32_t *restrict owner = (uint32_t *)(void *)(spread_d + covered);
    float *restrict maxima = spread_d + 2 * covered, *rows = maxima + oc;
    uint32_t *first = (uint32_t *)(void *)(rows + covered);
    tiled_maps(g, first, owner);
    for (size_t i = 0; i < g->oh; i++) {
        const float *restrict d = j->dy + (n * g->oh + i) * oc;
        const float *restrict mx = j->ymax ? j->ymax + (n * g->oh + i) * oc : maxima;
        if (is_max && !j->ymax)
            row_maxima(g, x, i, first, rows, maxima);
        /* Each window's maximum and gradient, spread over its cells. */
        if (is_max)
            for (size_t u = 0; u < covered; u++)
                spread_max[u] = mx[owner[u]];
        for (size_t u = 0; u < covered; u++)
            spread_d[u] = d[owner[u]] * scale;
        for (size_t p = 0; p < g->kh; p++) {
            const float *restrict xr = x + (i * g->kh + p) * W;
            float *restrict dr = dx + (i * g->kh + p) * W;
            if (is_max)
                for (size_t u = 0; u < covered; u++)
                    dr[u] = xr[u] == spread_max[u] ? spread_d[u] : 0.0f;
            else
                for (size_t u = 0; u < covered; u++)
                    dr[u] = spread_d[u];
            for (size_t u = covered; u < W; u++)
                dr[u] = 0.0f;
        }
    }
    memset(dx + g->oh * g->kh * W, 0, (g->h - g->oh * g->kh) * W * sizeof *dx);
}

/* backward_image over windows clipped to the input; the maxima, padded
 * cells left out, are those of forward_image_padded. */
static void backward_image_padded(void *arg, size_t n, int thread)
{
    const pool_job *j = arg;
    const pool_geom *g = j->g;
    const size_t C = g->c;
    const float *restrict x = j->x;
    float *restrict dx = j->dx, *restrict scratch = cpu_scratch_of(j->bctx, thread);
    memset(dx + n * g->h * g->w * C, 0, g->h * g->w * C * sizeof *dx);
    for (size_t i = 0; i < g->oh; i++)
        for (size_t jj = 0; jj < g->ow; jj++) {
            size_t r0, r1, s0, s1;
            const float inv = 1.0f / window_of(g, i, jj, &r0, &r1, &s0, &s1);
            const size_t out = ((n * g->oh + i) * g->ow + jj) * C;
            const float *restrict d = j->dy + out;
            const float *mx = j->ymax ? j->ymax + out : scratch;
            if (g->mode == CLCNN_POOL_MAX && !j->ymax) {
                float *m = scratch;
                const float *first = x + ((n * g->h + r0) * g->w + s0) * C;
                for (size_t c = 0; c < C; c++)
                    m[c] = first[c];
                for (size_t r = r0; r < r1; r++)
                    for (size_t q = s0; q < s1; q++) {
                        const float *restrict in = x + ((n * g->h + r) * g->w + q) * C;
                        for (size_t c = 0; c < C; c++)
                            m[c] = in[c] > m[c] ? in[c] : m[c];
                    }
            }
            for (size_t r = r0; r < r1; r++)
                for (size_t q = s0; q < s1; q++) {
                    const size_t at = ((n * g->h + r) * g->w + q) * C;
                    if (g->mode == CLCNN_POOL_AVG)
                        for (size_t c = 0; c < C; c++)
                            dx[at + c] += d[c] * inv;
                    else
                        for (size_t c = 0; c < C; c++)
                            dx[at + c] += x[at + c] == mx[c] ? d[c] : 0.0f;
                }
        }
}

int cpu_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dyb, const clcnn_buf *xb, const clcnn_buf *yb,
                      clcnn_buf *dxb)
{
    /* the maxima of one window, or what backward_image_tiled lists */
    int st = cpu_scratch_reserve(bctx, 3 * g->ow * g->kw * g->c + g->ow * g->c + row_maxima_floats(g));
    if (st)
        return st;
    pool_job j = {.bctx = bctx, .g = g, .x = CF32(xb), .dy = CF32(dyb), .ymax = yb ? CF32(yb) : NULL, .dx = F32(dxb)};
    cpu_parallel(bctx, g->n,
                 g->padded ? backward_image_padded : tiled(g) ? backward_image_tiled : backward_image, &j);
    return CLCNN_OK;
}
