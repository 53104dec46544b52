/* Fully connected layers: y = act(x @ W + b), W of shape (in, out). */
#include <stdlib.h>

#include "ref.h"

int ref_dense_forward(size_t m, size_t in, size_t out, const float *x, const float *w, const float *b,
                      clcnn_activation act, ref_out y)
{
    const size_t count = m * out > 0 ? m * out : 1;
    double *z = malloc(count * sizeof *z), *zerr = malloc(count * sizeof *zerr);
    if (!z || !zerr) {
        free(z);
        free(zerr);
        return -1;
    }
    for (size_t r = 0; r < m; r++)
        for (size_t o = 0; o < out; o++) {
            ref_acc a = {0};
            ref_acc_add(&a, b[o]);
            for (size_t i = 0; i < in; i++)
                ref_acc_add(&a, (double)x[r * in + i] * w[i * out + o]);
            z[r * out + o] = a.sum;
            zerr[r * out + o] = ref_acc_err(&a);
        }
    ref_activate(act, m, out, z, zerr, y);
    free(z);
    free(zerr);
    return 0;
}

void ref_dense_backward(size_t m, size_t in, size_t out, const float *dz, const float *x, const float *w, ref_out dx,
                        ref_out dw, ref_out db)
{
    for (size_t r = 0; r < m; r++)
        for (size_t i = 0; i < in; i++) {
            ref_acc a = {0};
            for (size_t o = 0; o < out; o++)
                ref_acc_add(&a, (double)dz[r * out + o] * w[i * out + o]);
            dx.v[r * in + i] = a.sum;
            dx.err[r * in + i] = ref_acc_err(&a);
        }
    for (size_t i = 0; i < in; i++)
        for (size_t o = 0; o < out; o++) {
            ref_acc a = {0};
            for (size_t r = 0; r < m; r++)
                ref_acc_add(&a, (double)x[r * in + i] * dz[r * out + o]);
            dw.v[i * out + o] = a.sum;
            dw.err[i * out + o] = ref_acc_err(&a);
        }
    for (size_t o = 0; o < out; o++) {
        ref_acc a = {0};
        for (size_t r = 0; r < m; r++)
            ref_acc_add(&a, dz[r * out + o]);
        db.v[o] = a.sum;
        db.err[o] = ref_acc_err(&a);
    }
}
