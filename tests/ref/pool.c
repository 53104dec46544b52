/* Pooling, from DESIGN.md section 1 (windows may overlap or leave gaps;
 * max backward gives every cell equal to the window maximum the full
 * gradient), with PyTorch's padding and ceil mode: padded cells never win a
 * max, and an avg divides by the window's input cells or, with
 * include_pad, by its cells within the padded input. */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

/* One axis: floor or ceil, less one when ceil mode's last window would
 * start beyond the input and the padding before it. */
static size_t axis(size_t in, size_t before, size_t after, size_t k, size_t s, int ceil_mode)
{
    const size_t span = in + before + after - k;
    size_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + before)
        out--;
    return out;
}

void ref_pool_shape(ref_pool *g)
{
    g->oh = axis(g->h, g->pad_top, g->pad_bottom, g->kh, g->sh, g->ceil_mode);
    g->ow = axis(g->w, g->pad_left, g->pad_right, g->kw, g->sw, g->ceil_mode);
}

#define X(n, r, s, c) x[(((n) * g->h + (r)) * g->w + (s)) * g->c + (c)]
#define IN(n, r, s, c) ((((n) * g->h + (r)) * g->w + (s)) * g->c + (c))
#define OUT(n, i, j, c) ((((n) * g->oh + (i)) * g->ow + (j)) * g->c + (c))

/* Window (i, j): the padded coordinates it covers, row r = i*sh - pad_top
 * + p for p < kh; in_input tells whether (r, s) is an input cell. */
static int in_input(const ref_pool *g, size_t i, size_t j, size_t p, size_t q, size_t *r, size_t *s)
{
    long rr = (long)(i * g->sh + p) - (long)g->pad_top, ss = (long)(j * g->sw + q) - (long)g->pad_left;
    if (rr < 0 || ss < 0 || rr >= (long)g->h || ss >= (long)g->w)
        return 0;
    *r = (size_t)rr, *s = (size_t)ss;
    return 1;
}

/* The avg divisor of window (i, j): its input cells, or with include_pad
 * its cells within the padded input. */
static double divisor(const ref_pool *g, size_t i, size_t j)
{
    size_t count = 0;
    for (size_t p = 0; p < g->kh; p++)
        for (size_t q = 0; q < g->kw; q++) {
            size_t r, s;
            const size_t pr = i * g->sh + p, pc = j * g->sw + q; /* in the padded input */
            if (g->include_pad ? pr < g->h + g->pad_top + g->pad_bottom && pc < g->w + g->pad_left + g->pad_right
                               : in_input(g, i, j, p, q, &r, &s))
                count++;
        }
    return (double)count;
}

static double window_max(const ref_pool *g, const float *x, size_t n, size_t i, size_t j, size_t c)
{
    double mx = -INFINITY;
    for (size_t p = 0; p < g->kh; p++)
        for (size_t q = 0; q < g->kw; q++) {
            size_t r, s;
            if (in_input(g, i, j, p, q, &r, &s))
                mx = fmax(mx, X(n, r, s, c));
        }
    return mx;
}

void ref_pool_forward(const ref_pool *g, const float *x, ref_out y)
{
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++)
                for (size_t c = 0; c < g->c; c++) {
                    const size_t o = OUT(n, i, j, c);
                    if (g->mode == CLCNN_POOL_MAX) {
                        y.v[o] = window_max(g, x, n, i, j, c);
                        y.err[o] = 0.0; /* a max is exact */
                        continue;
                    }
                    const double area = divisor(g, i, j);
                    ref_acc a = {0};
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++) {
                            size_t r, s;
                            if (in_input(g, i, j, p, q, &r, &s))
                                ref_acc_add(&a, X(n, r, s, c));
                        }
                    y.v[o] = a.sum / area;
                    y.err[o] = ref_acc_err(&a) / area + REF_U * REF_FN_ULPS * fabs(y.v[o]);
                }
}

int ref_pool_backward(const ref_pool *g, const float *dy, const float *x, ref_out dx)
{
    const size_t nx = g->n * g->h * g->w * g->c;
    ref_acc *a = ref_acc_array(nx);
    double *scaled = calloc(nx ? nx : 1, sizeof *scaled); /* sum of |dy / area| that reached each cell */
    if (!a || !scaled) {
        free(a);
        free(scaled);
        return -1;
    }
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++)
                for (size_t c = 0; c < g->c; c++) {
                    const double d = dy[OUT(n, i, j, c)];
                    const double mx = g->mode == CLCNN_POOL_MAX ? window_max(g, x, n, i, j, c) : 0.0;
                    const double area = g->mode == CLCNN_POOL_AVG ? divisor(g, i, j) : 1.0;
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++) {
                            size_t r, s;
                            if (!in_input(g, i, j, p, q, &r, &s))
                                continue;
                            const size_t at = IN(n, r, s, c);
                            if (g->mode == CLCNN_POOL_AVG) {
                                ref_acc_add(&a[at], d / area);
                                scaled[at] += fabs(d / area);
                            } else if (X(n, r, s, c) == mx) {
                                ref_acc_add(&a[at], d);
                            }
                        }
                }
    for (size_t i = 0; i < nx; i++) {
        dx.v[i] = a[i].sum;
        dx.err[i] = ref_acc_err(&a[i]) + REF_U * REF_FN_ULPS * scaled[i];
    }
    free(a);
    free(scaled);
    return 0;
}
