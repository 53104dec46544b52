/*
 * Every op family on the backend under test (CLCNN_DEVICE) against the
 * naive reference of tests/ref/, forward and backward, over one table of
 * shapes and parameters, in the spirit of ggml's test-backend-ops.  Each
 * row is a Check test of its own (one test case per family), reported
 * through TAP so that `meson test` shows the count per backend.
 *
 * Tolerance (ref.h says how it is derived): an output passes when
 *   |got - want| <= err
 * where err is the reference's bound on the rounding error of a float32
 * evaluation of the same formula, element by element: u * g(n) * the sum of
 * the magnitudes of the n accumulated terms (the absolute part), plus a few
 * ulps of |want| where a math function or a division is evaluated (the
 * relative part); 0 for exact operations (max, copies, the tie rule,
 * counts).  Nothing here is tuned to what a backend happens to produce.
 *
 * Inputs come from a seeded generator (tu_fill_random); max pooling rows
 * marked "ties" quantise them to four levels so that windows hold several
 * equal maxima.  A row may carry a configuration (context options) that
 * forces a path of one backend: those rows run on that backend only.
 *
 * Convolution, pooling, dense and LRN go through the public API; the other
 * families have no public op yet and go through the backend table, in the
 * adapter section below (the only code here that includes internal.h's
 * view).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "ref/ref.h"
#include "testutil.h"

/* ---------------------------------------------------------------- the table */

typedef enum family { F_CONV, F_POOL, F_DENSE, F_ACT, F_XENT, F_ADAM, F_GATHER, F_FILL, F_LRN, F_DROPOUT, F_SGD, F_COUNT } family;

static const char *const family_names[F_COUNT] = {"conv", "pool", "dense", "activation", "xent", "adam", "gather",
                                                  "fill", "lrn", "dropout", "sgd"};

/* LRN settings (alpha, beta, k) the rows pick by number: the paper's, and
 * stronger ones under which the normalisation (and the second term of the
 * gradient) is far from negligible for inputs in [-1, 1]. */
static const float lrn_settings[][3] = {{1e-4f, 0.75f, 2.0f}, {0.5f, 0.75f, 1.0f}, {1.0f, 0.5f, 1.0f},
                                        {2.0f, 1.0f, 0.5f}};

/* Context options that select a backend's path (src/opencl/gemm.c's
 * routing, src/cpu/cpu_backend.c's threads); a row with one runs on that
 * backend only.  label names the setting in messages. */
typedef struct config {
    const char *backend; /* NULL: any */
    const char *label;
    clcnn_ctx_options options;
} config;

enum {
    CFG_NONE,
    CFG_THREADS_1,
    CFG_THREADS_3,
    CFG_CONV_GEMM,
    CFG_CONV_DIRECT,
    CFG_CONV_CHUNKED,
    CFG_DENSE_GEMM,
    CFG_DENSE_DIRECT,
    CFG_BLOCKS,
    CFG_GPU_BLOCKS,
    CFG_WG,
    CFG_WG_GEMM,
};

static const config configs[] = {
    [CFG_NONE] = {NULL, NULL, {0}},
    [CFG_THREADS_1] = {"cpu", "threads 1", {.threads = 1}},
    [CFG_THREADS_3] = {"cpu", "threads 3", {.threads = 3}},
    [CFG_CONV_GEMM] = {"opencl", "conv gemm", {.conv_path = CLCNN_PATH_GEMM}},
    [CFG_CONV_DIRECT] = {"opencl", "conv direct", {.conv_path = CLCNN_PATH_DIRECT}},
    /* one image per im2col chunk */
    [CFG_CONV_CHUNKED] = {"opencl", "conv gemm, col_limit 4096", {.conv_path = CLCNN_PATH_GEMM, .col_limit = 4096}},
    [CFG_DENSE_GEMM] = {"opencl", "dense gemm", {.dense_path = CLCNN_PATH_GEMM}},
    [CFG_DENSE_DIRECT] = {"opencl", "dense direct", {.dense_path = CLCNN_PATH_DIRECT}},
    /* kernel blocks other than the defaults: the host sizes the grid from them */
    [CFG_BLOCKS] = {"opencl", "-DCONV_PB=3 -DCONV_CB=2 -DCONV_DW_WG=16 -DDENSE_RB=3",
                    {.build_options = "-DCONV_PB=3 -DCONV_CB=2 -DCONV_DW_WG=16 -DDENSE_RB=3"}},
    /* the register blocks a GPU device gets by default (src/opencl/conv.c,
     * dense.c), here on whatever device runs the suite */
    [CFG_GPU_BLOCKS] = {"opencl", "-DCONV_PB=1 -DCONV_CB=2 -DDENSE_RB=1",
                        {.build_options = "-DCONV_PB=1 -DCONV_CB=2 -DDENSE_RB=1"}},
    /* work-group sizes other than the defaults */
    [CFG_WG] = {"opencl", "-DCOLSUM_WG=16 -DXENT_WG=8", {.build_options = "-DCOLSUM_WG=16 -DXENT_WG=8"}},
    [CFG_WG_GEMM] = {"opencl", "-DCOLSUM_WG=16 -DXENT_WG=8, dense gemm",
                     {.build_options = "-DCOLSUM_WG=16 -DXENT_WG=8", .dense_path = CLCNN_PATH_GEMM}},
};

typedef struct row {
    family fam;
    size_t n, h, w, c; /* conv, pool: input; dense: n = m, c = in; activation: n rows, c cols;
                          xent: n = m; adam, fill: n = count; gather: n images of c values */
    size_t kh, kw, k;  /* conv: kernel, k outputs; pool: window; dense: k = out; xent: k classes;
                          adam: k steps; gather: k = batch */
    size_t sh, sw;     /* strides; adam: sh = the first step t; gather: sh = first (the batch's window) */
    int mode;          /* conv: clcnn_padding; pool: clcnn_pool_mode; gather: uint8 images */
    clcnn_activation act;
    int variant;       /* pool: ties; activation: in place; xent: dlogits too; gather: labels;
                          lrn: lrn_settings row (kh: the size) */
    float f;           /* xent: grad_scale; fill: the value */
    int cfg;
    /* with_params: through clcnn_conv2d_* or clcnn_pool2d_* with pads
     * (top, bottom, left, right; conv: with mode EXPL), conv's dilation
     * (h, w) and groups, pool's ceil mode and count_include_pad; a row
     * without them (CONV, POOL) takes the seed calls. */
    int with_params;
    size_t pad[4], dil[2], groups;
    int ceil_mode, include_pad;
} row;

#define SAME CLCNN_PAD_SAME
#define VALID CLCNN_PAD_VALID
#define EXPL CLCNN_PAD_EXPLICIT
#define MAX CLCNN_POOL_MAX
#define AVG CLCNN_POOL_AVG
#define ID CLCNN_ACT_IDENTITY
#define RELU CLCNN_ACT_RELU
#define SIGM CLCNN_ACT_SIGMOID
#define TANH CLCNN_ACT_TANH
#define SMAX CLCNN_ACT_SOFTMAX

#define CONV(n_, h_, w_, c_, kh_, kw_, k_, sh_, sw_, pad, act_, cfg_)                                             \
    {.fam = F_CONV, .n = n_, .h = h_, .w = w_, .c = c_, .kh = kh_, .kw = kw_, .k = k_, .sh = sh_, .sw = sw_,        \
     .mode = pad, .act = act_, .cfg = cfg_}
/* A convolution with every setting of clcnn_conv_params. */
#define CONVX(n_, h_, w_, c_, kh_, kw_, k_, sh_, sw_, padding, pt, pb, pl, pr, dh, dw, groups_, act_, cfg_)          \
    {.fam = F_CONV, .n = n_, .h = h_, .w = w_, .c = c_, .kh = kh_, .kw = kw_, .k = k_, .sh = sh_, .sw = sw_,        \
     .mode = padding, .act = act_, .cfg = cfg_, .with_params = 1, .pad = {pt, pb, pl, pr}, .dil = {dh, dw},                 \
     .groups = groups_}
#define POOL(n_, h_, w_, c_, kh_, kw_, sh_, sw_, mode_, ties)                                                     \
    {.fam = F_POOL, .n = n_, .h = h_, .w = w_, .c = c_, .kh = kh_, .kw = kw_, .sh = sh_, .sw = sw_, .mode = mode_,  \
     .variant = ties}
#define DENSE(m, in, out, act_, cfg_) {.fam = F_DENSE, .n = m, .c = in, .k = out, .act = act_, .cfg = cfg_}
#define ACT(rows, cols, act_, in_place) {.fam = F_ACT, .n = rows, .c = cols, .act = act_, .variant = in_place}
#define XENT(m, k_, scale, outputs, cfg_) {.fam = F_XENT, .n = m, .k = k_, .f = scale, .variant = outputs, .cfg = cfg_}
#define ADAM(count, steps, t) {.fam = F_ADAM, .n = count, .k = steps, .sh = t}
#define GATHER(images, row_len, m, u8, labels)                                                                    \
    {.fam = F_GATHER, .n = images, .c = row_len, .k = m, .mode = u8, .variant = labels}
/* The same with the batch at indices[first..first + m) of a longer list. */
#define GATHER_AT(images, row_len, m, u8, labels, first)                                                          \
    {.fam = F_GATHER, .n = images, .c = row_len, .k = m, .mode = u8, .variant = labels, .sh = first}
#define FILL(count, value) {.fam = F_FILL, .n = count, .f = value}
#define LRN(n_, h_, w_, c_, size, settings, cfg_)                                                               \
    {.fam = F_LRN, .n = n_, .h = h_, .w = w_, .c = c_, .kh = size, .variant = settings, .cfg = cfg_}

/* Dropout of count elements at rate f, the draw's first element at first
 * (the backend op; 0 also goes through the public calls), seed. */
#define DROPOUT(count, first, rate, seed, cfg_) {.fam = F_DROPOUT, .n = count, .sh = first, .f = rate, .k = seed, .cfg = cfg_}
/* steps SGD steps on count parameters at momentum f (variant: weight decay
 * 1e-2 (1), Nesterov (2), both (3)). */
#define SGD(count, steps, momentum, variant_) {.fam = F_SGD, .n = count, .k = steps, .f = momentum, .variant = variant_}

/* Pooling with pads (top, bottom, left, right), ceil mode, count_include_pad. */
#define POOLX(n_, h_, w_, c_, kh_, kw_, sh_, sw_, mode_, ties, pt, pb, pl, pr, ceil_, include)                      \
    {.fam = F_POOL, .n = n_, .h = h_, .w = w_, .c = c_, .kh = kh_, .kw = kw_, .sh = sh_, .sw = sw_, .mode = mode_,  \
     .variant = ties, .with_params = 1, .pad = {pt, pb, pl, pr}, .ceil_mode = ceil_, .include_pad = include}
/* Max and avg pooling on one shape. */
#define POOL2(n, h, w, c, kh, kw, sh, sw, ties) POOL(n, h, w, c, kh, kw, sh, sw, MAX, ties), \
                                                POOL(n, h, w, c, kh, kw, sh, sw, AVG, ties)
/* A dense shape with every activation. */
#define DENSE5(m, in, out, cfg) DENSE(m, in, out, ID, cfg), DENSE(m, in, out, RELU, cfg), \
                                DENSE(m, in, out, SIGM, cfg), DENSE(m, in, out, TANH, cfg), \
                                DENSE(m, in, out, SMAX, cfg)
/* An activation shape, out of place and in place. */
#define ACT2(rows, cols, act) ACT(rows, cols, act, 0), ACT(rows, cols, act, 1)

/*
 * Tiles and thresholds the shapes aim at: CPU convolution in blocks of 4
 * images, a direct path over output channels when a group has 16 filters
 * or more (8 without AVX-512), a "wide" path at stride 1 and im2col
 * otherwise, rows of 48, 32 and 16 columns (the last 16 overlapping when
 * the row is not a multiple of 16), outputs in 8s (4s without AVX-512),
 * then 6, 4, 2, 1, dot tiles of 4 x 4 rows with 16 lanes (8); CPU dense
 * tasks of 8 (forward), 16 (dw) and 4 (dx) rows; CPU pool forward (max)
 * and backward on rows when windows tile the input.  OpenCL: direct convolution when
 * c * k <= 1024 (else im2col or, for 1x1 stride 1, the input itself, then
 * CLBlast), blocks of 8 outputs, 4 pixels, 8 input channels; direct dense
 * when m * in * out <= 2^24, blocks of 4 rows and 8 outputs; the tiled
 * pool backward when windows tile the input exactly.
 */
static const row table[] = {
    /* LeNet-5's layers, batch 32 and 1 */
    CONV(32, 28, 28, 1, 5, 5, 6, 1, 1, SAME, RELU, CFG_NONE),
    CONV(32, 14, 14, 6, 5, 5, 16, 1, 1, VALID, RELU, CFG_NONE),
    CONV(1, 28, 28, 1, 5, 5, 6, 1, 1, SAME, RELU, CFG_NONE),
    CONV(1, 14, 14, 6, 5, 5, 16, 1, 1, VALID, RELU, CFG_NONE),
    /* odd sizes, paddings, strides, every activation */
    CONV(1, 1, 1, 1, 1, 1, 1, 1, 1, SAME, ID, CFG_NONE),
    CONV(1, 1, 1, 1, 1, 1, 1, 1, 1, VALID, SIGM, CFG_NONE),
    CONV(3, 7, 9, 4, 1, 1, 5, 1, 1, SAME, ID, CFG_NONE),     /* pointwise */
    CONV(2, 8, 7, 3, 3, 2, 4, 2, 3, SAME, SMAX, CFG_NONE),   /* strides, odd pads */
    CONV(2, 9, 9, 2, 4, 4, 3, 3, 2, VALID, SIGM, CFG_NONE),  /* gaps between windows */
    CONV(1, 5, 5, 3, 5, 5, 2, 1, 1, VALID, TANH, CFG_NONE),  /* kernel = input */
    CONV(2, 7, 5, 17, 4, 3, 9, 2, 1, SAME, TANH, CFG_NONE),  /* 17 channels, 9 outputs: one past a block */
    CONV(2, 9, 8, 3, 3, 3, 7, 2, 2, SAME, ID, CFG_NONE),
    CONV(5, 12, 10, 3, 3, 3, 4, 1, 1, SAME, RELU, CFG_NONE), /* 5 images: a block and one */
    CONV(4, 9, 9, 2, 3, 3, 2, 2, 2, VALID, ID, CFG_NONE),
    CONV(3, 11, 13, 7, 3, 3, 5, 1, 1, SAME, SIGM, CFG_NONE),
    CONV(5, 13, 11, 3, 2, 2, 13, 1, 1, SAME, TANH, CFG_NONE), /* even kernel: padding after only */
    CONV(3, 17, 19, 2, 4, 4, 3, 3, 3, SAME, RELU, CFG_NONE),
    CONV(2, 10, 10, 1, 3, 5, 1, 2, 1, VALID, ID, CFG_NONE),   /* one output channel */
    CONV(1, 3, 3, 5, 3, 3, 7, 1, 1, SAME, SMAX, CFG_NONE),
    CONV(4, 50, 3, 2, 5, 3, 3, 1, 1, SAME, RELU, CFG_NONE),   /* tall and narrow */
    /* around OpenCL's direct/CLBlast threshold c * k = 1024 */
    CONV(7, 10, 10, 16, 3, 3, 64, 1, 1, SAME, RELU, CFG_NONE),  /* 1024: direct */
    CONV(2, 10, 10, 16, 3, 3, 65, 1, 1, SAME, RELU, CFG_NONE),  /* 1040: im2col + CLBlast */
    CONV(2, 6, 6, 40, 3, 3, 48, 1, 1, SAME, RELU, CFG_NONE),
    CONV(2, 5, 7, 37, 1, 1, 29, 1, 1, VALID, SMAX, CFG_NONE),   /* pointwise CLBlast */
    CONV(3, 11, 9, 33, 3, 3, 32, 2, 2, VALID, TANH, CFG_NONE),  /* strided im2col */
    /* paths forced on OpenCL, on sizes the rule gives to the other one */
    CONV(8, 28, 28, 1, 5, 5, 6, 1, 1, SAME, RELU, CFG_CONV_GEMM),
    CONV(8, 14, 14, 6, 5, 5, 16, 1, 1, VALID, TANH, CFG_CONV_GEMM),
    CONV(2, 8, 7, 3, 3, 2, 4, 2, 3, SAME, SMAX, CFG_CONV_GEMM),
    CONV(3, 7, 9, 4, 1, 1, 5, 1, 1, SAME, ID, CFG_CONV_GEMM),
    CONV(1, 1, 1, 1, 1, 1, 1, 1, 1, SAME, RELU, CFG_CONV_GEMM),
    CONV(8, 28, 28, 1, 5, 5, 6, 1, 1, SAME, RELU, CFG_CONV_DIRECT),
    CONV(8, 14, 14, 6, 5, 5, 16, 1, 1, VALID, TANH, CFG_CONV_DIRECT),
    CONV(2, 8, 7, 3, 3, 2, 4, 2, 3, SAME, SMAX, CFG_CONV_DIRECT),
    CONV(2, 9, 9, 2, 4, 4, 3, 3, 2, VALID, SIGM, CFG_CONV_DIRECT),
    CONV(3, 7, 9, 4, 1, 1, 5, 1, 1, SAME, ID, CFG_CONV_DIRECT),
    CONV(2, 6, 6, 40, 3, 3, 48, 1, 1, SAME, RELU, CFG_CONV_DIRECT),
    CONV(2, 7, 5, 17, 4, 3, 9, 2, 1, SAME, TANH, CFG_CONV_DIRECT),
    CONV(1, 5, 5, 3, 5, 5, 2, 1, 1, VALID, TANH, CFG_CONV_DIRECT),
    CONV(2, 5, 7, 37, 1, 1, 29, 1, 1, VALID, SMAX, CFG_CONV_DIRECT),
    /* far above the size rule: the direct kernels serve every size without CLBlast */
    CONV(4, 32, 32, 64, 3, 3, 128, 1, 1, SAME, RELU, CFG_CONV_DIRECT),
    /* explicit pads (top, bottom, left, right), dilation, groups: the CPU's
     * wide path at stride 1 and im2col otherwise, group by group; on
     * OpenCL explicit pads alone take the direct or CLBlast paths, and
     * dilation or groups the direct kernels, whose channel blocks stop at
     * each group's end */
    CONVX(2, 7, 8, 3, 3, 3, 4, 1, 1, EXPL, 0, 2, 1, 0, 1, 1, 1, RELU, CFG_NONE),   /* asymmetric */
    CONVX(3, 9, 7, 2, 3, 2, 5, 2, 3, EXPL, 1, 0, 2, 1, 1, 1, 1, TANH, CFG_NONE),   /* strided, odd */
    CONVX(1, 4, 5, 2, 2, 2, 3, 1, 1, EXPL, 3, 1, 0, 4, 1, 1, 1, ID, CFG_NONE),     /* pads beyond the kernel */
    CONVX(5, 6, 6, 1, 3, 3, 2, 1, 1, EXPL, 0, 0, 0, 0, 1, 1, 1, SIGM, CFG_NONE),   /* explicit zero pads */
    CONVX(2, 10, 10, 16, 3, 3, 65, 1, 1, EXPL, 1, 0, 0, 1, 1, 1, 1, RELU, CFG_NONE), /* CLBlast */
    CONVX(2, 7, 8, 3, 3, 3, 4, 2, 1, EXPL, 0, 2, 1, 0, 1, 1, 1, SMAX, CFG_CONV_GEMM),
    CONVX(2, 7, 8, 3, 3, 3, 4, 2, 1, EXPL, 0, 2, 1, 0, 1, 1, 1, SMAX, CFG_CONV_CHUNKED),
    CONVX(2, 7, 8, 3, 3, 3, 4, 2, 1, EXPL, 0, 2, 1, 0, 1, 1, 1, SMAX, CFG_CONV_DIRECT),
    CONVX(2, 10, 9, 3, 3, 3, 4, 1, 1, EXPL, 2, 2, 2, 2, 2, 2, 1, RELU, CFG_NONE),  /* dilation 2 */
    CONVX(2, 11, 8, 2, 3, 2, 3, 1, 1, SAME, 0, 0, 0, 0, 2, 3, 1, SIGM, CFG_NONE),  /* dilated, same */
    CONVX(3, 13, 12, 3, 3, 3, 5, 2, 2, VALID, 0, 0, 0, 0, 2, 2, 1, ID, CFG_NONE),  /* dilated, strided */
    CONVX(2, 8, 8, 4, 3, 3, 6, 1, 1, SAME, 0, 0, 0, 0, 1, 1, 2, RELU, CFG_NONE),   /* groups 2 */
    CONVX(5, 9, 11, 6, 5, 3, 4, 2, 1, EXPL, 2, 1, 1, 1, 1, 1, 2, TANH, CFG_NONE),  /* a block and one */
    CONVX(2, 7, 7, 5, 3, 3, 5, 1, 1, SAME, 0, 0, 0, 0, 1, 1, 5, ID, CFG_NONE),     /* depthwise */
    CONVX(3, 12, 10, 4, 3, 3, 8, 2, 2, EXPL, 1, 2, 2, 1, 2, 2, 4, SMAX, CFG_NONE), /* depthwise x2, dilated */
    CONVX(2, 9, 7, 3, 2, 3, 6, 1, 2, EXPL, 0, 1, 1, 0, 2, 1, 3, RELU, CFG_NONE),   /* dilation (2, 1) */
    CONVX(3, 5, 6, 6, 1, 1, 9, 1, 1, VALID, 0, 0, 0, 0, 1, 1, 3, ID, CFG_NONE),    /* pointwise, grouped */
    CONVX(2, 6, 7, 20, 3, 3, 24, 1, 1, SAME, 0, 0, 0, 0, 1, 1, 2, RELU, CFG_NONE), /* 10 -> 12 a group: short blocks */
    CONVX(2, 13, 13, 16, 3, 3, 16, 1, 1, EXPL, 1, 1, 1, 1, 1, 1, 2, RELU, CFG_NONE), /* AlexNet's split */
    /* the CPU's direct path (a vector of filters a group or more): a last
     * vector of channels overlapping the one before, output rows in blocks
     * of equal width (the last overlapping), pads copied, strides,
     * dilation, groups, and the input gradient through it (c >= 16) */
    CONV(3, 13, 13, 5, 3, 3, 20, 1, 1, SAME, RELU, CFG_NONE),
    CONV(2, 9, 30, 1, 3, 3, 17, 1, 1, VALID, SIGM, CFG_NONE),
    CONV(2, 25, 25, 16, 3, 3, 16, 1, 1, SAME, ID, CFG_NONE),
    CONVX(2, 15, 14, 6, 3, 3, 32, 2, 2, EXPL, 1, 2, 0, 1, 2, 1, 2, TANH, CFG_NONE),
    CONVX(2, 15, 14, 6, 3, 3, 32, 2, 2, EXPL, 1, 2, 0, 1, 2, 1, 2, TANH, CFG_THREADS_3),
    CONVX(5, 9, 11, 6, 5, 3, 4, 2, 1, EXPL, 2, 1, 1, 1, 2, 1, 2, TANH, CFG_THREADS_3),
    CONVX(5, 9, 11, 6, 5, 3, 4, 2, 1, EXPL, 2, 1, 1, 1, 2, 1, 2, TANH, CFG_CONV_GEMM),
    CONV(2, 21, 19, 96, 5, 5, 80, 2, 2, VALID, ID, CFG_CONV_DIRECT),
    CONV(5, 12, 10, 3, 3, 3, 4, 1, 1, SAME, RELU, CFG_CONV_CHUNKED),
    CONV(4, 9, 9, 2, 3, 3, 2, 2, 2, VALID, ID, CFG_CONV_CHUNKED),
    CONV(4, 14, 14, 6, 5, 5, 16, 1, 1, VALID, RELU, CFG_BLOCKS),
    CONV(2, 9, 8, 3, 3, 3, 7, 2, 2, SAME, ID, CFG_BLOCKS),
    CONV(4, 14, 14, 6, 5, 5, 16, 1, 1, VALID, RELU, CFG_GPU_BLOCKS),
    CONV(3, 9, 8, 3, 3, 3, 7, 2, 2, SAME, SMAX, CFG_GPU_BLOCKS),
    CONV(2, 10, 10, 16, 3, 3, 65, 1, 1, SAME, RELU, CFG_WG), /* column sums for db */
    /* the CPU backend on one thread and on more threads than blocks */
    CONV(5, 12, 10, 3, 3, 3, 4, 1, 1, SAME, RELU, CFG_THREADS_1),
    CONV(5, 13, 11, 3, 2, 2, 13, 2, 1, SAME, TANH, CFG_THREADS_3),

    /* pooling: LeNet-5's, overlapping, gapped, one window, inexact tiling */
    POOL2(32, 28, 28, 6, 2, 2, 2, 2, 0),
    POOL2(32, 10, 10, 16, 2, 2, 2, 2, 0),
    POOL2(1, 28, 28, 6, 2, 2, 2, 2, 1),
    POOL2(3, 9, 8, 2, 3, 3, 1, 2, 1),
    POOL2(2, 10, 11, 3, 2, 3, 3, 4, 1),
    POOL2(2, 5, 5, 1, 5, 5, 1, 1, 1),
    POOL2(2, 29, 27, 5, 2, 2, 2, 2, 1),
    POOL2(1, 1, 1, 1, 1, 1, 1, 1, 0),
    POOL2(3, 7, 7, 13, 3, 3, 2, 2, 1),
    POOL2(2, 12, 12, 4, 2, 2, 2, 2, 1),
    POOL2(1, 6, 9, 3, 1, 3, 1, 3, 0),
    POOL2(2, 9, 8, 2, 3, 3, 1, 2, 0),
    /* pads, ceil mode, count_include_pad: the padded paths */
    POOLX(2, 7, 8, 3, 3, 3, 2, 2, MAX, 0, 1, 1, 1, 1, 0, 0),  /* AlexNet-style 3x3/2, padded */
    POOLX(2, 7, 8, 3, 3, 3, 2, 2, AVG, 0, 1, 1, 1, 1, 0, 0),
    POOLX(2, 7, 8, 3, 3, 3, 2, 2, AVG, 0, 1, 1, 1, 1, 0, 1),
    POOLX(3, 6, 6, 2, 3, 3, 2, 2, MAX, 1, 0, 0, 0, 0, 1, 0),  /* ceil mode alone: 3x3 outputs, not 2x2 */
    POOLX(3, 6, 6, 2, 3, 3, 2, 2, AVG, 0, 0, 0, 0, 0, 1, 0),
    POOLX(3, 6, 6, 2, 3, 3, 2, 2, AVG, 0, 0, 0, 0, 0, 1, 1),  /* include_pad: windows past the input still clip */
    POOLX(2, 9, 11, 5, 3, 2, 2, 3, MAX, 1, 2, 0, 1, 1, 1, 0), /* asymmetric, ceil, ties */
    POOLX(2, 9, 11, 5, 3, 2, 2, 3, AVG, 0, 2, 0, 1, 1, 1, 1),
    POOLX(2, 9, 11, 5, 3, 2, 2, 3, AVG, 0, 2, 0, 1, 1, 1, 0),
    POOLX(1, 13, 13, 4, 3, 3, 2, 2, MAX, 0, 0, 0, 0, 0, 1, 0), /* exact fit: ceil changes nothing */
    POOLX(2, 5, 4, 3, 2, 2, 3, 3, MAX, 0, 1, 1, 1, 0, 1, 0),  /* gaps between windows */
    POOLX(2, 5, 4, 3, 2, 2, 3, 3, AVG, 0, 1, 1, 1, 0, 1, 1),
    POOLX(2, 1, 1, 2, 2, 2, 1, 1, AVG, 0, 1, 0, 0, 1, 0, 1),  /* one cell, padded to a window */
    POOLX(5, 8, 8, 6, 2, 2, 2, 2, MAX, 1, 1, 1, 1, 1, 0, 0),

    /* dense: LeNet-5's, batch 32 and 1 */
    DENSE(32, 400, 120, RELU, CFG_NONE),
    DENSE(32, 120, 84, RELU, CFG_NONE),
    DENSE(32, 84, 10, SMAX, CFG_NONE),
    DENSE(1, 400, 120, RELU, CFG_NONE),
    DENSE(1, 84, 10, SMAX, CFG_NONE),
    DENSE5(33, 400, 120, CFG_NONE),
    DENSE5(5, 7, 3, CFG_NONE),
    DENSE5(300, 300, 200, CFG_NONE), /* CLBlast by OpenCL's rule */
    DENSE(1, 1, 1, ID, CFG_NONE),
    DENSE(3, 17, 65, TANH, CFG_NONE),
    DENSE(4, 16, 48, RELU, CFG_NONE),
    DENSE(17, 33, 100, SMAX, CFG_NONE),
    DENSE(129, 257, 509, SIGM, CFG_NONE), /* just over 2^24 MACs */
    DENSE5(33, 400, 120, CFG_DENSE_GEMM),
    DENSE5(1, 84, 10, CFG_DENSE_GEMM),
    DENSE5(300, 300, 200, CFG_DENSE_DIRECT),
    DENSE5(1, 84, 10, CFG_DENSE_DIRECT),
    DENSE5(7, 1, 13, CFG_DENSE_DIRECT),
    DENSE(128, 1500, 700, RELU, CFG_DENSE_DIRECT), /* far above the size rule */
    DENSE5(9, 50, 11, CFG_BLOCKS),
    DENSE5(9, 50, 11, CFG_GPU_BLOCKS),
    DENSE(45, 3, 7, ID, CFG_WG),
    DENSE(45, 3, 7, ID, CFG_WG_GEMM),
    DENSE(33, 400, 120, RELU, CFG_THREADS_1),
    DENSE(37, 100, 65, TANH, CFG_THREADS_3),

    /* activations, out of place and in place */
    ACT2(37, 11, ID),
    ACT2(37, 11, RELU),
    ACT2(37, 11, SIGM),
    ACT2(37, 11, TANH),
    ACT2(37, 11, SMAX),
    ACT2(1, 1, SMAX),
    ACT2(1, 1, SIGM),
    ACT2(3, 1000, SMAX),
    ACT2(3, 1000, TANH),
    ACT2(64, 10, SMAX),
    ACT2(64, 10, RELU),

    /* softmax cross-entropy */
    XENT(77, 10, 32.0f, 1, CFG_NONE),
    XENT(77, 10, 1.0f, 0, CFG_NONE),
    XENT(32, 10, 32.0f, 1, CFG_NONE),
    XENT(1, 1, 1.0f, 1, CFG_NONE),
    XENT(1, 10, 1.0f, 1, CFG_NONE),
    XENT(130, 3, 7.0f, 1, CFG_NONE), /* more rows than a work-group */
    XENT(45, 7, 1.0f, 0, CFG_WG),
    XENT(45, 7, 3.0f, 1, CFG_WG),

    /* Adam, from step t on */
    ADAM(1001, 3, 1),
    ADAM(1, 1, 1),
    ADAM(4099, 2, 1000),

    /* batch assembly */
    GATHER(50, 784, 13, 1, 1),
    GATHER(50, 784, 13, 0, 0),
    GATHER(50, 784, 13, 0, 1),
    GATHER(7, 1, 1, 1, 1),
    GATHER(20, 5, 40, 1, 1),
    GATHER_AT(50, 784, 13, 1, 1, 29),
    GATHER_AT(9, 13, 5, 0, 1, 7),

    FILL(1001, 0.25f),
    FILL(1, -3.0f),

    /* local response normalisation: the paper's settings on AlexNet-like
     * channel counts, odd channel counts, even sizes, sizes above the
     * channel count */
    LRN(2, 5, 5, 16, 5, 0, CFG_NONE),
    LRN(2, 3, 3, 96, 5, 1, CFG_NONE),
    LRN(2, 3, 4, 7, 5, 1, CFG_NONE),
    LRN(3, 2, 2, 5, 2, 2, CFG_NONE),
    LRN(1, 2, 3, 9, 4, 1, CFG_NONE),
    LRN(2, 4, 4, 33, 6, 3, CFG_NONE),
    LRN(1, 3, 3, 3, 7, 1, CFG_NONE),
    LRN(1, 2, 2, 4, 4096, 3, CFG_NONE),
    LRN(1, 1, 1, 1, 1, 2, CFG_NONE),
    LRN(2, 2, 3, 11, 3, 3, CFG_NONE),
    LRN(5, 4, 3, 13, 5, 1, CFG_THREADS_1),
    LRN(7, 4, 3, 13, 5, 1, CFG_THREADS_3),

    /* dropout: AlexNet's 0.5 on dense-layer sizes, rates near both ends,
     * one element, a draw that starts past 0 (a data-parallel share) and
     * past 2^24 */
    DROPOUT(32 * 120, 0, 0.5f, 1, CFG_NONE),
    DROPOUT(20000, 0, 0.25f, 7, CFG_NONE),
    DROPOUT(1, 0, 0.5f, 3, CFG_NONE),
    DROPOUT(1001, 0, 0.0f, 5, CFG_NONE),
    DROPOUT(997, 0, 0.999f, 9, CFG_NONE),
    DROPOUT(4096, 640, 0.5f, 11, CFG_NONE),
    DROPOUT(333, 16777300, 0.1f, 2, CFG_NONE),

    /* SGD: LeNet-5's size, plain, momentum, weight decay, Nesterov */
    SGD(61706, 3, 0.9f, 1),
    SGD(1, 2, 0.0f, 0),
    SGD(1001, 3, 0.9f, 0),
    SGD(1001, 3, 0.5f, 2),
    SGD(257, 4, 0.9f, 3),
    SGD(64, 2, 0.0f, 1),
};

#define TABLE_ROWS (sizeof table / sizeof table[0])

/* The row in words, for messages. */
static void describe(const row *r, char *buf, size_t len)
{
    static const char *const acts[] = {"identity", "relu", "sigmoid", "tanh", "softmax"};
    int at = 0;
    switch (r->fam) {
    case F_CONV:
        at = snprintf(buf, len, "conv n%zu %zux%zux%zu kernel %zux%zux%zu stride %zu,%zu %s %s", r->n, r->h, r->w,
                      r->c, r->kh, r->kw, r->k, r->sh, r->sw,
                      r->mode == SAME ? "same" : r->mode == VALID ? "valid" : "explicit", acts[r->act]);
        if (r->with_params && at > 0 && (size_t)at < len)
            at += snprintf(buf + at, len - (size_t)at, " pads %zu,%zu,%zu,%zu dilation %zux%zu groups %zu", r->pad[0],
                           r->pad[1], r->pad[2], r->pad[3], r->dil[0], r->dil[1], r->groups);
        break;
    case F_POOL:
        at = snprintf(buf, len, "pool %s n%zu %zux%zux%zu window %zux%zu stride %zu,%zu%s",
                      r->mode == MAX ? "max" : "avg", r->n, r->h, r->w, r->c, r->kh, r->kw, r->sh, r->sw,
                      r->variant ? " ties" : "");
        if (r->with_params && at > 0 && (size_t)at < len)
            at += snprintf(buf + at, len - (size_t)at, " pads %zu,%zu,%zu,%zu%s%s", r->pad[0], r->pad[1], r->pad[2],
                           r->pad[3], r->ceil_mode ? " ceil" : "", r->include_pad ? " include_pad" : "");
        break;
    case F_DENSE:
        at = snprintf(buf, len, "dense m%zu in%zu out%zu %s", r->n, r->c, r->k, acts[r->act]);
        break;
    case F_ACT:
        at = snprintf(buf, len, "activation %s %zux%zu%s", acts[r->act], r->n, r->c, r->variant ? " in place" : "");
        break;
    case F_XENT:
        at = snprintf(buf, len, "xent m%zu k%zu grad_scale %g%s", r->n, r->k, (double)r->f,
                      r->variant ? "" : " stats only");
        break;
    case F_ADAM:
        at = snprintf(buf, len, "adam count %zu steps %zu from t=%zu", r->n, r->k, r->sh);
        break;
    case F_GATHER:
        at = snprintf(buf, len, "gather %s %zu images of %zu, batch %zu from %zu%s", r->mode ? "uint8" : "float32",
                      r->n, r->c, r->k, r->sh, r->variant ? " with labels" : "");
        break;
    case F_LRN:
        at = snprintf(buf, len, "lrn n%zu %zux%zux%zu size %zu alpha %g beta %g k %g", r->n, r->h, r->w, r->c, r->kh,
                      (double)lrn_settings[r->variant][0], (double)lrn_settings[r->variant][1],
                      (double)lrn_settings[r->variant][2]);
        break;
    case F_DROPOUT:
        at = snprintf(buf, len, "dropout count %zu from %zu rate %g seed %zu", r->n, r->sh, (double)r->f, r->k);
        break;
    case F_SGD:
        at = snprintf(buf, len, "sgd count %zu steps %zu momentum %g%s%s", r->n, r->k, (double)r->f,
                      r->variant & 1 ? " weight decay" : "", r->variant & 2 ? " nesterov" : "");
        break;
    default:
        at = snprintf(buf, len, "fill count %zu value %g", r->n, (double)r->f);
        break;
    }
    const config *cf = &configs[r->cfg];
    if (cf->label && at > 0 && (size_t)at < len)
        snprintf(buf + at, len - (size_t)at, " [%s]", cf->label);
}

/* ------------------------------------------------------------- comparison */

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

static float *random_floats(size_t count, unsigned seed, float lo, float hi)
{
    float *x = xmalloc(count * sizeof *x);
    tu_fill_random(x, count, seed, lo, hi);
    return x;
}

static ref_out ref_alloc(size_t count)
{
    ref_out o = {xmalloc(count * sizeof(double)), xmalloc(count * sizeof(double))};
    return o;
}

static void ref_release(ref_out *o)
{
    free(o->v);
    free(o->err);
}

/* The reference's values as float32 (inputs of a following step). */
static float *ref_floats(ref_out o, size_t count)
{
    float *x = xmalloc(count * sizeof *x);
    for (size_t i = 0; i < count; i++)
        x[i] = (float)o.v[i];
    return x;
}

/* Prints each output's worst error/tolerance ratio to stderr when
 * BACKEND_OPS_VERBOSE is set: how close each row comes to its bound. */
static int verbose(void)
{
    const char *v = getenv("BACKEND_OPS_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

/* Fails unless every got[i] is within want.err[i] of want.v[i]; the
 * message names the row, the output and the worst element. */
static void expect_close(const row *r, const char *what, const float *got, ref_out want, size_t count)
{
    size_t worst = 0, bad = 0;
    double worst_ratio = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double diff = fabs((double)got[i] - want.v[i]);
        double ratio = diff == 0.0 ? 0.0 : want.err[i] > 0.0 ? diff / want.err[i] : INFINITY;
        if (!isfinite(got[i]))
            ratio = INFINITY;
        bad += ratio > 1.0;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    char desc[256];
    describe(r, desc, sizeof desc);
    if (verbose())
        fprintf(stderr, "%-90s %-10s worst error/tolerance %.3g\n", desc, what, worst_ratio);
    ck_assert_msg(bad == 0,
                  "%s: %s[%zu] = %.9g, want %.9g (tolerance %.3g, error %.3g times it); %zu of %zu outside", desc,
                  what, worst, count ? (double)got[worst] : 0.0, count ? want.v[worst] : 0.0,
                  count ? want.err[worst] : 0.0, worst_ratio, bad, count);
}

static void expect_equal_ints(const row *r, const char *what, const int32_t *got, const int32_t *want, size_t count)
{
    char desc[256];
    describe(r, desc, sizeof desc);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(got[i] == want[i], "%s: %s[%zu] = %d, want %d", desc, what, i, (int)got[i], (int)want[i]);
}

/* Fails unless got equals want element for element. */
static void expect_equal_floats(const row *r, const char *what, const float *got, const float *want, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (got[i] != want[i]) {
            char desc[256];
            describe(r, desc, sizeof desc);
            ck_abort_msg("%s: %s[%zu] = %.9g, want %.9g", desc, what, i, (double)got[i], (double)want[i]);
        }
}

/* ------------------------------------------------------------------ adapter */
/*
 * The backend under test, and the only code here that goes past the public
 * API: families without a public op are driven through the backend table
 * (ctx->ops), on buffers from its alloc/write/read.  When those families
 * get public ops, only this section changes.
 */

/* A context on the backend under test with the row's options. */
static clcnn_ctx *open_backend(const row *r)
{
    clcnn_ctx_options o = configs[r->cfg].options;
    o.device = tu_device();
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_with_options(&ctx, &o);
    ck_assert_msg(st == CLCNN_OK, "context on %s: %s (%s)", o.device, clcnn_status_str(st), clcnn_errmsg(ctx));
    return ctx;
}

static void check_status(clcnn_ctx *ctx, int st, const char *op)
{
    ck_assert_msg(st == CLCNN_OK, "%s on %s: %s (%s)", op, clcnn_ctx_backend(ctx), clcnn_status_str(st),
                  clcnn_errmsg(ctx));
}

/* A device buffer of bytes, holding data when not NULL (else zeros). */
static clcnn_buf *dev_buf(clcnn_ctx *ctx, const void *data, size_t bytes)
{
    clcnn_buf *b = NULL;
    check_status(ctx, ctx->ops->alloc(ctx->bctx, bytes ? bytes : 4, &b), "alloc");
    if (data && bytes)
        check_status(ctx, ctx->ops->write(ctx->bctx, b, 0, data, bytes), "write");
    return b;
}

static void dev_read(clcnn_ctx *ctx, const clcnn_buf *b, void *dst, size_t bytes)
{
    check_status(ctx, ctx->ops->read(ctx->bctx, b, 0, dst, bytes), "read");
}

static float *dev_floats(clcnn_ctx *ctx, const clcnn_buf *b, size_t count)
{
    float *x = xmalloc(count * sizeof *x);
    dev_read(ctx, b, x, count * sizeof *x);
    return x;
}

static void dev_free(clcnn_ctx *ctx, clcnn_buf *b)
{
    ctx->ops->release(ctx->bctx, b);
}

/* Pool backward given the forward output the model keeps (the public op
 * has none and passes NULL), times x_act's derivative at x as the model's
 * backward asks for it (backend.h). */
static void be_pool_backward_kept(clcnn_ctx *ctx, const ref_pool *p, const clcnn_tensor *dy, const clcnn_tensor *x,
                                  const clcnn_tensor *y, clcnn_activation x_act, clcnn_tensor *dx)
{
    pool_geom g = {.n = p->n, .h = p->h, .w = p->w, .c = p->c, .kh = p->kh, .kw = p->kw, .sh = p->sh, .sw = p->sw,
                   .oh = p->oh, .ow = p->ow, .mode = p->mode, .pad_top = p->pad_top, .pad_bottom = p->pad_bottom,
                   .pad_left = p->pad_left, .pad_right = p->pad_right, .include_pad = p->include_pad};
    /* src/ops/pool.c's rule: some window reaches beyond the input */
    g.padded = p->pad_top || p->pad_bottom || p->pad_left || p->pad_right || (g.oh - 1) * g.sh + g.kh > g.h ||
               (g.ow - 1) * g.sw + g.kw > g.w;
    check_status(ctx, ctx->ops->pool_backward(ctx->bctx, &g, dy->buf, x->buf, y->buf, x_act, dx->buf),
                 "pool_backward");
}

#define BE(ctx, op, ...) check_status((ctx), (ctx)->ops->op((ctx)->bctx, __VA_ARGS__), #op)

/* ------------------------------------------------------------ the families */

static unsigned row_seed(const row *r)
{
    return (unsigned)(r - table) * 16u + 1u;
}

static float *tensor_floats(const clcnn_tensor *t, size_t want_count, const size_t *want_shape, const row *r,
                            const char *what)
{
    size_t shape[CLCNN_MAX_RANK];
    clcnn_tensor_shape(t, shape);
    char desc[256];
    describe(r, desc, sizeof desc);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(shape[i] == want_shape[i], "%s: %s dim %d is %zu, want %zu", desc, what, i, shape[i],
                      want_shape[i]);
    ck_assert_uint_eq(clcnn_tensor_count(t), want_count);
    return tu_read(t);
}

/* The end of a case: its nt tensors, the context, its nr references and
 * its nh host inputs. */
static void release_case(clcnn_ctx *ctx, clcnn_tensor *const *tensors, int nt, ref_out *const *refs, int nr,
                         float *const *hosts, int nh)
{
    for (int i = 0; i < nt; i++)
        clcnn_tensor_free(tensors[i]);
    clcnn_ctx_free(ctx);
    for (int i = 0; i < nr; i++)
        ref_release(refs[i]);
    for (int i = 0; i < nh; i++)
        free(hosts[i]);
}

/* The row's convolution: through clcnn_conv2d_* for a CONVX row, else the
 * seed calls. */
static int conv_fwd(clcnn_ctx *ctx, const row *r, const clcnn_tensor *x, const clcnn_tensor *w,
                    const clcnn_tensor *b, clcnn_tensor **y)
{
    if (!r->with_params)
        return clcnn_conv_forward(ctx, x, w, b, r->act, (clcnn_padding)r->mode, (int)r->sh, (int)r->sw, y);
    const clcnn_conv_params p = {(clcnn_padding)r->mode, (int)r->pad[0], (int)r->pad[1], (int)r->pad[2],
                                 (int)r->pad[3], (int)r->sh, (int)r->sw, (int)r->dil[0], (int)r->dil[1],
                                 (int)r->groups};
    return clcnn_conv2d_forward(ctx, x, w, b, r->act, &p, y);
}

static int conv_bwd(clcnn_ctx *ctx, const row *r, const clcnn_tensor *dz, const clcnn_tensor *x,
                    const clcnn_tensor *w, const clcnn_tensor *b, clcnn_tensor **dx, clcnn_tensor **dw,
                    clcnn_tensor **db)
{
    if (!r->with_params)
        return clcnn_conv_backward(ctx, dz, x, w, b, (clcnn_padding)r->mode, (int)r->sh, (int)r->sw, dx, dw, db);
    const clcnn_conv_params p = {(clcnn_padding)r->mode, (int)r->pad[0], (int)r->pad[1], (int)r->pad[2],
                                 (int)r->pad[3], (int)r->sh, (int)r->sw, (int)r->dil[0], (int)r->dil[1],
                                 (int)r->groups};
    return clcnn_conv2d_backward(ctx, dz, x, w, b, &p, dx, dw, db);
}

static void run_conv(const row *r)
{
    ref_conv g = {.n = r->n, .h = r->h, .w = r->w, .c = r->c, .kh = r->kh, .kw = r->kw, .k = r->k, .sh = r->sh,
                  .sw = r->sw, .padding = (clcnn_padding)r->mode, .pad_top = r->pad[0], .pad_bottom = r->pad[1],
                  .pad_left = r->pad[2], .pad_right = r->pad[3], .dh = r->dil[0], .dw = r->dil[1],
                  .groups = r->groups};
    ref_conv_shape(&g);
    const size_t cg = g.c / g.groups;
    const size_t nx = g.n * g.h * g.w * g.c, nw = g.kh * g.kw * cg * g.k, ny = g.n * g.oh * g.ow * g.k;
    const unsigned seed = row_seed(r);
    float *x = random_floats(nx, seed, -1, 1), *w = random_floats(nw, seed + 1, -0.5f, 0.5f);
    float *b = random_floats(g.k, seed + 2, -0.5f, 0.5f), *dz = random_floats(ny, seed + 3, -1, 1);
    ref_out y = ref_alloc(ny), dx = ref_alloc(nx), dw = ref_alloc(nw), db = ref_alloc(g.k);
    ck_assert_int_eq(ref_conv_forward(&g, x, w, b, r->act, y), 0);
    ck_assert_int_eq(ref_conv_backward(&g, dz, x, w, dx, dw, db), 0);

    clcnn_ctx *ctx = open_backend(r);
    const size_t xs[4] = {g.n, g.h, g.w, g.c}, ws[4] = {g.kh, g.kw, cg, g.k}, bs[4] = {g.k, 0, 0, 0};
    const size_t ys[4] = {g.n, g.oh, g.ow, g.k};
    clcnn_tensor *tx = tu_tensor(ctx, 4, xs, x), *tw = tu_tensor(ctx, 4, ws, w), *tb = tu_tensor(ctx, 1, bs, b);
    clcnn_tensor *tdz = tu_tensor(ctx, 4, ys, dz), *ty = NULL, *tdx = NULL, *tdw = NULL, *tdb = NULL;
    check_status(ctx, conv_fwd(ctx, r, tx, tw, tb, &ty), "conv_forward");
    float *got = tensor_floats(ty, ny, ys, r, "y");
    expect_close(r, "y", got, y, ny);
    free(got);
    check_status(ctx, conv_bwd(ctx, r, tdz, tx, tw, tb, &tdx, &tdw, &tdb), "conv_backward");
    struct {
        clcnn_tensor *t;
        ref_out want;
        size_t count;
        const char *name;
        const size_t *shape;
    } outs[3] = {{tdx, dx, nx, "dx", xs}, {tdw, dw, nw, "dw", ws}, {tdb, db, g.k, "db", NULL}};
    for (int i = 0; i < 3; i++) {
        float *o = outs[i].shape ? tensor_floats(outs[i].t, outs[i].count, outs[i].shape, r, outs[i].name)
                                 : tu_read(outs[i].t);
        expect_close(r, outs[i].name, o, outs[i].want, outs[i].count);
        free(o);
    }
    /* Each gradient alone (the others NULL), into the same tensors. */
    check_status(ctx, conv_bwd(ctx, r, tdz, tx, tw, tb, &tdx, NULL, NULL), "conv_backward (dx only)");
    got = tu_read(tdx);
    expect_close(r, "dx alone", got, dx, nx);
    free(got);
    check_status(ctx, conv_bwd(ctx, r, tdz, tx, tw, tb, NULL, &tdw, NULL), "conv_backward (dw only)");
    got = tu_read(tdw);
    expect_close(r, "dw alone", got, dw, nw);
    free(got);
    check_status(ctx, conv_bwd(ctx, r, tdz, tx, tw, tb, NULL, NULL, &tdb), "conv_backward (db only)");
    got = tu_read(tdb);
    expect_close(r, "db alone", got, db, g.k);
    free(got);

    release_case(ctx, (clcnn_tensor *[]){tx, tw, tb, tdz, ty, tdx, tdw, tdb}, 8, (ref_out *[]){&y, &dx, &dw, &db}, 4,
                 (float *[]){x, w, b, dz}, 4);
}

static void run_pool(const row *r)
{
    ref_pool g = {.n = r->n, .h = r->h, .w = r->w, .c = r->c, .kh = r->kh, .kw = r->kw, .sh = r->sh, .sw = r->sw,
                  .mode = (clcnn_pool_mode)r->mode, .pad_top = r->pad[0], .pad_bottom = r->pad[1],
                  .pad_left = r->pad[2], .pad_right = r->pad[3], .ceil_mode = r->ceil_mode,
                  .include_pad = r->include_pad};
    const clcnn_pool_params pp = {(int)r->pad[0], (int)r->pad[1], (int)r->pad[2], (int)r->pad[3], r->ceil_mode,
                                  r->include_pad};
    ref_pool_shape(&g);
    const size_t nx = g.n * g.h * g.w * g.c, ny = g.n * g.oh * g.ow * g.c;
    const unsigned seed = row_seed(r);
    float *x = random_floats(nx, seed, -1, 1), *dy = random_floats(ny, seed + 1, -1, 1);
    if (r->variant) /* four levels: many windows with tied maxima */
        for (size_t i = 0; i < nx; i++)
            x[i] = floorf(x[i] * 2.0f);
    ref_out y = ref_alloc(ny), dx = ref_alloc(nx);
    ref_pool_forward(&g, x, y);
    ck_assert_int_eq(ref_pool_backward(&g, dy, x, dx), 0);

    clcnn_ctx *ctx = open_backend(r);
    const size_t xs[4] = {g.n, g.h, g.w, g.c}, ys[4] = {g.n, g.oh, g.ow, g.c};
    clcnn_tensor *tx = tu_tensor(ctx, 4, xs, x), *tdy = tu_tensor(ctx, 4, ys, dy), *ty = NULL, *tdx = NULL;
    const int kh = (int)g.kh, kw = (int)g.kw, sh = (int)g.sh, sw = (int)g.sw;
    check_status(ctx,
                 r->with_params ? clcnn_pool2d_forward(ctx, tx, kh, kw, sh, sw, g.mode, &pp, &ty)
                                : clcnn_pool_forward(ctx, tx, kh, kw, sh, sw, g.mode, &ty),
                 "pool_forward");
    float *got = tensor_floats(ty, ny, ys, r, "y");
    expect_close(r, "y", got, y, ny);
    free(got);
    check_status(ctx,
                 r->with_params ? clcnn_pool2d_backward(ctx, tdy, tx, kh, kw, sh, sw, g.mode, &pp, &tdx)
                                : clcnn_pool_backward(ctx, tdy, tx, kh, kw, sh, sw, g.mode, &tdx),
                 "pool_backward");
    got = tensor_floats(tdx, nx, xs, r, "dx");
    expect_close(r, "dx", got, dx, nx);
    free(got);
    clcnn_tensor *tdx2 = tu_tensor(ctx, 4, xs, NULL);
    be_pool_backward_kept(ctx, &g, tdy, tx, ty, CLCNN_ACT_IDENTITY, tdx2);
    got = tu_read(tdx2);
    expect_close(r, "dx from y", got, dx, nx);
    free(got);
    /* With x a ReLU's output, dx where x > 0 and 0 elsewhere: exact, so
     * the reference's bounds stay. */
    for (size_t i = 0; i < nx; i++)
        if (!(x[i] > 0.0f))
            dx.v[i] = dx.err[i] = 0.0;
    be_pool_backward_kept(ctx, &g, tdy, tx, ty, CLCNN_ACT_RELU, tdx2);
    got = tu_read(tdx2);
    expect_close(r, "dx times relu'(x)", got, dx, nx);
    free(got);

    release_case(ctx, (clcnn_tensor *[]){tx, tdy, ty, tdx, tdx2}, 5, (ref_out *[]){&y, &dx}, 2, (float *[]){x, dy}, 2);
}

static void run_lrn(const row *r)
{
    const float *set = lrn_settings[r->variant];
    ref_lrn g = {.n = r->n, .h = r->h, .w = r->w, .c = r->c, .size = r->kh, .alpha = set[0], .beta = set[1],
                 .k = set[2]};
    const size_t nx = g.n * g.h * g.w * g.c;
    const unsigned seed = row_seed(r);
    float *x = random_floats(nx, seed, -1, 1), *dy = random_floats(nx, seed + 1, -1, 1);
    ref_out y = ref_alloc(nx), dx = ref_alloc(nx);
    ref_lrn_forward(&g, x, y);
    ck_assert_int_eq(ref_lrn_backward(&g, dy, x, dx), 0);

    clcnn_ctx *ctx = open_backend(r);
    const size_t xs[4] = {g.n, g.h, g.w, g.c};
    clcnn_tensor *tx = tu_tensor(ctx, 4, xs, x), *tdy = tu_tensor(ctx, 4, xs, dy), *ty = NULL, *tdx = NULL;
    check_status(ctx, clcnn_lrn_forward(ctx, tx, (int)g.size, g.alpha, g.beta, g.k, &ty), "lrn_forward");
    float *got = tensor_floats(ty, nx, xs, r, "y");
    expect_close(r, "y", got, y, nx);
    free(got);
    check_status(ctx, clcnn_lrn_backward(ctx, tdy, tx, (int)g.size, g.alpha, g.beta, g.k, &tdx), "lrn_backward");
    got = tensor_floats(tdx, nx, xs, r, "dx");
    expect_close(r, "dx", got, dx, nx);
    free(got);

    release_case(ctx, (clcnn_tensor *[]){tx, tdy, ty, tdx}, 4, (ref_out *[]){&y, &dx}, 2, (float *[]){x, dy}, 2);
}

static void run_dense(const row *r)
{
    const size_t m = r->n, in = r->c, out = r->k;
    const unsigned seed = row_seed(r);
    float *x = random_floats(m * in, seed, 0, 1), *w = random_floats(in * out, seed + 1, -0.1f, 0.1f);
    float *b = random_floats(out, seed + 2, -0.5f, 0.5f), *dz = random_floats(m * out, seed + 3, -1, 1);
    ref_out y = ref_alloc(m * out), dx = ref_alloc(m * in), dw = ref_alloc(in * out), db = ref_alloc(out);
    ck_assert_int_eq(ref_dense_forward(m, in, out, x, w, b, r->act, y), 0);
    ref_dense_backward(m, in, out, dz, x, w, dx, dw, db);

    clcnn_ctx *ctx = open_backend(r);
    const size_t xs[2] = {m, in}, ws[2] = {in, out}, bs[1] = {out}, ys[2] = {m, out};
    clcnn_tensor *tx = tu_tensor(ctx, 2, xs, x), *tw = tu_tensor(ctx, 2, ws, w), *tb = tu_tensor(ctx, 1, bs, b);
    clcnn_tensor *tdz = tu_tensor(ctx, 2, ys, dz), *ty = NULL, *tdx = NULL, *tdw = NULL, *tdb = NULL;
    check_status(ctx, clcnn_dense_forward(ctx, tx, tw, tb, r->act, &ty), "dense_forward");
    float *got = tu_read(ty);
    expect_close(r, "y", got, y, m * out);
    free(got);
    check_status(ctx, clcnn_dense_backward(ctx, tdz, tx, tw, tb, &tdx, &tdw, &tdb), "dense_backward");
    clcnn_tensor *outs[3] = {tdx, tdw, tdb};
    ref_out wants[3] = {dx, dw, db};
    const size_t counts[3] = {m * in, in * out, out};
    static const char *const names[3] = {"dx", "dw", "db"};
    for (int i = 0; i < 3; i++) {
        got = tu_read(outs[i]);
        expect_close(r, names[i], got, wants[i], counts[i]);
        free(got);
    }
    /* dx not wanted: dw and db anew, into the same tensors. */
    check_status(ctx, clcnn_dense_backward(ctx, tdz, tx, tw, tb, NULL, &tdw, &tdb), "dense_backward (no dx)");
    for (int i = 1; i < 3; i++) {
        got = tu_read(outs[i]);
        expect_close(r, i == 1 ? "dw without dx" : "db without dx", got, wants[i], counts[i]);
        free(got);
    }
    release_case(ctx, (clcnn_tensor *[]){tx, tw, tb, tdz, ty, tdx, tdw, tdb}, 8, (ref_out *[]){&y, &dx, &dw, &db}, 4,
                 (float *[]){x, w, b, dz}, 4);
}

static void run_activation(const row *r)
{
    const size_t rows = r->n, cols = r->c, n = rows * cols;
    const unsigned seed = row_seed(r);
    float *x = random_floats(n, seed, -4, 4), *dy = random_floats(n, seed + 1, -1, 1);
    double *xd = xmalloc(n * sizeof *xd);
    for (size_t i = 0; i < n; i++)
        xd[i] = x[i];
    ref_out y = ref_alloc(n), dz = ref_alloc(n);
    ref_activate(r->act, rows, cols, xd, NULL, y);
    /* Backward from a valid output of the activation: the reference's y
     * rounded to float32, given to both sides. */
    float *yf = ref_floats(y, n);
    ref_activation_backward(r->act, rows, cols, yf, dy, dz);

    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *bx = dev_buf(ctx, x, n * 4), *by = r->variant ? bx : dev_buf(ctx, NULL, n * 4);
    BE(ctx, activation_forward, r->act, rows, cols, bx, by);
    float *got = dev_floats(ctx, by, n);
    expect_close(r, "y", got, y, n);
    free(got);
    clcnn_buf *byf = dev_buf(ctx, yf, n * 4), *bdy = dev_buf(ctx, dy, n * 4);
    clcnn_buf *bdz = r->variant ? bdy : dev_buf(ctx, NULL, n * 4);
    BE(ctx, activation_backward, r->act, rows, cols, byf, bdy, bdz);
    got = dev_floats(ctx, bdz, n);
    expect_close(r, "dz", got, dz, n);
    free(got);
    dev_free(ctx, bx);
    dev_free(ctx, byf);
    dev_free(ctx, bdy);
    if (!r->variant) {
        dev_free(ctx, by);
        dev_free(ctx, bdz);
    }
    clcnn_ctx_free(ctx);
    ref_release(&y);
    ref_release(&dz);
    free(x);
    free(xd);
    free(yf);
    free(dy);
}

static void run_xent(const row *r)
{
    const size_t m = r->n, k = r->k;
    float *logits = random_floats(m * k, row_seed(r), -8, 8), *u = random_floats(m, row_seed(r) + 1, 0, 1);
    int32_t *labels = xmalloc(m * sizeof *labels);
    for (size_t i = 0; i < m; i++)
        labels[i] = (int32_t)((size_t)(u[i] * (float)k) % k);
    /* Maxima tied at classes 0 and k - 1: rows 2 and 3 have label 0 (a hit,
     * argmax taking the first maximum), row 4 label k - 1 (a miss), so that
     * neither "last maximum" nor "any maximum" gives the same count. */
    for (size_t i = 2; k > 1 && i < 5 && i < m; i++) {
        labels[i] = i < 4 ? 0 : (int32_t)(k - 1);
        logits[i * k] = logits[i * k + k - 1] = 9.0f;
    }
    const float stats0[2] = {1.5f, 2.0f};
    ref_out dlogits = ref_alloc(m * k), stats = ref_alloc(2);
    ref_softmax_xent(m, k, logits, labels, r->f, stats0, dlogits, stats);

    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *bl = dev_buf(ctx, logits, m * k * 4), *blab = dev_buf(ctx, labels, m * 4);
    clcnn_buf *bs = dev_buf(ctx, stats0, sizeof stats0);
    clcnn_buf *bg = r->variant ? dev_buf(ctx, NULL, m * k * 4) : NULL;
    BE(ctx, softmax_xent, m, k, bl, blab, r->f, bg, bs);
    float *got = dev_floats(ctx, bs, 2);
    expect_close(r, "stats", got, stats, 2);
    free(got);
    if (r->variant) {
        got = dev_floats(ctx, bg, m * k);
        expect_close(r, "dlogits", got, dlogits, m * k);
        free(got);
        dev_free(ctx, bg);
    }
    got = dev_floats(ctx, bl, m * k);
    char desc[256];
    describe(r, desc, sizeof desc);
    ck_assert_msg(memcmp(got, logits, m * k * 4) == 0, "%s: the logits changed", desc);
    free(got);
    dev_free(ctx, bl);
    dev_free(ctx, blab);
    dev_free(ctx, bs);
    clcnn_ctx_free(ctx);
    ref_release(&dlogits);
    ref_release(&stats);
    free(logits);
    free(u);
    free(labels);
}

/*
 * Moments that decay below FLT_MIN are stored as 0 (backend.h): with a zero
 * gradient, element 0 of m (and v) would become subnormal after this step
 * and must read 0, element 1 stays normal and must not.  sgd: v alone.
 */
static void check_moments_flushed(const row *r, int sgd)
{
    const float big = 1.4e-38f, edge = 1.2e-38f, vedge = 1.176e-38f; /* FLT_MIN is 1.1755e-38 */
    const float w[2] = {0.5f, -0.25f}, zero[2] = {0.0f, 0.0f};
    const float m[2] = {edge, big}, v[2] = {sgd ? edge : vedge, big};
    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *bw = dev_buf(ctx, w, sizeof w), *bg = dev_buf(ctx, zero, sizeof zero);
    clcnn_buf *bm = dev_buf(ctx, m, sizeof m), *bv = dev_buf(ctx, v, sizeof v);
    if (sgd)
        BE(ctx, sgd_update, 2, 0, bw, bg, bv, 0.01f, 0.9f, 0.0f, 0);
    else
        BE(ctx, adam_update, 2, bw, bg, bm, bv, 0.001f, 0.9f, 0.999f, 1e-7f);
    float got_m[2], got_v[2];
    dev_read(ctx, bm, got_m, sizeof got_m);
    dev_read(ctx, bv, got_v, sizeof got_v);
    const char *op = sgd ? "sgd" : "adam";
    if (!sgd)
        ck_assert_msg(got_m[0] == 0.0f && got_m[1] > 0.0f, "%s: m = {%g, %g} from {%g, %g} at g = 0: want {0, > 0}",
                      op, (double)got_m[0], (double)got_m[1], (double)m[0], (double)m[1]);
    ck_assert_msg(got_v[0] == 0.0f && got_v[1] > 0.0f, "%s: v = {%g, %g} from {%g, %g} at g = 0: want {0, > 0}", op,
                  (double)got_v[0], (double)got_v[1], (double)v[0], (double)v[1]);
    clcnn_buf *bufs[] = {bw, bg, bm, bv};
    for (size_t i = 0; i < 4; i++)
        dev_free(ctx, bufs[i]);
    clcnn_ctx_free(ctx);
}

static void run_adam(const row *r)
{
    check_moments_flushed(r, 0);
    const size_t n = r->n;
    const unsigned seed = row_seed(r);
    const float lr = 0.001f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
    float *w = random_floats(n, seed, -1, 1), *m = random_floats(n, seed + 1, -0.1f, 0.1f);
    float *v = random_floats(n, seed + 2, 0, 0.1f);
    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *bw = dev_buf(ctx, w, n * 4), *bm = dev_buf(ctx, m, n * 4), *bv = dev_buf(ctx, v, n * 4);
    clcnn_buf *bg = dev_buf(ctx, NULL, n * 4);
    ref_out wn = ref_alloc(n), mn = ref_alloc(n), vn = ref_alloc(n);
    for (size_t s = 0; s < r->k; s++) {
        /* Each step from the backend's own state, with a fresh gradient. */
        const double t = (double)(r->sh + s);
        const float lr_t = (float)(lr * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t)));
        float *g = random_floats(n, seed + 3 + (unsigned)s, -1, 1);
        check_status(ctx, ctx->ops->write(ctx->bctx, bg, 0, g, n * 4), "write");
        ref_adam(n, w, g, m, v, lr_t, b1, b2, eps, wn, mn, vn);
        BE(ctx, adam_update, n, bw, bg, bm, bv, lr_t, b1, b2, eps);
        free(w);
        free(m);
        free(v);
        w = dev_floats(ctx, bw, n);
        m = dev_floats(ctx, bm, n);
        v = dev_floats(ctx, bv, n);
        char what[32];
        snprintf(what, sizeof what, "w step %zu", s + 1);
        expect_close(r, what, w, wn, n);
        snprintf(what, sizeof what, "m step %zu", s + 1);
        expect_close(r, what, m, mn, n);
        snprintf(what, sizeof what, "v step %zu", s + 1);
        expect_close(r, what, v, vn, n);
        free(g);
    }
    dev_free(ctx, bw);
    dev_free(ctx, bm);
    dev_free(ctx, bv);
    dev_free(ctx, bg);
    clcnn_ctx_free(ctx);
    ref_release(&wn);
    ref_release(&mn);
    ref_release(&vn);
    free(w);
    free(m);
    free(v);
}

static void run_gather(const row *r)
{
    const size_t count = r->n, len = r->c, m = r->k, first = r->sh;
    const size_t img_bytes = count * len * (r->mode ? 1 : sizeof(float));
    unsigned char *img = xmalloc(img_bytes);
    if (r->mode)
        for (size_t i = 0; i < count * len; i++)
            img[i] = (unsigned char)((i * 131u + 7u) & 0xffu);
    else
        tu_fill_random((float *)(void *)img, count * len, row_seed(r), 0, 1);
    int32_t *labels = xmalloc(count * sizeof *labels), *idx = xmalloc((first + m) * sizeof *idx);
    int32_t *want_y = xmalloc(m * sizeof *want_y), *got_y = xmalloc(m * sizeof *got_y);
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)(i % 10);
    /* The rows before first are other examples: a batch read from the
     * wrong place differs. */
    for (size_t i = 0; i < first + m; i++)
        idx[i] = (int32_t)(i < first ? (i * 5 + 1) % count : ((i - first) * 17 + 3) % count);
    ref_out x = ref_alloc(m * len);
    ref_gather_batch(img, r->mode, len, labels, idx + first, m, x, want_y);

    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *bimg = dev_buf(ctx, img, img_bytes), *blab = dev_buf(ctx, labels, count * 4);
    clcnn_buf *bidx = dev_buf(ctx, idx, (first + m) * 4), *bx = dev_buf(ctx, NULL, m * len * 4);
    clcnn_buf *by = r->variant ? dev_buf(ctx, NULL, m * 4) : NULL;
    BE(ctx, gather_batch, bimg, r->mode, len, blab, bidx, first, m, bx, by);
    float *got = dev_floats(ctx, bx, m * len);
    expect_close(r, "x", got, x, m * len);
    free(got);
    if (by) {
        dev_read(ctx, by, got_y, m * 4);
        expect_equal_ints(r, "y", got_y, want_y, m);
        dev_free(ctx, by);
    }
    dev_free(ctx, bimg);
    dev_free(ctx, blab);
    dev_free(ctx, bidx);
    dev_free(ctx, bx);
    clcnn_ctx_free(ctx);
    ref_release(&x);
    free(img);
    free(labels);
    free(idx);
    free(want_y);
    free(got_y);
}

/* The backend op from element r->sh of the draw; at 0 the public calls
 * too (forward with and without the mask, backward), which must agree. */
static void run_dropout(const row *r)
{
    const size_t n = r->n, first = r->sh;
    const unsigned seed = row_seed(r);
    float *x = random_floats(n, seed, -1, 1), *dy = random_floats(n, seed + 1, -1, 1);
    float *mask = xmalloc(n * sizeof *mask), *unused = xmalloc(n * sizeof *unused);
    ref_out y = ref_alloc(n), dx = ref_alloc(n);
    ref_dropout(n, first, r->f, r->k, x, y, mask);
    ref_dropout(n, first, r->f, r->k, dy, dx, unused); /* dx = dy * mask */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += mask[i] != 0.0f;
    /* The draw keeps 1 - rate of the elements: within 5 standard deviations. */
    const double p = 1.0 - (double)r->f;
    ck_assert_msg(fabs((double)kept - p * (double)n) <= 5.0 * sqrt(p * (1.0 - p) * (double)n) + 1.0,
                  "dropout rate %g kept %zu of %zu", (double)r->f, kept, n);

    clcnn_ctx *ctx = open_backend(r);
    /* a layer's seed at a step, as the engine derives it */
    ck_assert_uint_eq(clcnn_noise_seed(r->k, 3, 2), ref_noise_seed(r->k, 3, 2));
    /* the backend op: the geometry the public calls would make, from first */
    const uint64_t key = ref_dropout_key(r->k);
    const dropout_geom g = {.count = n, .first = first, .key_lo = (uint32_t)key, .key_hi = (uint32_t)(key >> 32),
                            .threshold = (uint32_t)floor((double)r->f * 16777216.0 + 0.5),
                            .scale = (float)(1.0 / (1.0 - (double)r->f))};
    clcnn_buf *bx = dev_buf(ctx, x, n * 4), *by = dev_buf(ctx, NULL, n * 4), *bm = dev_buf(ctx, NULL, n * 4);
    clcnn_buf *bdy = dev_buf(ctx, dy, n * 4), *bdx = dev_buf(ctx, NULL, n * 4);
    BE(ctx, dropout_forward, &g, bx, by, bm);
    float *got = dev_floats(ctx, by, n);
    expect_close(r, "y", got, y, n);
    free(got);
    got = dev_floats(ctx, bm, n);
    expect_equal_floats(r, "mask", got, mask, n);
    free(got);
    BE(ctx, dropout_forward, &g, bx, bdx, NULL);
    got = dev_floats(ctx, bdx, n);
    expect_close(r, "y without mask", got, y, n);
    free(got);
    BE(ctx, dropout_backward, &g, bdy, bdx);
    got = dev_floats(ctx, bdx, n);
    expect_close(r, "dx", got, dx, n);
    free(got);
    if (first == 0) {
        const size_t shape[2] = {1, n};
        clcnn_tensor *tx = tu_tensor(ctx, 2, shape, x), *tdy = tu_tensor(ctx, 2, shape, dy);
        clcnn_tensor *ty = NULL, *tm = NULL, *ty2 = NULL, *tdx = NULL;
        check_status(ctx, clcnn_dropout_forward(ctx, tx, r->f, r->k, &ty, &tm), "dropout_forward");
        check_status(ctx, clcnn_dropout_forward(ctx, tx, r->f, r->k, &ty2, NULL), "dropout_forward");
        check_status(ctx, clcnn_dropout_backward(ctx, tdy, r->f, r->k, &tdx), "dropout_backward");
        const struct {
            const char *name;
            clcnn_tensor *t;
            ref_out want;
        } outs[] = {{"public y", ty, y}, {"public y without mask", ty2, y}, {"public dx", tdx, dx}};
        for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
            got = tu_read(outs[i].t);
            expect_close(r, outs[i].name, got, outs[i].want, n);
            free(got);
        }
        got = tu_read(tm);
        expect_equal_floats(r, "public mask", got, mask, n);
        free(got);
        clcnn_tensor *ts[] = {tx, tdy, ty, tm, ty2, tdx};
        for (size_t i = 0; i < 6; i++)
            clcnn_tensor_free(ts[i]);
    }
    clcnn_buf *bufs[] = {bx, by, bm, bdy, bdx};
    for (size_t i = 0; i < 5; i++)
        dev_free(ctx, bufs[i]);
    clcnn_ctx_free(ctx);
    ref_release(&y);
    ref_release(&dx);
    free(x);
    free(dy);
    free(mask);
    free(unused);
}

/* steps SGD steps, each from the backend's own state with a fresh gradient. */
static void run_sgd(const row *r)
{
    check_moments_flushed(r, 1);
    const size_t n = r->n;
    const unsigned seed = row_seed(r);
    const float lr = 0.05f, wd = r->variant & 1 ? 1e-2f : 0.0f;
    const int nesterov = (r->variant & 2) != 0;
    float *w = random_floats(n, seed, -1, 1), *v = random_floats(n, seed + 1, -0.1f, 0.1f);
    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *bw = dev_buf(ctx, w, n * 4), *bv = dev_buf(ctx, v, n * 4), *bg = dev_buf(ctx, NULL, n * 4);
    ref_out wn = ref_alloc(n), vn = ref_alloc(n);
    for (size_t s = 0; s < r->k; s++) {
        float *g = random_floats(n, seed + 3 + (unsigned)s, -1, 1);
        check_status(ctx, ctx->ops->write(ctx->bctx, bg, 0, g, n * 4), "write");
        ref_sgd(n, w, g, v, lr, r->f, wd, nesterov, wn, vn);
        BE(ctx, sgd_update, n, n, bw, bg, bv, lr, r->f, wd, nesterov);
        free(w);
        free(v);
        w = dev_floats(ctx, bw, n);
        v = dev_floats(ctx, bv, n);
        char what[32];
        snprintf(what, sizeof what, "w step %zu", s + 1);
        expect_close(r, what, w, wn, n);
        snprintf(what, sizeof what, "v step %zu", s + 1);
        expect_close(r, what, v, vn, n);
        free(g);
    }
    dev_free(ctx, bw);
    dev_free(ctx, bv);
    dev_free(ctx, bg);
    clcnn_ctx_free(ctx);
    ref_release(&wn);
    ref_release(&vn);
    free(w);
    free(v);
}

/* fill sets the first count - 1 values and leaves the last one. */
static void run_fill(const row *r)
{
    const size_t n = r->n;
    float *x = random_floats(n, row_seed(r), -1, 1);
    ref_out want = ref_alloc(n);
    for (size_t i = 0; i < n; i++) {
        want.v[i] = i + 1 < n ? (double)r->f : x[i];
        want.err[i] = 0.0;
    }
    clcnn_ctx *ctx = open_backend(r);
    clcnn_buf *b = dev_buf(ctx, x, n * 4);
    BE(ctx, fill, b, n - 1, r->f);
    float *got = dev_floats(ctx, b, n);
    expect_close(r, "x", got, want, n);
    free(got);
    dev_free(ctx, b);
    clcnn_ctx_free(ctx);
    ref_release(&want);
    free(x);
}

/* ------------------------------------------------------------------- main */

/* The rows this backend runs, grouped by family (one loop range each). */
static size_t selected[TABLE_ROWS];

START_TEST(backend_op)
{
    const row *r = &table[selected[_i]];
    switch (r->fam) {
    case F_CONV:
        run_conv(r);
        break;
    case F_POOL:
        run_pool(r);
        break;
    case F_DENSE:
        run_dense(r);
        break;
    case F_ACT:
        run_activation(r);
        break;
    case F_XENT:
        run_xent(r);
        break;
    case F_ADAM:
        run_adam(r);
        break;
    case F_GATHER:
        run_gather(r);
        break;
    case F_LRN:
        run_lrn(r);
        break;
    case F_DROPOUT:
        run_dropout(r);
        break;
    case F_SGD:
        run_sgd(r);
        break;
    default:
        run_fill(r);
        break;
    }
}
END_TEST

/* The backend a context for CLCNN_DEVICE gets ("cpu", "opencl"), or NULL
 * when there is no such device; found in a child, so that this process
 * never initialises OpenCL before Check forks. */
static const char *probe_backend(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        clcnn_ctx *ctx = NULL;
        int st = clcnn_ctx_create_with_log(&ctx, tu_device(), NULL, NULL);
        int code = st == CLCNN_ERR_NO_DEVICE ? 77 : st != CLCNN_OK ? 2 : strcmp(clcnn_ctx_backend(ctx), "cpu") ? 1 : 0;
        if (st != CLCNN_OK)
            fprintf(stderr, "%s: %s\n", tu_device(), clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
        _exit(code);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return "?";
    switch (WEXITSTATUS(status)) {
    case 0:
        return "cpu";
    case 1:
        return "opencl";
    case 77:
        return NULL;
    default:
        return "?"; /* the tests will fail with the message */
    }
}

int main(void)
{
    const char *backend = probe_backend();
    if (!backend) {
        printf("1..0 # SKIP no %s device\n", tu_device());
        return EXIT_SUCCESS;
    }
    Suite *s = suite_create("backend_ops");
    size_t count = 0;
    for (int f = 0; f < F_COUNT; f++) {
        const int start = (int)count;
        for (size_t i = 0; i < TABLE_ROWS; i++) {
            const config *cf = &configs[table[i].cfg];
            if (table[i].fam == (family)f && (!cf->backend || strcmp(cf->backend, backend) == 0))
                selected[count++] = i;
        }
        TCase *tc = tcase_create(family_names[f]);
        tcase_set_timeout(tc, 300);
        tcase_add_loop_test(tc, backend_op, start, (int)count);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
