/* The loss, Adam and batch assembly. */
#include <math.h>

#include "ref.h"

static double fn_err(double v)
{
    return REF_U * REF_FN_ULPS * fabs(v);
}

void ref_softmax_xent(size_t m, size_t k, const float *logits, const int32_t *labels, float grad_scale,
                      const float *stats0, ref_out dlogits, ref_out stats)
{
    ref_acc loss = {0};
    double loss_err = 0.0, correct = 0.0;
    for (size_t r = 0; r < m; r++) {
        const float *z = logits + r * k;
        size_t best = 0; /* the first maximum */
        for (size_t c = 1; c < k; c++)
            if (z[c] > z[best])
                best = c;
        const double mx = z[best];
        double sum = 0.0, spread = 0.0;
        for (size_t c = 0; c < k; c++) {
            sum += exp(z[c] - mx);
            spread = fmax(spread, mx - z[c]);
        }
        const size_t label = (size_t)labels[r];
        const double lr = log(sum) - (z[label] - mx);
        ref_acc_add(&loss, lr);
        /* float32's sum of exps is off by u (k + spread) relatively, its
         * log by that much absolutely, plus log's own ulps */
        loss_err += REF_U * ((double)k + spread + fabs(mx - z[label])) + fn_err(log(sum)) + REF_U * fabs(lr);
        correct += best == label;
        for (size_t c = 0; c < k; c++) {
            const double p = exp(z[c] - mx) / sum, onehot = c == label ? 1.0 : 0.0;
            const double perr = REF_U * p * ((double)k + (mx - z[c])) + fn_err(p);
            dlogits.v[r * k + c] = (p - onehot) / grad_scale;
            dlogits.err[r * k + c] = (perr + REF_U * fabs(p - onehot)) / fabs(grad_scale) +
                                     fn_err(dlogits.v[r * k + c]);
        }
    }
    stats.v[0] = stats0[0] + loss.sum;
    stats.err[0] = ref_acc_err(&loss) + loss_err + REF_U * fabs(stats.v[0]);
    stats.v[1] = stats0[1] + correct; /* a count: exact */
    stats.err[1] = 0.0;
}

void ref_adam(size_t count, const float *w, const float *g, const float *m, const float *v, float lr_t, float b1,
              float b2, float eps, ref_out w_new, ref_out m_new, ref_out v_new)
{
    /* the constants as float32 code computes them (1 - 0.9f is exact) */
    const double c1 = (double)(1.0f - b1), c2 = (double)(1.0f - b2);
    for (size_t i = 0; i < count; i++) {
        const double gi = g[i];
        const double mi = b1 * (double)m[i] + c1 * gi, vi = b2 * (double)v[i] + c2 * gi * gi;
        /* two products and a sum; three products and a sum */
        const double merr = 2.0 * REF_U * (fabs(b1 * (double)m[i]) + fabs(c1 * gi)) + REF_U * fabs(mi);
        const double verr = 2.0 * REF_U * fabs(b2 * (double)v[i]) + 3.0 * REF_U * c2 * gi * gi + REF_U * vi;
        const double root = sqrt(vi), denom = root + eps, step = lr_t * mi / denom;
        const double root_err = vi > 0.0 ? verr / (2.0 * root) : sqrt(verr);
        const double step_err = lr_t * merr / denom + fabs(step) * root_err / denom + fn_err(step);
        m_new.v[i] = mi;
        m_new.err[i] = merr;
        v_new.v[i] = vi;
        v_new.err[i] = verr;
        w_new.v[i] = w[i] - step;
        w_new.err[i] = step_err + REF_U * fabs(w_new.v[i]);
    }
}

void ref_gather_batch(const void *images, int images_u8, size_t row_len, const int32_t *labels,
                      const int32_t *indices, size_t m, ref_out x, int32_t *y)
{
    for (size_t r = 0; r < m; r++) {
        const size_t src = (size_t)indices[r];
        for (size_t i = 0; i < row_len; i++) {
            double val;
            if (images_u8)
                val = ((const uint8_t *)images)[src * row_len + i] / 255.0;
            else
                val = ((const float *)images)[src * row_len + i];
            x.v[r * row_len + i] = val;
            x.err[r * row_len + i] = images_u8 ? fn_err(val) : 0.0; /* a division; a copy is exact */
        }
        if (y)
            y[r] = labels[src];
    }
}
