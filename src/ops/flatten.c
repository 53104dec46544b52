/* The flatten family: (h, w, c) -> (1, 1, h*w*c), which NHWC already is in
 * memory, so the layer's output is its input buffer. */
#include <stdio.h>

#include "ops/family.h"

static int flatten_infer(clcnn_ctx *ctx, layer *l, const char *who)
{
    (void)ctx, (void)who;
    l->out_shape[0] = 1, l->out_shape[1] = 1;
    l->out_shape[2] = clcnn_shape_size(l->in_shape);
    l->out_aliases = 1;
    return CLCNN_OK;
}

static int flatten_forward(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act)
{
    (void)ctx, (void)n, (void)act;
    l->out = (clcnn_buf *)x;
    return CLCNN_OK;
}

static void flatten_describe(const layer_config *c, char *buf, size_t len)
{
    (void)c;
    snprintf(buf, len, "flatten");
}

static const char *flatten_type(const layer_config *c)
{
    (void)c;
    return "Flatten";
}

const layer_family clcnn_flatten_family = {
    .name = "flatten",
    .infer = flatten_infer,
    .forward = flatten_forward,
    .describe = flatten_describe,
    .type = flatten_type,
};

int clcnn_model_add_flatten(clcnn_model *m)
{
    layer_config c = {.kind = CLCNN_LAYER_FLATTEN};
    return clcnn_model_append(m, &c);
}
