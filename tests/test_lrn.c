/*
 * Local response normalisation beyond the backend table: the golden cases
 * of PyTorch and TensorFlow (tests/golden/make_lrn_golden.py, which says
 * how each framework's alpha maps to clcnn's), the argument checks, and the
 * LRN layer in a model: its description and settings, training through it,
 * and its record in a model file (format version 3).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

/* As test_ops.c's golden comparisons: float32 against float64 results. */
#define RTOL 1e-5
#define ATOL 1e-6

START_TEST(test_golden)
{
    const char *dir = getenv("CLCNN_GOLDEN_DIR");
    ck_assert_ptr_nonnull(dir);
    char list[4200];
    snprintf(list, sizeof list, "%s/lrn_cases.txt", dir);
    FILE *f = fopen(list, "r");
    ck_assert_msg(f != NULL, "cannot open %s", list);
    clcnn_ctx *ctx = tu_ctx();
    char name[64];
    int size, cases = 0, torch = 0, tf = 0;
    float alpha, beta, k;
    while (fscanf(f, "%63s %d %f %f %f", name, &size, &alpha, &beta, &k) == 5) {
        char path[128];
        snprintf(path, sizeof path, "lrn_%s_x", name);
        clcnn_tensor *x = tu_golden(ctx, path);
        snprintf(path, sizeof path, "lrn_%s_dA", name);
        clcnn_tensor *dA = tu_golden(ctx, path);
        snprintf(path, sizeof path, "lrn_%s_A", name);
        clcnn_tensor *want_A = tu_golden(ctx, path);
        snprintf(path, sizeof path, "lrn_%s_dA_prev", name);
        clcnn_tensor *want_dA_prev = tu_golden(ctx, path);
        clcnn_tensor *A = NULL, *dA_prev = NULL;
        int st = clcnn_lrn_forward(ctx, x, size, alpha, beta, k, &A);
        ck_assert_msg(st == CLCNN_OK, "%s: lrn_forward: %s", name, clcnn_errmsg(ctx));
        tu_assert_tensor_close(A, want_A, RTOL, ATOL, name);
        st = clcnn_lrn_backward(ctx, dA, x, size, alpha, beta, k, &dA_prev);
        ck_assert_msg(st == CLCNN_OK, "%s: lrn_backward: %s", name, clcnn_errmsg(ctx));
        tu_assert_tensor_close(dA_prev, want_dA_prev, RTOL, ATOL, name);
        clcnn_tensor *all[] = {x, dA, want_A, want_dA_prev, A, dA_prev};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            clcnn_tensor_free(all[i]);
        cases++;
        torch += strncmp(name, "torch_", 6) == 0;
        tf += strncmp(name, "tf_", 3) == 0;
    }
    fclose(f);
    ck_assert_int_ge(torch, 1);
    ck_assert_int_ge(tf, 1);
    ck_assert_int_eq(cases, torch + tf);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_argument_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    const size_t s[4] = {1, 2, 2, 3};
    clcnn_tensor *x = tu_tensor(ctx, 4, s, NULL), *y = NULL;
    struct {
        int size;
        float alpha, beta, k;
        const char *field;
    } bad[] = {{0, 1e-4f, 0.75f, 2.0f, "size"},     {4097, 1e-4f, 0.75f, 2.0f, "size"},
               {5, -1.0f, 0.75f, 2.0f, "alpha"},    {5, NAN, 0.75f, 2.0f, "alpha"},
               {5, 1e-4f, 5.0f, 2.0f, "beta"},      {5, 1e-4f, 0.75f, 0.0f, "k"},
               {5, 1e-4f, 0.75f, INFINITY, "k"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = clcnn_lrn_forward(ctx, x, bad[i].size, bad[i].alpha, bad[i].beta, bad[i].k, &y);
        ck_assert_int_eq(st, CLCNN_ERR_ARGUMENT);
        ck_assert_ptr_null(y);
        char want[64];
        snprintf(want, sizeof want, "lrn_forward: %s = ", bad[i].field);
        ck_assert_msg(strstr(clcnn_errmsg(ctx), want) != NULL, "case %zu: %s", i, clcnn_errmsg(ctx));
        st = clcnn_lrn_backward(ctx, x, x, bad[i].size, bad[i].alpha, bad[i].beta, bad[i].k, &y);
        ck_assert_int_eq(st, CLCNN_ERR_ARGUMENT);
        ck_assert_ptr_null(y);
    }
    /* dA of another shape than A_prev's */
    const size_t s2[4] = {1, 2, 2, 4};
    clcnn_tensor *d = tu_tensor(ctx, 4, s2, NULL);
    ck_assert_int_eq(clcnn_lrn_backward(ctx, d, x, 5, 1e-4f, 0.75f, 2.0f, &y), CLCNN_ERR_SHAPE);
    ck_assert_ptr_null(y);
    ck_assert_int_eq(clcnn_lrn_forward(ctx, NULL, 5, 1e-4f, 0.75f, 2.0f, &y), CLCNN_ERR_ARGUMENT);
    /* The model refuses the same settings, and stays as it was. */
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 4, 4, 3), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_lrn(m, 5, 1e-4f, 0.75f, -2.0f), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (lrn): k = -2") != NULL, "%s", clcnn_errmsg(ctx));
    ck_assert_uint_eq(clcnn_model_layer_count(m), 0);
    clcnn_model_free(m);
    clcnn_tensor_free(d);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A small network with an LRN layer after each convolution (AlexNet's
 * places for it), on 8x8x1 inputs and 3 classes. */
static clcnn_model *lrn_model(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 8, 8, 1), CLCNN_OK);
    int st = clcnn_model_add_conv(m, 5, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU) ||
             clcnn_model_add_lrn(m, 5, 1e-4f, 0.75f, 2.0f) || clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX) ||
             clcnn_model_add_conv(m, 4, 3, 3, 1, 1, CLCNN_PAD_VALID, CLCNN_ACT_RELU) ||
             clcnn_model_add_lrn(m, 2, 0.5f, 0.5f, 1.0f) || clcnn_model_add_flatten(m) ||
             clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX);
    ck_assert_msg(st == CLCNN_OK, "building the model: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(clcnn_model_init(m, 3), CLCNN_OK);
    return m;
}

START_TEST(test_layer)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lrn_model(ctx);
    ck_assert_uint_eq(clcnn_model_layer_count(m), 7);
    char buf[256];
    ck_assert_int_eq(clcnn_model_layer_describe(m, 1, buf, sizeof buf), CLCNN_OK);
    ck_assert_msg(strncmp(buf, "lrn size 5 alpha 0.0001 beta 0.75 k 2 ", 38) == 0, "%s", buf);
    ck_assert_msg(strstr(buf, "-> 8x8x5  (0 parameters)") != NULL, "%s", buf);
    clcnn_layer_config c;
    ck_assert_int_eq(clcnn_model_layer_config(m, 4, &c), CLCNN_OK);
    ck_assert_int_eq(c.kind, CLCNN_LAYER_LRN);
    ck_assert_int_eq(c.lrn.size, 2);
    ck_assert(c.lrn.alpha == 0.5f && c.lrn.beta == 0.5f && c.lrn.k == 1.0f);
    ck_assert_uint_eq(c.units, 0);
    ck_assert_uint_eq(c.in_shape[2], 4);
    ck_assert_uint_eq(c.out_shape[0], 2);
    ck_assert_int_eq(clcnn_model_layer_config(m, 0, &c), CLCNN_OK);
    ck_assert_int_eq(c.lrn.size, 0); /* a setting conv does not have */

    /* Training through the LRN layers lowers the loss on a fixed batch. */
    float img[6 * 64];
    int32_t lab[6] = {0, 1, 2, 0, 1, 2};
    tu_fill_random(img, 6 * 64, 9, 0.0f, 1.0f);
    for (int i = 0; i < 6; i++)
        for (int p = 0; p < 8; p++)
            img[i * 64 + lab[i] * 16 + p] = 3.0f;
    float first = 0, loss = 0;
    ck_assert_int_eq(clcnn_model_set_adam(m, 0.01f, 0.9f, 0.999f, 1e-7f), CLCNN_OK);
    for (int step = 0; step < 40; step++) {
        ck_assert_int_eq(clcnn_model_train_step(m, img, lab, 6, &loss, NULL), CLCNN_OK);
        if (step == 0)
            first = loss;
    }
    ck_assert_msg(loss < 0.5f * first, "loss %g after 40 steps, %g at first", loss, first);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

static void put_le32_at(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void fix_crc(unsigned char *b, size_t len)
{
    put_le32_at(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
}

START_TEST(test_model_file)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lrn_model(ctx);
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/clcnn-test-lrn-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lrn.model", dir);
    ck_assert_int_eq(clcnn_model_save(m, path), CLCNN_OK);

    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char b[8192];
    size_t len = fread(b, 1, sizeof b, f);
    fclose(f);
    /* conv 7 fields, lrn 4, pool 5, conv 7, lrn 4, flatten 0, dense 2 */
    const size_t records = 4 * (9 + 6 + 7 + 9 + 6 + 2 + 4);
    /* version 3: the records, a class-name count (0), the parameters */
    ck_assert_uint_eq(len, 32 + records + 4 + 4 * clcnn_model_param_count(m) + 4);
    ck_assert_uint_eq(b[8], 3);
    const unsigned char *lrn = b + 32 + 36; /* layer 2's record, after conv's nine words */
    float alpha, beta, k;
    memcpy(&alpha, lrn + 12, 4), memcpy(&beta, lrn + 16, 4), memcpy(&k, lrn + 20, 4); /* little-endian host */
    ck_assert_uint_eq(lrn[0], 6);  /* kind */
    ck_assert_uint_eq(lrn[4], 4);  /* fields */
    ck_assert_uint_eq(lrn[8], 5);  /* size */
    ck_assert(alpha == 1e-4f && beta == 0.75f && k == 2.0f);

    clcnn_model *l = NULL;
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_OK);
    float img[2 * 64], pa[6], pb[6];
    tu_fill_random(img, 2 * 64, 4, 0.0f, 1.0f);
    ck_assert_int_eq(clcnn_model_predict(m, img, 2, pa), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_predict(l, img, 2, pb), CLCNN_OK);
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "the loaded model predicts otherwise");
    for (size_t i = 0; i < 7; i++) {
        char x[256], y[256];
        clcnn_model_layer_describe(m, i, x, sizeof x);
        clcnn_model_layer_describe(l, i, y, sizeof y);
        ck_assert_str_eq(x, y);
    }
    clcnn_model_free(l);

    /* Each field out of its declared range: refused, naming file, layer and field. */
    struct {
        size_t at;
        uint32_t bits;
        const char *msg;
    } bad[] = {{8, 0, "layer 2 (lrn): size = 0 is out of range"},
               {8, 5000, "layer 2 (lrn): size = 5000 is out of range"},
               {12, 0x7fc00000u, "layer 2 (lrn): alpha = nan is out of range"},
               {12, 0xbf800000u, "layer 2 (lrn): alpha = -1 is out of range"},
               {16, 0x7f800000u, "layer 2 (lrn): beta = inf is out of range"},
               {20, 0, "layer 2 (lrn): k = 0 is out of range"}};
    unsigned char c[8192];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(c, b, len);
        put_le32_at(c + 32 + 36 + bad[i].at, bad[i].bits);
        fix_crc(c, len);
        f = fopen(path, "wb");
        ck_assert_uint_eq(fwrite(c, 1, len, f), len);
        fclose(f);
        l = (clcnn_model *)1;
        ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT);
        ck_assert_ptr_null(l);
        ck_assert_msg(strstr(clcnn_errmsg(ctx), path) && strstr(clcnn_errmsg(ctx), bad[i].msg), "case %zu: %s", i,
                      clcnn_errmsg(ctx));
    }
    /* A record with another field count than its family's. */
    memcpy(c, b, len);
    c[32 + 36 + 4] = 3;
    fix_crc(c, len);
    f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(c, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 2 (lrn) has 3 fields, its family declares 4"), "%s",
                  clcnn_errmsg(ctx));

    unlink(path);
    rmdir(dir);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *lrn_suite(void)
{
    Suite *s = suite_create("lrn");
    TCase *tc = tcase_create("lrn");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_golden);
    tcase_add_test(tc, test_argument_errors);
    tcase_add_test(tc, test_layer);
    tcase_add_test(tc, test_model_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(lrn_suite());
}
