/* clcnn train --logdir: what a run records for TensorBoard, and when
 * (docs/tensorboard.md lists the tags).  Called from the training
 * callback of cmd_train.c. */
#ifndef CLCNN_CLI_TB_LOG_H
#define CLCNN_CLI_TB_LOG_H

#include "clcnn.h"

typedef struct tb_log tb_log;

/* An epoch's figures, as the epoch summary and --metrics give them. */
typedef struct tb_epoch_figures {
    double loss, accuracy;
    int has_valid; /* val_loss and val_accuracy are set */
    double val_loss, val_accuracy;
    double seconds, images_per_second;
} tb_epoch_figures;

/* Opens a new event file in dir (tb_events_open); prints the error line
 * and returns non-zero on failure. */
int tb_log_open(tb_log **out, const char *dir);

/* At the start of an epoch (also a resumed one): where the next step's
 * figures are counted from. */
void tb_log_epoch_begin(tb_log *t, const clcnn_train_state *s);

/* After a step: the step's loss, accuracy (from the state's running sums),
 * learning rate and images per second, at the global step s->step. */
void tb_log_step(tb_log *t, clcnn_model *m, const clcnn_train_state *s);

/* After an epoch: its figures, the histograms of every layer's weights
 * and biases, the first convolution's filters as an image; then flushed. */
void tb_log_epoch(tb_log *t, clcnn_model *m, uint32_t epoch, const tb_epoch_figures *f);

/* Closes the file (NULL: nothing).  A write that failed during the run was
 * reported when it happened (one line) and logging stopped there; this
 * returns non-zero if that happened or closing fails. */
int tb_log_close(tb_log *t);

#endif
