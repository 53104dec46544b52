/*
 * The families of training that are not layers: the loss (softmax
 * cross-entropy, loss.c), the optimizer (Adam, adam.c) and batch assembly
 * from a data set on the device (gather.c).  The training loop
 * (src/model/train.c) goes through these and knows no formula itself.
 */
#ifndef CLCNN_OPS_TRAINING_H
#define CLCNN_OPS_TRAINING_H

#include "data/dataset.h"
#include "model/model.h"

/* ---- loss: softmax cross-entropy on the last layer's logits (loss.c) */

/* CLCNN_OK when m ends in a flat softmax layer, the loss's input. */
int clcnn_loss_check_model(clcnn_model *m, const char *who);
/* CLCNN_OK when every label is a class of m. */
int clcnn_loss_check_labels(clcnn_model *m, const int32_t *labels, size_t n, const char *who);
/* Adds the loss sum and correct count of n examples (logits in the last
 * layer's output, labels in m->labels) to m->stats; with dlogits not NULL,
 * also writes there the gradient of their loss sum divided by batch (n: the
 * mean loss; a data-parallel share divides by the whole batch). */
int clcnn_loss_accumulate(clcnn_model *m, size_t n, clcnn_buf *dlogits, size_t batch);
/* Sets m->stats to the sums given (0, 0 for a fresh count). */
int clcnn_loss_reset(clcnn_model *m, double loss_sum, double correct);
/* Reads m->stats: the loss sum and number of examples classified right;
 * CLCNN_ERR_NUMERIC when the loss is not finite. */
int clcnn_loss_read_sums(clcnn_model *m, double *loss_sum, double *correct, const char *who);
/* Reads m->stats as means over n examples (either output may be NULL);
 * CLCNN_ERR_NUMERIC when the loss is not finite. */
int clcnn_loss_read(clcnn_model *m, size_t n, double *loss, double *accuracy, const char *who);

/* ---- optimizers (adam.c, sgd.c) and learning-rate schedules (schedule.c) */

/* An optimizer: its update rule and the state it keeps per parameter. */
typedef struct optimizer_family {
    const char *name;
    /* State buffers per parameter (param.state[0..slots)), zeroed by
     * clcnn_model_init and saved in checkpoints. */
    size_t slots;
    /* One update of every parameter from its gradient; counts the step. */
    int (*step)(clcnn_model *m);
} optimizer_family;

extern const optimizer_family clcnn_adam, clcnn_sgd;

/* The most state buffers an optimizer keeps (param.state's size). */
#define OPTIMIZER_MAX_SLOTS 2
/* Zeroes every state buffer of every parameter. */
int clcnn_optimizer_zero_state(clcnn_model *m);
/* CLCNN_OK when the SGD settings are valid (include/clcnn.h), else status
 * with a message naming who. */
int clcnn_optimizer_check_sgd(clcnn_ctx *ctx, int status, const char *who, float lr, float momentum,
                              float weight_decay, int nesterov);
/* CLCNN_OK when *s is a valid schedule, else status with a message. */
int clcnn_lr_schedule_check(clcnn_ctx *ctx, int status, const char *who, const clcnn_lr_schedule *s);

/* ---- batch gather (gather.c) */

/* A data set's pixels and labels on the device (copies, or views of the
 * host arrays where the backend can use host memory in place), with a
 * whole pass's order of examples, and for training with augmentation its
 * draws: uploaded once, each batch a window of them, so that assembling a
 * batch writes nothing from the host (no wait on the upload ring). */
typedef struct device_data {
    clcnn_buf *images, *labels;
    clcnn_buf *order; /* count int32: the examples in the pass's order */
    clcnn_buf *aug;   /* NULL, or count x 3 int32: position i's draws (dy, dx, flip) */
    int u8, viewed;
    size_t row, count;
} device_data;

/* Puts ds and order[0..ds->count) on the device. */
int clcnn_device_data_upload(clcnn_ctx *ctx, const clcnn_dataset *ds, const int32_t *order, device_data *d);
/* When m augments, the draws of every position of the epoch whose shuffle
 * seed is seed (clcnn_augment_draw) into d->aug; else nothing. */
int clcnn_device_data_draws(clcnn_model *m, device_data *d, uint64_t seed);
void clcnn_device_data_free(clcnn_ctx *ctx, device_data *d);
/* Puts the examples at positions first..first + n of d's order into
 * m->input and m->labels. */
int clcnn_gather_batch(clcnn_model *m, const device_data *d, size_t first, size_t n);
/* The same for training: augmented with d's draws of those positions when
 * it has them (clcnn_device_data_draws). */
int clcnn_gather_train_batch(clcnn_model *m, const device_data *d, size_t first, size_t n);
/* One example's draws (dy, dx, flip into out[0..2]), as gather_augment
 * takes them (src/core/backend.h). */
void clcnn_augment_draw(const clcnn_augment *a, uint64_t seed, uint64_t position, int32_t *out);

#endif
