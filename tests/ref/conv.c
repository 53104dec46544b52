/* Convolution, straight from DESIGN.md section 1:
 *   Z[n,i,j,k] = b[k] + sum_{p,q,c} A_pad[n, i*sh+p, j*sw+q, c] * W[p,q,c,k]
 * and its exact gradients (what falls on padding is dropped). */
#include <stdlib.h>

#include "ref.h"

void ref_conv_shape(ref_conv *g)
{
    size_t pad_h = 0, pad_w = 0;
    if (g->padding == CLCNN_PAD_SAME) {
        g->oh = (g->h + g->sh - 1) / g->sh;
        g->ow = (g->w + g->sw - 1) / g->sw;
        size_t need_h = (g->oh - 1) * g->sh + g->kh, need_w = (g->ow - 1) * g->sw + g->kw;
        pad_h = need_h > g->h ? need_h - g->h : 0;
        pad_w = need_w > g->w ? need_w - g->w : 0;
    } else {
        g->oh = (g->h - g->kh) / g->sh + 1;
        g->ow = (g->w - g->kw) / g->sw + 1;
    }
    g->pad_top = pad_h / 2;
    g->pad_left = pad_w / 2;
}

/* The input cell (r, s) that output (i, j) reads through tap (p, q); 0 when
 * it falls on padding. */
static int input_cell(const ref_conv *g, size_t i, size_t j, size_t p, size_t q, size_t *r, size_t *s)
{
    long rr = (long)(i * g->sh + p) - (long)g->pad_top, ss = (long)(j * g->sw + q) - (long)g->pad_left;
    if (rr < 0 || ss < 0 || rr >= (long)g->h || ss >= (long)g->w)
        return 0;
    *r = (size_t)rr;
    *s = (size_t)ss;
    return 1;
}

#define X(n, r, s, c) x[(((n) * g->h + (r)) * g->w + (s)) * g->c + (c)]
#define W(p, q, c, k) w[(((p) * g->kw + (q)) * g->c + (c)) * g->k + (k)]
#define OUT(n, i, j, k) ((((n) * g->oh + (i)) * g->ow + (j)) * g->k + (k))

int ref_conv_forward(const ref_conv *g, const float *x, const float *w, const float *b, clcnn_activation act,
                     ref_out y)
{
    const size_t count = g->n * g->oh * g->ow * g->k;
    double *z = malloc((count ? count : 1) * sizeof *z), *zerr = malloc((count ? count : 1) * sizeof *zerr);
    if (!z || !zerr) {
        free(z);
        free(zerr);
        return -1;
    }
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++)
                for (size_t k = 0; k < g->k; k++) {
                    ref_acc a = {0};
                    ref_acc_add(&a, b[k]);
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++) {
                            size_t r, s;
                            if (input_cell(g, i, j, p, q, &r, &s))
                                for (size_t c = 0; c < g->c; c++)
                                    ref_acc_add(&a, (double)X(n, r, s, c) * W(p, q, c, k));
                        }
                    z[OUT(n, i, j, k)] = a.sum;
                    zerr[OUT(n, i, j, k)] = ref_acc_err(&a);
                }
    ref_activate(act, g->n * g->oh * g->ow, g->k, z, zerr, y);
    free(z);
    free(zerr);
    return 0;
}

static void finish(const ref_acc *a, size_t count, ref_out out)
{
    for (size_t i = 0; i < count; i++) {
        out.v[i] = a[i].sum;
        out.err[i] = ref_acc_err(&a[i]);
    }
}

int ref_conv_backward(const ref_conv *g, const float *dz, const float *x, const float *w, ref_out dx, ref_out dw,
                      ref_out db)
{
    const size_t nx = g->n * g->h * g->w * g->c, nw = g->kh * g->kw * g->c * g->k;
    ref_acc *ax = ref_acc_array(nx), *aw = ref_acc_array(nw), *ab = ref_acc_array(g->k);
    if (!ax || !aw || !ab) {
        free(ax);
        free(aw);
        free(ab);
        return -1;
    }
    for (size_t n = 0; n < g->n; n++)
        for (size_t i = 0; i < g->oh; i++)
            for (size_t j = 0; j < g->ow; j++)
                for (size_t k = 0; k < g->k; k++) {
                    const double d = dz[OUT(n, i, j, k)];
                    ref_acc_add(&ab[k], d);
                    for (size_t p = 0; p < g->kh; p++)
                        for (size_t q = 0; q < g->kw; q++) {
                            size_t r, s;
                            if (!input_cell(g, i, j, p, q, &r, &s))
                                continue;
                            for (size_t c = 0; c < g->c; c++) {
                                ref_acc_add(&ax[((n * g->h + r) * g->w + s) * g->c + c], d * W(p, q, c, k));
                                ref_acc_add(&aw[((p * g->kw + q) * g->c + c) * g->k + k], d * X(n, r, s, c));
                            }
                        }
                }
    finish(ax, nx, dx);
    finish(aw, nw, dw);
    finish(ab, g->k, db);
    free(ax);
    free(aw);
    free(ab);
    return 0;
}
