/*
 * Layer families.  Each family (convolution, pooling, dense, flatten,
 * activation) lives in one file of src/ops/ that owns all of it: argument
 * checks and geometry, its public operations and clcnn_model_add_* call,
 * and the descriptor below, through which the engine (src/model/) builds,
 * runs, describes and saves layers without knowing any kind.
 *
 * Adding a family: a file here with its descriptor, one row in
 * clcnn_layer_family's table (family.c), its kind in clcnn.h, its backend
 * entries (src/cpu/, src/opencl/), and its rows in tests/test_backend_ops.c.
 */
#ifndef CLCNN_OPS_FAMILY_H
#define CLCNN_OPS_FAMILY_H

#include "model/model.h"

/* The family applies the layer's activation (cfg.act) to its output, fused
 * into its forward operation; the engine then applies the activation's
 * derivative (clcnn_activation_backward_layer) before the family's backward. */
#define FAMILY_APPLIES_ACTIVATION 1u

struct layer_family {
    const char *name; /* "conv": layer messages say "layer 3 (conv)" */
    unsigned flags;   /* FAMILY_* */
    /* Checks the configuration against l->in_shape, then sets out_shape,
     * the geometry and the parameters (count and fan-in of each); who
     * names the layer in messages.  Every size is checked for overflow. */
    int (*infer)(clcnn_ctx *ctx, layer *l, const char *who);
    /* l->out = f(x) for n examples; act is the activation to fuse (the
     * layer's own, or identity when the engine wants logits). */
    int (*forward)(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, size_t n, clcnn_activation act);
    /* (optional: NULL passes the gradient through unchanged) From dz, the
     * gradient at the pre-activation output, the parameter gradients and,
     * when dx is not NULL, the gradient at the input.  l->out still holds
     * this batch's forward output. */
    int (*backward)(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx, size_t n);
    /* What the layer is, e.g. "conv 6 5x5 stride 1x1 same relu". */
    void (*describe)(const layer_config *c, char *buf, size_t len);
    /* Keras's name for such a layer ("Conv2D", "MaxPooling2D"). */
    const char *(*type)(const layer_config *c);
};

/* The family of a layer kind, or NULL for an unknown kind. */
const layer_family *clcnn_layer_family(clcnn_layer_kind kind);

/* The family descriptors (one per file of src/ops/). */
extern const layer_family clcnn_conv_family, clcnn_pool_family, clcnn_flatten_family, clcnn_dense_family,
    clcnn_activation_family;

/* ---- activation (activation.c): shared by every family that applies one */

/* "relu", ...; "?" for a value that is not an activation. */
const char *clcnn_activation_name(clcnn_activation act);
/* CLCNN_OK, or an error naming who for an unknown activation. */
int clcnn_check_activation(clcnn_ctx *ctx, const char *who, clcnn_activation act);
/* The activation a layer applies to its output (identity for a family
 * that applies none). */
clcnn_activation clcnn_layer_activation(const layer *l);
/* Whether the engine runs activation layer l by having prev, the layer
 * before it, apply l's activation (prev applies activations and has none
 * of its own): l's output is then prev's, with no pass of its own. */
int clcnn_activation_fuses(const layer *prev, const layer *l);
/* grad (n examples of l's output) *= the derivative of l's activation,
 * computed from l->out; in place. */
int clcnn_activation_backward_layer(clcnn_ctx *ctx, const layer *l, clcnn_buf *grad, size_t n);

#endif
