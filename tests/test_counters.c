/*
 * clcnn_ctx_counters: the CPU backend counts nothing; on OpenCL a training
 * step launches LeNet-5's 14 kernels, and a prediction its 6 and, reading
 * its result back, waits for the device at least once; an epoch without
 * progress reports waits once, at its end.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define N 4

static clcnn_model *lenet(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 1), CLCNN_OK);
    return m;
}

START_TEST(a_step_and_a_prediction_are_counted)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    float *images = malloc(N * 28 * 28 * sizeof *images), probs[N * 10];
    ck_assert_ptr_nonnull(images);
    tu_fill_random(images, N * 28 * 28, 3, 0, 1);
    const int32_t labels[N] = {1, 2, 3, 4};
    clcnn_counters c0, c1, c2;
    ck_assert_int_eq(clcnn_ctx_counters(ctx, &c0), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_train_step(m, images, labels, N, NULL, NULL), CLCNN_OK);
    ck_assert_int_eq(clcnn_ctx_counters(ctx, &c1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_predict(m, images, 1, probs), CLCNN_OK);
    ck_assert_int_eq(clcnn_ctx_counters(ctx, &c2), CLCNN_OK);
    if (strcmp(clcnn_ctx_backend(ctx), "cpu") == 0) {
        ck_assert_uint_eq(c2.launches, 0);
        ck_assert_uint_eq(c2.waits, 0);
    } else {
        /* LeNet-5 takes the direct kernels on every device.  A step from
         * the host's arrays (no gather): 5 forward (each conv with the
         * pooling after it in one launch, 3 dense), the softmax with the
         * loss and its gradient, one backward launch per layer (7: weight
         * and data gradients in one), and Adam. */
        ck_assert_uint_eq(c1.launches - c0.launches, 14);
        /* The 5 forward and the softmax of the last dense layer's output. */
        ck_assert_uint_eq(c2.launches - c1.launches, 6);
        ck_assert_uint_ge(c2.waits - c1.waits, 1);
        ck_assert_uint_ge(c2.launches, c1.launches);
    }
    free(images);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* An epoch without a progress callback: its batches' orders and draws are
 * on the device from the start, so the host waits once, for the epoch's
 * figures at the end (issue 17).  The first epoch drains the queue of the
 * model's set-up; the next ones, plain and augmented, are counted. */
START_TEST(an_epoch_waits_once)
{
    enum { BATCH = 16, COUNT = 8 * BATCH + 5 }; /* 8 whole batches and a ragged one */
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    float *images = malloc(COUNT * 28 * 28 * sizeof *images);
    int32_t labels[COUNT];
    ck_assert_ptr_nonnull(images);
    tu_fill_random(images, COUNT * 28 * 28, 5, 0, 1);
    for (int i = 0; i < COUNT; i++)
        labels[i] = i % 10;
    clcnn_dataset *ds = NULL;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, COUNT, 28, 28, 1, images, labels), CLCNN_OK);
    double loss = 0.0;
    ck_assert_int_eq(clcnn_model_train_epoch(m, ds, BATCH, 1, NULL, NULL, 0, &loss, NULL), CLCNN_OK);
    const int cpu = strcmp(clcnn_ctx_backend(ctx), "cpu") == 0;
    const clcnn_augment augments[] = {{0, 0}, {2, 1}};
    for (size_t i = 0; i < sizeof augments / sizeof *augments; i++) {
        ck_assert_int_eq(clcnn_model_set_augment(m, &augments[i]), CLCNN_OK);
        clcnn_counters c0, c1;
        ck_assert_int_eq(clcnn_ctx_counters(ctx, &c0), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_train_epoch(m, ds, BATCH, 2 + i, NULL, NULL, 0, &loss, NULL), CLCNN_OK);
        ck_assert_int_eq(clcnn_ctx_counters(ctx, &c1), CLCNN_OK);
        ck_assert_msg(loss > 0.0, "epoch %zu: loss %g", i, loss);
        if (cpu) {
            ck_assert_uint_eq(c1.waits, 0);
            continue;
        }
        ck_assert_msg(c1.waits - c0.waits <= 1, "epoch %zu (augment %zu): %llu host waits", i, i,
                      (unsigned long long)(c1.waits - c0.waits));
        /* 9 steps of 15: the gather (with or without augmentation) and a step's 14. */
        ck_assert_uint_eq(c1.launches - c0.launches, 9 * 15);
    }
    clcnn_dataset_free(ds);
    free(images);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(null_arguments_are_refused)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_counters c;
    ck_assert_int_eq(clcnn_ctx_counters(NULL, &c), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_ctx_counters(ctx, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_str_ne(clcnn_errmsg(ctx), "");
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *counters_suite(void)
{
    Suite *s = suite_create("counters");
    TCase *tc = tcase_create("counters");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_step_and_a_prediction_are_counted);
    tcase_add_test(tc, an_epoch_waits_once);
    tcase_add_test(tc, null_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_skip_if_no_device();
    return tu_run(counters_suite());
}
