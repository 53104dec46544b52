/* Models: a layer list, each layer run through its family (src/ops/family.h). */
#ifndef CLCNN_MODEL_H
#define CLCNN_MODEL_H

#include <stdint.h>

#include "class_names.h"
#include "internal.h"

typedef struct layer layer;
typedef struct layer_family layer_family; /* src/ops/family.h */

/* The configuration of a layer: what the model file stores. */
typedef struct layer_config {
    clcnn_layer_kind kind;
    size_t units;         /* conv filters, dense units */
    int kh, kw, sh, sw;   /* conv/pool kernel and strides */
    clcnn_padding padding;
    clcnn_activation act; /* conv, dense, activation */
    struct {
        int pad_top, pad_bottom, pad_left, pad_right; /* CLCNN_PAD_EXPLICIT only */
        int dh, dw, groups;
    } conv; /* conv: the settings of clcnn_conv_params */
    struct {
        int pad_top, pad_bottom, pad_left, pad_right, ceil_mode, count_include_pad;
    } pool; /* pool: the settings of clcnn_pool_params */
    clcnn_pool_mode mode; /* pool */
    struct {
        int size;
        float alpha, beta, k;
    } lrn; /* lrn */
    struct {
        float rate;
    } dropout; /* dropout */
} layer_config;

/* One trainable tensor with its gradient and its optimizer's state: views
 * at offset of the model's parameter buffers (params.c). */
typedef struct param {
    size_t count;
    size_t fan_in; /* for He initialisation; 0 for biases */
    size_t offset; /* in floats, the same in every buffer of the arena */
    clcnn_buf *value, *grad;
    clcnn_buf *state[2]; /* the optimizer's first `slots` buffers (OPTIMIZER_MAX_SLOTS) */
} param;

/* Every parameter's value, gradient and optimizer state, each kind in one
 * buffer (buf[PARAM_VALUE] ..), so that an optimizer updates them all in
 * one launch: weights (fan_in > 0) first, then biases from weight_floats
 * on; each view starts at a multiple of the backend's view_align and the
 * gaps between views stay 0 in every buffer (no kernel writes them, so
 * their gradient is 0 and an update leaves them 0). */
enum { PARAM_VALUE, PARAM_GRAD, PARAM_STATE0, PARAM_KINDS = PARAM_STATE0 + 2 };
typedef struct param_arena {
    clcnn_buf *buf[PARAM_KINDS];
    size_t floats, weight_floats;
} param_arena;


struct layer {
    layer_config cfg;
    const layer_family *family;
    size_t index;
    size_t in_shape[3], out_shape[3]; /* per example (h, w, c) */
    size_t nparams;                   /* 0 or 2: weights, bias */
    param params[2];
    union {
        conv_geom conv; /* with n filled per call */
        pool_geom pool;
    } geom;
    clcnn_buf *out;   /* n x out_size activations (owned unless aliases) */
    int out_aliases;  /* out is another layer's buffer (flatten, fused) */
    int fused;        /* an activation the previous layer applies for it */
    /* Set by the engine before each backward (FAMILY_FUSES_DX_ACT): the
     * derivative to apply to dx (backend.h's x_act). */
    clcnn_activation dx_act;
    /* Set by the engine before each forward pass, for families that draw
     * random numbers (dropout): whether it is a training step, the seed of
     * this layer at this step, and the index of the batch's first example
     * within the whole batch (a data-parallel share starts past 0). */
    int training;
    uint64_t noise_seed;
    size_t noise_first;
};

struct clcnn_model {
    clcnn_ctx *ctx;
    size_t in_shape[3];
    layer *layers;
    size_t nlayers, cap_layers;
    param_arena arena; /* the parameters of layers[0..nlayers) (params.c) */

    const struct optimizer_family *optimizer; /* src/ops/training.h */
    float lr, beta1, beta2, eps;              /* Adam's settings; lr is any optimizer's */
    uint64_t step;
    float momentum, weight_decay;             /* SGD's settings (src/ops/sgd.c) */
    int nesterov;
    uint64_t noise_seed;                      /* clcnn_model_init's seed, for dropout */
    size_t batch_first;                       /* the share's first example (train.c) */
    struct {
        clcnn_lr_schedule s;
        double best; /* PLATEAU: the lowest validation loss so far */
        uint32_t bad; /* PLATEAU: epochs since it was last lowered */
    } schedule; /* src/ops/schedule.c */

    class_names names; /* none, or one per class (clcnn_model_set_class_names) */

    /* Buffers sized for `capacity` examples, grown on demand. */
    size_t capacity;
    clcnn_buf *input;        /* capacity x input size, float */
    clcnn_buf *labels;       /* capacity int32 */
    clcnn_buf *grad[2];      /* ping-pong gradients, capacity x largest layer */
    clcnn_buf *stats;        /* float[2]: loss sum, correct count */

    /* Augmentation of training batches (clcnn_model_set_augment; gather.c). */
    clcnn_augment augment;

    /* Data-parallel training (clcnn_model_set_reducer; train.c). */
    clcnn_reducer reducer;
    int reduced; /* a reducer is set */
};

size_t clcnn_shape_size(const size_t *shape);

/* Appends a layer from its configuration (what the add_* functions and the
 * model loader share). */
int clcnn_model_append(clcnn_model *m, const layer_config *cfg);

/* "layer 3 (conv)": how messages name a layer. */
void clcnn_layer_name(const layer *l, char *buf, size_t len);

/* Lays out the parameters of layers[0..count) anew in a fresh arena
 * (params.c), keeping the values and states of those that had views; on
 * failure the old arena stays.  clcnn_params_free releases the arena. */
int clcnn_params_layout(clcnn_model *m, size_t count);
void clcnn_params_free(clcnn_model *m);

/* Makes every per-example buffer hold at least n examples. */
int clcnn_model_reserve(clcnn_model *m, size_t n);

/* Deterministic random numbers (xoshiro256**), the same on every platform. */
typedef struct clcnn_rng {
    uint64_t s[4];
} clcnn_rng;

void clcnn_rng_seed(clcnn_rng *r, uint64_t seed);
uint64_t clcnn_rng_next(clcnn_rng *r);
/* Uniform in [0, bound). */
uint64_t clcnn_rng_below(clcnn_rng *r, uint64_t bound);
/* Standard normal (Box-Muller, in double). */
double clcnn_rng_normal(clcnn_rng *r);
/* The dropout key of a seed (clcnn_dropout_forward's; backend.h's
 * dropout_geom takes its two halves). */
uint64_t clcnn_noise_key(uint64_t seed);

#endif
