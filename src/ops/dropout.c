/* The dropout family: inverted dropout (kept elements scaled by
 * 1/(1 - rate) in training, the identity in evaluation), each mask a pure
 * function of a seed and the element's index, so that both backends, and a
 * run resumed from a checkpoint, draw the same one (include/clcnn.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/args.h"
#include "ops/family.h"

#define MAX_RATE ((double)0.999f) /* 0.999 as the float a caller passes */

static const layer_field dropout_fields[] = {
    LAYER_FIELD("rate", LAYER_FIELD_F32, dropout.rate, dropout.rate, 0.0, MAX_RATE),
};

/* The draw over count elements from element first, for rate and seed;
 * training 0 gives the identity (nothing dropped, scale 1). */
static dropout_geom geometry(size_t count, size_t first, float rate, uint64_t seed, int training)
{
    const uint64_t key = clcnn_noise_key(seed);
    dropout_geom g = {.count = count,
                      .first = first,
                      .key_lo = (uint32_t)key,
                      .key_hi = (uint32_t)(key >> 32),
                      .threshold = 0,
                      .scale = 1.0f};
    if (training) {
        g.threshold = (uint32_t)floor((double)rate * 16777216.0 + 0.5);
        g.scale = (float)(1.0 / (1.0 - (double)rate));
    }
    return g;
}

static int check_rate(clcnn_ctx *ctx, const char *who, float rate)
{
    return clcnn_layer_field_check(ctx, CLCNN_ERR_ARGUMENT, who, &dropout_fields[0], rate);
}

/* Draws past 2^32 elements would repeat indices on a 32-bit device. */
static int check_count(clcnn_ctx *ctx, const char *who, size_t count)
{
    if (count > UINT32_MAX)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %zu elements; dropout draws at most 2^32 - 1", who, count);
    return CLCNN_OK;
}

/* ------------------------------------------------------ public operations */

int clcnn_dropout_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, float rate, uint64_t seed, clcnn_tensor **A,
                          clcnn_tensor **mask)
{
    static const char who[] = "dropout_forward";
    int st, created[2] = {0, 0};
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "A_prev", A_prev, 0)) ||
        (st = check_rate(ctx, who, rate)) || (st = check_count(ctx, who, A_prev->count)))
        return st;
    if (!A)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: NULL output", who);
    if ((st = clcnn_tensor_prepare(ctx, A, A_prev->rank, A_prev->shape, who, &created[0])) ||
        (mask && (st = clcnn_tensor_prepare(ctx, mask, A_prev->rank, A_prev->shape, who, &created[1])))) {
        clcnn_discard_on_failure(st, created[0], A);
        return st;
    }
    const dropout_geom g = geometry(A_prev->count, 0, rate, seed, 1);
    st = ctx->ops->dropout_forward(ctx->bctx, &g, A_prev->buf, (*A)->buf, mask ? (*mask)->buf : NULL);
    clcnn_discard_on_failure(st, created[0], A);
    return mask ? clcnn_discard_on_failure(st, created[1], mask) : st;
}

int clcnn_dropout_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, float rate, uint64_t seed, clcnn_tensor **dA_prev)
{
    static const char who[] = "dropout_backward";
    int st, created = 0;
    if ((st = clcnn_check_ctx(ctx, who)) || (st = clcnn_check_tensor(ctx, who, "dA", dA, 0)) ||
        (st = check_rate(ctx, who, rate)) || (st = check_count(ctx, who, dA->count)) ||
        (st = clcnn_tensor_prepare(ctx, dA_prev, dA->rank, dA->shape, who, &created)))
        return st;
    const dropout_geom g = geometry(dA->count, 0, rate, seed, 1);
    st = ctx->ops->dropout_backward(ctx->bctx, &g, dA->buf, (*dA_prev)->buf);
    return clcnn_discard_on_failure(st, created, dA_prev);
}

/* ------------------------------------------------------------- the layer */

static int dropout_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    int st = clcnn_layer_check_fields(ctx, who, &clcnn_dropout_family, &l->cfg);
    if (st == CLCNN_OK)
        memcpy(l->out_shape, l->in_shape, sizeof l->out_shape);
    return st;
}

/* The layer's draw for n examples of this step (set by the engine). */
static dropout_geom layer_geometry(const layer *l, size_t n)
{
    const size_t row = clcnn_shape_size(l->in_shape);
    return geometry(n * row, l->noise_first * row, l->cfg.dropout.rate, l->noise_seed, l->training);
}

static int dropout_layer_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    (void)act;
    const dropout_geom g = layer_geometry(l, n);
    int st = check_count(ctx, "dropout", g.first + g.count);
    return st ? st : ctx->ops->dropout_forward(ctx->bctx, &g, x, l->out, NULL);
}

static int dropout_layer_backward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx,
                                  size_t n)
{
    (void)x;
    if (!dx)
        return CLCNN_OK; /* a first layer has no input gradient to give */
    const dropout_geom g = layer_geometry(l, n);
    return ctx->ops->dropout_backward(ctx->bctx, &g, dz, dx);
}

static void dropout_describe(const layer_config *c, char *buf, size_t len)
{
    clcnn_layer_describe_fields(&clcnn_dropout_family, c, buf, len);
}

static const char *dropout_type(const layer_config *c)
{
    (void)c;
    return "Dropout";
}

const layer_family clcnn_dropout_family = {
    .name = "dropout",
    .flags = FAMILY_DRAWS_NOISE,
    LAYER_FIELDS(dropout_fields),
    .infer = dropout_infer,
    .forward = dropout_layer_forward,
    .backward = dropout_layer_backward,
    .describe = dropout_describe,
    .type = dropout_type,
};

int clcnn_model_add_dropout(clcnn_model *m, float rate)
{
    const layer_config c = {.kind = CLCNN_LAYER_DROPOUT, .dropout = {rate}};
    return clcnn_model_append(m, &c);
}
