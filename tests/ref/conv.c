/* Convolution, straight from DESIGN.md section 1 with PyTorch's dilation
 * and groups:
 *   Z[n,i,j,k] = b[k] + sum_{p,q,u} A_pad[n, i*sh+p*dh, j*sw+q*dw, c0(k)+u] * W[p,q,u,k]
 * where u runs over the c/groups channels of filter k's group, which
 * starts at c0(k) = (k / (K/groups)) * (c/groups); and its exact gradients
 * (what falls on padding is dropped). */
#include <stdlib.h>

#include "ref.h"

void ref_conv_shape(ref_conv *g)
{
    size_t *ones[] = {&g->dh, &g->dw, &g->groups};
    for (size_t i = 0; i < 3; i++)
        if (*ones[i] == 0)
            *ones[i] = 1;
    const size_t ekh = g->dh * (g->kh - 1) + 1, ekw = g->dw * (g->kw - 1) + 1; /* the dilated extent */
    if (g->padding == CLCNN_PAD_EXPLICIT) {
        g->oh = (g->h + g->pad_top + g->pad_bottom - ekh) / g->sh + 1;
        g->ow = (g->w + g->pad_left + g->pad_right - ekw) / g->sw + 1;
        return;
    }
    size_t pad_h = 0, pad_w = 0;
    if (g->padding == CLCNN_PAD_SAME) {
        g->oh = (g->h + g->sh - 1) / g->sh;
        g->ow = (g->w + g->sw - 1) / g->sw;
        size_t need_h = (g->oh - 1) * g->sh + ekh, need_w = (g->ow - 1) * g->sw + ekw;
        pad_h = need_h > g->h ? need_h - g->h : 0;
        pad_w = need_w > g->w ? need_w - g->w : 0;
    } else {
        g->oh = (g->h - ekh) / g->sh + 1;
        g->ow = (g->w - ekw) / g->sw + 1;
    }
    g->pad_top = pad_h / 2;
    g->pad_left = pad_w / 2;
    g->pad_bottom = pad_h - g->pad_top;
    g->pad_right = pad_w - g->pad_left;
}

/* The input cell (r, s) that output (i, j) reads through tap (p, q); 0 when
 * it falls on padding. */
static int input_cell(const ref_conv *g, size_t i, size_t j, size_t p, size_t q, size_t *r, size_t *s)
{
    long rr = (long)(i * g->sh + p * g->dh) - (long)g->pad_top, ss = (long)(j * g->sw + q * g->dw) - (long)g->pad_left;
    if (rr < 0 || ss < 0 || rr >= (long)g->h || ss >= (long)g->w)
        return 0;
    *r = (size_t)rr;
    *s = (size_t)ss;
    return 1;
}

/* The first input channel of filter k's group. */
static size_t group_first(const ref_conv *g, size_t k)
{
    return k / (g->k / g->groups) * (g->c / g->groups);
}

#define X(n, r, s, ch) x[(((n) * g->h + (r)) * g->w + (s)) * g->c + (ch)]
#define CG (g->c / g->groups)
#define W(p, q, u, k) w[(((p) * g->kw + (q)) * CG + (u)) * g->k + (k)]
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
                                for (size_t u = 0; u < CG; u++)
                                    ref_acc_add(&a, (double)X(n, r, s, group_first(g, k) + u) * W(p, q, u, k));
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
    const size_t nx = g->n * g->h * g->w * g->c, nw = g->kh * g->kw * CG * g->k;
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
                            for (size_t u = 0; u < CG; u++) {
                                const size_t c = group_first(g, k) + u;
                                ref_acc_add(&ax[((n * g->h + r) * g->w + s) * g->c + c], d * W(p, q, u, k));
                                ref_acc_add(&aw[((p * g->kw + q) * CG + u) * g->k + k], d * X(n, r, s, c));
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
