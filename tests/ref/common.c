/* What every family shares: accumulations with their error bounds, and
 * the activations. */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

void ref_acc_add(ref_acc *a, double term)
{
    a->sum += term;
    a->mag += fabs(term);
    a->n++;
}

double ref_acc_err(const ref_acc *a)
{
    const double n = (double)a->n;
    const double g = n <= REF_LAMBDA * REF_LAMBDA ? n / (1.0 - n * REF_U) : REF_LAMBDA * sqrt(n);
    return REF_U * g * a->mag;
}

ref_acc *ref_acc_array(size_t count)
{
    return calloc(count ? count : 1, sizeof(ref_acc));
}

static double fn_err(double v)
{
    return REF_U * REF_FN_ULPS * fabs(v);
}

void ref_activate(clcnn_activation act, size_t rows, size_t cols, const double *z, const double *zerr, ref_out y)
{
    for (size_t r = 0; r < rows; r++) {
        const double *zr = z + r * cols, *er = zerr ? zerr + r * cols : NULL;
        double *yr = y.v + r * cols, *yerr = y.err + r * cols;
        if (act == CLCNN_ACT_SOFTMAX) {
            double mx = zr[0], emax = 0.0, sum = 0.0;
            for (size_t c = 0; c < cols; c++) {
                mx = zr[c] > mx ? zr[c] : mx;
                emax = er && er[c] > emax ? er[c] : emax;
            }
            for (size_t c = 0; c < cols; c++)
                sum += exp(zr[c] - mx);
            for (size_t c = 0; c < cols; c++) {
                const double p = exp(zr[c] - mx) / sum;
                /* an input error moves p_k by at most 2 p_k max_j err_j; the
                 * float32 softmax itself rounds z - max (relative error
                 * u |z - max| in p) and sums cols terms */
                yerr[c] = 2.0 * p * emax + REF_U * p * ((double)cols + fabs(zr[c] - mx)) + fn_err(p);
                yr[c] = p;
            }
            continue;
        }
        for (size_t c = 0; c < cols; c++) {
            const double zi = zr[c], e = er ? er[c] : 0.0;
            switch (act) {
            case CLCNN_ACT_RELU:
                yr[c] = zi > 0.0 ? zi : 0.0;
                yerr[c] = e;
                break;
            case CLCNN_ACT_SIGMOID:
                yr[c] = 1.0 / (1.0 + exp(-zi));
                yerr[c] = 0.25 * e + fn_err(yr[c]);
                break;
            case CLCNN_ACT_TANH:
                yr[c] = tanh(zi);
                yerr[c] = e + fn_err(yr[c]);
                break;
            default:
                yr[c] = zi;
                yerr[c] = e;
                break;
            }
        }
    }
}

void ref_activation_backward(clcnn_activation act, size_t rows, size_t cols, const float *y, const float *dy,
                             ref_out dz)
{
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *dr = dy + r * cols;
        double *out = dz.v + r * cols, *err = dz.err + r * cols;
        ref_acc dot = {0};
        if (act == CLCNN_ACT_SOFTMAX)
            for (size_t c = 0; c < cols; c++)
                ref_acc_add(&dot, (double)yr[c] * dr[c]);
        for (size_t c = 0; c < cols; c++) {
            const double yi = yr[c], g = dr[c];
            switch (act) {
            case CLCNN_ACT_RELU:
                out[c] = yi > 0.0 ? g : 0.0;
                err[c] = 0.0;
                break;
            case CLCNN_ACT_SIGMOID: /* three roundings: 1 - y, and two products */
                out[c] = g * yi * (1.0 - yi);
                err[c] = 3.0 * REF_U * fabs(out[c]);
                break;
            case CLCNN_ACT_TANH: /* y*y, 1 - y*y, the product */
                out[c] = g * (1.0 - yi * yi);
                err[c] = REF_U * fabs(g) * (yi * yi + 2.0 * fabs(1.0 - yi * yi));
                break;
            case CLCNN_ACT_SOFTMAX: /* y (dy - dot) */
                out[c] = yi * (g - dot.sum);
                err[c] = fabs(yi) * (ref_acc_err(&dot) + REF_U * (fabs(g) + fabs(dot.sum))) + REF_U * fabs(out[c]);
                break;
            default:
                out[c] = g;
                err[c] = 0.0;
                break;
            }
        }
    }
}
