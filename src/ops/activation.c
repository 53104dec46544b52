/*
 * The activation family: the names and checks every family that applies
 * an activation uses, the derivative the engine applies for them, and the
 * activation layer.  A conv or dense layer's activation is fused into that
 * layer's forward operation; an activation layer applies its own to its
 * input.  Either way the derivative is computed here, from the output.
 */
#include <stdio.h>
#include <string.h>

#include "ops/family.h"

const char *const clcnn_activation_names[] = {"identity", "relu", "sigmoid", "tanh", "softmax"};
#define NAMES (sizeof clcnn_activation_names / sizeof clcnn_activation_names[0])

int clcnn_activation_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "linear") == 0)
        return CLCNN_ACT_IDENTITY;
    for (size_t i = 0; i < NAMES; i++)
        if (strcmp(name, clcnn_activation_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *clcnn_activation_name(clcnn_activation act)
{
    return (unsigned)act < NAMES ? clcnn_activation_names[act] : "?";
}

int clcnn_check_activation(clcnn_ctx *ctx, const char *who, clcnn_activation act)
{
    if ((unsigned)act >= NAMES)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: unknown activation %d", who, (int)act);
    return CLCNN_OK;
}

clcnn_activation clcnn_layer_activation(const layer *l)
{
    return l->family->flags & FAMILY_APPLIES_ACTIVATION ? l->cfg.act : CLCNN_ACT_IDENTITY;
}

int clcnn_activation_fuses(const layer *prev, const layer *l)
{
    return l->family == &clcnn_activation_family && !prev->fused &&
           (prev->family->flags & FAMILY_APPLIES_ACTIVATION) && prev->cfg.act == CLCNN_ACT_IDENTITY;
}

/* Softmax runs along the channel axis: rows of out_shape[2] values. */
static void rows_cols(const layer *l, size_t n, size_t *rows, size_t *cols)
{
    *cols = l->out_shape[2];
    *rows = n * clcnn_shape_size(l->out_shape) / *cols;
}

int clcnn_activation_backward_layer(clcnn_ctx *ctx, const layer *l, clcnn_buf *grad, size_t n)
{
    clcnn_activation act = clcnn_layer_activation(l);
    if (act == CLCNN_ACT_IDENTITY)
        return CLCNN_OK;
    size_t rows, cols;
    rows_cols(l, n, &rows, &cols);
    return ctx->ops->activation_backward(ctx->bctx, act, rows, cols, l->out, grad, grad);
}

/* ------------------------------------------------------------- the layer */

static int activation_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    int st = clcnn_check_activation(ctx, who, l->cfg.act);
    if (st)
        return st;
    memcpy(l->out_shape, l->in_shape, sizeof l->out_shape);
    return CLCNN_OK;
}

static int activation_layer_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    size_t rows, cols;
    rows_cols(l, n, &rows, &cols);
    return ctx->ops->activation_forward(ctx->bctx, act, rows, cols, x, l->out);
}

static void activation_describe(const layer_config *c, char *buf, size_t len)
{
    snprintf(buf, len, "activation %s", clcnn_activation_name(c->act));
}

static const layer_field activation_fields[] = {LAYER_FIELD_ACTIVATION};

/* No backward: the engine applies the derivative from the layer's output,
 * as for any layer's activation, and the gradient then passes through. */
static const char *activation_type(const layer_config *c)
{
    (void)c;
    return "Activation";
}

const layer_family clcnn_activation_family = {
    .name = "activation",
    LAYER_FIELDS(activation_fields),
    .flags = FAMILY_APPLIES_ACTIVATION,
    .infer = activation_infer,
    .forward = activation_layer_forward,
    .describe = activation_describe,
    .type = activation_type,
};

int clcnn_model_add_activation(clcnn_model *m, clcnn_activation activation)
{
    layer_config c = {.kind = CLCNN_LAYER_ACTIVATION, .act = activation};
    return clcnn_model_append(m, &c);
}
