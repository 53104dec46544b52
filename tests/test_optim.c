/*
 * Dropout, SGD and learning-rate schedules through the public API (the
 * backend ops themselves are in test_backend_ops.c's table):
 * - dropout's backward against central differences of its forward (linear
 *   in A_prev for a fixed mask, so the difference is exact up to the
 *   rounding of the loss: the tolerance of test_gradients.c);
 * - a dropout layer in training draws clcnn_dropout_forward's mask for
 *   clcnn_noise_seed(seed, step, layer), and passes values through in
 *   prediction;
 * - SGD's momentum, weight decay (on weights, not biases) and Nesterov
 *   over two steps of a model, against the formula on the host;
 * - step and plateau schedules, and their errors;
 * - a checkpoint keeps the optimizer, its velocity, the schedule and the
 *   dropout seed: the loaded model's next steps equal the original's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "testutil.h"

#define RTOL 1e-2
#define ATOL 2e-3

/* ---------------------------------------------------------------- dropout */

static const struct {
    size_t n, c;
    float rate;
    uint64_t seed;
} dropout_cfgs[] = {{2, 40, 0.5f, 1}, {3, 17, 0.2f, 99}, {1, 64, 0.9f, 12345}, {2, 10, 0.0f, 4}};
#define N_DROPOUT ((int)(sizeof dropout_cfgs / sizeof dropout_cfgs[0]))

START_TEST(dropout_gradients)
{
    const size_t n = dropout_cfgs[_i].n, c = dropout_cfgs[_i].c, nx = n * c;
    const float rate = dropout_cfgs[_i].rate;
    const uint64_t seed = dropout_cfgs[_i].seed;
    clcnn_ctx *ctx = tu_ctx();
    const size_t shape[2] = {n, c};
    float *x = tu_random_array(nx, 11u + (unsigned)_i, -1, 1), *R = tu_random_array(nx, 12u + (unsigned)_i, -1, 1);
    clcnn_tensor *tx = tu_tensor(ctx, 2, shape, x), *tR = tu_tensor(ctx, 2, shape, R), *ty = NULL, *dx = NULL;
    ck_assert_int_eq(clcnn_dropout_backward(ctx, tR, rate, seed, &dx), CLCNN_OK);
    float *gx = tu_read(dx);
    const float eps = 1e-2f;
    for (size_t i = 0; i < nx; i++) {
        const float orig = x[i], up = orig + eps, down = orig - eps;
        x[i] = up;
        ck_assert_int_eq(clcnn_tensor_write(tx, x, nx), CLCNN_OK);
        ck_assert_int_eq(clcnn_dropout_forward(ctx, tx, rate, seed, &ty, NULL), CLCNN_OK);
        const double lu = tu_dot_with(ty, R);
        x[i] = down;
        ck_assert_int_eq(clcnn_tensor_write(tx, x, nx), CLCNN_OK);
        ck_assert_int_eq(clcnn_dropout_forward(ctx, tx, rate, seed, &ty, NULL), CLCNN_OK);
        const double ld = tu_dot_with(ty, R);
        x[i] = orig;
        const double fd = (lu - ld) / ((double)up - (double)down);
        ck_assert_msg(fabs(gx[i] - fd) <= RTOL * fabs(fd) + ATOL, "dropout case %d element %zu: backward %g, fd %g", _i,
                      i, (double)gx[i], fd);
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

START_TEST(dropout_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    const size_t shape[2] = {1, 4};
    clcnn_tensor *tx = tu_tensor(ctx, 2, shape, NULL), *ty = NULL;
    ck_assert_int_eq(clcnn_dropout_forward(ctx, tx, 1.0f, 1, &ty, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "rate = 1 is out of range"));
    ck_assert_int_eq(clcnn_dropout_forward(ctx, tx, -0.1f, 1, &ty, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dropout_forward(ctx, tx, NAN, 1, &ty, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dropout_forward(ctx, NULL, 0.5f, 1, &ty, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(ty);
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 1, 1, 4), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dropout(m, 1.5f), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "layer 1 (dropout): rate = 1.5 is out of range"));
    ck_assert_int_eq(clcnn_model_layer_count(m), 0);
    ck_assert_int_eq(clcnn_model_add_dropout(m, 0.5f), CLCNN_OK);
    clcnn_layer_config cfg;
    ck_assert_int_eq(clcnn_model_layer_config(m, 0, &cfg), CLCNN_OK);
    ck_assert_int_eq(cfg.kind, CLCNN_LAYER_DROPOUT);
    ck_assert_float_eq(cfg.dropout.rate, 0.5f);
    ck_assert_str_eq(cfg.name, "dropout");
    clcnn_model_free(m);
    clcnn_tensor_free(tx);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A model of 1x1xC inputs: dropout, then dense K softmax; plain SGD. */
#define C 12
#define K 3
#define M 4

/* softmax(x W + b) for M examples, into p (M x K). */
static void host_dense_softmax(const float *x, const float *W, const float *b, double *p)
{
    for (size_t n = 0; n < M; n++) {
        double z[K], mx = -INFINITY, sum = 0.0;
        for (size_t k = 0; k < K; k++) {
            z[k] = b[k];
            for (size_t c = 0; c < C; c++)
                z[k] += (double)x[n * C + c] * W[c * K + k];
            mx = z[k] > mx ? z[k] : mx;
        }
        for (size_t k = 0; k < K; k++)
            sum += exp(z[k] - mx);
        for (size_t k = 0; k < K; k++)
            p[n * K + k] = exp(z[k] - mx) / sum;
    }
}

START_TEST(dropout_layer_draws_per_step)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;
    const uint64_t seed = 5;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 1, 1, C), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dropout(m, 0.5f), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, K, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, seed), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.1f, 0.0f, 0.0f, 0), CLCNN_OK);
    float *x = tu_random_array(M * C, 3, 0, 1);
    const int32_t labels[M] = {0, 2, 1, 2};
    const size_t xs[2] = {M, C};
    clcnn_tensor *tx = tu_tensor(ctx, 2, xs, x), *td = NULL;
    float W[C * K], b[K], dW[C * K];
    double p[M * K];
    float *first_mask = NULL;
    for (uint64_t step = 0; step < 2; step++) {
        ck_assert_int_eq(clcnn_model_read_param(m, 1, 0, W, C * K), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_read_param(m, 1, 1, b, K), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_train_step(m, x, labels, M, NULL, NULL), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_read_grad(m, 1, 0, dW, C * K), CLCNN_OK);
        /* the mask the layer draws at this step, by the public op */
        clcnn_tensor *tm = NULL;
        ck_assert_int_eq(clcnn_dropout_forward(ctx, tx, 0.5f, clcnn_noise_seed(seed, step, 0), &td, &tm), CLCNN_OK);
        float *xd = tu_read(td), *mask = tu_read(tm);
        host_dense_softmax(xd, W, b, p);
        for (size_t c = 0; c < C; c++)
            for (size_t k = 0; k < K; k++) {
                double want = 0.0;
                for (size_t n = 0; n < M; n++)
                    want += (double)xd[n * C + c] * (p[n * K + k] - (labels[n] == (int32_t)k)) / M;
                ck_assert_msg(fabs(dW[c * K + k] - want) <= 1e-5 + 1e-4 * fabs(want),
                              "step %d: dW[%zu][%zu] = %g, want %g", (int)step, c, k, (double)dW[c * K + k], want);
            }
        if (step == 0) {
            first_mask = mask;
        } else {
            ck_assert_msg(memcmp(first_mask, mask, M * C * sizeof *mask) != 0, "step 1 drew step 0's mask");
            free(mask);
        }
        free(xd);
        clcnn_tensor_free(tm);
    }
    /* In prediction the layer passes values through: softmax(x W + b). */
    ck_assert_int_eq(clcnn_model_read_param(m, 1, 0, W, C * K), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_read_param(m, 1, 1, b, K), CLCNN_OK);
    float probs[M * K];
    ck_assert_int_eq(clcnn_model_predict(m, x, M, probs), CLCNN_OK);
    host_dense_softmax(x, W, b, p);
    for (size_t i = 0; i < M * K; i++)
        ck_assert_msg(fabs(probs[i] - p[i]) <= 1e-5, "predict[%zu] = %g, want %g", i, (double)probs[i], p[i]);
    free(first_mask);
    free(x);
    clcnn_tensor_free(td);
    clcnn_tensor_free(tx);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------------- SGD */

/* Two steps of SGD (momentum 0.9, weight decay 0.1, Nesterov or not) on a
 * dense softmax model, each checked against the formula applied on the
 * host to the step's gradient: weight decay on the weights only. */
START_TEST(sgd_steps_follow_the_formula)
{
    const int nesterov = _i;
    const float lr = 0.1f, mom = 0.9f, wd = 0.1f;
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 1, 1, C), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, K, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 9), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_sgd(m, lr, mom, wd, nesterov), CLCNN_OK);
    ck_assert_str_eq(clcnn_model_optimizer(m), "sgd");
    /* a non-zero bias, so that decay on it would show */
    const float b0[K] = {0.5f, -0.25f, 1.0f};
    ck_assert_int_eq(clcnn_model_write_param(m, 0, 1, b0, K), CLCNN_OK);
    float *x = tu_random_array(M * C, 4, 0, 1);
    const int32_t labels[M] = {1, 0, 2, 1};
    float w[2][C * K], g[C * K], got[C * K];
    double v[2][C * K] = {{0}};
    const size_t count[2] = {C * K, K};
    for (int step = 0; step < 2; step++) {
        for (int p = 0; p < 2; p++)
            ck_assert_int_eq(clcnn_model_read_param(m, 0, p, w[p], count[p]), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_train_step(m, x, labels, M, NULL, NULL), CLCNN_OK);
        for (int p = 0; p < 2; p++) {
            ck_assert_int_eq(clcnn_model_read_grad(m, 0, p, g, count[p]), CLCNN_OK);
            ck_assert_int_eq(clcnn_model_read_param(m, 0, p, got, count[p]), CLCNN_OK);
            for (size_t i = 0; i < count[p]; i++) {
                const double d = g[i] + (p == 0 ? wd : 0.0) * w[p][i];
                v[p][i] = mom * v[p][i] + d;
                const double want = w[p][i] - lr * (nesterov ? d + mom * v[p][i] : v[p][i]);
                ck_assert_msg(fabs(got[i] - want) <= 1e-6 + 1e-5 * fabs(want),
                              "step %d param %d [%zu] = %.8g, want %.8g", step, p, i, (double)got[i], want);
            }
        }
    }
    float glr, gm, gwd;
    int gn;
    ck_assert_int_eq(clcnn_model_get_sgd(m, &glr, &gm, &gwd, &gn), CLCNN_OK);
    ck_assert(glr == lr && gm == mom && gwd == wd && gn == nesterov);
    free(x);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(sgd_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 1, 1, C), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.0f, 0.9f, 0.0f, 0), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.1f, 1.0f, 0.0f, 0), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.1f, 0.9f, -1e-3f, 0), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.1f, 0.0f, 0.0f, 1), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "nesterov"));
    ck_assert_str_eq(clcnn_model_optimizer(m), "adam");
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.1f, 0.9f, 5e-4f, 1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_adam(m, 0.001f, 0.9f, 0.999f, 1e-7f), CLCNN_OK);
    ck_assert_str_eq(clcnn_model_optimizer(m), "adam");
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* -------------------------------------------------------------- schedules */

START_TEST(schedules)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 1, 1, C), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_sgd(m, 0.08f, 0.9f, 0.0f, 0), CLCNN_OK);
    /* step: halved after epochs 2 and 4 */
    const clcnn_lr_schedule step = {.kind = CLCNN_LR_STEP, .every = 2, .factor = 0.5f};
    ck_assert_int_eq(clcnn_model_set_lr_schedule(m, &step), CLCNN_OK);
    const float after_step[] = {0.08f, 0.04f, 0.04f, 0.02f, 0.02f};
    for (uint32_t e = 1; e <= 5; e++) {
        ck_assert_int_eq(clcnn_model_lr_schedule_epoch(m, e, NAN), CLCNN_OK);
        ck_assert_float_eq_tol(clcnn_model_lr(m), after_step[e - 1], 1e-9);
    }
    /* plateau, patience 2: cut after two epochs in a row without a new best */
    ck_assert_int_eq(clcnn_model_set_sgd(m, 1.0f, 0.9f, 0.0f, 0), CLCNN_OK);
    const clcnn_lr_schedule plateau = {.kind = CLCNN_LR_PLATEAU, .patience = 2, .factor = 0.1f};
    ck_assert_int_eq(clcnn_model_set_lr_schedule(m, &plateau), CLCNN_OK);
    const double losses[] = {1.0, 0.9, 0.95, 0.9, 0.8, 0.85, 0.81, 0.7};
    const float after_plateau[] = {1.0f, 1.0f, 1.0f, 0.1f, 0.1f, 0.1f, 0.01f, 0.01f};
    for (uint32_t e = 1; e <= 8; e++) {
        ck_assert_int_eq(clcnn_model_lr_schedule_epoch(m, e, losses[e - 1]), CLCNN_OK);
        ck_assert_msg(fabsf(clcnn_model_lr(m) - after_plateau[e - 1]) <= 1e-7f, "epoch %u: lr %g, want %g", e,
                      (double)clcnn_model_lr(m), (double)after_plateau[e - 1]);
    }
    ck_assert_int_eq(clcnn_model_lr_schedule_epoch(m, 9, NAN), CLCNN_ERR_ARGUMENT);
    /* settings out of range */
    const clcnn_lr_schedule bad[] = {{.kind = CLCNN_LR_STEP, .every = 0, .factor = 0.5f},
                                     {.kind = CLCNN_LR_STEP, .every = 3, .factor = 1.0f},
                                     {.kind = CLCNN_LR_PLATEAU, .patience = 0, .factor = 0.1f},
                                     {.kind = CLCNN_LR_PLATEAU, .patience = 2, .factor = 0.0f},
                                     {.kind = (clcnn_lr_schedule_kind)7, .every = 1, .factor = 0.5f}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(clcnn_model_set_lr_schedule(m, &bad[i]), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_set_lr_schedule(m, NULL), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_lr_schedule_epoch(m, 1, NAN), CLCNN_OK);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------- checkpoint */

/* dropout, dense with its velocity, the schedule: a checkpoint after two
 * steps, loaded, takes the same next steps as the model that wrote it. */
START_TEST(checkpoint_keeps_the_run)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *a = NULL, *b = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &a, 1, 1, C), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(a, 8, CLCNN_ACT_RELU), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dropout(a, 0.5f), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(a, K, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(a, 77), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_sgd(a, 0.05f, 0.9f, 5e-4f, 1), CLCNN_OK);
    const clcnn_lr_schedule plateau = {.kind = CLCNN_LR_PLATEAU, .patience = 3, .factor = 0.1f};
    ck_assert_int_eq(clcnn_model_set_lr_schedule(a, &plateau), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_lr_schedule_epoch(a, 1, 0.5), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_lr_schedule_epoch(a, 2, 0.6), CLCNN_OK); /* one bad epoch counted */
    float *x = tu_random_array(M * C, 8, 0, 1);
    const int32_t labels[M] = {2, 0, 1, 1};
    for (int s = 0; s < 2; s++)
        ck_assert_int_eq(clcnn_model_train_step(a, x, labels, M, NULL, NULL), CLCNN_OK);
    char path[] = "/tmp/clcnn_test_optim_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    clcnn_train_state st = {.seed = 1, .epoch = 3, .batch_size = M, .data_count = M};
    ck_assert_int_eq(clcnn_model_save_checkpoint(a, path, &st), CLCNN_OK);
    clcnn_train_state got;
    ck_assert_int_eq(clcnn_model_load_checkpoint(ctx, &b, path, &got), CLCNN_OK);
    ck_assert_str_eq(clcnn_model_optimizer(b), "sgd");
    float lr, mom, wd;
    int nesterov;
    ck_assert_int_eq(clcnn_model_get_sgd(b, &lr, &mom, &wd, &nesterov), CLCNN_OK);
    ck_assert(lr == 0.05f && mom == 0.9f && wd == 5e-4f && nesterov == 1);
    /* the plateau count came along: two more bad epochs cut the rate */
    for (int s = 0; s < 3; s++) {
        float la, lb;
        ck_assert_int_eq(clcnn_model_train_step(a, x, labels, M, &la, NULL), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_train_step(b, x, labels, M, &lb, NULL), CLCNN_OK);
        ck_assert_msg(la == lb, "step %d after the checkpoint: loss %.9g, resumed %.9g", s, (double)la, (double)lb);
    }
    for (size_t i = 0; i < 3; i += 2)
        for (int p = 0; p < 2; p++) {
            const size_t n = clcnn_model_param_size(a, i, p);
            float *wa = malloc(n * sizeof *wa), *wb = malloc(n * sizeof *wb);
            ck_assert_int_eq(clcnn_model_read_param(a, i, p, wa, n), CLCNN_OK);
            ck_assert_int_eq(clcnn_model_read_param(b, i, p, wb, n), CLCNN_OK);
            ck_assert_msg(memcmp(wa, wb, n * sizeof *wa) == 0, "layer %zu param %d differs after resuming", i + 1, p);
            free(wa);
            free(wb);
        }
    ck_assert_int_eq(clcnn_model_lr_schedule_epoch(b, 3, 0.7), CLCNN_OK);
    ck_assert_float_eq(clcnn_model_lr(b), 0.05f);
    ck_assert_int_eq(clcnn_model_lr_schedule_epoch(b, 4, 0.7), CLCNN_OK);
    ck_assert_float_eq_tol(clcnn_model_lr(b), 0.005f, 1e-9);
    /* A model file keeps the dropout layer, with its rate. */
    clcnn_model *c = NULL;
    ck_assert_int_eq(clcnn_model_save(a, path), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_load(ctx, &c, path), CLCNN_OK);
    clcnn_layer_config cfg;
    ck_assert_int_eq(clcnn_model_layer_config(c, 1, &cfg), CLCNN_OK);
    ck_assert_int_eq(cfg.kind, CLCNN_LAYER_DROPOUT);
    ck_assert_float_eq(cfg.dropout.rate, 0.5f);
    unlink(path);
    free(x);
    clcnn_model_free(c);
    clcnn_model_free(a);
    clcnn_model_free(b);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A checkpoint's run settings are checked: an unknown optimizer, an
 * out-of-range momentum or schedule, and an augmentation the input cannot
 * take (the checksum fixed up) are refused, naming them. */
START_TEST(checkpoint_run_settings_are_checked)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *a = NULL, *b = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &a, 1, 1, C), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(a, K, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_sgd(a, 0.1f, 0.5f, 0.0f, 0), CLCNN_OK);
    char path[] = "/tmp/clcnn_test_optim_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    clcnn_train_state st = {.seed = 1, .epoch = 1, .batch_size = M, .data_count = M};
    ck_assert_int_eq(clcnn_model_save_checkpoint(a, path, &st), CLCNN_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char buf[4096];
    const size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* from the end: the checksum, the run position, the velocity (one
     * tensor per parameter tensor), then the 60 bytes of run settings */
    const size_t params = C * K + K, at = len - 4 - (8 + 4 + 4 + 8 + 8 + 8 + 8 + 4) - 4 * params - 60;
    ck_assert_uint_eq(get_le32(buf + 12), 3); /* flags: training state and run settings */
    ck_assert_uint_eq(get_le32(buf + at), 1); /* SGD */
    const struct {
        size_t offset;
        uint32_t value;
        const char *message;
    } cases[] = {{0, 7, "unknown optimizer 7"},
                 {4, 0x3fc00000u /* 1.5f */, "momentum 1.5"},
                 {16, 9, "unknown learning-rate schedule 9"},
                 {52, 9, "augmentation (crop 9, flip 0) does not fit the 1x1 input"},
                 {56, 2, "augmentation (crop 0, flip 2)"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char bad[sizeof buf];
        memcpy(bad, buf, len);
        put_le32(bad + at + cases[i].offset, cases[i].value);
        put_le32(bad + len - 4, clcnn_crc32(0, bad, len - 4));
        f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bad, 1, len, f), len);
        fclose(f);
        ck_assert_int_eq(clcnn_model_load(ctx, &b, path), CLCNN_ERR_FORMAT);
        ck_assert_msg(strstr(clcnn_errmsg(ctx), cases[i].message), "case %zu: %s", i, clcnn_errmsg(ctx));
        ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), path));
    }
    unlink(path);
    clcnn_model_free(a);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, dropout_gradients, 0, N_DROPOUT);
    tcase_add_test(tc, dropout_errors);
    tcase_add_test(tc, dropout_layer_draws_per_step);
    tcase_add_loop_test(tc, sgd_steps_follow_the_formula, 0, 2);
    tcase_add_test(tc, sgd_errors);
    tcase_add_test(tc, schedules);
    tcase_add_test(tc, checkpoint_keeps_the_run);
    tcase_add_test(tc, checkpoint_run_settings_are_checked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(optim_suite());
}
