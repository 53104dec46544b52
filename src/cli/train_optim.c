/* clcnn train's optimizer options (train_optim.h). */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "train_optim.h"

/* "step:EVERY:FACTOR" or "plateau:N[:FACTOR]" into *s; 0 on success. */
static int parse_schedule(const char *arg, clcnn_lr_schedule *s)
{
    char buf[64];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    char *rest = strchr(buf, ':');
    if (!rest)
        return -1;
    *rest++ = '\0';
    char *factor = strchr(rest, ':');
    if (factor)
        *factor++ = '\0';
    size_t n;
    double f = 0.1;
    if (cli_parse_size(rest, 1, 100000, &n) || (factor && cli_parse_float(factor, 1e-9, 0.999999, &f)))
        return -1;
    if (strcmp(buf, "step") == 0 && factor)
        *s = (clcnn_lr_schedule){.kind = CLCNN_LR_STEP, .every = (uint32_t)n, .factor = (float)f};
    else if (strcmp(buf, "plateau") == 0)
        *s = (clcnn_lr_schedule){.kind = CLCNN_LR_PLATEAU, .patience = (uint32_t)n, .factor = (float)f};
    else
        return -1;
    return 0;
}

int train_optim_parse(train_optim *t, int c, const char *arg)
{
    t->set = 1;
    switch (c) {
    case TRAIN_OPTIM_OPTIMIZER:
        if (strcmp(arg, "sgd") != 0 && strcmp(arg, "adam") != 0)
            return cli_usage_error("train", "--optimizer wants adam or sgd, not '%s'", arg);
        t->sgd = strcmp(arg, "sgd") == 0;
        return 0;
    case TRAIN_OPTIM_MOMENTUM:
        t->sgd_only_set = 1;
        if (cli_parse_float(arg, 0.0, 0.999999, &t->momentum))
            return cli_usage_error("train", "--momentum wants a number in [0, 1), not '%s'", arg);
        return 0;
    case TRAIN_OPTIM_WEIGHT_DECAY:
        t->sgd_only_set = 1;
        if (cli_parse_float(arg, 0.0, 0.999999, &t->weight_decay))
            return cli_usage_error("train", "--weight-decay wants a number in [0, 1), not '%s'", arg);
        return 0;
    case TRAIN_OPTIM_NESTEROV:
        t->sgd_only_set = 1;
        t->nesterov = 1;
        return 0;
    case TRAIN_OPTIM_LR_SCHEDULE:
        if (parse_schedule(arg, &t->schedule))
            return cli_usage_error("train",
                                   "--lr-schedule wants step:EVERY:FACTOR or "
                                   "plateau:N[:FACTOR] (EVERY, N from 1; "
                                   "FACTOR in (0, 1)), not '%s'",
                                   arg);
        return 0;
    }
    return cli_usage_error("train", "unknown option");
}

int train_optim_check(const train_optim *t, int resuming, int lr_set, double *lr)
{
    if (resuming && t->set)
        return cli_usage_error("train", "--resume continues with the checkpoint's "
                                        "optimizer and schedule; leave out "
                                        "--optimizer, --momentum, --weight-decay, "
                                        "--nesterov and --lr-schedule");
    if (t->sgd_only_set && !t->sgd)
        return cli_usage_error("train", "--momentum, --weight-decay and --nesterov "
                                        "are settings of --optimizer sgd");
    if (t->nesterov && !(t->momentum > 0.0))
        return cli_usage_error("train", "--nesterov needs a --momentum above 0");
    if (t->sgd && !lr_set)
        *lr = 0.01;
    return 0;
}

int train_optim_apply(const train_optim *t, clcnn_ctx *ctx, clcnn_model *m, double lr)
{
    if ((t->sgd && clcnn_model_set_sgd(m, (float)lr, (float)t->momentum, (float)t->weight_decay, t->nesterov)) ||
        clcnn_model_set_lr_schedule(m, &t->schedule))
        return cli_fail("%s", clcnn_errmsg(ctx));
    return 0;
}
