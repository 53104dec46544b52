/* Numerical faults in training: a NaN stops training with a clear error, and
 * is never written into a model or checkpoint file (the last good one is
 * kept). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define BATCH 8

/* LeNet-5 with one NaN among its dense weights, and a batch to train on. */
static clcnn_model *poisoned_lenet(clcnn_ctx *ctx, float *images, int32_t *labels)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 3), CLCNN_OK);
    size_t n = clcnn_model_param_size(m, 5, 0);
    float *w = malloc(n * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(clcnn_model_read_param(m, 5, 0, w, n), CLCNN_OK);
    w[17] = NAN;
    ck_assert_int_eq(clcnn_model_write_param(m, 5, 0, w, n), CLCNN_OK);
    free(w);
    tu_fill_random(images, BATCH * 28 * 28, 5, 0.0f, 1.0f);
    for (int i = 0; i < BATCH; i++)
        labels[i] = i % 10;
    return m;
}

START_TEST(nan_loss_is_an_error)
{
    clcnn_ctx *ctx = tu_ctx();
    float images[BATCH * 28 * 28];
    int32_t labels[BATCH];
    clcnn_model *m = poisoned_lenet(ctx, images, labels);
    float loss = 0.0f;
    ck_assert_int_eq(clcnn_model_train_step(m, images, labels, BATCH, &loss, NULL), CLCNN_ERR_NUMERIC);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "NaN") != NULL, "message: %s", clcnn_errmsg(ctx));

    clcnn_dataset *ds = NULL;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, BATCH, 28, 28, 1, images, labels), CLCNN_OK);
    double l, a;
    ck_assert_int_eq(clcnn_model_train_epoch(m, ds, 4, 1, NULL, NULL, 0, &l, &a), CLCNN_ERR_NUMERIC);
    clcnn_dataset_free(ds);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(nan_is_never_saved)
{
    clcnn_ctx *ctx = tu_ctx();
    char dir[] = "/tmp/clcnn-faults-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run.ck", dir);

    /* A good checkpoint first: the one a failed save must leave alone. */
    clcnn_model *good = NULL;
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &good), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(good, 1), CLCNN_OK);
    clcnn_train_state state = {.seed = 1, .epoch = 1, .batch_size = 32};
    ck_assert_int_eq(clcnn_model_save_checkpoint(good, path, &state), CLCNN_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char before[1 << 20], after[1 << 20];
    size_t nb = fread(before, 1, sizeof before, f);
    fclose(f);

    float images[BATCH * 28 * 28];
    int32_t labels[BATCH];
    clcnn_model *bad = poisoned_lenet(ctx, images, labels);
    ck_assert_int_eq(clcnn_model_save_checkpoint(bad, path, &state), CLCNN_ERR_NUMERIC);
    ck_assert_int_eq(clcnn_model_save(bad, path), CLCNN_ERR_NUMERIC);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t na = fread(after, 1, sizeof after, f);
    fclose(f);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(before, after, nb) == 0, "the good checkpoint was changed");

    clcnn_model *loaded = NULL;
    clcnn_train_state back;
    ck_assert_int_eq(clcnn_model_load_checkpoint(ctx, &loaded, path, &back), CLCNN_OK);
    ck_assert_uint_eq(back.seed, 1);
    clcnn_model_free(loaded);
    clcnn_model_free(bad);
    clcnn_model_free(good);
    unlink(path);
    rmdir(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("numeric");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, nan_loss_is_an_error);
    tcase_add_test(tc, nan_is_never_saved);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
