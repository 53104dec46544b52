/* Learning-rate schedules: step decay, and a cut when the validation loss
 * stops improving (Krizhevsky et al. 2012, section 5), applied between
 * epochs to the rate every optimizer reads (m->lr). */
#include <math.h>

#include "ops/training.h"

#define MAX_EPOCHS 100000u

int clcnn_lr_schedule_check(clcnn_ctx *ctx, int status, const char *who, const clcnn_lr_schedule *s)
{
    switch (s->kind) {
    case CLCNN_LR_CONSTANT: return CLCNN_OK;
    case CLCNN_LR_STEP:
        if (s->every < 1 || s->every > MAX_EPOCHS)
            return clcnn_error(ctx, status, "%s: a step schedule decays every 1 to %u epochs, not %u", who, MAX_EPOCHS,
                               (unsigned)s->every);
        break;
    case CLCNN_LR_PLATEAU:
        if (s->patience < 1 || s->patience > MAX_EPOCHS)
            return clcnn_error(ctx, status, "%s: a plateau schedule waits 1 to %u epochs, not %u", who, MAX_EPOCHS,
                               (unsigned)s->patience);
        break;
    default: return clcnn_error(ctx, status, "%s: unknown learning-rate schedule %d", who, (int)s->kind);
    }
    if (!(s->factor > 0.0f && s->factor < 1.0f))
        return clcnn_error(ctx, status, "%s: the schedule's factor must lie in (0, 1), not %g", who, (double)s->factor);
    return CLCNN_OK;
}

int clcnn_model_set_lr_schedule(clcnn_model *m, const clcnn_lr_schedule *schedule)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    const clcnn_lr_schedule constant = {.kind = CLCNN_LR_CONSTANT};
    const clcnn_lr_schedule *s = schedule ? schedule : &constant;
    int st = clcnn_lr_schedule_check(m->ctx, CLCNN_ERR_ARGUMENT, "set_lr_schedule", s);
    if (st)
        return st;
    m->schedule.s = *s;
    m->schedule.best = INFINITY;
    m->schedule.bad = 0;
    return CLCNN_OK;
}

int clcnn_model_lr_schedule_epoch(clcnn_model *m, uint32_t epoch, double valid_loss)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    const clcnn_lr_schedule *s = &m->schedule.s;
    int cut = 0;
    switch (s->kind) {
    case CLCNN_LR_CONSTANT: return CLCNN_OK;
    case CLCNN_LR_STEP: cut = epoch > 0 && epoch % s->every == 0; break;
    case CLCNN_LR_PLATEAU:
        if (isnan(valid_loss))
            return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT,
                               "lr_schedule_epoch: a plateau schedule needs the "
                               "epoch's validation loss");
        if (valid_loss < m->schedule.best) {
            m->schedule.best = valid_loss;
            m->schedule.bad = 0;
        } else if (++m->schedule.bad >= s->patience) {
            m->schedule.bad = 0;
            cut = 1;
        }
        break;
    }
    if (cut)
        m->lr *= s->factor;
    return CLCNN_OK;
}

float clcnn_model_lr(const clcnn_model *m)
{
    return m ? m->lr : 0.0f;
}
