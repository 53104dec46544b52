/*
 * clcnn bench, inside the child process of one device: per-layer times,
 * training throughput, inference latency and throughput of a network
 * (--model: LeNet-5 by default), all through the public API.  The layers
 * timed are the model's own (clcnn_model_from_spec), read back with
 * clcnn_model_layer_config and run with the model's weights through the
 * public operations.
 *
 * Every figure is a median over --repeats samples taken after warm-up, and
 * every clock stops only after clcnn_ctx_finish() (or a call that reads
 * results back to the host, which waits for the device anyway).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "common.h"

#define MIN_SAMPLE_SECONDS 0.02 /* per-layer samples repeat an op for at least this long */
#define HOST_NOMEM 1 /* not a clcnn status: the bench's own malloc failed */
#define DROPOUT_SEED 7 /* any: a dropout layer's timing does not depend on its mask */

const size_t bench_train_batch[BENCH_TRAIN_BATCHES] = {32, 256};
const size_t bench_scaling_batch[BENCH_SCALING_BATCHES] = {1, 8, 32, 128, 512, 2048};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bench_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(p * (double)n) - 1;
    return v[i < n ? i : n - 1];
}

/* Deterministic pseudo-random floats in [lo, hi) (xorshift; no shared state). */
static void fill_random(float *v, size_t n, uint64_t *state, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = *state;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        *state = x;
        v[i] = lo + (hi - lo) * (float)((x >> 40) * (1.0 / 16777216.0));
    }
}

/* A failure: the context's message (or what, for the bench's own). */
static int fail(bench_result *r, clcnn_ctx *ctx, const char *what)
{
    r->status = BENCH_FAILED;
    snprintf(r->error, sizeof r->error, "%s", what ? what : clcnn_errmsg(ctx));
    return -1;
}

/* ------------------------------------------------------- per-layer timing */

/* One layer of the model with its weights, an input batch and an output
 * gradient, through the public operations. */
typedef struct layer_op {
    clcnn_ctx *ctx;
    clcnn_layer_config cfg;
    clcnn_activation act; /* identity for the last layer: training stops at the logits */
    int want_dx;
    clcnn_tensor *x, *w, *b, *y, *dy, *dx, *dw, *db;
} layer_op;

/* A layer's convolution and pooling settings as the operations take them. */
static clcnn_conv_params conv_params(const clcnn_layer_config *c)
{
    return (clcnn_conv_params){c->padding,          c->conv.pad_top,    c->conv.pad_bottom, c->conv.pad_left,
                               c->conv.pad_right,   c->stride_h,        c->stride_w,        c->conv.dilation_h,
                               c->conv.dilation_w,  c->conv.groups};
}

static clcnn_pool_params pool_params(const clcnn_layer_config *c)
{
    return (clcnn_pool_params){c->pool.pad_top,   c->pool.pad_bottom, c->pool.pad_left,
                               c->pool.pad_right, c->pool.ceil_mode,  c->pool.count_include_pad};
}

static int layer_forward(layer_op *o)
{
    const clcnn_layer_config *c = &o->cfg;
    clcnn_conv_params cp = conv_params(c);
    clcnn_pool_params pp = pool_params(c);
    switch (c->kind) {
    case CLCNN_LAYER_CONV: return clcnn_conv2d_forward(o->ctx, o->x, o->w, o->b, o->act, &cp, &o->y);
    case CLCNN_LAYER_POOL:
        return clcnn_pool2d_forward(o->ctx, o->x, c->kernel_h, c->kernel_w, c->stride_h, c->stride_w, c->mode, &pp,
                                    &o->y);
    case CLCNN_LAYER_LRN:
        return clcnn_lrn_forward(o->ctx, o->x, c->lrn.size, c->lrn.alpha, c->lrn.beta, c->lrn.k, &o->y);
    case CLCNN_LAYER_DROPOUT: return clcnn_dropout_forward(o->ctx, o->x, c->dropout.rate, DROPOUT_SEED, &o->y, NULL);
    default: return clcnn_dense_forward(o->ctx, o->x, o->w, o->b, o->act, &o->y);
    }
}

static int layer_backward(layer_op *o)
{
    const clcnn_layer_config *c = &o->cfg;
    clcnn_tensor **dx = o->want_dx ? &o->dx : NULL;
    clcnn_conv_params cp = conv_params(c);
    clcnn_pool_params pp = pool_params(c);
    switch (c->kind) {
    case CLCNN_LAYER_CONV: return clcnn_conv2d_backward(o->ctx, o->dy, o->x, o->w, o->b, &cp, dx, &o->dw, &o->db);
    case CLCNN_LAYER_POOL:
        return clcnn_pool2d_backward(o->ctx, o->dy, o->x, c->kernel_h, c->kernel_w, c->stride_h, c->stride_w, c->mode,
                                     &pp, &o->dx);
    case CLCNN_LAYER_LRN:
        return clcnn_lrn_backward(o->ctx, o->dy, o->x, c->lrn.size, c->lrn.alpha, c->lrn.beta, c->lrn.k, &o->dx);
    case CLCNN_LAYER_DROPOUT: return clcnn_dropout_backward(o->ctx, o->dy, c->dropout.rate, DROPOUT_SEED, &o->dx);
    default: return clcnn_dense_backward(o->ctx, o->dy, o->x, o->w, o->b, dx, &o->dw, &o->db);
    }
}

static void layer_op_free(layer_op *o)
{
    clcnn_tensor *t[] = {o->x, o->w, o->b, o->y, o->dy, o->dx, o->dw, o->db};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        clcnn_tensor_free(t[i]);
}

/* A tensor of shape filled from host (the model's parameter `which` of
 * layer, when m is not NULL; else random in [lo, hi)). */
static int host_tensor(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape, clcnn_model *m,
                       size_t layer, int which, uint64_t *rng, float lo, float hi)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= shape[i];
    float *v = malloc(n * sizeof *v);
    if (!v)
        return HOST_NOMEM;
    int st = CLCNN_OK;
    if (m)
        st = clcnn_model_read_param(m, layer, which, v, n);
    else
        fill_random(v, n, rng, lo, hi);
    if (st == CLCNN_OK)
        st = clcnn_tensor_create(ctx, out, rank, shape);
    if (st == CLCNN_OK)
        st = clcnn_tensor_write(*out, v, n);
    free(v);
    return st;
}

/* The inputs of layer i of m at batch BENCH_LAYER_BATCH; the output
 * gradient follows the shape of the first forward output. */
static int layer_op_setup(layer_op *o, clcnn_model *m, size_t i, uint64_t *rng)
{
    const clcnn_layer_config *c = &o->cfg;
    const size_t *in = c->in_shape;
    size_t xs[4] = {BENCH_LAYER_BATCH, in[0], in[1], in[2]};
    int st = host_tensor(o->ctx, &o->x, 4, xs, NULL, 0, 0, rng, 0.0f, 1.0f);
    if (st == CLCNN_OK && (c->kind == CLCNN_LAYER_CONV || c->kind == CLCNN_LAYER_DENSE)) {
        size_t bs[1] = {c->units};
        size_t ws[4] = {(size_t)c->kernel_h, (size_t)c->kernel_w, in[2] / (size_t)(c->conv.groups > 0 ? c->conv.groups : 1), c->units};
        if (c->kind == CLCNN_LAYER_DENSE)
            ws[0] = in[0] * in[1] * in[2], ws[1] = c->units;
        st = host_tensor(o->ctx, &o->w, c->kind == CLCNN_LAYER_DENSE ? 2 : 4, ws, m, i, 0, rng, 0, 0);
        if (st == CLCNN_OK)
            st = host_tensor(o->ctx, &o->b, 1, bs, m, i, 1, rng, 0, 0);
    }
    if (st == CLCNN_OK)
        st = layer_forward(o);
    if (st == CLCNN_OK) {
        size_t ys[CLCNN_MAX_RANK];
        clcnn_tensor_shape(o->y, ys);
        st = host_tensor(o->ctx, &o->dy, clcnn_tensor_rank(o->y), ys, NULL, 0, 0, rng, -0.01f, 0.01f);
    }
    return st;
}

/* Median milliseconds per call of fn: two warm-up calls, then `repeats`
 * samples, each running fn often enough to last MIN_SAMPLE_SECONDS. */
static int time_op(layer_op *o, int (*fn)(layer_op *), size_t repeats, double *samples, double *ms)
{
    int st;
    for (int i = 0; i < 2; i++)
        if ((st = fn(o)))
            return st;
    if ((st = clcnn_ctx_finish(o->ctx)))
        return st;
    double t0 = cli_now();
    if ((st = fn(o)) || (st = clcnn_ctx_finish(o->ctx)))
        return st;
    double once = cli_now() - t0;
    size_t inner = once >= MIN_SAMPLE_SECONDS ? 1 : (size_t)ceil(MIN_SAMPLE_SECONDS / (once > 1e-7 ? once : 1e-7));
    if (inner > 1000)
        inner = 1000;
    for (size_t r = 0; r < repeats; r++) {
        t0 = cli_now();
        for (size_t i = 0; i < inner; i++)
            if ((st = fn(o)))
                return st;
        if ((st = clcnn_ctx_finish(o->ctx)))
            return st;
        samples[r] = (cli_now() - t0) / (double)inner;
    }
    *ms = 1e3 * bench_median(samples, repeats);
    return CLCNN_OK;
}

/* Floating-point operations of layer c's forward pass at batch
 * BENCH_LAYER_BATCH (a multiply-add counts 2, every tap of a window counted,
 * padding or not), and of its backward pass (the weight gradient, plus the
 * input gradient when dx): 0 for the layers that do not multiply-add. */
static void layer_flops(const clcnn_layer_config *c, int dx, double *fwd, double *bwd)
{
    const double n = BENCH_LAYER_BATCH;
    double macs = 0;
    if (c->kind == CLCNN_LAYER_CONV)
        macs = n * (double)(c->out_shape[0] * c->out_shape[1] * c->units) * c->kernel_h * c->kernel_w *
               (double)(c->in_shape[2] / (size_t)(c->conv.groups > 0 ? c->conv.groups : 1));
    else if (c->kind == CLCNN_LAYER_DENSE)
        macs = n * (double)(c->in_shape[0] * c->in_shape[1] * c->in_shape[2]) * (double)c->units;
    *fwd = 2 * macs;
    *bwd = 2 * macs * (dx ? 2 : 1);
}

/* Times every convolution, pooling, LRN, dropout and dense layer of m
 * forward and backward at batch BENCH_LAYER_BATCH; names them conv1, pool1,
 * ... */
static int bench_layers(clcnn_ctx *ctx, clcnn_model *m, const bench_config *cfg, double *samples, bench_result *r)
{
    static const char *const kind_name[] = {[CLCNN_LAYER_CONV] = "conv", [CLCNN_LAYER_POOL] = "pool",
                                            [CLCNN_LAYER_DENSE] = "dense", [CLCNN_LAYER_LRN] = "lrn",
                                            [CLCNN_LAYER_DROPOUT] = "drop"};
    int per_kind[CLCNN_LAYER_DROPOUT + 1] = {0};
    uint64_t rng = 0x9e3779b97f4a7c15u;
    size_t count = clcnn_model_layer_count(m);
    r->nlayers = 0;
    for (size_t i = 0; i < count; i++) {
        layer_op o = {.ctx = ctx, .want_dx = i > 0};
        clcnn_model_layer_config(m, i, &o.cfg);
        clcnn_layer_kind k = o.cfg.kind;
        if (k == CLCNN_LAYER_FLATTEN || k == CLCNN_LAYER_ACTIVATION)
            continue; /* nothing of their own to time */
        if (r->nlayers == BENCH_MAX_LAYERS)
            return fail(r, ctx, "bench: the model has more layers than the report holds");
        bench_layer *bl = &r->layers[r->nlayers++];
        o.act = i + 1 == count ? CLCNN_ACT_IDENTITY : o.cfg.activation;
        snprintf(bl->name, sizeof bl->name, "%s%d", kind_name[k], ++per_kind[k]);
        clcnn_model_layer_describe(m, i, bl->what, sizeof bl->what);
        snprintf(bl->input, sizeof bl->input, "%zux%zux%zu", o.cfg.in_shape[0], o.cfg.in_shape[1], o.cfg.in_shape[2]);
        bl->no_dx = !o.want_dx;
        layer_flops(&o.cfg, o.want_dx, &bl->fwd_flop, &bl->bwd_flop);
        bl->logits = i + 1 == count;
        int st = layer_op_setup(&o, m, i, &rng);
        if (st == CLCNN_OK)
            st = time_op(&o, layer_forward, cfg->repeats, samples, &bl->fwd_ms);
        if (st == CLCNN_OK)
            st = time_op(&o, layer_backward, cfg->repeats, samples, &bl->bwd_ms);
        layer_op_free(&o);
        if (st)
            return fail(r, ctx, st == HOST_NOMEM ? "out of memory" : NULL);
    }
    return 0;
}

/* ------------------------------------------------- training and inference */

/* Launches and host waits per step of an epoch at batch 32 (the epoch's
 * one read of its loss sums shared among its steps), read before the
 * finish that ends the measurement. */
static int count_training(clcnn_ctx *ctx, clcnn_model *m, const clcnn_dataset *ds, bench_result *r)
{
    clcnn_counters c0, c1;
    size_t n = clcnn_dataset_count(ds), steps = (n + BENCH_LAYER_BATCH - 1) / BENCH_LAYER_BATCH;
    if (clcnn_ctx_finish(ctx) || clcnn_ctx_counters(ctx, &c0) ||
        clcnn_model_train_epoch(m, ds, BENCH_LAYER_BATCH, 7, NULL, NULL, 0, NULL, NULL) ||
        clcnn_ctx_counters(ctx, &c1) || clcnn_ctx_finish(ctx))
        return fail(r, ctx, NULL);
    int counted = c1.launches > 0;
    r->launches_step = counted ? (double)(c1.launches - c0.launches) / (double)steps : -1.0;
    r->waits_step = counted ? (double)(c1.waits - c0.waits) / (double)steps : -1.0;
    return 0;
}

static int bench_training(clcnn_ctx *ctx, clcnn_model *m, const clcnn_dataset *ds, const bench_config *cfg,
                          double *samples, bench_result *r)
{
    for (int b = 0; b < BENCH_TRAIN_BATCHES; b++) {
        fprintf(stderr, "clcnn bench: %s: training at batch %zu\n", r->backend, bench_train_batch[b]);
        /* One epoch of warm-up, then `repeats` timed epochs. */
        for (size_t e = 0; e <= cfg->repeats; e++) {
            double t0 = cli_now();
            if (clcnn_model_train_epoch(m, ds, bench_train_batch[b], 1000 + e, NULL, NULL, 0, NULL, NULL) ||
                clcnn_ctx_finish(ctx))
                return fail(r, ctx, NULL);
            if (e > 0)
                samples[e - 1] = cli_now() - t0;
        }
        r->train_ips[b] = (double)clcnn_dataset_count(ds) / bench_median(samples, cfg->repeats);
    }
    return count_training(ctx, m, ds, r);
}

/* Batch-1 latency, its launches and waits, and batch-256 throughput, into
 * probs (room for BENCH_INFER_BATCH predictions). */
static int predict_figures(clcnn_ctx *ctx, clcnn_model *m, const float *images, size_t image_size, float *probs,
                           const bench_config *cfg, double *samples, bench_result *r)
{
    size_t calls = cfg->latency_calls;
    fprintf(stderr, "clcnn bench: %s: inference\n", r->backend);
    /* Latency: one image per call; predict reads the result back, so every
     * call waits for the device. */
    for (size_t i = 0; i < 20; i++)
        if (clcnn_model_predict(m, images + (i % 64) * image_size, 1, probs))
            return fail(r, ctx, NULL);
    for (size_t i = 0; i < calls; i++) {
        double t0 = cli_now();
        if (clcnn_model_predict(m, images + (i % 64) * image_size, 1, probs))
            return fail(r, ctx, NULL);
        samples[i] = cli_now() - t0;
    }
    clcnn_counters c0, c1;
    if (clcnn_ctx_counters(ctx, &c0) || clcnn_model_predict(m, images, 1, probs) || clcnn_ctx_counters(ctx, &c1))
        return fail(r, ctx, NULL);
    r->launches_predict = c1.launches > 0 ? (double)(c1.launches - c0.launches) : -1.0;
    r->waits_predict = c1.launches > 0 ? (double)(c1.waits - c0.waits) : -1.0;
    r->latency_p90_us = 1e6 * bench_percentile(samples, calls, 0.9);
    r->latency_us = 1e6 * bench_median(samples, calls);
    /* Throughput at batch BENCH_INFER_BATCH. */
    for (size_t i = 0; i < 2; i++)
        if (clcnn_model_predict(m, images, BENCH_INFER_BATCH, probs))
            return fail(r, ctx, NULL);
    for (size_t i = 0; i < cfg->repeats; i++) {
        double t0 = cli_now();
        if (clcnn_model_predict(m, images, BENCH_INFER_BATCH, probs))
            return fail(r, ctx, NULL);
        samples[i] = cli_now() - t0;
    }
    r->infer_ips = BENCH_INFER_BATCH / bench_median(samples, cfg->repeats);
    return 0;
}

static int bench_inference(clcnn_ctx *ctx, clcnn_model *m, const float *images, size_t image_size,
                           const bench_config *cfg, double *samples, bench_result *r)
{
    float *probs = malloc(BENCH_INFER_BATCH * clcnn_model_classes(m) * sizeof *probs);
    if (!probs)
        return fail(r, ctx, "out of memory");
    int rc = predict_figures(ctx, m, images, image_size, probs, cfg, samples, r);
    free(probs);
    return rc;
}

/* --scaling: at each batch size, training images/s over epochs of the
 * synthetic set (one warm-up epoch, then the median of `repeats`), and
 * inference images/s of clcnn_model_predict on that many images (each
 * sample at least as many images as the set holds). */
static int bench_scaling(clcnn_ctx *ctx, clcnn_model *m, const clcnn_dataset *ds, const float *images,
                         const bench_config *cfg, double *samples, bench_result *r)
{
    size_t count = clcnn_dataset_count(ds);
    float *probs = malloc(count * clcnn_model_classes(m) * sizeof *probs);
    if (!probs)
        return fail(r, ctx, "out of memory");
    int rc = 0;
    for (int b = 0; rc == 0 && b < BENCH_SCALING_BATCHES; b++) {
        size_t batch = bench_scaling_batch[b], calls = (count + batch - 1) / batch;
        fprintf(stderr, "clcnn bench: %s: batch %zu\n", r->backend, batch);
        for (size_t e = 0; rc == 0 && e <= cfg->repeats; e++) {
            double t0 = cli_now();
            if (clcnn_model_train_epoch(m, ds, batch, 2000 + e, NULL, NULL, 0, NULL, NULL) || clcnn_ctx_finish(ctx))
                rc = fail(r, ctx, NULL);
            else if (e > 0)
                samples[e - 1] = cli_now() - t0;
        }
        if (rc)
            break;
        r->scale_train_ips[b] = (double)count / bench_median(samples, cfg->repeats);
        for (size_t e = 0; rc == 0 && e <= cfg->repeats; e++) {
            double t0 = cli_now();
            for (size_t i = 0; rc == 0 && i < calls; i++)
                if (clcnn_model_predict(m, images, batch, probs))
                    rc = fail(r, ctx, NULL);
            if (e > 0)
                samples[e - 1] = cli_now() - t0;
        }
        if (rc == 0)
            r->scale_infer_ips[b] = (double)(calls * batch) / bench_median(samples, cfg->repeats);
    }
    free(probs);
    return rc;
}

void bench_run_backend(const char *device, const bench_config *cfg, bench_result *r)
{
    clcnn_model *model = NULL;
    clcnn_dataset *ds = NULL;
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create(&ctx, device);
    if (st != CLCNN_OK) {
        r->status = st == CLCNN_ERR_NO_DEVICE || st == CLCNN_ERR_UNSUPPORTED ? BENCH_UNAVAILABLE : BENCH_FAILED;
        snprintf(r->error, sizeof r->error, "%s", ctx ? clcnn_errmsg(ctx) : "out of memory");
        clcnn_ctx_free(ctx);
        return;
    }
    snprintf(r->backend, sizeof r->backend, "%s", clcnn_ctx_backend(ctx));
    snprintf(r->device, sizeof r->device, "%s", clcnn_ctx_device_name(ctx));

    size_t count = cfg->images; /* at least BENCH_INFER_BATCH */
    size_t nsamples = cfg->latency_calls > cfg->repeats ? cfg->latency_calls : cfg->repeats;
    size_t shape[3];
    if (clcnn_model_from_spec(ctx, &model, cfg->model) || clcnn_model_init(model, 1)) {
        fail(r, ctx, NULL);
        clcnn_model_free(model);
        clcnn_ctx_free(ctx);
        return;
    }
    clcnn_model_input_shape(model, shape);
    const size_t image_size = shape[0] * shape[1] * shape[2], classes = clcnn_model_classes(model);
    float *images = malloc(count * image_size * sizeof *images);
    int32_t *labels = malloc(count * sizeof *labels);
    double *samples = malloc(nsamples * sizeof *samples);
    if (!images || !labels || !samples) {
        fail(r, ctx, "out of memory");
        goto done;
    }
    uint64_t rng = 42;
    fill_random(images, count * image_size, &rng, 0.0f, 1.0f);
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)(i * 7 % classes);

    if (clcnn_dataset_create(ctx, &ds, count, shape[0], shape[1], shape[2], images, labels)) {
        fail(r, ctx, NULL);
        goto done;
    }

    /* The first step pays for whatever is compiled or tuned lazily. */
    fprintf(stderr, "clcnn bench: %s: first step and layers (%s)\n", r->backend, r->device);
    double t0 = cli_now();
    if (clcnn_model_train_step(model, images, labels, BENCH_LAYER_BATCH, NULL, NULL) || clcnn_ctx_finish(ctx)) {
        fail(r, ctx, NULL);
        goto done;
    }
    r->first_step_ms = 1e3 * (cli_now() - t0);

    if (cfg->scaling) {
        if (bench_scaling(ctx, model, ds, images, cfg, samples, r))
            goto done;
    } else if (bench_layers(ctx, model, cfg, samples, r) || bench_training(ctx, model, ds, cfg, samples, r) ||
               bench_inference(ctx, model, images, image_size, cfg, samples, r)) {
        goto done;
    }
    r->status = BENCH_OK;
done:
    clcnn_model_free(model);
    clcnn_dataset_free(ds);
    free(images);
    free(labels);
    free(samples);
    clcnn_ctx_free(ctx);
}

double bench_time_ctx_create(const char *device, char *why, size_t why_len)
{
    clcnn_ctx *ctx = NULL;
    double t0 = cli_now();
    int st = clcnn_ctx_create_with_log(&ctx, device, NULL, NULL);
    double s = cli_now() - t0;
    if (st != CLCNN_OK) {
        snprintf(why, why_len, "%s", ctx ? clcnn_errmsg(ctx) : "out of memory");
        s = -1.0;
    }
    clcnn_ctx_free(ctx);
    return s;
}
