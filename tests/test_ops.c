/*
 * The four seed operations against golden data made by
 * tests/golden/make_golden.py (an independent float64 numpy reference).
 *
 * Tolerance: |got - want| <= 1e-6 + 1e-5 |want|.  The inputs are float32 in
 * [-1, 1] (weights and biases in [-0.5, 0.5]); each output is a sum of at
 * most 80 products.  A float32 implementation that accumulates in any order
 * is off by a few units of 2^-24 times the sum of the magnitudes of the
 * terms: emulating plain sequential float32 accumulation over these cases
 * gives at most 5e-7 absolute, i.e. at most 5% of the tolerance.  The
 * absolute 1e-6 is what lets an output that is near zero by cancellation
 * (where a relative bound means nothing) pass; any real mistake (a wrong
 * pad offset, a missing window, a dropped tie) moves results by 1e-2 or more.
 * Max pooling must be exact (it only selects values), and is checked exactly.
 * The dense operations are checked against direct loops in double below
 * (each output a sum of at most 12 products), with the same tolerance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define RTOL 1e-5
#define ATOL 1e-6

typedef struct conv_case {
    const char *name;
    clcnn_padding padding;
    int sh, sw;
    clcnn_activation act;
} conv_case;

typedef struct pool_case {
    const char *name;
    int kh, kw, sh, sw;
    clcnn_pool_mode mode;
} pool_case;

static const conv_case conv_cases[] = {
#define GOLDEN_CONV(name, pad, sh, sw, act) {name, pad, sh, sw, act},
#define GOLDEN_POOL(name, kh, kw, sh, sw, mode)
#include "golden/golden_cases.h"
#undef GOLDEN_CONV
#undef GOLDEN_POOL
};

static const pool_case pool_cases[] = {
#define GOLDEN_CONV(name, pad, sh, sw, act)
#define GOLDEN_POOL(name, kh, kw, sh, sw, mode) {name, kh, kw, sh, sw, mode},
#include "golden/golden_cases.h"
#undef GOLDEN_CONV
#undef GOLDEN_POOL
};

#define N_CONV ((int)(sizeof conv_cases / sizeof conv_cases[0]))
#define N_POOL ((int)(sizeof pool_cases / sizeof pool_cases[0]))

static clcnn_tensor *golden(clcnn_ctx *ctx, const char *casename, const char *array)
{
    char name[256];
    snprintf(name, sizeof name, "%s_%s", casename, array);
    return tu_golden(ctx, name);
}

static void check_close(const clcnn_tensor *got, const clcnn_tensor *want, const char *casename, const char *what)
{
    char label[256];
    snprintf(label, sizeof label, "%s: %s", casename, what);
    tu_assert_tensor_close(got, want, RTOL, ATOL, label);
}

/* A tensor of t's shape filled with a value no correct result holds, so
 * that an op which forgets to overwrite (or accumulates into) its output
 * is caught. */
static clcnn_tensor *garbage_like(clcnn_ctx *ctx, const clcnn_tensor *t)
{
    size_t shape[CLCNN_MAX_RANK];
    clcnn_tensor_shape(t, shape);
    size_t n = clcnn_tensor_count(t);
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = 12345.0f + (float)i;
    clcnn_tensor *g = tu_tensor(ctx, clcnn_tensor_rank(t), shape, x);
    free(x);
    return g;
}

/* ----------------------------------------------------------- conv forward */

START_TEST(conv_forward_golden)
{
    const conv_case *c = &conv_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *W = golden(ctx, c->name, "W"), *b = golden(ctx, c->name, "b");
    clcnn_tensor *want = golden(ctx, c->name, "A");
    clcnn_tensor *A = NULL;
    int st = clcnn_conv_forward(ctx, x, W, b, c->act, c->padding, c->sh, c->sw, &A);
    ck_assert_msg(st == CLCNN_OK, "%s: %s", c->name, clcnn_errmsg(ctx));
    ck_assert_ptr_nonnull(A);
    check_close(A, want, c->name, "A");

    /* Reuse: the same output tensor, filled with garbage, is overwritten. */
    clcnn_tensor *again = garbage_like(ctx, want);
    clcnn_tensor *keep = again;
    st = clcnn_conv_forward(ctx, x, W, b, c->act, c->padding, c->sh, c->sw, &again);
    ck_assert_msg(st == CLCNN_OK, "%s (reuse): %s", c->name, clcnn_errmsg(ctx));
    ck_assert_ptr_eq(again, keep);
    check_close(again, want, c->name, "A (reused output)");

    clcnn_tensor_free(again);
    clcnn_tensor_free(A);
    clcnn_tensor_free(want);
    clcnn_tensor_free(b);
    clcnn_tensor_free(W);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* The header allows the bias as rank 1 (c_new) as well as (1, 1, 1, c_new). */
START_TEST(conv_forward_rank1_bias)
{
    const conv_case *c = &conv_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *W = golden(ctx, c->name, "W"), *b4 = golden(ctx, c->name, "b");
    clcnn_tensor *want = golden(ctx, c->name, "A");
    size_t c_new = clcnn_tensor_count(b4);
    float *bv = tu_read(b4);
    clcnn_tensor *b1 = tu_tensor(ctx, 1, &c_new, bv);
    free(bv);
    clcnn_tensor *A = NULL;
    int st = clcnn_conv_forward(ctx, x, W, b1, c->act, c->padding, c->sh, c->sw, &A);
    ck_assert_msg(st == CLCNN_OK, "%s: %s", c->name, clcnn_errmsg(ctx));
    check_close(A, want, c->name, "A (rank-1 bias)");
    clcnn_tensor_free(A);
    clcnn_tensor_free(b1);
    clcnn_tensor_free(want);
    clcnn_tensor_free(b4);
    clcnn_tensor_free(W);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------- conv backward */

START_TEST(conv_backward_golden)
{
    const conv_case *c = &conv_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *W = golden(ctx, c->name, "W"), *b = golden(ctx, c->name, "b");
    clcnn_tensor *dZ = golden(ctx, c->name, "dZ");
    clcnn_tensor *want_dx = golden(ctx, c->name, "dA_prev"), *want_dW = golden(ctx, c->name, "dW"),
                 *want_db = golden(ctx, c->name, "db");

    clcnn_tensor *dx = NULL, *dW = NULL, *db = NULL;
    int st = clcnn_conv_backward(ctx, dZ, x, W, b, c->padding, c->sh, c->sw, &dx, &dW, &db);
    ck_assert_msg(st == CLCNN_OK, "%s: %s", c->name, clcnn_errmsg(ctx));
    check_close(dx, want_dx, c->name, "dA_prev");
    check_close(dW, want_dW, c->name, "dW");
    check_close(db, want_db, c->name, "db");

    /* Reuse of all three outputs, prefilled with garbage: overwritten, not
     * accumulated into. */
    clcnn_tensor *rx = garbage_like(ctx, want_dx), *rW = garbage_like(ctx, want_dW), *rb = garbage_like(ctx, want_db);
    clcnn_tensor *kx = rx, *kW = rW, *kb = rb;
    st = clcnn_conv_backward(ctx, dZ, x, W, b, c->padding, c->sh, c->sw, &rx, &rW, &rb);
    ck_assert_msg(st == CLCNN_OK, "%s (reuse): %s", c->name, clcnn_errmsg(ctx));
    ck_assert_ptr_eq(rx, kx);
    ck_assert_ptr_eq(rW, kW);
    ck_assert_ptr_eq(rb, kb);
    check_close(rx, want_dx, c->name, "dA_prev (reused)");
    check_close(rW, want_dW, c->name, "dW (reused)");
    check_close(rb, want_db, c->name, "db (reused)");

    clcnn_tensor_free(rx);
    clcnn_tensor_free(rW);
    clcnn_tensor_free(rb);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(dW);
    clcnn_tensor_free(db);
    clcnn_tensor_free(want_dx);
    clcnn_tensor_free(want_dW);
    clcnn_tensor_free(want_db);
    clcnn_tensor_free(dZ);
    clcnn_tensor_free(b);
    clcnn_tensor_free(W);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Each gradient may be asked for alone (the others NULL). */
START_TEST(conv_backward_subsets)
{
    const conv_case *c = &conv_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *W = golden(ctx, c->name, "W"), *b = golden(ctx, c->name, "b");
    clcnn_tensor *dZ = golden(ctx, c->name, "dZ");
    clcnn_tensor *want_dx = golden(ctx, c->name, "dA_prev"), *want_dW = golden(ctx, c->name, "dW"),
                 *want_db = golden(ctx, c->name, "db");

    clcnn_tensor *dx = NULL, *dW = NULL, *db = NULL;
    int st = clcnn_conv_backward(ctx, dZ, x, W, b, c->padding, c->sh, c->sw, &dx, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "%s dA_prev only: %s", c->name, clcnn_errmsg(ctx));
    check_close(dx, want_dx, c->name, "dA_prev alone");
    st = clcnn_conv_backward(ctx, dZ, x, W, b, c->padding, c->sh, c->sw, NULL, &dW, NULL);
    ck_assert_msg(st == CLCNN_OK, "%s dW only: %s", c->name, clcnn_errmsg(ctx));
    check_close(dW, want_dW, c->name, "dW alone");
    st = clcnn_conv_backward(ctx, dZ, x, W, b, c->padding, c->sh, c->sw, NULL, NULL, &db);
    ck_assert_msg(st == CLCNN_OK, "%s db only: %s", c->name, clcnn_errmsg(ctx));
    check_close(db, want_db, c->name, "db alone");

    clcnn_tensor_free(dx);
    clcnn_tensor_free(dW);
    clcnn_tensor_free(db);
    clcnn_tensor_free(want_dx);
    clcnn_tensor_free(want_dW);
    clcnn_tensor_free(want_db);
    clcnn_tensor_free(dZ);
    clcnn_tensor_free(b);
    clcnn_tensor_free(W);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------ pool */

START_TEST(pool_forward_golden)
{
    const pool_case *c = &pool_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *want = golden(ctx, c->name, "A");
    clcnn_tensor *A = NULL;
    int st = clcnn_pool_forward(ctx, x, c->kh, c->kw, c->sh, c->sw, c->mode, &A);
    ck_assert_msg(st == CLCNN_OK, "%s: %s", c->name, clcnn_errmsg(ctx));
    /* max selects one of the inputs: exact */
    double rtol = c->mode == CLCNN_POOL_MAX ? 0.0 : RTOL, atol = c->mode == CLCNN_POOL_MAX ? 0.0 : ATOL;
    tu_assert_tensor_close(A, want, rtol, atol, c->name);

    clcnn_tensor *again = garbage_like(ctx, want), *keep = again;
    st = clcnn_pool_forward(ctx, x, c->kh, c->kw, c->sh, c->sw, c->mode, &again);
    ck_assert_msg(st == CLCNN_OK, "%s (reuse): %s", c->name, clcnn_errmsg(ctx));
    ck_assert_ptr_eq(again, keep);
    tu_assert_tensor_close(again, want, rtol, atol, c->name);

    clcnn_tensor_free(again);
    clcnn_tensor_free(A);
    clcnn_tensor_free(want);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(pool_backward_golden)
{
    const pool_case *c = &pool_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *dA = golden(ctx, c->name, "dA");
    clcnn_tensor *want = golden(ctx, c->name, "dA_prev");
    clcnn_tensor *dx = NULL;
    int st = clcnn_pool_backward(ctx, dA, x, c->kh, c->kw, c->sh, c->sw, c->mode, &dx);
    ck_assert_msg(st == CLCNN_OK, "%s: %s", c->name, clcnn_errmsg(ctx));
    check_close(dx, want, c->name, "dA_prev");

    clcnn_tensor *again = garbage_like(ctx, want), *keep = again;
    st = clcnn_pool_backward(ctx, dA, x, c->kh, c->kw, c->sh, c->sw, c->mode, &again);
    ck_assert_msg(st == CLCNN_OK, "%s (reuse): %s", c->name, clcnn_errmsg(ctx));
    ck_assert_ptr_eq(again, keep);
    check_close(again, want, c->name, "dA_prev (reused)");

    clcnn_tensor_free(again);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(want);
    clcnn_tensor_free(dA);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A hand-checked tie case, independent of the golden files: a 2x2 window
 * of four equal values gives the full gradient to each of them. */
START_TEST(pool_max_all_tied)
{
    clcnn_ctx *ctx = tu_ctx();
    size_t xs[4] = {1, 2, 2, 1}, ys[4] = {1, 1, 1, 1};
    const float xv[4] = {3, 3, 3, 3}, dyv[1] = {0.25f};
    clcnn_tensor *x = tu_tensor(ctx, 4, xs, xv), *dy = tu_tensor(ctx, 4, ys, dyv), *dx = NULL, *y = NULL;
    ck_assert_int_eq(clcnn_pool_forward(ctx, x, 2, 2, 2, 2, CLCNN_POOL_MAX, &y), CLCNN_OK);
    float *yv = tu_read(y);
    ck_assert_float_eq(yv[0], 3.0f);
    ck_assert_int_eq(clcnn_pool_backward(ctx, dy, x, 2, 2, 2, 2, CLCNN_POOL_MAX, &dx), CLCNN_OK);
    float *g = tu_read(dx);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(g[i] == 0.25f, "dA_prev[%d] = %g, want 0.25", i, g[i]);
    free(g);
    free(yv);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(y);
    clcnn_tensor_free(dy);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------- wrong-shaped reuse */

static int same_contents(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

START_TEST(reuse_wrong_shape)
{
    const conv_case *c = &conv_cases[0];
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *x = golden(ctx, c->name, "x"), *W = golden(ctx, c->name, "W"), *b = golden(ctx, c->name, "b");
    clcnn_tensor *dZ = golden(ctx, c->name, "dZ");
    size_t shape[CLCNN_MAX_RANK];
    clcnn_tensor_shape(dZ, shape);
    shape[3] += 1; /* one channel too many */
    clcnn_tensor *bad = tu_tensor(ctx, 4, shape, NULL);
    clcnn_tensor *keep = bad;
    float *before = tu_read(bad);

    int st = clcnn_conv_forward(ctx, x, W, b, c->act, c->padding, c->sh, c->sw, &bad);
    ck_assert_int_eq(st, CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(bad, keep);
    ck_assert_str_ne(clcnn_errmsg(ctx), "");

    /* A wrong-shaped dW next to a well-shaped dA_prev: nothing is returned. */
    clcnn_tensor *dx = NULL;
    st = clcnn_conv_backward(ctx, dZ, x, W, b, c->padding, c->sh, c->sw, &dx, &bad, NULL);
    ck_assert_int_eq(st, CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(bad, keep);
    ck_assert_msg(dx == NULL, "a failed conv_backward handed back a new dA_prev");
    ck_assert_str_ne(clcnn_errmsg(ctx), "");

    /* Pool: rank 2 output where rank 4 is due. */
    size_t s2[2] = {3, 3};
    clcnn_tensor *r2 = tu_tensor(ctx, 2, s2, NULL), *k2 = r2;
    st = clcnn_pool_forward(ctx, x, 2, 2, 2, 2, CLCNN_POOL_MAX, &r2);
    ck_assert_int_eq(st, CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(r2, k2);
    st = clcnn_pool_backward(ctx, x, x, 1, 1, 1, 1, CLCNN_POOL_AVG, &bad);
    ck_assert_int_eq(st, CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(bad, keep);

    /* The rejected tensor is left as it was. */
    float *after = tu_read(bad);
    ck_assert_msg(same_contents(before, after, clcnn_tensor_count(bad)), "a rejected output tensor was modified");

    free(before);
    free(after);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(r2);
    clcnn_tensor_free(bad);
    clcnn_tensor_free(dZ);
    clcnn_tensor_free(b);
    clcnn_tensor_free(W);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ----------------------------------------------------------------- dense */

enum { DM = 5, DIN = 12, DOUT = 4 };

/* The formulas of clcnn.h in double: Z = A W + b, then the activation. */
static void dense_reference(const float *A, const float *W, const float *b, clcnn_activation act, float *out)
{
    for (int n = 0; n < DM; n++) {
        double z[DOUT], max = -INFINITY, sum = 0;
        for (int k = 0; k < DOUT; k++) {
            z[k] = b[k];
            for (int i = 0; i < DIN; i++)
                z[k] += (double)A[n * DIN + i] * W[i * DOUT + k];
            max = z[k] > max ? z[k] : max;
        }
        for (int k = 0; k < DOUT; k++)
            sum += exp(z[k] - max);
        for (int k = 0; k < DOUT; k++) {
            double v = z[k];
            switch (act) {
            case CLCNN_ACT_RELU: v = v > 0 ? v : 0; break;
            case CLCNN_ACT_SIGMOID: v = 1 / (1 + exp(-v)); break;
            case CLCNN_ACT_TANH: v = tanh(v); break;
            case CLCNN_ACT_SOFTMAX: v = exp(v - max) / sum; break;
            default: break;
            }
            out[n * DOUT + k] = (float)v;
        }
    }
}

/* out (rows x cols) = X Y in double, X(r, k) = x[r * xr + k * xk] and
 * Y(k, c) = y[k * yk + c * yc]: a product of matrices or their transposes. */
static void ref_product(const float *x, int xr, int xk, const float *y, int yk, int yc, int rows, int inner, int cols,
                        float *out)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double s = 0;
            for (int k = 0; k < inner; k++)
                s += (double)x[r * xr + k * xk] * y[k * yk + c * yc];
            out[r * cols + c] = (float)s;
        }
}

START_TEST(dense_forward_backward)
{
    clcnn_ctx *ctx = tu_ctx();
    float A[DM * DIN], W[DIN * DOUT], b[DOUT], dZ[DM * DOUT];
    tu_fill_random(A, DM * DIN, 1, -1.0f, 1.0f);
    tu_fill_random(W, DIN * DOUT, 2, -0.5f, 0.5f);
    tu_fill_random(b, DOUT, 3, -0.5f, 0.5f);
    tu_fill_random(dZ, DM * DOUT, 4, -1.0f, 1.0f);
    /* A_prev as (m, h, w, c) = (5, 2, 2, 3), read as (5, 12). */
    size_t a4[4] = {DM, 2, 2, 3}, a2[2] = {DM, DIN}, ws[2] = {DIN, DOUT}, bs[1] = {DOUT}, b2[2] = {1, DOUT},
           zs[2] = {DM, DOUT};
    clcnn_tensor *tA4 = tu_tensor(ctx, 4, a4, A), *tA2 = tu_tensor(ctx, 2, a2, A), *tW = tu_tensor(ctx, 2, ws, W),
                 *tb = tu_tensor(ctx, 1, bs, b), *tb2 = tu_tensor(ctx, 2, b2, b), *tdZ = tu_tensor(ctx, 2, zs, dZ);

    for (int act = CLCNN_ACT_IDENTITY; act <= CLCNN_ACT_SOFTMAX; act++) {
        float want[DM * DOUT];
        dense_reference(A, W, b, (clcnn_activation)act, want);
        const clcnn_tensor *inputs[2] = {tA4, tA2}, *biases[2] = {tb, tb2};
        for (int v = 0; v < 2; v++) {
            clcnn_tensor *out = NULL;
            int st = clcnn_dense_forward(ctx, inputs[v], tW, biases[v], (clcnn_activation)act, &out);
            ck_assert_msg(st == CLCNN_OK, "dense_forward act %d: %s", act, clcnn_errmsg(ctx));
            ck_assert_int_eq(clcnn_tensor_rank(out), 2);
            float *got = tu_read(out);
            tu_assert_close(got, want, DM * DOUT, RTOL, ATOL, "dense_forward");
            free(got);
            clcnn_tensor_free(out);
        }
    }

    float want_dA[DM * DIN], want_dW[DIN * DOUT], want_db[DOUT];
    ref_product(dZ, DOUT, 1, W, 1, DOUT, DM, DOUT, DIN, want_dA);  /* dZ W^T */
    ref_product(A, 1, DIN, dZ, DOUT, 1, DIN, DM, DOUT, want_dW);   /* A^T dZ */
    for (int k = 0; k < DOUT; k++) {
        double s = 0;
        for (int n = 0; n < DM; n++)
            s += dZ[n * DOUT + k];
        want_db[k] = (float)s;
    }
    clcnn_tensor *dA = NULL, *dW = NULL, *db = NULL;
    int st = clcnn_dense_backward(ctx, tdZ, tA4, tW, tb, &dA, &dW, &db);
    ck_assert_msg(st == CLCNN_OK, "dense_backward: %s", clcnn_errmsg(ctx));
    size_t shape[CLCNN_MAX_RANK];
    clcnn_tensor_shape(dA, shape);
    ck_assert_msg(clcnn_tensor_rank(dA) == 4 && shape[1] == 2 && shape[3] == 3, "dA_prev has A_prev's shape");
    float *got = tu_read(dA);
    tu_assert_close(got, want_dA, DM * DIN, RTOL, ATOL, "dA_prev");
    free(got);
    got = tu_read(dW);
    tu_assert_close(got, want_dW, DIN * DOUT, RTOL, ATOL, "dW");
    free(got);
    got = tu_read(db);
    tu_assert_close(got, want_db, DOUT, RTOL, ATOL, "db");
    free(got);

    /* Subsets: each gradient alone, into the tensors made above. */
    clcnn_tensor **outs[3] = {&dA, &dW, &db};
    const float *wants[3] = {want_dA, want_dW, want_db};
    size_t counts[3] = {DM * DIN, DIN * DOUT, DOUT};
    for (int i = 0; i < 3; i++) {
        st = clcnn_dense_backward(ctx, tdZ, tA4, tW, tb, i == 0 ? &dA : NULL, i == 1 ? &dW : NULL,
                                  i == 2 ? &db : NULL);
        ck_assert_msg(st == CLCNN_OK, "dense_backward, gradient %d alone: %s", i, clcnn_errmsg(ctx));
        got = tu_read(*outs[i]);
        tu_assert_close(got, wants[i], counts[i], RTOL, ATOL, "dense_backward subset");
        free(got);
    }

    /* Shape errors, and a caller's output of the wrong shape. */
    clcnn_tensor *out = NULL;
    size_t a3[3] = {DM, DIN, 1}, wbad[2] = {DIN + 1, DOUT};
    clcnn_tensor *tA3 = tu_tensor(ctx, 3, a3, A), *tWbad = tu_tensor(ctx, 2, wbad, NULL);
    ck_assert_int_eq(clcnn_dense_forward(ctx, tA3, tW, tb, CLCNN_ACT_RELU, &out), CLCNN_ERR_SHAPE);
    ck_assert_int_eq(clcnn_dense_forward(ctx, tA2, tWbad, tb, CLCNN_ACT_RELU, &out), CLCNN_ERR_SHAPE);
    ck_assert_int_eq(clcnn_dense_forward(ctx, tA2, tW, tW, CLCNN_ACT_RELU, &out), CLCNN_ERR_SHAPE);
    ck_assert_int_eq(clcnn_dense_forward(ctx, tA2, tW, tb, (clcnn_activation)9, &out), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dense_forward(ctx, NULL, tW, tb, CLCNN_ACT_RELU, &out), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(clcnn_dense_forward(ctx, tA2, tW, tb, CLCNN_ACT_RELU, &dW), CLCNN_ERR_SHAPE);
    ck_assert_ptr_nonnull(dW);
    ck_assert_int_eq(clcnn_dense_backward(ctx, tA2, tA2, tW, tb, NULL, &dW, NULL), CLCNN_ERR_SHAPE);
    ck_assert_int_eq(clcnn_dense_backward(ctx, tdZ, tA2, tW, tb, &dW, NULL, NULL), CLCNN_ERR_SHAPE);

    clcnn_tensor *all[] = {tA4, tA2, tA3, tW, tWbad, tb, tb2, tdZ, dA, dW, db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        clcnn_tensor_free(all[i]);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, conv_forward_golden, 0, N_CONV);
    tcase_add_loop_test(tc, conv_forward_rank1_bias, 0, N_CONV);
    tcase_add_loop_test(tc, conv_backward_golden, 0, N_CONV);
    tcase_add_loop_test(tc, conv_backward_subsets, 0, N_CONV);
    tcase_add_loop_test(tc, pool_forward_golden, 0, N_POOL);
    tcase_add_loop_test(tc, pool_backward_golden, 0, N_POOL);
    tcase_add_test(tc, pool_max_all_tied);
    tcase_add_test(tc, reuse_wrong_shape);
    tcase_add_test(tc, dense_forward_backward);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(ops_suite());
}
