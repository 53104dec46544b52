/*
 * Convolution with explicit pads, dilation and groups, and pooling with
 * pads, ceil mode and count_include_pad, beyond the backend table
 * (tests/test_backend_ops.c) and the finite differences
 * (tests/test_gradients.c): the argument checks of clcnn_conv2d_*,
 * clcnn_pool2d_* and their clcnn_model_add_* calls, such layers in a model
 * (descriptions, settings, training through them), and their records in a
 * model file: the settings added after format version 2's first files are
 * stored only up to the last one not at its default, so a LeNet-5 record is
 * as it was, and a record that ends early loads with the defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

/* st is want and the message holds msg; the output stays NULL. */
static void expect_error(clcnn_ctx *ctx, int st, int want, const char *msg, clcnn_tensor *out, const char *what)
{
    ck_assert_msg(st == want, "%s: status %d, want %d (%s)", what, st, want, clcnn_errmsg(ctx));
    ck_assert_msg(strstr(clcnn_errmsg(ctx), msg) != NULL, "%s: message '%s' lacks '%s'", what, clcnn_errmsg(ctx),
                  msg);
    ck_assert_ptr_null(out);
}

START_TEST(test_argument_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    const size_t xs[4] = {2, 6, 5, 4}, ws[4] = {3, 3, 2, 6}, bs[1] = {6};
    clcnn_tensor *x = tu_tensor(ctx, 4, xs, NULL), *w = tu_tensor(ctx, 4, ws, NULL), *b = tu_tensor(ctx, 1, bs, NULL);
    const struct {
        clcnn_conv_params p;
        int status;
        const char *msg;
    } bad[] = {
        {{CLCNN_PAD_EXPLICIT, -1, 0, 0, 0, 1, 1, 1, 1, 2}, CLCNN_ERR_ARGUMENT, "pads (top -1, bottom 0"},
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, -2, 1, 1, 1, 1, 2}, CLCNN_ERR_ARGUMENT, "right -2) must not be negative"},
        {{CLCNN_PAD_SAME, 1, 0, 0, 0, 1, 1, 1, 1, 2}, CLCNN_ERR_ARGUMENT, "padding is same, not explicit"},
        {{CLCNN_PAD_VALID, 0, 0, 1, 0, 1, 1, 1, 1, 2}, CLCNN_ERR_ARGUMENT, "padding is valid, not explicit"},
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, 1, 1, -1, 1, 2}, CLCNN_ERR_ARGUMENT, "dilation (-1, 1) must be at least 1"},
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, -3, 1, 1, 1, 2}, CLCNN_ERR_ARGUMENT, "stride (-3, 1) must be at least 1"},
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, 1, 1, 1, 1, -2}, CLCNN_ERR_ARGUMENT, "groups = -2 must be at least 1"},
        {{(clcnn_padding)7, 0, 0, 0, 0, 1, 1, 1, 1, 2}, CLCNN_ERR_ARGUMENT, "unknown padding 7"},
        /* W (3, 3, 2, 6) against 4 channels: 2 groups only */
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, 1, 1, 1, 1, 1}, CLCNN_ERR_SHAPE,
         "W has 2 input channels but A_prev has 4 channels"},
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, 1, 1, 1, 1, 4}, CLCNN_ERR_SHAPE,
         "W has 2 input channels per group but A_prev has 4 channels in 4 groups"},
        /* the dilated kernel's extent 2*(3-1)+1 = 5 against 6 rows, 5 columns */
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, 1, 1, 2, 3, 2}, CLCNN_ERR_SHAPE,
         "dilated kernel 5x7 is larger than the padded input 6x5"},
        {{CLCNN_PAD_VALID, 0, 0, 0, 0, 1, 1, 3, 1, 2}, CLCNN_ERR_SHAPE,
         "dilated kernel 7x3 is larger than the input 6x5 (valid padding)"},
        {{CLCNN_PAD_EXPLICIT, 0, 0, 0, 0, 1, 1, 1, 1, 2}, CLCNN_OK, ""}, /* the shapes themselves are fine */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "case %zu", i);
        clcnn_tensor *y = NULL;
        int st = clcnn_conv2d_forward(ctx, x, w, b, CLCNN_ACT_RELU, &bad[i].p, &y);
        if (bad[i].status == CLCNN_OK) {
            ck_assert_msg(st == CLCNN_OK, "%s: %s", what, clcnn_errmsg(ctx));
            clcnn_tensor_free(y);
            continue;
        }
        ck_assert_msg(strncmp(clcnn_errmsg(ctx), "conv2d_forward: ", 16) == 0, "%s: %s", what, clcnn_errmsg(ctx));
        expect_error(ctx, st, bad[i].status, bad[i].msg, y, what);
        clcnn_tensor *dx = NULL;
        st = clcnn_conv2d_backward(ctx, x, x, w, b, &bad[i].p, &dx, NULL, NULL);
        expect_error(ctx, st, bad[i].status, bad[i].msg, dx, what);
    }
    /* Groups that do not divide the channels or the filters. */
    const size_t w3s[4] = {3, 3, 1, 6}, w5s[4] = {3, 3, 1, 5}, b5s[1] = {5};
    clcnn_tensor *w3 = tu_tensor(ctx, 4, w3s, NULL), *w5 = tu_tensor(ctx, 4, w5s, NULL), *b5 = tu_tensor(ctx, 1, b5s, NULL);
    clcnn_tensor *y = NULL;
    const size_t x3s[4] = {1, 6, 5, 3};
    clcnn_tensor *x3 = tu_tensor(ctx, 4, x3s, NULL);
    clcnn_conv_params p = {.padding = CLCNN_PAD_SAME, .groups = 3};
    ck_assert_int_eq(clcnn_conv2d_forward(ctx, x3, w3, b, CLCNN_ACT_RELU, &p, &y), CLCNN_OK); /* 3 | 3, 3 | 6 */
    clcnn_tensor_free(y);
    y = NULL;
    expect_error(ctx, clcnn_conv2d_forward(ctx, x3, w5, b5, CLCNN_ACT_RELU, &p, &y), CLCNN_ERR_ARGUMENT,
                 "groups = 3 must divide both the input channels (3) and the filters (5)", y, "3 groups, 5 filters");
    /* The seed calls keep taking same and valid only. */
    const size_t w1s[4] = {3, 3, 4, 6};
    clcnn_tensor *w1 = tu_tensor(ctx, 4, w1s, NULL);
    expect_error(ctx, clcnn_conv_forward(ctx, x, w1, b, CLCNN_ACT_RELU, CLCNN_PAD_EXPLICIT, 1, 1, &y),
                 CLCNN_ERR_ARGUMENT, "conv_forward: unknown padding 2 (expected same or valid)", y, "seed forward");
    /* NULL settings: same padding, stride 1, one group. */
    ck_assert_int_eq(clcnn_conv2d_forward(ctx, x, w1, b, CLCNN_ACT_RELU, NULL, &y), CLCNN_OK);
    size_t shape[CLCNN_MAX_RANK];
    clcnn_tensor_shape(y, shape);
    ck_assert(shape[0] == 2 && shape[1] == 6 && shape[2] == 5 && shape[3] == 6);
    clcnn_tensor_free(y);

    /* The model refuses them too, naming the layer, and stays as it was. */
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 6, 5, 3), CLCNN_OK);
    p = (clcnn_conv_params){.padding = CLCNN_PAD_EXPLICIT, .pad_top = 1, .groups = 2};
    ck_assert_int_eq(clcnn_model_add_conv2d(m, 4, 3, 3, CLCNN_ACT_RELU, &p), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (conv)") && strstr(clcnn_errmsg(ctx), "groups = 2 must divide"),
                  "%s", clcnn_errmsg(ctx));
    p = (clcnn_conv_params){.padding = CLCNN_PAD_EXPLICIT, .pad_left = 5000};
    ck_assert_int_eq(clcnn_model_add_conv2d(m, 4, 3, 3, CLCNN_ACT_RELU, &p), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "pad_left = 5000 is out of range [0, 4096]"), "%s", clcnn_errmsg(ctx));
    p = (clcnn_conv_params){.padding = CLCNN_PAD_VALID, .dilation_h = 3};
    ck_assert_int_eq(clcnn_model_add_conv2d(m, 4, 3, 3, CLCNN_ACT_RELU, &p), CLCNN_ERR_SHAPE);
    ck_assert_uint_eq(clcnn_model_layer_count(m), 0);
    clcnn_model_free(m);

    clcnn_tensor *all[] = {x, w, b, w3, w5, b5, x3, w1};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        clcnn_tensor_free(all[i]);
    clcnn_ctx_free(ctx);
}
END_TEST

/* 12x12x4 inputs, 3 classes: a grouped, dilated, asymmetrically padded and
 * strided convolution, a depthwise one, then dense. */
static clcnn_model *grouped_model(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 12, 12, 4), CLCNN_OK);
    const clcnn_conv_params first = {.padding = CLCNN_PAD_EXPLICIT, .pad_top = 1, .pad_bottom = 2, .pad_right = 1,
                                     .stride_h = 2, .dilation_w = 2, .groups = 2};
    const clcnn_conv_params depthwise = {.padding = CLCNN_PAD_SAME, .groups = 8};
    int st = clcnn_model_add_conv2d(m, 8, 3, 3, CLCNN_ACT_RELU, &first) ||
             clcnn_model_add_conv2d(m, 8, 3, 3, CLCNN_ACT_RELU, &depthwise) || clcnn_model_add_flatten(m) ||
             clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX);
    ck_assert_msg(st == CLCNN_OK, "building the model: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(clcnn_model_init(m, 5), CLCNN_OK);
    return m;
}

START_TEST(test_layer)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = grouped_model(ctx);
    char buf[256];
    /* rows (12 + 1 + 2 - 3) / 2 + 1 = 7, columns (12 + 0 + 1 - 5) + 1 = 9 */
    ck_assert_int_eq(clcnn_model_layer_describe(m, 0, buf, sizeof buf), CLCNN_OK);
    ck_assert_msg(strstr(buf, "conv 8 3x3 stride 2x1 pad 1,2,0,1 dilation 1x2 groups 2 relu") == buf, "%s", buf);
    ck_assert_msg(strstr(buf, "-> 7x9x8") != NULL, "%s", buf);
    ck_assert_uint_eq(clcnn_model_param_size(m, 0, 0), 3 * 3 * 2 * 8);
    ck_assert_uint_eq(clcnn_model_param_size(m, 1, 0), 3 * 3 * 1 * 8);
    ck_assert_int_eq(clcnn_model_layer_describe(m, 1, buf, sizeof buf), CLCNN_OK);
    ck_assert_msg(strstr(buf, "conv 8 3x3 stride 1x1 same groups 8 relu") == buf, "%s", buf);
    clcnn_layer_config c;
    ck_assert_int_eq(clcnn_model_layer_config(m, 0, &c), CLCNN_OK);
    ck_assert_int_eq(c.padding, CLCNN_PAD_EXPLICIT);
    ck_assert(c.conv.pad_top == 1 && c.conv.pad_bottom == 2 && c.conv.pad_left == 0 && c.conv.pad_right == 1);
    ck_assert(c.conv.dilation_h == 1 && c.conv.dilation_w == 2 && c.conv.groups == 2);
    ck_assert(c.stride_h == 2 && c.stride_w == 1 && c.out_shape[0] == 7 && c.out_shape[1] == 9);

    /* The layer computes what the operation does with the same settings. */
    float img[2 * 576];
    tu_fill_random(img, 2 * 576, 3, 0.0f, 1.0f);
    float *wv = malloc(72 * 2 * sizeof *wv), bv[8];
    ck_assert_ptr_nonnull(wv);
    ck_assert_int_eq(clcnn_model_read_param(m, 0, 0, wv, 144), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_read_param(m, 0, 1, bv, 8), CLCNN_OK);
    const size_t xs[4] = {2, 12, 12, 4}, ws[4] = {3, 3, 2, 8}, bs[1] = {8};
    clcnn_tensor *x = tu_tensor(ctx, 4, xs, img), *w = tu_tensor(ctx, 4, ws, wv), *b = tu_tensor(ctx, 1, bs, bv);
    clcnn_tensor *y = NULL;
    const clcnn_conv_params p = {CLCNN_PAD_EXPLICIT, 1, 2, 0, 1, 2, 1, 1, 2, 2};
    ck_assert_int_eq(clcnn_conv2d_forward(ctx, x, w, b, CLCNN_ACT_RELU, &p, &y), CLCNN_OK);
    ck_assert_uint_eq(clcnn_tensor_count(y), 2 * 7 * 9 * 8);
    clcnn_tensor_free(x);
    clcnn_tensor_free(w);
    clcnn_tensor_free(b);
    clcnn_tensor_free(y);
    free(wv);

    /* Training through both lowers the loss on a fixed batch. */
    float batch[6 * 576];
    int32_t lab[6] = {0, 1, 2, 0, 1, 2};
    tu_fill_random(batch, 6 * 576, 9, 0.0f, 1.0f);
    for (int i = 0; i < 6; i++)
        for (int q = 0; q < 48; q++)
            batch[i * 576 + lab[i] * 192 + q] = 3.0f;
    float first = 0, loss = 0;
    ck_assert_int_eq(clcnn_model_set_adam(m, 0.01f, 0.9f, 0.999f, 1e-7f), CLCNN_OK);
    for (int step = 0; step < 40; step++) {
        ck_assert_int_eq(clcnn_model_train_step(m, batch, lab, 6, &loss, NULL), CLCNN_OK);
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

/* The file m saves to path, into b (at most cap bytes); its length. */
static size_t saved_bytes(clcnn_model *m, const char *path, unsigned char *b, size_t cap)
{
    ck_assert_int_eq(clcnn_model_save(m, path), CLCNN_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t len = fread(b, 1, cap, f);
    fclose(f);
    ck_assert_uint_lt(len, cap);
    return len;
}

static void write_bytes(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    fclose(f);
}

START_TEST(test_model_file)
{
    clcnn_ctx *ctx = tu_ctx();
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/clcnn-test-conv2d-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/conv2d.model", dir);
    static unsigned char b[1 << 20], c[1 << 20]; /* LeNet-5's file is 247 KB */

    /* Every setting stored: 14 fields for the first conv; the depthwise one
     * ends at groups too (its pads are 0, its dilations 1, but groups not). */
    clcnn_model *m = grouped_model(ctx);
    size_t len = saved_bytes(m, path, b, sizeof b);
    ck_assert_uint_eq(b[32 + 4], 14);
    ck_assert_uint_eq(b[32 + 64 + 4], 14);
    clcnn_model *l = NULL;
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_OK);
    float img[2 * 576], pa[6], pb[6];
    tu_fill_random(img, 2 * 576, 4, 0.0f, 1.0f);
    ck_assert_int_eq(clcnn_model_predict(m, img, 2, pa), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_predict(l, img, 2, pb), CLCNN_OK);
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "the loaded model predicts otherwise");
    for (size_t i = 0; i < 4; i++) {
        char x[256], y[256];
        clcnn_model_layer_describe(m, i, x, sizeof x);
        clcnn_model_layer_describe(l, i, y, sizeof y);
        ck_assert_str_eq(x, y);
    }
    clcnn_model_free(l);
    /* Out of range in the file: refused, naming file, layer and field. */
    memcpy(c, b, len);
    put_le32_at(c + 32 + 8 + 4 * 13, 0); /* groups */
    fix_crc(c, len);
    write_bytes(path, c, len);
    l = (clcnn_model *)1;
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), path) && strstr(clcnn_errmsg(ctx), "layer 1 (conv): groups = 0 is out of range"),
                  "%s", clcnn_errmsg(ctx));
    /* More fields than the family declares, or fewer than it must have. */
    memcpy(c, b, len);
    c[32 + 4] = 15;
    fix_crc(c, len);
    write_bytes(path, c, len);
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (conv) has 15 fields, its family declares 7 (and 7 more with "
                                            "defaults)"),
                  "%s", clcnn_errmsg(ctx));
    clcnn_model_free(m);

    /* Explicit pads alone: the record ends after pad_right (11 fields). */
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 12, 12, 4), CLCNN_OK);
    const clcnn_conv_params padded = {.padding = CLCNN_PAD_EXPLICIT, .pad_top = 2, .pad_right = 1};
    ck_assert_int_eq(clcnn_model_add_conv2d(m, 3, 3, 3, CLCNN_ACT_TANH, &padded), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_flatten(m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, 2, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 2), CLCNN_OK);
    len = saved_bytes(m, path, b, sizeof b);
    ck_assert_uint_eq(b[32 + 4], 11);
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_OK);
    clcnn_layer_config cfg;
    ck_assert_int_eq(clcnn_model_layer_config(l, 0, &cfg), CLCNN_OK);
    ck_assert(cfg.conv.pad_top == 2 && cfg.conv.pad_right == 1 && cfg.conv.dilation_h == 1 && cfg.conv.groups == 1);
    ck_assert(cfg.out_shape[0] == 12 && cfg.out_shape[1] == 11);
    clcnn_model_free(l);
    clcnn_model_free(m);

    /* The seed's layers are written as before the new fields existed (7
     * fields: a LeNet-5 file is byte for byte what it was), and a record of
     * 7 fields loads with the defaults. */
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &m), CLCNN_OK);
    len = saved_bytes(m, path, b, sizeof b);
    ck_assert_uint_eq(b[32 + 4], 7);
    ck_assert_uint_eq(b[32 + 36 + 4], 5); /* its first pool */
    ck_assert_uint_eq(b[8], 3); /* the version (3 since class names), records unchanged */
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_layer_config(l, 0, &cfg), CLCNN_OK);
    ck_assert(cfg.conv.pad_top == 0 && cfg.conv.dilation_h == 1 && cfg.conv.dilation_w == 1 && cfg.conv.groups == 1);
    clcnn_model_free(l);
    /* Six fields: the activation, which has no default, is missing. */
    memcpy(c, b, len);
    c[32 + 4] = 6;
    fix_crc(c, len);
    write_bytes(path, c, len);
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (conv) has 6 fields, its family declares 7"), "%s",
                  clcnn_errmsg(ctx));
    clcnn_model_free(m);

    unlink(path);
    rmdir(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_pool_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    const size_t xs[4] = {2, 5, 4, 3};
    clcnn_tensor *x = tu_tensor(ctx, 4, xs, NULL);
    const struct {
        int kh, kw;
        clcnn_pool_params p;
        int status;
        const char *msg;
    } bad[] = {
        {3, 3, {-1, 0, 0, 0, 0, 0}, CLCNN_ERR_ARGUMENT, "pads (top -1, bottom 0, left 0, right 0) must not be negative"},
        {3, 3, {0, 3, 0, 0, 0, 0}, CLCNN_ERR_ARGUMENT, "must be smaller than the window 3x3"},
        {2, 3, {0, 0, 0, 3, 0, 0}, CLCNN_ERR_ARGUMENT, "right 3) must be smaller than the window 2x3"},
        {2, 2, {0, 0, 0, 0, 2, 0}, CLCNN_ERR_ARGUMENT, "ceil_mode (2) and count_include_pad (0) must be 0 or 1"},
        {2, 2, {0, 0, 0, 0, 0, -1}, CLCNN_ERR_ARGUMENT, "ceil_mode (0) and count_include_pad (-1) must be 0 or 1"},
        {7, 6, {1, 0, 1, 0, 0, 0}, CLCNN_ERR_SHAPE, "pooling window 7x6 is larger than the padded input 6x5"},
        {6, 4, {0, 0, 0, 0, 1, 0}, CLCNN_ERR_SHAPE, "pooling window 6x4 is larger than the input 5x4"},
        {6, 4, {1, 0, 0, 0, 1, 1}, CLCNN_OK, ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "case %zu", i);
        clcnn_tensor *y = NULL;
        int st = clcnn_pool2d_forward(ctx, x, bad[i].kh, bad[i].kw, 1, 1, CLCNN_POOL_AVG, &bad[i].p, &y);
        if (bad[i].status == CLCNN_OK) {
            ck_assert_msg(st == CLCNN_OK, "%s: %s", what, clcnn_errmsg(ctx));
            clcnn_tensor_free(y);
            continue;
        }
        expect_error(ctx, st, bad[i].status, bad[i].msg, y, what);
        ck_assert_msg(strncmp(clcnn_errmsg(ctx), "pool2d_forward: ", 16) == 0, "%s: %s", what, clcnn_errmsg(ctx));
        clcnn_tensor *dx = NULL;
        st = clcnn_pool2d_backward(ctx, x, x, bad[i].kh, bad[i].kw, 1, 1, CLCNN_POOL_MAX, &bad[i].p, &dx);
        expect_error(ctx, st, bad[i].status, bad[i].msg, dx, what);
    }
    /* Ceil mode's last window must start inside the input or the padding
     * before it: 5 rows, window 2, stride 3, pad 1 gives 2 rows, not 3. */
    const clcnn_pool_params ceil = {.pad_top = 1, .pad_left = 1, .ceil_mode = 1};
    clcnn_tensor *y = NULL;
    ck_assert_int_eq(clcnn_pool2d_forward(ctx, x, 2, 2, 3, 3, CLCNN_POOL_MAX, &ceil, &y), CLCNN_OK);
    size_t shape[CLCNN_MAX_RANK];
    clcnn_tensor_shape(y, shape);
    ck_assert_msg(shape[1] == 2 && shape[2] == 2, "%zux%zu", shape[1], shape[2]);
    clcnn_tensor_free(y);

    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 5, 4, 3), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_pool2d(m, 2, 2, 2, 2, CLCNN_POOL_MAX, &bad[1].p), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (pool)") && strstr(clcnn_errmsg(ctx), "smaller than the window"),
                  "%s", clcnn_errmsg(ctx));
    ck_assert_uint_eq(clcnn_model_layer_count(m), 0);
    clcnn_model_free(m);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* 7x7x2 inputs, 3 classes: padded ceil-mode max pooling, a padded average
 * counting its pads, then dense. */
static clcnn_model *pool_model(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 7, 7, 2), CLCNN_OK);
    const clcnn_pool_params a = {1, 1, 1, 1, 1, 0}, b = {1, 0, 0, 1, 0, 1};
    const clcnn_conv_params same = {.padding = CLCNN_PAD_SAME};
    int st = clcnn_model_add_conv2d(m, 4, 3, 3, CLCNN_ACT_RELU, &same) ||
             clcnn_model_add_pool2d(m, 3, 3, 2, 2, CLCNN_POOL_MAX, &a) ||
             clcnn_model_add_pool2d(m, 2, 2, 1, 1, CLCNN_POOL_AVG, &b) || clcnn_model_add_flatten(m) ||
             clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX);
    ck_assert_msg(st == CLCNN_OK, "building the model: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(clcnn_model_init(m, 6), CLCNN_OK);
    return m;
}

START_TEST(test_pool_layer)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = pool_model(ctx);
    char buf[256];
    /* (7 + 2 - 3) / 2 rounded up, + 1 = 4 */
    ck_assert_int_eq(clcnn_model_layer_describe(m, 1, buf, sizeof buf), CLCNN_OK);
    ck_assert_msg(strstr(buf, "max pool 3x3 stride 2x2 pad 1,1,1,1 ceil ") == buf, "%s", buf);
    ck_assert_msg(strstr(buf, "-> 4x4x4") != NULL, "%s", buf);
    ck_assert_int_eq(clcnn_model_layer_describe(m, 2, buf, sizeof buf), CLCNN_OK);
    ck_assert_msg(strstr(buf, "avg pool 2x2 stride 1x1 pad 1,0,0,1 include_pad ") == buf, "%s", buf);
    clcnn_layer_config c;
    ck_assert_int_eq(clcnn_model_layer_config(m, 2, &c), CLCNN_OK);
    ck_assert(c.pool.pad_top == 1 && c.pool.pad_bottom == 0 && c.pool.pad_left == 0 && c.pool.pad_right == 1);
    ck_assert(c.pool.ceil_mode == 0 && c.pool.count_include_pad == 1);
    ck_assert(c.out_shape[0] == 4 && c.out_shape[1] == 4);

    float batch[6 * 98];
    int32_t lab[6] = {0, 1, 2, 0, 1, 2};
    tu_fill_random(batch, 6 * 98, 9, 0.0f, 1.0f);
    for (int i = 0; i < 6; i++)
        for (int q = 0; q < 28; q++)
            batch[i * 98 + lab[i] * 32 + q] = 3.0f;
    float first = 0, loss = 0;
    ck_assert_int_eq(clcnn_model_set_adam(m, 0.01f, 0.9f, 0.999f, 1e-7f), CLCNN_OK);
    for (int step = 0; step < 40; step++) {
        ck_assert_int_eq(clcnn_model_train_step(m, batch, lab, 6, &loss, NULL), CLCNN_OK);
        if (step == 0)
            first = loss;
    }
    ck_assert_msg(loss < 0.5f * first, "loss %g after 40 steps, %g at first", loss, first);

    /* Saved: the pools' records end at their last setting not at its
     * default (ceil_mode: 10 fields; count_include_pad: 11), the conv's
     * (same padding only) at its seventh; loaded, the same predictions. */
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/clcnn-test-pool2d-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pool2d.model", dir);
    static unsigned char b[65536];
    saved_bytes(m, path, b, sizeof b);
    ck_assert_uint_eq(b[32 + 4], 7);
    ck_assert_uint_eq(b[32 + 36 + 4], 10);
    ck_assert_uint_eq(b[32 + 36 + 48 + 4], 11);
    clcnn_model *l = NULL;
    ck_assert_int_eq(clcnn_model_load(ctx, &l, path), CLCNN_OK);
    float pa[6], pb[6];
    ck_assert_int_eq(clcnn_model_predict(m, batch, 2, pa), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_predict(l, batch, 2, pb), CLCNN_OK);
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "the loaded model predicts otherwise");
    clcnn_model_free(l);
    unlink(path);
    rmdir(dir);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *layer_params_suite(void)
{
    Suite *s = suite_create("layer_params");
    TCase *tc = tcase_create("layer_params");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_argument_errors);
    tcase_add_test(tc, test_layer);
    tcase_add_test(tc, test_model_file);
    tcase_add_test(tc, test_pool_errors);
    tcase_add_test(tc, test_pool_layer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(layer_params_suite());
}
