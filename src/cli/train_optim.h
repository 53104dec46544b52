/* clcnn train's optimizer options (--optimizer, --momentum, --weight-decay,
 * --nesterov, --lr-schedule): parsed here, applied to a new model. */
#ifndef CLCNN_CLI_TRAIN_OPTIM_H
#define CLCNN_CLI_TRAIN_OPTIM_H

#include <getopt.h>

#include "clcnn.h"

typedef struct train_optim {
    int sgd; /* --optimizer sgd */
    double momentum, weight_decay;
    int nesterov;
    int sgd_only_set; /* one of --momentum, --weight-decay, --nesterov was given
                       */
    int set;          /* any option of the block was given */
    clcnn_lr_schedule schedule;
} train_optim;

/* Their getopt values, above every other option of clcnn train. */
enum {
    TRAIN_OPTIM_OPTIMIZER = 0x100,
    TRAIN_OPTIM_MOMENTUM,
    TRAIN_OPTIM_WEIGHT_DECAY,
    TRAIN_OPTIM_NESTEROV,
    TRAIN_OPTIM_LR_SCHEDULE
};

#define TRAIN_OPTIM_LONGOPTS                                                                                           \
    {"optimizer", required_argument, 0, TRAIN_OPTIM_OPTIMIZER},                                                        \
        {"momentum", required_argument, 0, TRAIN_OPTIM_MOMENTUM},                                                      \
        {"weight-decay", required_argument, 0, TRAIN_OPTIM_WEIGHT_DECAY},                                              \
        {"nesterov", no_argument, 0, TRAIN_OPTIM_NESTEROV},                                                            \
    {                                                                                                                  \
        "lr-schedule", required_argument, 0, TRAIN_OPTIM_LR_SCHEDULE                                                   \
    }

#define TRAIN_OPTIM_USAGE                                                                                              \
    "  --optimizer NAME    adam (default) or sgd: SGD with momentum, PyTorch's "                                       \
    "form\n"                                                                                                           \
    "                      (docs/api.md); its --lr defaults to 0.01\n"                                                 \
    "  --momentum M        SGD momentum in [0, 1) (default 0; the paper's "                                            \
    "0.9)\n"                                                                                                           \
    "  --weight-decay W    SGD weight decay in [0, 1) on weights, not biases\n"                                        \
    "                      (default 0; the paper's 5e-4)\n"                                                            \
    "  --nesterov          Nesterov momentum (SGD, with a momentum above 0)\n"                                         \
    "  --lr-schedule S     step:EVERY:FACTOR  multiply the learning rate by "                                          \
    "FACTOR\n"                                                                                                         \
    "                                         after every EVERY epochs\n"                                              \
    "                      plateau:N[:FACTOR] multiply it by FACTOR (default "                                         \
    "0.1)\n"                                                                                                           \
    "                                         when the validation loss has "                                           \
    "not\n"                                                                                                            \
    "                                         improved for N epochs\n"

/* Handles getopt value c (a TRAIN_OPTIM_* value) with its argument: 0, or
 * 2 after printing a usage error. */
int train_optim_parse(train_optim *t, int c, const char *arg);
/* Checks the options as a whole: 0, or 2 after a usage error. */
int train_optim_check(const train_optim *t, int resuming, int lr_set, double *lr);
/* Applies them to a new model at learning rate lr: 0, or 1 after printing
 * the error. */
int train_optim_apply(const train_optim *t, clcnn_ctx *ctx, clcnn_model *m, double lr);

#endif
