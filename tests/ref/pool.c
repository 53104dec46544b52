/* Pooling, from DESIGN.md section 1: no padding, windows may overlap or
 * leave gaps; max backward gives every cell equal to the window maximum
 * the full gradient. */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

void ref_pool_shape(ref_pool *g)
{
    g->oh = (g->h - g->kh) / g->sh + 1;
    g->ow = (g->w - g->kw) / g->sw + 1;
}

#define X(n, r, s, c) x[(((n) * g->h + (r)) * g->w + (s)) * g->c + (c)]
#define IN(n, r, s, c) ((((n) * g->h + (r)) * g->w + (s)) * g->c + (c))
#define OUT(n, i, j, c) ((((n) * g->oh + (i)) * g->ow + (j)) * g->c + (c))

static double window_max(const ref_pool *g, const float *x, size_t n, size_t i, size_t j, size_t c)
{
    double mx = X(n, i * g->sh, j * g->sw, c);
    for (size_t p = 0; p < g->kh; p++)
        for (size_t q = 0; q < g->kw; q++)
            mx = fmax(mx, X(n, i * g->sh + p, j * g->sw + q, c));
    return mx;
}

void ref_pool_forward(const ref_pool *g, const float *x, ref_out y)
{
    const double area = (double)(g->kh * g->kw);
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
                    ref_acc a = {0};
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++)
                            ref_acc_add(&a, X(n, i * g->sh + p, j * g->sw + q, c));
                    y.v[o] = a.sum / area;
                    y.err[o] = ref_acc_err(&a) / area + REF_U * REF_FN_ULPS * fabs(y.v[o]);
                }
}

int ref_pool_backward(const ref_pool *g, const float *dy, const float *x, ref_out dx)
{
    const size_t nx = g->n * g->h * g->w * g->c;
    const double area = (double)(g->kh * g->kw);
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
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++) {
                            const size_t r = i * g->sh + p, s = j * g->sw + q, at = IN(n, r, s, c);
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
