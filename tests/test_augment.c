/* Augmentation of training batches (clcnn_model_set_augment): the backend's
 * gather_augment against a naive crop-of-the-padded-image-then-mirror
 * reference, u8 and f32 images, grey and colour; the per-example draws; the
 * C API's checks; and training with it, reproducible from the seed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ops/training.h"
#include "testutil.h"

static void ok(clcnn_ctx *ctx, int st, const char *what)
{
    ck_assert_msg(st == CLCNN_OK, "%s on %s: %s", what, clcnn_ctx_backend(ctx), clcnn_errmsg(ctx));
}

static clcnn_buf *dev_buf(clcnn_ctx *ctx, const void *data, size_t bytes)
{
    clcnn_buf *b = NULL;
    ok(ctx, ctx->ops->alloc(ctx->bctx, bytes, &b), "alloc");
    if (data)
        ok(ctx, ctx->ops->write(ctx->bctx, b, 0, data, bytes), "write");
    return b;
}

/* The reference: builds the padded image explicitly, takes the window at
 * (pad + dy, pad + dx), then mirrors the window. */
static void ref_augment(const float *img, size_t h, size_t w, size_t c, size_t pad, int dy, int dx, int flip,
                        float *out)
{
    const size_t ph = h + 2 * pad, pw = w + 2 * pad;
    float *padded = calloc(ph * pw * c, sizeof *padded), *win = malloc(h * w * c * sizeof *win);
    ck_assert_ptr_nonnull(padded);
    ck_assert_ptr_nonnull(win);
    for (size_t i = 0; i < h; i++)
        memcpy(padded + ((i + pad) * pw + pad) * c, img + i * w * c, w * c * sizeof *img);
    for (size_t i = 0; i < h; i++)
        for (size_t j = 0; j < w; j++)
            memcpy(win + (i * w + j) * c, padded + ((i + pad + dy) * pw + (j + pad + dx)) * c, c * sizeof *img);
    for (size_t i = 0; i < h; i++)
        for (size_t j = 0; j < w; j++)
            memcpy(out + (i * w + j) * c, win + (i * w + (flip ? w - 1 - j : j)) * c, c * sizeof *img);
    free(padded);
    free(win);
}

typedef struct aug_case {
    size_t count, h, w, c, m, pad;
    int u8, labels;
    size_t first; /* the batch's rows: indices and draws [first, first + m) */
} aug_case;

static const aug_case cases[] = {
    {9, 5, 6, 1, 7, 2, 1, 1, 0},  {4, 5, 6, 3, 11, 4, 0, 1, 0}, {3, 28, 28, 1, 32, 4, 1, 0, 0},
    {5, 7, 3, 2, 6, 2, 0, 0, 0},  {9, 5, 6, 1, 7, 2, 1, 1, 9},  {4, 5, 6, 3, 11, 4, 0, 1, 5},
};

START_TEST(gather_augment_matches_reference)
{
    const aug_case *k = &cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    const size_t row = k->h * k->w * k->c, n = k->count * row;
    float *imgf = malloc(n * sizeof *imgf);
    uint8_t *imgb = malloc(n);
    ck_assert_ptr_nonnull(imgf);
    ck_assert_ptr_nonnull(imgb);
    tu_fill_random(imgf, n, 11 + (unsigned)_i, 0.0f, 1.0f);
    for (size_t i = 0; i < n; i++) {
        imgb[i] = (uint8_t)((i * 131u + 7u) & 0xffu);
        if (k->u8)
            imgf[i] = (float)imgb[i] / 255.0f;
    }
    int32_t labels[16], idx[48], aug[144], got_y[32];
    for (size_t i = 0; i < k->count; i++)
        labels[i] = (int32_t)(i * 3 % 10);
    /* Every offset in [-pad, pad] and both flips, the extremes included. */
    const int span = (int)(2 * k->pad + 1);
    const size_t rows = k->first + k->m;
    for (size_t r = 0; r < rows; r++) {
        idx[r] = (int32_t)((r * 7 + 2) % k->count);
        aug[3 * r] = (int32_t)(r % (size_t)span) - (int32_t)k->pad;
        aug[3 * r + 1] = (int32_t)((r * 5 + 1) % (size_t)span) - (int32_t)k->pad;
        aug[3 * r + 2] = (int32_t)(r / 2 % 2);
    }
    float *want = malloc(k->m * row * sizeof *want), *got = malloc(k->m * row * sizeof *got);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    for (size_t r = 0; r < k->m; r++) {
        const size_t e = k->first + r;
        ref_augment(imgf + (size_t)idx[e] * row, k->h, k->w, k->c, k->pad, aug[3 * e], aug[3 * e + 1], aug[3 * e + 2],
                    want + r * row);
    }
    clcnn_buf *bimg = dev_buf(ctx, k->u8 ? (const void *)imgb : (const void *)imgf, k->u8 ? n : n * sizeof(float));
    clcnn_buf *blab = dev_buf(ctx, labels, k->count * 4), *bidx = dev_buf(ctx, idx, rows * 4);
    clcnn_buf *baug = dev_buf(ctx, aug, rows * 12), *bx = dev_buf(ctx, NULL, k->m * row * 4);
    clcnn_buf *by = k->labels ? dev_buf(ctx, NULL, k->m * 4) : NULL;
    ok(ctx,
       ctx->ops->gather_augment(ctx->bctx, bimg, k->u8, k->h, k->w, k->c, k->labels ? blab : NULL, bidx, baug,
                                k->first, k->m, bx, by),
       "gather_augment");
    ok(ctx, ctx->ops->read(ctx->bctx, bx, 0, got, k->m * row * 4), "read");
    tu_assert_close(got, want, k->m * row, 1e-6, 0.0, "augmented batch");
    if (by) {
        ok(ctx, ctx->ops->read(ctx->bctx, by, 0, got_y, k->m * 4), "read");
        for (size_t r = 0; r < k->m; r++)
            ck_assert_int_eq(got_y[r], labels[idx[k->first + r]]);
    }
    clcnn_buf *bufs[] = {bimg, blab, bidx, baug, bx, by};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (bufs[i])
            ctx->ops->release(ctx->bctx, bufs[i]);
    free(imgf);
    free(imgb);
    free(want);
    free(got);
    clcnn_ctx_free(ctx);
}
END_TEST

/* The draws: a function of (seed, position) alone, covering every offset
 * and both flips about equally. */
START_TEST(draws_cover_and_repeat)
{
    const clcnn_augment a = {3, 1};
    size_t seen[7][7] = {{0}}, flips = 0, differ = 0;
    const size_t N = 7000;
    for (size_t p = 0; p < N; p++) {
        int32_t d[3], again[3], other[3];
        clcnn_augment_draw(&a, 42, p, d);
        clcnn_augment_draw(&a, 42, p, again);
        clcnn_augment_draw(&a, 43, p, other);
        ck_assert_mem_eq(d, again, sizeof d);
        differ += memcmp(d, other, sizeof d) != 0;
        ck_assert(d[0] >= -3 && d[0] <= 3 && d[1] >= -3 && d[1] <= 3 && (d[2] == 0 || d[2] == 1));
        seen[d[0] + 3][d[1] + 3]++;
        flips += (size_t)d[2];
    }
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++) /* 7000 / 49 = ~143 each */
            ck_assert_msg(seen[i][j] > 90 && seen[i][j] < 200, "offset (%d, %d) drawn %zu times", i - 3, j - 3,
                          seen[i][j]);
    ck_assert_msg(flips > N * 45 / 100 && flips < N * 55 / 100, "%zu flips of %zu", flips, N);
    ck_assert_uint_gt(differ, N * 9 / 10);
    const clcnn_augment crop_only = {2, 0};
    for (size_t p = 0; p < 100; p++) {
        int32_t d[3];
        clcnn_augment_draw(&crop_only, 1, p, d);
        ck_assert_int_eq(d[2], 0);
    }
}
END_TEST

static clcnn_model *small_model(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ok(ctx, clcnn_model_create(ctx, &m, 8, 8, 1), "create");
    ok(ctx, clcnn_model_add_conv(m, 4, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), "conv");
    ok(ctx, clcnn_model_add_flatten(m), "flatten");
    ok(ctx, clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX), "dense");
    ok(ctx, clcnn_model_init(m, 5), "init");
    return m;
}

START_TEST(set_augment_checks)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = small_model(ctx);
    clcnn_augment a = {8, 0}, got = {1, 1};
    ck_assert_int_eq(clcnn_model_set_augment(m, &a), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "below the input's height and width (8x8)"));
    ck_assert_int_eq(clcnn_model_get_augment(m, &got), CLCNN_OK);
    ck_assert_uint_eq(got.crop, 0);
    ck_assert_int_eq(got.flip, 0);
    a = (clcnn_augment){7, 5};
    ck_assert_int_eq(clcnn_model_set_augment(m, &a), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_get_augment(m, &got), CLCNN_OK);
    ck_assert_uint_eq(got.crop, 7);
    ck_assert_int_eq(got.flip, 1);
    ck_assert_int_eq(clcnn_model_set_augment(m, NULL), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_get_augment(m, &got), CLCNN_OK);
    ck_assert_uint_eq(got.crop, 0);
    ck_assert_int_eq(clcnn_model_set_augment(NULL, &a), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_get_augment(m, NULL), CLCNN_ERR_ARGUMENT);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* An epoch's loss with the given augmentation, from fixed weights. */
static double epoch_loss(clcnn_ctx *ctx, const clcnn_dataset *ds, const clcnn_augment *a)
{
    clcnn_model *m = small_model(ctx);
    ok(ctx, clcnn_model_set_augment(m, a), "set_augment");
    double loss = 0.0, acc = 0.0;
    ok(ctx, clcnn_model_train_epoch(m, ds, 4, 9, NULL, NULL, 0, &loss, &acc), "train_epoch");
    clcnn_model_free(m);
    return loss;
}

START_TEST(training_is_reproducible)
{
    clcnn_ctx *ctx = tu_ctx();
    enum { N = 24 };
    float img[N * 64];
    int32_t labels[N];
    tu_fill_random(img, N * 64, 3, 0.0f, 1.0f);
    for (int i = 0; i < N; i++)
        labels[i] = i % 3;
    clcnn_dataset *ds = NULL;
    ok(ctx, clcnn_dataset_create(ctx, &ds, N, 8, 8, 1, img, labels), "dataset");
    const clcnn_augment none = {0, 0}, both = {2, 1};
    double plain = epoch_loss(ctx, ds, &none), aug = epoch_loss(ctx, ds, &both), again = epoch_loss(ctx, ds, &both);
    ck_assert_msg(aug == again, "the same seed gave %.9g and %.9g", aug, again);
    ck_assert_msg(aug != plain, "augmentation changed nothing (%.9g)", plain);
    clcnn_dataset_free(ds);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Stops a run after `stop` steps of its first epoch. */
static int stop_after(void *user, clcnn_train_event event, const clcnn_train_state *state)
{
    const uint64_t *stop = user;
    return event == CLCNN_TRAIN_PROGRESS && state->epoch == 1 && state->done >= *stop;
}

/* The dense layer's weights (layer 2 of small_model), malloc'd. */
static float *dense_weights(clcnn_model *m, size_t *count)
{
    *count = clcnn_model_param_size(m, 2, 0);
    float *w = malloc(*count * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(clcnn_model_read_param(m, 2, 0, w, *count), CLCNN_OK);
    return w;
}

/* A run stopped mid-epoch, checkpointed, loaded and resumed ends with the
 * uninterrupted run's weights: the checkpoint keeps the augmentation.  With
 * the augmentation turned off after loading, the weights differ. */
START_TEST(checkpoint_resumes_the_same_draws)
{
    clcnn_ctx *ctx = tu_ctx();
    enum { N = 40 };
    float img[N * 64];
    int32_t labels[N];
    tu_fill_random(img, N * 64, 4, 0.0f, 1.0f);
    for (int i = 0; i < N; i++)
        labels[i] = i % 3;
    clcnn_dataset *ds = NULL;
    ok(ctx, clcnn_dataset_create(ctx, &ds, N, 8, 8, 1, img, labels), "dataset");
    const clcnn_augment both = {2, 1};
    clcnn_train_options opt = {.epochs = 2, .report_every = 1};

    clcnn_model *a = small_model(ctx);
    clcnn_train_state sa;
    ok(ctx, clcnn_model_set_augment(a, &both), "set_augment");
    ok(ctx, clcnn_train_state_init(&sa, ds, 21, 4), "state");
    ok(ctx, clcnn_model_train_run(a, ds, &sa, &opt), "uninterrupted run");
    size_t n = 0;
    float *want = dense_weights(a, &n);

    char path[256];
    snprintf(path, sizeof path, "%s/clcnn-augment-%ld.ck", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    for (int keep = 1; keep >= 0; keep--) {
        clcnn_model *b = small_model(ctx), *c = NULL;
        clcnn_train_state sb, sc;
        uint64_t stop = 12; /* 3 steps of 4 */
        clcnn_train_options first = {.epochs = 2, .report_every = 1, .callback = stop_after, .user = &stop};
        ok(ctx, clcnn_model_set_augment(b, &both), "set_augment");
        ok(ctx, clcnn_train_state_init(&sb, ds, 21, 4), "state");
        ok(ctx, clcnn_model_train_run(b, ds, &sb, &first), "stopped run");
        ck_assert_uint_eq(sb.done, 12);
        ok(ctx, clcnn_model_save_checkpoint(b, path, &sb), "save_checkpoint");
        ok(ctx, clcnn_model_load_checkpoint(ctx, &c, path, &sc), "load_checkpoint");
        clcnn_augment kept = {0, 0};
        ok(ctx, clcnn_model_get_augment(c, &kept), "get_augment");
        ck_assert_msg(kept.crop == both.crop && kept.flip == both.flip, "the checkpoint kept crop %u flip %d",
                      kept.crop, kept.flip);
        if (!keep)
            ok(ctx, clcnn_model_set_augment(c, NULL), "set_augment");
        ok(ctx, clcnn_model_train_run(c, ds, &sc, &opt), "resumed run");
        size_t m = 0;
        float *got = dense_weights(c, &m);
        ck_assert_uint_eq(m, n);
        if (keep)
            ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "the resumed run's weights differ");
        else
            ck_assert_msg(memcmp(got, want, n * sizeof *got) != 0, "resumed without augmentation, the same weights");
        free(got);
        clcnn_model_free(b);
        clcnn_model_free(c);
    }
    remove(path);
    free(want);
    clcnn_model_free(a);
    clcnn_dataset_free(ds);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *augment_suite(void)
{
    Suite *s = suite_create("augment");
    TCase *tc = tcase_create("augment");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, gather_augment_matches_reference, 0, (int)(sizeof cases / sizeof *cases));
    tcase_add_test(tc, draws_cover_and_repeat);
    tcase_add_test(tc, set_augment_checks);
    tcase_add_test(tc, training_is_reproducible);
    tcase_add_test(tc, checkpoint_resumes_the_same_draws);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_skip_if_no_device();
    return tu_run(augment_suite());
}
