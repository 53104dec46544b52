/*
 * The reference: a deliberately naive implementation of every op family,
 * written straight from DESIGN.md's formulas (direct loops over the
 * definitions, double arithmetic, no threads, no tiling), used only by the
 * tests as the oracle for every backend.  Never tune it: it is right because
 * it is obvious.
 *
 * Inputs are the float32 arrays a backend is given; every output is a
 * ref_out: the exact value (double) and err, a bound on the rounding error
 * a correct float32 evaluation of the same formula may make, in any order
 * of summation:
 *
 *   err = u * (g(n) * sum |terms| + REF_FN_ULPS * |value|)
 *
 * - u = 2^-24, float32's unit round-off;
 * - the first part covers an accumulation of n terms: g(n) = n / (1 - n u)
 *   is the worst-case bound, for any order of summation (gamma_n in
 *   Higham, "Accuracy and Stability of Numerical Algorithms", 2002,
 *   section 3.1); above n = REF_LAMBDA^2 it is replaced by the
 *   probabilistic bound g(n) = REF_LAMBDA * sqrt(n) (Higham and Mary, SIAM
 *   J. Sci. Comput. 41(5), 2019), which holds unless the rounding errors
 *   conspire, with probability below 2n exp(-REF_LAMBDA^2 / 2), 3e-9 at
 *   n = 10^5 (the table's longest sums have 25,088 terms);
 * - the second part is present only where the formula evaluates a math
 *   function or a division (exp, log, tanh, sqrt, 1/x), which OpenCL allows
 *   to be off by a few ulps (OpenCL 1.2, section 7.4: exp, log and sqrt 3,
 *   tanh 5, division 2.5): REF_FN_ULPS covers a short chain of them;
 * - an error in an input of an activation carries through its slope
 *   (1 for relu and tanh, 1/4 for sigmoid; softmax: 2 p_k max_j err_j).
 * Exact operations (max, copies, the tie rule, counts) have err 0.  Bounds
 * of a fixed chain of roundings (an activation's slope, Adam's few
 * operations) are to first order in u.
 */
#ifndef CLCNN_REF_H
#define CLCNN_REF_H

#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"

#define REF_U 0x1p-24
#define REF_LAMBDA 8.0
#define REF_FN_ULPS 16.0

typedef struct ref_out {
    double *v;   /* values */
    double *err; /* rounding-error bounds, as above */
} ref_out;

/* An accumulation: the exact sum, and what its error bound needs. */
typedef struct ref_acc {
    double sum, mag;
    size_t n;
} ref_acc;

void ref_acc_add(ref_acc *a, double term);
/* u * g(n) * sum |terms|. */
double ref_acc_err(const ref_acc *a);
/* An array of count zeroed accumulators (calloc; NULL when out of memory). */
ref_acc *ref_acc_array(size_t count);

/* Convolution geometry (DESIGN.md section 1, with PyTorch's dilation and
 * groups); ref_conv_shape fills oh, ow and, for same or valid padding,
 * pad_top, pad_left from the rest.  Explicit padding (CLCNN_PAD_EXPLICIT)
 * takes pad_top, pad_left, pad_bottom, pad_right as given.  dh, dw, groups:
 * 0 counts as 1; the weights are (kh, kw, c/groups, k). */
typedef struct ref_conv {
    size_t n, h, w, c, kh, kw, k, sh, sw;
    clcnn_padding padding;
    size_t oh, ow, pad_top, pad_left;
    size_t pad_bottom, pad_right, dh, dw, groups;
} ref_conv;

void ref_conv_shape(ref_conv *g);
/* y (n,oh,ow,k) = act(b + conv(x, w)). */
int ref_conv_forward(const ref_conv *g, const float *x, const float *w, const float *b, clcnn_activation act,
                     ref_out y);
/* From dz (n,oh,ow,k): dx (n,h,w,c), dw (kh,kw,c,k), db (k). */
int ref_conv_backward(const ref_conv *g, const float *dz, const float *x, const float *w, ref_out dx, ref_out dw,
                      ref_out db);

/* Pooling geometry; ref_pool_shape fills oh, ow.  Pads, ceil_mode and
 * include_pad as clcnn_pool_params (PyTorch's): padded cells never win a
 * max; an avg divides by the window's input cells, or with include_pad by
 * its cells within the padded input. */
typedef struct ref_pool {
    size_t n, h, w, c, kh, kw, sh, sw;
    clcnn_pool_mode mode;
    size_t oh, ow;
    size_t pad_top, pad_bottom, pad_left, pad_right;
    int ceil_mode, include_pad;
} ref_pool;

void ref_pool_shape(ref_pool *g);
void ref_pool_forward(const ref_pool *g, const float *x, ref_out y);
/* Max: every cell equal to its window's maximum gets the window's full
 * gradient; avg: dy / the divisor to every input cell of the window;
 * overlaps add up. */
int ref_pool_backward(const ref_pool *g, const float *dy, const float *x, ref_out dx);

/* Local response normalisation across channels (clcnn_lrn_forward):
 * per pixel, y[c] = x[c] / (k + alpha sum_{c' in window(c)} x[c']^2)^beta,
 * window(c) = c - size/2 .. c + (size-1)/2, clipped to the channels. */
typedef struct ref_lrn {
    size_t n, h, w, c, size;
    float alpha, beta, k;
} ref_lrn;

void ref_lrn_forward(const ref_lrn *g, const float *x, ref_out y);
/* dx = J^T dy, J the Jacobian of the forward pass at x. */
int ref_lrn_backward(const ref_lrn *g, const float *dy, const float *x, ref_out dx);

/* y (m,out) = act(x (m,in) @ w (in,out) + b). */
int ref_dense_forward(size_t m, size_t in, size_t out, const float *x, const float *w, const float *b,
                      clcnn_activation act, ref_out y);
/* dx = dz @ w^T, dw = x^T @ dz, db = column sums of dz. */
void ref_dense_backward(size_t m, size_t in, size_t out, const float *dz, const float *x, const float *w, ref_out dx,
                        ref_out dw, ref_out db);

/* y = act(z) over rows x cols (softmax along each row), from exact values z
 * with error bounds zerr (NULL: exact inputs); y may be z itself. */
void ref_activate(clcnn_activation act, size_t rows, size_t cols, const double *z, const double *zerr, ref_out y);
/* dz = dy * act'(z), from the activation's output y (backend.h). */
void ref_activation_backward(clcnn_activation act, size_t rows, size_t cols, const float *y, const float *dy,
                             ref_out dz);

/* Softmax cross-entropy (backend.h): dlogits = (p - onehot) /
 * grad_scale, and stats (2 values) = stats0 + {the loss sum, the number of
 * rows whose first maximum is the label}. */
void ref_softmax_xent(size_t m, size_t k, const float *logits, const int32_t *labels, float grad_scale,
                      const float *stats0, ref_out dlogits, ref_out stats);

/* One Adam step (TensorFlow's form, bias corrections folded into lr_t):
 * the new w, m, v from the old ones. */
void ref_adam(size_t count, const float *w, const float *g, const float *m, const float *v, float lr_t, float b1,
              float b2, float eps, ref_out w_new, ref_out m_new, ref_out v_new);

/* Inverted dropout (clcnn_dropout_forward, backend.h's dropout_geom):
 * elements first .. first + count - 1 of the draw for seed (the key is
 * splitmix64 of it); mask receives 0 or 1/(1 - rate) exactly. */
void ref_dropout(size_t count, size_t first, float rate, uint64_t seed, const float *x, ref_out y, float *mask);
/* The key of a dropout seed: splitmix64 of it. */
uint64_t ref_dropout_key(uint64_t seed);
/* clcnn_noise_seed: the seed of a layer at a step. */
uint64_t ref_noise_seed(uint64_t seed, uint64_t step, uint64_t layer);
/* One SGD step (PyTorch's form, include/clcnn.h): the new w and v. */
void ref_sgd(size_t count, const float *w, const float *g, const float *v, float lr, float momentum, float wd,
             int nesterov, ref_out w_new, ref_out v_new);

/* Row r of x is row indices[r] of images (uint8 scaled by 1/255 when
 * images_u8, else float32), y[r] its label. */
void ref_gather_batch(const void *images, int images_u8, size_t row_len, const int32_t *labels,
                      const int32_t *indices, size_t m, ref_out x, int32_t *y);

#endif
