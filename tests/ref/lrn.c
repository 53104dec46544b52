/* Local response normalisation across channels (Krizhevsky et al. 2012,
 * section 3.3), straight from the definition: per pixel,
 *   y[c] = x[c] / (k + alpha * sum_{c' in window(c)} x[c']^2)^beta,
 * window(c) = the channels c' with c - size/2 <= c' <= c + (size-1)/2;
 * the backward pass is the Jacobian's transpose applied to dy, element by
 * element. */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

static int in_window(const ref_lrn *g, size_t c, size_t d)
{
    return d + g->size / 2 >= c && d <= c + (g->size - 1) / 2;
}

/* s[c] of one pixel, and the size of its accumulation (k, alpha and the
 * squares of its window: every term positive, so its rounding error is
 * u * g(terms) * s). */
static double scale(const ref_lrn *g, const float *x, size_t c, size_t *terms)
{
    double sum = 0.0;
    *terms = 3;
    for (size_t d = 0; d < g->c; d++)
        if (in_window(g, c, d)) {
            sum += (double)x[d] * x[d];
            ++*terms;
        }
    return (double)g->k + (double)g->alpha * sum;
}

static double gamma_u(size_t n)
{
    ref_acc a = {.mag = 1.0, .n = n};
    return ref_acc_err(&a);
}

void ref_lrn_forward(const ref_lrn *g, const float *x, ref_out y)
{
    for (size_t p = 0; p < g->n * g->h * g->w; p++)
        for (size_t c = 0; c < g->c; c++) {
            const size_t o = p * g->c + c;
            size_t terms;
            const double s = scale(g, x + p * g->c, c, &terms);
            y.v[o] = x[o] * pow(s, -(double)g->beta);
            /* s's relative error carries through s^-beta times beta; pow
             * and the product round once each */
            y.err[o] = fabs(y.v[o]) * (g->beta * gamma_u(terms) + REF_U * (REF_FN_ULPS + 1.0));
        }
}

int ref_lrn_backward(const ref_lrn *g, const float *dy, const float *x, ref_out dx)
{
    const double beta = g->beta, two_ab = 2.0 * g->alpha * g->beta;
    double *s = malloc((g->c ? g->c : 1) * sizeof *s);
    size_t *terms = malloc((g->c ? g->c : 1) * sizeof *terms);
    if (!s || !terms) {
        free(s);
        free(terms);
        return -1;
    }
    for (size_t p = 0; p < g->n * g->h * g->w; p++) {
        const float *px = x + p * g->c, *pdy = dy + p * g->c;
        for (size_t c = 0; c < g->c; c++)
            s[c] = scale(g, px, c, &terms[c]);
        for (size_t j = 0; j < g->c; j++) {
            /* d y[c] / d x[j] = [c == j] s[c]^-beta
             *                   - 2 alpha beta x[c] x[j] s[c]^(-beta-1) [j in window(c)] */
            const double a = pdy[j] * pow(s[j], -beta);
            double b = 0.0, bmag = 0.0, berr = 0.0;
            size_t nb = 0;
            for (size_t c = 0; c < g->c; c++)
                if (in_window(g, c, j)) {
                    const double t = pdy[c] * (double)px[c] * pow(s[c], -beta - 1.0);
                    b += t;
                    bmag += fabs(t);
                    /* s[c]'s error through two powers, two pows or a pow and
                     * a division, three products */
                    berr += fabs(t) * ((beta + 1.0) * gamma_u(terms[c]) + REF_U * (2.0 * REF_FN_ULPS + 3.0));
                    nb++;
                }
            ref_acc sum = {.mag = bmag, .n = nb};
            const double bscale = two_ab * fabs((double)px[j]);
            const size_t o = p * g->c + j;
            dx.v[o] = a - two_ab * px[j] * b;
            dx.err[o] = fabs(a) * (beta * gamma_u(terms[j]) + REF_U * (REF_FN_ULPS + 1.0)) +
                        bscale * (berr + ref_acc_err(&sum) + 3.0 * REF_U * bmag) + REF_U * (fabs(a) + bscale * bmag);
        }
    }
    free(s);
    free(terms);
    return 0;
}
