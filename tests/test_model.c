/* Tests of the model/training engine: shape inference, one training step
 * against the numpy reference (tests/golden/make_train_golden.py), He
 * initialisation, epochs, model files, argument errors. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ------------------------------------------------------------- helpers */

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Reads tests/golden/train/<kase>_<name>.npy; *count receives the element
 * count (checked against want when want is not 0). */
static float *gold(clcnn_ctx *ctx, const char *kase, const char *name, size_t want, size_t *count)
{
    const char *dir = getenv("CLCNN_GOLDEN_DIR");
    ck_assert_msg(dir != NULL, "CLCNN_GOLDEN_DIR is not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/train/%s_%s.npy", dir, kase, name);
    float *data = NULL;
    int rank = 0;
    size_t shape[CLCNN_MAX_RANK];
    int st = clcnn_npy_read(ctx, path, &data, &rank, shape);
    ck_assert_msg(st == CLCNN_OK, "golden %s: %s", path, clcnn_errmsg(ctx));
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= shape[i];
    ck_assert_msg(want == 0 || n == want, "golden %s has %zu elements, want %zu", path, n, want);
    if (count)
        *count = n;
    return data;
}

static void model_ok(clcnn_ctx *ctx, int st, const char *what)
{
    ck_assert_msg(st == CLCNN_OK, "%s: %s (%s)", what, clcnn_status_str(st), clcnn_errmsg(ctx));
}

static clcnn_model *lenet(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    model_ok(ctx, clcnn_model_lenet5(ctx, &m), "clcnn_model_lenet5");
    return m;
}

/* The second golden case; mirrors small() in make_train_golden.py. */
static clcnn_model *small_model(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    model_ok(ctx, clcnn_model_create(ctx, &m, 10, 9, 2), "create");
    model_ok(ctx, clcnn_model_add_conv(m, 4, 3, 3, 2, 2, CLCNN_PAD_SAME, CLCNN_ACT_IDENTITY), "conv 1");
    model_ok(ctx, clcnn_model_add_activation(m, CLCNN_ACT_TANH), "activation tanh");
    model_ok(ctx, clcnn_model_add_pool(m, 2, 2, 1, 1, CLCNN_POOL_AVG), "avg pool 1");
    model_ok(ctx, clcnn_model_add_conv(m, 3, 2, 3, 1, 1, CLCNN_PAD_VALID, CLCNN_ACT_SIGMOID), "conv 2");
    model_ok(ctx, clcnn_model_add_pool(m, 3, 1, 1, 1, CLCNN_POOL_AVG), "avg pool 2");
    model_ok(ctx, clcnn_model_add_flatten(m), "flatten");
    model_ok(ctx, clcnn_model_add_dense(m, 8, CLCNN_ACT_TANH), "dense 8");
    model_ok(ctx, clcnn_model_add_dense(m, 7, CLCNN_ACT_IDENTITY), "dense 7");
    model_ok(ctx, clcnn_model_add_activation(m, CLCNN_ACT_SIGMOID), "activation sigmoid");
    model_ok(ctx, clcnn_model_add_dense(m, 5, CLCNN_ACT_SOFTMAX), "dense 5");
    return m;
}

/* All parameters of m, concatenated (layer order, weights then bias). */
static float *all_params(clcnn_model *m, size_t *count)
{
    size_t total = clcnn_model_param_count(m), off = 0;
    float *p = xmalloc(total * sizeof *p);
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++)
        for (int w = 0; w < 2; w++) {
            size_t n = clcnn_model_param_size(m, i, w);
            if (n == 0)
                continue;
            ck_assert(off + n <= total);
            ck_assert_int_eq(clcnn_model_read_param(m, i, w, p + off, n), CLCNN_OK);
            off += n;
        }
    ck_assert_uint_eq(off, total);
    if (count)
        *count = total;
    return p;
}

/* A small, easily learnable synthetic task on 28x28x1 images: the class is
 * which horizontal band (of 10) holds a bright bar, plus noise. */
static clcnn_dataset *synthetic(clcnn_ctx *ctx, size_t n, unsigned seed, int label_offset)
{
    float *img = xmalloc(n * 784 * sizeof *img);
    int32_t *lab = xmalloc(n * sizeof *lab);
    tu_fill_random(img, n * 784, seed, 0.0f, 0.3f);
    for (size_t i = 0; i < n; i++) {
        int k = (int)((i * 7 + seed) % 10);
        lab[i] = k + label_offset;
        for (int r = 2 + 2 * k; r < 4 + 2 * k; r++)
            for (int c = 4; c < 24; c++)
                img[i * 784 + (size_t)r * 28 + (size_t)c] = 1.0f;
    }
    clcnn_dataset *ds = NULL;
    int st = clcnn_dataset_create(ctx, &ds, n, 28, 28, 1, img, lab);
    ck_assert_msg(st == CLCNN_OK, "dataset_create: %s", clcnn_errmsg(ctx));
    free(img);
    free(lab);
    return ds;
}

static char *tmpdir_make(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = xmalloc(4096);
    snprintf(tmpl, 4096, "%s/clcnn-test-model-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp %s failed", tmpl);
    return tmpl;
}

/* Number of entries (besides . and ..) in dir. */
static int dir_entries(const char *dir, char *first, size_t len)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n++ == 0 && first)
            snprintf(first, len, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static void tmpdir_remove(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[8192];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    ck_assert(n >= 0);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = xmalloc((size_t)n);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* --------------------------------------------------- (a) shape inference */

START_TEST(test_lenet5_shapes)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    ck_assert_uint_eq(clcnn_model_param_count(m), 61706);
    ck_assert_uint_eq(clcnn_model_layer_count(m), 8);
    ck_assert_uint_eq(clcnn_model_classes(m), 10);
    size_t in[3];
    clcnn_model_input_shape(m, in);
    ck_assert(in[0] == 28 && in[1] == 28 && in[2] == 1);
    /* DESIGN.md section 2; a flat output has h = w = 1. */
    static const struct {
        clcnn_layer_kind kind;
        size_t h, w, c, nw, nb;
    } want[8] = {
        {CLCNN_LAYER_CONV, 28, 28, 6, 5 * 5 * 1 * 6, 6},
        {CLCNN_LAYER_POOL, 14, 14, 6, 0, 0},
        {CLCNN_LAYER_CONV, 10, 10, 16, 5 * 5 * 6 * 16, 16},
        {CLCNN_LAYER_POOL, 5, 5, 16, 0, 0},
        {CLCNN_LAYER_FLATTEN, 1, 1, 400, 0, 0},
        {CLCNN_LAYER_DENSE, 1, 1, 120, 400 * 120, 120},
        {CLCNN_LAYER_DENSE, 1, 1, 84, 120 * 84, 84},
        {CLCNN_LAYER_DENSE, 1, 1, 10, 84 * 10, 10},
    };
    for (size_t i = 0; i < 8; i++) {
        clcnn_layer_kind kind = 0;
        size_t s[3] = {0, 0, 0};
        ck_assert_int_eq(clcnn_model_layer_info(m, i, &kind, s), CLCNN_OK);
        ck_assert_msg(kind == want[i].kind, "layer %zu kind %d, want %d", i, (int)kind, (int)want[i].kind);
        ck_assert_msg(s[0] == want[i].h && s[1] == want[i].w && s[2] == want[i].c,
                      "layer %zu output %zux%zux%zu, want %zux%zux%zu", i, s[0], s[1], s[2], want[i].h, want[i].w,
                      want[i].c);
        ck_assert_uint_eq(clcnn_model_param_size(m, i, 0), want[i].nw);
        ck_assert_uint_eq(clcnn_model_param_size(m, i, 1), want[i].nb);
        char buf[256];
        ck_assert_int_eq(clcnn_model_layer_describe(m, i, buf, sizeof buf), CLCNN_OK);
        ck_assert_msg(strlen(buf) > 0, "layer %zu has an empty description", i);
    }
    ck_assert_int_ne(clcnn_model_layer_info(m, 8, NULL, NULL), CLCNN_OK);
    ck_assert_uint_eq(clcnn_model_param_size(m, 8, 0), 0);
    ck_assert_uint_eq(clcnn_model_param_size(m, 0, 2), 0);
    clcnn_model_free(m);

    /* The second golden model's shapes, as make_train_golden.py infers them. */
    m = small_model(ctx);
    static const size_t small_shapes[10][3] = {{5, 5, 4}, {5, 5, 4}, {4, 4, 4}, {3, 2, 3}, {1, 2, 3},
                                               {1, 1, 6}, {1, 1, 8}, {1, 1, 7}, {1, 1, 7}, {1, 1, 5}};
    ck_assert_uint_eq(clcnn_model_layer_count(m), 10);
    for (size_t i = 0; i < 10; i++) {
        size_t s[3];
        ck_assert_int_eq(clcnn_model_layer_info(m, i, NULL, s), CLCNN_OK);
        ck_assert_msg(s[0] == small_shapes[i][0] && s[1] == small_shapes[i][1] && s[2] == small_shapes[i][2],
                      "small layer %zu output %zux%zux%zu", i, s[0], s[1], s[2]);
    }
    ck_assert_uint_eq(clcnn_model_param_count(m), (3 * 3 * 2 * 4 + 4) + (2 * 3 * 4 * 3 + 3) + (6 * 8 + 8) +
                                                       (8 * 7 + 7) + (7 * 5 + 5));
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* An append that must fail with status want, leaving the layer count. */
#define EXPECT_FAIL(ctx, m, call, want)                                                                               \
    do {                                                                                                               \
        size_t before_ = clcnn_model_layer_count(m);                                                                   \
        size_t params_ = clcnn_model_param_count(m);                                                                   \
        int st_ = (call);                                                                                              \
        ck_assert_msg(st_ == (want), "%s gave %d (%s), want %d", #call, st_, clcnn_errmsg(ctx), (int)(want));          \
        ck_assert_msg(strlen(clcnn_errmsg(ctx)) > 0, "%s left no message", #call);                                     \
        ck_assert_uint_eq(clcnn_model_layer_count(m), before_);                                                        \
        ck_assert_uint_eq(clcnn_model_param_count(m), params_);                                                        \
    } while (0)

START_TEST(test_shape_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;

    /* A valid 5x5 convolution on a 3x3 input. */
    model_ok(ctx, clcnn_model_create(ctx, &m, 3, 3, 1), "create 3x3");
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 4, 5, 5, 1, 1, CLCNN_PAD_VALID, CLCNN_ACT_RELU), CLCNN_ERR_SHAPE);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1") != NULL, "message does not name the layer: %s",
                  clcnn_errmsg(ctx));
    /* ... while "same" padding always fits, and the model is still usable. */
    model_ok(ctx, clcnn_model_add_conv(m, 4, 5, 5, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), "same 5x5 on 3x3");
    size_t s[3];
    ck_assert_int_eq(clcnn_model_layer_info(m, 0, NULL, s), CLCNN_OK);
    ck_assert(s[0] == 3 && s[1] == 3 && s[2] == 4);
    /* A pooling window larger than its (second-layer) input. */
    EXPECT_FAIL(ctx, m, clcnn_model_add_pool(m, 4, 2, 1, 1, CLCNN_POOL_MAX), CLCNN_ERR_SHAPE);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 2") != NULL, "message does not name the layer: %s",
                  clcnn_errmsg(ctx));
    EXPECT_FAIL(ctx, m, clcnn_model_add_pool(m, 2, 4, 1, 1, CLCNN_POOL_AVG), CLCNN_ERR_SHAPE);
    /* A dense layer straight on a 2-D map. */
    EXPECT_FAIL(ctx, m, clcnn_model_add_dense(m, 10, CLCNN_ACT_SOFTMAX), CLCNN_ERR_SHAPE);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 2") != NULL, "message does not name the layer: %s",
                  clcnn_errmsg(ctx));
    model_ok(ctx, clcnn_model_add_flatten(m), "flatten");
    model_ok(ctx, clcnn_model_add_dense(m, 10, CLCNN_ACT_SOFTMAX), "dense after flatten");
    ck_assert_uint_eq(clcnn_model_layer_count(m), 3);
    ck_assert_uint_eq(clcnn_model_param_count(m), (5 * 5 * 1 * 4 + 4) + (36 * 10 + 10));
    /* A convolution after flatten sees a 1x1 map: a valid 3x3 cannot fit. */
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 2, 3, 3, 1, 1, CLCNN_PAD_VALID, CLCNN_ACT_RELU), CLCNN_ERR_SHAPE);
    clcnn_model_free(m);

    /* Strides and odd sizes: valid 3x3 stride 2 on 7x8 -> 3x3; pool 2x2/3 -> 1x1. */
    model_ok(ctx, clcnn_model_create(ctx, &m, 7, 8, 2), "create 7x8x2");
    model_ok(ctx, clcnn_model_add_conv(m, 5, 3, 3, 2, 2, CLCNN_PAD_VALID, CLCNN_ACT_TANH), "conv s2");
    ck_assert_int_eq(clcnn_model_layer_info(m, 0, NULL, s), CLCNN_OK);
    ck_assert_msg(s[0] == 3 && s[1] == 3 && s[2] == 5, "valid 3x3/2 on 7x8: %zux%zux%zu", s[0], s[1], s[2]);
    model_ok(ctx, clcnn_model_add_conv(m, 5, 2, 2, 3, 3, CLCNN_PAD_SAME, CLCNN_ACT_TANH), "conv same s3");
    ck_assert_int_eq(clcnn_model_layer_info(m, 1, NULL, s), CLCNN_OK);
    ck_assert_msg(s[0] == 1 && s[1] == 1 && s[2] == 5, "same 2x2/3 on 3x3: %zux%zux%zu", s[0], s[1], s[2]);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_bad_arguments)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 0, 28, 1), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 28, 28, 0), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_create(ctx, NULL, 28, 28, 1), CLCNN_ERR_ARGUMENT);

    model_ok(ctx, clcnn_model_create(ctx, &m, 12, 12, 1), "create");
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 0, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 4, 0, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 4, 3, 3, 0, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 4, 3, 3, 1, -2, CLCNN_PAD_VALID, CLCNN_ACT_RELU), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 4, 3, 3, 1, 1, (clcnn_padding)7, CLCNN_ACT_RELU), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_conv(m, 4, 3, 3, 1, 1, CLCNN_PAD_SAME, (clcnn_activation)99),
                CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_pool(m, 2, 2, 0, 2, CLCNN_POOL_MAX), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_pool(m, 0, 2, 1, 1, CLCNN_POOL_MAX), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_pool(m, 2, 2, 2, 2, (clcnn_pool_mode)5), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_activation(m, (clcnn_activation)99), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_activation(m, (clcnn_activation)-1), CLCNN_ERR_ARGUMENT);
    ck_assert_uint_eq(clcnn_model_layer_count(m), 0);
    model_ok(ctx, clcnn_model_add_flatten(m), "flatten");
    EXPECT_FAIL(ctx, m, clcnn_model_add_dense(m, 0, CLCNN_ACT_RELU), CLCNN_ERR_ARGUMENT);
    EXPECT_FAIL(ctx, m, clcnn_model_add_dense(m, 10, (clcnn_activation)5), CLCNN_ERR_ARGUMENT);
    /* Parameter access out of range or with the wrong size. */
    model_ok(ctx, clcnn_model_add_dense(m, 3, CLCNN_ACT_RELU), "dense 3");
    float buf[432];
    ck_assert_int_eq(clcnn_model_read_param(m, 0, 0, buf, 1), CLCNN_ERR_ARGUMENT); /* flatten has none */
    ck_assert_int_eq(clcnn_model_read_param(m, 1, 0, buf, 431), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_write_param(m, 1, 1, buf, 4), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_read_grad(m, 1, 2, buf, 3), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_read_param(m, 1, 0, NULL, 432), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_read_param(m, 1, 0, buf, 432), CLCNN_OK);
    /* A model that does not end in softmax cannot be trained. */
    int32_t labels[1] = {0};
    float img[144] = {0};
    ck_assert_int_eq(clcnn_model_train_step(m, img, labels, 1, NULL, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_ne(clcnn_model_set_adam(m, 0.0f, 0.9f, 0.999f, 1e-7f), CLCNN_OK);
    ck_assert_int_ne(clcnn_model_set_adam(m, 0.001f, 1.0f, 0.999f, 1e-7f), CLCNN_OK);
    ck_assert_int_ne(clcnn_model_set_adam(m, 0.001f, 0.9f, 0.999f, 0.0f), CLCNN_OK);
    clcnn_model_free(m);

    /* An empty model cannot predict or train. */
    model_ok(ctx, clcnn_model_create(ctx, &m, 12, 12, 1), "create");
    float probs[4];
    ck_assert_int_ne(clcnn_model_predict(m, img, 1, probs), CLCNN_OK);
    ck_assert_int_ne(clcnn_model_train_step(m, img, labels, 1, NULL, NULL), CLCNN_OK);
    clcnn_model_free(m);
    clcnn_model_free(NULL);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------- (b) training step golden */

/*
 * Tolerances.  The library computes in float32, the reference in float64
 * from the same float32 inputs.  Every forward value is a sum of at most a
 * few hundred products (5x5x6 = 150 for conv 2, 400 for dense 1), and a
 * gradient entry a sum of at most 4x28x28 = 3136 (conv 1's dW); float32
 * rounding (2^-24 = 6e-8 per operation) grows roughly with the square root
 * of the number of terms and with the depth of the chain, so a few 1e-6
 * relative is expected; 1e-4 relative leaves a wide margin.  Sums whose
 * terms cancel have a tiny result but the absolute error of their terms, so
 * an absolute allowance of 1e-5 times the tensor's largest entry (about
 * 1e-5 x sqrt(3136) x 6e-8 x typical term counts, with margin) covers them.
 */
#define GRAD_RTOL 1e-4
#define GRAD_ATOL_SCALE 1e-5
#define LOSS_RTOL 1e-4
#define UPDATE_RTOL 1e-3

static const double LR = 0.001, B1 = 0.9, B2 = 0.999, EPS = 1e-7;

/* Adam's step at t = 1 for gradient g (TensorFlow's form, double). */
static double adam1(double g)
{
    double m = (1 - B1) * g, v = (1 - B2) * g * g;
    double lr_t = LR * sqrt(1 - B2) / (1 - B1);
    return -lr_t * m / (sqrt(v) + EPS);
}

/* Adam's step at t = 2 after gradients g1, g2. */
static double adam2(double g1, double g2)
{
    double m = B1 * (1 - B1) * g1 + (1 - B1) * g2;
    double v = B2 * (1 - B2) * g1 * g1 + (1 - B2) * g2 * g2;
    double lr_t = LR * sqrt(1 - B2 * B2) / (1 - B1 * B1);
    return -lr_t * m / (sqrt(v) + EPS);
}

static double max_abs(const float *x, size_t n)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = fabs(x[i]) > mx ? fabs(x[i]) : mx;
    return mx;
}

static void golden_step(clcnn_model *m, clcnn_ctx *ctx, const char *kase, size_t batch)
{
    size_t in[3];
    clcnn_model_input_shape(m, in);
    size_t row = in[0] * in[1] * in[2], k = clcnn_model_classes(m), nl = clcnn_model_layer_count(m);
    char name[64], what[128];

    /* Golden initial weights. */
    float *w0[32][2] = {{NULL}}, *g1[32][2] = {{NULL}};
    ck_assert(nl <= 32);
    for (size_t i = 0; i < nl; i++)
        for (int p = 0; p < 2; p++) {
            size_t n = clcnn_model_param_size(m, i, p);
            if (!n)
                continue;
            snprintf(name, sizeof name, "L%zu_%s", i, p ? "b" : "W");
            w0[i][p] = gold(ctx, kase, name, n, NULL);
            model_ok(ctx, clcnn_model_write_param(m, i, p, w0[i][p], n), "write_param");
        }

    float *x = gold(ctx, kase, "x", batch * row, NULL);
    float *yf = gold(ctx, kase, "y", batch, NULL);
    int32_t *y = xmalloc(batch * sizeof *y);
    for (size_t n = 0; n < batch; n++)
        y[n] = (int32_t)yf[n];

    /* Predictions before the step. */
    float *probs = xmalloc(batch * k * sizeof *probs);
    float *want_probs = gold(ctx, kase, "probs", batch * k, NULL);
    model_ok(ctx, clcnn_model_predict(m, x, batch, probs), "predict");
    snprintf(what, sizeof what, "%s probs", kase);
    tu_assert_close(probs, want_probs, batch * k, GRAD_RTOL, 1e-6, what);

    /* Step 1: loss, accuracy, every gradient, every updated weight. */
    float loss = -1, acc = -1;
    model_ok(ctx, clcnn_model_train_step(m, x, y, batch, &loss, &acc), "train_step 1");
    float *want_loss = gold(ctx, kase, "loss", 1, NULL), *want_acc = gold(ctx, kase, "acc", 1, NULL);
    snprintf(what, sizeof what, "%s loss", kase);
    tu_assert_close(&loss, want_loss, 1, LOSS_RTOL, 1e-6, what);
    ck_assert_msg(acc == want_acc[0], "%s accuracy %g, want %g", kase, (double)acc, (double)want_acc[0]);

    for (size_t i = 0; i < nl; i++)
        for (int p = 0; p < 2; p++) {
            size_t n = clcnn_model_param_size(m, i, p);
            if (!n)
                continue;
            const char *pn = p ? "b" : "W";
            snprintf(name, sizeof name, "L%zu_d%s", i, pn);
            float *gw = gold(ctx, kase, name, n, NULL);
            snprintf(name, sizeof name, "L%zu_u%s", i, pn);
            float *uw = gold(ctx, kase, name, n, NULL);
            float *g = xmalloc(n * sizeof *g), *w1 = xmalloc(n * sizeof *w1);
            model_ok(ctx, clcnn_model_read_grad(m, i, p, g, n), "read_grad");
            model_ok(ctx, clcnn_model_read_param(m, i, p, w1, n), "read_param");
            double gatol = GRAD_ATOL_SCALE * max_abs(gw, n);
            snprintf(what, sizeof what, "%s layer %zu d%s", kase, i, pn);
            tu_assert_close(g, gw, n, GRAD_RTOL, gatol, what);
            for (size_t e = 0; e < n; e++) {
                double u = (double)w1[e] - (double)w0[i][p][e];
                /* float32 rounding of w1 itself: half an ulp of |w|. */
                double wround = 6e-8 * fabs((double)w1[e]) + 1e-12;
                /* (1) Adam applied to the library's own gradient. */
                double u_own = adam1(g[e]);
                ck_assert_msg(fabs(u - u_own) <= UPDATE_RTOL * fabs(u_own) + wround,
                              "%s layer %zu %s[%zu]: update %.9g, Adam of its own gradient %.9g gives %.9g", kase, i,
                              pn, e, u, (double)g[e], u_own);
                /* (2) the reference update; where the gradient is within its
                 * tolerance of zero, Adam's step (about lr * sign(g)) is ill
                 * determined, so the gradient tolerance is carried through
                 * Adam's formula. */
                double gtol = GRAD_RTOL * fabs(gw[e]) + gatol;
                double spread = fmax(fabs(adam1(gw[e] + gtol) - uw[e]), fabs(adam1(gw[e] - gtol) - uw[e]));
                ck_assert_msg(fabs(u - uw[e]) <= UPDATE_RTOL * fabs(uw[e]) + spread + wround,
                              "%s layer %zu %s[%zu]: update %.9g, want %.9g (gradient %.9g, want %.9g)", kase, i, pn,
                              e, u, (double)uw[e], (double)g[e], (double)gw[e]);
                double w1_want = (double)w0[i][p][e] + (double)uw[e];
                ck_assert_msg(fabs(w1[e] - w1_want) <= 1e-5 + spread,
                              "%s layer %zu %s[%zu] after Adam: %.9g, want %.9g", kase, i, pn, e, (double)w1[e],
                              w1_want);
            }
            g1[i][p] = g;
            free(gw);
            free(uw);
            free(w1);
        }

    /* Step 2 on another batch: the moments accumulate, lr_t changes with t. */
    float *x2 = gold(ctx, kase, "x2", batch * row, NULL);
    float *y2f = gold(ctx, kase, "y2", batch, NULL);
    for (size_t n = 0; n < batch; n++)
        y[n] = (int32_t)y2f[n];
    float *w1s[32][2] = {{NULL}};
    for (size_t i = 0; i < nl; i++)
        for (int p = 0; p < 2; p++) {
            size_t n = clcnn_model_param_size(m, i, p);
            if (!n)
                continue;
            w1s[i][p] = xmalloc(n * sizeof(float));
            model_ok(ctx, clcnn_model_read_param(m, i, p, w1s[i][p], n), "read_param");
        }
    model_ok(ctx, clcnn_model_train_step(m, x2, y, batch, &loss, &acc), "train_step 2");
    float *want_loss2 = gold(ctx, kase, "loss2", 1, NULL), *want_acc2 = gold(ctx, kase, "acc2", 1, NULL);
    /* The step-1 weights agree to ~1e-5 absolute (see above), which moves
     * the step-2 loss by far less than 1e-3 relative. */
    snprintf(what, sizeof what, "%s loss after one step", kase);
    tu_assert_close(&loss, want_loss2, 1, 1e-3, 1e-6, what);
    ck_assert_msg(acc == want_acc2[0], "%s step-2 accuracy %g, want %g", kase, (double)acc, (double)want_acc2[0]);
    for (size_t i = 0; i < nl; i++)
        for (int p = 0; p < 2; p++) {
            size_t n = clcnn_model_param_size(m, i, p);
            if (!n)
                continue;
            float *g2 = xmalloc(n * sizeof *g2), *w2 = xmalloc(n * sizeof *w2);
            model_ok(ctx, clcnn_model_read_grad(m, i, p, g2, n), "read_grad");
            model_ok(ctx, clcnn_model_read_param(m, i, p, w2, n), "read_param");
            for (size_t e = 0; e < n; e++) {
                double u = (double)w2[e] - (double)w1s[i][p][e];
                double u_own = adam2(g1[i][p][e], g2[e]);
                double wround = 6e-8 * fabs((double)w2[e]) + 1e-12;
                ck_assert_msg(fabs(u - u_own) <= UPDATE_RTOL * fabs(u_own) + wround,
                              "%s layer %zu %s[%zu] step 2: update %.9g, Adam(t=2) of its own gradients %.9g, %.9g "
                              "gives %.9g",
                              kase, i, p ? "b" : "W", e, u, (double)g1[i][p][e], (double)g2[e], u_own);
            }
            free(g2);
            free(w2);
        }

    for (size_t i = 0; i < nl; i++)
        for (int p = 0; p < 2; p++) {
            free(w0[i][p]);
            free(g1[i][p]);
            free(w1s[i][p]);
        }
    free(x);
    free(x2);
    free(yf);
    free(y2f);
    free(y);
    free(probs);
    free(want_probs);
    free(want_loss);
    free(want_acc);
    free(want_loss2);
    free(want_acc2);
}

START_TEST(test_golden_lenet5)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    golden_step(m, ctx, "lenet5", 4);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_golden_small)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = small_model(ctx);
    golden_step(m, ctx, "small", 3);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* The step-2 weights against the reference's two Adam steps.  Kept apart
 * from the exact checks above: it compounds two steps of float32 error. */
START_TEST(test_golden_two_steps)
{
    static const char *const kases[2] = {"lenet5", "small"};
    clcnn_ctx *ctx = tu_ctx();
    for (int c = 0; c < 2; c++) {
        const char *kase = kases[c];
        clcnn_model *m = c ? small_model(ctx) : lenet(ctx);
        size_t batch = c ? 3 : 4, in[3];
        clcnn_model_input_shape(m, in);
        size_t row = in[0] * in[1] * in[2], nl = clcnn_model_layer_count(m);
        char name[64];
        for (size_t i = 0; i < nl; i++)
            for (int p = 0; p < 2; p++) {
                size_t n = clcnn_model_param_size(m, i, p);
                if (!n)
                    continue;
                snprintf(name, sizeof name, "L%zu_%s", i, p ? "b" : "W");
                float *w = gold(ctx, kase, name, n, NULL);
                model_ok(ctx, clcnn_model_write_param(m, i, p, w, n), "write_param");
                free(w);
            }
        int32_t y[4];
        for (int s = 0; s < 2; s++) {
            float *x = gold(ctx, kase, s ? "x2" : "x", batch * row, NULL);
            float *yf = gold(ctx, kase, s ? "y2" : "y", batch, NULL);
            for (size_t n = 0; n < batch; n++)
                y[n] = (int32_t)yf[n];
            model_ok(ctx, clcnn_model_train_step(m, x, y, batch, NULL, NULL), "train_step");
            free(x);
            free(yf);
        }
        size_t total = 0, off = 0;
        for (size_t i = 0; i < nl; i++)
            for (int p = 0; p < 2; p++) {
                size_t n = clcnn_model_param_size(m, i, p);
                if (!n)
                    continue;
                snprintf(name, sizeof name, "L%zu_%s2", i, p ? "b" : "W");
                float *want = gold(ctx, kase, name, n, NULL);
                float *got = xmalloc(n * sizeof *got);
                model_ok(ctx, clcnn_model_read_param(m, i, p, got, n), "read_param");
                for (size_t e = 0; e < n; e++)
                    off += fabs((double)got[e] - (double)want[e]) > 2e-5;
                total += n;
                free(want);
                free(got);
            }
        /* Two Adam steps move a weight by up to 2e-3; agreement to 2e-5
         * (1%) is expected of all but the few weights whose gradient is
         * within float32 error of zero (where Adam's step is ~lr*sign(g)). */
        ck_assert_msg(off <= total / 1000, "%s: %zu of %zu weights differ from the two-step reference by > 2e-5", kase,
                      off, total);
        clcnn_model_free(m);
    }
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------- (c) initialisation */

START_TEST(test_init_reproducible)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *a = lenet(ctx), *b = lenet(ctx), *c = lenet(ctx);
    model_ok(ctx, clcnn_model_init(a, 42), "init a");
    model_ok(ctx, clcnn_model_init(b, 42), "init b");
    model_ok(ctx, clcnn_model_init(c, 43), "init c");
    size_t n;
    float *pa = all_params(a, &n), *pb = all_params(b, NULL), *pc = all_params(c, NULL);
    ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0, "the same seed gave different weights");
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += pa[i] != pc[i];
    /* Only the (zero) biases may agree: 6+16+120+84+10 = 236 of them. */
    ck_assert_msg(differ >= n - 236, "seeds 42 and 43 agree on %zu of %zu parameters", n - differ, n);

    /* The same seed gives the same weights on the CPU backend. */
    clcnn_ctx *cpu = NULL;
    model_ok(cpu, clcnn_ctx_create_with_log(&cpu, "cpu", NULL, NULL), "cpu context");
    clcnn_model *d = lenet(cpu);
    model_ok(cpu, clcnn_model_init(d, 42), "init on cpu");
    float *pd = all_params(d, NULL);
    ck_assert_msg(memcmp(pa, pd, n * sizeof *pa) == 0, "seed 42 gives different weights on %s and cpu",
                  clcnn_ctx_backend(ctx));

    /* init resets weights and Adam state: train a, re-init it, and a step
     * from there must equal a step from a fresh init (b). */
    float img[2 * 784];
    int32_t lab[2] = {3, 7};
    tu_fill_random(img, 2 * 784, 5, 0.0f, 1.0f);
    for (int s = 0; s < 3; s++)
        model_ok(ctx, clcnn_model_train_step(a, img, lab, 2, NULL, NULL), "train a");
    float *moved = all_params(a, NULL);
    ck_assert_msg(memcmp(moved, pb, n * sizeof *pa) != 0, "training did not change the weights");
    model_ok(ctx, clcnn_model_init(a, 42), "re-init a");
    float *again = all_params(a, NULL);
    ck_assert_msg(memcmp(again, pb, n * sizeof *pa) == 0, "re-init with the same seed differs");
    model_ok(ctx, clcnn_model_train_step(a, img, lab, 2, NULL, NULL), "step a");
    model_ok(ctx, clcnn_model_train_step(b, img, lab, 2, NULL, NULL), "step b");
    float *sa = all_params(a, NULL), *sb = all_params(b, NULL);
    ck_assert_msg(memcmp(sa, sb, n * sizeof *sa) == 0,
                  "a step after re-init differs from a step after a fresh init (Adam state not reset?)");
    free(pa), free(pb), free(pc), free(pd), free(moved), free(again), free(sa), free(sb);
    clcnn_model_free(a), clcnn_model_free(b), clcnn_model_free(c), clcnn_model_free(d);
    clcnn_ctx_free(cpu);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_init_statistics)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 2024), "init");
    size_t n = clcnn_model_param_size(m, 5, 0);
    ck_assert_uint_eq(n, 48000);
    float *w = xmalloc(n * sizeof *w);
    model_ok(ctx, clcnn_model_read_param(m, 5, 0, w, n), "read dense 400x120");
    double he = sqrt(2.0 / 400.0), untrunc = he / 0.87962566103423978;
    double sum = 0, sq = 0, mx = 0;
    size_t beyond1 = 0;
    for (size_t i = 0; i < n; i++) {
        sum += w[i];
        sq += (double)w[i] * w[i];
        mx = fabs(w[i]) > mx ? fabs(w[i]) : mx;
        beyond1 += fabs(w[i]) > untrunc;
    }
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    /* Standard error of the mean: he / sqrt(48000) = 0.0046 he; 5 of them. */
    ck_assert_msg(fabs(mean) < 0.023 * he, "mean %g, want about 0 (he std %g)", mean, he);
    /* The sample std's standard error is about 0.3%; allow 3%. */
    ck_assert_msg(fabs(sd / he - 1.0) < 0.03, "std %g, want sqrt(2/400) = %g", sd, he);
    ck_assert_msg(mx <= 2.0 * untrunc * (1 + 1e-6), "max |w| = %g exceeds 2 untruncated stddevs (%g)", mx,
                  2.0 * untrunc);
    /* It is truncated, not merely narrow: some weights come near the cut. */
    ck_assert_msg(mx > 1.9 * untrunc, "max |w| = %g, expected close to %g", mx, 2.0 * untrunc);
    /* P(|z| > 1 | |z| <= 2) = 2(Phi(2) - Phi(1)) / (2 Phi(2) - 1) = 0.2847. */
    double frac = (double)beyond1 / (double)n;
    ck_assert_msg(fabs(frac - 0.2847) < 0.015, "fraction beyond one untruncated stddev %g, want 0.2847", frac);
    free(w);

    /* Every bias is zero; every weight tensor uses its own fan-in. */
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++) {
        size_t nb = clcnn_model_param_size(m, i, 1), nw = clcnn_model_param_size(m, i, 0);
        if (!nb)
            continue;
        float *b = xmalloc(nb * sizeof *b), *ww = xmalloc(nw * sizeof *ww);
        model_ok(ctx, clcnn_model_read_param(m, i, 1, b, nb), "read bias");
        model_ok(ctx, clcnn_model_read_param(m, i, 0, ww, nw), "read weights");
        for (size_t e = 0; e < nb; e++)
            ck_assert_msg(b[e] == 0.0f, "layer %zu bias[%zu] = %g", i, e, (double)b[e]);
        double fan_in = (double)nw / (double)nb, lim = 2.0 * sqrt(2.0 / fan_in) / 0.87962566103423978;
        double s2 = 0;
        for (size_t e = 0; e < nw; e++) {
            ck_assert_msg(fabs(ww[e]) <= lim * (1 + 1e-6), "layer %zu w[%zu] = %g beyond %g", i, e, (double)ww[e], lim);
            s2 += (double)ww[e] * ww[e];
        }
        double rms = sqrt(s2 / (double)nw), he_i = sqrt(2.0 / fan_in);
        /* 150 samples (conv 1) give a ~6% standard error; allow 25%. */
        ck_assert_msg(fabs(rms / he_i - 1.0) < 0.25, "layer %zu rms %g, want about %g", i, rms, he_i);
        free(b);
        free(ww);
    }
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------- (d) training */

START_TEST(test_train_fashion_subset)
{
    struct stat sb;
    if (stat(FASHION_DIR, &sb) != 0) {
        printf("NOTE: %s is absent (apt-get install dataset-fashion-mnist); "
               "skipping the Fashion-MNIST training test\n",
               FASHION_DIR);
        return;
    }
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *all = NULL;
    int st = clcnn_data_load(ctx, FASHION_DIR, &all, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "load %s: %s", FASHION_DIR, clcnn_errmsg(ctx));
    const size_t n = 2000;
    ck_assert(clcnn_dataset_count(all) >= n);
    float *img = xmalloc(n * 784 * sizeof *img);
    int32_t *lab = xmalloc(n * sizeof *lab);
    model_ok(ctx, clcnn_dataset_get(ctx, all, 0, n, img, lab), "dataset_get");
    clcnn_dataset_free(all);
    clcnn_dataset *ds = NULL;
    model_ok(ctx, clcnn_dataset_create(ctx, &ds, n, 28, 28, 1, img, lab), "dataset_create");
    ck_assert_int_eq(clcnn_dataset_classes(ds), 10);

    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 1), "init");
    double loss0 = 0, acc0 = 0;
    model_ok(ctx, clcnn_model_evaluate(m, ds, 0, &loss0, &acc0), "evaluate before");
    ck_assert_msg(isfinite(loss0) && loss0 > 1.0, "initial loss %g", loss0);
    double loss = 0, acc = 0;
    const int epochs = 4; /* 4 x 63 = 252 steps */
    for (int e = 0; e < epochs; e++)
        model_ok(ctx, clcnn_model_train_epoch(m, ds, 32, 100 + (uint64_t)e, NULL, NULL, 0, &loss, &acc), "epoch");
    double loss1 = 0, acc1 = 0;
    model_ok(ctx, clcnn_model_evaluate(m, ds, 100, &loss1, &acc1), "evaluate after");
    printf("fashion subset: loss %.4f acc %.3f -> last epoch %.4f/%.3f, evaluate %.4f/%.3f\n", loss0, acc0, loss, acc,
           loss1, acc1);
    ck_assert_msg(loss < 0.7 * loss0, "last epoch's loss %g is not below 0.7 x the initial %g", loss, loss0);
    ck_assert_msg(loss1 < 0.7 * loss0, "evaluated loss %g is not below 0.7 x the initial %g", loss1, loss0);
    ck_assert_msg(acc > 0.5 && acc1 > 0.5, "accuracy %g / %g is not well above chance (0.1)", acc, acc1);

    /* Evaluation is a plain mean: it does not depend on the batch size. */
    double l2 = 0, a2 = 0;
    model_ok(ctx, clcnn_model_evaluate(m, ds, 7, &l2, &a2), "evaluate batch 7");
    ck_assert_msg(fabs(l2 - loss1) <= 1e-4 * loss1 && fabs(a2 - acc1) < 1e-9, "batch 7: %g/%g, batch 100: %g/%g", l2,
                  a2, loss1, acc1);
    /* ... and agrees with predict. */
    float *probs = xmalloc(n * 10 * sizeof *probs);
    model_ok(ctx, clcnn_model_predict(m, img, n, probs), "predict");
    double pl = 0;
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t c = 1; c < 10; c++)
            best = probs[i * 10 + c] > probs[i * 10 + best] ? c : best;
        correct += best == (size_t)lab[i];
        pl -= log(fmax(probs[i * 10 + (size_t)lab[i]], 1e-30));
    }
    ck_assert_msg(fabs(pl / (double)n - loss1) < 1e-3 * loss1 + 1e-4, "loss from predict %g, evaluate %g",
                  pl / (double)n, loss1);
    ck_assert_msg(fabs((double)correct / (double)n - acc1) < 1.5 / (double)n, "accuracy from predict %g, evaluate %g",
                  (double)correct / (double)n, acc1);
    free(probs);
    free(img);
    free(lab);
    clcnn_dataset_free(ds);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

typedef struct calls {
    size_t n, done[64], total;
    double loss[64];
    int stop_at; /* return non-zero on this call (1-based); 0: never */
    int bad_total;
} calls;

static int record(void *user, size_t done, size_t total, double loss, double accuracy)
{
    calls *c = user;
    if (c->n < 64) {
        c->done[c->n] = done;
        c->loss[c->n] = loss;
    }
    c->n++;
    if (c->total && total != c->total)
        c->bad_total = 1;
    c->total = total;
    (void)accuracy;
    return c->stop_at && (int)c->n >= c->stop_at;
}

START_TEST(test_progress_callback)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *ds = synthetic(ctx, 300, 3, 0);
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 9), "init");
    calls c = {0};
    double loss = 0, acc = 0;
    model_ok(ctx, clcnn_model_train_epoch(m, ds, 16, 1, record, &c, 64, &loss, &acc), "epoch");
    ck_assert_msg(c.n >= 4 && c.n <= 64, "%zu progress calls for 300 examples every 64", c.n);
    ck_assert_msg(!c.bad_total && c.total == 300, "total %zu", c.total);
    for (size_t i = 0; i < c.n; i++) {
        ck_assert_msg(c.done[i] > 0 && c.done[i] <= 300, "done %zu", c.done[i]);
        ck_assert_msg(i == 0 || c.done[i] > c.done[i - 1], "done went from %zu to %zu", c.done[i - 1], c.done[i]);
        ck_assert_msg(isfinite(c.loss[i]), "non-finite running loss");
    }
    ck_assert_uint_eq(c.done[c.n - 1], 300);
    ck_assert_msg(fabs(c.loss[c.n - 1] - loss) < 1e-9, "last reported loss %g, epoch loss %g", c.loss[c.n - 1], loss);

    /* The synthetic bars are learnable: a few epochs get well above chance. */
    for (int e = 0; e < 3; e++)
        model_ok(ctx, clcnn_model_train_epoch(m, ds, 16, 2 + (uint64_t)e, NULL, NULL, 0, &loss, &acc), "epoch");
    ck_assert_msg(acc > 0.5, "synthetic task accuracy %g after 4 epochs", acc);

    /* Stopping early: non-zero on the second call ends the epoch there. */
    float *before = all_params(m, NULL);
    calls s = {.stop_at = 2};
    double sl = -1, sa = -1;
    model_ok(ctx, clcnn_model_train_epoch(m, ds, 16, 7, record, &s, 64, &sl, &sa), "epoch stopped early");
    ck_assert_msg(s.n == 2, "the callback was called %zu times after asking to stop at 2", s.n);
    ck_assert_msg(s.done[1] < 300, "stopped at %zu of 300", s.done[1]);
    ck_assert_msg(fabs(sl - s.loss[1]) < 1e-9, "early-stop loss %g, last reported %g", sl, s.loss[1]);
    float *after = all_params(m, NULL);
    ck_assert_msg(memcmp(before, after, clcnn_model_param_count(m) * sizeof *after) != 0,
                  "the steps before stopping did not update the model");
    free(before);
    free(after);

    /* Batch size 0 is an error; a batch larger than the set is clamped. */
    ck_assert_int_eq(clcnn_model_train_epoch(m, ds, 0, 1, NULL, NULL, 0, NULL, NULL), CLCNN_ERR_ARGUMENT);
    model_ok(ctx, clcnn_model_train_epoch(m, ds, 1000, 1, NULL, NULL, 0, &loss, NULL), "batch > count");
    ck_assert(isfinite(loss));
    clcnn_dataset_free(ds);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------- (e) model files */

/* clcnn_model_train_run's callback: records the events, and stops the run
 * (a "crash" follows) after the step stop_step. */
typedef struct run_log {
    uint64_t stop_step; /* 0: never */
    int events, begins, ends, bad_order, bad_state;
    int last_event;
} run_log;

static int on_run(void *user, clcnn_train_event event, const clcnn_train_state *s)
{
    run_log *r = user;
    /* BEGIN, PROGRESS..., END, and nothing else in between. */
    if ((event == CLCNN_TRAIN_EPOCH_BEGIN) != (r->events == 0 || r->last_event == CLCNN_TRAIN_EPOCH_END))
        r->bad_order = 1;
    if (event == CLCNN_TRAIN_EPOCH_END && (s->done != s->data_count || r->last_event != CLCNN_TRAIN_PROGRESS))
        r->bad_order = 1;
    if (event != CLCNN_TRAIN_EPOCH_BEGIN &&
        (s->done == 0 || !(s->loss_sum > 0.0) || s->correct < 0.0 || s->correct > (double)s->done))
        r->bad_state = 1;
    r->events++;
    r->begins += event == CLCNN_TRAIN_EPOCH_BEGIN;
    r->ends += event == CLCNN_TRAIN_EPOCH_END;
    r->last_event = (int)event;
    return event == CLCNN_TRAIN_PROGRESS && r->stop_step && s->step == r->stop_step;
}

/* Resumption in the library: a run checkpointing every 5 steps is stopped
 * and freed ("crashes") three times, mid-epoch and on an epoch's last step,
 * each time resumed from the checkpoint file alone; the final model equals,
 * bit for bit on the CPU backend, the model of a run never interrupted. */
START_TEST(test_train_run_resume)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *ds = synthetic(ctx, 200, 5, 0); /* batch 16: 13 steps an epoch, the last of 8 */
    char *dir = tmpdir_make();
    char ck[4200];
    snprintf(ck, sizeof ck, "%s/run.ck", dir);
    const uint32_t epochs = 3;

    clcnn_model *ref = lenet(ctx);
    model_ok(ctx, clcnn_model_init(ref, 3), "init");
    clcnn_train_state st;
    ck_assert_int_eq(clcnn_train_state_init(&st, ds, 11, 16), CLCNN_OK);
    run_log log = {0};
    clcnn_train_options opt = {.epochs = epochs, .callback = on_run, .user = &log, .report_every = 4};
    model_ok(ctx, clcnn_model_train_run(ref, ds, &st, &opt), "uninterrupted run");
    ck_assert_msg(!log.bad_order && !log.bad_state, "callback: order %d, state %d", log.bad_order, log.bad_state);
    ck_assert_int_eq(log.begins, 3);
    ck_assert_int_eq(log.ends, 3);
    ck_assert_uint_eq(st.epoch, epochs + 1);
    ck_assert_uint_eq(st.done, 0);
    ck_assert_uint_eq(st.step, 3 * 13);
    float *want = all_params(ref, NULL);

    /* Crashes after steps 7 (checkpoint at 5), 13 (the last step of epoch
     * 1, checkpoint at 10) and 24 (epoch 2, checkpoint at 20); then to the end. */
    static const uint64_t crash_after[] = {7, 13, 24, 0};
    static const uint64_t resumed_at[] = {0, 5, 10, 20};
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 3), "init");
    ck_assert_int_eq(clcnn_train_state_init(&st, ds, 11, 16), CLCNN_OK);
    for (size_t k = 0; k < sizeof crash_after / sizeof *crash_after; k++) {
        if (k > 0) {
            clcnn_model_free(m); /* the crash: only the checkpoint file survives */
            m = NULL;
            memset(&st, 0xa5, sizeof st);
            model_ok(ctx, clcnn_model_load_checkpoint(ctx, &m, ck, &st), "load the checkpoint");
            ck_assert_uint_eq(st.step, resumed_at[k]);
            ck_assert_uint_eq(st.epoch, 1 + resumed_at[k] / 13);
            ck_assert_uint_eq(st.done, resumed_at[k] % 13 * 16);
        }
        run_log r = {.stop_step = crash_after[k]};
        clcnn_train_options o = {.epochs = epochs, .callback = on_run, .user = &r, .report_every = 1,
                                 .checkpoint = ck, .checkpoint_every = 5};
        model_ok(ctx, clcnn_model_train_run(m, ds, &st, &o), "run");
        ck_assert_msg(!r.bad_order && !r.bad_state, "callback: order %d, state %d", r.bad_order, r.bad_state);
        if (crash_after[k])
            ck_assert_uint_eq(st.step, crash_after[k]);
    }
    ck_assert_uint_eq(st.epoch, epochs + 1);
    ck_assert_uint_eq(st.step, 3 * 13);
    size_t n = 0;
    float *got = all_params(m, &n);
    if (strcmp(clcnn_ctx_backend(ctx), "cpu") == 0)
        ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "the resumed run's model differs from the reference");
    else
        tu_assert_close(got, want, n, 0.0, 1e-5, "resumed model");
    /* The last checkpoint is the end of the run. */
    clcnn_model_free(m);
    m = NULL;
    model_ok(ctx, clcnn_model_load_checkpoint(ctx, &m, ck, &st), "load the final checkpoint");
    ck_assert_uint_eq(st.epoch, epochs + 1);
    free(got);
    got = all_params(m, NULL);
    ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0 || strcmp(clcnn_ctx_backend(ctx), "cpu") != 0,
                  "the final checkpoint holds another model");

    /* A state of other data is refused; so is a NULL state. */
    clcnn_dataset *other = synthetic(ctx, 200, 6, 0);
    st.epoch = 1;
    ck_assert_int_eq(clcnn_model_train_run(m, other, &st, &opt), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "other data"), "message: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(clcnn_model_train_run(m, ds, NULL, &opt), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_train_state_init(&st, ds, 1, 0), CLCNN_ERR_ARGUMENT);

    free(got);
    free(want);
    clcnn_dataset_free(other);
    clcnn_model_free(m);
    clcnn_model_free(ref);
    clcnn_dataset_free(ds);
    tmpdir_remove(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_save_load)
{
    clcnn_ctx *ctx = tu_ctx();
    char *dir = tmpdir_make();
    char path[4200];
    snprintf(path, sizeof path, "%s/lenet.model", dir);
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 11), "init");
    float img[5 * 784];
    int32_t lab[5] = {0, 1, 2, 3, 4};
    tu_fill_random(img, 5 * 784, 17, 0.0f, 1.0f);
    for (int s = 0; s < 3; s++) /* biases non-zero, weights off the init grid */
        model_ok(ctx, clcnn_model_train_step(m, img, lab, 5, NULL, NULL), "train_step");
    model_ok(ctx, clcnn_model_save(m, path), "save");

    clcnn_model *l = NULL;
    model_ok(ctx, clcnn_model_load(ctx, &l, path), "load");
    ck_assert_uint_eq(clcnn_model_layer_count(l), 8);
    ck_assert_uint_eq(clcnn_model_param_count(l), 61706);
    for (size_t i = 0; i < 8; i++) {
        char a[256], b[256];
        clcnn_model_layer_describe(m, i, a, sizeof a);
        clcnn_model_layer_describe(l, i, b, sizeof b);
        ck_assert_str_eq(a, b);
    }
    size_t n;
    float *pm = all_params(m, &n), *pl = all_params(l, NULL);
    ck_assert_msg(memcmp(pm, pl, n * sizeof *pm) == 0, "loaded parameters differ");
    float pa[50], pb[50];
    model_ok(ctx, clcnn_model_predict(m, img, 5, pa), "predict saved");
    model_ok(ctx, clcnn_model_predict(l, img, 5, pb), "predict loaded");
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "predictions of the loaded model are not bit-identical");

    /* On the CPU backend the file gives the same predictions. */
    clcnn_ctx *cpu = NULL;
    model_ok(cpu, clcnn_ctx_create_with_log(&cpu, "cpu", NULL, NULL), "cpu context");
    clcnn_model *c = NULL;
    model_ok(cpu, clcnn_model_load(cpu, &c, path), "load on cpu");
    float *pc = all_params(c, NULL);
    ck_assert_msg(memcmp(pm, pc, n * sizeof *pm) == 0, "parameters loaded on cpu differ");
    float pcpu[50];
    model_ok(cpu, clcnn_model_predict(c, img, 5, pcpu), "predict on cpu");
    tu_assert_close(pcpu, pa, 50, 0.0, 1e-5, "cpu predictions of the saved model");

    /* A loaded model trains (its Adam state starts fresh). */
    float loss = -1;
    model_ok(ctx, clcnn_model_train_step(l, img, lab, 5, &loss, NULL), "train loaded");
    ck_assert(isfinite(loss));

    /* Saving over an existing file replaces it, leaving no temp files. */
    clcnn_model *other = small_model(ctx);
    model_ok(ctx, clcnn_model_init(other, 5), "init small");
    model_ok(ctx, clcnn_model_save(other, path), "save over");
    char first[256] = "";
    ck_assert_int_eq(dir_entries(dir, first, sizeof first), 1);
    ck_assert_str_eq(first, "lenet.model");
    clcnn_model *o2 = NULL;
    model_ok(ctx, clcnn_model_load(ctx, &o2, path), "load replaced");
    ck_assert_uint_eq(clcnn_model_layer_count(o2), 10);
    size_t no;
    float *po = all_params(other, &no), *po2 = all_params(o2, NULL);
    ck_assert_msg(memcmp(po, po2, no * sizeof *po) == 0, "replaced file holds other parameters");
    /* Saving into a missing directory fails cleanly, leaving nothing. */
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.model", dir);
    ck_assert_int_eq(clcnn_model_save(other, bad), CLCNN_ERR_IO);
    ck_assert_int_eq(dir_entries(dir, NULL, 0), 1);

    free(pm), free(pl), free(pc), free(po), free(po2);
    clcnn_model_free(m), clcnn_model_free(l), clcnn_model_free(c), clcnn_model_free(other), clcnn_model_free(o2);
    clcnn_ctx_free(cpu);
    tmpdir_remove(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Loading path must fail with status want and a message naming the file. */
static void expect_load_error(clcnn_ctx *ctx, const char *path, int want, const char *what)
{
    clcnn_model *m = (clcnn_model *)1;
    int st = clcnn_model_load(ctx, &m, path);
    ck_assert_msg(st == want, "%s: load gave %d (%s), want %d", what, st, clcnn_errmsg(ctx), want);
    ck_assert_msg(m == NULL, "%s: *out not cleared", what);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), path) != NULL, "%s: message does not name the file: %s", what,
                  clcnn_errmsg(ctx));
}

/* Rewrites the trailing CRC-32 so that only the deliberate change counts. */
static void fix_crc(unsigned char *b, size_t len)
{
    uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++)
        b[len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
}

START_TEST(test_load_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    char *dir = tmpdir_make();
    char good[4200], path[4200];
    snprintf(good, sizeof good, "%s/good.model", dir);
    snprintf(path, sizeof path, "%s/bad.model", dir);
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 3), "init");
    model_ok(ctx, clcnn_model_save(m, good), "save");
    size_t len;
    unsigned char *orig = slurp(good, &len);
    unsigned char *b = xmalloc(len);
    /* Version 2 and 3 records: kind, field count, fields (conv 7, pool 5,
     * flatten 0, dense 2); version 3's class names: a count, 0. */
    ck_assert_uint_eq(len, 8 + 4 * 6 + 4 * (9 + 7 + 9 + 7 + 2 + 4 + 4 + 4) + 4 + 4 * 61706 + 4);

    char missing[4300];
    snprintf(missing, sizeof missing, "%s/missing.model", dir);
    expect_load_error(ctx, missing, CLCNN_ERR_IO, "missing file");

    memcpy(b, orig, len);
    b[0] = 'X';
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "bad magic");

    spit(path, orig, len / 2);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "truncated to half");
    spit(path, orig, len - 1);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "one byte short");
    spit(path, orig, 20);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "truncated in the header");
    spit(path, orig, 0);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "empty file");

    /* One flipped byte in the weights, in the layer list, in the CRC. */
    size_t where[3] = {len / 2, 8 + 24 + 5, len - 2};
    for (int i = 0; i < 3; i++) {
        memcpy(b, orig, len);
        b[where[i]] ^= 0x10;
        spit(path, b, len);
        expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "flipped byte");
    }
    /* Extra bytes after the checksum. */
    unsigned char *longer = xmalloc(len + 4);
    memcpy(longer, orig, len);
    memset(longer + len, 0, 4);
    spit(path, longer, len + 4);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "trailing bytes");
    free(longer);

    /* Well-checksummed files with impossible contents. */
    memcpy(b, orig, len);
    b[8] = 99; /* version */
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "unknown version");
    memcpy(b, orig, len);
    b[32] = 9; /* first layer kind */
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "unknown layer kind");
    memcpy(b, orig, len);
    b[32 + 8] = 0; /* conv 1 with 0 filters */
    b[32 + 9] = 0;
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "zero filters");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (conv): units = 0 is out of range") != NULL, "%s",
                  clcnn_errmsg(ctx));
    memcpy(b, orig, len);
    b[32 + 12] = 0x88; /* conv 1 with a 5000-row kernel: refused by its declared range */
    b[32 + 13] = 0x13;
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "kernel out of range");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (conv): kh = 5000 is out of range [1, 4096]") != NULL, "%s",
                  clcnn_errmsg(ctx));
    memcpy(b, orig, len);
    b[32 + 36 + 8 + 16] = 2; /* pool 1 (layer 2) in mode 2 */
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "unknown pool mode");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 2 (pool): mode = 2") != NULL, "%s", clcnn_errmsg(ctx));
    memcpy(b, orig, len);
    b[32 + 4] = 6; /* conv 1 claims 6 fields */
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "wrong field count");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 1 (conv) has 6 fields, its family declares 7") != NULL, "%s",
                  clcnn_errmsg(ctx));
    memcpy(b, orig, len);
    b[16] = 3; /* input 3x28x1: the second conv/pool no longer fit */
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "impossible layer shapes");
    memcpy(b, orig, len);
    b[28] = 9; /* 9 layers declared, 8 present */
    fix_crc(b, len);
    spit(path, b, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "wrong layer count");

    /* A directory is not a model. */
    clcnn_model *x = NULL;
    ck_assert_int_lt(clcnn_model_load(ctx, &x, dir), 0);
    ck_assert_ptr_null(x);
    /* The good file still loads (the checks above are not over-eager). */
    model_ok(ctx, clcnn_model_load(ctx, &x, good), "load good");
    clcnn_model_free(x);
    ck_assert_int_eq(clcnn_model_load(ctx, &x, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_save(m, NULL), CLCNN_ERR_ARGUMENT);

    free(orig);
    free(b);
    clcnn_model_free(m);
    tmpdir_remove(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A file of format version 1 (tests/fixtures/lenet5_v1.model: LeNet-5
 * after `clcnn train --device cpu --seed 1 --epochs 1`, saved by the
 * build before version 2) loads, holds the weights its bytes hold, and is
 * saved again in the current version (3) with the same layers and weights. */
START_TEST(test_load_version_1)
{
    clcnn_ctx *ctx = tu_ctx();
    const char *fixtures = getenv("CLCNN_FIXTURE_DIR");
    ck_assert_ptr_nonnull(fixtures);
    char v1[4200], path[4200];
    snprintf(v1, sizeof v1, "%s/lenet5_v1.model", fixtures);
    size_t len;
    unsigned char *bytes = slurp(v1, &len);
    const size_t records = 8 + 4 * 6 + 4 * 9 * 8; /* version 1: nine u32 per layer */
    ck_assert_uint_eq(len, records + 4 * 61706 + 4);
    ck_assert_uint_eq(bytes[8], 1);

    clcnn_model *m = NULL;
    model_ok(ctx, clcnn_model_load(ctx, &m, v1), "load version 1");
    ck_assert_uint_eq(clcnn_model_layer_count(m), 8);
    ck_assert_uint_eq(clcnn_model_param_count(m), 61706);
    size_t n;
    float *p = all_params(m, &n);
    ck_assert_uint_eq(n, 61706);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = 0;
        for (int k = 0; k < 4; k++)
            bits |= (uint32_t)bytes[records + 4 * i + (size_t)k] << (8 * k);
        float want;
        memcpy(&want, &bits, sizeof want);
        ck_assert_msg(memcmp(&p[i], &want, sizeof want) == 0, "parameter %zu differs from the file's bytes", i);
    }
    char buf[256];
    model_ok(ctx, clcnn_model_layer_describe(m, 0, buf, sizeof buf), "describe");
    ck_assert_msg(strncmp(buf, "conv 6 5x5 stride 1x1 same relu", 31) == 0, "%s", buf);
    clcnn_layer_config c;
    ck_assert_int_eq(clcnn_model_layer_config(m, 1, &c), CLCNN_OK);
    ck_assert_int_eq(c.kind, CLCNN_LAYER_POOL);
    ck_assert_uint_eq(c.units, 0); /* a setting pool does not have */
    ck_assert_int_eq(c.kernel_h, 2);
    ck_assert_int_eq(c.stride_w, 2);
    ck_assert_int_eq(c.mode, CLCNN_POOL_MAX);
    ck_assert_int_eq(clcnn_model_layer_config(m, 5, &c), CLCNN_OK);
    ck_assert_int_eq(c.kind, CLCNN_LAYER_DENSE);
    ck_assert_uint_eq(c.units, 120);
    ck_assert_int_eq(c.activation, CLCNN_ACT_RELU);
    ck_assert_int_eq(c.kernel_h, 0);

    /* Saved again: version 3 (no class names), the same weights and
     * predictions. */
    char *dir = tmpdir_make();
    snprintf(path, sizeof path, "%s/v2.model", dir);
    model_ok(ctx, clcnn_model_save(m, path), "save as version 2");
    size_t len2;
    unsigned char *bytes2 = slurp(path, &len2);
    ck_assert_uint_eq(bytes2[8], 3);
    ck_assert_uint_eq(len2, 8 + 4 * 6 + 4 * 46 + 4 + 4 * 61706 + 4);
    ck_assert_ptr_null(clcnn_model_class_name(m, 0));
    ck_assert_msg(memcmp(bytes2 + len2 - 4 - 4 * 61706, bytes + records, 4 * 61706) == 0,
                  "the version 2 file holds other weights");
    clcnn_model *l = NULL;
    model_ok(ctx, clcnn_model_load(ctx, &l, path), "load version 2");
    for (size_t i = 0; i < 8; i++) {
        char a[256], b[256];
        clcnn_model_layer_describe(m, i, a, sizeof a);
        clcnn_model_layer_describe(l, i, b, sizeof b);
        ck_assert_str_eq(a, b);
    }
    float img[3 * 784], pa[30], pb[30];
    tu_fill_random(img, 3 * 784, 5, 0.0f, 1.0f);
    model_ok(ctx, clcnn_model_predict(m, img, 3, pa), "predict version 1");
    model_ok(ctx, clcnn_model_predict(l, img, 3, pb), "predict version 2");
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "predictions differ");

    /* Version 1's own checks still hold: its column guard, then the
     * family's declared ranges. */
    free(bytes2);
    bytes2 = xmalloc(len);
    memcpy(bytes2, bytes, len);
    bytes2[32 + 4 + 3] = 2; /* conv 1 with 2^25 + 6 filters */
    fix_crc(bytes2, len);
    spit(path, bytes2, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "version 1, too many filters");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "units =") != NULL, "%s", clcnn_errmsg(ctx));
    memcpy(bytes2, bytes, len);
    bytes2[32 + 36 + 32] = 3; /* pool 1 in mode 3 */
    fix_crc(bytes2, len);
    spit(path, bytes2, len);
    expect_load_error(ctx, path, CLCNN_ERR_FORMAT, "version 1, unknown pool mode");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "layer 2 (pool): mode = 3") != NULL, "%s", clcnn_errmsg(ctx));
    memcpy(bytes2, bytes, len);
    bytes2[32 + 36 + 4] = 7; /* pool 1 with units 7: a column pool ignores */
    fix_crc(bytes2, len);
    spit(path, bytes2, len);
    clcnn_model *x = NULL;
    model_ok(ctx, clcnn_model_load(ctx, &x, path), "version 1, an ignored column set");
    ck_assert_int_eq(clcnn_model_layer_config(x, 1, &c), CLCNN_OK);
    ck_assert_uint_eq(c.units, 0);

    free(p);
    free(bytes);
    free(bytes2);
    clcnn_model_free(m);
    clcnn_model_free(l);
    clcnn_model_free(x);
    tmpdir_remove(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ----------------------------------------------------- (f) run-time errors */

START_TEST(test_runtime_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 8), "init");

    /* Images of the wrong shape. */
    float *small = xmalloc(20 * 14 * 14 * sizeof *small);
    int32_t lab[20];
    for (int i = 0; i < 20; i++)
        lab[i] = i % 10;
    tu_fill_random(small, 20 * 14 * 14, 1, 0.0f, 1.0f);
    clcnn_dataset *ds14 = NULL;
    model_ok(ctx, clcnn_dataset_create(ctx, &ds14, 20, 14, 14, 1, small, lab), "dataset 14x14");
    double loss = 0, acc = 0;
    ck_assert_int_eq(clcnn_model_evaluate(m, ds14, 0, &loss, &acc), CLCNN_ERR_SHAPE);
    ck_assert(strlen(clcnn_errmsg(ctx)) > 0);
    ck_assert_int_eq(clcnn_model_train_epoch(m, ds14, 8, 1, NULL, NULL, 0, &loss, &acc), CLCNN_ERR_SHAPE);
    clcnn_dataset_free(ds14);
    free(small);

    /* Labels beyond the model's classes. */
    clcnn_dataset *ds11 = synthetic(ctx, 20, 4, 1); /* labels 1..10 */
    ck_assert_int_eq(clcnn_dataset_classes(ds11), 11);
    float *before = all_params(m, NULL);
    int st = clcnn_model_evaluate(m, ds11, 0, &loss, &acc);
    ck_assert_msg(st < 0, "evaluate with label 10 on 10 classes succeeded");
    ck_assert(strlen(clcnn_errmsg(ctx)) > 0);
    st = clcnn_model_train_epoch(m, ds11, 8, 1, NULL, NULL, 0, &loss, &acc);
    ck_assert_msg(st < 0, "train_epoch with label 10 on 10 classes succeeded");
    clcnn_dataset_free(ds11);

    /* train_step with a label out of range, either side; the model is untouched. */
    float img[3 * 784];
    tu_fill_random(img, 3 * 784, 2, 0.0f, 1.0f);
    int32_t bad_hi[3] = {1, 10, 2}, bad_lo[3] = {1, -1, 2};
    ck_assert_int_eq(clcnn_model_train_step(m, img, bad_hi, 3, NULL, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert(strlen(clcnn_errmsg(ctx)) > 0);
    ck_assert_int_eq(clcnn_model_train_step(m, img, bad_lo, 3, NULL, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_train_step(m, img, lab, 0, NULL, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_train_step(m, NULL, lab, 3, NULL, NULL), CLCNN_ERR_ARGUMENT);
    float *after = all_params(m, NULL);
    ck_assert_msg(memcmp(before, after, clcnn_model_param_count(m) * sizeof *after) == 0,
                  "a rejected train_step changed the model");
    /* After the rejected calls the step counter is still at 0: the next
     * update is Adam's first (about lr per weight). */
    int32_t good[3] = {1, 9, 2};
    model_ok(ctx, clcnn_model_train_step(m, img, good, 3, NULL, NULL), "train_step after errors");
    free(after);
    after = all_params(m, NULL);
    for (size_t i = 0; i < clcnn_model_param_count(m); i++)
        ck_assert_msg(fabs((double)after[i] - (double)before[i]) <= 1.0001e-3 + 1e-7,
                      "parameter %zu moved by %g in the first step", i, (double)after[i] - (double)before[i]);

    /* predict with no examples or NULL buffers. */
    float probs[30];
    ck_assert_int_eq(clcnn_model_predict(m, img, 0, probs), CLCNN_ERR_ARGUMENT);
    ck_assert(strlen(clcnn_errmsg(ctx)) > 0);
    ck_assert_int_eq(clcnn_model_predict(m, NULL, 3, probs), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_predict(m, img, 3, NULL), CLCNN_ERR_ARGUMENT);
    model_ok(ctx, clcnn_model_predict(m, img, 3, probs), "predict");
    for (int n = 0; n < 3; n++) {
        double s = 0;
        for (int k = 0; k < 10; k++)
            s += probs[n * 10 + k];
        ck_assert_msg(fabs(s - 1.0) < 1e-5, "probabilities of example %d sum to %g", n, s);
    }
    ck_assert_int_ne(clcnn_model_evaluate(m, NULL, 0, &loss, &acc), CLCNN_OK);
    ck_assert_int_ne(clcnn_model_train_epoch(m, NULL, 8, 1, NULL, NULL, 0, &loss, &acc), CLCNN_OK);
    free(before);
    free(after);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Predictions do not depend on how a request is split into batches. */
START_TEST(test_predict_batches)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = lenet(ctx);
    model_ok(ctx, clcnn_model_init(m, 21), "init");
    const size_t n = 300; /* more than one internal batch of 256 */
    float *img = xmalloc(n * 784 * sizeof *img), *all = xmalloc(n * 10 * sizeof *all);
    tu_fill_random(img, n * 784, 33, 0.0f, 1.0f);
    model_ok(ctx, clcnn_model_predict(m, img, n, all), "predict 300");
    float one[10];
    for (size_t i = 0; i < n; i += 37) {
        model_ok(ctx, clcnn_model_predict(m, img + i * 784, 1, one), "predict 1");
        tu_assert_close(one, all + i * 10, 10, 1e-5, 1e-7, "single vs batched prediction");
    }
    free(img);
    free(all);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A small convolutional net two ways: each layer's activation given to the
 * layer itself, or as an activation layer after a layer with none, which
 * the engine fuses into it.  Both must compute exactly the same thing,
 * forward and in training, since the same kernels run either way. */
static clcnn_model *small_net(clcnn_ctx *ctx, int separate)
{
    clcnn_model *m = NULL;
    model_ok(ctx, clcnn_model_create(ctx, &m, 12, 12, 2), "create");
    clcnn_activation conv_act = separate ? CLCNN_ACT_IDENTITY : CLCNN_ACT_RELU;
    clcnn_activation out_act = separate ? CLCNN_ACT_IDENTITY : CLCNN_ACT_SOFTMAX;
    model_ok(ctx, clcnn_model_add_conv(m, 4, 3, 3, 1, 1, CLCNN_PAD_SAME, conv_act), "conv");
    if (separate)
        model_ok(ctx, clcnn_model_add_activation(m, CLCNN_ACT_RELU), "relu");
    model_ok(ctx, clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX), "pool");
    model_ok(ctx, clcnn_model_add_flatten(m), "flatten");
    model_ok(ctx, clcnn_model_add_dense(m, 16, separate ? CLCNN_ACT_IDENTITY : CLCNN_ACT_TANH), "dense");
    if (separate)
        model_ok(ctx, clcnn_model_add_activation(m, CLCNN_ACT_TANH), "tanh");
    model_ok(ctx, clcnn_model_add_dense(m, 5, out_act), "out");
    if (separate)
        model_ok(ctx, clcnn_model_add_activation(m, CLCNN_ACT_SOFTMAX), "softmax");
    model_ok(ctx, clcnn_model_init(m, 5), "init");
    return m;
}

START_TEST(test_fused_activation_layers)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *fused = small_net(ctx, 0), *separate = small_net(ctx, 1);
    ck_assert_uint_eq(clcnn_model_layer_count(fused), 5);
    ck_assert_uint_eq(clcnn_model_layer_count(separate), 8);
    enum { N = 6, IMG = 12 * 12 * 2 };
    float img[N * IMG], pa[N * 5], pb[N * 5];
    int32_t labels[N];
    tu_fill_random(img, N * IMG, 8, -1.0f, 1.0f);
    for (int i = 0; i < N; i++)
        labels[i] = i % 5;
    for (int step = 0; step < 3; step++) {
        float la, lb, aa, ab;
        model_ok(ctx, clcnn_model_train_step(fused, img, labels, N, &la, &aa), "train fused");
        model_ok(ctx, clcnn_model_train_step(separate, img, labels, N, &lb, &ab), "train separate");
        ck_assert_msg(la == lb && aa == ab, "step %d: loss %.9g / %.9g, accuracy %g / %g", step, (double)la,
                      (double)lb, (double)aa, (double)ab);
    }
    /* The parameters, layer by layer (the separate net's activation layers
     * have none). */
    size_t j = 0;
    for (size_t i = 0; i < clcnn_model_layer_count(separate); i++) {
        if (clcnn_model_param_size(separate, i, 0) == 0)
            continue;
        while (clcnn_model_param_size(fused, j, 0) == 0)
            j++;
        for (int which = 0; which < 2; which++) {
            size_t count = clcnn_model_param_size(separate, i, which);
            ck_assert_uint_eq(count, clcnn_model_param_size(fused, j, which));
            float *a = xmalloc(count * sizeof *a), *b = xmalloc(count * sizeof *b);
            model_ok(ctx, clcnn_model_read_param(fused, j, which, a, count), "read fused");
            model_ok(ctx, clcnn_model_read_param(separate, i, which, b, count), "read separate");
            ck_assert_msg(memcmp(a, b, count * sizeof *a) == 0, "layer %zu parameter %d differs after training", i + 1,
                          which);
            free(a);
            free(b);
        }
        j++;
    }
    model_ok(ctx, clcnn_model_predict(fused, img, N, pa), "predict fused");
    model_ok(ctx, clcnn_model_predict(separate, img, N, pb), "predict separate");
    ck_assert_msg(memcmp(pa, pb, sizeof pa) == 0, "the two nets predict differently");
    clcnn_model_free(fused);
    clcnn_model_free(separate);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_lenet5_shapes);
    tcase_add_test(tc, test_shape_errors);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_golden_lenet5);
    tcase_add_test(tc, test_golden_small);
    tcase_add_test(tc, test_golden_two_steps);
    tcase_add_test(tc, test_init_reproducible);
    tcase_add_test(tc, test_init_statistics);
    tcase_add_test(tc, test_progress_callback);
    tcase_add_test(tc, test_train_run_resume);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_load_version_1);
    tcase_add_test(tc, test_runtime_errors);
    tcase_add_test(tc, test_predict_batches);
    tcase_add_test(tc, test_fused_activation_layers);
    suite_add_tcase(s, tc);
    tcase_add_test(tu_learning_tcase(s, 600), test_train_fashion_subset);
    return s;
}

int main(void)
{
    return tu_run(model_suite());
}
