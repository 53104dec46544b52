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

#include <stddef.h>

#include "model/model.h"

/* One setting of a layer, declared once by its family: what the model file
 * stores (format version 2, in the order of the family's table) and checks
 * against [lo, hi], what clcnn_model_layer_config reports, and what a
 * generic description prints. */
typedef enum layer_field_type {
    LAYER_FIELD_U32, /* member: size_t, int or an enum; stored as a u32 */
    LAYER_FIELD_F32  /* member: float; stored as a float32 */
} layer_field_type;

typedef struct layer_field {
    const char *name; /* "units", "alpha": messages say "alpha = nan" */
    layer_field_type type;
    size_t offset, size;  /* the member of layer_config */
    size_t public_offset; /* the member of clcnn_layer_config, of the same size */
    double lo, hi;        /* the valid range, both ends included */
    /* A field added to a family after files were written without it: a
     * record that ends before it loads with dflt (LAYER_FIELD_DEFAULT). */
    int has_default;
    double dflt;
    /* (optional) An enum field's value names, names[v - lo] for v in
     * [lo, hi]: what network spec files (src/model/spec.c) write. */
    const char *const *names;
} layer_field;

/* A field on member of layer_config, reported as member pub of
 * clcnn_layer_config; the char array of negative size stops the build when
 * the two members differ in size. */
#define LAYER_FIELD_INIT(name_, type_, member, pub, lo_, hi_)                                                       \
    .name = name_, .type = type_, .offset = offsetof(layer_config, member),                                        \
     .size = sizeof(((layer_config *)0)->member) +                                                                 \
             0 * sizeof(char[sizeof(((layer_config *)0)->member) == sizeof(((clcnn_layer_config *)0)->pub) ? 1 : -1]), \
     .public_offset = offsetof(clcnn_layer_config, pub), .lo = lo_, .hi = hi_
#define LAYER_FIELD(name_, type_, member, pub, lo_, hi_) {LAYER_FIELD_INIT(name_, type_, member, pub, lo_, hi_)}
/* A field with a default, after every field without one. */
/* An enum field whose values lo..hi are named names[0..hi-lo]. */
#define LAYER_FIELD_NAMED(name_, member, pub, lo_, hi_, names_)                                                     \
    {LAYER_FIELD_INIT(name_, LAYER_FIELD_U32, member, pub, lo_, hi_), .names = names_}
#define LAYER_FIELD_DEFAULT(name_, type_, member, pub, lo_, hi_, dflt_)                                             \
    {LAYER_FIELD_INIT(name_, type_, member, pub, lo_, hi_), .has_default = 1, .dflt = dflt_}
/* Limits the model file holds layers to (nothing is allocated from a size
 * beyond them), and the activation field every family that applies one
 * declares. */
#define LAYER_MAX_UNITS (1u << 24)
#define LAYER_MAX_WINDOW 4096u /* kernel, window and stride sizes */
#define LAYER_FIELD_ACTIVATION                                                                                    \
    LAYER_FIELD_NAMED("activation", act, activation, CLCNN_ACT_IDENTITY, CLCNN_ACT_SOFTMAX, clcnn_activation_names)
#define LAYER_FIELDS(table) .fields = table, .nfields = sizeof table / sizeof table[0]

/* The family applies the layer's activation (cfg.act) to its output, fused
 * into its forward operation; the engine then applies the activation's
 * derivative (clcnn_activation_backward_layer) before the family's backward. */
#define FAMILY_APPLIES_ACTIVATION 1u
/* The family draws random numbers in training (layer.noise_seed): a
 * checkpoint of a model with such a layer keeps the seed. */
#define FAMILY_DRAWS_NOISE 2u
/* The family's backward multiplies its dx by the derivative l->dx_act
 * (backend.h's x_act), which the engine sets before each backward: the
 * previous layer's element-wise activation, its own launch saved. */
#define FAMILY_FUSES_DX_ACT 4u

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
    /* (optional) forward, given next, the layer that takes l->out as its
     * input: where the backend can, it fills next->out too, exactly as
     * next's forward would have, and sets *took_next (the engine then
     * skips next's forward); else *took_next = 0 after l's forward alone. */
    int (*forward_with_next)(clcnn_ctx *ctx, layer *l, layer *next, const clcnn_buf *x, size_t n,
                             clcnn_activation act, int *took_next);
    /* (optional: NULL passes the gradient through unchanged) From dz, the
     * gradient at the pre-activation output, the parameter gradients and,
     * when dx is not NULL, the gradient at the input.  l->out still holds
     * this batch's forward output. */
    int (*backward)(clcnn_ctx *ctx, layer *l, const clcnn_buf *x, const clcnn_buf *dz, clcnn_buf *dx, size_t n);
    /* What the layer is, e.g. "conv 6 5x5 stride 1x1 same relu". */
    void (*describe)(const layer_config *c, char *buf, size_t len);
    /* Keras's name for such a layer ("Conv2D", "MaxPooling2D"). */
    const char *(*type)(const layer_config *c);
    /* Its settings (none for flatten), declared once; LAYER_FIELDS(table). */
    const layer_field *fields;
    size_t nfields;
};

/* The family of a layer kind, or NULL for an unknown kind. */
const layer_family *clcnn_layer_family(clcnn_layer_kind kind);

/* The family descriptors (one per file of src/ops/). */
extern const layer_family clcnn_conv_family, clcnn_pool_family, clcnn_flatten_family, clcnn_dense_family,
    clcnn_activation_family, clcnn_lrn_family, clcnn_dropout_family;

/* ---- fields (fields.c): the settings of a layer through its family's table */

/* The value of field f of *cfg (a u32 or a float, exactly). */
double clcnn_layer_field_get(const layer_config *cfg, const layer_field *f);
/* Sets field f of *cfg to v, which clcnn_layer_field_check accepted. */
void clcnn_layer_field_set(layer_config *cfg, const layer_field *f, double v);
/* CLCNN_OK when v lies in f's range (a whole number for a u32 field), else
 * status with "who: NAME = v is out of range [lo, hi]". */
int clcnn_layer_field_check(clcnn_ctx *ctx, int status, const char *who, const layer_field *f, double v);
/* The fields a record of the family must hold: those up to the last one
 * without a default. */
size_t clcnn_layer_fields_required(const layer_family *family);
/* The fields a record of *cfg holds: all but the trailing ones at their
 * defaults (a layer that uses none of the later settings is written as
 * before they existed). */
size_t clcnn_layer_fields_stored(const layer_family *family, const layer_config *cfg);
/* Sets every field of *cfg that has a default to it. */
void clcnn_layer_set_defaults(const layer_family *family, layer_config *cfg);
/* Checks every field of *cfg against its family's ranges (status
 * CLCNN_ERR_ARGUMENT). */
int clcnn_layer_check_fields(clcnn_ctx *ctx, const char *who, const layer_family *family, const layer_config *cfg);
/* "lrn size 5 alpha 0.0001 beta 0.75 k 2": the family's name, then each
 * field's name and value; a describe for families that need no other. */
void clcnn_layer_describe_fields(const layer_family *family, const layer_config *cfg, char *buf, size_t len);

/* ---- activation (activation.c): shared by every family that applies one */

/* "identity", "relu", ... indexed by clcnn_activation. */
extern const char *const clcnn_activation_names[];
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
