/*
 * Finite-difference checks of conv_backward (and conv2d_backward: explicit
 * pads, dilation, groups), pool_backward (and pool2d_backward: pads, ceil
 * mode, count_include_pad) and lrn_backward.
 *
 * For a fixed random R of the output's shape, L(inputs) = sum(R * Z) where Z
 * is computed by clcnn's forward op (float32) and the sum is taken on the
 * host in float64.  Then dL/dZ = R, so backward(R, ...) must equal the
 * gradient of L, which is estimated by central differences:
 *     (L(v + e) - L(v - e)) / ((v + e) - (v - e)),
 * the denominator measured on the float32 values actually used (v +- e
 * rounded to float32), not assumed to be 2e.
 *
 * Why these numbers:
 * - Z is linear in each of A_prev, W and b taken alone, so the central
 *   difference has no truncation error for conv; its only error is the
 *   float32 rounding of Z.  The cases are small (at most ~300 outputs of
 *   magnitude ~1), so L is off by at most ~1e-5 in the worst case and by
 *   ~1e-6 typically; divided by 2e = 2e-2 that is <= 5e-4 on a gradient of
 *   order 1.  Hence e = 1e-2 (on inputs of magnitude ~1, well above float32
 *   resolution 6e-8) with |analytic - fd| <= 1e-2 |fd| + 2e-3.  A real bug
 *   (a term missed or counted twice, a wrong padding offset) moves a
 *   gradient by the size of one product, ~0.1 or more.
 * - Max pooling is piecewise linear: the inputs are distinct values on a
 *   grid of spacing 2/N (N = element count, <= 300), so a perturbation of
 *   e = 1e-3 < 1/N never changes which cell is a window's maximum, and the
 *   difference is again exact up to rounding.  Avg pooling is linear.  Same
 *   tolerance.
 * - LRN is smooth but not linear: the central difference is off by
 *   e^2/6 times a third derivative, of order 1 at most under the settings
 *   below for inputs in [-1, 1], so e = 3e-3 keeps that near 1e-6 while the
 *   rounding of L (at most ~100 outputs here) divided by 2e stays below
 *   ~3e-4.  A real bug (a window off by one channel, the second term's
 *   factor 2 or beta missed) moves gradients by 1e-2 or more under these
 *   settings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define RTOL 1e-2
#define ATOL 2e-3

typedef struct conv_cfg {
    size_t m, h, w, c, k, kh, kw;
    clcnn_padding pad;
    int sh, sw;
} conv_cfg;

static const conv_cfg conv_cfgs[] = {
    {1, 5, 5, 2, 2, 3, 3, CLCNN_PAD_SAME, 1, 1},  {2, 6, 7, 1, 3, 2, 3, CLCNN_PAD_SAME, 2, 3},
    {1, 7, 6, 2, 2, 4, 4, CLCNN_PAD_SAME, 2, 2},  {2, 6, 6, 2, 2, 3, 3, CLCNN_PAD_VALID, 2, 2},
    {1, 7, 8, 3, 2, 2, 3, CLCNN_PAD_VALID, 1, 2}, {1, 5, 4, 1, 2, 5, 5, CLCNN_PAD_SAME, 1, 1},
    {2, 8, 7, 2, 1, 2, 2, CLCNN_PAD_SAME, 3, 3},  {1, 6, 5, 2, 2, 3, 2, CLCNN_PAD_VALID, 3, 1},
};

/* Shapes run through clcnn_conv2d_* with p (its padding and strides, not
 * the shape's). */
typedef struct conv2d_cfg {
    conv_cfg shape;
    clcnn_conv_params p;
} conv2d_cfg;

/* Explicit pads (top, bottom, left, right), strides, dilations, groups. */
#define CONV2D(m, h, w, c, k, kh, kw, pt, pb, pl, pr, sh, sw, dh, dw, groups)                                     \
    {{m, h, w, c, k, kh, kw, CLCNN_PAD_EXPLICIT, sh, sw}, {CLCNN_PAD_EXPLICIT, pt, pb, pl, pr, sh, sw, dh, dw, groups}}

static const conv2d_cfg conv2d_cfgs[] = {
    CONV2D(1, 5, 6, 2, 3, 3, 3, 0, 2, 1, 0, 1, 1, 1, 1, 1), /* asymmetric pads */
    CONV2D(2, 7, 6, 2, 2, 3, 2, 1, 0, 2, 1, 2, 3, 1, 1, 1), /* and strides */
    CONV2D(1, 8, 7, 2, 2, 3, 3, 2, 2, 1, 2, 1, 1, 2, 2, 1), /* dilation 2 */
    CONV2D(2, 9, 8, 1, 2, 2, 3, 1, 0, 0, 1, 2, 1, 3, 2, 1), /* dilation (3, 2), stride 2 */
    CONV2D(1, 6, 6, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2), /* groups 2 */
    CONV2D(2, 7, 6, 3, 6, 3, 2, 0, 1, 1, 0, 2, 1, 2, 1, 3), /* depthwise x2, dilated, strided */
    {{1, 7, 7, 2, 2, 3, 3, CLCNN_PAD_SAME, 1, 1}, {CLCNN_PAD_SAME, 0, 0, 0, 0, 1, 1, 2, 2, 2}}, /* same, dilated */
};
#define N_CONV2D ((int)(sizeof conv2d_cfgs / sizeof conv2d_cfgs[0]))

typedef struct pool_cfg {
    size_t m, h, w, c;
    int kh, kw, sh, sw;
    clcnn_pool_mode mode;
} pool_cfg;

static const pool_cfg pool_cfgs[] = {
    {2, 6, 6, 2, 2, 2, 2, 2, CLCNN_POOL_MAX}, {2, 6, 6, 2, 2, 2, 2, 2, CLCNN_POOL_AVG},
    {1, 7, 7, 2, 3, 3, 2, 2, CLCNN_POOL_MAX}, {1, 7, 7, 2, 3, 3, 2, 2, CLCNN_POOL_AVG},
    {2, 8, 8, 1, 2, 2, 3, 3, CLCNN_POOL_MAX}, {2, 8, 8, 1, 2, 2, 3, 3, CLCNN_POOL_AVG},
    {1, 6, 7, 3, 3, 2, 1, 2, CLCNN_POOL_MAX}, {1, 6, 7, 3, 2, 3, 2, 1, CLCNN_POOL_AVG},
    {1, 5, 5, 2, 1, 1, 2, 2, CLCNN_POOL_MAX},
};

/* Shapes run through clcnn_pool2d_* with p: pads (top, bottom, left,
 * right), ceil mode, count_include_pad. */
typedef struct pool2d_cfg {
    pool_cfg shape;
    clcnn_pool_params p;
} pool2d_cfg;

static const pool2d_cfg pool2d_cfgs[] = {
    {{1, 7, 7, 2, 3, 3, 2, 2, CLCNN_POOL_MAX}, {1, 1, 1, 1, 0, 0}},
    {{1, 7, 7, 2, 3, 3, 2, 2, CLCNN_POOL_AVG}, {1, 1, 1, 1, 0, 0}},
    {{1, 7, 7, 2, 3, 3, 2, 2, CLCNN_POOL_AVG}, {1, 1, 1, 1, 0, 1}},
    {{2, 6, 6, 1, 3, 3, 2, 2, CLCNN_POOL_MAX}, {0, 0, 0, 0, 1, 0}},
    {{2, 6, 6, 1, 3, 3, 2, 2, CLCNN_POOL_AVG}, {0, 0, 0, 0, 1, 1}},
    {{1, 8, 9, 2, 3, 2, 2, 3, CLCNN_POOL_MAX}, {2, 0, 1, 1, 1, 0}},
    {{1, 8, 9, 2, 3, 2, 2, 3, CLCNN_POOL_AVG}, {2, 0, 1, 1, 1, 0}},
    {{1, 8, 9, 2, 3, 2, 2, 3, CLCNN_POOL_AVG}, {2, 0, 1, 1, 1, 1}},
};
#define N_POOL2D ((int)(sizeof pool2d_cfgs / sizeof pool2d_cfgs[0]))

/* size, alpha, beta, k: the paper's, and strong settings with an even size
 * and a size above the channel count. */
typedef struct lrn_cfg {
    size_t m, h, w, c;
    int size;
    float alpha, beta, k;
} lrn_cfg;

static const lrn_cfg lrn_cfgs[] = {
    {1, 2, 2, 7, 5, 1e-4f, 0.75f, 2.0f}, {2, 2, 1, 6, 5, 1.0f, 0.75f, 1.0f}, {1, 2, 2, 9, 4, 0.5f, 0.5f, 1.0f},
    {1, 1, 3, 3, 7, 2.0f, 1.0f, 0.5f},   {1, 2, 2, 5, 1, 1.0f, 0.75f, 1.0f},
};

#define N_LRN ((int)(sizeof lrn_cfgs / sizeof lrn_cfgs[0]))
#define N_CONV ((int)(sizeof conv_cfgs / sizeof conv_cfgs[0]))
#define N_POOL ((int)(sizeof pool_cfgs / sizeof pool_cfgs[0]))

static void check_grad(double analytic, double fd, const char *what, int cfg, size_t index)
{
    ck_assert_msg(fabs(analytic - fd) <= ATOL + RTOL * fabs(fd),
                  "case %d: d%s[%zu] = %.7g, finite difference %.7g (rtol %g, atol %g)", cfg, what, index, analytic,
                  fd, RTOL, ATOL);
}

/* ----------------------------------------------------------------- conv */

typedef struct conv_state {
    clcnn_ctx *ctx;
    const conv_cfg *g;
    const clcnn_conv_params *p; /* NULL: the seed calls with g's padding and strides */
    float *x, *w, *b, *R;
    size_t nx, nw, nb, nz;
    clcnn_tensor *tx, *tw, *tb, *tz;
} conv_state;

static double conv_loss(conv_state *s)
{
    ck_assert_int_eq(clcnn_tensor_write(s->tx, s->x, s->nx), CLCNN_OK);
    ck_assert_int_eq(clcnn_tensor_write(s->tw, s->w, s->nw), CLCNN_OK);
    ck_assert_int_eq(clcnn_tensor_write(s->tb, s->b, s->nb), CLCNN_OK);
    int st = s->p ? clcnn_conv2d_forward(s->ctx, s->tx, s->tw, s->tb, CLCNN_ACT_IDENTITY, s->p, &s->tz)
                  : clcnn_conv_forward(s->ctx, s->tx, s->tw, s->tb, CLCNN_ACT_IDENTITY, s->g->pad, s->g->sh,
                                       s->g->sw, &s->tz);
    ck_assert_msg(st == CLCNN_OK, "conv_forward: %s", clcnn_errmsg(s->ctx));
    return s->R ? tu_dot_with(s->tz, s->R) : 0.0;
}

/* Central difference of the loss with respect to v[i]. */
static double conv_fd(conv_state *s, float *v, size_t i, float eps)
{
    float orig = v[i];
    float up = orig + eps, down = orig - eps;
    v[i] = up;
    double lu = conv_loss(s);
    v[i] = down;
    double ld = conv_loss(s);
    v[i] = orig;
    return (lu - ld) / ((double)up - (double)down);
}

/* Case _i of a table: shape g, through the seed calls (p NULL) or
 * clcnn_conv2d_* with p. */
static void check_conv(const conv_cfg *g, const clcnn_conv_params *p, int _i)
{
    conv_state s = {0};
    s.ctx = tu_ctx();
    s.g = g;
    s.p = p;
    const size_t cg = g->c / (size_t)(p ? p->groups : 1);
    size_t xs[4] = {g->m, g->h, g->w, g->c}, ws[4] = {g->kh, g->kw, cg, g->k}, bs[4] = {1, 1, 1, g->k};
    s.nx = g->m * g->h * g->w * g->c;
    s.nw = g->kh * g->kw * cg * g->k;
    s.nb = g->k;
    unsigned seed = 1000u + 17u * (unsigned)_i;
    s.x = tu_random_array(s.nx, seed, -1, 1);
    s.w = tu_random_array(s.nw, seed + 1, -0.5f, 0.5f);
    s.b = tu_random_array(s.nb, seed + 2, -0.5f, 0.5f);
    s.tx = tu_tensor(s.ctx, 4, xs, NULL);
    s.tw = tu_tensor(s.ctx, 4, ws, NULL);
    s.tb = tu_tensor(s.ctx, 4, bs, NULL);

    conv_loss(&s); /* creates Z, so R can take its shape */
    size_t zs[CLCNN_MAX_RANK];
    clcnn_tensor_shape(s.tz, zs);
    s.nz = clcnn_tensor_count(s.tz);
    s.R = tu_random_array(s.nz, seed + 3, -1, 1);
    clcnn_tensor *tR = tu_tensor(s.ctx, 4, zs, s.R);

    /* restore the unperturbed inputs, then the analytic gradients */
    conv_loss(&s);
    clcnn_tensor *dx = NULL, *dw = NULL, *db = NULL;
    int st = p ? clcnn_conv2d_backward(s.ctx, tR, s.tx, s.tw, s.tb, p, &dx, &dw, &db)
               : clcnn_conv_backward(s.ctx, tR, s.tx, s.tw, s.tb, g->pad, g->sh, g->sw, &dx, &dw, &db);
    ck_assert_msg(st == CLCNN_OK, "conv_backward: %s", clcnn_errmsg(s.ctx));
    float *gx = tu_read(dx), *gw = tu_read(dw), *gb = tu_read(db);
    ck_assert_uint_eq(clcnn_tensor_count(dx), s.nx);
    ck_assert_uint_eq(clcnn_tensor_count(dw), s.nw);
    ck_assert_uint_eq(clcnn_tensor_count(db), s.nb);

    const float eps = 1e-2f;
    for (size_t i = 0; i < s.nx; i++)
        check_grad(gx[i], conv_fd(&s, s.x, i, eps), "A_prev", _i, i);
    for (size_t i = 0; i < s.nw; i++)
        check_grad(gw[i], conv_fd(&s, s.w, i, eps), "W", _i, i);
    for (size_t i = 0; i < s.nb; i++)
        check_grad(gb[i], conv_fd(&s, s.b, i, eps), "b", _i, i);

    free(gx);
    free(gw);
    free(gb);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(dw);
    clcnn_tensor_free(db);
    clcnn_tensor_free(tR);
    clcnn_tensor_free(s.tz);
    clcnn_tensor_free(s.tx);
    clcnn_tensor_free(s.tw);
    clcnn_tensor_free(s.tb);
    free(s.x);
    free(s.w);
    free(s.b);
    free(s.R);
    clcnn_ctx_free(s.ctx);
}

START_TEST(conv_gradients)
{
    check_conv(&conv_cfgs[_i], NULL, _i);
}
END_TEST

/* Numbered after the seed calls' cases in messages. */
START_TEST(conv2d_gradients)
{
    check_conv(&conv2d_cfgs[_i].shape, &conv2d_cfgs[_i].p, N_CONV + _i);
}
END_TEST

/* ----------------------------------------------------------------- pool */

/* n distinct values k * 2/n - 1 (k = 0..n-1) in a seeded random order. */
static float *distinct_values(size_t n, unsigned seed)
{
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t k = 0; k < n; k++)
        x[k] = (float)((double)k * 2.0 / (double)n - 1.0);
    unsigned long long r = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (size_t k = n - 1; k > 0; k--) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        size_t j = (size_t)((r >> 33) % (k + 1));
        float t = x[k];
        x[k] = x[j];
        x[j] = t;
    }
    return x;
}

typedef struct pool_state {
    clcnn_ctx *ctx;
    const pool_cfg *g;
    const clcnn_pool_params *p; /* NULL: the seed calls */
    float *x, *R;
    size_t nx;
    clcnn_tensor *tx, *ty;
} pool_state;

static double pool_loss(pool_state *s)
{
    ck_assert_int_eq(clcnn_tensor_write(s->tx, s->x, s->nx), CLCNN_OK);
    const pool_cfg *g = s->g;
    int st = s->p ? clcnn_pool2d_forward(s->ctx, s->tx, g->kh, g->kw, g->sh, g->sw, g->mode, s->p, &s->ty)
                  : clcnn_pool_forward(s->ctx, s->tx, g->kh, g->kw, g->sh, g->sw, g->mode, &s->ty);
    ck_assert_msg(st == CLCNN_OK, "pool_forward: %s", clcnn_errmsg(s->ctx));
    return s->R ? tu_dot_with(s->ty, s->R) : 0.0;
}

/* Case _i of a table: shape g, through the seed calls (p NULL) or
 * clcnn_pool2d_* with p. */
static void check_pool(const pool_cfg *g, const clcnn_pool_params *p, int _i)
{
    pool_state s = {0};
    s.ctx = tu_ctx();
    s.g = g;
    s.p = p;
    size_t xs[4] = {g->m, g->h, g->w, g->c};
    s.nx = g->m * g->h * g->w * g->c;
    unsigned seed = 5000u + 31u * (unsigned)_i;
    s.x = distinct_values(s.nx, seed);
    s.tx = tu_tensor(s.ctx, 4, xs, NULL);
    pool_loss(&s);
    size_t ys[CLCNN_MAX_RANK];
    clcnn_tensor_shape(s.ty, ys);
    s.R = tu_random_array(clcnn_tensor_count(s.ty), seed + 1, -1, 1);
    clcnn_tensor *tR = tu_tensor(s.ctx, 4, ys, s.R);
    pool_loss(&s);

    clcnn_tensor *dx = NULL;
    int st = p ? clcnn_pool2d_backward(s.ctx, tR, s.tx, g->kh, g->kw, g->sh, g->sw, g->mode, p, &dx)
               : clcnn_pool_backward(s.ctx, tR, s.tx, g->kh, g->kw, g->sh, g->sw, g->mode, &dx);
    ck_assert_msg(st == CLCNN_OK, "pool_backward: %s", clcnn_errmsg(s.ctx));
    float *gx = tu_read(dx);

    /* below half the spacing 2/nx of the distinct values */
    const float eps = 1e-3f;
    ck_assert(eps < 1.0 / (double)s.nx);
    for (size_t i = 0; i < s.nx; i++) {
        float orig = s.x[i], up = orig + eps, down = orig - eps;
        s.x[i] = up;
        double lu = pool_loss(&s);
        s.x[i] = down;
        double ld = pool_loss(&s);
        s.x[i] = orig;
        check_grad(gx[i], (lu - ld) / ((double)up - (double)down), g->mode == CLCNN_POOL_MAX ? "A_prev(max)" : "A_prev(avg)",
                   _i, i);
    }

    free(gx);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(tR);
    clcnn_tensor_free(s.ty);
    clcnn_tensor_free(s.tx);
    free(s.x);
    free(s.R);
    clcnn_ctx_free(s.ctx);
}

START_TEST(pool_gradients)
{
    check_pool(&pool_cfgs[_i], NULL, _i);
}
END_TEST

/* Numbered after the seed calls' cases in messages. */
START_TEST(pool2d_gradients)
{
    check_pool(&pool2d_cfgs[_i].shape, &pool2d_cfgs[_i].p, N_POOL + _i);
}
END_TEST

/* ------------------------------------------------------------------ lrn */

static double lrn_loss(clcnn_ctx *ctx, const lrn_cfg *g, clcnn_tensor *tx, const float *x, size_t nx,
                       clcnn_tensor **ty, const float *R)
{
    ck_assert_int_eq(clcnn_tensor_write(tx, x, nx), CLCNN_OK);
    int st = clcnn_lrn_forward(ctx, tx, g->size, g->alpha, g->beta, g->k, ty);
    ck_assert_msg(st == CLCNN_OK, "lrn_forward: %s", clcnn_errmsg(ctx));
    return tu_dot_with(*ty, R);
}

START_TEST(lrn_gradients)
{
    const lrn_cfg *g = &lrn_cfgs[_i];
    clcnn_ctx *ctx = tu_ctx();
    size_t xs[4] = {g->m, g->h, g->w, g->c}, nx = g->m * g->h * g->w * g->c;
    unsigned seed = 7000u + 13u * (unsigned)_i;
    float *x = tu_random_array(nx, seed, -1, 1), *R = tu_random_array(nx, seed + 1, -1, 1);
    clcnn_tensor *tx = tu_tensor(ctx, 4, xs, NULL), *tR = tu_tensor(ctx, 4, xs, R), *ty = NULL, *dx = NULL;
    lrn_loss(ctx, g, tx, x, nx, &ty, R);
    int st = clcnn_lrn_backward(ctx, tR, tx, g->size, g->alpha, g->beta, g->k, &dx);
    ck_assert_msg(st == CLCNN_OK, "lrn_backward: %s", clcnn_errmsg(ctx));
    float *gx = tu_read(dx);
    const float eps = 3e-3f;
    for (size_t i = 0; i < nx; i++) {
        float orig = x[i], up = orig + eps, down = orig - eps;
        x[i] = up;
        double lu = lrn_loss(ctx, g, tx, x, nx, &ty, R);
        x[i] = down;
        double ld = lrn_loss(ctx, g, tx, x, nx, &ty, R);
        x[i] = orig;
        check_grad(gx[i], (lu - ld) / ((double)up - (double)down), "A_prev(lrn)", _i, i);
    }
    free(gx);
    free(x);
    free(R);
    clcnn_tensor_free(dx);
    clcnn_tensor_free(ty);
    clcnn_tensor_free(tR);
    clcnn_tensor_free(tx);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *gradients_suite(void)
{
    Suite *s = suite_create("gradients");
    TCase *tc = tcase_create("finite differences");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, conv_gradients, 0, N_CONV);
    tcase_add_loop_test(tc, conv2d_gradients, 0, N_CONV2D);
    tcase_add_loop_test(tc, pool_gradients, 0, N_POOL);
    tcase_add_loop_test(tc, pool2d_gradients, 0, N_POOL2D);
    tcase_add_loop_test(tc, lrn_gradients, 0, N_LRN);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(gradients_suite());
}
