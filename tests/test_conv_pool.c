/*
 * conv_pool_forward (src/core/backend.h), the convolution and the pooling
 * after it in one backend call, against conv_forward then pool_forward:
 * both outputs bit for bit.  The OpenCL backend's fused kernel
 * (conv_pool_forward in cl/conv.cl) takes windows that tile the output on
 * the direct path, in one launch, and declines anything else with nothing
 * launched; the CPU backend takes every pair, pooling each block of images
 * while its convolution output is in cache (src/cpu/conv.c).  The oclgrind
 * suite runs this program on the checking simulator.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* A convolution (pad rows and columns before and after, dilation dil),
 * then pooling of ph x pw at stride psh x psw, and whether OpenCL's
 * conv_pool_forward takes it on the direct path. */
typedef struct fuse_case {
    const char *name;
    size_t h, w, c, kh, kw, k, sh, sw, pad, dil, groups;
    size_t ph, pw, psh, psw;
    clcnn_pool_mode mode;
    clcnn_activation act;
    int fuses;
} fuse_case;

static const fuse_case fuse_cases[] = {
    /* LeNet-5's two (28 -> 14 windows, 14 / CONV_PB leaves a short block) */
    {"lenet conv1 max relu", 28, 28, 1, 5, 5, 6, 1, 1, 2, 1, 1, 2, 2, 2, 2, CLCNN_POOL_MAX, CLCNN_ACT_RELU, 1},
    {"lenet conv2 avg tanh", 14, 14, 6, 5, 5, 16, 1, 1, 0, 1, 1, 2, 2, 2, 2, CLCNN_POOL_AVG, CLCNN_ACT_TANH, 1},
    {"max tanh", 10, 14, 6, 5, 5, 16, 1, 1, 1, 1, 1, 2, 2, 2, 2, CLCNN_POOL_MAX, CLCNN_ACT_TANH, 1},
    {"avg relu", 28, 28, 1, 5, 5, 6, 1, 1, 2, 1, 1, 2, 2, 2, 2, CLCNN_POOL_AVG, CLCNN_ACT_RELU, 1},
    /* 9 filters: a block of 1; 3x3 windows, 6 of them per row */
    {"3x3 windows, k 9", 12, 18, 3, 3, 3, 9, 1, 1, 1, 1, 1, 3, 3, 3, 3, CLCNN_POOL_MAX, CLCNN_ACT_SIGMOID, 1},
    {"3x3 avg windows, k 9", 12, 18, 3, 3, 3, 9, 1, 1, 1, 1, 1, 3, 3, 3, 3, CLCNN_POOL_AVG, CLCNN_ACT_TANH, 1},
    {"dilated, 2 groups", 14, 10, 4, 3, 3, 10, 1, 1, 2, 2, 2, 2, 2, 2, 2, CLCNN_POOL_AVG, CLCNN_ACT_RELU, 1},
    /* stride 2: the CPU backend's im2col path */
    {"strided, 2x1 windows", 15, 15, 2, 3, 3, 5, 2, 2, 1, 1, 1, 2, 1, 2, 1, CLCNN_POOL_MAX, CLCNN_ACT_IDENTITY, 1},
    /* Not fused on OpenCL: odd sizes (11x13: a row and a column no window
     * reads), overlapping windows, softmax (a row pass after the sums). */
    {"odd 11x13", 11, 13, 3, 3, 3, 13, 1, 1, 1, 1, 1, 2, 2, 2, 2, CLCNN_POOL_MAX, CLCNN_ACT_RELU, 0},
    {"overlapping 3x3/2", 13, 13, 3, 3, 3, 8, 1, 1, 1, 1, 1, 3, 3, 2, 2, CLCNN_POOL_MAX, CLCNN_ACT_RELU, 0},
    {"overlapping avg, stride 2", 13, 13, 3, 3, 3, 8, 2, 2, 1, 1, 1, 3, 3, 2, 2, CLCNN_POOL_AVG, CLCNN_ACT_RELU,
     0},
    {"softmax", 12, 12, 2, 3, 3, 4, 1, 1, 1, 1, 1, 2, 2, 2, 2, CLCNN_POOL_AVG, CLCNN_ACT_SOFTMAX, 0},
};

static conv_geom fuse_conv_geom(const fuse_case *f, size_t n)
{
    conv_geom g = {.n = n, .h = f->h, .w = f->w, .c = f->c, .kh = f->kh, .kw = f->kw, .k = f->k, .sh = f->sh,
                   .sw = f->sw, .pad_top = f->pad, .pad_left = f->pad, .dh = f->dil, .dw = f->dil,
                   .groups = f->groups};
    g.oh = (f->h + 2 * f->pad - f->dil * (f->kh - 1) - 1) / f->sh + 1;
    g.ow = (f->w + 2 * f->pad - f->dil * (f->kw - 1) - 1) / f->sw + 1;
    return g;
}

static pool_geom fuse_pool_geom(const fuse_case *f, const conv_geom *g)
{
    return (pool_geom){.n = g->n, .h = g->oh, .w = g->ow, .c = g->k, .kh = f->ph, .kw = f->pw, .sh = f->psh,
                       .sw = f->psw, .oh = (g->oh - f->ph) / f->psh + 1, .ow = (g->ow - f->pw) / f->psw + 1,
                       .mode = f->mode};
}

static clcnn_buf *fuse_buf(clcnn_ctx *ctx, const float *data, size_t count)
{
    clcnn_buf *b = NULL;
    ck_assert_int_eq(ctx->ops->alloc(ctx->bctx, count * sizeof(float), &b), CLCNN_OK);
    if (data)
        ck_assert_int_eq(ctx->ops->write(ctx->bctx, b, 0, data, count * sizeof(float)), CLCNN_OK);
    else /* a value no output takes: a cell the fused pass missed shows */
        ck_assert_int_eq(ctx->ops->fill(ctx->bctx, b, count, 1234.5f), CLCNN_OK);
    return b;
}

static float *fuse_read(clcnn_ctx *ctx, const clcnn_buf *b, size_t count)
{
    float *out = malloc(count * sizeof *out);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(ctx->ops->read(ctx->bctx, b, 0, out, count * sizeof *out), CLCNN_OK);
    return out;
}

/* Case f on n images through conv_forward then pool_forward, and through
 * conv_pool_forward: the same bits, in launches launches, where it fuses,
 * else CLCNN_ERR_UNSUPPORTED with nothing launched and no message.  With
 * keep_conv 0 only the pooled output is compared (the convolution's is
 * then unspecified). */
static void check_fused_case(clcnn_ctx *ctx, const fuse_case *f, size_t n, int fuses, unsigned launches,
                             int keep_conv, const char *label)
{
    const conv_geom g = fuse_conv_geom(f, n);
    const pool_geom p = fuse_pool_geom(f, &g);
    const size_t nx = n * f->h * f->w * f->c, nw = f->kh * f->kw * (f->c / f->groups) * f->k;
    const size_t nc = n * g.oh * g.ow * g.k, np = n * p.oh * p.ow * p.c;
    float *host = malloc((nx + nw + f->k) * sizeof *host);
    ck_assert_ptr_nonnull(host);
    tu_fill_random(host, nx + nw + f->k, 17, -1.0f, 1.0f);
    clcnn_buf *x = fuse_buf(ctx, host, nx), *w = fuse_buf(ctx, host + nx, nw), *b = fuse_buf(ctx, host + nx + nw, f->k);
    clcnn_buf *yc[2] = {fuse_buf(ctx, NULL, nc), fuse_buf(ctx, NULL, nc)};
    clcnn_buf *yp[2] = {fuse_buf(ctx, NULL, np), fuse_buf(ctx, NULL, np)};
    const clcnn_backend_ops *ops = ctx->ops;
    ck_assert_int_eq(ops->conv_forward(ctx->bctx, &g, x, w, b, f->act, yc[0]), CLCNN_OK);
    ck_assert_int_eq(ops->pool_forward(ctx->bctx, &p, yc[0], yp[0]), CLCNN_OK);
    clcnn_counters c0, c1;
    ck_assert_int_eq(clcnn_ctx_counters(ctx, &c0), CLCNN_OK);
    int st = ops->conv_pool_forward(ctx->bctx, &g, &p, x, w, b, f->act, yc[1], keep_conv, yp[1]);
    ck_assert_int_eq(clcnn_ctx_counters(ctx, &c1), CLCNN_OK);
    ck_assert_msg(st == (fuses ? CLCNN_OK : CLCNN_ERR_UNSUPPORTED), "%s (%s): status %d (%s)", f->name, label, st,
                  clcnn_errmsg(ctx));
    ck_assert_msg(c1.launches - c0.launches == (fuses ? launches : 0u), "%s (%s): %llu launches", f->name, label,
                  (unsigned long long)(c1.launches - c0.launches));
    if (fuses) {
        float *got[2] = {fuse_read(ctx, yc[1], nc), fuse_read(ctx, yp[1], np)};
        float *want[2] = {fuse_read(ctx, yc[0], nc), fuse_read(ctx, yp[0], np)};
        ck_assert_msg(!keep_conv || memcmp(got[0], want[0], nc * sizeof(float)) == 0, "%s (%s): conv output differs",
                      f->name, label);
        ck_assert_msg(memcmp(got[1], want[1], np * sizeof(float)) == 0, "%s (%s): pool output differs", f->name,
                      label);
        for (int i = 0; i < 2; i++)
            free(got[i]), free(want[i]);
    } else {
        ck_assert_str_eq(clcnn_errmsg(ctx), "");
    }
    clcnn_buf *bufs[] = {x, w, b, yc[0], yc[1], yp[0], yp[1]};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        ops->release(ctx->bctx, bufs[i]);
    free(host);
}

static clcnn_ctx *open_ctx(const clcnn_ctx_options *o)
{
    clcnn_ctx_options with = *o;
    with.device = tu_device();
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_with_options(&ctx, &with);
    ck_assert_msg(st == CLCNN_OK, "context %s: %s (%s)", with.device, clcnn_status_str(st),
                  ctx ? clcnn_errmsg(ctx) : "");
    ck_assert_ptr_nonnull(ctx->ops->conv_pool_forward);
    return ctx;
}

/* OpenCL: every case under the default tunables, CONV_PB = 1 (a GPU's)
 * and 3 (3 windows per item, a short last block), and with the path set
 * to GEMM, where only the direct-only convolutions fuse; 3 images. */
static void check_opencl(void)
{
    static const struct {
        const char *build_options;
        clcnn_path conv_path;
    } settings[] = {{NULL, CLCNN_PATH_AUTO}, {"-DCONV_PB=1", CLCNN_PATH_AUTO}, {"-DCONV_PB=3", CLCNN_PATH_AUTO},
                    {NULL, CLCNN_PATH_GEMM}};
    for (size_t s = 0; s < sizeof settings / sizeof *settings; s++) {
        clcnn_ctx *ctx = open_ctx(&(clcnn_ctx_options){.build_options = settings[s].build_options,
                                                       .conv_path = settings[s].conv_path});
        const int gemm = settings[s].conv_path == CLCNN_PATH_GEMM;
        for (size_t i = 0; i < sizeof fuse_cases / sizeof *fuse_cases; i++) {
            const fuse_case *f = &fuse_cases[i];
            /* grouped and dilated convolutions take the direct kernels on any path */
            const int direct = !gemm || f->groups != 1 || f->dil != 1;
            check_fused_case(ctx, f, 3, f->fuses && direct, 1, 1,
                             settings[s].build_options ? settings[s].build_options : gemm ? "gemm" : "default");
        }
        clcnn_ctx_free(ctx);
    }
}

/* CPU: every case fuses, with no launches to count, keeping the
 * convolution's output or not; 9 images, two blocks of 4 and a short one,
 * shared between 1, 2 and 3 threads. */
static void check_cpu(void)
{
    static const char *const labels[2][3] = {{"threads 1, conv output not kept", "threads 2, conv output not kept",
                                              "threads 3, conv output not kept"},
                                             {"threads 1", "threads 2", "threads 3"}};
    for (int t = 1; t <= 3; t++) {
        clcnn_ctx *ctx = open_ctx(&(clcnn_ctx_options){.threads = t});
        for (int keep = 0; keep <= 1; keep++)
            for (size_t i = 0; i < sizeof fuse_cases / sizeof *fuse_cases; i++)
                check_fused_case(ctx, &fuse_cases[i], 9, 1, 0, keep, labels[keep][t - 1]);
        clcnn_ctx_free(ctx);
    }
}

START_TEST(conv_pool_fused_matches_two_calls)
{
    unsetenv("CLCNN_OCL_CONV"); /* the settings below choose the path */
    unsetenv("CLCNN_BUILD_OPTIONS");
    if (strncmp(tu_device(), "opencl", 6) == 0)
        check_opencl();
    else
        check_cpu();
}
END_TEST

static Suite *conv_pool_suite(void)
{
    Suite *s = suite_create("conv_pool");
    TCase *tc = tcase_create("conv_pool");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, conv_pool_fused_matches_two_calls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_skip_if_no_device();
    return tu_run(conv_pool_suite());
}
