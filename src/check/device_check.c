/*
 * clcnn_device_check: every op family of a device, on small cases of each
 * code path, against the CPU backend on the same inputs.
 *
 * Each case is one function that builds its inputs from a seed, runs one
 * family's operations on the context it is given and reads the results
 * back to the host; the check runs it on the device's context and on a CPU
 * context and compares.  Convolution, pooling, dense and LRN go through the
 * public operations; the families that have none (activation, loss, Adam,
 * batch gather) through the backend table, as the engine calls them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/compare.h"
#include "internal.h"

#define MAX_OUTPUTS 12 /* the training step's loss and ten gradients */

/* The host copies of a case's results. */
typedef struct outputs {
    float *v[MAX_OUTPUTS];
    size_t n[MAX_OUTPUTS];
    int count;
} outputs;

static void outputs_free(outputs *o)
{
    for (int i = 0; i < o->count; i++)
        free(o->v[i]);
    memset(o, 0, sizeof *o);
}

/* Runs one case on ctx: 0, or a status with the message on ctx. */
typedef int (*case_fn)(clcnn_ctx *ctx, const void *spec, outputs *out);

/* ------------------------------------------------------------ inputs, IO */

/* splitmix64: the same inputs on every context and machine. */
static float next_uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)((double)(z >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f; /* [-1, 1) */
}

/* A new host block in *p; 0 or CLCNN_ERR_NOMEM with a message. */
static int host_alloc(clcnn_ctx *ctx, size_t count, size_t size, void **p)
{
    *p = calloc(count ? count : 1, size);
    return *p ? CLCNN_OK : clcnn_error(ctx, CLCNN_ERR_NOMEM, "device check: out of host memory");
}

/* A tensor of shape filled from seed with values in [-1, 1) (quantised to
 * four levels when levels is set, so that max windows hold ties). */
static int random_tensor(clcnn_ctx *ctx, int rank, const size_t *shape, uint64_t seed, int levels,
                         clcnn_tensor **out)
{
    *out = NULL;
    int st = clcnn_tensor_create(ctx, out, rank, shape);
    if (st)
        return st;
    size_t n = clcnn_tensor_count(*out);
    float *v;
    if ((st = host_alloc(ctx, n, sizeof *v, (void **)&v)))
        return st;
    for (size_t i = 0; i < n; i++) {
        v[i] = next_uniform(&seed);
        if (levels)
            v[i] = floorf(v[i] * 2.0f) / 2.0f;
    }
    st = clcnn_tensor_write(*out, v, n);
    free(v);
    return st;
}

/* Appends a host copy of t to out. */
static int take(clcnn_ctx *ctx, const clcnn_tensor *t, outputs *out)
{
    size_t n = clcnn_tensor_count(t);
    float *v;
    int st = host_alloc(ctx, n, sizeof *v, (void **)&v);
    if (st)
        return st;
    if ((st = clcnn_tensor_read(t, v, n))) {
        free(v);
        return st;
    }
    out->v[out->count] = v;
    out->n[out->count++] = n;
    return CLCNN_OK;
}

static void free_tensors(clcnn_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        clcnn_tensor_free(t[i]);
}

#define OUT(i) (1u << (i))

/* The end of a case: when st is 0, host copies of the tensors t[i] whose
 * bit OUT(i) is in outs, in order; then every tensor of t freed. */
static int finish(clcnn_ctx *ctx, int st, clcnn_tensor **t, int n, unsigned outs, outputs *out)
{
    for (int i = 0; i < n && !st; i++)
        if (outs & OUT(i))
            st = take(ctx, t[i], out);
    free_tensors(t, n);
    return st;
}

/* ------------------------------------------------------------- the cases */

typedef struct conv_spec {
    size_t m, h, w, c, k;
    int kh, kw;
    clcnn_activation act;
    clcnn_conv_params p;
} conv_spec;

#define SAME(sh, sw) {CLCNN_PAD_SAME, 0, 0, 0, 0, sh, sw, 1, 1, 1}
#define VALID(sh, sw) {CLCNN_PAD_VALID, 0, 0, 0, 0, sh, sw, 1, 1, 1}

/* LeNet-5's two convolutions, odd sizes, strides, every activation; then
 * explicit padding, dilation and groups (the OpenCL backend's general
 * kernels). */
static const conv_spec conv_cases[] = {
    {2, 28, 28, 1, 6, 5, 5, CLCNN_ACT_RELU, SAME(1, 1)},
    {3, 14, 14, 6, 16, 5, 5, CLCNN_ACT_RELU, VALID(1, 1)},
    {2, 9, 11, 3, 5, 3, 3, CLCNN_ACT_TANH, SAME(1, 1)},
    {3, 8, 7, 2, 4, 3, 5, CLCNN_ACT_SIGMOID, VALID(2, 2)},
    {1, 7, 5, 4, 3, 3, 1, CLCNN_ACT_SOFTMAX, SAME(1, 2)},
    {2, 6, 6, 3, 7, 1, 1, CLCNN_ACT_IDENTITY, VALID(1, 1)},
    {2, 9, 8, 3, 4, 3, 3, CLCNN_ACT_RELU, {CLCNN_PAD_EXPLICIT, 2, 0, 1, 3, 2, 1, 1, 1, 1}},
    {2, 11, 10, 4, 6, 3, 3, CLCNN_ACT_TANH, {CLCNN_PAD_EXPLICIT, 2, 2, 2, 2, 1, 1, 2, 2, 2}},
    {1, 8, 9, 6, 6, 3, 3, CLCNN_ACT_IDENTITY, {CLCNN_PAD_EXPLICIT, 1, 1, 1, 1, 1, 1, 1, 1, 6}},
};

static int conv_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const conv_spec *s = spec;
    clcnn_tensor *t[8] = {0}; /* x, w, b, y, dz, dx, dw, db */
    int st = random_tensor(ctx, 4, (size_t[]){s->m, s->h, s->w, s->c}, 1, 0, &t[0]);
    if (!st)
        st = random_tensor(ctx, 4, (size_t[]){(size_t)s->kh, (size_t)s->kw, s->c / (size_t)s->p.groups, s->k}, 2, 0,
                           &t[1]);
    if (!st)
        st = random_tensor(ctx, 1, (size_t[]){s->k}, 3, 0, &t[2]);
    if (!st)
        st = clcnn_conv2d_forward(ctx, t[0], t[1], t[2], s->act, &s->p, &t[3]);
    if (!st) {
        size_t shape[4];
        clcnn_tensor_shape(t[3], shape);
        st = random_tensor(ctx, 4, shape, 4, 0, &t[4]);
    }
    if (!st)
        st = clcnn_conv2d_backward(ctx, t[4], t[0], t[1], t[2], &s->p, &t[5], &t[6], &t[7]);
    return finish(ctx, st, t, 8, OUT(3) | OUT(5) | OUT(6) | OUT(7), out); /* y, dx, dw, db */
}

typedef struct pool_spec {
    size_t m, h, w, c;
    int kh, kw, sh, sw;
    clcnn_pool_mode mode;
    int ties;
    clcnn_pool_params p;
} pool_spec;

/* LeNet-5's, overlapping windows with ties, odd sizes; then padding, ceil
 * mode and count_include_pad (their own kernels). */
static const pool_spec pool_cases[] = {
    {2, 28, 28, 6, 2, 2, 2, 2, CLCNN_POOL_MAX, 0, {0}},
    {2, 9, 11, 3, 3, 3, 2, 2, CLCNN_POOL_MAX, 1, {0}},
    {3, 10, 10, 16, 2, 2, 2, 2, CLCNN_POOL_AVG, 0, {0}},
    {1, 8, 7, 4, 3, 2, 1, 2, CLCNN_POOL_AVG, 0, {0}},
    {2, 9, 8, 3, 3, 3, 2, 2, CLCNN_POOL_MAX, 1, {1, 1, 1, 0, 1, 0}},
    {2, 7, 9, 2, 3, 3, 2, 2, CLCNN_POOL_AVG, 0, {1, 0, 1, 1, 1, 1}},
    {1, 6, 7, 3, 2, 3, 2, 2, CLCNN_POOL_AVG, 0, {0, 1, 1, 0, 0, 0}},
};

static int pool_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const pool_spec *s = spec;
    clcnn_tensor *t[4] = {0}; /* x, y, dy, dx */
    int st = random_tensor(ctx, 4, (size_t[]){s->m, s->h, s->w, s->c}, 5, s->ties, &t[0]);
    if (!st)
        st = clcnn_pool2d_forward(ctx, t[0], s->kh, s->kw, s->sh, s->sw, s->mode, &s->p, &t[1]);
    if (!st) {
        size_t shape[4];
        clcnn_tensor_shape(t[1], shape);
        st = random_tensor(ctx, 4, shape, 6, 0, &t[2]);
    }
    if (!st)
        st = clcnn_pool2d_backward(ctx, t[2], t[0], s->kh, s->kw, s->sh, s->sw, s->mode, &s->p, &t[3]);
    return finish(ctx, st, t, 4, OUT(1) | OUT(3), out);
}

typedef struct dense_spec {
    size_t m, in, out;
    clcnn_activation act;
} dense_spec;

/* LeNet-5's three dense layers, and odd sizes. */
static const dense_spec dense_cases[] = {
    {4, 400, 120, CLCNN_ACT_RELU}, {4, 120, 84, CLCNN_ACT_RELU}, {4, 84, 10, CLCNN_ACT_SOFTMAX},
    {3, 17, 9, CLCNN_ACT_TANH},    {5, 33, 1, CLCNN_ACT_SIGMOID}, {1, 7, 13, CLCNN_ACT_IDENTITY},
};

static int dense_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const dense_spec *s = spec;
    clcnn_tensor *t[8] = {0}; /* x, w, b, y, dz, dx, dw, db */
    int st = random_tensor(ctx, 2, (size_t[]){s->m, s->in}, 7, 0, &t[0]);
    if (!st)
        st = random_tensor(ctx, 2, (size_t[]){s->in, s->out}, 8, 0, &t[1]);
    if (!st)
        st = random_tensor(ctx, 1, (size_t[]){s->out}, 9, 0, &t[2]);
    if (!st)
        st = clcnn_dense_forward(ctx, t[0], t[1], t[2], s->act, &t[3]);
    if (!st)
        st = random_tensor(ctx, 2, (size_t[]){s->m, s->out}, 10, 0, &t[4]);
    if (!st)
        st = clcnn_dense_backward(ctx, t[4], t[0], t[1], t[2], &t[5], &t[6], &t[7]);
    return finish(ctx, st, t, 8, OUT(3) | OUT(5) | OUT(6) | OUT(7), out); /* y, dx, dw, db */
}

typedef struct lrn_spec {
    size_t m, h, w, c;
    int size;
    float alpha, beta, k;
} lrn_spec;

/* AlexNet's setting, and strong ones that exercise the gradient's second term. */
static const lrn_spec lrn_cases[] = {
    {2, 5, 5, 7, 5, 1e-4f, 0.75f, 2.0f},
    {1, 3, 4, 6, 3, 0.5f, 0.75f, 1.0f},
    {2, 2, 3, 9, 4, 1.0f, 0.5f, 1.0f},
};

static int lrn_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const lrn_spec *s = spec;
    clcnn_tensor *t[4] = {0}; /* x, y, dy, dx */
    size_t shape[4] = {s->m, s->h, s->w, s->c};
    int st = random_tensor(ctx, 4, shape, 11, 0, &t[0]);
    if (!st)
        st = clcnn_lrn_forward(ctx, t[0], s->size, s->alpha, s->beta, s->k, &t[1]);
    if (!st)
        st = random_tensor(ctx, 4, shape, 12, 0, &t[2]);
    if (!st)
        st = clcnn_lrn_backward(ctx, t[2], t[0], s->size, s->alpha, s->beta, s->k, &t[3]);
    return finish(ctx, st, t, 4, OUT(1) | OUT(3), out);
}

/* The backend-table families work on raw buffers: a tensor's buffer. */
static int raw_tensor(clcnn_ctx *ctx, size_t n, uint64_t seed, clcnn_tensor **t)
{
    return random_tensor(ctx, 1, (size_t[]){n}, seed, 0, t);
}

/* A tensor of n int32 values v[i] = i * step mod modulus, written raw. */
static int index_tensor(clcnn_ctx *ctx, size_t n, size_t step, size_t modulus, clcnn_tensor **t)
{
    int32_t *v;
    int st = host_alloc(ctx, n, sizeof *v, (void **)&v);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++)
        v[i] = (int32_t)(i * step % modulus);
    st = clcnn_tensor_create(ctx, t, 1, (size_t[]){n});
    if (!st)
        st = ctx->ops->write(ctx->bctx, (*t)->buf, 0, v, n * sizeof *v);
    free(v);
    return st;
}

typedef struct act_spec {
    clcnn_activation act;
    size_t rows, cols;
} act_spec;

static const act_spec act_cases[] = {
    {CLCNN_ACT_RELU, 5, 37},    {CLCNN_ACT_SIGMOID, 3, 11}, {CLCNN_ACT_TANH, 4, 9},
    {CLCNN_ACT_SOFTMAX, 6, 10}, {CLCNN_ACT_IDENTITY, 2, 5},
};

static int act_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const act_spec *s = spec;
    size_t n = s->rows * s->cols;
    clcnn_tensor *t[4] = {0}; /* x, y, dy, dz */
    int st = raw_tensor(ctx, n, 13, &t[0]);
    if (!st)
        st = raw_tensor(ctx, n, 14, &t[1]);
    if (!st)
        st = raw_tensor(ctx, n, 15, &t[2]);
    if (!st)
        st = raw_tensor(ctx, n, 16, &t[3]);
    if (!st)
        st = ctx->ops->activation_forward(ctx->bctx, s->act, s->rows, s->cols, t[0]->buf, t[1]->buf);
    if (!st)
        st = ctx->ops->activation_backward(ctx->bctx, s->act, s->rows, s->cols, t[1]->buf, t[2]->buf, t[3]->buf);
    return finish(ctx, st, t, 4, OUT(1) | OUT(3), out);
}

typedef struct xent_spec {
    size_t m, k;
} xent_spec;

static const xent_spec xent_cases[] = {{32, 10}, {7, 3}, {1, 17}};

static int xent_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const xent_spec *s = spec;
    clcnn_tensor *t[4] = {0}; /* logits, labels, dlogits, stats */
    int st = raw_tensor(ctx, s->m * s->k, 17, &t[0]);
    if (!st)
        st = index_tensor(ctx, s->m, 7, s->k, &t[1]);
    if (!st)
        st = raw_tensor(ctx, s->m * s->k, 18, &t[2]);
    if (!st)
        st = clcnn_tensor_create(ctx, &t[3], 1, (size_t[]){2});
    if (!st)
        st = ctx->ops->fill(ctx->bctx, t[3]->buf, 2, 0.0f);
    if (!st)
        st = ctx->ops->softmax_xent(ctx->bctx, s->m, s->k, t[0]->buf, t[1]->buf, (float)s->m, t[2]->buf,
                                    t[3]->buf);
    return finish(ctx, st, t, 4, OUT(2) | OUT(3), out);
}

typedef struct adam_spec {
    size_t count;
    int steps;
} adam_spec;

static const adam_spec adam_cases[] = {{61706, 3}, {1, 1}, {1001, 2}};

static int adam_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const adam_spec *s = spec;
    clcnn_tensor *t[4] = {0}; /* w, g, m, v */
    int st = raw_tensor(ctx, s->count, 19, &t[0]);
    if (!st)
        st = raw_tensor(ctx, s->count, 20, &t[1]);
    for (int i = 2; i < 4 && !st; i++)
        if (!(st = clcnn_tensor_create(ctx, &t[i], 1, (size_t[]){s->count})))
            st = ctx->ops->fill(ctx->bctx, t[i]->buf, s->count, 0.0f);
    for (int step = 1; step <= s->steps && !st; step++) {
        const float b1 = 0.9f, b2 = 0.999f;
        float lr_t = 1e-3f * sqrtf(1.0f - powf(b2, (float)step)) / (1.0f - powf(b1, (float)step));
        st = ctx->ops->adam_update(ctx->bctx, s->count, t[0]->buf, t[1]->buf, t[2]->buf, t[3]->buf, lr_t, b1, b2,
                                   1e-7f);
    }
    return finish(ctx, st, t, 4, OUT(0) | OUT(2) | OUT(3), out); /* w, m, v */
}

/* dropout (issue 13): its mask, output and gradient; the draw is exact
 * integer arithmetic, so any difference is a wrong kernel. */
typedef struct dropout_spec {
    size_t count;
    float rate;
} dropout_spec;

static const dropout_spec dropout_cases[] = {{32 * 120, 0.5f}, {1001, 0.1f}, {1, 0.5f}};

static int dropout_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const dropout_spec *s = spec;
    clcnn_tensor *t[5] = {0}; /* x, y, mask, dy, dx */
    int st = raw_tensor(ctx, s->count, 23, &t[0]);
    if (!st)
        st = raw_tensor(ctx, s->count, 24, &t[3]);
    if (!st)
        st = clcnn_dropout_forward(ctx, t[0], s->rate, 5, &t[1], &t[2]);
    if (!st)
        st = clcnn_dropout_backward(ctx, t[3], s->rate, 5, &t[4]);
    return finish(ctx, st, t, 5, OUT(1) | OUT(2) | OUT(4), out);
}

/* SGD with momentum, weight decay and Nesterov (issue 13). */
static const adam_spec sgd_cases[] = {{61706, 3}, {1, 1}, {1001, 2}};

static int sgd_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const adam_spec *s = spec;
    clcnn_tensor *t[3] = {0}; /* w, g, v */
    int st = raw_tensor(ctx, s->count, 25, &t[0]);
    if (!st)
        st = raw_tensor(ctx, s->count, 26, &t[1]);
    if (!st && !(st = clcnn_tensor_create(ctx, &t[2], 1, (size_t[]){s->count})))
        st = ctx->ops->fill(ctx->bctx, t[2]->buf, s->count, 0.0f);
    for (int step = 1; step <= s->steps && !st; step++)
        st = ctx->ops->sgd_update(ctx->bctx, s->count, s->count / 2, t[0]->buf, t[1]->buf, t[2]->buf, 0.01f, 0.9f,
                                  5e-4f, step & 1); /* decay on the first half only */
    return finish(ctx, st, t, 3, OUT(0) | OUT(2), out); /* w, v */
}

typedef struct gather_spec {
    size_t rows, row_len, m;
    int u8;
    size_t h, w, c, crop; /* crop > 0: gather_augment on h x w x c images (row_len their product) */
} gather_spec;

/* (m at most 32: gather_case reads the labels into an array of its own) */
static const gather_spec gather_cases[] = {
    {50, 784, 32, 1, 0, 0, 0, 0}, {9, 13, 5, 0, 0, 0, 0, 0}, {40, 784, 32, 1, 28, 28, 1, 4}, {9, 90, 7, 0, 5, 6, 3, 2}};

/* Augmentation draws for m rows: every offset in [-crop, crop], both flips. */
static int augment_tensor(clcnn_ctx *ctx, size_t m, size_t crop, clcnn_tensor **t)
{
    int32_t v[3 * 32];
    for (size_t r = 0; r < m; r++) {
        v[3 * r] = (int32_t)(r % (2 * crop + 1)) - (int32_t)crop;
        v[3 * r + 1] = (int32_t)((r * 3 + 1) % (2 * crop + 1)) - (int32_t)crop;
        v[3 * r + 2] = (int32_t)(r / 2 % 2);
    }
    int st = clcnn_tensor_create(ctx, t, 1, (size_t[]){3 * m});
    return st ? st : ctx->ops->write(ctx->bctx, (*t)->buf, 0, v, 3 * m * sizeof *v);
}

static int gather_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const gather_spec *s = spec;
    clcnn_tensor *t[6] = {0}; /* images, labels, indices, x, y, augmentation draws */
    size_t n = s->rows * s->row_len, bytes = n * (s->u8 ? 1 : sizeof(float));
    unsigned char *img;
    int st = host_alloc(ctx, bytes, 1, (void **)&img);
    if (st)
        return st;
    uint64_t seed = 21;
    for (size_t i = 0; i < n; i++) {
        float u = next_uniform(&seed) * 0.5f + 0.5f; /* [0, 1) */
        if (s->u8)
            img[i] = (unsigned char)(u * 255.0f);
        else
            memcpy(img + i * sizeof u, &u, sizeof u);
    }
    st = clcnn_tensor_create(ctx, &t[0], 1, (size_t[]){(bytes + 3) / 4});
    if (!st)
        st = ctx->ops->write(ctx->bctx, t[0]->buf, 0, img, bytes);
    free(img);
    if (!st)
        st = index_tensor(ctx, s->rows, 3, 10, &t[1]);
    if (!st)
        st = index_tensor(ctx, s->m, 7, s->rows, &t[2]);
    if (!st)
        st = clcnn_tensor_create(ctx, &t[3], 2, (size_t[]){s->m, s->row_len});
    if (!st)
        st = clcnn_tensor_create(ctx, &t[4], 1, (size_t[]){s->m});
    if (!st && s->crop)
        st = augment_tensor(ctx, s->m, s->crop, &t[5]);
    if (!st && s->crop)
        st = ctx->ops->gather_augment(ctx->bctx, t[0]->buf, s->u8, s->h, s->w, s->c, t[1]->buf, t[2]->buf,
                                      t[5]->buf, 0, s->m, t[3]->buf, t[4]->buf);
    else if (!st)
        st = ctx->ops->gather_batch(ctx->bctx, t[0]->buf, s->u8, s->row_len, t[1]->buf, t[2]->buf, 0,
                                    s->m, t[3]->buf, t[4]->buf);
    if (!st)
        st = take(ctx, t[3], out);
    if (!st) { /* the labels, as floats */
        int32_t y[32];
        float *v;
        if (!(st = ctx->ops->read(ctx->bctx, t[4]->buf, 0, y, s->m * sizeof *y)) &&
            !(st = host_alloc(ctx, s->m, sizeof *v, (void **)&v))) {
            for (size_t i = 0; i < s->m; i++)
                v[i] = (float)y[i];
            out->v[out->count] = v;
            out->n[out->count++] = s->m;
        }
    }
    free_tensors(t, 6);
    return st;
}

/* One training step of LeNet-5 through the engine (forward, loss, backward,
 * Adam) from the same weights: the loss, then every gradient. */
typedef struct step_spec {
    size_t batch;
} step_spec;

static const step_spec step_cases[] = {{8}, {3}};

static int step_case(clcnn_ctx *ctx, const void *spec, outputs *out)
{
    const step_spec *s = spec;
    clcnn_model *m = NULL;
    float *images = NULL;
    int32_t labels[8];
    int st = clcnn_model_lenet5(ctx, &m);
    if (!st)
        st = clcnn_model_init(m, 1);
    if (!st)
        st = host_alloc(ctx, s->batch * 784, sizeof *images, (void **)&images);
    if (!st) {
        uint64_t seed = 22;
        for (size_t i = 0; i < s->batch * 784; i++)
            images[i] = next_uniform(&seed) * 0.5f + 0.5f;
        for (size_t i = 0; i < s->batch; i++)
            labels[i] = (int32_t)(i * 3 % 10);
    }
    float loss = 0.0f;
    if (!st)
        st = clcnn_model_train_step(m, images, labels, s->batch, &loss, NULL);
    if (!st && !(st = host_alloc(ctx, 1, sizeof(float), (void **)&out->v[0]))) {
        out->v[0][0] = loss;
        out->n[0] = 1;
        out->count = 1;
    }
    /* LeNet-5's parameterised layers' gradients, weights then biases. */
    for (size_t i = 0; i < clcnn_model_layer_count(m) && !st; i++)
        for (int which = 0; which < 2 && !st; which++) {
            size_t n = clcnn_model_param_size(m, i, which);
            if (n == 0)
                continue;
            float *v;
            if ((st = host_alloc(ctx, n, sizeof *v, (void **)&v)))
                break;
            if ((st = clcnn_model_read_grad(m, i, which, v, n))) {
                free(v);
                break;
            }
            out->v[out->count] = v;
            out->n[out->count++] = n;
        }
    free(images);
    clcnn_model_free(m);
    return st;
}

/* ------------------------------------------------------------- the check */

typedef struct family_check {
    const char *name;
    case_fn fn;
    const void *cases;
    size_t ncases, spec_size;
    int path; /* 1: run once per path context (direct, and GEMM) */
} family_check;

#define CASES(table) table, sizeof table / sizeof table[0], sizeof table[0]

static const family_check families[] = {
    {"conv", conv_case, CASES(conv_cases), 1},
    {"dense", dense_case, CASES(dense_cases), 1},
    {"pool", pool_case, CASES(pool_cases), 0},
    {"lrn", lrn_case, CASES(lrn_cases), 0},
    {"activation", act_case, CASES(act_cases), 0},
    {"loss", xent_case, CASES(xent_cases), 0},
    {"adam", adam_case, CASES(adam_cases), 0},
    {"gather", gather_case, CASES(gather_cases), 0},
    {"dropout", dropout_case, CASES(dropout_cases), 0},
    {"sgd", sgd_case, CASES(sgd_cases), 0},
    {"training step", step_case, CASES(step_cases), 0},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void row_fail(clcnn_check_row *row, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void row_fail(clcnn_check_row *row, const char *fmt, ...)
{
    if (!row->passed)
        return; /* the first failure is the one reported */
    row->passed = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->message, sizeof row->message, fmt, ap);
    va_end(ap);
}

static clcnn_check_row *new_row(clcnn_check_report *r, const char *name, const char *path)
{
    clcnn_check_row *row = &r->rows[r->count++];
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%s%s%s", name, path ? " " : "", path ? path : "");
    row->passed = 1;
    return row;
}

/* The worst of max|a-b| / max|b| over each output; NaN when a value is not
 * finite or the outputs differ in number or size. */
static double worst_error(const outputs *a, const outputs *b)
{
    if (a->count != b->count)
        return NAN;
    double worst = 0.0;
    for (int i = 0; i < a->count; i++) {
        if (a->n[i] != b->n[i])
            return NAN;
        double e = clcnn_scaled_error(a->v[i], b->v[i], a->n[i]);
        if (isnan(e))
            return NAN;
        worst = fmax(worst, e);
    }
    return worst;
}

static void check_family(clcnn_ctx *dev, clcnn_ctx *ref, const family_check *f, clcnn_check_row *row)
{
    const char *bytes = f->cases;
    for (size_t i = 0; i < f->ncases; i++) {
        const void *spec = bytes + i * f->spec_size;
        outputs got = {0}, want = {0};
        double t0 = now();
        int st = f->fn(dev, spec, &got);
        row->seconds += now() - t0;
        row->cases++;
        if (st) {
            row_fail(row, "case %zu: %s", i + 1, clcnn_errmsg(dev));
        } else if ((st = f->fn(ref, spec, &want))) {
            row_fail(row, "case %zu: the CPU reference failed: %s", i + 1, clcnn_errmsg(ref));
        } else {
            double e = worst_error(&got, &want);
            if (isnan(e))
                row_fail(row, "case %zu: a value is not finite, or the outputs differ in size", i + 1);
            else if (e > CLCNN_CHECK_TOLERANCE)
                row_fail(row, "case %zu: error %.3g of the output's magnitude (tolerance %g)", i + 1, e,
                         CLCNN_CHECK_TOLERANCE);
            if (!isnan(e))
                row->worst_error = fmax(row->worst_error, e);
        }
        outputs_free(&got);
        outputs_free(&want);
    }
}

/* A context on the device of options with the convolution and dense path
 * forced to path (CLCNN_PATH_DEFAULT: as options say). */
static int open_device(const clcnn_ctx_options *options, clcnn_path path, clcnn_ctx **ctx)
{
    clcnn_ctx_options o = *options;
    if (path != CLCNN_PATH_DEFAULT)
        o.conv_path = o.dense_path = path;
    return clcnn_ctx_create_with_options(ctx, &o);
}

int clcnn_device_check(const clcnn_ctx_options *options, clcnn_check_report *report)
{
    if (!report)
        return CLCNN_ERR_ARGUMENT;
    memset(report, 0, sizeof *report);
    report->passed = 1;
    clcnn_ctx_options none = {0};
    if (!options)
        options = &none;

    clcnn_ctx *ref = NULL, *dev = NULL;
    clcnn_check_row *row = new_row(report, "build", NULL);
    double t0 = now();
    int st = open_device(options, CLCNN_PATH_DIRECT, &dev);
    row->seconds = now() - t0;
    row->cases = 1;
    if (st) {
        row_fail(row, "%s", dev ? clcnn_errmsg(dev) : clcnn_status_str(st));
    } else {
        snprintf(report->backend, sizeof report->backend, "%s", clcnn_ctx_backend(dev));
        snprintf(report->device, sizeof report->device, "%s", clcnn_ctx_device_name(dev));
    }
    if (st == CLCNN_OK) {
        clcnn_ctx_options cpu = {.device = "cpu", .threads = 1, .ignore_environment = 1};
        if ((st = clcnn_ctx_create_with_options(&ref, &cpu)))
            row_fail(row, "the CPU reference context: %s", ref ? clcnn_errmsg(ref) : clcnn_status_str(st));
    }
    if (st == CLCNN_OK) {
        int opencl = strcmp(report->backend, "opencl") == 0;
        for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
            const family_check *f = &families[i];
            check_family(dev, ref, f, new_row(report, f->name, f->path && opencl ? "(direct)" : NULL));
            if (!f->path || !opencl)
                continue;
            clcnn_check_row *gemm = new_row(report, f->name, "(gemm)");
#ifdef CLCNN_HAVE_CLBLAST
            clcnn_ctx *g = NULL;
            if ((st = open_device(options, CLCNN_PATH_GEMM, &g)) == CLCNN_OK)
                check_family(g, ref, f, gemm);
            else
                row_fail(gemm, "%s", g ? clcnn_errmsg(g) : clcnn_status_str(st));
            clcnn_ctx_free(g);
            st = CLCNN_OK;
#else
            gemm->skipped = 1;
            snprintf(gemm->message, sizeof gemm->message, "not in this build (no CLBlast)");
#endif
        }
    }
    for (size_t i = 0; i < report->count; i++)
        report->passed &= report->rows[i].passed | report->rows[i].skipped;
    clcnn_ctx_free(dev);
    clcnn_ctx_free(ref);
    return CLCNN_OK;
}
